package procs

import (
	"context"
	"runtime"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

func TestNext(t *testing.T) {
	cases := []struct {
		cur, lo, hi int
		usage       float64
		want        int
	}{
		{4, 4, 8, 3.5, 5},  // busy: grow
		{4, 4, 8, 3.2, 5},  // exactly 80 %
		{4, 4, 8, 3.0, 4},  // between thresholds: stay
		{5, 4, 8, 2.0, 4},  // idle: shrink
		{4, 4, 8, 0.1, 4},  // never below lo
		{8, 4, 8, 7.9, 8},  // never above hi
		{6, 4, 8, 3.1, 6},  // 3.1 > 0.6*5: stay
		{6, 4, 8, 3.0, 5},  // 3.0 <= 0.6*5: shrink
		{1, 1, 2, 0.0, 1},  // one processor never shrinks to zero
		{2, 4, 8, 0.0, 4},  // raised into the bounds
		{10, 4, 8, 9.0, 8}, // lowered into the bounds
	}
	for _, c := range cases {
		if got := Next(c.cur, c.lo, c.hi, c.usage); got != c.want {
			t.Errorf("Next(%d, %d, %d, %.1f) = %d, want %d", c.cur, c.lo, c.hi, c.usage, got, c.want)
		}
	}
	// No oscillation: a steady load settles on one value.
	for usage := 0.0; usage < 8; usage += 0.05 {
		n := 4
		for range 20 {
			n = Next(n, 1, 16, usage)
		}
		if m := Next(n, 1, 16, usage); m != n {
			t.Fatalf("usage %.2f oscillates between %d and %d", usage, n, m)
		}
	}
}

func TestCPUTimeGrows(t *testing.T) {
	a, err := CPUTime()
	if err != nil {
		t.Fatal(err)
	}
	deadline := time.Now().Add(10 * time.Second)
	for x := 0; ; x++ {
		_ = x * x
		if x%100000 == 0 {
			b, err := CPUTime()
			if err != nil {
				t.Fatal(err)
			}
			if b-a >= 20*time.Millisecond {
				return
			}
			if time.Now().After(deadline) {
				t.Fatalf("CPU time grew by only %v in 10 s of spinning", b-a)
			}
		}
	}
}

// TestTunerFollowsLoad runs the tuner on a synthetic CPU clock: while the
// process "uses" 3 cores it grows to hi, when it goes idle it shrinks back
// to lo, one processor per interval.
func TestTunerFollowsLoad(t *testing.T) {
	defer runtime.GOMAXPROCS(runtime.GOMAXPROCS(0))
	var mu sync.Mutex
	var cpu time.Duration
	load := 3.0 // cores
	lastAt := time.Now()
	sample := func() (time.Duration, error) {
		mu.Lock()
		defer mu.Unlock()
		now := time.Now()
		cpu += time.Duration(load * float64(now.Sub(lastAt)))
		lastAt = now
		return cpu, nil
	}
	setLoad := func(l float64) { sample(); mu.Lock(); load = l; mu.Unlock() }

	var grew, shrank atomic.Int64
	tu := &Tuner{Lo: 1, Hi: 3, Interval: 20 * time.Millisecond, CPU: sample,
		OnChange: func(from, to int, usage float64) {
			if to > from {
				grew.Add(1)
			} else {
				shrank.Add(1)
			}
		}}
	ctx, cancel := context.WithCancel(context.Background())
	var wg sync.WaitGroup
	wg.Add(1)
	go func() { defer wg.Done(); tu.Run(ctx) }()
	defer func() { cancel(); wg.Wait() }()

	waitFor(t, 5*time.Second, func() bool { return grew.Load() == 2 && runtime.GOMAXPROCS(0) == 3 })
	setLoad(0.1)
	waitFor(t, 5*time.Second, func() bool { return shrank.Load() == 2 && runtime.GOMAXPROCS(0) == 1 })
}

func TestTunerFixed(t *testing.T) {
	defer runtime.GOMAXPROCS(runtime.GOMAXPROCS(0))
	ctx, cancel := context.WithTimeout(context.Background(), 50*time.Millisecond)
	defer cancel()
	(&Tuner{Lo: 3, Hi: 3, Interval: time.Millisecond}).Run(ctx)
	if n := runtime.GOMAXPROCS(0); n != 3 {
		t.Fatalf("GOMAXPROCS = %d, want 3", n)
	}
}

func waitFor(t *testing.T, d time.Duration, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(d)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("GOMAXPROCS stayed %d", runtime.GOMAXPROCS(0))
		}
		time.Sleep(5 * time.Millisecond)
	}
}
