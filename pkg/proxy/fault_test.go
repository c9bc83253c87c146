package proxy

import (
	"bufio"
	"fmt"
	"github.com/codisgo/codis/pkg/testenv"
	"net"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/codisgo/codis/pkg/models"
	"github.com/gomodule/redigo/redis"
)

// TestBackendKilledMidPipeline: a backend dies with SIGKILL while a deep
// pipeline is in flight. Every request gets a reply (an error for the
// lost ones) within the timeout, and traffic recovers when the backend
// returns.
func TestBackendKilledMidPipeline(t *testing.T) {
	c := testConfig()
	c.BackendRecvTimeout.UnmarshalText([]byte("5s"))
	p, servers := startCluster(t, 1, c)
	cl := dial(t, p.ProxyAddr())
	if _, err := cl.Do("SET", "big", strings.Repeat("x", 1<<16)); err != nil {
		t.Fatal(err)
	}
	const n = 8000
	done := make(chan error, 1)
	go func() {
		for i := 0; i < n; i++ {
			cl.Send("GET", "big")
		}
		done <- cl.Flush()
	}()
	// Kill once replies have started to flow.
	for i := 0; i < 100; i++ {
		if _, err := cl.Receive(); err != nil {
			t.Fatalf("reply %d before the kill: %v", i, err)
		}
	}
	servers[0].Kill()
	start := time.Now()
	errs := 0
	for i := 100; i < n; i++ {
		_, err := cl.Receive()
		if err != nil {
			if _, ok := err.(redis.Error); !ok {
				t.Fatalf("reply %d: connection error %v", i, err)
			}
			if !strings.Contains(err.Error(), "backend conn") {
				t.Fatalf("reply %d: unexpected error %v", i, err)
			}
			errs++
		}
	}
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	if errs == 0 {
		t.Fatal("no request failed although the backend was killed")
	}
	if el := time.Since(start); el > 10*time.Second {
		t.Fatalf("replies took %v after the kill", el)
	}
	t.Logf("%d of %d requests failed", errs, n)

	// While the backend is down, requests fail promptly.
	t0 := time.Now()
	if _, err := cl.Do("GET", "a"); err == nil || !strings.Contains(err.Error(), "backend conn") {
		t.Fatalf("GET while down: %v", err)
	}
	if el := time.Since(t0); el > 6*time.Second {
		t.Fatalf("GET while down took %v", el)
	}

	servers[0].Restart(t)
	checkFor(t, 20*time.Second, func() error {
		_, err := cl.Do("SET", "a", "1")
		return err
	})
	if v, err := redis.String(cl.Do("GET", "a")); err != nil || v != "1" {
		t.Fatalf("after recovery: %q %v", v, err)
	}
}

// TestGarbageClient: a client sending garbage is disconnected with an
// error; other clients do not notice.
func TestGarbageClient(t *testing.T) {
	p, _ := startCluster(t, 1, nil)
	good := dial(t, p.ProxyAddr())
	good.Send("SET", "k", "v")
	good.Flush()

	conn, err := net.Dial("tcp", p.ProxyAddr())
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	conn.SetDeadline(time.Now().Add(10 * time.Second))
	fmt.Fprintf(conn, "*2\r\n$3\r\nGET\r\n$-1\r\n*1\r\n$4\r\nPING\r\n")
	r := bufio.NewReader(conn)
	line, _ := r.ReadString('\n')
	if !strings.HasPrefix(line, "-ERR Protocol error") {
		t.Fatalf("garbage reply: %q", line)
	}
	if _, err := r.ReadString('\n'); err == nil {
		t.Fatal("connection stays open after a protocol error")
	}
	for _, garbage := range []string{"*x\r\n", "*1\r\n+PING\r\n", "*2000000\r\n", "$5\r\n", "*1\r\n$999999999999\r\n"} {
		conn, err := net.Dial("tcp", p.ProxyAddr())
		if err != nil {
			t.Fatal(err)
		}
		conn.SetDeadline(time.Now().Add(10 * time.Second))
		conn.Write([]byte(garbage))
		line, _ := bufio.NewReader(conn).ReadString('\n')
		conn.Close()
		if !strings.HasPrefix(line, "-ERR") {
			t.Errorf("%q: reply %q", garbage, line)
		}
	}
	if _, err := good.Receive(); err != nil {
		t.Fatal(err)
	}
	if v, err := redis.String(good.Do("GET", "k")); err != nil || v != "v" {
		t.Fatalf("good client: %q %v", v, err)
	}
}

// TestNotOnlineAndMaxClients checks the session admission errors.
func TestNotOnlineAndMaxClients(t *testing.T) {
	c := testConfig()
	c.ProxyMaxClients = 1
	p := startProxy(t, c)
	if got := rawExchange(t, p.ProxyAddr(), "PING\r\n"); got != "-ERR router is not online\r\n" {
		t.Fatalf("not online: %q", got)
	}
	p.Online()
	first := dial(t, p.ProxyAddr())
	if _, err := first.Do("PING"); err != nil {
		t.Fatal(err)
	}
	if got := rawExchange(t, p.ProxyAddr(), "PING\r\n"); got != "-ERR max number of clients reached\r\n" {
		t.Fatalf("max clients: %q", got)
	}
	st := p.StatsJSON(0)
	if st.Sessions.Total != 3 || st.Sessions.Alive != 1 || st.Ops.Fails != 2 {
		t.Fatalf("stats: %+v", st.Sessions)
	}
}

// TestSlotNotReadyAndLocked: offline slots answer an error; a locked slot
// holds requests until it is unlocked.
func TestSlotNotReadyAndLocked(t *testing.T) {
	p, servers := startCluster(t, 1, nil)
	cl := dial(t, p.ProxyAddr())
	sid := SlotOf([]byte("k"))
	p.router.FillSlot(&models.Slot{ID: sid})
	if _, err := cl.Do("GET", "k"); err == nil || err.Error() != errTextSlotNotReady {
		t.Fatalf("offline slot: %v", err)
	}
	p.router.FillSlot(&models.Slot{ID: sid, BackendAddr: servers[0].Addr, Locked: true})
	got := make(chan error, 1)
	go func() {
		_, err := cl.Do("SET", "k", "v")
		got <- err
	}()
	select {
	case err := <-got:
		t.Fatalf("request on a locked slot returned: %v", err)
	case <-time.After(200 * time.Millisecond):
	}
	if slots := p.router.Slots(); !slots[sid].Locked {
		t.Fatal("slot not shown as locked")
	}
	p.router.FillSlot(&models.Slot{ID: sid, BackendAddr: servers[0].Addr})
	select {
	case err := <-got:
		if err != nil {
			t.Fatal(err)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("request still held after unlock")
	}
}

// TestBackendRecvTimeout: a backend that never answers fails requests
// after backend_recv_timeout; an idle link to a healthy backend does not
// time out.
func TestBackendRecvTimeout(t *testing.T) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	var mu sync.Mutex
	var held []net.Conn
	defer func() {
		mu.Lock()
		for _, c := range held {
			c.Close()
		}
		mu.Unlock()
	}()
	go func() {
		for {
			c, err := l.Accept()
			if err != nil {
				return
			}
			mu.Lock()
			held = append(held, c) // read nothing, answer nothing
			mu.Unlock()
		}
	}()
	c := testConfig()
	c.BackendRecvTimeout.UnmarshalText([]byte("1s"))
	c.BackendPingPeriod = 0
	c.BackendNumberDatabases = 1
	p, servers := startCluster(t, 1, c)
	cl := dial(t, p.ProxyAddr())
	if _, err := cl.Do("SET", "idle", "1"); err != nil {
		t.Fatal(err)
	}
	time.Sleep(2500 * time.Millisecond) // idle for longer than the timeout
	if _, err := cl.Do("GET", "idle"); err != nil {
		t.Fatalf("after idling: %v", err)
	}
	sid := SlotOf([]byte("mute"))
	p.router.FillSlot(&models.Slot{ID: sid, BackendAddr: l.Addr().String()})
	start := time.Now()
	_, err = cl.Do("GET", "mute")
	if err == nil || !strings.Contains(err.Error(), "backend conn failure") || !strings.Contains(err.Error(), "timeout") {
		t.Fatalf("mute backend: %v", err)
	}
	if el := time.Since(start); el < 900*time.Millisecond || el > 5*time.Second {
		t.Fatalf("timed out after %v, want about 1s", el)
	}
	_ = servers
}

// TestHugeReply: a reply with more than 1,048,576 elements is forwarded
// and the shared backend connection keeps working.
func TestHugeReply(t *testing.T) {
	if testing.Short() {
		t.Skip("builds a 1M-element list")
	}
	p, servers := startCluster(t, 1, nil)
	d := dial(t, servers[0].Addr)
	const n = 1<<20 + 1
	args := []any{"biglist"}
	for i := 0; i < n; i++ {
		args = append(args, "x")
		if len(args) == 10001 || i == n-1 {
			if _, err := d.Do("RPUSH", args...); err != nil {
				t.Fatal(err)
			}
			args = args[:1]
		}
	}
	cl := dial(t, p.ProxyAddr())
	cl.Send("LRANGE", "biglist", 0, -1)
	cl.Send("SET", "after", "ok")
	cl.Flush()
	vals, err := redis.Values(cl.Receive())
	if err != nil || len(vals) != n {
		t.Fatalf("LRANGE: %d elements, %v", len(vals), err)
	}
	if v, err := redis.String(cl.Receive()); err != nil || v != "OK" {
		t.Fatalf("request after the huge reply: %q %v", v, err)
	}
}

// TestFillWaitsForInFlight: switching a slot waits for its in-flight
// requests, which complete on the old backend.
func TestFillWaitsForInFlight(t *testing.T) {
	p, servers := startCluster(t, 2, nil)
	sid := SlotOf([]byte("slow"))
	p.router.FillSlot(&models.Slot{ID: sid, BackendAddr: servers[0].Addr})
	old := dial(t, servers[0].Addr)
	old.Do("SET", "slow", "old")
	old.Send("DEBUG", "SLEEP", "1")
	old.Flush()
	time.Sleep(50 * time.Millisecond)
	cl := dial(t, p.ProxyAddr())
	got := make(chan string, 1)
	go func() {
		v, _ := redis.String(cl.Do("GET", "slow"))
		got <- v
	}()
	time.Sleep(100 * time.Millisecond) // the GET is queued behind the sleep
	start := time.Now()
	if err := p.router.FillSlot(&models.Slot{ID: sid, BackendAddr: servers[1].Addr}); err != nil {
		t.Fatal(err)
	}
	if el := time.Since(start); el < 300*time.Millisecond {
		t.Fatalf("fill returned after %v, before the in-flight request finished", el)
	}
	select {
	case v := <-got:
		if v != "old" {
			t.Fatalf("in-flight GET = %q, want the old backend's value", v)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("in-flight GET never answered")
	}
}

// TestMasterDown: a replica answering MASTERDOWN becomes data-stale and is
// skipped; reads then go to the master.
func TestMasterDown(t *testing.T) {
	master := testenv.StartRedis(t)
	replica := testenv.StartRedis(t)
	rd := dial(t, replica.Addr)
	if _, err := rd.Do("CONFIG", "SET", "replica-serve-stale-data", "no"); err != nil {
		t.Fatal(err)
	}
	if _, err := rd.Do("REPLICAOF", "127.0.0.1", strconv.Itoa(testenv.FreePort(t))); err != nil {
		t.Fatal(err)
	}
	c := testConfig()
	c.BackendPingPeriod = 0
	p := startProxy(t, c)
	md := dial(t, master.Addr)
	md.Do("SET", "md", "master")
	sid := SlotOf([]byte("md"))
	p.router.FillSlot(&models.Slot{ID: sid, BackendAddr: master.Addr, ReplicaGroups: [][]string{{replica.Addr}}})
	p.Online()
	checkFor(t, 10*time.Second, func() error {
		if connected, _, _ := p.router.replica.states(); connected != c.BackendNumberDatabases {
			return fmt.Errorf("%d replica connections up", connected)
		}
		return nil
	})
	cl := dial(t, p.ProxyAddr())
	if _, err := cl.Do("GET", "md"); err == nil || !strings.HasPrefix(err.Error(), "MASTERDOWN") {
		t.Fatalf("first read (replica): %v", err)
	}
	checkFor(t, 10*time.Second, func() error {
		v, err := redis.String(cl.Do("GET", "md"))
		if err != nil && !strings.HasPrefix(err.Error(), "MASTERDOWN") {
			return err
		}
		if v != "master" {
			return fmt.Errorf("GET md = %q, %v", v, err)
		}
		return nil
	})
	connected, stale, _ := p.router.replica.states()
	if stale == 0 {
		t.Fatalf("replica connections: %d connected, %d stale", connected, stale)
	}
}

// TestRepliesNotHeldBack: a ready reply is flushed even while a later
// request of the same pipeline waits for a slow backend.
func TestRepliesNotHeldBack(t *testing.T) {
	p, servers := startCluster(t, 2, nil)
	fast, slow := "fast-key", "slow-key"
	p.router.FillSlot(&models.Slot{ID: SlotOf([]byte(fast)), BackendAddr: servers[0].Addr})
	p.router.FillSlot(&models.Slot{ID: SlotOf([]byte(slow)), BackendAddr: servers[1].Addr})
	if SlotOf([]byte(fast)) == SlotOf([]byte(slow)) {
		t.Fatal("keys share a slot")
	}
	d := dial(t, servers[1].Addr)
	d.Send("DEBUG", "SLEEP", "1")
	d.Flush()
	time.Sleep(50 * time.Millisecond)
	cl := dial(t, p.ProxyAddr())
	start := time.Now()
	cl.Send("GET", fast)
	cl.Send("GET", slow)
	cl.Flush()
	if _, err := cl.Receive(); err != nil {
		t.Fatal(err)
	}
	if el := time.Since(start); el > 500*time.Millisecond {
		t.Fatalf("first reply took %v: held back behind the slow request", el)
	}
	if _, err := cl.Receive(); err != nil {
		t.Fatal(err)
	}
	if el := time.Since(start); el < 500*time.Millisecond {
		t.Fatalf("slow reply after %v: backend did not sleep", el)
	}
}
