package topom

import (
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"

	"github.com/codisgo/codis/pkg/models"
	"github.com/codisgo/codis/pkg/utils/token"
)

// fakeProxy serves the proxy admin API of SPEC-control §4.5 that the
// dashboard calls. The real codis-proxy (pkg/proxy) is written in
// parallel with this package; this stand-in records what the dashboard
// sends so the client side of the contract can be checked, and follows
// the proxy's rules (xauth check, slot validation).
type fakeProxy struct {
	t     *testing.T
	srv   *httptest.Server
	model models.Proxy
	xauth string

	mu           sync.Mutex
	slots        map[int]*models.Slot
	pushes       [][]*models.Slot // every fillslots body, in order
	starts       int
	online       bool
	sentinels    []*models.Sentinel
	shutdowns    int
	failShutdown bool
	failFill     bool

	// stall, when set, makes fillslots and stats hang until it is closed
	// (or the request is abandoned): a proxy that accepts but never answers.
	stall  chan struct{}
	nstall int // requests currently hanging
}

func newFakeProxy(t *testing.T, product, auth, dc string) *fakeProxy {
	p := &fakeProxy{t: t, slots: map[int]*models.Slot{}}
	p.srv = httptest.NewServer(http.HandlerFunc(p.serve))
	t.Cleanup(p.srv.Close)
	addr := strings.TrimPrefix(p.srv.URL, "http://")
	tok := token.NewToken(product, "127.0.0.1:0", addr)
	p.model = models.Proxy{Token: tok, StartTime: "now", AdminAddr: addr, ProtoType: "tcp4",
		ProxyAddr: "127.0.0.1:1", ProductName: product, Pid: 1, Pwd: "/", Sys: "test", Hostname: "h", DataCenter: dc}
	p.xauth = token.NewXAuth(product, auth, tok)
	return p
}

func (p *fakeProxy) addr() string { return p.model.AdminAddr }

func (p *fakeProxy) reply(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	w.WriteHeader(status)
	data, _ := models.Marshal(v)
	w.Write(data)
}

func (p *fakeProxy) fail(w http.ResponseWriter, cause string) {
	p.reply(w, 800, &RemoteError{Cause: cause})
}

func (p *fakeProxy) serve(w http.ResponseWriter, r *http.Request) {
	segs := strings.Split(strings.TrimPrefix(r.URL.Path, "/api/proxy/"), "/")
	if r.URL.Path == "/api/proxy/model" && r.Method == http.MethodGet {
		p.reply(w, 200, &p.model)
		return
	}
	if len(segs) < 2 {
		http.NotFound(w, r)
		return
	}
	if segs[len(segs)-1] != p.xauth {
		p.fail(w, "invalid xauth, please check product name & auth")
		return
	}
	if op := r.Method + " " + segs[0]; op == "PUT fillslots" || op == "GET stats" {
		p.mu.Lock()
		stall := p.stall
		if stall != nil {
			p.nstall++
		}
		p.mu.Unlock()
		if stall != nil {
			select {
			case <-stall:
			case <-r.Context().Done():
			}
			p.mu.Lock()
			p.nstall--
			p.mu.Unlock()
		}
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	switch r.Method + " " + segs[0] {
	case "GET xping":
		p.reply(w, 200, "OK")
	case "GET stats":
		p.reply(w, 200, map[string]any{"online": p.online, "closed": false,
			"ops": map[string]any{"total": 0, "fails": 0, "qps": 0}})
	case "PUT fillslots":
		if p.failFill {
			p.fail(w, "fillslots refused")
			return
		}
		var slots []*models.Slot
		data, _ := io.ReadAll(r.Body)
		if err := json.Unmarshal(data, &slots); err != nil {
			p.fail(w, err.Error())
			return
		}
		for _, s := range slots {
			if err := s.Validate(); err != nil {
				p.fail(w, err.Error())
				return
			}
			p.slots[s.ID] = s
		}
		p.pushes = append(p.pushes, slots)
		p.reply(w, 200, "OK")
	case "PUT start":
		p.starts++
		p.online = true
		p.reply(w, 200, "OK")
	case "PUT sentinels":
		x := &models.Sentinel{}
		if err := json.NewDecoder(r.Body).Decode(x); err != nil {
			p.fail(w, err.Error())
			return
		}
		p.sentinels = append(p.sentinels, x)
		p.reply(w, 200, "OK")
	case "PUT shutdown":
		p.shutdowns++
		if p.failShutdown {
			p.fail(w, "shutdown refused")
			return
		}
		p.online = false
		p.reply(w, 200, "OK")
	default:
		http.NotFound(w, r)
	}
}

func (p *fakeProxy) slot(sid int) *models.Slot {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.slots[sid].Clone()
}

func (p *fakeProxy) history(sid int) []*models.Slot {
	p.mu.Lock()
	defer p.mu.Unlock()
	var out []*models.Slot
	for _, push := range p.pushes {
		for _, s := range push {
			if s.ID == sid {
				out = append(out, s.Clone())
			}
		}
	}
	return out
}

func (p *fakeProxy) set(f func(p *fakeProxy)) {
	p.mu.Lock()
	defer p.mu.Unlock()
	f(p)
}

// hanging reports how many requests are currently stalled.
func (p *fakeProxy) hanging() int {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.nstall
}
