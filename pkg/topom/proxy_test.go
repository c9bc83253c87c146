package topom

import (
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/codisgo/codis/pkg/models"
)

func TestProxyCreateOnlineReinitRemove(t *testing.T) {
	e := newEnv(t)
	e.seedGroup(1, "127.0.0.1:1")
	e.store.UpdateSlotMapping(&models.SlotMapping{ID: 9, GroupID: 1})
	e.store.UpdateSentinel(&models.Sentinel{Servers: []string{"127.0.0.1:2"}})
	e.ok(put, e.api("reload"))

	p := newFakeProxy(t, "test", "", "dc1")
	tok := p.model.Token
	e.ok(put, e.api("proxy/create", p.addr()))
	stored, err := e.store.LoadProxy(tok)
	if err != nil || stored == nil {
		t.Fatalf("proxy not stored: %v", err)
	}
	want := p.model
	want.ID = 1
	if *stored != want {
		t.Fatalf("stored %+v, want %+v", stored, want)
	}
	p.set(func(p *fakeProxy) {
		if len(p.pushes) != 1 || len(p.pushes[0]) != 1024 || p.starts != 1 || len(p.sentinels) != 1 ||
			len(p.sentinels[0].Servers) != 1 {
			t.Fatalf("create calls: %d pushes, %d starts, %d sentinels", len(p.pushes), p.starts, len(p.sentinels))
		}
	})
	if s := p.slot(9); s.BackendAddr != "127.0.0.1:1" || s.BackendAddrGroupID != 1 {
		t.Fatalf("slot 9 %+v", s)
	}
	e.fail(put, e.api("proxy/create", p.addr()), "proxy-["+tok+"] already exists")

	// A second proxy gets id 2; online of a known proxy keeps its id.
	p2 := newFakeProxy(t, "test", "", "")
	e.ok(put, e.api("proxy/online", p2.addr()))
	e.ok(put, e.api("proxy/online", p.addr()))
	if x, _ := e.store.LoadProxy(p2.model.Token); x == nil || x.ID != 2 {
		t.Fatalf("proxy 2 %+v", x)
	}
	if x, _ := e.store.LoadProxy(tok); x.ID != 1 {
		t.Fatalf("proxy 1 id %d", x.ID)
	}
	st := e.stats()
	if len(st.Proxy.Models) != 2 || st.Proxy.Models[0].ID != 1 || st.Proxy.Models[1].ID != 2 {
		t.Fatalf("proxy models %+v", st.Proxy.Models)
	}

	e.ok(put, e.api("proxy/reinit", tok))
	e.fail(put, e.api("proxy/reinit", "00000000000000000000000000000000"),
		"proxy-[00000000000000000000000000000000] doesn't exist")

	// Wrong product auth: the proxy rejects our xauth.
	p3 := newFakeProxy(t, "test", "secret", "")
	e.fail(put, e.api("proxy/create", p3.addr()), "proxy@"+p3.addr()+" check xauth failed, [Remote Error] invalid xauth")
	cause := e.fail(put, e.api("proxy/online", p3.addr()), "proxy@"+p3.addr()+" check xauth failed")
	if cause != "proxy@"+p3.addr()+" check xauth failed" {
		t.Fatalf("online cause %q", cause)
	}
	e.fail(put, e.api("proxy/create", "127.0.0.1:1"), "proxy@127.0.0.1:1 fetch model failed, ")

	// fillslots failure during reinit.
	p2.set(func(p *fakeProxy) { p.failFill = true })
	e.fail(put, e.api("proxy/reinit", p2.model.Token), "proxy-["+p2.model.Token+"] fillslots failed")
	p2.set(func(p *fakeProxy) { p.failFill = false })

	// Remove: a failing shutdown keeps the proxy unless forced.
	p.set(func(p *fakeProxy) { p.failShutdown = true })
	e.fail(put, e.api("proxy/remove", tok, 0), "proxy-["+tok+"] shutdown failed")
	if x, _ := e.store.LoadProxy(tok); x == nil {
		t.Fatal("proxy removed without force")
	}
	e.fail(put, e.api("proxy/remove", tok, "x"), "invalid force")
	e.ok(put, e.api("proxy/remove", tok, 1))
	if x, _ := e.store.LoadProxy(tok); x != nil {
		t.Fatal("proxy not removed with force")
	}
	e.ok(put, e.api("proxy/remove", p2.model.Token, 0))
	p2.set(func(p *fakeProxy) {
		if p.shutdowns != 1 {
			t.Fatalf("shutdowns %d", p.shutdowns)
		}
	})
}

func TestProxyStatsAndAutoOnline(t *testing.T) {
	e := newEnv(t)
	p := newFakeProxy(t, "test", "", "")
	e.ok(put, e.api("proxy/create", p.addr()))
	tok := p.model.Token
	checkFor(t, 10*time.Second, "proxy stats", func() bool {
		st := e.stats()
		ps := st.Proxy.Stats[tok]
		if ps == nil || ps.Stats == nil {
			return false
		}
		var v struct{ Online bool }
		json.Unmarshal(ps.Stats, &v)
		return v.Online && ps.UnixTime > 0
	})
	// The proxy "restarts": it reports online=false; the dashboard
	// brings it online again on its own.
	p.set(func(p *fakeProxy) { p.online = false })
	checkFor(t, 10*time.Second, "auto re-online", func() bool {
		var starts int
		p.set(func(p *fakeProxy) { starts = p.starts })
		return starts >= 2
	})
	// A dead proxy shows an error in the stats.
	p.srv.Close()
	checkFor(t, 10*time.Second, "proxy stats error", func() bool {
		ps := e.stats().Proxy.Stats[tok]
		return ps != nil && ps.Error != nil && ps.Stats == nil
	})
	status, data := e.call(get, "/metrics", nil)
	if status != 200 || !strings.Contains(string(data), `codis_dashboard_proxy_online{addr="`+p.addr()+`",token="`+tok+`"} 0`) {
		t.Fatalf("metrics:\n%s", data)
	}
}
