package proxy

import (
	"testing"
	"time"

	"github.com/codisgo/codis/pkg/models"
	"github.com/codisgo/codis/pkg/testenv"
	"github.com/gomodule/redigo/redis"
)

// testConfig returns a config listening on free loopback ports.
func testConfig() *Config {
	c := NewDefaultConfig()
	c.ProxyAddr = "127.0.0.1:0"
	c.AdminAddr = "127.0.0.1:0"
	c.ProtoType = "tcp4"
	c.ProductName = "test"
	c.ProxyHeapPlaceholder = 0
	c.ProxyMaxOffheapBytes = 0
	c.BackendNumberDatabases = 4
	return c
}

// startProxy starts a proxy; it is closed at cleanup.
func startProxy(t testing.TB, c *Config) *Proxy {
	t.Helper()
	p, err := New(c, nil)
	if err != nil {
		t.Fatalf("New: %v", err)
	}
	if err := p.Start(); err != nil {
		t.Fatalf("Start: %v", err)
	}
	t.Cleanup(func() { p.Close() })
	return p
}

// spread assigns the 1024 slots round-robin over addrs.
func spread(addrs ...string) []*models.Slot {
	var slots []*models.Slot
	for i := 0; i < MaxSlotNum; i++ {
		g := i * len(addrs) / MaxSlotNum
		slots = append(slots, &models.Slot{ID: i, BackendAddr: addrs[g], BackendAddrGroupID: g + 1})
	}
	return slots
}

// startCluster starts n redis servers and an online proxy spreading the
// slots over them.
func startCluster(t testing.TB, n int, c *Config) (*Proxy, []*testenv.Server) {
	t.Helper()
	var servers []*testenv.Server
	var addrs []string
	for i := 0; i < n; i++ {
		s := testenv.StartRedis(t, "--enable-debug-command", "yes") // tests use DEBUG SLEEP
		servers = append(servers, s)
		addrs = append(addrs, s.Addr)
	}
	if c == nil {
		c = testConfig()
	}
	p := startProxy(t, c)
	if err := p.FillSlots(spread(addrs...)); err != nil {
		t.Fatalf("FillSlots: %v", err)
	}
	if err := p.Online(); err != nil {
		t.Fatalf("Online: %v", err)
	}
	return p, servers
}

func dial(t testing.TB, addr string) redis.Conn {
	t.Helper()
	c, err := redis.Dial("tcp", addr, redis.DialReadTimeout(20*time.Second), redis.DialWriteTimeout(20*time.Second))
	if err != nil {
		t.Fatalf("dial %s: %v", addr, err)
	}
	t.Cleanup(func() { c.Close() })
	return c
}

// checkFor polls f until it returns nil or the timeout expires.
func checkFor(t testing.TB, timeout time.Duration, f func() error) {
	t.Helper()
	deadline := time.Now().Add(timeout)
	for {
		err := f()
		if err == nil {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("timed out: %v", err)
		}
		time.Sleep(20 * time.Millisecond)
	}
}
