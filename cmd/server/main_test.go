package main

import (
	"bytes"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/gomodule/redigo/redis"

	"github.com/codisgo/codis/pkg/testenv"
)

// docConfigPath is the configuration reference kept true by this file.
var docConfigPath = filepath.Join("..", "..", "doc", "configuration.md")

func docDefaults(t *testing.T, heading string) map[string]string {
	return testenv.DocDefaults(t, docConfigPath, heading)
}

// buildServer builds codis-server into a temporary directory.
func buildServer(t *testing.T) string {
	t.Helper()
	bin := filepath.Join(t.TempDir(), "codis-server")
	if out, err := exec.Command("go", "build", "-o", bin, ".").CombinedOutput(); err != nil {
		t.Fatalf("build codis-server: %v\n%s", err, out)
	}
	return bin
}

// codisServer is a codis-server process started by a test.
type codisServer struct {
	dir  string // working directory
	logs *bytes.Buffer
	addr string
	cmd  *exec.Cmd
	done chan struct{} // closed when the process has been reaped
}

// startCodisServer starts the codis-server binary bin with args plus a
// free loopback port, in a fresh working directory; it is killed at
// cleanup.
func startCodisServer(t *testing.T, bin string, args ...string) *codisServer {
	t.Helper()
	port := testenv.FreePort(t)
	args = append(args, "--port", strconv.Itoa(port), "--bind", "127.0.0.1")
	cmd := exec.Command(bin, args...)
	cmd.Dir = t.TempDir()
	for _, kv := range os.Environ() {
		if !strings.HasPrefix(kv, "GOMAXPROCS=") { // io-threads decides (TestIOThreads)
			cmd.Env = append(cmd.Env, kv)
		}
	}
	var logs bytes.Buffer
	cmd.Stdout, cmd.Stderr = &logs, &logs
	cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	s := &codisServer{dir: cmd.Dir, logs: &logs, addr: net.JoinHostPort("127.0.0.1", strconv.Itoa(port)), cmd: cmd, done: make(chan struct{})}
	go func() { cmd.Wait(); close(s.done) }()
	t.Cleanup(func() {
		cmd.Process.Kill()
		<-s.done
	})
	deadline := time.Now().Add(20 * time.Second)
	for {
		c, err := redis.Dial("tcp", s.addr, redis.DialConnectTimeout(time.Second))
		if err == nil {
			_, err = c.Do("PING")
			c.Close()
			if err == nil {
				return s
			}
		}
		select {
		case <-s.done:
			t.Fatalf("codis-server %v exited: %s", args, logs.String())
		case <-time.After(50 * time.Millisecond):
		}
		if time.Now().After(deadline) {
			t.Fatalf("codis-server %v not serving: %v", args, err)
		}
	}
}

// TestDocServerConfiguration checks the codis-server table of
// doc/configuration.md: every documented
// directive is known to codis-server with the documented default (CONFIG
// GET on a server started without a file), and config/redis.conf loads.
func TestDocServerConfiguration(t *testing.T) {
	doc := docDefaults(t, "## codis-server (redis.conf)")
	bin := buildServer(t)
	conf, err := filepath.Abs(filepath.Join("..", "..", "config", "redis.conf"))
	if err != nil {
		t.Fatal(err)
	}
	startCodisServer(t, bin, conf) // fails unless config/redis.conf loads

	s := startCodisServer(t, bin)
	c, err := redis.Dial("tcp", s.addr, redis.DialReadTimeout(10*time.Second), redis.DialWriteTimeout(10*time.Second))
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	for name, def := range doc {
		if name == "port" || name == "bind" {
			continue // set by this test to listen on a free loopback port
		}
		want := def
		if want == `""` {
			want = ""
		}
		reply, err := redis.Strings(c.Do("CONFIG", "GET", name))
		switch {
		case err != nil:
			t.Errorf("CONFIG GET %s: %v", name, err)
		case len(reply) != 2 || reply[0] != name:
			t.Errorf("%s is documented in %s but codis-server does not know it (CONFIG GET: %q)", name, docConfigPath, reply)
		case reply[1] != want:
			t.Errorf("%s: %s says the default is %q, codis-server has %q", name, docConfigPath, want, reply[1])
		}
	}
	if doc["port"] != "6379" || doc["bind"] != "* -::*" {
		t.Errorf("%s: port/bind defaults are %q/%q, Redis's are 6379 and \"* -::*\"", docConfigPath, doc["port"], doc["bind"])
	}
}

// SIGTERM saves the data set first when save rules are set, like
// redis-server, and the next start loads it; without save rules nothing
// is written.
func TestSignalSavesBeforeExit(t *testing.T) {
	bin := buildServer(t)
	s := startCodisServer(t, bin, "--save", "3600 1")
	c, err := redis.Dial("tcp", s.addr, redis.DialReadTimeout(10*time.Second))
	if err != nil {
		t.Fatal(err)
	}
	for i := 0; i < 100; i++ {
		if _, err := c.Do("SET", "k"+strconv.Itoa(i), i); err != nil {
			t.Fatal(err)
		}
	}
	c.Close()
	s.cmd.Process.Signal(syscall.SIGTERM)
	select {
	case <-s.done:
	case <-time.After(20 * time.Second):
		t.Fatal("codis-server did not exit on SIGTERM")
	}
	if _, err := os.Stat(filepath.Join(s.dir, "dump.rdb")); err != nil {
		t.Fatalf("no dump.rdb after SIGTERM: %v\n%s", err, s.logs.String())
	}
	s2 := startCodisServer(t, bin, "--dir", s.dir, "--save", "")
	c2, err := redis.Dial("tcp", s2.addr, redis.DialReadTimeout(10*time.Second))
	if err != nil {
		t.Fatal(err)
	}
	defer c2.Close()
	if n, err := redis.Int(c2.Do("DBSIZE")); err != nil || n != 100 {
		t.Fatalf("DBSIZE after restart = %d, %v; want 100", n, err)
	}
	if v, err := redis.String(c2.Do("GET", "k42")); err != nil || v != "42" {
		t.Fatalf("GET k42 = %q, %v", v, err)
	}
	// Without save rules SIGTERM writes nothing.
	os.Remove(filepath.Join(s.dir, "dump.rdb"))
	s2.cmd.Process.Signal(syscall.SIGTERM)
	<-s2.done
	if _, err := os.Stat(filepath.Join(s.dir, "dump.rdb")); err == nil {
		t.Errorf("dump.rdb written on SIGTERM without save rules")
	}
}

// io-threads sets how many processors run Go code (GOMAXPROCS): one by
// default, like redis-server without I/O threads; out-of-range values stop
// the start with Redis's message.
func TestIOThreads(t *testing.T) {
	bin := buildServer(t)
	procs := func(s *codisServer) string {
		c, err := redis.Dial("tcp", s.addr)
		if err != nil {
			t.Fatal(err)
		}
		defer c.Close()
		info, err := redis.String(c.Do("INFO", "server"))
		if err != nil {
			t.Fatal(err)
		}
		for _, l := range strings.Split(info, "\r\n") {
			if v, ok := strings.CutPrefix(l, "go_maxprocs:"); ok {
				return v
			}
		}
		t.Fatalf("no go_maxprocs in INFO server: %q", info)
		return ""
	}
	if got := procs(startCodisServer(t, bin)); got != "1" {
		t.Errorf("default: go_maxprocs:%s, want 1", got)
	}
	want := strconv.Itoa(min(2, runtime.NumCPU()))
	if got := procs(startCodisServer(t, bin, "--io-threads", "2")); got != want {
		t.Errorf("io-threads 2: go_maxprocs:%s, want %s", got, want)
	}
	out, err := exec.Command(bin, "--io-threads", "0", "--port", "0").CombinedOutput()
	if err == nil || !strings.Contains(string(out), "io-threads") || !strings.Contains(string(out), "between 1 and 128") {
		t.Errorf("io-threads 0: %v\n%s", err, out)
	}
}
