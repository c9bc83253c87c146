package conformance

import (
	"errors"
	"fmt"
	"io"
	iofs "io/fs"
	"net"
	"sync"
	"testing"
	"time"

	"github.com/codisgo/codis/pkg/models"
)

// The lock cases check models.Locker (the dashboard lock): exclusivity,
// fenced writes, loss on external deletion, release, and on ZooKeeper and
// etcd that the lock ends with its holder's session or lease and that the
// old holder's fenced writes can never land after a successor took over.

func lockerOf(t testing.TB, c models.Client) models.Locker {
	t.Helper()
	l, ok := c.(models.Locker)
	if !ok {
		t.Fatalf("%T is not a models.Locker", c)
	}
	return l
}

func mustAcquire(t testing.TB, c models.Client, p string, data []byte) models.Lock {
	t.Helper()
	l, err := lockerOf(t, c).AcquireLock(p, data)
	if err != nil {
		t.Fatalf("AcquireLock(%s): %v", p, err)
	}
	return l
}

func mustLost(t *testing.T, what string, err error) {
	t.Helper()
	if !errors.Is(err, models.ErrLockLost) {
		t.Fatalf("%s = %v; want an error wrapping ErrLockLost", what, err)
	}
}

func (s *suite) testLockExclusive(t *testing.T) {
	c, addr := s.client(t)
	other := s.clientAt(t, addr, Timeout)
	p := Root(t) + "/product/topom"
	if got := lockerOf(t, c).EphemeralLocks(); got != s.b.Ephemeral {
		t.Fatalf("EphemeralLocks = %v, want %v", got, s.b.Ephemeral)
	}
	l := mustAcquire(t, c, p, []byte("first"))
	if l.Path() != p {
		t.Fatalf("Path = %q, want %q", l.Path(), p)
	}
	mustRead(t, other, p, []byte("first"))
	for _, x := range []models.Client{c, other} {
		if _, err := lockerOf(t, x).AcquireLock(p, []byte("second")); !errors.Is(err, iofs.ErrExist) {
			t.Fatalf("second AcquireLock = %v; want an error matching fs.ErrExist", err)
		}
		if err := x.Create(p, []byte("second")); !errors.Is(err, iofs.ErrExist) {
			t.Fatalf("Create of a held lock = %v; want an error matching fs.ErrExist", err)
		}
	}
	mustRead(t, other, p, []byte("first"))
	checkHeld(t, other, p, s.b.Ephemeral)
	// A persistent node (an original Codis dashboard's lock) is reported
	// as such.
	legacy := Root(t) + "/legacy/topom"
	if err := other.Create(legacy, []byte("old codis")); err != nil {
		t.Fatal(err)
	}
	checkHeld(t, c, legacy, false)
	if waitClosed(l.Done(), 200*time.Millisecond) {
		t.Fatal("Done fired while the lock is held")
	}
	// Concurrent acquirers: exactly one wins.
	q := Root(t) + "/race/topom"
	var wg sync.WaitGroup
	wins := make(chan int, 8)
	for i := range 8 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			x := c
			if i%2 == 1 {
				x = other
			}
			if _, err := lockerOf(t, x).AcquireLock(q, fmt.Appendf(nil, "%d", i)); err == nil {
				wins <- i
			} else if !errors.Is(err, iofs.ErrExist) {
				t.Errorf("AcquireLock: %v", err)
			}
		}()
	}
	wg.Wait()
	close(wins)
	if n := len(wins); n != 1 {
		t.Fatalf("%d concurrent acquirers won", n)
	}
	mustRead(t, other, q, fmt.Appendf(nil, "%d", <-wins))
}

// checkHeld checks AcquireLock's error for the existing node p.
func checkHeld(t *testing.T, c models.Client, p string, ephemeral bool) {
	t.Helper()
	_, err := lockerOf(t, c).AcquireLock(p, []byte("x"))
	var held *models.LockHeldError
	if !errors.As(err, &held) || !errors.Is(err, iofs.ErrExist) {
		t.Fatalf("AcquireLock(%s) of a held lock = %v; want a *LockHeldError matching fs.ErrExist", p, err)
	}
	if held.Path != p || held.Ephemeral != ephemeral {
		t.Fatalf("LockHeldError = {Path %q, Ephemeral %v}; want {%q, %v}", held.Path, held.Ephemeral, p, ephemeral)
	}
}

func (s *suite) testLockFencedWrites(t *testing.T) {
	c, addr := s.client(t)
	other := s.clientAt(t, addr, Timeout)
	root := Root(t)
	l := mustAcquire(t, c, root+"/topom", []byte("holder"))
	// Create, overwrite, create with missing parents, delete, delete a
	// missing node.
	if err := l.Update(root+"/slots/slot-0001", []byte("a")); err != nil {
		t.Fatalf("fenced Update (create): %v", err)
	}
	if err := l.Update(root+"/slots/slot-0001", []byte("b")); err != nil {
		t.Fatalf("fenced Update (overwrite): %v", err)
	}
	mustRead(t, other, root+"/slots/slot-0001", []byte("b"))
	if err := l.Update(root+"/group/deep/er/group-0001", []byte("g")); err != nil {
		t.Fatalf("fenced Update (parents): %v", err)
	}
	mustRead(t, other, root+"/group/deep/er/group-0001", []byte("g"))
	if err := other.Update(root+"/proxy/p", []byte("p")); err != nil {
		t.Fatal(err)
	}
	if err := l.Delete(root + "/proxy/p"); err != nil {
		t.Fatalf("fenced Delete: %v", err)
	}
	mustMissing(t, other, root+"/proxy/p")
	if err := l.Delete(root + "/proxy/missing"); err != nil {
		t.Fatalf("fenced Delete of a missing node: %v", err)
	}
	if err := l.Update("relative", nil); err == nil {
		t.Fatal("fenced Update of an invalid path succeeded")
	}
	// Many concurrent fenced writers.
	var wg sync.WaitGroup
	for i := range 8 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			if err := l.Update(fmt.Sprintf("%s/many/n%d", root, i), []byte("x")); err != nil {
				t.Errorf("concurrent fenced Update: %v", err)
			}
		}()
	}
	wg.Wait()
	if kids, err := other.List(root+"/many", true); err != nil || len(kids) != 8 {
		t.Fatalf("List after concurrent writes = %q, %v", kids, err)
	}
	// Plain writes by others to unrelated nodes do not disturb the lock.
	if err := other.Update(root+"/unrelated", []byte("u")); err != nil {
		t.Fatal(err)
	}
	if err := l.Update(root+"/after", []byte("ok")); err != nil {
		t.Fatalf("fenced Update after an unrelated write: %v", err)
	}
	if waitClosed(l.Done(), 100*time.Millisecond) {
		t.Fatal("Done fired while the lock is held")
	}
}

func (s *suite) testLockRemoved(t *testing.T) {
	c, addr := s.client(t)
	other := s.clientAt(t, addr, Timeout)
	root := Root(t)
	p := root + "/topom"
	l := mustAcquire(t, c, p, []byte("old"))
	if err := l.Update(root+"/n", []byte("1")); err != nil {
		t.Fatal(err)
	}
	// codis-admin --remove-lock: a plain Delete by another client.
	if err := other.Delete(p); err != nil {
		t.Fatal(err)
	}
	mustLost(t, "fenced Update after the lock was removed", l.Update(root+"/n", []byte("2")))
	mustLost(t, "fenced Delete after the lock was removed", l.Delete(root+"/n"))
	mustRead(t, other, root+"/n", []byte("1"))
	if !waitClosed(l.Done(), 10*time.Second) {
		t.Fatal("Done did not fire after the lock node was deleted")
	}
	// A holder that does not use AcquireLock (an original Codis dashboard:
	// a plain Create, even with the same data) is not mistaken for us.
	if err := other.Create(p, []byte("old")); err != nil {
		t.Fatal(err)
	}
	mustLost(t, "fenced Update after a plain Create of the lock node", l.Update(root+"/n", []byte("2")))
	if err := other.Delete(p); err != nil {
		t.Fatal(err)
	}
	// A successor takes the lock: the old holder still cannot write, and
	// releasing the old lock leaves the successor's node alone.
	succ := mustAcquire(t, other, p, []byte("new"))
	mustLost(t, "old holder's Update after a successor acquired", l.Update(root+"/n", []byte("3")))
	mustLost(t, "old holder's Release", l.Release())
	mustRead(t, other, p, []byte("new"))
	mustRead(t, other, root+"/n", []byte("1"))
	if err := succ.Update(root+"/n", []byte("4")); err != nil {
		t.Fatalf("successor's Update: %v", err)
	}
	mustRead(t, c, root+"/n", []byte("4"))

	// A lock node overwritten in place (not by its holder) is lost too.
	if err := c.Update(p, []byte("overwritten")); err != nil {
		t.Fatal(err)
	}
	mustLost(t, "fenced Update after the lock node was overwritten", succ.Update(root+"/n", []byte("5")))
	if !waitClosed(succ.Done(), 10*time.Second) {
		t.Fatal("Done did not fire after the lock node was overwritten")
	}
	mustRead(t, other, root+"/n", []byte("4"))
}

func (s *suite) testLockRelease(t *testing.T) {
	c, addr := s.client(t)
	other := s.clientAt(t, addr, Timeout)
	root := Root(t)
	p := root + "/topom"
	l := mustAcquire(t, c, p, []byte("a"))
	if err := l.Release(); err != nil {
		t.Fatalf("Release: %v", err)
	}
	mustMissing(t, other, p)
	if !waitClosed(l.Done(), 10*time.Second) {
		t.Fatal("Done did not fire after Release")
	}
	mustLost(t, "fenced Update after Release", l.Update(root+"/n", []byte("x")))
	mustMissing(t, other, root+"/n")
	if err := l.Release(); err != nil {
		t.Fatalf("second Release: %v", err)
	}
	// The same client and another one can take it again.
	l2 := mustAcquire(t, other, p, []byte("b"))
	if err := l2.Release(); err != nil {
		t.Fatal(err)
	}
	l3 := mustAcquire(t, c, p, []byte("c"))
	if err := l3.Update(root+"/n", []byte("y")); err != nil {
		t.Fatal(err)
	}
	mustLost(t, "first lock's Update after re-acquisition", l.Update(root+"/n", []byte("z")))
	mustRead(t, other, root+"/n", []byte("y"))
}

func (s *suite) testLockClosed(t *testing.T) {
	c, addr := s.client(t)
	other := s.clientAt(t, addr, Timeout)
	root := Root(t)
	p := root + "/topom"
	l := mustAcquire(t, c, p, []byte("a"))
	if err := c.Close(); err != nil {
		t.Fatal(err)
	}
	if !waitClosed(l.Done(), 10*time.Second) {
		t.Fatal("Done did not fire after the client was closed")
	}
	if err := l.Update(root+"/n", []byte("x")); err == nil {
		t.Fatal("fenced Update through a closed client succeeded")
	}
	if !s.b.Ephemeral {
		// Persistent: the lock outlives its client, as in the original.
		mustRead(t, other, p, []byte("a"))
		return
	}
	checkGone(t, other, p, 10*time.Second)
}

// checkGone waits up to d for node p to disappear.
func checkGone(t *testing.T, c models.Client, p string, d time.Duration) time.Duration {
	t.Helper()
	start := time.Now()
	for {
		data, err := c.Read(p, false)
		if err != nil {
			t.Fatal(err)
		}
		if data == nil {
			return time.Since(start)
		}
		if time.Since(start) > d {
			t.Fatalf("node %s still present after %v", p, d)
		}
		time.Sleep(25 * time.Millisecond)
	}
}

// testLockKill: a lock held by a process killed with SIGKILL. ZooKeeper
// and etcd: it disappears within the session timeout / lease TTL and a
// waiting acquirer gets it. Filesystem: it stays until removed.
func (s *suite) testLockKill(t *testing.T) {
	c, addr := s.client(t)
	root := Root(t)
	p := root + "/topom"
	ttl := s.b.SessionTimeout
	child := StartHelper(t, "lock", map[string]string{
		"COORD": s.b.Name, "ADDR": addr, "AUTH": s.b.Auth, "PATH": p,
		"TIMEOUT": ttl.String(), "DATA": "dead-holder",
	})
	mustRead(t, c, p, []byte("dead-holder"))
	if _, err := lockerOf(t, c).AcquireLock(p, []byte("waiter")); !errors.Is(err, iofs.ErrExist) {
		t.Fatalf("AcquireLock of a live holder's lock = %v; want fs.ErrExist", err)
	}
	if s.b.Ephemeral {
		// The child keeps its lock past several session timeouts.
		time.Sleep(2 * ttl)
		mustRead(t, c, p, []byte("dead-holder"))
	}
	child.Kill(t)
	killed := time.Now()
	if !s.b.Ephemeral {
		time.Sleep(2 * lockPollWait)
		mustRead(t, c, p, []byte("dead-holder"))
		if _, err := lockerOf(t, c).AcquireLock(p, []byte("waiter")); !errors.Is(err, iofs.ErrExist) {
			t.Fatalf("AcquireLock of a dead holder's persistent lock = %v; want fs.ErrExist", err)
		}
		if err := c.Delete(p); err != nil { // --remove-lock
			t.Fatal(err)
		}
		l := mustAcquire(t, c, p, []byte("waiter"))
		if err := l.Update(root+"/n", []byte("w")); err != nil {
			t.Fatal(err)
		}
		return
	}
	// A waiter retries, as the dashboard does, until it gets the lock.
	limit := 3*ttl + 5*time.Second
	var l models.Lock
	for {
		var err error
		l, err = lockerOf(t, c).AcquireLock(p, []byte("waiter"))
		if err == nil {
			break
		}
		if !errors.Is(err, iofs.ErrExist) {
			t.Fatalf("AcquireLock: %v", err)
		}
		if time.Since(killed) > limit {
			t.Fatalf("lock of the SIGKILLed holder still present after %v (timeout %v)", limit, ttl)
		}
		time.Sleep(50 * time.Millisecond)
	}
	t.Logf("lock taken over %v after SIGKILL (session timeout / lease TTL %v)", time.Since(killed).Round(time.Millisecond), ttl)
	mustRead(t, c, p, []byte("waiter"))
	if err := l.Update(root+"/n", []byte("w")); err != nil {
		t.Fatal(err)
	}
}

// lockPollWait is longer than the filesystem lock's poll interval.
const lockPollWait = time.Second

// testLockExpiry cuts a holder off from the coordinator (through a TCP
// bridge) until its session / lease expires, lets a successor acquire the
// lock, reconnects the old holder and checks that its fenced writes fail
// and never land.
func (s *suite) testLockExpiry(t *testing.T) {
	if !s.b.Ephemeral {
		t.Skip("filesystem locks are persistent (checked in LockRemovedExternally)")
	}
	c, addr := s.client(t)
	br := newBridge(t, addr)
	ttl := s.b.SessionTimeout
	old := s.clientAt(t, br.Addr(), ttl)
	root := Root(t)
	p := root + "/topom"
	l := mustAcquire(t, old, p, []byte("old"))
	if err := l.Update(root+"/n", []byte("old-1")); err != nil {
		t.Fatal(err)
	}
	br.Block()
	cut := time.Now()
	gone := checkGone(t, c, p, 3*ttl+5*time.Second)
	t.Logf("lock of the cut-off holder gone %v after the cut (timeout %v)", gone.Round(time.Millisecond), ttl)
	succ := mustAcquire(t, c, p, []byte("new"))
	if err := succ.Update(root+"/n", []byte("new-1")); err != nil {
		t.Fatal(err)
	}
	br.Unblock()
	// Write through the old lock until the old client is connected again
	// (its first calls may fail on the broken connection): the write must
	// fail with ErrLockLost, never succeed.
	deadline := time.Now().Add(30 * time.Second)
	for {
		err := l.Update(root+"/n", []byte("old-2"))
		if err == nil {
			t.Fatal("the expired holder's fenced Update succeeded after a successor acquired the lock")
		}
		if errors.Is(err, models.ErrLockLost) {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("old holder still failing with %v 30s after reconnecting", err)
		}
		time.Sleep(100 * time.Millisecond)
	}
	mustLost(t, "expired holder's Delete", l.Delete(root+"/n"))
	mustLost(t, "expired holder's Release", l.Release())
	if !waitClosed(l.Done(), 10*time.Second) {
		t.Fatal("Done of the expired lock did not fire")
	}
	mustRead(t, c, root+"/n", []byte("new-1"))
	mustRead(t, c, p, []byte("new"))
	t.Logf("old holder fenced off %v after the cut", time.Since(cut).Round(time.Millisecond))
	// The old client itself works again and can wait for the lock.
	if _, err := lockerOf(t, old).AcquireLock(p, []byte("again")); !errors.Is(err, iofs.ErrExist) {
		t.Fatalf("AcquireLock of the successor's lock = %v; want fs.ErrExist", err)
	}
}

// helperLock acquires a lock, says "ready" and waits to be killed. It
// exits with an error if the lock is lost meanwhile.
func helperLock() error {
	timeout, err := time.ParseDuration(param("TIMEOUT"))
	if err != nil {
		return err
	}
	c, err := models.NewClient(param("COORD"), param("ADDR"), param("AUTH"), timeout)
	if err != nil {
		return err
	}
	defer c.Close()
	lk, ok := c.(models.Locker)
	if !ok {
		return fmt.Errorf("%T is not a Locker", c)
	}
	l, err := lk.AcquireLock(param("PATH"), []byte(param("DATA")))
	if err != nil {
		return err
	}
	fmt.Println("ready")
	<-l.Done()
	return errors.New("lock lost while the holder was alive")
}

// bridge is a TCP forwarder to a coordinator that can cut every
// connection through it (Block) until Unblock.
type bridge struct {
	l      net.Listener
	target string
	wg     sync.WaitGroup

	mu      sync.Mutex
	blocked bool
	closed  bool
	conns   map[net.Conn]bool
}

func newBridge(t *testing.T, target string) *bridge {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	b := &bridge{l: l, target: target, conns: map[net.Conn]bool{}}
	b.wg.Add(1)
	go b.accept()
	t.Cleanup(b.close)
	return b
}

// Addr is the bridge's address (with the target's scheme, if any).
func (b *bridge) Addr() string {
	if len(b.target) > 7 && b.target[:7] == "http://" {
		return "http://" + b.l.Addr().String()
	}
	return b.l.Addr().String()
}

func (b *bridge) track(c net.Conn) bool {
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.blocked || b.closed {
		c.Close()
		return false
	}
	b.conns[c] = true
	return true
}

func (b *bridge) accept() {
	defer b.wg.Done()
	target := b.target
	if len(target) > 7 && target[:7] == "http://" {
		target = target[7:]
	}
	for {
		in, err := b.l.Accept()
		if err != nil {
			return
		}
		if !b.track(in) {
			continue
		}
		out, err := net.DialTimeout("tcp", target, 2*time.Second)
		if err != nil {
			b.drop(in)
			continue
		}
		if !b.track(out) {
			b.drop(in)
			continue
		}
		b.wg.Add(2)
		go b.pipe(in, out)
		go b.pipe(out, in)
	}
}

func (b *bridge) pipe(dst, src net.Conn) {
	defer b.wg.Done()
	_, _ = io.Copy(dst, src)
	b.drop(dst)
	b.drop(src)
}

func (b *bridge) drop(c net.Conn) {
	b.mu.Lock()
	delete(b.conns, c)
	b.mu.Unlock()
	c.Close()
}

// Block closes every connection and refuses new ones.
func (b *bridge) Block() {
	b.mu.Lock()
	b.blocked = true
	conns := b.conns
	b.conns = map[net.Conn]bool{}
	b.mu.Unlock()
	for c := range conns {
		c.Close()
	}
}

// Unblock lets connections through again.
func (b *bridge) Unblock() {
	b.mu.Lock()
	b.blocked = false
	b.mu.Unlock()
}

func (b *bridge) close() {
	b.mu.Lock()
	b.closed = true
	b.mu.Unlock()
	b.l.Close()
	b.Block()
	b.wg.Wait()
}
