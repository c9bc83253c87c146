package fe

import (
	"bytes"
	"compress/gzip"
	"encoding/json"
	"errors"
	"io"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/codisgo/codis/pkg/models"
	"github.com/codisgo/codis/pkg/topom"
	"github.com/codisgo/codis/pkg/utils/token"
)

func TestNewErrors(t *testing.T) {
	loader := LoaderFunc(func() (map[string]string, error) { return nil, nil })

	empty := t.TempDir()
	_, err := New(Config{AssetsDir: empty, Loader: loader})
	if !errors.Is(err, ErrNoIndex) || !strings.Contains(err.Error(), filepath.Join(empty, "index.html")) {
		t.Errorf("no index.html: err = %v, want ErrNoIndex naming the file", err)
	}

	dirIndex := t.TempDir()
	if err := os.Mkdir(filepath.Join(dirIndex, "index.html"), 0o755); err != nil {
		t.Fatal(err)
	}
	if _, err := New(Config{AssetsDir: dirIndex, Loader: loader}); !errors.Is(err, ErrNoIndex) {
		t.Errorf("index.html is a directory: err = %v, want ErrNoIndex", err)
	}

	if _, err := New(Config{AssetsDir: filepath.Join(empty, "missing"), Loader: loader}); !errors.Is(err, ErrNoIndex) {
		t.Errorf("missing assets dir: err = %v, want ErrNoIndex", err)
	}
	if _, err := New(Config{AssetsDir: assetsDir(t)}); err == nil {
		t.Error("no loader: want an error")
	}
	if _, err := New(Config{Loader: loader}); err == nil {
		t.Error("no assets dir: want an error")
	}
}

func TestReadDashboardList(t *testing.T) {
	dir := t.TempDir()
	good := filepath.Join(dir, "good.json")
	// Exactly what codis-admin --dashboard-list prints, plus entries that
	// must be dropped.
	writeList(t, good,
		models.DashboardEntry{Name: "alpha", Dashboard: "127.0.0.1:18080"},
		models.DashboardEntry{Name: "idle", Dashboard: ""},
		models.DashboardEntry{Name: "", Dashboard: "127.0.0.1:1"},
		models.DashboardEntry{Name: "beta", Dashboard: "10.0.0.2:18080"})
	m, err := ReadDashboardList(good)
	if err != nil {
		t.Fatal(err)
	}
	want := map[string]string{"alpha": "127.0.0.1:18080", "beta": "10.0.0.2:18080"}
	if !reflect.DeepEqual(m, want) {
		t.Errorf("ReadDashboardList = %v, want %v", m, want)
	}

	emptyList := filepath.Join(dir, "empty.json")
	writeList(t, emptyList)
	if m, err := ReadDashboardList(emptyList); err != nil || len(m) != 0 {
		t.Errorf("[] = %v, %v; want an empty map", m, err)
	}

	for name, content := range map[string]string{
		"garbage": "not json",
		"object":  `{"name": "alpha", "dashboard": "127.0.0.1:18080"}`,
		"null":    "null",
		"empty":   "",
		"typed":   `[{"name": 1, "dashboard": 2}]`,
	} {
		p := filepath.Join(dir, name+".json")
		if err := os.WriteFile(p, []byte(content), 0o644); err != nil {
			t.Fatal(err)
		}
		if _, err := ReadDashboardList(p); !errors.Is(err, ErrInvalidDashboardList) || !strings.Contains(err.Error(), p) {
			t.Errorf("%s: err = %v, want ErrInvalidDashboardList naming the file", name, err)
		}
	}
	if _, err := ReadDashboardList(filepath.Join(dir, "missing.json")); !errors.Is(err, ErrInvalidDashboardList) || !errors.Is(err, os.ErrNotExist) {
		t.Errorf("missing file: err = %v", err)
	}
}

func TestStaticFilesAnd403(t *testing.T) {
	e := newFE(t, Config{Loader: LoaderFunc(func() (map[string]string, error) { return nil, nil })})

	for _, c := range []struct {
		path, want string
	}{
		{"/", "<html>codis-fe test index</html>"},
		{"/app.css", "body { color: red }"},
		{"/sub/", "sub index"},
		{"/app.css?forward=anything", "body { color: red }"},
	} {
		resp, body := e.do("GET", c.path, "")
		if resp.StatusCode != 200 || body != c.want {
			t.Errorf("GET %s = %d %q, want 200 %q", c.path, resp.StatusCode, body, c.want)
		}
	}
	if resp, _ := e.do("GET", "/app.css", ""); !strings.HasPrefix(resp.Header.Get("Content-Type"), "text/css") {
		t.Errorf("GET /app.css content type %q", resp.Header.Get("Content-Type"))
	}
	if resp, body := e.do("HEAD", "/", ""); resp.StatusCode != 200 || body != "" {
		t.Errorf("HEAD / = %d %q", resp.StatusCode, body)
	}

	// Everything else is 403 with an empty body: unknown paths, a
	// directory without index.html, escapes from the assets dir, writes to
	// asset paths, and forwards before /list or to unknown products.
	for _, c := range []struct{ method, path string }{
		{"GET", "/nope"},
		{"GET", "/empty/"},
		{"GET", "/../../../../etc/passwd"},
		{"GET", "/%2e%2e/%2e%2e/etc/passwd"},
		{"PUT", "/index.html"},
		{"POST", "/"},
		{"PUT", "/list"},
		{"GET", "/topom?forward=alpha"},
		{"GET", "/topom?forward="},
	} {
		resp, body := e.do(c.method, c.path, "")
		if resp.StatusCode != 403 || body != "" {
			t.Errorf("%s %s = %d %q, want 403 with an empty body", c.method, c.path, resp.StatusCode, body)
		}
	}
}

func TestListFormat(t *testing.T) {
	e := newFE(t, Config{Loader: LoaderFunc(func() (map[string]string, error) {
		return map[string]string{"zeta": "127.0.0.1:1", "alpha": "127.0.0.1:2", "mid": "127.0.0.1:3", "noaddr": ""}, nil
	})})
	resp, body := e.do("GET", "/list", "")
	if resp.StatusCode != 200 {
		t.Fatalf("GET /list = %d", resp.StatusCode)
	}
	if ct := resp.Header.Get("Content-Type"); ct != "text/plain; charset=utf-8" {
		t.Errorf("content type %q", ct)
	}
	want := "[\n    \"alpha\",\n    \"mid\",\n    \"zeta\"\n]"
	if body != want {
		t.Errorf("GET /list body\n%s\nwant\n%s", body, want)
	}

	none := newFE(t, Config{Loader: LoaderFunc(func() (map[string]string, error) { return nil, nil })})
	if _, body := none.do("GET", "/list", ""); body != "[]" {
		t.Errorf("empty GET /list body %q, want []", body)
	}
}

// TestForwardStatic drives a real dashboard through the fe with a
// --dashboard-list file: reads, writes with and without a body, the 800
// error pass-through, gzip pass-through, and 403s.
func TestForwardStatic(t *testing.T) {
	root := t.TempDir()
	top := startDashboard(t, root, "alpha")
	dash := top.AdminAddr()
	x := token.NewXAuth("alpha")

	list := filepath.Join(t.TempDir(), "dashboards.json")
	writeList(t, list, models.DashboardEntry{Name: "alpha", Dashboard: dash})
	e := newFE(t, Config{Loader: StaticLoader(list)})

	// Nothing is forwarded before the first /list.
	if resp, body := e.do("GET", "/api/topom/model?forward=alpha", ""); resp.StatusCode != 403 || body != "" {
		t.Fatalf("forward before /list = %d %q, want 403", resp.StatusCode, body)
	}
	if got := e.names(); !reflect.DeepEqual(got, []string{"alpha"}) {
		t.Fatalf("/list = %v", got)
	}
	if addr, ok := e.srv.Dashboard("alpha"); !ok || addr != dash {
		t.Errorf("Dashboard(alpha) = %q %v", addr, ok)
	}

	// GET: the model, the overview.
	resp, body := e.do("GET", "/api/topom/model?forward=alpha", "")
	var model models.Topom
	if resp.StatusCode != 200 || json.Unmarshal([]byte(body), &model) != nil || model.ProductName != "alpha" || model.AdminAddr != dash {
		t.Fatalf("GET model through fe = %d %q", resp.StatusCode, body)
	}
	if ct := resp.Header.Get("Content-Type"); ct != "application/json; charset=utf-8" {
		t.Errorf("forwarded content type %q", ct)
	}
	resp, body = e.do("GET", "/topom?forward=alpha", "")
	var ov topom.Overview
	if resp.StatusCode != 200 || json.Unmarshal([]byte(body), &ov) != nil || ov.Model == nil || ov.Config == nil || ov.Stats == nil {
		t.Fatalf("GET /topom through fe = %d %.200q", resp.StatusCode, body)
	}
	if ov.Config.CoordinatorName != "filesystem" || ov.Config.CoordinatorAddr != root || ov.Version != "fe-test" {
		t.Errorf("overview config %+v version %q", ov.Config, ov.Version)
	}

	// PUT without a body, then the same call again: the dashboard's 800
	// reply is relayed unchanged (status and body), exactly as the
	// dashboard answers it directly.
	resp, body = e.do("PUT", "/api/topom/group/create/"+x+"/1?forward=alpha", "")
	if resp.StatusCode != 200 || body != `"OK"` {
		t.Fatalf("create group through fe = %d %q", resp.StatusCode, body)
	}
	resp, body = e.do("PUT", "/api/topom/group/create/"+x+"/1?forward=alpha", "")
	direct, directBody := doHTTP(t, "PUT", "http://"+dash+"/api/topom/group/create/"+x+"/1", "")
	if resp.StatusCode != 800 || direct.StatusCode != 800 || body != directBody {
		t.Fatalf("duplicate group: fe %d %q, direct %d %q; want the same 800 reply", resp.StatusCode, body, direct.StatusCode, directBody)
	}
	var re struct{ Cause string }
	if json.Unmarshal([]byte(body), &re) != nil || !strings.Contains(re.Cause, "already exists") {
		t.Errorf("800 body %q", body)
	}
	// A wrong xauth is the dashboard's error too, not the fe's.
	resp, body = e.do("PUT", "/api/topom/group/create/0123/2?forward=alpha", "")
	if resp.StatusCode != 800 || !strings.Contains(body, "invalid xauth") {
		t.Errorf("bad xauth through fe = %d %q", resp.StatusCode, body)
	}

	// PUT with a JSON body: put a real codis-server in group 1 and assign
	// slots 0-9 to it with slots/assign.
	srv := startCodisServer(t)
	if resp, body := e.do("PUT", "/api/topom/group/add/"+x+"/1/"+srv+"/dc1?forward=alpha", ""); resp.StatusCode != 200 {
		t.Fatalf("group add through fe = %d %q", resp.StatusCode, body)
	}
	var ms []*models.SlotMapping
	for i := 0; i < 10; i++ {
		ms = append(ms, &models.SlotMapping{ID: i, GroupID: 1})
	}
	b, _ := json.MarshalIndent(ms, "", "    ")
	resp, body = e.do("PUT", "/api/topom/slots/assign/"+x+"?forward=alpha", string(b), "Content-Type", "application/json")
	if resp.StatusCode != 200 || body != `"OK"` {
		t.Fatalf("slots assign through fe = %d %q", resp.StatusCode, body)
	}
	st, err := top.Stats()
	if err != nil {
		t.Fatal(err)
	}
	if len(st.Group.Models) != 1 || len(st.Group.Models[0].Servers) != 1 || st.Group.Models[0].Servers[0].Addr != srv ||
		st.Group.Models[0].Servers[0].DataCenter != "dc1" {
		t.Errorf("dashboard groups after the fe calls: %s", models.Encode(st.Group.Models))
	}
	for i, m := range st.Slots {
		want := 0
		if i < 10 {
			want = 1
		}
		if m.GroupID != want {
			t.Fatalf("slot %d in group %d, want %d", i, m.GroupID, want)
		}
	}
	// A body the dashboard rejects: its error comes back as 800.
	resp, body = e.do("PUT", "/api/topom/slots/assign/"+x+"?forward=alpha", `[{"id": 20, "group_id": 7}]`, "Content-Type", "application/json")
	if resp.StatusCode != 800 || !strings.Contains(body, "7") {
		t.Errorf("assign to a missing group through fe = %d %q", resp.StatusCode, body)
	}

	// gzip is relayed as the dashboard sends it.
	resp, body = e.do("GET", "/api/topom/model?forward=alpha", "", "Accept-Encoding", "gzip")
	if resp.Header.Get("Content-Encoding") != "gzip" {
		t.Fatalf("gzip: Content-Encoding %q", resp.Header.Get("Content-Encoding"))
	}
	zr, err := gzip.NewReader(bytes.NewReader([]byte(body)))
	if err != nil {
		t.Fatal(err)
	}
	plain, err := io.ReadAll(zr)
	if err != nil || !bytes.Contains(plain, []byte(`"product_name": "alpha"`)) {
		t.Errorf("gunzipped body %q, %v", plain, err)
	}

	// Unknown product, and a path the dashboard does not know (its 404).
	if resp, body := e.do("GET", "/topom?forward=beta", ""); resp.StatusCode != 403 || body != "" {
		t.Errorf("unknown product = %d %q", resp.StatusCode, body)
	}
	if resp, _ := e.do("GET", "/no/such/route?forward=alpha", ""); resp.StatusCode != 404 {
		t.Errorf("unknown dashboard route = %d, want the dashboard's 404", resp.StatusCode)
	}

	// A dashboard that went away: 502, not a hang.
	top.Close()
	checkFor(t, 10*time.Second, "dashboard closed", func() bool {
		resp, _ := e.do("GET", "/api/topom/model?forward=alpha", "")
		return resp.StatusCode == 502
	})
}

// TestCoordinatorDiscovery lists products from the filesystem
// coordinator: only those with a running dashboard are routed.
func TestCoordinatorDiscovery(t *testing.T) {
	root := t.TempDir()
	alpha := startDashboard(t, root, "alpha")
	gamma := startDashboard(t, root, "gamma")

	c := fsClient(t, root)
	// beta: a product directory without a lock node (no dashboard).
	if err := c.Update(models.GroupPath("beta", 1), models.Encode(&models.Group{ID: 1, Servers: []*models.GroupServer{}})); err != nil {
		t.Fatal(err)
	}
	// broken: undecodable lock data; noaddr: a lock without admin_addr.
	if err := c.Update(models.LockPath("broken"), []byte("{not json")); err != nil {
		t.Fatal(err)
	}
	if err := c.Update(models.LockPath("noaddr"), models.Encode(&models.Topom{ProductName: "noaddr"})); err != nil {
		t.Fatal(err)
	}

	loader := CoordinatorLoader(fsClient(t, root), testLogger())
	m, err := loader.Load()
	if err != nil {
		t.Fatal(err)
	}
	want := map[string]string{"alpha": alpha.AdminAddr(), "gamma": gamma.AdminAddr()}
	if !reflect.DeepEqual(m, want) {
		t.Fatalf("Load = %v, want %v", m, want)
	}

	e := newFE(t, Config{Loader: loader})
	if got := e.names(); !reflect.DeepEqual(got, []string{"alpha", "gamma"}) {
		t.Fatalf("/list = %v", got)
	}
	for _, p := range []string{"alpha", "gamma"} {
		resp, body := e.do("GET", "/api/topom/model?forward="+p, "")
		if resp.StatusCode != 200 || !strings.Contains(body, `"product_name": "`+p+`"`) {
			t.Errorf("model of %s through fe = %d %q", p, resp.StatusCode, body)
		}
	}
	for _, p := range []string{"beta", "broken", "noaddr"} {
		if resp, _ := e.do("GET", "/topom?forward="+p, ""); resp.StatusCode != 403 {
			t.Errorf("%s forwarded (%d), want 403", p, resp.StatusCode)
		}
	}

	// An empty coordinator: an empty list, not an error.
	if m, err := CoordinatorLoader(fsClient(t, t.TempDir()), nil).Load(); err != nil || len(m) != 0 {
		t.Errorf("empty coordinator: %v, %v", m, err)
	}
}

// TestRebuildInterval checks the staleness rule (§7.2): the map is
// rebuilt only by /list and only when older than the interval; a failed
// load empties it until the next successful rebuild.
func TestRebuildInterval(t *testing.T) {
	root := t.TempDir()
	top := startDashboard(t, root, "alpha")
	list := filepath.Join(t.TempDir(), "dashboards.json")
	writeList(t, list, models.DashboardEntry{Name: "alpha", Dashboard: top.AdminAddr()})

	var loads atomic.Int32
	static := StaticLoader(list)
	loader := LoaderFunc(func() (map[string]string, error) {
		loads.Add(1)
		return static.Load()
	})
	const interval = 400 * time.Millisecond
	e := newFE(t, Config{Loader: loader, RebuildInterval: interval})

	if got := e.names(); !reflect.DeepEqual(got, []string{"alpha"}) || loads.Load() != 1 {
		t.Fatalf("/list = %v after %d loads", got, loads.Load())
	}
	// Fresh: the file changes, /list does not see it, the loader is not
	// called, and forwarding keeps working.
	writeList(t, list,
		models.DashboardEntry{Name: "alpha", Dashboard: top.AdminAddr()},
		models.DashboardEntry{Name: "beta", Dashboard: top.AdminAddr()})
	if got := e.names(); !reflect.DeepEqual(got, []string{"alpha"}) || loads.Load() != 1 {
		t.Fatalf("fresh /list = %v after %d loads, want [alpha] after 1", got, loads.Load())
	}
	if resp, _ := e.do("GET", "/topom?forward=beta", ""); resp.StatusCode != 403 {
		t.Errorf("beta forwarded before the rebuild: %d", resp.StatusCode)
	}
	// Forwarding never rebuilds.
	time.Sleep(interval + 50*time.Millisecond)
	if resp, _ := e.do("GET", "/api/topom/model?forward=beta", ""); resp.StatusCode != 403 || loads.Load() != 1 {
		t.Errorf("stale map: forward to beta = %d after %d loads, want 403 after 1", resp.StatusCode, loads.Load())
	}
	// Stale: /list rebuilds.
	if got := e.names(); !reflect.DeepEqual(got, []string{"alpha", "beta"}) || loads.Load() != 2 {
		t.Fatalf("stale /list = %v after %d loads", got, loads.Load())
	}
	if resp, _ := e.do("GET", "/api/topom/model?forward=beta", ""); resp.StatusCode != 200 {
		t.Errorf("beta after the rebuild = %d", resp.StatusCode)
	}

	// A failed load empties the map; forwarding stops; a later good load
	// brings it back.
	if err := os.WriteFile(list, []byte("garbage"), 0o644); err != nil {
		t.Fatal(err)
	}
	time.Sleep(interval + 50*time.Millisecond)
	if got := e.names(); len(got) != 0 {
		t.Fatalf("/list after a failed load = %v, want []", got)
	}
	if resp, _ := e.do("GET", "/api/topom/model?forward=alpha", ""); resp.StatusCode != 403 {
		t.Errorf("forward after a failed load = %d, want 403", resp.StatusCode)
	}
	writeList(t, list, models.DashboardEntry{Name: "alpha", Dashboard: top.AdminAddr()})
	time.Sleep(interval + 50*time.Millisecond)
	if got := e.names(); !reflect.DeepEqual(got, []string{"alpha"}) {
		t.Fatalf("/list after the file was fixed = %v", got)
	}
	if resp, _ := e.do("GET", "/api/topom/model?forward=alpha", ""); resp.StatusCode != 200 {
		t.Errorf("forward after recovery = %d", resp.StatusCode)
	}
}

// TestDefaultRebuildInterval: with the default interval, /list calls in
// quick succession load once.
func TestDefaultRebuildInterval(t *testing.T) {
	var loads atomic.Int32
	e := newFE(t, Config{Loader: LoaderFunc(func() (map[string]string, error) {
		loads.Add(1)
		return map[string]string{"alpha": "127.0.0.1:1"}, nil
	})})
	for i := 0; i < 5; i++ {
		e.names()
	}
	if n := loads.Load(); n != 1 {
		t.Errorf("%d loads for 5 quick /list calls, want 1", n)
	}
	if e.srv.interval != DefaultRebuildInterval {
		t.Errorf("interval %v", e.srv.interval)
	}
}

// TestCloseIdempotent: Close stops the idle-closing goroutine and may be
// called twice.
func TestCloseIdempotent(t *testing.T) {
	srv, err := New(Config{AssetsDir: assetsDir(t), Loader: LoaderFunc(func() (map[string]string, error) { return nil, nil })})
	if err != nil {
		t.Fatal(err)
	}
	done := make(chan struct{})
	go func() {
		srv.Close()
		srv.Close()
		close(done)
	}()
	select {
	case <-done:
	case <-time.After(5 * time.Second):
		t.Fatal("Close hangs")
	}
}

// The real UI assets must be valid for New (cmd/fe/assets/index.html).
func TestRealAssets(t *testing.T) {
	dir := filepath.Join("..", "..", "cmd", "fe", "assets")
	e := newFE(t, Config{AssetsDir: dir, Loader: LoaderFunc(func() (map[string]string, error) { return nil, nil })})
	for _, p := range []string{"/", "/fe.js", "/fe.css", "/sha256.js"} {
		if resp, body := e.do("GET", p, ""); resp.StatusCode != 200 || body == "" {
			t.Errorf("GET %s = %d (%d bytes)", p, resp.StatusCode, len(body))
		}
	}
}
