package topom

import (
	"strings"
	"testing"
	"time"

	"github.com/gomodule/redigo/redis"

	"github.com/codisgo/codis/pkg/models"
	"github.com/codisgo/codis/pkg/testenv"
)

// redisInfo returns INFO fields of the server at addr.
func redisInfo(t *testing.T, addr, auth string) map[string]string {
	t.Helper()
	c, err := dialRedis(addr, auth, 2*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	text, err := redis.String(c.Do("INFO"))
	if err != nil {
		t.Fatal(err)
	}
	return parseInfo(text)
}

func TestServerStatsAndInfo(t *testing.T) {
	a := testenv.StartRedis(t, "--requirepass", "pw")
	b := testenv.StartRedis(t, "--requirepass", "pw")
	e := newEnv(t, func(c *Config) { c.ProductAuth = "pw" })
	e.seedGroup(1, a.Addr, b.Addr, testenv.ClosedPort(t))

	checkFor(t, 10*time.Second, "server stats", func() bool {
		st := e.stats().Group.Stats
		return st[a.Addr] != nil && st[a.Addr].Stats["redis_version"] != "" && st[b.Addr] != nil &&
			st[b.Addr].Stats["maxmemory"] == "0" && len(st) == 3
	})
	closed := testenv.ClosedPort(t)
	_ = closed
	st := e.stats().Group.Stats
	for addr, rs := range st {
		if addr != a.Addr && addr != b.Addr && (rs.Error == nil || rs.Stats != nil) {
			t.Fatalf("dead server %s: %+v", addr, rs)
		}
	}
	if _, ok := st[a.Addr].Stats["master_addr"]; ok {
		t.Fatal("master_addr on a master")
	}

	var info map[string]string
	e.getJSON("/api/topom/group/info/"+a.Addr, &info)
	if info["redis_version"] == "" || info["maxmemory"] != "0" || info["role"] != "master" {
		t.Fatalf("group info %v", info)
	}
	e.fail(get, "/api/topom/group/info/"+testenv.ClosedPort(t), "dial ")

	// A plain redis-server is not a codis-server.
	e.ok(put, e.api("group/create", 2))
	c := testenv.StartRedis(t, "--requirepass", "pw")
	cause := e.fail(put, e.api("group/add", 2, c.Addr), "server-["+c.Addr+"] is not a codis-server")
	if !strings.Contains(cause, "SLOTSINFO") {
		t.Fatalf("cause %q", cause)
	}
	if g := e.group(2); len(g.Servers) != 0 {
		t.Fatal("server added")
	}

	status, data := e.call(get, "/metrics", nil)
	if status != 200 || !strings.Contains(string(data), `codis_dashboard_server_up{addr="`+a.Addr+`",gid="1",role="master"} 1`) {
		t.Fatalf("metrics:\n%s", data)
	}
}

func TestSyncAction(t *testing.T) {
	a := testenv.StartRedis(t)
	b := testenv.StartRedis(t)
	e := newEnv(t)
	e.seedGroup(1, a.Addr, b.Addr)

	e.ok(put, e.api("group/action/create", b.Addr))
	e.fail(put, e.api("group/action/create", b.Addr), "server-["+b.Addr+"] action already exist")
	// redis-server runs without a config file, so CONFIG REWRITE fails
	// inside the transaction: the action ends synced_failed although
	// SLAVEOF took effect (SPEC-control §5.9).
	checkFor(t, 15*time.Second, "sync action done", func() bool {
		return e.group(1).Servers[1].Action.State == models.ActionSyncedFailed
	})
	info := redisInfo(t, b.Addr, "")
	if info["role"] != "slave" || info["master_port"] != strings.Split(a.Addr, ":")[1] {
		t.Fatalf("b is not a slave of a: role=%s master_port=%s", info["role"], info["master_port"])
	}
	checkFor(t, 10*time.Second, "master_addr in stats", func() bool {
		rs := e.stats().Group.Stats[b.Addr]
		return rs != nil && rs.Stats["master_addr"] == a.Addr
	})
	e.ok(put, e.api("group/action/remove", b.Addr))
	if g := e.group(1); g.Servers[1].Action != (models.ServerAction{}) {
		t.Fatalf("action not removed: %+v", g.Servers[1].Action)
	}

	// Action on the master makes it a master (SLAVEOF NO ONE).
	e.ok(put, e.api("group/action/create", a.Addr))
	e.ok(put, e.api("group/action/create", b.Addr))
	g := e.group(1)
	if g.Servers[0].Action.Index != 1 || g.Servers[1].Action.Index != 2 {
		t.Fatalf("indexes %+v %+v", g.Servers[0].Action, g.Servers[1].Action)
	}
	checkFor(t, 15*time.Second, "both actions done", func() bool {
		g := e.group(1)
		return g.Servers[0].Action.State == models.ActionSyncedFailed && g.Servers[1].Action.State == models.ActionSyncedFailed
	})
	if info := redisInfo(t, a.Addr, ""); info["role"] != "master" {
		t.Fatalf("a role %s", info["role"])
	}
}

func TestPromote(t *testing.T) {
	a := testenv.StartRedis(t)
	b := testenv.StartRedis(t)
	e := newEnv(t)
	e.ok(put, e.api("slots/action/disabled", 1))
	e.seedGroup(1, a.Addr, b.Addr)
	p := newFakeProxy(t, "test", "", "")
	e.ok(put, e.api("proxy/create", p.addr()))
	e.ok(put, e.api("slots/assign"), []*models.SlotMapping{{ID: 0, GroupID: 1}, {ID: 1, GroupID: 1}})
	// Make b a slave of a first.
	e.ok(put, e.api("group/action/create", b.Addr))
	checkFor(t, 15*time.Second, "sync action done", func() bool {
		return e.group(1).Servers[1].Action.State == models.ActionSyncedFailed
	})

	e.ok(put, e.api("group/promote", 1, b.Addr))
	g := e.group(1)
	if g.Servers[0].Addr != b.Addr || g.Servers[1].Addr != a.Addr || g.IsPromoting() || g.OutOfSync {
		t.Fatalf("after promote %+v", g)
	}
	for _, x := range g.Servers {
		if x.Action != (models.ServerAction{}) {
			t.Fatalf("action kept %+v", x)
		}
	}
	if info := redisInfo(t, b.Addr, ""); info["role"] != "master" {
		t.Fatalf("promoted server role %s", info["role"])
	}
	// The proxy saw the slot locked (prepared), then unlocked on the new
	// master.
	h := p.history(0)
	sawLocked := false
	for _, s := range h {
		if s.Locked && s.BackendAddr == a.Addr {
			sawLocked = true
		}
	}
	last := h[len(h)-1]
	if !sawLocked || last.Locked || last.BackendAddr != b.Addr {
		t.Fatalf("proxy history %+v", h)
	}
}

func TestPromoteResumesAndFailsOnPush(t *testing.T) {
	e := newEnv(t)
	e.ok(put, e.api("slots/action/disabled", 1))
	e.seedGroup(1, "127.0.0.1:1", "127.0.0.1:2")
	p := newFakeProxy(t, "test", "", "")
	e.ok(put, e.api("proxy/create", p.addr()))
	e.ok(put, e.api("slots/assign"), []*models.SlotMapping{{ID: 0, GroupID: 1}})
	p.set(func(p *fakeProxy) { p.failFill = true })
	e.fail(put, e.api("group/promote", 1, "127.0.0.1:2"), "proxy-[")
	if g := e.group(1); g.Promoting != (models.Promoting{Index: 1, State: models.ActionPreparing}) {
		t.Fatalf("promoting %+v", g.Promoting)
	}
	e.fail(put, e.api("group/promote", 1, "127.0.0.1:1"), "group-[1] is promoting index = 1")
	e.fail(put, e.api("group/add", 1, "127.0.0.1:3"), "server-[127.0.0.1:3] is not a codis-server")
	e.fail(put, e.api("group/del", 1, "127.0.0.1:2"), "group-[1] is promoting")
	p.set(func(p *fakeProxy) { p.failFill = false })
	// Resumed: the set-master step fails (nobody listens) but is only
	// logged.
	e.ok(put, e.api("group/promote", 1, "127.0.0.1:2"))
	if g := e.group(1); g.Master() != "127.0.0.1:2" || g.IsPromoting() {
		t.Fatalf("after resume %+v", g)
	}
	if s := p.slot(0); s.BackendAddr != "127.0.0.1:2" || s.Locked {
		t.Fatalf("proxy slot %+v", s)
	}
}

// TestServerStatsSurviveClientKill: sync actions and promotions send
// CLIENT KILL TYPE normal, which also closes the dashboard's idle pooled
// probe connections to that server. The next probe must take a fresh
// connection instead of reporting an error: codis-ha removes (and shuts
// down) a server whose stats carry an error.
func TestServerStatsSurviveClientKill(t *testing.T) {
	a := testenv.StartRedis(t)
	e := newEnv(t)
	e.seedGroup(1, a.Addr)
	checkFor(t, 10*time.Second, "server stats", func() bool {
		st := e.stats().Group.Stats[a.Addr]
		return st != nil && st.Stats != nil
	})
	c, err := dialRedis(a.Addr, "", 2*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	for range 2 {
		since := e.stats().Group.Stats[a.Addr].UnixTime
		if _, err := c.Do("CLIENT", "KILL", "TYPE", "normal"); err != nil {
			t.Fatal(err)
		}
		// Watch every probe until two more have been made.
		checkFor(t, 10*time.Second, "two more probes", func() bool {
			st := e.stats().Group.Stats[a.Addr]
			if st.Error != nil {
				t.Fatalf("probe after CLIENT KILL: %+v", st.Error)
			}
			return st.UnixTime >= since+2
		})
	}
}
