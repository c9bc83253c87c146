package server

import (
	"os"
	"runtime"
	"runtime/metrics"
	"sync/atomic"
	"time"
)

// Idle-time garbage collection. A Go heap is collected when it has grown
// by GOGC percent (50 for codis-server) since the last collection; on a
// large data set a collection is hundreds of milliseconds of CPU, taken
// from whatever requests are running then. When the server has run no
// command for idleGCAfter and the heap has used a good part of that
// growth, the cron starts a collection at once, so that the next burst of
// requests starts with the full headroom instead of paying for a
// collection half way. A server that never pauses gets no benefit (nor
// cost): collections then happen as before, during its work. Free memory
// is not handed back here (the runtime's scavenger does that): touching
// fresh pages again would cost the next burst page faults.
// CODIS_IDLE_GC=off disables it.

const (
	// idleGCAfter is how long the server must have been idle.
	idleGCAfter = 200 * time.Millisecond
	// idleGCMinGrowth: collect when the heap holds at least this much
	// more than the live data of the last collection...
	idleGCMinGrowth = 16 << 20
	// ...and at least 1/idleGCGrowthDiv of the growth allowed before the
	// next automatic collection.
	idleGCGrowthDiv = 2
)

// idleGC is the cron's state for it (mu held, except running).
type idleGC struct {
	disabled bool
	worth    func() bool // replaces worthIt (tests)
	lastN    int64       // numCommands when last seen changing
	since    time.Time   // when lastN was seen
	running  atomic.Bool
	samples  []metrics.Sample
	// collections counts the idle collections (tests).
	collections atomic.Int64
}

func newIdleGC() *idleGC {
	g := &idleGC{disabled: os.Getenv("CODIS_IDLE_GC") == "off"}
	g.samples = []metrics.Sample{
		{Name: "/gc/heap/live:bytes"},
		{Name: "/gc/heap/goal:bytes"},
		{Name: "/memory/classes/heap/objects:bytes"},
	}
	return g
}

// idleGCTick is called by the cron with mu held.
func (s *Server) idleGCTick(now time.Time) {
	g := s.idle
	if g.disabled {
		return
	}
	if n := s.st.numCommands; n != g.lastN || g.since.IsZero() {
		g.lastN, g.since = n, now
		return
	}
	if now.Sub(g.since) < idleGCAfter || g.running.Load() || s.ks.snap != nil {
		return
	}
	if !g.worthIt() {
		return
	}
	g.running.Store(true)
	g.since = now // look again only after another idle period
	s.wg.Add(1)
	go func() {
		defer s.wg.Done()
		defer g.running.Store(false)
		runtime.GC()
		g.collections.Add(1)
	}()
}

// worthIt reports whether the heap grew enough since the last collection
// to collect now.
func (g *idleGC) worthIt() bool {
	if g.worth != nil {
		return g.worth()
	}
	metrics.Read(g.samples)
	v := func(i int) uint64 {
		if g.samples[i].Value.Kind() != metrics.KindUint64 {
			return 0
		}
		return g.samples[i].Value.Uint64()
	}
	return idleGCWorth(v(0), v(1), v(2), idleGCMinGrowth)
}

// idleGCWorth decides from the live heap of the last collection, the
// heap goal of the next one and the bytes in objects now (live or not yet
// collected).
func idleGCWorth(live, goal, objects, minGrowth uint64) bool {
	if objects <= live || goal <= live {
		return false
	}
	growth := objects - live
	return growth >= minGrowth && growth >= (goal-live)/idleGCGrowthDiv
}
