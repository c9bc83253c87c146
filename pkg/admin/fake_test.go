package admin

// This file holds fake REST servers for the CLIENT side of codis-admin
// only: they check the exact routes, methods, xauth and bodies that
// codis-admin sends and answer with spec-shaped JSON (SPEC-control §4).
// The real dashboard and proxy servers are tested end to end in their own
// packages (pkg/topom, pkg/proxy) and, when the binary builds, by the
// end-to-end test in e2e_test.go.

import (
	"compress/gzip"
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

// call is one request seen by a fake server.
type call struct {
	Method      string
	Path        string
	Body        string // raw request body ("" when none)
	ContentType string
}

// fakeServer is the common part of the fake dashboard and proxy.
type fakeServer struct {
	t   *testing.T
	srv *httptest.Server

	mu      sync.Mutex
	calls   []call
	gzipped int               // replies sent gzip-compressed
	fail    map[string]string // path -> Cause of a status-800 reply
	status  map[string]int    // path -> other HTTP status to answer
}

func (f *fakeServer) addr() string { return strings.TrimPrefix(f.srv.URL, "http://") }

// record stores the request and reports whether a failure was configured.
func (f *fakeServer) record(w http.ResponseWriter, r *http.Request) bool {
	body, err := io.ReadAll(r.Body)
	if err != nil {
		f.t.Errorf("read request body: %v", err)
	}
	f.mu.Lock()
	f.calls = append(f.calls, call{Method: r.Method, Path: r.URL.EscapedPath(), Body: string(body), ContentType: r.Header.Get("Content-Type")})
	cause, failed := f.fail[r.URL.EscapedPath()]
	code := f.status[r.URL.EscapedPath()]
	f.mu.Unlock()
	if failed {
		f.reply(w, r, StatusRemoteError, map[string]any{"Cause": cause, "Stack": nil})
		return true
	}
	if code != 0 {
		w.Header().Set("Content-Type", "text/plain")
		w.WriteHeader(code)
		io.WriteString(w, http.StatusText(code))
		return true
	}
	return false
}

// reply writes v as 4-space indented JSON, gzip-compressed when the
// client accepts it (as the real servers do, §4.1).
func (f *fakeServer) reply(w http.ResponseWriter, r *http.Request, status int, v any) {
	b, err := models.Marshal(v)
	if err != nil {
		f.t.Errorf("encode reply: %v", err)
	}
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	if strings.Contains(r.Header.Get("Accept-Encoding"), "gzip") {
		f.mu.Lock()
		f.gzipped++
		f.mu.Unlock()
		w.Header().Set("Content-Encoding", "gzip")
		w.WriteHeader(status)
		zw := gzip.NewWriter(w)
		zw.Write(b)
		zw.Close()
		return
	}
	w.WriteHeader(status)
	w.Write(b)
}

func (f *fakeServer) notFound(w http.ResponseWriter) {
	w.Header().Set("Content-Type", "text/plain; charset=utf-8")
	w.WriteHeader(http.StatusNotFound)
	io.WriteString(w, "404 page not found")
}

func (f *fakeServer) setFail(path, cause string) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.fail[path] = cause
}

func (f *fakeServer) clearFail(path string) {
	f.mu.Lock()
	defer f.mu.Unlock()
	delete(f.fail, path)
}

func (f *fakeServer) setStatus(path string, code int) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.status[path] = code
}

func (f *fakeServer) gzippedReplies() int {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.gzipped
}

func (f *fakeServer) takeCalls() []call {
	f.mu.Lock()
	defer f.mu.Unlock()
	c := f.calls
	f.calls = nil
	return c
}

// fakeDashboard serves the dashboard routes codis-admin uses.
type fakeDashboard struct {
	fakeServer
	product string
	xauth   string

	dmu       sync.Mutex // protects the replies below
	overview  string     // GET /topom body
	stats     []string   // GET /api/topom/stats bodies, in turn; the last repeats
	slots     string     // GET /api/topom/slots body
	rebalance string     // PUT rebalance body
}

func newFakeDashboard(t *testing.T, product string) *fakeDashboard {
	f := &fakeDashboard{product: product, xauth: token.NewXAuth(product)}
	f.t = t
	f.fail = map[string]string{}
	f.status = map[string]int{}
	f.rebalance = "{}"
	f.srv = httptest.NewServer(http.HandlerFunc(f.serve))
	t.Cleanup(f.srv.Close)
	return f
}

// set replaces one of the reply bodies under the lock.
func (f *fakeDashboard) set(field *string, body string) {
	f.dmu.Lock()
	defer f.dmu.Unlock()
	*field = body
}

func (f *fakeDashboard) setStats(bodies ...string) {
	f.dmu.Lock()
	defer f.dmu.Unlock()
	f.stats = bodies
}

func (f *fakeDashboard) serve(w http.ResponseWriter, r *http.Request) {
	if f.record(w, r) {
		return
	}
	segs := strings.Split(strings.TrimPrefix(r.URL.EscapedPath(), "/"), "/")
	switch {
	case r.Method == http.MethodGet && r.URL.Path == "/topom":
		f.dmu.Lock()
		body := f.overview
		f.dmu.Unlock()
		f.replyRaw(w, r, body)
		return
	case r.Method == http.MethodGet && r.URL.Path == "/api/topom/model":
		f.reply(w, r, http.StatusOK, &models.Topom{Token: "c20b9d0220af691966d861e8a77ee78e", AdminAddr: f.addr(), ProductName: f.product, Pid: 1})
		return
	}
	if len(segs) < 4 || segs[0] != "api" || segs[1] != "topom" {
		f.notFound(w)
		return
	}
	// /api/topom/{op}/{xauth}/..., or /api/topom/{a}/{b}/{xauth}/... and
	// /api/topom/slots/action/{op}/{xauth}/...: find the xauth segment.
	xi := 3
	switch segs[2] {
	case "proxy", "group", "sentinels":
		xi = 4
		if segs[3] == "action" {
			xi = 5
		}
	case "slots":
		if len(segs) > 3 && (segs[3] == "assign" || segs[3] == "rebalance") {
			xi = 4
		} else if len(segs) > 3 && segs[3] == "action" {
			xi = 5
		}
	case "xping", "stats", "reload", "shutdown", "loglevel":
	}
	if xi >= len(segs) || segs[xi] != f.xauth {
		f.reply(w, r, StatusRemoteError, map[string]any{"Cause": "invalid xauth, please check product name & auth", "Stack": nil})
		return
	}
	switch {
	case r.Method == http.MethodGet && segs[2] == "xping":
		f.reply(w, r, http.StatusOK, "OK")
	case r.Method == http.MethodGet && segs[2] == "stats":
		f.dmu.Lock()
		body := "{}"
		if len(f.stats) > 0 {
			body = f.stats[0]
			if len(f.stats) > 1 {
				f.stats = f.stats[1:]
			}
		}
		f.dmu.Unlock()
		f.replyRaw(w, r, body)
	case r.Method == http.MethodGet && segs[2] == "slots" && len(segs) == 4:
		f.dmu.Lock()
		body := f.slots
		f.dmu.Unlock()
		f.replyRaw(w, r, body)
	case r.Method == http.MethodPut && segs[2] == "slots" && segs[3] == "rebalance":
		f.dmu.Lock()
		body := f.rebalance
		f.dmu.Unlock()
		f.replyRaw(w, r, body)
	case r.Method == http.MethodPut:
		f.reply(w, r, http.StatusOK, "OK")
	default:
		f.notFound(w)
	}
}

func (f *fakeDashboard) replyRaw(w http.ResponseWriter, r *http.Request, body string) {
	var v any
	if err := json.Unmarshal([]byte(body), &v); err != nil {
		f.t.Errorf("fake reply is not JSON: %v: %s", err, body)
	}
	f.reply(w, r, http.StatusOK, json.RawMessage(body))
}

// fakeProxy serves the proxy routes codis-admin uses.
type fakeProxy struct {
	fakeServer
	product, auth, token string
	xauth                string
	overview             string // GET /proxy body; protected by fakeServer.mu
}

func (f *fakeProxy) setOverview(body string) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.overview = body
}

func newFakeProxy(t *testing.T, product, auth string) *fakeProxy {
	f := &fakeProxy{product: product, auth: auth, token: "594432209cf111ae914f721e18ccf1af"}
	f.xauth = token.NewXAuth(product, auth, f.token)
	f.t = t
	f.fail = map[string]string{}
	f.status = map[string]int{}
	f.srv = httptest.NewServer(http.HandlerFunc(f.serve))
	t.Cleanup(f.srv.Close)
	return f
}

func (f *fakeProxy) serve(w http.ResponseWriter, r *http.Request) {
	if f.record(w, r) {
		return
	}
	p := r.URL.EscapedPath()
	switch {
	case r.Method == http.MethodGet && p == "/proxy":
		f.mu.Lock()
		body := f.overview
		f.mu.Unlock()
		var v any
		if err := json.Unmarshal([]byte(body), &v); err != nil {
			f.t.Errorf("fake overview is not JSON: %v", err)
		}
		f.reply(w, r, http.StatusOK, json.RawMessage(body))
		return
	case r.Method == http.MethodGet && p == "/api/proxy/model":
		f.reply(w, r, http.StatusOK, &models.Proxy{Token: f.token, AdminAddr: f.addr(), ProxyAddr: "127.0.0.1:19000", ProtoType: "tcp4", ProductName: f.product})
		return
	}
	segs := strings.Split(strings.TrimPrefix(p, "/"), "/")
	if len(segs) < 4 || segs[0] != "api" || segs[1] != "proxy" {
		f.notFound(w)
		return
	}
	xi := 3
	if segs[2] == "stats" && segs[3] == "reset" {
		xi = 4
	}
	if xi >= len(segs) || segs[xi] != f.xauth {
		f.reply(w, r, StatusRemoteError, map[string]any{"Cause": "invalid xauth, please check product name & auth", "Stack": nil})
		return
	}
	switch {
	case r.Method == http.MethodGet && segs[2] == "xping":
		f.reply(w, r, http.StatusOK, "OK")
	case r.Method == http.MethodPut:
		f.reply(w, r, http.StatusOK, "OK")
	default:
		f.notFound(w)
	}
}
