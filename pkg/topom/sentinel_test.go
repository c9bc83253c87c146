package topom

import (
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/gomodule/redigo/redis"

	"github.com/codisgo/codis/pkg/models"
	"github.com/codisgo/codis/pkg/testenv"
)

// startSentinel runs redis-sentinel on a free port with a config file in
// a temp dir and returns its address.
func startSentinel(t *testing.T) string {
	t.Helper()
	testenv.Require(t, "redis-sentinel")
	for attempt := 0; attempt < 3; attempt++ {
		port := testenv.FreePort(t)
		dir := t.TempDir()
		conf := filepath.Join(dir, "sentinel.conf")
		text := "port " + strconv.Itoa(port) + "\nbind 127.0.0.1\nprotected-mode no\ndir " + dir + "\nlogfile \"\"\n"
		if err := os.WriteFile(conf, []byte(text), 0o644); err != nil {
			t.Fatal(err)
		}
		cmd := exec.Command("redis-sentinel", conf)
		cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL}
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		exited := make(chan struct{})
		go func() { cmd.Wait(); close(exited) }()
		t.Cleanup(func() {
			cmd.Process.Signal(syscall.SIGTERM)
			select {
			case <-exited:
			case <-time.After(10 * time.Second):
				cmd.Process.Kill()
				<-exited
			}
		})
		addr := "127.0.0.1:" + strconv.Itoa(port)
		for deadline := time.Now().Add(10 * time.Second); time.Now().Before(deadline); {
			select {
			case <-exited:
				deadline = time.Time{}
				continue
			default:
			}
			if c, err := redis.Dial("tcp", addr, redis.DialConnectTimeout(time.Second)); err == nil {
				_, err = c.Do("PING")
				c.Close()
				if err == nil {
					return addr
				}
			}
			time.Sleep(20 * time.Millisecond)
		}
	}
	t.Fatal("redis-sentinel did not start")
	return ""
}

// sentinelNames returns the names of the masters a sentinel monitors.
func sentinelNames(t *testing.T, addr string) []string {
	t.Helper()
	c, err := redis.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	masters, err := sentinelMasters(t.Context(), c)
	if err != nil {
		t.Fatal(err)
	}
	var out []string
	for _, m := range masters {
		out = append(out, m["name"]+"="+m["ip"]+":"+m["port"]+"/q"+m["quorum"])
	}
	return out
}

func TestSentinels(t *testing.T) {
	s1 := startSentinel(t)
	s2 := startSentinel(t)
	a := testenv.StartRedis(t)
	b := testenv.StartRedis(t)
	e := newEnv(t, func(c *Config) { c.SentinelQuorum = 1; c.SentinelDownAfter.UnmarshalText([]byte("2s")) })
	e.seedGroup(1, a.Addr)
	e.seedGroup(2, b.Addr)
	e.ok(put, e.api("group/create", 3)) // empty: not monitored
	p := newFakeProxy(t, "test", "", "")
	e.ok(put, e.api("proxy/create", p.addr()))

	e.ok(put, e.api("sentinels/add", s1))
	e.ok(put, e.api("sentinels/add", s2))
	e.fail(put, e.api("sentinels/add", s1), "sentinel-["+s1+"] already exists")
	dead := testenv.ClosedPort(t)
	e.fail(put, e.api("sentinels/add", dead), "sentinel-["+dead+"] flushconfig failed, ")
	x, _ := e.store.LoadSentinel()
	if strings.Join(x.Servers, ",") != s1+","+s2 || !x.OutOfSync {
		t.Fatalf("sentinel record %+v", x)
	}

	e.ok(put, e.api("sentinels/resync-all"))
	want := "test-1=" + a.Addr + "/q1,test-2=" + b.Addr + "/q1"
	for _, s := range []string{s1, s2} {
		names := sentinelNames(t, s)
		// SENTINEL masters order is not specified.
		if len(names) == 2 && names[0] > names[1] {
			names[0], names[1] = names[1], names[0]
		}
		if got := strings.Join(names, ","); got != want {
			t.Fatalf("sentinel %s monitors %s, want %s", s, got, want)
		}
	}
	if x, _ := e.store.LoadSentinel(); x.OutOfSync {
		t.Fatal("still out of sync after resync-all")
	}
	p.set(func(p *fakeProxy) {
		last := p.sentinels[len(p.sentinels)-1]
		if len(last.Servers) != 2 {
			t.Fatalf("proxy sentinels %+v", last)
		}
	})

	var monitored map[string]*SentinelGroup
	e.getJSON("/api/topom/sentinels/info/"+s1+"/monitored", &monitored)
	if monitored["test-1"] == nil || monitored["test-1"].Master["port"] != strings.Split(a.Addr, ":")[1] {
		t.Fatalf("monitored %+v", monitored)
	}
	var info map[string]string
	e.getJSON("/api/topom/sentinels/info/"+s1, &info)
	if info["redis_mode"] != "sentinel" {
		t.Fatalf("sentinel info %v", info)
	}
	checkFor(t, 10*time.Second, "sentinel stats", func() bool {
		st := e.stats().Sentinels.Stats[s2]
		return st != nil && st.Stats["redis_mode"] == "sentinel" && st.Sentinel["test-2"] != nil
	})

	// Removing a server marks the sentinels out of sync.
	e.ok(put, e.api("group/replica-groups", 1, a.Addr, 1))
	if x, _ := e.store.LoadSentinel(); x.OutOfSync {
		t.Fatal("replica-groups touched the sentinels")
	}
	e.ok(put, e.api("group/del", 2, b.Addr))
	if x, _ := e.store.LoadSentinel(); !x.OutOfSync {
		t.Fatal("group/del did not mark the sentinels out of sync")
	}

	e.ok(put, e.api("sentinels/del", s2, 0))
	if names := sentinelNames(t, s2); len(names) != 0 {
		t.Fatalf("deleted sentinel still monitors %v", names)
	}
	e.fail(put, e.api("sentinels/del", s2, 0), "sentinel-["+s2+"] not found")
	x, _ = e.store.LoadSentinel()
	if len(x.Servers) != 1 || x.Servers[0] != s1 || !x.OutOfSync {
		t.Fatalf("after del %+v", x)
	}
}

func TestSentinelSwitchMaster(t *testing.T) {
	s1 := startSentinel(t)
	a := testenv.StartRedis(t)
	b := testenv.StartRedis(t)
	e := newEnv(t, func(c *Config) { c.SentinelQuorum = 1 })
	e.seedGroup(1, a.Addr, b.Addr)
	e.ok(put, e.api("group/action/create", b.Addr))
	checkFor(t, 15*time.Second, "b replicates a", func() bool {
		return e.group(1).Servers[1].Action.State == models.ActionSyncedFailed &&
			redisInfo(t, b.Addr, "")["master_link_status"] == "up"
	})
	e.ok(put, e.api("sentinels/add", s1))
	e.ok(put, e.api("sentinels/resync-all"))

	// Wait until the sentinel knows the replica, then fail over by hand.
	c, err := redis.Dial("tcp", s1)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	checkFor(t, 30*time.Second, "sentinel sees the replica", func() bool {
		vals, err := redis.Values(c.Do("SENTINEL", "replicas", "test-1"))
		return err == nil && len(vals) == 1
	})
	checkFor(t, 30*time.Second, "failover accepted", func() bool {
		_, err := c.Do("SENTINEL", "failover", "test-1")
		return err == nil
	})
	checkFor(t, 60*time.Second, "dashboard follows the switch", func() bool {
		g := e.group(1)
		return g.Master() == b.Addr && g.OutOfSync
	})
	if m := e.stats().Sentinels.Masters["1"]; m != b.Addr {
		t.Fatalf("stats masters %v", e.stats().Sentinels.Masters)
	}
}
