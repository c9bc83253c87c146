package topom

import (
	"errors"
	"fmt"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/codisgo/codis/pkg/models"
	"github.com/codisgo/codis/pkg/models/conformance"
	"github.com/codisgo/codis/pkg/testenv"
)

// dashboardHelperMode is the conformance helper mode (see
// conformance.StartHelper) in which this test binary runs one dashboard
// in a child process: it says "ready" once online and runs until killed.
const dashboardHelperMode = "topom-dashboard"

func maybeRunDashboardHelper() {
	if os.Getenv(conformance.HelperEnv) != dashboardHelperMode {
		return
	}
	if err := runDashboardHelper(); err != nil {
		fmt.Fprintf(os.Stderr, "dashboard helper: %v\n", err)
		os.Exit(1)
	}
	os.Exit(0)
}

func runDashboardHelper() error {
	param := func(k string) string { return os.Getenv("CODIS_CONFORMANCE_" + k) }
	timeout, err := time.ParseDuration(param("TIMEOUT"))
	if err != nil {
		return err
	}
	client, err := models.NewClient(param("COORD"), param("ADDR"), "", timeout)
	if err != nil {
		return err
	}
	cfg := testConfig("")
	cfg.CoordinatorName, cfg.CoordinatorAddr = param("COORD"), param("ADDR")
	top, err := New(client, cfg, Options{Logger: testLogger()})
	if err != nil {
		client.Close()
		return err
	}
	top.lockRetry = 100 * time.Millisecond
	if err := top.Start(); err != nil {
		top.Close()
		return err
	}
	deadline := time.Now().Add(30 * time.Second)
	for !top.IsOnline() {
		if time.Now().After(deadline) || top.IsClosed() {
			top.Close()
			return fmt.Errorf("not online: %v", top.Err())
		}
		time.Sleep(20 * time.Millisecond)
	}
	fmt.Println("ready")
	<-top.Done()
	return fmt.Errorf("dashboard stopped: %v", top.Err())
}

// coordinator starts a coordinator of the given kind for one test and
// returns its address.
func coordinator(t *testing.T, name string) string {
	switch name {
	case "zookeeper":
		return testenv.StartZooKeeper(t).Addr
	case "etcd":
		return "http://" + testenv.StartEtcd(t).Addr
	default:
		return t.TempDir()
	}
}

// startDashboard starts an in-process dashboard on coordinator name at
// addr with the given client timeout (session timeout / lease TTL).
func startDashboard(t *testing.T, name, addr string, timeout time.Duration) *Topom {
	t.Helper()
	client, err := models.NewClient(name, addr, "", timeout)
	if err != nil {
		t.Fatal(err)
	}
	cfg := testConfig(addr)
	cfg.CoordinatorName = name
	top, err := New(client, cfg, Options{Logger: testLogger()})
	if err != nil {
		t.Fatal(err)
	}
	top.lockRetry = 100 * time.Millisecond
	if err := top.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { top.Close() })
	return top
}

func storeAt(t *testing.T, name, addr string) *models.Store {
	t.Helper()
	client, err := models.NewClient(name, addr, "", 10*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	store, err := models.NewStore(client, "test")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { store.Close() })
	return store
}

// TestLockTakeoverAfterSIGKILL: a dashboard (a child process) holding the
// lock on ZooKeeper / etcd is killed with SIGKILL; a second dashboard,
// already waiting, comes online by itself within the session timeout,
// without --remove-lock.
func TestLockTakeoverAfterSIGKILL(t *testing.T) {
	for _, name := range []string{"zookeeper", "etcd"} {
		t.Run(name, func(t *testing.T) {
			addr := coordinator(t, name)
			const ttl = 3 * time.Second
			child := conformance.StartHelper(t, dashboardHelperMode, map[string]string{
				"COORD": name, "ADDR": addr, "TIMEOUT": ttl.String(),
			})
			store := storeAt(t, name, addr)
			first, err := store.LoadTopom(true)
			if err != nil {
				t.Fatal(err)
			}
			if first.Pid == os.Getpid() {
				t.Fatal("the lock is not the child's")
			}
			second := startDashboard(t, name, addr, ttl)
			// The child keeps its session alive: the second waits, well
			// past the point where the fs backend would give up.
			time.Sleep(ttl + time.Second)
			if second.IsOnline() || second.IsClosed() {
				t.Fatalf("second dashboard online=%v closed=%v (err %v) while the first is alive",
					second.IsOnline(), second.IsClosed(), second.Err())
			}
			child.Kill(t)
			killed := time.Now()
			checkFor(t, ttl+5*time.Second, "second dashboard online after SIGKILL", second.IsOnline)
			t.Logf("taken over %v after SIGKILL (session timeout %v)", time.Since(killed).Round(time.Millisecond), ttl)
			lock, err := store.LoadTopom(true)
			if err != nil || lock.Token != second.Model().Token {
				t.Fatalf("lock after takeover: %+v, %v", lock, err)
			}
			if err := second.CreateGroup(3); err != nil {
				t.Fatalf("CreateGroup on the new dashboard: %v", err)
			}
			if g, err := store.LoadGroup(3); err != nil || g == nil {
				t.Fatalf("group 3: %v, %v", g, err)
			}
		})
	}
}

// TestLockRemovedFencesWrites: the lock of a running dashboard is deleted
// externally (codis-admin --remove-lock) and taken by a successor; the
// old dashboard's next topology operation fails without writing, and the
// dashboard steps down leaving the successor's lock alone.
func TestLockRemovedFencesWrites(t *testing.T) {
	for _, name := range []string{"filesystem", "zookeeper", "etcd"} {
		t.Run(name, func(t *testing.T) {
			addr := coordinator(t, name)
			top := startDashboard(t, name, addr, 5*time.Second)
			checkFor(t, 20*time.Second, "online", top.IsOnline)
			if err := top.CreateGroup(1); err != nil {
				t.Fatal(err)
			}
			store := storeAt(t, name, addr)
			if err := store.Client().Delete(store.LockPath()); err != nil {
				t.Fatal(err)
			}
			succ := &models.Topom{Token: "successor", AdminAddr: "127.0.0.1:1", ProductName: "test"}
			lock, err := store.AcquireLock(succ)
			if err != nil {
				t.Fatal(err)
			}
			defer lock.Release()
			if err := top.CreateGroup(5); err == nil {
				t.Fatal("CreateGroup succeeded after the lock was taken by a successor")
			}
			if err := top.RemoveGroup(1); err == nil {
				t.Fatal("RemoveGroup succeeded after the lock was taken by a successor")
			}
			select {
			case <-top.Done():
			case <-time.After(15 * time.Second):
				t.Fatal("dashboard did not step down")
			}
			if !errors.Is(top.Err(), ErrLockLost) {
				t.Fatalf("Err = %v; want ErrLockLost", top.Err())
			}
			if g, err := store.LoadGroup(5); err != nil || g != nil {
				t.Fatalf("group 5 = %v, %v; want nothing written", g, err)
			}
			if g, err := store.LoadGroup(1); err != nil || g == nil {
				t.Fatalf("group 1 = %v, %v; want it kept", g, err)
			}
			if l, err := store.LoadTopom(true); err != nil || l.Token != "successor" {
				t.Fatalf("lock = %+v, %v; want the successor's", l, err)
			}
			// The successor writes through its own lock.
			if err := store.Fenced(lock).UpdateGroup(&models.Group{ID: 6}); err != nil {
				t.Fatalf("successor's write: %v", err)
			}
		})
	}
}

// TestLockFencedWriteStepsDown: a write that fails because the lock is
// lost (before the lock watch noticed) makes the dashboard step down.
func TestLockFencedWriteStepsDown(t *testing.T) {
	e := newEnv(t)
	// Overwrite the lock node in place: the fenced write sees it at once.
	other := &models.Topom{Token: "other", AdminAddr: "127.0.0.1:1", ProductName: "test"}
	if err := e.store.Client().Update(e.store.LockPath(), models.Encode(other)); err != nil {
		t.Fatal(err)
	}
	err := e.top.CreateGroup(7)
	if err == nil {
		t.Fatal("CreateGroup succeeded with a lost lock")
	}
	select {
	case <-e.top.Done():
	case <-time.After(15 * time.Second):
		t.Fatal("dashboard did not step down")
	}
	if !errors.Is(e.top.Err(), ErrLockLost) {
		t.Fatalf("Err = %v", e.top.Err())
	}
	if g, _ := e.store.LoadGroup(7); g != nil {
		t.Fatal("group written with a lost lock")
	}
	if l, _ := e.store.LoadTopom(true); l == nil || l.Token != "other" {
		t.Fatal("the new holder's lock node was deleted")
	}
}

// TestLockOwnOrphanRemoved: a lock node holding this very dashboard's
// model that its Lock does not fence (an acquisition that was applied
// although it reported an error) is deleted and acquired properly,
// instead of the dashboard waiting for itself.
func TestLockOwnOrphanRemoved(t *testing.T) {
	e := newEnv(t)
	first := e.top
	second := e.startRetry(false, 200*time.Millisecond)
	if err := e.store.Client().Update(e.store.LockPath(), models.Encode(second.Model())); err != nil {
		t.Fatal(err)
	}
	checkFor(t, 10*time.Second, "second dashboard online", second.IsOnline)
	select {
	case <-first.Done():
	case <-time.After(10 * time.Second):
		t.Fatal("first dashboard did not step down")
	}
	if !errors.Is(first.Err(), ErrLockLost) {
		t.Fatalf("first Err = %v", first.Err())
	}
	if err := second.CreateGroup(2); err != nil {
		t.Fatalf("CreateGroup on the new holder: %v", err)
	}
}

// TestLockPersistentNodeGivesUp: on ZooKeeper / etcd a persistent lock
// node (left by an original Codis dashboard) never goes away by itself, so
// the dashboard does not wait for it forever: it gives up as the original
// did, naming --remove-lock.
func TestLockPersistentNodeGivesUp(t *testing.T) {
	for _, name := range []string{"zookeeper", "etcd"} {
		t.Run(name, func(t *testing.T) {
			addr := coordinator(t, name)
			store := storeAt(t, name, addr)
			if err := store.Acquire(&models.Topom{Token: "original", AdminAddr: "127.0.0.1:1", ProductName: "test"}); err != nil {
				t.Fatal(err)
			}
			top := startDashboard(t, name, addr, 5*time.Second)
			select {
			case <-top.Done():
			case <-time.After(30 * time.Second):
				t.Fatal("dashboard did not give up")
			}
			if !errors.Is(top.Err(), ErrGiveUp) || !strings.Contains(top.Err().Error(), "--remove-lock") {
				t.Fatalf("Err = %v", top.Err())
			}
			if l, err := store.LoadTopom(true); err != nil || l.Token != "original" {
				t.Fatalf("lock = %+v, %v", l, err)
			}
		})
	}
}
