package models

import (
	"errors"
	iofs "io/fs"
	"strings"
	"testing"
	"time"
)

// The lock primitive itself is checked on every backend by the
// conformance suite; these tests check the Store wiring on the real
// filesystem backend.

func newFSStore(t *testing.T, root string) *Store {
	t.Helper()
	c, err := NewClient("fs", root, "", 5*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	s, err := NewStore(c, "demo")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	return s
}

func TestStoreAcquireLockNotSupported(t *testing.T) {
	s, _ := newTestStore(t)
	if _, err := s.AcquireLock(&Topom{Token: "t"}); !errors.Is(err, ErrLockNotSupported) {
		t.Fatalf("AcquireLock on a non-Locker = %v", err)
	}
	if s.EphemeralLocks() {
		t.Fatal("EphemeralLocks on a non-Locker")
	}
	if _, err := s.AcquireLock(nil); !errors.Is(err, ErrNilModel) {
		t.Fatalf("AcquireLock(nil) = %v", err)
	}
}

func TestStoreFencedWrites(t *testing.T) {
	root := t.TempDir()
	s := newFSStore(t, root)
	other := newFSStore(t, root)
	if s.EphemeralLocks() {
		t.Fatal("filesystem locks reported ephemeral")
	}
	me := &Topom{Token: "me", StartTime: "t0", AdminAddr: "127.0.0.1:18080", ProductName: "demo"}
	lock, err := s.AcquireLock(me)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := other.AcquireLock(&Topom{Token: "you"}); !errors.Is(err, iofs.ErrExist) {
		t.Fatalf("second AcquireLock = %v", err)
	}
	if got, err := other.LoadTopom(true); err != nil || got.Token != "me" {
		t.Fatalf("LoadTopom = %+v, %v", got, err)
	}
	if l, err := ListDashboards(other.Client()); err != nil || len(l) != 1 || l[0].Dashboard != me.AdminAddr {
		t.Fatalf("ListDashboards = %+v, %v", l, err)
	}
	f := s.Fenced(lock)
	if f.Lock() != lock || s.Lock() != nil || f.Product() != "demo" {
		t.Fatal("Fenced accessors")
	}
	writes := func(st *Store) []error {
		return []error{
			st.UpdateSlotMapping(&SlotMapping{ID: 1, GroupID: 2}),
			st.UpdateGroup(&Group{ID: 2}),
			st.UpdateProxy(&Proxy{Token: "p1"}),
			st.UpdateSentinel(&Sentinel{Servers: []string{"127.0.0.1:26379"}}),
			st.DeleteProxy("p1"),
			st.DeleteGroup(3),
		}
	}
	for i, err := range writes(f) {
		if err != nil {
			t.Fatalf("fenced write %d: %v", i, err)
		}
	}
	if m, _ := other.LoadSlotMapping(1); m.GroupID != 2 {
		t.Fatal("fenced slot write not visible")
	}
	// --remove-lock: every fenced write now fails and writes nothing.
	if err := other.Client().Delete(other.LockPath()); err != nil {
		t.Fatal(err)
	}
	for i, err := range writes(f) {
		if !errors.Is(err, ErrLockLost) {
			t.Fatalf("fenced write %d after the lock was removed = %v", i, err)
		}
	}
	if err := f.UpdateGroup(&Group{ID: 9}); err == nil || !strings.HasPrefix(err.Error(), "store: update group-[9] failed: ") {
		t.Fatalf("error text: %v", err)
	}
	if g, _ := other.LoadGroup(9); g != nil {
		t.Fatal("fenced write landed after the lock was removed")
	}
	select {
	case <-lock.Done():
	case <-time.After(10 * time.Second):
		t.Fatal("Done did not fire")
	}
	// A successor's lock is not released by the old holder.
	succ, err := other.AcquireLock(&Topom{Token: "succ"})
	if err != nil {
		t.Fatal(err)
	}
	if err := f.Release(); !errors.Is(err, ErrLockLost) {
		t.Fatalf("Release of a lost lock = %v", err)
	}
	if got, _ := other.LoadTopom(true); got.Token != "succ" {
		t.Fatal("successor's lock deleted")
	}
	if err := other.Fenced(succ).Release(); err != nil {
		t.Fatal(err)
	}
	if got, _ := other.LoadTopom(false); got != nil {
		t.Fatal("Release did not delete the lock")
	}
	// Unfenced writes are unaffected.
	for i, err := range writes(s) {
		if err != nil {
			t.Fatalf("plain write %d: %v", i, err)
		}
	}
}
