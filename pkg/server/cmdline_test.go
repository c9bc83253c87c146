package server

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"
)

var (
	buildOnce sync.Once
	buildBin  string
	buildErr  error
)

// serverBinary builds cmd/server once per test run.
func serverBinary(t *testing.T) string {
	t.Helper()
	buildOnce.Do(func() {
		dir, err := os.MkdirTemp("", "codis-server-test")
		if err != nil {
			buildErr = err
			return
		}
		buildBin = filepath.Join(dir, "codis-server")
		out, err := exec.Command("go", "build", "-o", buildBin, "../../cmd/server").CombinedOutput()
		if err != nil {
			buildErr = fmt.Errorf("go build: %v\n%s", err, out)
		}
	})
	if buildErr != nil {
		t.Fatal(buildErr)
	}
	return buildBin
}

func runBinary(t *testing.T, args ...string) (string, int) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	cmd := exec.CommandContext(ctx, serverBinary(t), args...)
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	err := cmd.Run()
	code := 0
	var ee *exec.ExitError
	if errors.As(err, &ee) {
		code = ee.ExitCode()
	} else if err != nil {
		t.Fatal(err)
	}
	return out.String(), code
}

func TestCommandLineErrors(t *testing.T) {
	dir := t.TempDir()
	conf := filepath.Join(dir, "bad.conf")
	if err := os.WriteFile(conf, []byte("# comment\nport 7000\nfoo bar\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	out, code := runBinary(t, conf)
	if code == 0 || !strings.Contains(out, "*** FATAL CONFIG FILE ERROR (Redis 7.0.0) ***") ||
		!strings.Contains(out, "at line 3") || !strings.Contains(out, ">>> 'foo bar'") ||
		!strings.Contains(out, "Bad directive or wrong number of arguments") {
		t.Errorf("bad directive: code %d, output:\n%s", code, out)
	}
	out, code = runBinary(t, "--port", "abc")
	if code == 0 || !strings.Contains(out, ">>> 'port abc'") || !strings.Contains(out, "integer") {
		t.Errorf("bad value: code %d, output:\n%s", code, out)
	}
	out, code = runBinary(t, "--maxmemory-policy", "foo")
	if code == 0 || !strings.Contains(out, "maxmemory-policy foo") {
		t.Errorf("bad enum: code %d, output:\n%s", code, out)
	}
	out, code = runBinary(t, "--nosuchkey", "1")
	if code == 0 || !strings.Contains(out, ">>> 'nosuchkey 1'") {
		t.Errorf("unknown key: code %d, output:\n%s", code, out)
	}
	out, code = runBinary(t, filepath.Join(dir, "missing.conf"))
	if code == 0 || !strings.Contains(out, "can't open config file") {
		t.Errorf("missing file: code %d, output:\n%s", code, out)
	}
	out, code = runBinary(t, "--sentinel")
	if code == 0 || !strings.Contains(out, "not supported") {
		t.Errorf("--sentinel: code %d, output:\n%s", code, out)
	}
	out, code = runBinary(t, "--version")
	if code != 0 || !strings.HasPrefix(out, "Redis server v=7.0.0") {
		t.Errorf("--version: code %d, output:\n%s", code, out)
	}
	out, code = runBinary(t, "-h")
	if code != 0 || !strings.Contains(out, "Usage:") {
		t.Errorf("-h: code %d, output:\n%s", code, out)
	}
}

func TestCommandLineRun(t *testing.T) {
	dir := t.TempDir()
	port := freePort(t)
	conf := filepath.Join(dir, "redis.conf")
	text := fmt.Sprintf("# test\nbind 127.0.0.1\nport %d\nsave 900 1\nsave 300 10\ntcp-backlog 511\n", port)
	if err := os.WriteFile(conf, []byte(text), 0o644); err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(serverBinary(t), conf, "--maxmemory", "100mb", "--requirepass", "a b", "--loglevel", "warning")
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() { done <- cmd.Wait() }()
	t.Cleanup(func() {
		_ = cmd.Process.Kill()
		<-done
	})
	addr := fmt.Sprintf("127.0.0.1:%d", port)
	var c *testConn
	checkFor(t, 10*time.Second, func() error {
		cn, err := dialOnce(addr)
		if err != nil {
			return err
		}
		c = &testConn{t: t, conn: cn.conn, rr: cn.rr}
		t.Cleanup(func() { cn.conn.Close() })
		return nil
	})
	c.expect("+OK", "AUTH", "a b")
	c.expect(`["maxmemory" "104857600"]`, "CONFIG", "GET", "maxmemory")
	c.expect(`["save" "900 1 300 10"]`, "CONFIG", "GET", "save")
	c.expect(`["tcp-backlog" "511"]`, "CONFIG", "GET", "tcp-backlog")
	c.expect("+OK", "CONFIG", "SET", "maxmemory-policy", "allkeys-lru")
	c.expect("+OK", "REPLICAOF", "127.0.0.1", "1") // the dashboard's sync action rewrites after this
	c.expect("+OK", "CONFIG", "REWRITE")
	b, err := os.ReadFile(conf)
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"# test", "maxmemory-policy allkeys-lru", "requirepass \"a b\"", "save 900 1", "tcp-backlog 511", "\nreplicaof 127.0.0.1 1\n"} {
		if !strings.Contains(string(b), want) {
			t.Errorf("rewritten config lacks %q:\n%s", want, b)
		}
	}
	// The rewritten file loads again.
	if cfg, err := ParseArgs([]string{conf}); err != nil {
		t.Errorf("rewritten config does not load: %v", err)
	} else if cfg.ReplicaOfHost != "127.0.0.1" || cfg.ReplicaOfPort != 1 {
		t.Errorf("rewritten replicaof = %q %d", cfg.ReplicaOfHost, cfg.ReplicaOfPort)
	}
	c.send("SHUTDOWN", "NOSAVE")
	select {
	case err := <-done:
		done <- err
		if err != nil {
			t.Errorf("exit: %v\n%s", err, out.String())
		}
	case <-time.After(10 * time.Second):
		t.Fatal("server did not exit after SHUTDOWN")
	}
}

func TestParseArgs(t *testing.T) {
	cfg, err := ParseArgs([]string{"--port", "7001", "--save", "", "--bind", "127.0.0.1", "::1", "--slaveof", "10.0.0.1", "6379"})
	if err != nil {
		t.Fatal(err)
	}
	if cfg.Port != 7001 || cfg.Save != "" || strings.Join(cfg.Bind, ",") != "127.0.0.1,::1" ||
		cfg.ReplicaOfHost != "10.0.0.1" || cfg.ReplicaOfPort != 6379 {
		t.Errorf("cfg = %+v", cfg)
	}
	for _, bad := range [][]string{{"--port", "70000"}, {"--appendonly", "maybe"}, {"--maxmemory", "lots"}, {"--databases", "0"}} {
		if _, err := ParseArgs(bad); err == nil {
			t.Errorf("%q accepted", bad)
		} else {
			var ce *ConfigError
			if !errors.As(err, &ce) || ce.Line != 1 {
				t.Errorf("%q: %v", bad, err)
			}
		}
	}
	if _, err := ParseArgs([]string{"--maxmemory", "1gb", "--maxmemory-policy", "VOLATILE-TTL"}); err != nil {
		t.Error(err)
	}
}
