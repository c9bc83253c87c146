package main

import (
	"bytes"
	"context"
	"io"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"
)

// syncBuffer is a bytes.Buffer safe for the concurrent writes of run's
// logger and the test's reads.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

func runArgs(t *testing.T, args ...string) (int, string, string) {
	t.Helper()
	var stdout, stderr syncBuffer
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	code := run(ctx, args, &stdout, &stderr, func(net.Addr) {
		t.Errorf("run %q started serving, want an error", args)
		cancel()
	})
	return code, stdout.String(), stderr.String()
}

// assets is the real UI, next to this file.
func assets(*testing.T) string { return "assets" }

func TestCommandLineErrors(t *testing.T) {
	dir := t.TempDir()
	badList := filepath.Join(dir, "bad.json")
	if err := os.WriteFile(badList, []byte("{not a list"), 0o644); err != nil {
		t.Fatal(err)
	}
	goodList := filepath.Join(dir, "good.json")
	if err := os.WriteFile(goodList, []byte(`[{"name": "demo", "dashboard": "127.0.0.1:18080"}]`), 0o644); err != nil {
		t.Fatal(err)
	}
	emptyAssets := t.TempDir()
	busy, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer busy.Close()

	for _, c := range []struct {
		name string
		args []string
		want string // in stderr
	}{
		{"no arguments", nil, "Usage:"},
		{"missing --listen", []string{"--filesystem=" + dir}, "parse arguments failed"},
		{"missing source", []string{"--listen=127.0.0.1:0"}, "parse arguments failed"},
		{"two sources", []string{"--filesystem=" + dir, "--dashboard-list=" + goodList, "--listen=127.0.0.1:0"}, "parse arguments failed"},
		{"unknown flag", []string{"--filesystem=" + dir, "--listen=127.0.0.1:0", "--bogus"}, "parse arguments failed"},
		{"bad dashboard list", []string{"--dashboard-list=" + badList, "--listen=127.0.0.1:0", "--assets-dir=" + assets(t)}, "invalid dashboard list"},
		{"missing dashboard list", []string{"-d", filepath.Join(dir, "nope.json"), "--listen=127.0.0.1:0", "--assets-dir=" + assets(t)}, "no such file"},
		{"no index.html", []string{"--dashboard-list=" + goodList, "--listen=127.0.0.1:0", "--assets-dir=" + emptyAssets}, "index.html"},
		{"bad --ncpu", []string{"--ncpu=zero", "--filesystem=" + dir, "--listen=127.0.0.1:0", "--assets-dir=" + assets(t)}, "invalid --ncpu"},
		{"bad --log-level", []string{"--log-level=LOUD", "--filesystem=" + dir, "--listen=127.0.0.1:0", "--assets-dir=" + assets(t)}, "invalid --log-level"},
		{"bad zookeeper auth", []string{"--zookeeper=127.0.0.1:1", "--zookeeper-auth=nocolon", "--listen=127.0.0.1:0", "--assets-dir=" + assets(t)}, "invalid auth"},
		{"listen busy", []string{"--filesystem=" + dir, "--listen=" + busy.Addr().String(), "--assets-dir=" + assets(t)}, "listen failed"},
		{"listen garbage", []string{"--filesystem=" + dir, "--listen=not-an-address", "--assets-dir=" + assets(t)}, "listen failed"},
	} {
		t.Run(c.name, func(t *testing.T) {
			code, _, stderr := runArgs(t, c.args...)
			if code != 1 || !strings.Contains(stderr, c.want) {
				t.Errorf("run %q = %d, stderr:\n%s\nwant exit 1 and %q", c.args, code, stderr, c.want)
			}
		})
	}
}

func TestVersionAndHelp(t *testing.T) {
	code, stdout, _ := runArgs(t, "--version")
	if code != 0 || !strings.HasPrefix(stdout, "version: "+version+"\ncompile: ") {
		t.Errorf("--version = %d %q", code, stdout)
	}
	code, stdout, _ = runArgs(t, "--help")
	if code != 0 || !strings.Contains(stdout, "codis-fe [--ncpu=N]") || !strings.Contains(stdout, "--dashboard-list=FILE") {
		t.Errorf("--help = %d %q", code, stdout)
	}
}

func TestDefaultAssetsDir(t *testing.T) {
	exe, err := os.Executable()
	if err != nil {
		t.Skip(err)
	}
	exe, _ = filepath.EvalSymlinks(exe)
	if got, want := defaultAssetsDir(), filepath.Join(filepath.Dir(exe), "assets"); got != want {
		t.Errorf("defaultAssetsDir = %q, want %q", got, want)
	}
}

// TestServe runs codis-fe on the filesystem coordinator until its context
// is cancelled: it serves the UI and /list and writes and removes the
// pidfile.
func TestServe(t *testing.T) {
	defer runtime.GOMAXPROCS(runtime.GOMAXPROCS(0)) // --ncpu changes it
	dir := t.TempDir()
	pidfile := filepath.Join(dir, "fe.pid")
	logfile := filepath.Join(dir, "fe.log")
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	addrs := make(chan net.Addr, 1)
	done := make(chan int, 1)
	var stdout, stderr syncBuffer
	go func() {
		done <- run(ctx, []string{"--filesystem=" + filepath.Join(dir, "rootfs"), "--listen=127.0.0.1:0",
			"--assets-dir=" + assets(t), "--pidfile=" + pidfile, "--log=" + logfile, "--log-level=debug", "--ncpu=2"},
			&stdout, &stderr, func(a net.Addr) { addrs <- a })
	}()
	var base string
	select {
	case a := <-addrs:
		base = "http://" + a.String()
	case code := <-done:
		t.Fatalf("run exited with %d: %s", code, stderr.String())
	case <-time.After(10 * time.Second):
		t.Fatal("codis-fe did not start")
	}

	get := func(path string) (int, string) {
		resp, err := http.Get(base + path)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		return resp.StatusCode, string(b)
	}
	if code, body := get("/"); code != 200 || !strings.Contains(body, "<title>Codis FE</title>") {
		t.Errorf("GET / = %d %.100q", code, body)
	}
	if code, body := get("/list"); code != 200 || body != "[]" {
		t.Errorf("GET /list = %d %q", code, body)
	}
	if code, _ := get("/topom?forward=demo"); code != 403 {
		t.Errorf("forward to an unknown product = %d", code)
	}
	b, err := os.ReadFile(pidfile)
	if err != nil || string(b) != strconv.Itoa(os.Getpid()) {
		t.Errorf("pidfile %q, %v", b, err)
	}

	cancel()
	select {
	case code := <-done:
		if code != 0 {
			t.Errorf("run exited with %d: %s", code, stderr.String())
		}
	case <-time.After(10 * time.Second):
		t.Fatal("codis-fe did not stop")
	}
	if _, err := os.Stat(pidfile); !os.IsNotExist(err) {
		t.Errorf("pidfile left behind: %v", err)
	}
	logs, _ := filepath.Glob(logfile + ".*")
	if len(logs) == 0 {
		t.Errorf("no daily log file %s.*", logfile)
	}
}
