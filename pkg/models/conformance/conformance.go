// Package conformance is the shared test suite for the coordinator
// backends (SPEC-control §1.2): Run checks one backend, through
// models.NewClient, against real servers.
//
// Some cases run a helper child process (to kill it with SIGKILL, or to
// have two processes share a filesystem root). The child is the test
// binary itself, re-executed with CODIS_CONFORMANCE_HELPER set; a test
// binary that calls Run must therefore call MaybeRunHelper first thing in
// its TestMain.
package conformance

import (
	"bufio"
	"bytes"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	iofs "io/fs"
	"os"
	"os/exec"
	"regexp"
	"runtime"
	"sort"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/codisgo/codis/pkg/models"
	"github.com/codisgo/codis/pkg/testenv"
)

// Backend describes one coordinator under test.
type Backend struct {
	// Name is the coordinator name given to models.NewClient.
	Name string
	// Kind is the word in "use of closed {Kind} client".
	Kind string
	// Addr returns the coordinator address to use for one test case.
	Addr func(t *testing.T) string
	// Auth is passed to models.NewClient.
	Auth string
	// Ephemeral is set when the backend supports ephemeral nodes and
	// watches (otherwise they must fail with "not supported").
	Ephemeral bool
	// ListLeafFails is set when listing a data node without children is an
	// error (filesystem, etcd) rather than an empty list (ZooKeeper).
	ListLeafFails bool
	// ReadDirFails is set when reading a directory is an error
	// (filesystem, etcd) rather than empty data (ZooKeeper).
	ReadDirFails bool
	// Unreachable, if set, returns an address where no coordinator
	// answers.
	Unreachable func(t *testing.T) string
	// SessionTimeout is the client timeout used by the ephemeral-node
	// kill test (ZooKeeper session timeout, etcd lease TTL).
	SessionTimeout time.Duration
	// PrivateServer, if set, starts a server of the test's own that the
	// ServerRestart case kills and restarts.
	PrivateServer func(t *testing.T) *testenv.Server
}

// Timeout is the client timeout used by most cases.
const Timeout = 5 * time.Second

// Run runs every case against b.
func Run(t *testing.T, b Backend) {
	if b.SessionTimeout <= 0 {
		b.SessionTimeout = 2 * time.Second
	}
	s := &suite{b: b}
	t.Run("CreateReadUpdateDelete", s.testCRUD)
	t.Run("List", s.testList)
	t.Run("EmptyAndBinaryData", s.testData)
	t.Run("ExclusiveCreate", s.testExclusiveCreate)
	t.Run("ConcurrentUse", s.testConcurrentUse)
	t.Run("InvalidPaths", s.testInvalidPaths)
	t.Run("Closed", s.testClosed)
	t.Run("GarbageDecode", s.testGarbage)
	t.Run("Unreachable", s.testUnreachable)
	t.Run("Ephemeral", s.testEphemeral)
	t.Run("EphemeralInOrderAndWatch", s.testInOrder)
	t.Run("EphemeralGoneAfterSIGKILL", s.testEphemeralKill)
	t.Run("ServerRestart", s.testServerRestart)
	t.Run("LockExclusive", s.testLockExclusive)
	t.Run("LockFencedWrites", s.testLockFencedWrites)
	t.Run("LockRemovedExternally", s.testLockRemoved)
	t.Run("LockRelease", s.testLockRelease)
	t.Run("LockClientClosed", s.testLockClosed)
	t.Run("LockAfterSIGKILL", s.testLockKill)
	t.Run("LockFencedAfterExpiry", s.testLockExpiry)
}

// CheckGoroutines checks that Close stops every goroutine a client of b
// started (watches, keep-alives, connection loops). It counts the
// goroutines of the whole process, so it must not run in parallel with
// other tests.
func CheckGoroutines(t *testing.T, b Backend) {
	(&suite{b: b}).testGoroutines(t)
}

type suite struct{ b Backend }

// client returns a new client for addr, closed at cleanup.
func (s *suite) clientAt(t *testing.T, addr string, timeout time.Duration) models.Client {
	t.Helper()
	c, err := models.NewClient(s.b.Name, addr, s.b.Auth, timeout)
	if err != nil {
		t.Fatalf("NewClient(%q, %q): %v", s.b.Name, addr, err)
	}
	t.Cleanup(func() { c.Close() })
	return c
}

func (s *suite) client(t *testing.T) (models.Client, string) {
	t.Helper()
	addr := s.b.Addr(t)
	return s.clientAt(t, addr, Timeout), addr
}

var nonWord = regexp.MustCompile(`[^A-Za-z0-9_.-]+`)

// Root returns a fresh node path for one test, unique across runs so tests
// can share a server.
func Root(t testing.TB) string {
	var b [4]byte
	_, _ = rand.Read(b[:])
	return "/conformance/" + nonWord.ReplaceAllString(t.Name(), "_") + "-" + hex.EncodeToString(b[:])
}

func mustRead(t *testing.T, c models.Client, p string, want []byte) {
	t.Helper()
	got, err := c.Read(p, true)
	if err != nil {
		t.Fatalf("Read(%s, true): %v", p, err)
	}
	if !bytes.Equal(got, want) {
		t.Fatalf("Read(%s) = %q, want %q", p, got, want)
	}
}

func mustMissing(t *testing.T, c models.Client, p string) {
	t.Helper()
	got, err := c.Read(p, false)
	if err != nil || got != nil {
		t.Fatalf("Read(%s, false) = %q, %v; want nil, nil", p, got, err)
	}
	if _, err := c.Read(p, true); err == nil {
		t.Fatalf("Read(%s, true) of a missing node succeeded", p)
	} else if !errors.Is(err, iofs.ErrNotExist) {
		t.Fatalf("Read(%s, true) = %v; want an error matching fs.ErrNotExist", p, err)
	}
}

func (s *suite) testCRUD(t *testing.T) {
	c, addr := s.client(t)
	root := Root(t)
	node := root + "/a/b/node"
	mustMissing(t, c, node)

	if err := c.Create(node, []byte("one")); err != nil {
		t.Fatalf("Create: %v", err)
	}
	mustRead(t, c, node, []byte("one"))
	err := c.Create(node, []byte("two"))
	if err == nil {
		t.Fatalf("second Create of %s succeeded", node)
	}
	if !errors.Is(err, iofs.ErrExist) {
		t.Fatalf("second Create: %v; want an error matching fs.ErrExist", err)
	}
	mustRead(t, c, node, []byte("one"))

	if err := c.Update(node, []byte("three")); err != nil {
		t.Fatalf("Update: %v", err)
	}
	mustRead(t, c, node, []byte("three"))

	deep := root + "/x/y/z/w"
	if err := c.Update(deep, []byte("deep")); err != nil {
		t.Fatalf("Update with missing parents: %v", err)
	}
	mustRead(t, c, deep, []byte("deep"))

	if err := c.Delete(node); err != nil {
		t.Fatalf("Delete: %v", err)
	}
	mustMissing(t, c, node)
	if err := c.Delete(node); err != nil {
		t.Fatalf("Delete of a missing node: %v", err)
	}
	if err := c.Delete(root + "/never/was"); err != nil {
		t.Fatalf("Delete under a missing parent: %v", err)
	}
	// Create works again after Delete.
	if err := c.Create(node, []byte("four")); err != nil {
		t.Fatalf("Create after Delete: %v", err)
	}
	mustRead(t, c, node, []byte("four"))

	// A second client sees the first one's writes.
	c2 := s.clientAt(t, addr, Timeout)
	mustRead(t, c2, node, []byte("four"))
}

func (s *suite) testList(t *testing.T) {
	c, _ := s.client(t)
	root := Root(t)
	dir := root + "/dir"

	for _, must := range []bool{false, true} {
		got, err := c.List(dir, must)
		if must {
			if err == nil {
				t.Fatalf("List(%s, true) of a missing dir succeeded: %q", dir, got)
			}
			if !errors.Is(err, iofs.ErrNotExist) {
				t.Fatalf("List(%s, true) = %v; want an error matching fs.ErrNotExist", dir, err)
			}
		} else if err != nil || len(got) != 0 {
			t.Fatalf("List(%s, false) of a missing dir = %q, %v; want empty, nil", dir, got, err)
		}
	}

	for _, name := range []string{"c", "a", "b"} {
		if err := c.Create(dir+"/"+name, []byte(name)); err != nil {
			t.Fatal(err)
		}
	}
	if err := c.Update(dir+"/d/e/f", []byte("nested")); err != nil {
		t.Fatal(err)
	}
	want := []string{dir + "/a", dir + "/b", dir + "/c", dir + "/d"}
	got, err := c.List(dir, true)
	if err != nil {
		t.Fatalf("List: %v", err)
	}
	if s.b.Name == "fs" || s.b.Name == "filesystem" {
		if !sort.StringsAreSorted(got) {
			t.Fatalf("filesystem List not sorted: %q", got)
		}
	}
	sort.Strings(got)
	if fmt.Sprint(got) != fmt.Sprint(want) {
		t.Fatalf("List(%s) = %q, want %q", dir, got, want)
	}
	got, err = c.List(root, false)
	if err != nil || fmt.Sprint(got) != fmt.Sprint([]string{dir}) {
		t.Fatalf("List(%s) = %q, %v; want [%s]", root, got, err, dir)
	}

	// A leaf data node.
	got, err = c.List(dir+"/a", false)
	if s.b.ListLeafFails {
		if err == nil {
			t.Fatalf("List of data node %s/a succeeded: %q", dir, got)
		}
	} else if err != nil || len(got) != 0 {
		t.Fatalf("List of data node %s/a = %q, %v; want empty", dir, got, err)
	}
	// A directory.
	data, err := c.Read(dir+"/d/e", false)
	if s.b.ReadDirFails {
		if err == nil {
			t.Fatalf("Read of directory %s/d/e succeeded: %q", dir, data)
		}
	} else if err != nil || len(data) != 0 {
		t.Fatalf("Read of directory %s/d/e = %q, %v; want empty", dir, data, err)
	}

	if err := c.Delete(dir + "/b"); err != nil {
		t.Fatal(err)
	}
	got, err = c.List(dir, true)
	sort.Strings(got)
	if want := []string{dir + "/a", dir + "/c", dir + "/d"}; err != nil || fmt.Sprint(got) != fmt.Sprint(want) {
		t.Fatalf("List after Delete = %q, %v; want %q", got, err, want)
	}
}

func (s *suite) testData(t *testing.T) {
	c, _ := s.client(t)
	root := Root(t)
	empty := root + "/empty"
	if err := c.Update(empty, nil); err != nil {
		t.Fatal(err)
	}
	got, err := c.Read(empty, true)
	if err != nil || got == nil || len(got) != 0 {
		t.Fatalf("Read of an empty node = %q (nil=%v), %v; want empty non-nil data", got, got == nil, err)
	}
	bin := make([]byte, 256)
	for i := range bin {
		bin[i] = byte(i)
	}
	if err := c.Update(root+"/bin", bin); err != nil {
		t.Fatal(err)
	}
	mustRead(t, c, root+"/bin", bin)
	big := bytes.Repeat([]byte("0123456789abcdef"), 64<<10/16) // 64 KiB
	if err := c.Update(root+"/big", big); err != nil {
		t.Fatal(err)
	}
	mustRead(t, c, root+"/big", big)
}

func (s *suite) testExclusiveCreate(t *testing.T) {
	root := Root(t)
	addr := s.b.Addr(t)
	const n = 8
	clients := make([]models.Client, n)
	for i := range clients {
		clients[i] = s.clientAt(t, addr, Timeout)
	}
	var wg sync.WaitGroup
	errs := make([]error, n)
	for i := range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			errs[i] = clients[i].Create(root+"/lock", []byte(strconv.Itoa(i)))
		}()
	}
	wg.Wait()
	winner := -1
	for i, err := range errs {
		switch {
		case err == nil && winner >= 0:
			t.Fatalf("both client %d and %d created the lock", winner, i)
		case err == nil:
			winner = i
		case !errors.Is(err, iofs.ErrExist):
			t.Fatalf("client %d: %v; want an error matching fs.ErrExist", i, err)
		}
	}
	if winner < 0 {
		t.Fatalf("no client created the lock: %v", errs)
	}
	mustRead(t, clients[0], root+"/lock", []byte(strconv.Itoa(winner)))
}

func (s *suite) testConcurrentUse(t *testing.T) {
	c, _ := s.client(t)
	root := Root(t)
	const workers, ops = 4, 25
	var wg sync.WaitGroup
	errc := make(chan error, workers)
	for w := range workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range ops {
				p := fmt.Sprintf("%s/w%d/n%02d", root, w, i)
				val := []byte(p)
				if err := c.Update(p, val); err != nil {
					errc <- err
					return
				}
				got, err := c.Read(p, true)
				if err != nil || !bytes.Equal(got, val) {
					errc <- fmt.Errorf("read back %s = %q, %v", p, got, err)
					return
				}
			}
		}()
	}
	wg.Wait()
	close(errc)
	for err := range errc {
		t.Fatal(err)
	}
	for w := range workers {
		got, err := c.List(fmt.Sprintf("%s/w%d", root, w), true)
		if err != nil || len(got) != ops {
			t.Fatalf("worker %d: List = %d entries, %v; want %d", w, len(got), err, ops)
		}
	}
}

func (s *suite) testInvalidPaths(t *testing.T) {
	c, _ := s.client(t)
	for _, p := range []string{"", "relative", "/a/../b", "/a/", "/a//b", "/a/./b", "/a\x00b"} {
		if err := c.Update(p, []byte("x")); err == nil {
			t.Errorf("Update(%q) succeeded", p)
		}
		if _, err := c.Read(p, false); err == nil {
			t.Errorf("Read(%q) succeeded", p)
		}
		if _, err := c.List(p, false); err == nil {
			t.Errorf("List(%q) succeeded", p)
		}
	}
	for _, p := range []string{"/"} {
		if err := c.Update(p, []byte("x")); err == nil {
			t.Errorf("Update(%q) succeeded", p)
		}
		if err := c.Delete(p); err == nil {
			t.Errorf("Delete(%q) succeeded", p)
		}
	}
}

func (s *suite) testClosed(t *testing.T) {
	c, _ := s.client(t)
	root := Root(t)
	if err := c.Update(root+"/n", []byte("x")); err != nil {
		t.Fatal(err)
	}
	if err := c.Close(); err != nil {
		t.Fatalf("Close: %v", err)
	}
	if err := c.Close(); err != nil {
		t.Fatalf("second Close: %v", err)
	}
	want := "use of closed " + s.b.Kind + " client"
	check := func(op string, err error) {
		t.Helper()
		if err == nil || err.Error() != want {
			t.Errorf("%s after Close = %v; want %q", op, err, want)
		}
	}
	_, err := c.Read(root+"/n", false)
	check("Read", err)
	_, err = c.List(root, false)
	check("List", err)
	check("Create", c.Create(root+"/m", nil))
	check("Update", c.Update(root+"/n", nil))
	check("Delete", c.Delete(root+"/n"))
	_, err = c.CreateEphemeral(root+"/e", nil)
	check("CreateEphemeral", err)
	_, _, err = c.CreateEphemeralInOrder(root+"/q", nil)
	check("CreateEphemeralInOrder", err)
	_, _, err = c.WatchInOrder(root + "/q")
	check("WatchInOrder", err)
}

func (s *suite) testGarbage(t *testing.T) {
	c, _ := s.client(t)
	p := Root(t) + "/group/group-0001"
	if err := c.Update(p, []byte("\x00not json{")); err != nil {
		t.Fatal(err)
	}
	data, err := c.Read(p, true)
	if err != nil {
		t.Fatal(err)
	}
	var g models.Group
	err = models.Decode(p, data, &g)
	if err == nil {
		t.Fatalf("Decode of garbage at %s succeeded", p)
	}
	var de *models.DecodeError
	if !errors.As(err, &de) || !strings.Contains(err.Error(), p) {
		t.Fatalf("Decode error %q (%T) does not name %s", err, err, p)
	}
}

func (s *suite) testUnreachable(t *testing.T) {
	if s.b.Unreachable == nil {
		t.Skip("no notion of an unreachable server for this backend")
	}
	const timeout = 2 * time.Second
	c := s.clientAt(t, s.b.Unreachable(t), timeout)
	p := Root(t) + "/n"
	// All at once: concurrent callers must each be bounded by the timeout
	// (not queue behind one another's connection attempts).
	ops := map[string]func() error{
		"Read":   func() error { _, err := c.Read(p, false); return err },
		"Read 2": func() error { _, err := c.Read(p, true); return err },
		"Update": func() error { return c.Update(p, []byte("x")) },
		"Create": func() error { return c.Create(p, []byte("x")) },
		"Delete": func() error { return c.Delete(p) },
		"List":   func() error { _, err := c.List(p, false); return err },
	}
	type result struct {
		name    string
		err     error
		elapsed time.Duration
	}
	results := make(chan result, len(ops))
	for name, fn := range ops {
		go func() {
			start := time.Now()
			err := fn()
			results <- result{name, err, time.Since(start)}
		}()
	}
	limit := time.After(timeout + 5*time.Second)
	for range ops {
		select {
		case r := <-results:
			if r.err == nil {
				t.Errorf("%s against an unreachable server succeeded", r.name)
				continue
			}
			t.Logf("%s: error after %v: %v", r.name, r.elapsed.Round(time.Millisecond), r.err)
			if r.elapsed > timeout+2*time.Second {
				t.Errorf("%s took %v with a %v timeout", r.name, r.elapsed, timeout)
			}
		case <-limit:
			t.Fatalf("operations against an unreachable server hung (> %v)", timeout+5*time.Second)
		}
	}
	start := time.Now()
	c.Close()
	if d := time.Since(start); d > timeout+2*time.Second {
		t.Fatalf("Close took %v", d)
	}
}

// waitClosed waits up to d for ch to be closed.
func waitClosed(ch <-chan struct{}, d time.Duration) bool {
	select {
	case <-ch:
		return true
	case <-time.After(d):
		return false
	}
}

func (s *suite) checkNotSupported(t *testing.T, c models.Client, root string) {
	t.Helper()
	_, err := c.CreateEphemeral(root+"/e", nil)
	if err == nil || !strings.Contains(err.Error(), "not supported") {
		t.Errorf("CreateEphemeral = %v; want not supported", err)
	}
	_, _, err = c.CreateEphemeralInOrder(root+"/q", nil)
	if err == nil || !strings.Contains(err.Error(), "not supported") {
		t.Errorf("CreateEphemeralInOrder = %v; want not supported", err)
	}
	_, _, err = c.WatchInOrder(root + "/q")
	if err == nil || !strings.Contains(err.Error(), "not supported") {
		t.Errorf("WatchInOrder = %v; want not supported", err)
	}
}

func (s *suite) testEphemeral(t *testing.T) {
	c, addr := s.client(t)
	root := Root(t)
	if !s.b.Ephemeral {
		s.checkNotSupported(t, c, root)
		return
	}
	other := s.clientAt(t, addr, Timeout)

	// Changed by another client: the signal fires.
	p1 := root + "/jodis/proxy-1"
	sig1, err := c.CreateEphemeral(p1, []byte("one"))
	if err != nil {
		t.Fatalf("CreateEphemeral: %v", err)
	}
	mustRead(t, other, p1, []byte("one"))
	if _, err := c.CreateEphemeral(p1, []byte("again")); err == nil || !errors.Is(err, iofs.ErrExist) {
		t.Fatalf("CreateEphemeral of an existing node = %v; want an error matching fs.ErrExist", err)
	}
	if waitClosed(sig1, 100*time.Millisecond) {
		t.Fatal("signal fired before any change")
	}
	if err := other.Update(p1, []byte("changed")); err != nil {
		t.Fatal(err)
	}
	if !waitClosed(sig1, 10*time.Second) {
		t.Fatal("signal did not fire after the node changed")
	}

	// Deleted: the signal fires.
	p2 := root + "/jodis/proxy-2"
	sig2, err := c.CreateEphemeral(p2, []byte("two"))
	if err != nil {
		t.Fatal(err)
	}
	if err := other.Delete(p2); err != nil {
		t.Fatal(err)
	}
	if !waitClosed(sig2, 10*time.Second) {
		t.Fatal("signal did not fire after the node was deleted")
	}

	// Owner closed: the node goes away at once and the signal fires.
	p3 := root + "/jodis/proxy-3"
	sig3, err := c.CreateEphemeral(p3, []byte("three"))
	if err != nil {
		t.Fatal(err)
	}
	mustRead(t, other, p3, []byte("three"))
	if err := c.Close(); err != nil {
		t.Fatal(err)
	}
	if !waitClosed(sig3, 10*time.Second) {
		t.Fatal("signal did not fire after Close")
	}
	deadline := time.Now().Add(10 * time.Second)
	for {
		data, err := other.Read(p3, false)
		if err != nil {
			t.Fatal(err)
		}
		if data == nil {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("ephemeral node %s still present 10s after its owner closed", p3)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

func (s *suite) testInOrder(t *testing.T) {
	c, addr := s.client(t)
	root := Root(t)
	if !s.b.Ephemeral {
		s.checkNotSupported(t, c, root)
		return
	}
	dir := root + "/queue"
	var created []string
	for i := range 3 {
		_, p, err := c.CreateEphemeralInOrder(dir, []byte(strconv.Itoa(i)))
		if err != nil {
			t.Fatalf("CreateEphemeralInOrder: %v", err)
		}
		if !strings.HasPrefix(p, dir+"/") || strings.Contains(strings.TrimPrefix(p, dir+"/"), "/") {
			t.Fatalf("in-order node %q is not a child of %s", p, dir)
		}
		mustRead(t, c, p, []byte(strconv.Itoa(i)))
		created = append(created, p)
	}
	if !sort.StringsAreSorted(created) {
		t.Fatalf("in-order nodes not in creation order: %q", created)
	}
	sig, children, err := c.WatchInOrder(dir)
	if err != nil {
		t.Fatalf("WatchInOrder: %v", err)
	}
	if fmt.Sprint(children) != fmt.Sprint(created) {
		t.Fatalf("WatchInOrder children = %q, want %q", children, created)
	}
	if waitClosed(sig, 100*time.Millisecond) {
		t.Fatal("watch fired before any change")
	}
	other := s.clientAt(t, addr, Timeout)
	_, p, err := other.CreateEphemeralInOrder(dir, []byte("late"))
	if err != nil {
		t.Fatal(err)
	}
	if p <= created[len(created)-1] {
		t.Fatalf("later in-order node %q sorts before %q", p, created[len(created)-1])
	}
	if !waitClosed(sig, 10*time.Second) {
		t.Fatal("watch did not fire after a child was added")
	}
	// Closing the other client removes its node; a new watch sees it go.
	sig, children, err = c.WatchInOrder(dir)
	if err != nil || len(children) != 4 {
		t.Fatalf("WatchInOrder = %q, %v; want 4 children", children, err)
	}
	other.Close()
	if !waitClosed(sig, 10*time.Second) {
		t.Fatal("watch did not fire after a child's owner closed")
	}
	_, children, err = c.WatchInOrder(dir)
	if err != nil || fmt.Sprint(children) != fmt.Sprint(created) {
		t.Fatalf("WatchInOrder after close = %q, %v; want %q", children, err, created)
	}
}

func (s *suite) testEphemeralKill(t *testing.T) {
	if !s.b.Ephemeral {
		t.Skip("backend has no ephemeral nodes (checked in Ephemeral)")
	}
	c, addr := s.client(t)
	p := Root(t) + "/jodis/proxy-killed"
	ttl := s.b.SessionTimeout
	child := StartHelper(t, "ephemeral", map[string]string{
		"COORD": s.b.Name, "ADDR": addr, "AUTH": s.b.Auth, "PATH": p,
		"TIMEOUT": ttl.String(), "DATA": "alive",
	})
	mustRead(t, c, p, []byte("alive"))
	// The child keeps the node alive past several session timeouts.
	time.Sleep(2 * ttl)
	mustRead(t, c, p, []byte("alive"))

	child.Kill(t)
	start := time.Now()
	limit := 3*ttl + 5*time.Second
	for {
		data, err := c.Read(p, false)
		if err != nil {
			t.Fatal(err)
		}
		if data == nil {
			break
		}
		if time.Since(start) > limit {
			t.Fatalf("ephemeral node of the SIGKILLed process still present after %v (timeout %v)", limit, ttl)
		}
		time.Sleep(50 * time.Millisecond)
	}
	t.Logf("node gone %v after SIGKILL (session timeout / lease TTL %v)", time.Since(start).Round(time.Millisecond), ttl)
}

// testServerRestart kills the server under a connected client: calls
// fail within the timeout, ephemeral signals fire, and once the server is
// back the same client works again.
func (s *suite) testServerRestart(t *testing.T) {
	if s.b.PrivateServer == nil {
		t.Skip("backend has no server to restart")
	}
	srv := s.b.PrivateServer(t)
	const timeout = 2 * time.Second
	c := s.clientAt(t, srv.Addr, timeout)
	root := Root(t)
	if err := c.Update(root+"/n", []byte("before")); err != nil {
		t.Fatal(err)
	}
	sig, err := c.CreateEphemeral(root+"/eph", []byte("e"))
	if err != nil {
		t.Fatal(err)
	}
	// Let the connection age past the reconnect threshold.
	time.Sleep(1100 * time.Millisecond)

	srv.Kill()
	start := time.Now()
	if _, err := c.Read(root+"/n", true); err == nil {
		t.Fatal("Read from a dead server succeeded")
	} else {
		t.Logf("Read from a dead server: error after %v: %v", time.Since(start).Round(time.Millisecond), err)
	}
	if d := time.Since(start); d > timeout+2*time.Second {
		t.Fatalf("Read from a dead server took %v (timeout %v)", d, timeout)
	}
	if !waitClosed(sig, 3*timeout+5*time.Second) {
		t.Fatal("ephemeral signal did not fire after the server died")
	}

	srv.Restart(t)
	deadline := time.Now().Add(30 * time.Second)
	for {
		data, err := c.Read(root+"/n", true)
		if err == nil {
			if string(data) != "before" {
				t.Fatalf("Read after restart = %q", data)
			}
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("client still failing 30s after the server came back: %v", err)
		}
		time.Sleep(100 * time.Millisecond)
	}
	t.Logf("client recovered %v after the restart", time.Since(start).Round(time.Millisecond))
	if err := c.Update(root+"/n", []byte("after")); err != nil {
		t.Fatal(err)
	}
	// The old ephemeral node is gone (its session or lease expired) and a
	// new one can be made.
	deadline = time.Now().Add(3*timeout + 5*time.Second)
	for {
		data, err := c.Read(root+"/eph", false)
		if err != nil {
			t.Fatal(err)
		}
		if data == nil {
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("ephemeral node of the lost session still present")
		}
		time.Sleep(100 * time.Millisecond)
	}
	sig, err = c.CreateEphemeral(root+"/eph", []byte("again"))
	if err != nil {
		t.Fatalf("CreateEphemeral after the restart: %v", err)
	}
	if waitClosed(sig, 2*timeout) {
		t.Fatal("new ephemeral node's signal fired without a change")
	}
	mustRead(t, c, root+"/eph", []byte("again"))
}

func (s *suite) testGoroutines(t *testing.T) {
	addr := s.b.Addr(t)
	exercise := func() {
		c, err := models.NewClient(s.b.Name, addr, s.b.Auth, Timeout)
		if err != nil {
			t.Fatal(err)
		}
		root := Root(t)
		if err := c.Update(root+"/n", []byte("x")); err != nil {
			t.Fatal(err)
		}
		if _, err := c.List(root, true); err != nil {
			t.Fatal(err)
		}
		if _, err := lockerOf(t, c).AcquireLock(root+"/lock", []byte("l")); err != nil {
			t.Fatal(err)
		}
		if s.b.Ephemeral {
			if _, err := c.CreateEphemeral(root+"/e", nil); err != nil {
				t.Fatal(err)
			}
			if _, _, err := c.CreateEphemeralInOrder(root+"/q", nil); err != nil {
				t.Fatal(err)
			}
			if _, _, err := c.WatchInOrder(root + "/q"); err != nil {
				t.Fatal(err)
			}
		}
		if err := c.Close(); err != nil {
			t.Fatal(err)
		}
	}
	exercise() // warm up: libraries may start process-wide goroutines once
	before := runtime.NumGoroutine()
	for range 3 {
		exercise()
	}
	deadline := time.Now().Add(10 * time.Second)
	for {
		n := runtime.NumGoroutine()
		if n <= before {
			return
		}
		if time.Now().After(deadline) {
			buf := make([]byte, 1<<20)
			buf = buf[:runtime.Stack(buf, true)]
			t.Fatalf("%d goroutines after closing 3 clients, %d before:\n%s", n, before, buf)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// ---------------------------------------------------------------------
// Helper processes.

// HelperEnv is the environment variable that selects a helper mode.
const HelperEnv = "CODIS_CONFORMANCE_HELPER"

// Helper is a running helper child process.
type Helper struct {
	cmd    *exec.Cmd
	out    *os.File // read end of the child's stdout
	stdout *bufio.Reader
	stderr *bytes.Buffer // valid after done
	done   chan struct{}
	err    error // Wait's result, valid after done
}

// StartHelper re-executes the test binary in helper mode with the given
// parameters (passed as CODIS_CONFORMANCE_<KEY> variables) and waits for
// its "ready" line. The child is killed at cleanup.
func StartHelper(t *testing.T, mode string, params map[string]string) *Helper {
	t.Helper()
	cmd := exec.Command(os.Args[0], "-test.run=^$")
	cmd.Env = append(os.Environ(), HelperEnv+"="+mode)
	for k, v := range params {
		cmd.Env = append(cmd.Env, "CODIS_CONFORMANCE_"+k+"="+v)
	}
	cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL}
	// A plain pipe (not StdoutPipe) so that Wait does not close the read
	// end before everything is read.
	r, w, err := os.Pipe()
	if err != nil {
		t.Fatal(err)
	}
	h := &Helper{cmd: cmd, out: r, stdout: bufio.NewReader(r), stderr: new(bytes.Buffer), done: make(chan struct{})}
	cmd.Stdout, cmd.Stderr = w, h.stderr
	err = cmd.Start()
	w.Close()
	if err != nil {
		r.Close()
		t.Fatalf("start helper %s: %v", mode, err)
	}
	go func() {
		h.err = cmd.Wait()
		close(h.done)
	}()
	t.Cleanup(func() {
		h.Kill(t)
		r.Close()
	})
	line, err := h.stdout.ReadString('\n')
	if strings.TrimSpace(line) != "ready" {
		h.Kill(t)
		t.Fatalf("helper %s did not get ready: %q, %v; stderr: %s", mode, line, err, h.stderr)
	}
	return h
}

// Wait waits up to d for the helper to exit and returns the rest of its
// stdout; a non-zero exit is an error carrying its stderr.
func (h *Helper) Wait(t *testing.T, d time.Duration) (string, error) {
	t.Helper()
	select {
	case <-h.done:
	case <-time.After(d):
		h.Kill(t)
		t.Fatalf("helper still running after %v; stderr: %s", d, h.stderr)
	}
	rest, _ := h.stdout.ReadString(0)
	if h.err != nil {
		return rest, fmt.Errorf("%w; stderr: %s", h.err, h.stderr)
	}
	return rest, nil
}

// Kill kills the helper with SIGKILL and reaps it; it is idempotent.
func (h *Helper) Kill(t *testing.T) {
	select {
	case <-h.done:
		return
	default:
	}
	_ = h.cmd.Process.Signal(syscall.SIGKILL)
	select {
	case <-h.done:
	case <-time.After(10 * time.Second):
		t.Errorf("helper pid %d did not die after SIGKILL", h.cmd.Process.Pid)
	}
}

func param(k string) string { return os.Getenv("CODIS_CONFORMANCE_" + k) }

// MaybeRunHelper runs the helper mode selected by CODIS_CONFORMANCE_HELPER
// and exits; it returns at once when the variable is not set. Call it at
// the start of TestMain.
func MaybeRunHelper() {
	mode := os.Getenv(HelperEnv)
	if mode == "" {
		return
	}
	var err error
	switch mode {
	case "ephemeral":
		err = helperEphemeral()
	case "fswriter":
		err = helperFSWriter()
	case "fsholder":
		err = helperFSHolder()
	case "lock":
		err = helperLock()
	default:
		err = fmt.Errorf("unknown helper mode %q", mode)
	}
	if err != nil {
		fmt.Fprintf(os.Stderr, "helper %s: %v\n", mode, err)
		os.Exit(1)
	}
	os.Exit(0)
}

// helperEphemeral creates an ephemeral node, says "ready" and waits to be
// killed. It exits with an error if the node is lost meanwhile.
func helperEphemeral() error {
	timeout, err := time.ParseDuration(param("TIMEOUT"))
	if err != nil {
		return err
	}
	c, err := models.NewClient(param("COORD"), param("ADDR"), param("AUTH"), timeout)
	if err != nil {
		return err
	}
	defer c.Close()
	sig, err := c.CreateEphemeral(param("PATH"), []byte(param("DATA")))
	if err != nil {
		return err
	}
	fmt.Println("ready")
	<-sig
	return errors.New("ephemeral node lost while the owner was alive")
}

// Record is what the filesystem writers store: Pad makes a torn write
// likely to be noticed, Sum checks the content.
type Record struct {
	Writer int    `json:"writer"`
	Seq    int    `json:"seq"`
	Pad    string `json:"pad"`
	Sum    string `json:"sum"`
}

// NewRecord returns the record writer w stores at step seq.
func NewRecord(w, seq int) Record {
	pad := strings.Repeat(fmt.Sprintf("%d.%d;", w, seq), 2000)
	return Record{Writer: w, Seq: seq, Pad: pad, Sum: fmt.Sprintf("%d", len(pad))}
}

// CheckRecord decodes data and verifies that it is a complete record.
func CheckRecord(p string, data []byte) (Record, error) {
	var r Record
	if err := models.Decode(p, data, &r); err != nil {
		return r, err
	}
	if want := NewRecord(r.Writer, r.Seq); r != want {
		return r, fmt.Errorf("%s: record of writer %d step %d is corrupt", p, r.Writer, r.Seq)
	}
	return r, nil
}

// helperFSWriter does N rounds of: Update its own key, Create a new key,
// Update the shared counter, Read the counter back and check it.
func helperFSWriter() error {
	w, err := strconv.Atoi(param("WRITER"))
	if err != nil {
		return err
	}
	n, err := strconv.Atoi(param("N"))
	if err != nil {
		return err
	}
	c, err := models.NewClient("fs", param("ADDR"), "", 30*time.Second)
	if err != nil {
		return err
	}
	defer c.Close()
	root := param("PATH")
	fmt.Println("ready")
	for i := range n {
		rec, err := json.Marshal(NewRecord(w, i))
		if err != nil {
			return err
		}
		if err := c.Update(fmt.Sprintf("%s/w%d/updated", root, w), rec); err != nil {
			return err
		}
		if err := c.Create(fmt.Sprintf("%s/w%d/created-%04d", root, w, i), rec); err != nil {
			return err
		}
		if err := c.Update(root+"/counter", rec); err != nil {
			return err
		}
		data, err := c.Read(root+"/counter", true)
		if err != nil {
			return err
		}
		if _, err := CheckRecord(root+"/counter", data); err != nil {
			return err
		}
	}
	fmt.Println("done")
	return nil
}

// helperFSHolder takes the filesystem root's flock (as another codis
// process would) and holds it until killed.
func helperFSHolder() error {
	root := param("ADDR")
	f, err := os.OpenFile(root+"/data.lck", os.O_RDWR|os.O_CREATE, 0o644)
	if err != nil {
		return err
	}
	if err := syscall.Flock(int(f.Fd()), syscall.LOCK_EX); err != nil {
		return err
	}
	fmt.Println("ready")
	select {}
}
