// Package procs tunes GOMAXPROCS between two bounds from the process's
// measured CPU usage, as codis-proxy's --ncpu/--max-ncpu do: a proxy that
// keeps its processors busy gets one more, one that leaves them idle gives
// one back.
package procs

import (
	"context"
	"runtime"
	"syscall"
	"time"
)

// Thresholds of Next, in cores used per processor.
const (
	// GrowAt: usage at or above this fraction of the current
	// GOMAXPROCS adds a processor.
	GrowAt = 0.8
	// ShrinkAt: usage at or below this fraction of one processor less
	// removes one. The gap to GrowAt keeps the tuner from oscillating.
	ShrinkAt = 0.6
)

// Next is the GOMAXPROCS to use after a sample in which the process used
// usage cores (CPU seconds per wall second) with cur processors, kept
// within [lo, hi].
func Next(cur, lo, hi int, usage float64) int {
	n := cur
	switch {
	case usage >= GrowAt*float64(cur):
		n = cur + 1
	case cur > 1 && usage <= ShrinkAt*float64(cur-1):
		n = cur - 1
	}
	return min(max(n, lo), hi)
}

// CPUTime is the user+system CPU time the process has used so far.
func CPUTime() (time.Duration, error) {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0, err
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano()), nil
}

// Tuner adjusts GOMAXPROCS every Interval. The zero value is not usable;
// fill Lo, Hi and Interval.
type Tuner struct {
	Lo, Hi   int
	Interval time.Duration
	// OnChange, if set, is called after each change (for logging).
	OnChange func(from, to int, usage float64)
	// CPU, if set, replaces CPUTime as the source of samples.
	CPU func() (time.Duration, error)
}

// Run sets GOMAXPROCS to Lo, then samples and tunes until ctx is done.
// With Hi <= Lo it only sets Lo and waits for ctx.
func (t *Tuner) Run(ctx context.Context) {
	runtime.GOMAXPROCS(t.Lo)
	if t.Hi <= t.Lo {
		<-ctx.Done()
		return
	}
	cpu := t.CPU
	if cpu == nil {
		cpu = CPUTime
	}
	tick := time.NewTicker(t.Interval)
	defer tick.Stop()
	last, lastErr := cpu()
	lastAt := time.Now()
	for {
		select {
		case <-ctx.Done():
			return
		case <-tick.C:
		}
		now, err := cpu()
		at := time.Now()
		if err == nil && lastErr == nil {
			usage := float64(now-last) / float64(at.Sub(lastAt))
			cur := runtime.GOMAXPROCS(0)
			if n := Next(cur, t.Lo, t.Hi, usage); n != cur {
				runtime.GOMAXPROCS(n)
				if t.OnChange != nil {
					t.OnChange(cur, n, usage)
				}
			}
		}
		last, lastErr, lastAt = now, err, at
	}
}
