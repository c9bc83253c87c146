package server

import (
	"errors"
	"strconv"
	"testing"
	"time"
)

// TestIdleGCWorth checks the decision from heap figures.
func TestIdleGCWorth(t *testing.T) {
	const M = 1 << 20
	for _, tc := range []struct {
		live, goal, objects uint64
		want                bool
	}{
		{200 * M, 300 * M, 260 * M, true},  // 60 of 100 MB of headroom used
		{200 * M, 300 * M, 240 * M, false}, // 40 of 100: not yet
		{20 * M, 30 * M, 29 * M, false},    // below the 16 MB minimum
		{200 * M, 300 * M, 200 * M, false}, // nothing new
		{200 * M, 300 * M, 190 * M, false}, // less than live (freed by a delete)
		{200 * M, 0, 240 * M, false},       // no goal reported
	} {
		if got := idleGCWorth(tc.live, tc.goal, tc.objects, idleGCMinGrowth); got != tc.want {
			t.Errorf("idleGCWorth(%d, %d, %d MB) = %v, want %v", tc.live/M, tc.goal/M, tc.objects/M, got, tc.want)
		}
	}
}

// TestIdleGC: a server collects once it has been idle for idleGCAfter,
// not while commands keep coming, once per idle period, and never with
// CODIS_IDLE_GC=off.
func TestIdleGC(t *testing.T) {
	start := func() *Server {
		s := startServer(t, "hz", "50")
		s.mu.Lock()
		s.idle.worth = func() bool { return true }
		s.mu.Unlock()
		return s
	}
	s := start()
	c := dial(t, s.Addr().String())
	// Busy: a command every 50 ms for 600 ms.
	for i := 0; i < 12; i++ {
		c.expect("+OK", "SET", "k", strconv.Itoa(i))
		time.Sleep(50 * time.Millisecond)
	}
	if n := s.idle.collections.Load(); n != 0 {
		t.Fatalf("%d idle collections while busy", n)
	}
	checkFor(t, 5*time.Second, func() error {
		if s.idle.collections.Load() == 0 {
			return errors.New("no idle collection yet")
		}
		return nil
	})
	// One per idle period: the next one comes idleGCAfter later at the
	// earliest (the decision is left to worth, always true here).
	n := s.idle.collections.Load()
	time.Sleep(idleGCAfter / 2)
	if got := s.idle.collections.Load(); got > n+1 {
		t.Fatalf("%d idle collections within %v, from %d", got, idleGCAfter/2, n)
	}

	t.Setenv("CODIS_IDLE_GC", "off")
	s2 := start()
	dial(t, s2.Addr().String()).expect("+OK", "SET", "k", "v")
	time.Sleep(time.Second)
	if got := s2.idle.collections.Load(); got != 0 {
		t.Fatalf("%d idle collections with CODIS_IDLE_GC=off", got)
	}
}
