package proxy

import (
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"syscall"
	"testing"
	"time"

	"github.com/codisgo/codis/pkg/models"
	"github.com/codisgo/codis/pkg/testenv"
	"github.com/gomodule/redigo/redis"
)

// startSentinel runs redis-sentinel monitoring master as name.
func startSentinel(t *testing.T, name, master string) string {
	testenv.Require(t, "redis-sentinel")
	dir := t.TempDir()
	port := testenv.FreePort(t)
	host, mport, _ := net.SplitHostPort(master)
	conf := filepath.Join(dir, "sentinel.conf")
	text := fmt.Sprintf("port %d\nbind 127.0.0.1\ndaemonize no\ndir %s\nlogfile %s\n"+
		"sentinel monitor %s %s %s 1\nsentinel down-after-milliseconds %s 1000\nsentinel failover-timeout %s 5000\n",
		port, dir, filepath.Join(dir, "sentinel.log"), name, host, mport, name, name)
	if err := os.WriteFile(conf, []byte(text), 0o644); err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command("redis-sentinel", conf)
	cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { cmd.Process.Kill(); cmd.Wait() })
	addr := "127.0.0.1:" + strconv.Itoa(port)
	checkFor(t, 20*time.Second, func() error {
		c, err := redis.Dial("tcp", addr)
		if err != nil {
			return err
		}
		defer c.Close()
		_, err = c.Do("PING")
		return err
	})
	return addr
}

// TestSentinelFailover: after a sentinel fail-over of group 1, the proxy
// moves group 1's slots to the promoted replica.
func TestSentinelFailover(t *testing.T) {
	if testing.Short() {
		t.Skip("runs a sentinel fail-over")
	}
	master := testenv.StartRedis(t)
	replica := testenv.StartRedis(t, "--replicaof", "127.0.0.1", strconv.Itoa(master.Port()))
	rc := dial(t, replica.Addr)
	checkFor(t, 20*time.Second, func() error {
		info, err := redis.String(rc.Do("INFO", "replication"))
		if err != nil {
			return err
		}
		if !containsLine(info, "master_link_status:up") {
			return fmt.Errorf("replica not synced")
		}
		return nil
	})
	sentinel := startSentinel(t, "test-1", master.Addr)

	p := startProxy(t, testConfig())
	var slots []*models.Slot
	for i := 0; i < MaxSlotNum; i++ {
		slots = append(slots, &models.Slot{ID: i, BackendAddr: master.Addr, BackendAddrGroupID: 1})
	}
	p.FillSlots(slots)
	p.Online()
	if err := p.SetSentinels(&models.Sentinel{Servers: []string{sentinel}}); err != nil {
		t.Fatal(err)
	}
	checkFor(t, 20*time.Second, func() error {
		if m := p.StatsJSON(0).Sentinels.Masters["1"]; m != master.Addr {
			return fmt.Errorf("masters[1] = %q", m)
		}
		return nil
	})
	sc := dial(t, sentinel)
	checkFor(t, 30*time.Second, func() error {
		_, err := sc.Do("SENTINEL", "FAILOVER", "test-1")
		return err
	})
	checkFor(t, 60*time.Second, func() error {
		if a := p.router.Slots()[100].BackendAddr; a != replica.Addr {
			return fmt.Errorf("slot 100 still on %s", a)
		}
		return nil
	})
	st := p.StatsJSON(0)
	if !st.Sentinels.Switched || st.Sentinels.Servers[0] != sentinel {
		t.Fatalf("sentinel stats: %+v", st.Sentinels)
	}
	cl := dial(t, p.ProxyAddr())
	checkFor(t, 20*time.Second, func() error {
		_, err := cl.Do("SET", "after-failover", "x")
		return err
	})
	// Clearing the sentinels stops watching and forgets the masters.
	p.SetSentinels(&models.Sentinel{})
	if st := p.StatsJSON(0); st.Sentinels.Masters != nil || st.Sentinels.Servers != nil {
		t.Fatalf("after clearing: %+v", st.Sentinels)
	}
}

func containsLine(text, line string) bool {
	for _, l := range splitLines(text) {
		if l == line {
			return true
		}
	}
	return false
}

func splitLines(s string) []string {
	var out []string
	start := 0
	for i := 0; i < len(s); i++ {
		if s[i] == '\n' {
			l := s[start:i]
			if len(l) > 0 && l[len(l)-1] == '\r' {
				l = l[:len(l)-1]
			}
			out = append(out, l)
			start = i + 1
		}
	}
	return append(out, s[start:])
}
