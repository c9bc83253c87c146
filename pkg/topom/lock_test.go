package topom

import (
	"errors"
	"runtime"
	"testing"
	"time"

	"github.com/codisgo/codis/pkg/models"
	"github.com/codisgo/codis/pkg/testenv"
)

func TestLockSecondDashboardWaits(t *testing.T) {
	e := newEnv(t)
	first := e.top
	firstModel := first.Model()

	second := e.start(false)
	// The second dashboard serves at once but is not online.
	e.ok(get, "/api/topom/xping/"+e.xauth)
	var m models.Topom
	e.getJSON("/api/topom/model", &m)
	if m.Token != second.Model().Token {
		t.Fatal("model of the second dashboard")
	}
	e.fail(get, "/api/topom/stats/"+e.xauth, "topom is not online")
	e.fail(put, e.api("group/create", 1), "topom is not online")
	e.fail(get, "/topom", "topom is not online")
	time.Sleep(300 * time.Millisecond) // a few lock attempts
	if second.IsOnline() {
		t.Fatal("second dashboard online while the first holds the lock")
	}
	lock, _ := e.store.LoadTopom(true)
	if lock.Token != firstModel.Token {
		t.Fatal("lock node overwritten")
	}

	// Shutting the first down over the API releases the lock: the second
	// takes over.
	e.base = "http://" + first.AdminAddr()
	e.ok(put, e.api("shutdown"))
	select {
	case <-first.Done():
	case <-time.After(10 * time.Second):
		t.Fatal("first dashboard did not stop")
	}
	if first.Err() != nil {
		t.Fatalf("Err after shutdown: %v", first.Err())
	}
	checkFor(t, 10*time.Second, "second dashboard online", second.IsOnline)
	lock, _ = e.store.LoadTopom(true)
	if lock.Token != second.Model().Token {
		t.Fatal("lock not taken by the second dashboard")
	}
	second.Close()
	if lock, _ := e.store.LoadTopom(false); lock != nil {
		t.Fatal("Close did not release the lock")
	}
	second.Close() // idempotent
}

func TestLockGiveUp(t *testing.T) {
	e := newEnv(t)
	first := e.top
	second := e.startRetry(false, time.Millisecond)
	select {
	case <-second.Done():
	case <-time.After(20 * time.Second):
		t.Fatal("second dashboard did not give up")
	}
	if !errors.Is(second.Err(), ErrGiveUp) {
		t.Fatalf("Err = %v", second.Err())
	}
	// The first dashboard's lock is untouched.
	lock, _ := e.store.LoadTopom(true)
	if lock.Token != first.Model().Token || !first.IsOnline() {
		t.Fatal("lock lost")
	}
}

func TestCloseWithoutStart(t *testing.T) {
	client, err := models.NewClient("filesystem", t.TempDir(), "", time.Second)
	if err != nil {
		t.Fatal(err)
	}
	top, err := New(client, testConfig(t.TempDir()), Options{})
	if err != nil {
		t.Fatal(err)
	}
	if err := top.Close(); err != nil {
		t.Fatal(err)
	}
	if err := top.Start(); !errors.Is(err, ErrClosed) {
		t.Fatalf("Start after Close: %v", err)
	}
}

func TestNewValidates(t *testing.T) {
	client, _ := models.NewClient("filesystem", t.TempDir(), "", time.Second)
	defer client.Close()
	cfg := testConfig(t.TempDir())
	cfg.ProductName = "bad name"
	if _, err := New(client, cfg, Options{}); err == nil {
		t.Fatal("invalid product accepted")
	}
}

func TestLockLostStepsDown(t *testing.T) {
	e := newEnv(t)
	// Another tool removes the lock and another dashboard takes it.
	if err := e.store.Release(); err != nil {
		t.Fatal(err)
	}
	other := &models.Topom{Token: "other", AdminAddr: "127.0.0.1:1", ProductName: "test"}
	if err := e.store.Acquire(other); err != nil {
		t.Fatal(err)
	}
	select {
	case <-e.top.Done():
	case <-time.After(15 * time.Second):
		t.Fatal("dashboard did not step down")
	}
	if !errors.Is(e.top.Err(), ErrLockLost) {
		t.Fatalf("Err = %v", e.top.Err())
	}
	lock, _ := e.store.LoadTopom(true)
	if lock.Token != "other" {
		t.Fatal("the successor's lock was deleted")
	}
}

// TestCoordinators runs a dashboard on real ZooKeeper and etcd: the lock
// is created, a second dashboard cannot take it, an operation is stored,
// and Close deletes the lock.
func TestCoordinators(t *testing.T) {
	for _, name := range []string{"zookeeper", "etcd"} {
		t.Run(name, func(t *testing.T) {
			var addr string
			if name == "zookeeper" {
				addr = testenv.StartZooKeeper(t).Addr
			} else {
				addr = "http://" + testenv.StartEtcd(t).Addr
			}
			newTop := func() *Topom {
				client, err := models.NewClient(name, addr, "", 10*time.Second)
				if err != nil {
					t.Fatal(err)
				}
				cfg := testConfig("")
				cfg.CoordinatorName, cfg.CoordinatorAddr = name, addr
				top, err := New(client, cfg, Options{Logger: testLogger()})
				if err != nil {
					t.Fatal(err)
				}
				top.lockRetry = 50 * time.Millisecond
				if err := top.Start(); err != nil {
					t.Fatal(err)
				}
				t.Cleanup(func() { top.Close() })
				return top
			}
			first := newTop()
			checkFor(t, 20*time.Second, "online", first.IsOnline)
			second := newTop()
			if err := first.CreateGroup(4); err != nil {
				t.Fatal(err)
			}
			client, err := models.NewClient(name, addr, "", 10*time.Second)
			if err != nil {
				t.Fatal(err)
			}
			store, _ := models.NewStore(client, "test")
			defer store.Close()
			if g, err := store.LoadGroup(4); err != nil || g == nil {
				t.Fatalf("group 4: %v %v", g, err)
			}
			if second.IsOnline() {
				t.Fatal("two dashboards online")
			}
			first.Close()
			checkFor(t, 20*time.Second, "second online", second.IsOnline)
			lock, err := store.LoadTopom(true)
			if err != nil || lock.Token != second.Model().Token {
				t.Fatalf("lock %+v %v", lock, err)
			}
			second.Close()
			if lock, err := store.LoadTopom(false); err != nil || lock != nil {
				t.Fatalf("lock after Close: %+v %v", lock, err)
			}
		})
	}
}

func TestCloseStopsEveryGoroutine(t *testing.T) {
	base := runtime.NumGoroutine()
	root := t.TempDir()
	for i := 0; i < 3; i++ {
		client, err := models.NewClient("filesystem", root, "", 5*time.Second)
		if err != nil {
			t.Fatal(err)
		}
		top, err := New(client, testConfig(root), Options{Logger: testLogger()})
		if err != nil {
			t.Fatal(err)
		}
		if err := top.Start(); err != nil {
			t.Fatal(err)
		}
		checkFor(t, 10*time.Second, "online", top.IsOnline)
		if err := top.Close(); err != nil {
			t.Fatal(err)
		}
	}
	checkFor(t, 5*time.Second, "goroutines to stop", func() bool { return runtime.NumGoroutine() <= base })
}
