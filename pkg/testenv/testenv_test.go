package testenv

import (
	"net"
	"strings"
	"syscall"
	"testing"
	"time"
)

func checkServer(t *testing.T, s *Server) {
	t.Helper()
	conn, err := net.DialTimeout("tcp", s.Addr, time.Second)
	if err != nil {
		t.Fatalf("%s not reachable at %s: %v", s.Name, s.Addr, err)
	}
	conn.Close()
	pid := s.Pid()
	s.Stop()
	select {
	case <-s.Exited():
	default:
		t.Fatalf("%s: Stop returned before the process exited", s.Name)
	}
	if err := syscall.Kill(pid, 0); err == nil {
		t.Fatalf("%s: pid %d still exists after Stop", s.Name, pid)
	}
	if _, err := net.DialTimeout("tcp", s.Addr, time.Second); err == nil {
		t.Fatalf("%s: %s still accepts connections after Stop", s.Name, s.Addr)
	}
	s.Stop() // idempotent
}

func TestZooKeeper(t *testing.T) {
	t.Parallel()
	s := StartZooKeeper(t)
	reply, err := exchange(s.Addr, "ruok", false)
	if err != nil || reply != "imok" {
		t.Fatalf("ruok = %q, %v", reply, err)
	}
	checkServer(t, s)
}

func TestEtcd(t *testing.T) {
	t.Parallel()
	checkServer(t, StartEtcd(t))
}

func TestRedis(t *testing.T) {
	t.Parallel()
	s := StartRedis(t, "--requirepass", "secret")
	reply, err := exchange(s.Addr, "AUTH secret\r\n", true)
	if err != nil || !strings.HasPrefix(reply, "+OK") {
		t.Fatalf("AUTH = %q, %v", reply, err)
	}
	checkServer(t, s)
}

func TestKill(t *testing.T) {
	t.Parallel()
	s := StartRedis(t)
	s.Kill()
	if _, err := net.DialTimeout("tcp", s.Addr, time.Second); err == nil {
		t.Fatalf("redis still serving after Kill")
	}
}

func TestClosedPort(t *testing.T) {
	addr := ClosedPort(t)
	if c, err := net.DialTimeout("tcp", addr, time.Second); err == nil {
		c.Close()
		t.Fatalf("%s accepted a connection", addr)
	}
}

func TestRestart(t *testing.T) {
	t.Parallel()
	s := StartEtcd(t)
	s.Kill()
	s.Restart(t)
	conn, err := net.DialTimeout("tcp", s.Addr, time.Second)
	if err != nil {
		t.Fatalf("not serving after Restart: %v", err)
	}
	conn.Close()
	s.Stop()
	if _, err := net.DialTimeout("tcp", s.Addr, time.Second); err == nil {
		t.Fatal("still serving after Stop")
	}
}

func TestSentinel(t *testing.T) {
	t.Parallel()
	s := StartSentinel(t)
	reply, err := exchange(s.Addr, "SENTINEL MASTERS\r\n", true)
	if err != nil || !strings.HasPrefix(reply, "*0") {
		t.Fatalf("SENTINEL MASTERS = %q, %v", reply, err)
	}
	checkServer(t, s)
}
