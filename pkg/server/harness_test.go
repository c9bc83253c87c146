package server

import (
	"fmt"
	"net"
	"os"
	"os/exec"
	"strconv"
	"testing"
	"time"

	"github.com/codisgo/codis/pkg/resp"
)

// Test harness: our server runs in process on a random port; Debian's
// redis-server 7.0 runs as a child process. The differential tests send the
// same commands to both and compare the replies.

const redisServerPath = "/usr/bin/redis-server"

// startServer starts an in-process server on 127.0.0.1 with a random port.
func startServer(t testing.TB, opts ...string) *Server {
	t.Helper()
	cfg := NewConfig()
	cfg.Port = 0
	cfg.Bind = []string{"127.0.0.1"}
	cfg.Save = ""
	cfg.Dir = t.TempDir() // SAVE, BGSAVE, FLUSHALL and SHUTDOWN write there
	if len(opts) > 0 {
		text := ""
		for i := 0; i+1 < len(opts); i += 2 {
			text += opts[i] + " " + quoteArg(opts[i+1]) + "\n"
		}
		if err := cfg.LoadString(text); err != nil {
			t.Fatal(err)
		}
		cfg.Port = 0
	}
	s := New(cfg, nil)
	if err := s.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	return s
}

func freePort(t testing.TB) int {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	return ln.Addr().(*net.TCPAddr).Port
}

// redisProc is a running redis-server.
type redisProc struct {
	cmd  *exec.Cmd
	addr string
}

// startRedis starts Debian's redis-server, or skips (fails under CI=1) if
// it is not installed.
func startRedis(t testing.TB) *redisProc { return startRedisArgs(t) }

// startRedisArgs starts Debian's redis-server on a free loopback port with
// persistence off, in a temporary dir, plus args (later arguments override
// earlier ones, so "--dir", "--appendonly" and the like may be given); it
// is killed at cleanup.
func startRedisArgs(t testing.TB, args ...string) *redisProc {
	t.Helper()
	if _, err := os.Stat(redisServerPath); err != nil {
		if os.Getenv("CI") != "" {
			t.Fatalf("redis-server required under CI: %v", err)
		}
		t.Skipf("redis-server not installed: %v", err)
	}
	port := freePort(t)
	all := append([]string{"--port", strconv.Itoa(port), "--bind", "127.0.0.1",
		"--save", "", "--appendonly", "no", "--dir", t.TempDir(), "--logfile", "",
		"--repl-diskless-sync-delay", "0"}, args...)
	cmd := exec.Command(redisServerPath, all...)
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	p := &redisProc{cmd: cmd, addr: net.JoinHostPort("127.0.0.1", strconv.Itoa(port))}
	t.Cleanup(func() {
		_ = cmd.Process.Kill()
		_ = cmd.Wait()
	})
	checkFor(t, 20*time.Second, func() error {
		c, err := dialOnce(p.addr)
		if err != nil {
			return err
		}
		defer c.conn.Close()
		if _, err := c.conn.Write(resp.AppendCommandStrings(nil, "PING")); err != nil {
			return err
		}
		_ = c.conn.SetReadDeadline(time.Now().Add(2 * time.Second))
		r, err := c.rr.ReadReply()
		if err != nil {
			return err
		}
		if r.String() != "+PONG" {
			return fmt.Errorf("PING: %s", r)
		}
		return nil
	})
	return p
}

// testConn is a minimal client.
type testConn struct {
	t    testing.TB
	conn net.Conn
	rr   *resp.ReplyReader
}

func dial(t testing.TB, addr string) *testConn {
	t.Helper()
	c, err := net.DialTimeout("tcp", addr, 5*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	return &testConn{t: t, conn: c, rr: resp.NewReplyReader(c)}
}

func (c *testConn) send(args ...string) {
	c.t.Helper()
	if _, err := c.conn.Write(resp.AppendCommandStrings(nil, args...)); err != nil {
		c.t.Fatalf("write %q: %v", args, err)
	}
}

func (c *testConn) read() resp.Reply {
	c.t.Helper()
	_ = c.conn.SetReadDeadline(time.Now().Add(10 * time.Second))
	r, err := c.rr.ReadReply()
	if err != nil {
		c.t.Fatalf("read reply: %v", err)
	}
	return r
}

func (c *testConn) do(args ...string) resp.Reply {
	c.t.Helper()
	c.send(args...)
	return c.read()
}

// expect runs a command and checks the rendered reply.
func (c *testConn) expect(want string, args ...string) {
	c.t.Helper()
	if got := c.do(args...).String(); got != want {
		c.t.Errorf("%q: got %s, want %s", args, got, want)
	}
}

// checkFor polls cond until it holds or the timeout passes.
func checkFor(t testing.TB, timeout time.Duration, cond func() error) {
	t.Helper()
	deadline := time.Now().Add(timeout)
	for {
		err := cond()
		if err == nil {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("condition not met after %v: %v", timeout, err)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

type rawConn struct {
	conn net.Conn
	rr   *resp.ReplyReader
}

func dialOnce(addr string) (*rawConn, error) {
	c, err := net.DialTimeout("tcp", addr, time.Second)
	if err != nil {
		return nil, err
	}
	return &rawConn{conn: c, rr: resp.NewReplyReader(c)}, nil
}
