package topom

import (
	"bytes"
	"encoding/json"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/codisgo/codis/pkg/models"
	"github.com/codisgo/codis/pkg/testenv"
	"github.com/codisgo/codis/pkg/utils/log"
	"github.com/codisgo/codis/pkg/utils/token"
)

// The shared test helpers under the names this package's tests use.
var (
	testLogger = testenv.Logger
	checkFor   = testenv.CheckFor
)

// env is one in-process dashboard on the filesystem coordinator.
type env struct {
	t       *testing.T
	root    string
	config  *Config
	top     *Topom
	base    string
	xauth   string
	store   *models.Store // a second client on the same root, for seeding and checks
	product string
}

func testConfig(root string) *Config {
	cfg := NewDefaultConfig()
	cfg.CoordinatorName = "filesystem"
	cfg.CoordinatorAddr = root
	cfg.ProductName = "test"
	cfg.AdminAddr = "127.0.0.1:0"
	cfg.MigrationMethod = "sync"
	return cfg
}

// newEnv starts a dashboard on a fresh store and waits until it is online.
func newEnv(t *testing.T, tune ...func(*Config)) *env {
	t.Helper()
	root := t.TempDir()
	cfg := testConfig(root)
	for _, f := range tune {
		f(cfg)
	}
	e := &env{t: t, root: root, config: cfg, product: cfg.ProductName}
	client, err := models.NewClient("filesystem", root, "", 10*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	e.store, err = models.NewStore(client, cfg.ProductName)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { e.store.Close() })
	e.start(true)
	return e
}

// start starts (another) dashboard on e's store; with wait it waits until
// it is online.
func (e *env) start(wait bool) *Topom { return e.startRetry(wait, 100*time.Millisecond) }

// startRetry is start with the given lock retry interval.
func (e *env) startRetry(wait bool, retry time.Duration) *Topom {
	t := e.t
	t.Helper()
	client, err := models.NewClient("filesystem", e.root, "", 10*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	cfg := *e.config
	top, err := New(client, &cfg, Options{Logger: testLogger(), Version: "test-version", Compile: "test-compile",
		SetLogLevel: func(level string) error { _, err := log.ParseLevel(level); return err }})
	if err != nil {
		t.Fatal(err)
	}
	top.lockRetry = retry
	if err := top.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { top.Close() })
	e.top = top
	e.base = "http://" + top.AdminAddr()
	e.xauth = token.NewXAuth(e.product)
	if wait {
		checkFor(t, 10*time.Second, "dashboard online", func() bool { return top.IsOnline() && top.snap().slots != nil })
	}
	return top
}

// call sends one request and returns the status and body.
func (e *env) call(method, path string, body any) (int, []byte) {
	e.t.Helper()
	var rd io.Reader
	if body != nil {
		switch b := body.(type) {
		case string:
			rd = strings.NewReader(b)
		default:
			data, err := json.Marshal(b)
			if err != nil {
				e.t.Fatal(err)
			}
			rd = bytes.NewReader(data)
		}
	}
	req, err := http.NewRequest(method, e.base+path, rd)
	if err != nil {
		e.t.Fatal(err)
	}
	rsp, err := http.DefaultClient.Do(req)
	if err != nil {
		e.t.Fatalf("%s %s: %v", method, path, err)
	}
	defer rsp.Body.Close()
	data, err := io.ReadAll(rsp.Body)
	if err != nil {
		e.t.Fatal(err)
	}
	return rsp.StatusCode, data
}

// api formats an /api/topom path with the xauth: api("group/create", 1)
// gives /api/topom/group/create/{xauth}/1.
func (e *env) api(op string, args ...any) string {
	var b strings.Builder
	b.WriteString("/api/topom/" + op + "/" + e.xauth)
	for _, a := range args {
		b.WriteString("/")
		b.WriteString(strings.TrimSpace(strings.ReplaceAll(toString(a), "/", "%2F")))
	}
	return b.String()
}

func toString(a any) string {
	switch v := a.(type) {
	case string:
		return v
	default:
		data, _ := json.Marshal(v)
		return string(data)
	}
}

// ok asserts a 200 "OK" reply.
func (e *env) ok(method, path string, body ...any) {
	e.t.Helper()
	var b any
	if len(body) != 0 {
		b = body[0]
	}
	status, data := e.call(method, path, b)
	if status != 200 || string(data) != `"OK"` {
		e.t.Fatalf("%s %s: got %d %s, want 200 \"OK\"", method, path, status, data)
	}
}

// fail asserts a status 800 RemoteError reply whose Cause starts with
// cause, and returns the full cause.
func (e *env) fail(method, path, cause string, body ...any) string {
	e.t.Helper()
	var b any
	if len(body) != 0 {
		b = body[0]
	}
	status, data := e.call(method, path, b)
	if status != 800 {
		e.t.Fatalf("%s %s: got %d %s, want 800", method, path, status, data)
	}
	var re struct {
		Cause string
		Stack any
	}
	if err := json.Unmarshal(data, &re); err != nil {
		e.t.Fatalf("%s %s: bad error body %s: %v", method, path, data, err)
	}
	if !strings.HasPrefix(re.Cause, cause) {
		e.t.Fatalf("%s %s: cause %q, want prefix %q", method, path, re.Cause, cause)
	}
	if re.Stack != nil {
		e.t.Fatalf("%s %s: Stack = %v, want null", method, path, re.Stack)
	}
	return re.Cause
}

// getJSON GETs path and decodes the 200 reply into v.
func (e *env) getJSON(path string, v any) {
	e.t.Helper()
	status, data := e.call(http.MethodGet, path, nil)
	if status != 200 {
		e.t.Fatalf("GET %s: %d %s", path, status, data)
	}
	if err := json.Unmarshal(data, v); err != nil {
		e.t.Fatalf("GET %s: %v in %s", path, err, data)
	}
}

func (e *env) stats() *Stats {
	e.t.Helper()
	st := &Stats{}
	e.getJSON("/api/topom/stats/"+e.xauth, st)
	return st
}

// seedGroup writes a group with the given servers straight into the store
// (bypassing the SLOTSINFO probe, so plain redis-servers can be used) and
// reloads the dashboard.
func (e *env) seedGroup(gid int, addrs ...string) {
	e.t.Helper()
	g := models.NewGroup(gid)
	for _, a := range addrs {
		g.Servers = append(g.Servers, &models.GroupServer{Addr: a})
	}
	if err := e.store.UpdateGroup(g); err != nil {
		e.t.Fatal(err)
	}
	e.ok(http.MethodPut, e.api("reload"))
}

func (e *env) group(gid int) *models.Group {
	e.t.Helper()
	g, err := e.store.LoadGroup(gid)
	if err != nil {
		e.t.Fatal(err)
	}
	return g
}

func (e *env) slot(sid int) *models.SlotMapping {
	e.t.Helper()
	m, err := e.store.LoadSlotMapping(sid)
	if err != nil {
		e.t.Fatal(err)
	}
	return m
}

// readNode returns the raw bytes of a store node.
func (e *env) readNode(path string) []byte {
	e.t.Helper()
	data, err := e.store.Client().Read(path, false)
	if err != nil {
		e.t.Fatal(err)
	}
	return data
}
