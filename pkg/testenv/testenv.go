// Package testenv starts throwaway external servers for tests: ZooKeeper,
// etcd, redis-server and redis-sentinel, each on a free 127.0.0.1 port with its data in a
// test temp dir, waiting until it really serves and stopping it through
// t.Cleanup.
//
// ZooKeeper and etcd are started by the extern/ scripts ("run" mode, which
// writes the config and execs the server in the foreground), so the
// scripts stay the one description of how those servers are run; this
// package supervises the process itself so a dying test binary takes its
// servers with it (Pdeathsig). redis-server and redis-sentinel are started
// directly.
//
// A missing component skips the test, unless the environment variable CI
// is non-empty, in which case the test fails.
package testenv

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"
)

// StartTimeout bounds the wait for a server to serve.
const StartTimeout = 90 * time.Second

// stopTimeout is how long Stop waits after SIGTERM before SIGKILL.
const stopTimeout = 10 * time.Second

// startAttempts is how often a start is retried with new ports when the
// server dies during startup (another process may have taken the port).
const startAttempts = 3

// Server is a running external server.
type Server struct {
	Name string // "zookeeper", "etcd", "redis"
	Addr string // 127.0.0.1:port for clients
	Dir  string // data and log directory
	Log  string // the server's combined stdout/stderr

	sp     spec
	ports  []int
	cmd    *exec.Cmd
	exited chan struct{} // closed when the process has been reaped
	once   *sync.Once
}

// Restart starts a stopped (or killed) server again with the same ports
// and data directory and waits until it serves.
func (s *Server) Restart(t testing.TB) {
	t.Helper()
	select {
	case <-s.exited:
	default:
		t.Fatalf("testenv: restart %s: still running", s.Name)
	}
	n, err := launch(s.sp, s.Dir, s.ports)
	if err != nil {
		t.Fatalf("testenv: restart %s: %v", s.Name, err)
	}
	s.cmd, s.exited, s.once = n.cmd, n.exited, n.once
	if err := waitReady(s, s.sp.probe); err != nil {
		s.Stop()
		t.Fatalf("testenv: restart %s: %v; log tail:\n%s", s.Name, err, s.LogTail(20))
	}
}

// Pid returns the server's process id.
func (s *Server) Pid() int { return s.cmd.Process.Pid }

// Port returns the client port.
func (s *Server) Port() int {
	_, p, _ := net.SplitHostPort(s.Addr)
	n, _ := strconv.Atoi(p)
	return n
}

// Exited is closed once the server process has exited.
func (s *Server) Exited() <-chan struct{} { return s.exited }

// Stop terminates the server (SIGTERM, then SIGKILL after a grace period)
// and waits for it. It is idempotent and also runs at test cleanup.
func (s *Server) Stop() {
	s.once.Do(func() {
		s.signal(syscall.SIGTERM)
		select {
		case <-s.exited:
			return
		case <-time.After(stopTimeout):
		}
		s.signal(syscall.SIGKILL)
		<-s.exited
	})
}

// Kill stops the server with SIGKILL (a crash) and waits for it.
func (s *Server) Kill() {
	s.once.Do(func() {
		s.signal(syscall.SIGKILL)
		<-s.exited
	})
}

func (s *Server) signal(sig syscall.Signal) {
	select {
	case <-s.exited:
		return // reaped: the pid may already belong to someone else
	default:
	}
	// The server leads its own process group; signal the whole group.
	_ = syscall.Kill(-s.cmd.Process.Pid, sig)
}

// LogTail returns the last n lines of the server's log.
func (s *Server) LogTail(n int) string {
	b, err := os.ReadFile(s.Log)
	if err != nil {
		return err.Error()
	}
	lines := strings.Split(strings.TrimRight(string(b), "\n"), "\n")
	if len(lines) > n {
		lines = lines[len(lines)-n:]
	}
	return strings.Join(lines, "\n")
}

// Missing skips the test (or fails it when CI is set) with the reason.
func Missing(t testing.TB, format string, args ...any) {
	t.Helper()
	msg := fmt.Sprintf(format, args...)
	if os.Getenv("CI") != "" {
		t.Fatalf("required component missing (CI is set): %s", msg)
	}
	t.Skipf("component missing: %s (run extern/install.sh as root)", msg)
}

// Require skips (or fails, with CI set) unless every named executable is
// in PATH.
func Require(t testing.TB, executables ...string) {
	t.Helper()
	for _, e := range executables {
		if _, err := exec.LookPath(e); err != nil {
			Missing(t, "%s not found in PATH", e)
		}
	}
}

// ExternDir returns the repository's extern/ directory (the scripts that
// run external components). CODIS_EXTERN_DIR overrides it.
func ExternDir() string {
	if d := os.Getenv("CODIS_EXTERN_DIR"); d != "" {
		return d
	}
	_, file, _, _ := runtime.Caller(0)
	return filepath.Join(filepath.Dir(file), "..", "..", "extern")
}

// FreePort returns a TCP port on 127.0.0.1 that was free a moment ago.
func FreePort(t testing.TB) int {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatalf("testenv: find a free port: %v", err)
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port
}

// ClosedPort returns 127.0.0.1:port for a port nothing listens on (for
// "unreachable server" tests).
func ClosedPort(t testing.TB) string {
	return "127.0.0.1:" + strconv.Itoa(FreePort(t))
}

// spec describes how to launch and probe one kind of server.
type spec struct {
	name  string
	argv  func(dir string, ports []int) []string // full command line
	ports int                                    // ports needed; ports[0] is the client port
	probe func(addr string) error                // nil once the server serves
}

// start launches sp in a fresh subdirectory of a test temp dir and waits
// until it serves, retrying with new ports if it dies during startup.
func start(t testing.TB, sp spec) *Server {
	t.Helper()
	base := t.TempDir()
	var lastErr error
	for attempt := 1; attempt <= startAttempts; attempt++ {
		dir := filepath.Join(base, fmt.Sprintf("%s-%d", sp.name, attempt))
		if err := os.MkdirAll(dir, 0o755); err != nil {
			t.Fatalf("testenv: %v", err)
		}
		ports := make([]int, sp.ports)
		for i := range ports {
			ports[i] = FreePort(t)
		}
		s, err := launch(sp, dir, ports)
		if err != nil {
			t.Fatalf("testenv: start %s: %v", sp.name, err)
		}
		err = waitReady(s, sp.probe)
		if err == nil {
			t.Cleanup(func() {
				if t.Failed() {
					t.Logf("testenv: %s %s log tail:\n%s", s.Name, s.Addr, s.LogTail(20))
				}
				s.Stop()
			})
			return s
		}
		s.Stop()
		lastErr = fmt.Errorf("%w; log tail:\n%s", err, s.LogTail(20))
	}
	t.Fatalf("testenv: start %s: %v", sp.name, lastErr)
	return nil
}

func launch(sp spec, dir string, ports []int) (*Server, error) {
	argv := sp.argv(dir, ports)
	logPath := filepath.Join(dir, sp.name+".log")
	logf, err := os.OpenFile(logPath, os.O_WRONLY|os.O_CREATE|os.O_APPEND, 0o644)
	if err != nil {
		return nil, err
	}
	defer logf.Close() // the child has its own copy
	cmd := exec.Command(argv[0], argv[1:]...)
	cmd.Dir = dir
	cmd.Stdout, cmd.Stderr = logf, logf
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true, Pdeathsig: syscall.SIGKILL}
	if err := cmd.Start(); err != nil {
		return nil, err
	}
	s := &Server{
		Name:   sp.name,
		Addr:   "127.0.0.1:" + strconv.Itoa(ports[0]),
		Dir:    dir,
		Log:    logPath,
		sp:     sp,
		ports:  ports,
		cmd:    cmd,
		exited: make(chan struct{}),
		once:   new(sync.Once),
	}
	exited := s.exited
	go func() {
		_ = cmd.Wait()
		close(exited)
	}()
	return s, nil
}

func waitReady(s *Server, probe func(string) error) error {
	deadline := time.Now().Add(StartTimeout)
	for {
		err := probe(s.Addr)
		if err == nil {
			return nil
		}
		select {
		case <-s.exited:
			return fmt.Errorf("%s exited during startup (%v)", s.Name, s.cmd.ProcessState)
		case <-time.After(50 * time.Millisecond):
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("%s on %s not serving after %v: %w", s.Name, s.Addr, StartTimeout, err)
		}
	}
}

// exchange sends req on a new connection to addr and returns everything
// the server sends back before closing (or the first line if line).
func exchange(addr, req string, line bool) (string, error) {
	conn, err := net.DialTimeout("tcp", addr, time.Second)
	if err != nil {
		return "", err
	}
	defer conn.Close()
	_ = conn.SetDeadline(time.Now().Add(2 * time.Second))
	if _, err := io.WriteString(conn, req); err != nil {
		return "", err
	}
	if line {
		return bufio.NewReader(conn).ReadString('\n')
	}
	b, err := io.ReadAll(conn)
	return string(b), err
}

// ZooKeeperClasspath is the classpath the extern script uses by default.
const ZooKeeperClasspath = "/usr/share/java/zookeeper.jar"

// StartZooKeeper starts a standalone ZooKeeper (tickTime 500 ms, so
// session timeouts from 1 s to 120 s are accepted) and returns it; Addr is
// the client address.
func StartZooKeeper(t testing.TB) *Server {
	t.Helper()
	Require(t, "java", "bash")
	cp := os.Getenv("ZK_CLASSPATH")
	if cp == "" {
		cp = ZooKeeperClasspath
	}
	if _, err := os.Stat(strings.Split(cp, ":")[0]); err != nil {
		Missing(t, "ZooKeeper jar %s: %v", cp, err)
	}
	script := filepath.Join(ExternDir(), "zookeeper.sh")
	return start(t, spec{
		name:  "zookeeper",
		ports: 1,
		argv: func(dir string, ports []int) []string {
			return []string{"bash", script, "run", strconv.Itoa(ports[0]), dir}
		},
		probe: func(addr string) error {
			// "srvr" reports "not currently serving" until it serves.
			reply, err := exchange(addr, "srvr", false)
			if err != nil {
				return err
			}
			if !strings.HasPrefix(reply, "Zookeeper version:") {
				return fmt.Errorf("srvr replied %q", strings.TrimSpace(reply))
			}
			return nil
		},
	})
}

// StartEtcd starts a single-member etcd and returns it; Addr is the client
// address (use "http://"+Addr as endpoint).
func StartEtcd(t testing.TB) *Server {
	t.Helper()
	Require(t, "etcd", "bash")
	script := filepath.Join(ExternDir(), "etcd.sh")
	return start(t, spec{
		name:  "etcd",
		ports: 2,
		argv: func(dir string, ports []int) []string {
			return []string{"bash", script, "run", strconv.Itoa(ports[0]), strconv.Itoa(ports[1]), dir}
		},
		probe: func(addr string) error {
			client := http.Client{Timeout: 2 * time.Second}
			resp, err := client.Get("http://" + addr + "/health")
			if err != nil {
				return err
			}
			defer resp.Body.Close()
			body, err := io.ReadAll(resp.Body)
			if err != nil {
				return err
			}
			if !bytes.Contains(body, []byte(`"health":"true"`)) {
				return fmt.Errorf("/health replied %q", body)
			}
			return nil
		},
	})
}

// StartRedis starts redis-server without persistence; extra arguments
// (e.g. "--requirepass", "x") are appended and override the defaults.
func StartRedis(t testing.TB, extra ...string) *Server {
	t.Helper()
	Require(t, "redis-server")
	return start(t, spec{
		name:  "redis",
		ports: 1,
		argv: func(dir string, ports []int) []string {
			args := []string{"redis-server",
				"--port", strconv.Itoa(ports[0]),
				"--bind", "127.0.0.1",
				"--dir", dir,
				"--save", "",
				"--appendonly", "no",
				"--daemonize", "no",
				"--protected-mode", "no",
				"--logfile", "",
			}
			return append(args, extra...)
		},
		probe: redisPing,
	})
}

// redisPing succeeds once a redis-server or redis-sentinel answers PING.
func redisPing(addr string) error {
	reply, err := exchange(addr, "PING\r\n", true)
	if err != nil {
		return err
	}
	// With requirepass the server serves but answers NOAUTH.
	if strings.HasPrefix(reply, "+PONG") || strings.HasPrefix(reply, "-NOAUTH") {
		return nil
	}
	return errors.New("PING replied " + strings.TrimSpace(reply))
}

// StartSentinel starts redis-sentinel with an empty configuration (it
// monitors nothing until told to); extra lines are appended to its config
// file, which sentinel rewrites as it runs.
func StartSentinel(t testing.TB, extraConfig ...string) *Server {
	t.Helper()
	Require(t, "redis-sentinel")
	return start(t, spec{
		name:  "sentinel",
		ports: 1,
		argv: func(dir string, ports []int) []string {
			conf := filepath.Join(dir, "sentinel.conf")
			lines := append([]string{
				"port " + strconv.Itoa(ports[0]),
				"bind 127.0.0.1",
				"dir " + dir,
				"protected-mode no",
				"daemonize no",
			}, extraConfig...)
			// A write failure shows up as the sentinel failing to start.
			_ = os.WriteFile(conf, []byte(strings.Join(lines, "\n")+"\n"), 0o644)
			return []string{"redis-sentinel", conf}
		},
		probe: redisPing,
	})
}

// SyncBuffer collects output (a child process's, a logger's) that a test
// reads while it is still being written.
type SyncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *SyncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

// String returns what was written so far.
func (s *SyncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}
