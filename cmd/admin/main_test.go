package main

import (
	"bufio"
	"bytes"
	"encoding/json"
	"fmt"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/codisgo/codis/pkg/models"
	"github.com/codisgo/codis/pkg/testenv"
)

// binDir holds the binaries built for this test run.
var binDir string

func TestMain(m *testing.M) {
	dir, err := os.MkdirTemp("", "codis-admin-test-")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	binDir = dir
	code := m.Run()
	os.RemoveAll(dir)
	os.Exit(code)
}

var builds sync.Map // package -> *buildResult

type buildResult struct {
	once sync.Once
	path string
	err  error
}

// build compiles ./cmd/<name> into binDir once per test run.
func build(t *testing.T, name string) (string, error) {
	t.Helper()
	v, _ := builds.LoadOrStore(name, &buildResult{})
	b := v.(*buildResult)
	b.once.Do(func() {
		gobin, err := exec.LookPath("go")
		if err != nil {
			gobin = "/usr/local/go/bin/go"
		}
		b.path = filepath.Join(binDir, "codis-"+name)
		cmd := exec.Command(gobin, "build", "-o", b.path, "github.com/codisgo/codis/cmd/"+name)
		if out, err := cmd.CombinedOutput(); err != nil {
			b.err = fmt.Errorf("go build ./cmd/%s: %v\n%s", name, err, out)
		}
	})
	return b.path, b.err
}

// admin runs the real codis-admin binary.
func runAdmin(t *testing.T, args ...string) (stdout, stderr string, code int) {
	t.Helper()
	bin, err := build(t, "admin")
	if err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(bin, args...)
	var o, e bytes.Buffer
	cmd.Stdout, cmd.Stderr = &o, &e
	err = cmd.Run()
	if x, ok := err.(*exec.ExitError); ok {
		code = x.ExitCode()
	} else if err != nil {
		t.Fatal(err)
	}
	return o.String(), e.String(), code
}

func TestUsageErrors(t *testing.T) {
	closed := testenv.ClosedPort(t)
	tests := []struct {
		args   []string
		stderr []string // substrings
	}{
		{nil, []string{"Usage:", "[PANIC] parse arguments failed"}},
		{[]string{"--nonsense"}, []string{"Usage:"}},
		{[]string{"--dashboard=" + closed, "--create-group"}, []string{"Usage:"}},
		{[]string{"--dashboard=" + closed, "--slots-assign", "--beg=0", "--end=1"}, []string{"Usage:"}},
		{[]string{"--proxy=" + closed, "--fillslots=a", "--start"}, []string{"Usage:"}},
		{[]string{"--config-dump", "--product=p"}, []string{"Usage:"}},
		{[]string{"--config-dump", "--product=p", "--filesystem=a", "--etcd=b"}, []string{"Usage:"}},
		// Arguments are checked before anything is sent.
		{[]string{"--dashboard=" + closed, "--create-group", "--gid=abc"}, []string{"[PANIC] codis-admin failed", `[error]: invalid argument: --gid = "abc" is not an integer`}},
		{[]string{"--dashboard=" + closed, "--log-level=loud"}, []string{"[error]: invalid argument: --log-level: invalid loglevel"}},
		{[]string{"--dashboard=" + closed, "--slots-assign", "--beg=0", "--end=1024", "-g", "1"}, []string{"[error]: invalid argument: --end: invalid slot id"}},
		{[]string{"--config-convert=/nonexistent/v1.json"}, []string{"[error]: invalid config file"}},
		{[]string{"--config-dump", "--product=bad name", "--filesystem=" + t.TempDir()}, []string{"[error]: invalid argument: --product"}},
		{[]string{"--config-dump", "--product=none", "--filesystem=" + t.TempDir()}, []string{"[error]: cann't find product = none [v3]"}},
		// Unreachable servers.
		{[]string{"--dashboard=" + closed, "--reload"}, []string{"[PANIC] call rpc model to dashboard " + closed + " failed", "connection refused"}},
		{[]string{"--proxy=" + closed, "--start"}, []string{"[PANIC] call rpc model to proxy " + closed + " failed"}},
	}
	for _, tc := range tests {
		stdout, stderr, code := runAdmin(t, tc.args...)
		if code != 1 || stdout != "" {
			t.Errorf("%q: exit %d, stdout %q", tc.args, code, stdout)
		}
		for _, s := range tc.stderr {
			if !strings.Contains(stderr, s) {
				t.Errorf("%q: stderr lacks %q:\n%s", tc.args, s, stderr)
			}
		}
		if strings.Contains(stderr, "goroutine ") || strings.Contains(stderr, "panic:") {
			t.Errorf("%q: Go panic:\n%s", tc.args, stderr)
		}
	}

	slots := filepath.Join(t.TempDir(), "slots.json")
	os.WriteFile(slots, []byte(`[{"id": 2000}]`), 0o644)
	_, stderr, code := runAdmin(t, "--proxy="+closed, "--fillslots="+slots, "--locked")
	if code != 1 || !strings.Contains(stderr, "[error]: invalid slots file: invalid slot id = 2000") {
		t.Errorf("fillslots: %d %s", code, stderr)
	}
}

func TestHelp(t *testing.T) {
	stdout, _, code := runAdmin(t, "--help")
	if code != 0 || !strings.HasPrefix(strings.TrimSpace(stdout), "Usage:") || !strings.Contains(stdout, "--wait") || !strings.Contains(stdout, "extension") {
		t.Fatalf("--help: %d\n%s", code, stdout)
	}
	// Every line of the original usage (SPEC-control §6.1) is accepted.
	for _, l := range []string{
		"codis-admin [-v] --dashboard-list                           (--zookeeper=ADDR [--zookeeper-auth=USR:PWD]|--etcd=ADDR [--etcd-auth=USR:PWD]|--filesystem=ROOT)",
		"codis-admin [-v] --dashboard=ADDR            --reinit-proxy  (--addr=ADDR|--token=TOKEN|--pid=ID|--all) [--force]",
	} {
		if !strings.Contains(stdout, l) {
			t.Errorf("usage lacks %q", l)
		}
	}
}

// TestRemoteErrorFormat checks how a status-800 reply is reported.
func TestRemoteErrorFormat(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json; charset=utf-8")
		if r.URL.Path == "/api/topom/model" {
			w.Write([]byte(`{"product_name": "p"}`))
			return
		}
		w.WriteHeader(800)
		w.Write([]byte("{\n    \"Cause\": \"invalid xauth, please check product name \\u0026 auth\",\n    \"Stack\": null\n}"))
	}))
	defer srv.Close()
	addr := strings.TrimPrefix(srv.URL, "http://")
	stdout, stderr, code := runAdmin(t, "-v", "--dashboard="+addr, "--reload")
	if code != 1 || stdout != "" {
		t.Fatalf("exit %d stdout %q", code, stdout)
	}
	lines := strings.Split(strings.TrimSpace(stderr), "\n")
	last := lines[len(lines)-1]
	if last != "[error]: [Remote Error] invalid xauth, please check product name & auth" {
		t.Fatalf("last line %q\n%s", last, stderr)
	}
	if !strings.Contains(lines[len(lines)-2], "[PANIC] call rpc xping to dashboard "+addr+" failed") {
		t.Fatalf("panic line %q", lines[len(lines)-2])
	}
	if !strings.Contains(stderr, "[DEBUG]") {
		t.Fatalf("-v did not log at DEBUG:\n%s", stderr)
	}
	_, stderr, _ = runAdmin(t, "--dashboard="+addr, "--reload")
	if strings.Contains(stderr, "[DEBUG]") {
		t.Fatalf("DEBUG without -v:\n%s", stderr)
	}
}

// ---------------------------------------------------------------------
// End to end against the real codis-dashboard and codis-server.

type process struct {
	cmd    *exec.Cmd
	log    *bytes.Buffer
	exited chan struct{}
}

func start(t *testing.T, bin string, args ...string) *process {
	t.Helper()
	p := &process{cmd: exec.Command(bin, args...), log: &bytes.Buffer{}, exited: make(chan struct{})}
	p.cmd.Stdout = &lockedWriter{w: p.log}
	p.cmd.Stderr = p.cmd.Stdout
	p.cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL}
	if err := p.cmd.Start(); err != nil {
		t.Fatal(err)
	}
	go func() { p.cmd.Wait(); close(p.exited) }()
	t.Cleanup(func() {
		select {
		case <-p.exited:
			return
		default:
		}
		p.cmd.Process.Signal(syscall.SIGTERM)
		select {
		case <-p.exited:
		case <-time.After(10 * time.Second):
			p.cmd.Process.Kill()
			<-p.exited
		}
	})
	return p
}

type lockedWriter struct {
	mu sync.Mutex
	w  *bytes.Buffer
}

func (l *lockedWriter) Write(b []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.w.Write(b)
}

func (p *process) output() string {
	lw := p.cmd.Stdout.(*lockedWriter)
	lw.mu.Lock()
	defer lw.mu.Unlock()
	return lw.w.String()
}

// eventually polls f every 20 ms until it returns nil or timeout passes.
func eventually(t *testing.T, timeout time.Duration, what string, f func() error) {
	t.Helper()
	deadline := time.Now().Add(timeout)
	for {
		err := f()
		if err == nil {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("%s: %v", what, err)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

func redisPing(addr string) error {
	c, err := net.DialTimeout("tcp", addr, time.Second)
	if err != nil {
		return err
	}
	defer c.Close()
	c.SetDeadline(time.Now().Add(time.Second))
	if _, err := c.Write([]byte("PING\r\n")); err != nil {
		return err
	}
	line, err := bufio.NewReader(c).ReadString('\n')
	if err != nil {
		return err
	}
	if line != "+PONG\r\n" {
		return fmt.Errorf("PING replied %q", line)
	}
	return nil
}

func TestEndToEndDashboard(t *testing.T) {
	if testing.Short() {
		t.Skip("end-to-end test")
	}
	dashBin, err := build(t, "dashboard")
	if err != nil {
		t.Skipf("codis-dashboard does not build yet: %v", err)
	}
	serverBin, err := build(t, "server")
	if err != nil {
		t.Skipf("codis-server does not build yet: %v", err)
	}

	var servers []string
	for i := 0; i < 2; i++ {
		port := testenv.FreePort(t)
		addr := "127.0.0.1:" + strconv.Itoa(port)
		p := start(t, serverBin, "--port", strconv.Itoa(port), "--bind", "127.0.0.1", "--dir", t.TempDir())
		eventually(t, 30*time.Second, "codis-server "+addr, func() error {
			select {
			case <-p.exited:
				t.Fatalf("codis-server exited:\n%s", p.output())
			default:
			}
			return redisPing(addr)
		})
		servers = append(servers, addr)
	}

	root := filepath.Join(t.TempDir(), "rootfs")
	dash := "127.0.0.1:" + strconv.Itoa(testenv.FreePort(t))
	conf := filepath.Join(t.TempDir(), "dashboard.toml")
	os.WriteFile(conf, []byte(fmt.Sprintf("admin_addr = %q\nproduct_name = \"e2e\"\nmigration_method = \"sync\"\n", dash)), 0o644)
	d := start(t, dashBin, "--config="+conf, "--filesystem="+root, "--log-level=info")
	eventually(t, 30*time.Second, "dashboard online", func() error {
		select {
		case <-d.exited:
			t.Fatalf("dashboard exited:\n%s", d.output())
		default:
		}
		rsp, err := http.Get("http://" + dash + "/topom")
		if err != nil {
			return err
		}
		rsp.Body.Close()
		if rsp.StatusCode != 200 {
			return fmt.Errorf("GET /topom: %d", rsp.StatusCode)
		}
		return nil
	})

	ok := func(args ...string) string {
		t.Helper()
		stdout, stderr, code := runAdmin(t, append([]string{"--dashboard=" + dash}, args...)...)
		if code != 0 {
			t.Fatalf("codis-admin %q: exit %d\n%s\ndashboard log:\n%s", args, code, stderr, d.output())
		}
		return stdout
	}

	ok("--create-group", "--gid=1")
	ok("--create-group", "-g", "2")
	ok("--group-add", "--gid=1", "-x", servers[0])
	ok("--group-add", "--gid=2", "--addr="+servers[1], "--datacenter=dc2")

	// Errors from the real dashboard come back as remote errors.
	_, stderr, code := runAdmin(t, "--dashboard="+dash, "--create-group", "--gid=1")
	if code != 1 || !strings.Contains(stderr, "[error]: [Remote Error] ") {
		t.Fatalf("duplicate group: %d\n%s", code, stderr)
	}

	var groups []*models.Group
	if err := json.Unmarshal([]byte(ok("--list-group")), &groups); err != nil {
		t.Fatal(err)
	}
	if len(groups) != 2 || groups[0].ID != 1 || groups[0].Master() != servers[0] || groups[1].Servers[0].DataCenter != "dc2" {
		t.Fatalf("groups: %s", models.Encode(groups))
	}

	// The dashboard probes the servers about once a second.
	want := fmt.Sprintf("[ ] group-1 [0] %s      ==> NO:ONE\n[ ] group-2 [0] %s      ==> NO:ONE\n", servers[0], servers[1])
	eventually(t, 30*time.Second, "group status", func() error {
		if got := ok("--group-status"); got != want {
			return fmt.Errorf("got %q, want %q", got, want)
		}
		return nil
	})

	// Slot assignment: preview, then confirm.
	preview := ok("--slots-assign", "--beg=0", "--end=1023", "--gid=1")
	var list []*models.SlotMapping
	if err := json.Unmarshal([]byte(preview), &list); err != nil || len(list) != 1024 {
		t.Fatalf("preview: %v", err)
	}
	ok("--slots-assign", "--beg=0", "--end=1023", "--gid=1", "--confirm")
	var slots []*models.Slot
	if err := json.Unmarshal([]byte(ok("--slots-status")), &slots); err != nil || len(slots) != 1024 {
		t.Fatalf("slots status: %v", err)
	}
	for _, s := range slots {
		if s.BackendAddr != servers[0] {
			t.Fatalf("slot %d backend %q", s.ID, s.BackendAddr)
		}
	}

	// Migrate a few (empty) slots and wait for them.
	out := ok("--slot-action", "--create-range", "--beg=0", "--end=3", "--gid=2", "--wait")
	if !strings.HasSuffix(out, "slots remaining: 0\n") {
		t.Fatalf("wait output %q", out)
	}
	var mappings []*models.SlotMapping
	if err := json.Unmarshal([]byte(ok("slots")), &mappings); err != nil || len(mappings) != 1024 {
		t.Fatalf("slots view: %v", err)
	}
	for sid := 0; sid < 8; sid++ {
		want := 1
		if sid < 4 {
			want = 2
		}
		if m := mappings[sid]; m.GroupID != want || !m.Action.IsEmpty() {
			t.Fatalf("slot %d: %s", sid, models.Encode(m))
		}
	}

	// Rebalance preview prints the plan and changes nothing.
	out = ok("--rebalance")
	lines := strings.Split(strings.TrimSuffix(out, "\n"), "\n")
	plan := regexp.MustCompile(`^\[\d{4},\d{4}\] => [12]$`)
	if len(lines) < 2 || lines[len(lines)-1] != "done" {
		t.Fatalf("rebalance output %q", out)
	}
	for _, l := range lines[:len(lines)-1] {
		if !plan.MatchString(l) {
			t.Fatalf("rebalance line %q", l)
		}
	}

	// Shut the dashboard down; the lock goes away.
	ok("--shutdown")
	select {
	case <-d.exited:
	case <-time.After(30 * time.Second):
		t.Fatal("dashboard did not exit after --shutdown")
	}
	stdout, stderr, code := runAdmin(t, "--dashboard-list", "--filesystem="+root)
	if code != 0 || stdout != "[\n    {\n        \"name\": \"e2e\",\n        \"dashboard\": \"\"\n    }\n]\n" {
		t.Fatalf("dashboard list: %d %q %s", code, stdout, stderr)
	}
	stdout, stderr, code = runAdmin(t, "--config-dump", "--product=e2e", "--filesystem="+root)
	var dump models.ConfigV3
	if code != 0 || json.Unmarshal([]byte(stdout), &dump) != nil || len(dump.Group) != 2 || dump.Slots[0].GroupID != 2 || dump.Slots[4].GroupID != 1 {
		t.Fatalf("config dump: %d %s\n%.500s", code, stderr, stdout)
	}
}

func TestEndToEndProxy(t *testing.T) {
	if testing.Short() {
		t.Skip("end-to-end test")
	}
	proxyBin, err := build(t, "proxy")
	if err != nil {
		t.Skipf("codis-proxy does not build yet: %v", err)
	}
	serverBin, err := build(t, "server")
	if err != nil {
		t.Skipf("codis-server does not build yet: %v", err)
	}
	port := testenv.FreePort(t)
	backend := "127.0.0.1:" + strconv.Itoa(port)
	s := start(t, serverBin, "--port", strconv.Itoa(port), "--bind", "127.0.0.1", "--dir", t.TempDir())
	eventually(t, 30*time.Second, "codis-server", func() error {
		select {
		case <-s.exited:
			t.Fatalf("codis-server exited:\n%s", s.output())
		default:
		}
		return redisPing(backend)
	})

	adminAddr := "127.0.0.1:" + strconv.Itoa(testenv.FreePort(t))
	proxyAddr := "127.0.0.1:" + strconv.Itoa(testenv.FreePort(t))
	conf := filepath.Join(t.TempDir(), "proxy.toml")
	os.WriteFile(conf, []byte(fmt.Sprintf("product_name = \"e2e\"\nproduct_auth = \"pw\"\nadmin_addr = %q\nproxy_addr = %q\nproto_type = \"tcp4\"\n", adminAddr, proxyAddr)), 0o644)
	p := start(t, proxyBin, "--config="+conf)
	eventually(t, 30*time.Second, "proxy admin", func() error {
		select {
		case <-p.exited:
			t.Fatalf("codis-proxy exited:\n%s", p.output())
		default:
		}
		rsp, err := http.Get("http://" + adminAddr + "/api/proxy/model")
		if err != nil {
			return err
		}
		rsp.Body.Close()
		return nil
	})
	ok := func(args ...string) string {
		t.Helper()
		stdout, stderr, code := runAdmin(t, append([]string{"--proxy=" + adminAddr}, args...)...)
		if code != 0 {
			t.Fatalf("codis-admin %q: exit %d\n%s\nproxy log:\n%s", args, code, stderr, p.output())
		}
		return stdout
	}

	// A wrong product auth gives a wrong xauth.
	_, stderr, code := runAdmin(t, "--proxy="+adminAddr, "--reset-stats")
	if code != 1 || !strings.Contains(stderr, "[error]: [Remote Error] ") {
		t.Fatalf("wrong auth: %d\n%s", code, stderr)
	}

	slots := filepath.Join(t.TempDir(), "slots.json")
	os.WriteFile(slots, []byte(fmt.Sprintf(`[{"id": 0, "backend_addr": %q, "backend_addr_group_id": 1}, {"id": 1023, "backend_addr": %q}]`, backend, backend)), 0o644)
	ok("--auth=pw", "--fillslots="+slots, "--locked")
	ok("-a", "pw", "--start")
	ok("--auth=pw", "--reset-stats")
	ok("--auth=pw", "--forcegc")
	ok("--auth=pw", "--log-level=debug")

	var got []*models.Slot
	if err := json.Unmarshal([]byte(ok("slots")), &got); err != nil || len(got) != 1024 {
		t.Fatalf("slots view: %v", err)
	}
	if got[0].BackendAddr != backend || !got[0].Locked || got[1023].BackendAddr != backend || got[5].BackendAddr != "" {
		t.Fatalf("slots: %s %s", models.Encode(got[0]), models.Encode(got[1023]))
	}
	var model models.Proxy
	if err := json.Unmarshal([]byte(ok("model")), &model); err != nil || model.ProductName != "e2e" || model.AdminAddr != adminAddr {
		t.Fatalf("model view: %v %+v", err, model)
	}
	var overview map[string]json.RawMessage
	if err := json.Unmarshal([]byte(ok()), &overview); err != nil || overview["stats"] == nil || overview["config"] == nil {
		t.Fatalf("overview: %v", err)
	}

	ok("--auth=pw", "--shutdown")
	select {
	case <-p.exited:
	case <-time.After(30 * time.Second):
		t.Fatal("proxy did not exit after --shutdown")
	}
}
