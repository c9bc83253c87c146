// Package e2e runs whole Codis clusters made of the real binaries
// (codis-server, codis-dashboard, codis-proxy, codis-admin, codis-ha) as
// separate processes, against the filesystem, ZooKeeper and etcd
// coordinators.
//
// This file holds the process management the scenario tests share: build
// the binaries once, start each process with its output in a log file,
// stop or crash it, and print the tail of every log when a test fails.
package e2e

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/codisgo/codis/pkg/admin"
	"github.com/codisgo/codis/pkg/testenv"
)

// Binaries are the paths of the built codis executables.
type Binaries struct {
	Server, Proxy, Dashboard, Admin, Ha string
}

// Build compiles the five commands of module github.com/codisgo/codis into
// dir with `go build` (with -race if race).
func Build(dir string, race bool) (*Binaries, error) {
	gobin, err := exec.LookPath("go")
	if err != nil {
		gobin = "/usr/local/go/bin/go"
	}
	b := &Binaries{
		Server:    filepath.Join(dir, "codis-server"),
		Proxy:     filepath.Join(dir, "codis-proxy"),
		Dashboard: filepath.Join(dir, "codis-dashboard"),
		Admin:     filepath.Join(dir, "codis-admin"),
		Ha:        filepath.Join(dir, "codis-ha"),
	}
	for name, out := range map[string]string{"server": b.Server, "proxy": b.Proxy, "dashboard": b.Dashboard, "admin": b.Admin, "ha": b.Ha} {
		args := []string{"build", "-o", out}
		if race {
			args = append(args, "-race")
		}
		cmd := exec.Command(gobin, append(args, "github.com/codisgo/codis/cmd/"+name)...)
		if msg, err := cmd.CombinedOutput(); err != nil {
			return nil, fmt.Errorf("go build ./cmd/%s: %w\n%s", name, err, msg)
		}
	}
	return b, nil
}

// Process is one child process whose combined output goes to a log file.
type Process struct {
	Name string
	Log  string // path of the log file

	cmd    *exec.Cmd
	exited chan struct{}
	once   sync.Once
}

// StartProcess starts bin with args, its output appended to logPath. The
// process dies with the test binary (Pdeathsig) and is stopped at the
// cleanup of owner.
func StartProcess(owner testing.TB, name, logPath, bin string, args ...string) (*Process, error) {
	logf, err := os.OpenFile(logPath, os.O_WRONLY|os.O_CREATE|os.O_APPEND, 0o644)
	if err != nil {
		return nil, err
	}
	defer logf.Close() // the child has its own descriptor
	fmt.Fprintf(logf, "=== %s %s\n", bin, strings.Join(args, " "))
	p := &Process{Name: name, Log: logPath, cmd: exec.Command(bin, args...), exited: make(chan struct{})}
	p.cmd.Stdout, p.cmd.Stderr = logf, logf
	p.cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL}
	if err := p.cmd.Start(); err != nil {
		return nil, fmt.Errorf("start %s: %w", name, err)
	}
	go func() {
		_ = p.cmd.Wait()
		close(p.exited)
	}()
	owner.Cleanup(p.Stop)
	return p, nil
}

// Pid returns the process id.
func (p *Process) Pid() int { return p.cmd.Process.Pid }

// Exited is closed once the process has been reaped.
func (p *Process) Exited() <-chan struct{} { return p.exited }

// ExitCode returns the exit status of the process once it has exited (-1
// when a signal killed it); ok is false while it runs.
func (p *Process) ExitCode() (code int, ok bool) {
	select {
	case <-p.exited:
		return p.cmd.ProcessState.ExitCode(), true
	default:
		return 0, false
	}
}

// ReadLog returns the whole log of the process ("" if unreadable).
func (p *Process) ReadLog() string {
	b, _ := os.ReadFile(p.Log)
	return string(b)
}

// Running reports whether the process has not exited yet.
func (p *Process) Running() bool {
	select {
	case <-p.exited:
		return false
	default:
		return true
	}
}

// Stop sends SIGTERM, then SIGKILL after 10 s, and waits for the exit.
// It is idempotent (and a no-op after Kill).
func (p *Process) Stop() {
	p.once.Do(func() {
		if !p.Running() {
			return
		}
		_ = p.cmd.Process.Signal(syscall.SIGTERM)
		select {
		case <-p.exited:
		case <-time.After(10 * time.Second):
			_ = p.cmd.Process.Kill()
			<-p.exited
		}
	})
}

// Kill crashes the process with SIGKILL and waits for it.
func (p *Process) Kill() {
	p.once.Do(func() {
		if p.Running() {
			_ = p.cmd.Process.Kill()
		}
		<-p.exited
	})
}

// LogTail returns the last n lines of the process's log.
func (p *Process) LogTail(n int) string { return tail(p.Log, n) }

func tail(path string, n int) string {
	b, err := os.ReadFile(path)
	if err != nil {
		return err.Error()
	}
	lines := strings.Split(strings.TrimRight(string(b), "\n"), "\n")
	if len(lines) > n {
		lines = lines[len(lines)-n:]
	}
	return strings.Join(lines, "\n")
}

// Coordinator names a coordinator as the command-line flags take it.
type Coordinator struct {
	Name string // "filesystem", "zookeeper" or "etcd"
	Addr string // root directory, ZooKeeper address, or etcd endpoint
}

// Flag returns the command-line flag selecting the coordinator.
func (c Coordinator) Flag() string { return "--" + c.Name + "=" + c.Addr }

// Proxy is a running codis-proxy.
type Proxy struct {
	*Process
	AdminAddr string
	ProxyAddr string
}

// Cluster is a set of codis processes of one product sharing one
// coordinator. Its methods fail the current test (see SetT) on errors;
// the processes live until the cleanup of the test that made the cluster.
type Cluster struct {
	owner   testing.TB // cleanups
	t       testing.TB // failures
	Bin     *Binaries
	Dir     string
	Product string
	Coord   Coordinator

	DashboardAddr string
	Dashboard     *Process

	mu    sync.Mutex
	procs []*Process // every process ever started, for the logs
	seq   int
}

// NewCluster returns an empty cluster; nothing is started. When the test
// fails, the tail of every process's log is printed at cleanup.
func NewCluster(t testing.TB, bin *Binaries, coord Coordinator) *Cluster {
	c := &Cluster{
		owner:         t,
		t:             t,
		Bin:           bin,
		Dir:           t.TempDir(),
		Product:       "e2e",
		Coord:         coord,
		DashboardAddr: testenv.ClosedPort(t),
	}
	t.Cleanup(func() {
		c.checkRaces(t)
		if t.Failed() {
			c.DumpLogs(t, 40)
		}
	})
	return c
}

// checkRaces fails t if a process built with -race reported a data race.
// It runs after the processes were stopped (cleanups run last-in
// first-out, and the processes were started after the cluster was made).
func (c *Cluster) checkRaces(t testing.TB) {
	c.mu.Lock()
	procs := append([]*Process(nil), c.procs...)
	c.mu.Unlock()
	for _, p := range procs {
		b, err := os.ReadFile(p.Log)
		if err != nil {
			continue
		}
		if i := bytes.Index(b, []byte("WARNING: DATA RACE")); i >= 0 {
			t.Errorf("%s reported a data race:\n%.6000s", p.Name, b[i:])
		}
	}
}

// SetT makes t the test whose failures the cluster's methods report (a
// subtest of the cluster's owner, for instance).
func (c *Cluster) SetT(t testing.TB) { c.t = t }

// DumpLogs logs the last n lines of every process's log to t.
func (c *Cluster) DumpLogs(t testing.TB, n int) {
	c.mu.Lock()
	procs := append([]*Process(nil), c.procs...)
	c.mu.Unlock()
	for _, p := range procs {
		t.Logf("---- %s (pid %d, running %v), %s:\n%s", p.Name, p.Pid(), p.Running(), p.Log, p.LogTail(n))
	}
}

func (c *Cluster) start(name, bin string, args ...string) *Process {
	c.mu.Lock()
	c.seq++
	logPath := filepath.Join(c.Dir, fmt.Sprintf("%02d-%s.log", c.seq, strings.ReplaceAll(name, ":", "_")))
	c.mu.Unlock()
	p, err := StartProcess(c.owner, name, logPath, bin, args...)
	if err != nil {
		c.t.Fatalf("e2e: %v", err)
	}
	c.mu.Lock()
	c.procs = append(c.procs, p)
	c.mu.Unlock()
	return p
}

// waitFor polls f every 20 ms until it returns nil, p exits, or timeout.
func (c *Cluster) waitFor(p *Process, timeout time.Duration, what string, f func() error) {
	c.t.Helper()
	deadline := time.Now().Add(timeout)
	for {
		err := f()
		if err == nil {
			return
		}
		if p != nil && !p.Running() {
			c.t.Fatalf("%s: %s exited:\n%s", what, p.Name, p.LogTail(30))
		}
		if time.Now().After(deadline) {
			c.t.Fatalf("%s: not done after %v: %v", what, timeout, err)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// StartServer starts a codis-server with a config file (so CONFIG REWRITE
// works) and returns it once it answers PING.
func (c *Cluster) StartServer() (addr string, p *Process) {
	c.t.Helper()
	port := testenv.FreePort(c.t)
	addr = "127.0.0.1:" + strconv.Itoa(port)
	dir := filepath.Join(c.Dir, "server-"+strconv.Itoa(port))
	if err := os.MkdirAll(dir, 0o755); err != nil {
		c.t.Fatal(err)
	}
	conf := filepath.Join(dir, "redis.conf")
	text := fmt.Sprintf("port %d\nbind 127.0.0.1\ndir %s\nsave \"\"\nappendonly no\n", port, dir)
	if err := os.WriteFile(conf, []byte(text), 0o644); err != nil {
		c.t.Fatal(err)
	}
	p = c.start("codis-server "+addr, c.Bin.Server, conf)
	c.waitFor(p, 30*time.Second, "codis-server "+addr, func() error { return Ping(addr) })
	return addr, p
}

// StartDashboard starts codis-dashboard (LaunchDashboard) and waits until
// it is online (holds the lock and serves its stats).
func (c *Cluster) StartDashboard(removeLock bool, onlineTimeout time.Duration) *Process {
	c.t.Helper()
	p := c.LaunchDashboard(removeLock)
	c.waitFor(p, onlineTimeout, "dashboard online", func() error {
		_, err := c.Overview()
		return err
	})
	return p
}

// LaunchDashboard starts codis-dashboard on DashboardAddr with
// migration_method sync and makes it the cluster's Dashboard; it does not
// wait for anything.
func (c *Cluster) LaunchDashboard(removeLock bool) *Process {
	c.t.Helper()
	conf := filepath.Join(c.Dir, "dashboard.toml")
	text := fmt.Sprintf("admin_addr = %q\nproduct_name = %q\nmigration_method = \"sync\"\nmigration_timeout = \"30s\"\n", c.DashboardAddr, c.Product)
	if err := os.WriteFile(conf, []byte(text), 0o644); err != nil {
		c.t.Fatal(err)
	}
	args := []string{"--config=" + conf, c.Coord.Flag(), "--log-level=info"}
	if removeLock {
		args = append(args, "--remove-lock")
	}
	p := c.start("codis-dashboard", c.Bin.Dashboard, args...)
	c.Dashboard = p
	return p
}

// Overview fetches GET /topom from the dashboard; it is an error unless
// the dashboard is online (stats present and not closed).
func (c *Cluster) Overview() (*admin.DashboardOverview, error) {
	client := http.Client{Timeout: 5 * time.Second}
	rsp, err := client.Get("http://" + c.DashboardAddr + "/topom")
	if err != nil {
		return nil, err
	}
	defer rsp.Body.Close()
	body, err := io.ReadAll(rsp.Body)
	if err != nil {
		return nil, err
	}
	if rsp.StatusCode != http.StatusOK {
		return nil, fmt.Errorf("GET /topom: status %d: %s", rsp.StatusCode, body)
	}
	var o admin.DashboardOverview
	if err := json.Unmarshal(body, &o); err != nil {
		return nil, fmt.Errorf("GET /topom: %w", err)
	}
	if o.Stats == nil || o.Stats.Closed || len(o.Stats.Slots) != 1024 {
		return nil, errors.New("dashboard not online")
	}
	return &o, nil
}

// MustOverview is Overview failing the test on error.
func (c *Cluster) MustOverview() *admin.DashboardOverview {
	c.t.Helper()
	o, err := c.Overview()
	if err != nil {
		c.t.Fatal(err)
	}
	return o
}

// StartProxy starts codis-proxy; with register it is started with
// --dashboard (it brings itself online), otherwise it waits to be added.
// It returns once the admin API answers.
func (c *Cluster) StartProxy(register bool) *Proxy {
	c.t.Helper()
	return c.StartProxyAt(testenv.ClosedPort(c.t), testenv.ClosedPort(c.t), register)
}

// StartProxyAt is StartProxy on the given admin and proxy addresses, for
// instance those of a proxy that died (a restart: its clients reconnect
// to the same address).
func (c *Cluster) StartProxyAt(adminAddr, proxyAddr string, register bool) *Proxy {
	c.t.Helper()
	px := &Proxy{AdminAddr: adminAddr, ProxyAddr: proxyAddr}
	conf := filepath.Join(c.Dir, "proxy-"+strings.ReplaceAll(px.ProxyAddr, ":", "_")+".toml")
	text := fmt.Sprintf("product_name = %q\nadmin_addr = %q\nproxy_addr = %q\nproto_type = \"tcp4\"\nproxy_heap_placeholder = \"0\"\nproxy_max_offheap_size = \"64mb\"\n",
		c.Product, px.AdminAddr, px.ProxyAddr)
	if err := os.WriteFile(conf, []byte(text), 0o644); err != nil {
		c.t.Fatal(err)
	}
	// INFO would log every API call of the dashboard.
	args := []string{"--config=" + conf, "--ncpu=2", "--log-level=warn"}
	if register {
		args = append(args, "--dashboard="+c.DashboardAddr)
	}
	px.Process = c.start("codis-proxy "+px.ProxyAddr, c.Bin.Proxy, args...)
	c.waitFor(px.Process, 30*time.Second, "proxy admin "+px.AdminAddr, func() error {
		client := http.Client{Timeout: 2 * time.Second}
		rsp, err := client.Get("http://" + px.AdminAddr + "/api/proxy/model")
		if err != nil {
			return err
		}
		rsp.Body.Close()
		return nil
	})
	return px
}

// StartHa starts codis-ha against the cluster's dashboard with the extra
// args (--interval, --no-maintains, ...); it waits for nothing. Its log
// lines go to the process log (see ReadLog).
func (c *Cluster) StartHa(args ...string) *Process {
	c.t.Helper()
	return c.start("codis-ha", c.Bin.Ha, append([]string{"--dashboard=" + c.DashboardAddr}, args...)...)
}

// AdminTimeout bounds one codis-admin run (--wait included).
const AdminTimeout = 3 * time.Minute

// Admin runs codis-admin with args and returns its output and exit code.
func (c *Cluster) Admin(args ...string) (stdout, stderr string, code int) {
	c.t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), AdminTimeout)
	defer cancel()
	cmd := exec.CommandContext(ctx, c.Bin.Admin, args...)
	var o, e bytes.Buffer
	cmd.Stdout, cmd.Stderr = &o, &e
	err := cmd.Run()
	if ctx.Err() != nil {
		c.t.Fatalf("codis-admin %q: no exit after %v\nstdout: %s\nstderr: %s", args, AdminTimeout, o.String(), e.String())
	}
	var x *exec.ExitError
	if errors.As(err, &x) {
		code = x.ExitCode()
	} else if err != nil {
		c.t.Fatalf("codis-admin: %v", err)
	}
	return o.String(), e.String(), code
}

// MustAdmin runs codis-admin --dashboard=DashboardAddr args... and fails
// the test unless it exits 0; it returns stdout.
func (c *Cluster) MustAdmin(args ...string) string {
	c.t.Helper()
	stdout, stderr, code := c.Admin(append([]string{"--dashboard=" + c.DashboardAddr}, args...)...)
	if code != 0 {
		c.t.Fatalf("codis-admin %q: exit %d\nstdout: %s\nstderr: %s", args, code, stdout, stderr)
	}
	return stdout
}

// Ping succeeds once a Redis-protocol server at addr answers PING.
func Ping(addr string) error {
	conn, err := net.DialTimeout("tcp", addr, time.Second)
	if err != nil {
		return err
	}
	defer conn.Close()
	_ = conn.SetDeadline(time.Now().Add(2 * time.Second))
	if _, err := conn.Write([]byte("PING\r\n")); err != nil {
		return err
	}
	buf := make([]byte, 7)
	if _, err := io.ReadFull(conn, buf); err != nil {
		return err
	}
	if string(buf) != "+PONG\r\n" {
		return fmt.Errorf("PING replied %q", buf)
	}
	return nil
}
