package server

import (
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"
)

const redisSentinelPath = "/usr/bin/redis-sentinel"

// startSentinel starts Debian's redis-sentinel on a free loopback port with
// extra lines of configuration, or skips (fails under CI=1) if it is not
// installed; it returns the sentinel's address and is killed at cleanup.
func startSentinel(t *testing.T, extra string) string {
	t.Helper()
	if _, err := os.Stat(redisSentinelPath); err != nil {
		if os.Getenv("CI") != "" {
			t.Fatalf("redis-sentinel required under CI: %v", err)
		}
		t.Skipf("redis-sentinel not installed: %v", err)
	}
	dir := t.TempDir()
	sport := freePort(t)
	conf := filepath.Join(dir, "sentinel.conf")
	text := fmt.Sprintf("port %d\nbind 127.0.0.1\ndaemonize no\nlogfile \"\"\ndir %s\n%s", sport, dir, extra)
	if err := os.WriteFile(conf, []byte(text), 0o644); err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(redisSentinelPath, conf)
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		_ = cmd.Process.Kill()
		_ = cmd.Wait()
	})
	saddr := net.JoinHostPort("127.0.0.1", strconv.Itoa(sport))
	checkFor(t, 10*time.Second, func() error {
		c, err := dialOnce(saddr)
		if err != nil {
			return err
		}
		c.conn.Close()
		return nil
	})
	return saddr
}

// TestSentinelMonitorsUs runs Debian's redis-sentinel against our server:
// it must keep the master up (PING, INFO) and talk over pub/sub
// (__sentinel__:hello).
func TestSentinelMonitorsUs(t *testing.T) {
	if testing.Short() {
		t.Skip("slow")
	}
	s := startServer(t)
	_, port := hostPort(s)
	saddr := startSentinel(t, "")
	_, sport := hostPortOf(saddr)
	cli := exec.Command("/usr/bin/redis-cli", "-h", "127.0.0.1", "-p", sport,
		"SENTINEL", "MONITOR", "m1", "127.0.0.1", port, "1")
	if out, err := cli.CombinedOutput(); err != nil || strings.TrimSpace(string(out)) != "OK" {
		t.Fatalf("SENTINEL MONITOR: %v %s", err, out)
	}
	sc := dial(t, saddr)
	sc.expect("+OK", "SENTINEL", "SET", "m1", "down-after-milliseconds", "1000")
	field := func(name string) string {
		r := sc.do("SENTINEL", "MASTER", "m1")
		for i := 0; i+1 < len(r.Elems); i += 2 {
			if r.Elems[i].Str == name {
				return r.Elems[i+1].Str
			}
		}
		return ""
	}
	us := dial(t, s.Addr().String())
	checkFor(t, 10*time.Second, func() error {
		if n := us.do("PUBSUB", "NUMSUB", "__sentinel__:hello"); len(n.Elems) != 2 || n.Elems[1].Int != 1 {
			return fmt.Errorf("sentinel not subscribed: %s", n)
		}
		if v := field("info-refresh"); v == "" || v == "0" {
			return fmt.Errorf("no INFO yet")
		}
		return nil
	})
	// Well past down-after-milliseconds, the master must still be up.
	deadline := time.Now().Add(3 * time.Second)
	for time.Now().Before(deadline) {
		if f := field("flags"); f != "master" {
			t.Fatalf("flags = %q, want master", f)
		}
		time.Sleep(200 * time.Millisecond)
	}
	if f := field("role-reported"); f != "master" {
		t.Errorf("role-reported = %q", f)
	}
	// The sentinel publishes its hello messages through us.
	sub := dial(t, s.Addr().String())
	sub.expect(`["subscribe" "__sentinel__:hello" 1]`, "SUBSCRIBE", "__sentinel__:hello")
	msg := sub.read()
	if len(msg.Elems) != 3 || !strings.Contains(msg.Elems[2].Str, ",m1,127.0.0.1,"+port+",") {
		t.Errorf("hello message %s", msg)
	}
}
