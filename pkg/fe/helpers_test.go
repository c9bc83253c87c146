package fe

import (
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/codisgo/codis/pkg/models"
	"github.com/codisgo/codis/pkg/server"
	"github.com/codisgo/codis/pkg/testenv"
	"github.com/codisgo/codis/pkg/topom"
)

// The shared test helpers under the names this package's tests use.
var (
	testLogger = testenv.Logger
	checkFor   = testenv.CheckFor
)

// fsClient opens a filesystem coordinator client on root, closed at
// cleanup.
func fsClient(t testing.TB, root string) models.Client {
	t.Helper()
	c, err := models.NewClient("filesystem", root, "", 10*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	return c
}

// startDashboard runs a real dashboard (pkg/topom) for product on the
// filesystem coordinator at root and waits until it is online.
func startDashboard(t testing.TB, root, product string) *topom.Topom {
	t.Helper()
	client, err := models.NewClient("filesystem", root, "", 10*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	cfg := topom.NewDefaultConfig()
	cfg.CoordinatorName = "filesystem"
	cfg.CoordinatorAddr = root
	cfg.ProductName = product
	cfg.AdminAddr = "127.0.0.1:0"
	cfg.MigrationMethod = "sync"
	top, err := topom.New(client, cfg, topom.Options{Logger: testLogger(), Version: "fe-test"})
	if err != nil {
		client.Close()
		t.Fatal(err)
	}
	if err := top.Start(); err != nil {
		top.Close()
		t.Fatal(err)
	}
	t.Cleanup(func() { top.Close() })
	checkFor(t, 15*time.Second, "dashboard "+product+" online", func() bool {
		_, err := top.Stats()
		return err == nil
	})
	return top
}

// startCodisServer runs a real codis-server (pkg/server) in process on a
// free 127.0.0.1 port.
func startCodisServer(t testing.TB) string {
	t.Helper()
	return runCodisServer(t, 0).Addr().String()
}

// runCodisServer runs a real codis-server (pkg/server) in process on
// 127.0.0.1:port (0: a free port), closed at cleanup. A server closed by
// the test can be run again on its port: a restart, with a new run_id.
func runCodisServer(t testing.TB, port int) *server.Server {
	t.Helper()
	cfg := server.NewConfig()
	cfg.Port = int64(port)
	cfg.Bind = []string{"127.0.0.1"}
	cfg.Save = ""
	cfg.Dir = t.TempDir()
	// A config file (created on the first CONFIG REWRITE), as
	// codis-server has when it runs for real: the dashboard's and the
	// sentinels' replication transactions end with CONFIG REWRITE.
	cfg.ConfigFile = filepath.Join(cfg.Dir, "codis-server.conf")
	cfg.ProtectedMode = false
	s := server.New(cfg, testLogger())
	if err := s.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	return s
}

// assetsDir writes a small assets dir: index.html, app.css and
// sub/index.html.
func assetsDir(t testing.TB) string {
	t.Helper()
	dir := t.TempDir()
	for name, body := range map[string]string{
		"index.html":     "<html>codis-fe test index</html>",
		"app.css":        "body { color: red }",
		"sub/index.html": "sub index",
		"empty/.keep":    "",
	} {
		p := filepath.Join(dir, filepath.FromSlash(name))
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte(body), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	return dir
}

// writeList writes a --dashboard-list file.
func writeList(t testing.TB, path string, entries ...models.DashboardEntry) {
	t.Helper()
	if entries == nil {
		entries = []models.DashboardEntry{}
	}
	b, err := json.MarshalIndent(entries, "", "    ")
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, b, 0o644); err != nil {
		t.Fatal(err)
	}
}

// feEnv is one fe.Server behind an httptest server.
type feEnv struct {
	t   testing.TB
	srv *Server
	url string
}

func newFE(t testing.TB, cfg Config) *feEnv {
	t.Helper()
	if cfg.AssetsDir == "" {
		cfg.AssetsDir = assetsDir(t)
	}
	if cfg.Logger == nil {
		cfg.Logger = testLogger()
	}
	srv, err := New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	hs := httptest.NewServer(srv)
	t.Cleanup(func() {
		hs.Close()
		srv.Close()
	})
	return &feEnv{t: t, srv: srv, url: hs.URL}
}

// do sends one request to the fe and returns the response with its body
// read.
func (e *feEnv) do(method, path string, body string, header ...string) (*http.Response, string) {
	e.t.Helper()
	return doHTTP(e.t, method, e.url+path, body, header...)
}

func doHTTP(t testing.TB, method, url, body string, header ...string) (*http.Response, string) {
	t.Helper()
	var rd io.Reader
	if body != "" {
		rd = strings.NewReader(body)
	}
	req, err := http.NewRequest(method, url, rd)
	if err != nil {
		t.Fatal(err)
	}
	for i := 0; i+1 < len(header); i += 2 {
		req.Header.Set(header[i], header[i+1])
	}
	// A transport of its own: no connection reuse between tests, and no
	// transparent gzip when the test asks for gzip itself.
	tr := &http.Transport{}
	defer tr.CloseIdleConnections()
	resp, err := (&http.Client{Transport: tr, Timeout: 30 * time.Second}).Do(req)
	if err != nil {
		t.Fatalf("%s %s: %v", method, url, err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatalf("%s %s: read body: %v", method, url, err)
	}
	return resp, string(b)
}

// names calls GET /list and decodes it.
func (e *feEnv) names() []string {
	e.t.Helper()
	resp, body := e.do("GET", "/list", "")
	if resp.StatusCode != 200 {
		e.t.Fatalf("GET /list = %d %q", resp.StatusCode, body)
	}
	var names []string
	if err := json.Unmarshal([]byte(body), &names); err != nil {
		e.t.Fatalf("GET /list body %q: %v", body, err)
	}
	return names
}
