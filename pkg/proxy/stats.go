package proxy

import (
	"os"
	"runtime"
	"sort"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/prometheus/client_golang/prometheus"
)

// Stats holds one proxy's counters (SPEC-data §D.13). There is no global
// state: every Proxy owns its Stats.
type Stats struct {
	total       atomic.Int64
	fails       atomic.Int64
	redisErrors atomic.Int64
	qps         atomic.Int64

	sessTotal atomic.Int64
	sessAlive atomic.Int64

	ops atomic.Pointer[opStatsSet]
	m   *metrics

	rusageMu sync.Mutex // protects rusage
	rusage   RusageStats
}

// opStatsSet is one generation of per-command counters; reset swaps in a
// new one.
type opStatsSet struct {
	byID []atomic.Pointer[opStats] // table commands, by opInfo.id
	mu   sync.RWMutex              // protects byName
	// commands outside the table, by upper-cased name
	byName map[string]*opStats
}

type opStats struct {
	name      string
	calls     atomic.Int64
	usecs     atomic.Int64
	fails     atomic.Int64
	redisErrs atomic.Int64
	prom      *opMetrics
}

func newStats(m *metrics) *Stats {
	s := &Stats{m: m}
	s.ops.Store(newOpStatsSet())
	return s
}

func newOpStatsSet() *opStatsSet {
	return &opStatsSet{byID: make([]atomic.Pointer[opStats], len(opList)), byName: map[string]*opStats{}}
}

// opFor returns the counters of a request's command, creating them on
// first use. It does not allocate once the command has been seen.
func (s *Stats) opFor(op *opInfo, name []byte) *opStats {
	set := s.ops.Load()
	if op != nil && op.id >= 0 {
		if st := set.byID[op.id].Load(); st != nil {
			return st
		}
		st := &opStats{name: op.Name, prom: s.m.forOp(op.Name)}
		if set.byID[op.id].CompareAndSwap(nil, st) {
			return st
		}
		return set.byID[op.id].Load()
	}
	set.mu.RLock()
	st := set.byName[string(name)]
	set.mu.RUnlock()
	if st != nil {
		return st
	}
	set.mu.Lock()
	defer set.mu.Unlock()
	if st = set.byName[string(name)]; st == nil {
		n := string(name)
		st = &opStats{name: n, prom: s.m.forOp(n)}
		set.byName[n] = st
	}
	return st
}

// record accounts one reply written to a client.
func (s *Stats) record(op *opInfo, name []byte, d time.Duration, isErr, fail bool) {
	st := s.opFor(op, name)
	us := d.Microseconds()
	st.calls.Add(1)
	st.usecs.Add(us)
	if isErr {
		st.redisErrs.Add(1)
		s.redisErrors.Add(1)
	}
	if fail {
		st.fails.Add(1)
		s.fails.Add(1)
	}
	if p := st.prom; p != nil {
		p.calls.Inc()
		p.latency.Observe(d.Seconds())
		if isErr {
			p.errors.Inc()
		}
	}
}

// recordFail accounts a request that got no reply (session died).
func (s *Stats) recordFail(op *opInfo, name []byte) {
	s.fails.Add(1)
	s.opFor(op, name).fails.Add(1)
}

// Reset clears the per-command map, total, fails and redis errors, and sets
// sessions.total to the number of alive sessions.
func (s *Stats) Reset() {
	s.ops.Store(newOpStatsSet())
	s.total.Store(0)
	s.fails.Store(0)
	s.redisErrors.Store(0)
	s.sessTotal.Store(s.sessAlive.Load())
}

// OpStats is one entry of stats.ops.cmd.
type OpStats struct {
	OpStr        string `json:"opstr"`
	Calls        int64  `json:"calls"`
	Usecs        int64  `json:"usecs"`
	UsecsPercall int64  `json:"usecs_percall"`
	Fails        int64  `json:"fails"`
	RedisErrType int64  `json:"redis_errtype"`
}

// opStatsList returns every command's counters sorted by name.
func (s *Stats) opStatsList() []*OpStats {
	set := s.ops.Load()
	var all []*opStats
	for i := range set.byID {
		if st := set.byID[i].Load(); st != nil {
			all = append(all, st)
		}
	}
	set.mu.RLock()
	for _, st := range set.byName {
		all = append(all, st)
	}
	set.mu.RUnlock()
	out := make([]*OpStats, 0, len(all))
	for _, st := range all {
		o := &OpStats{
			OpStr:        st.name,
			Calls:        st.calls.Load(),
			Usecs:        st.usecs.Load(),
			Fails:        st.fails.Load(),
			RedisErrType: st.redisErrs.Load(),
		}
		if o.Calls != 0 {
			o.UsecsPercall = o.Usecs / o.Calls
		}
		out = append(out, o)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].OpStr < out[j].OpStr })
	return out
}

// RusageStats is stats.rusage.
type RusageStats struct {
	Now string    `json:"now"`
	CPU float64   `json:"cpu"`
	Mem int64     `json:"mem"`
	Raw RusageRaw `json:"raw"`
}

// RusageRaw is stats.rusage.raw.
type RusageRaw struct {
	Utime      int64 `json:"utime"`
	Stime      int64 `json:"stime"`
	Cutime     int64 `json:"cutime"`
	Cstime     int64 `json:"cstime"`
	NumThreads int   `json:"num_threads"`
	VmSize     int64 `json:"vm_size"`
	VmRss      int64 `json:"vm_rss"`
}

// sampleRusage reads the process usage; prev is the previous sample.
func sampleRusage(prev *RusageStats, prevAt time.Time, now time.Time) RusageStats {
	var ru, cru syscall.Rusage
	_ = syscall.Getrusage(syscall.RUSAGE_SELF, &ru)
	_ = syscall.Getrusage(syscall.RUSAGE_CHILDREN, &cru)
	r := RusageStats{Now: now.String()}
	r.Raw.Utime = ru.Utime.Nano()
	r.Raw.Stime = ru.Stime.Nano()
	r.Raw.Cutime = cru.Utime.Nano()
	r.Raw.Cstime = cru.Stime.Nano()
	if data, err := os.ReadFile("/proc/self/stat"); err == nil {
		// fields after the ")" of the command name
		if i := strings.LastIndexByte(string(data), ')'); i >= 0 {
			f := strings.Fields(string(data[i+1:]))
			// f[0] is field 3 (state); num_threads is field 20, vsize 23, rss 24
			if len(f) > 22 {
				r.Raw.NumThreads, _ = strconv.Atoi(f[17])
				r.Raw.VmSize, _ = strconv.ParseInt(f[20], 10, 64)
				pages, _ := strconv.ParseInt(f[21], 10, 64)
				r.Raw.VmRss = pages * int64(os.Getpagesize())
			}
		}
	}
	r.Mem = r.Raw.VmRss
	if prev != nil && !prevAt.IsZero() {
		el := now.Sub(prevAt)
		used := (r.Raw.Utime + r.Raw.Stime) - (prev.Raw.Utime + prev.Raw.Stime)
		if el > 0 {
			r.CPU = float64(used) / float64(el.Nanoseconds())
		}
	}
	return r
}

// RuntimeStats is stats.runtime (flag 4).
type RuntimeStats struct {
	General struct {
		Alloc   uint64 `json:"alloc"`
		Sys     uint64 `json:"sys"`
		Lookups uint64 `json:"lookups"`
		Mallocs uint64 `json:"mallocs"`
		Frees   uint64 `json:"frees"`
	} `json:"general"`
	Heap struct {
		Alloc   uint64 `json:"alloc"`
		Sys     uint64 `json:"sys"`
		Idle    uint64 `json:"idle"`
		Inuse   uint64 `json:"inuse"`
		Objects uint64 `json:"objects"`
	} `json:"heap"`
	GC struct {
		Num          uint32  `json:"num"`
		CPUFraction  float64 `json:"cpu_fraction"`
		TotalPauseMs uint64  `json:"total_pausems"`
	} `json:"gc"`
	NumProcs      int   `json:"num_procs"`
	NumGoroutines int   `json:"num_goroutines"`
	NumCgoCall    int64 `json:"num_cgo_call"`
	MemOffheap    int64 `json:"mem_offheap"`
}

func runtimeStats() *RuntimeStats {
	var ms runtime.MemStats
	runtime.ReadMemStats(&ms)
	r := &RuntimeStats{}
	r.General.Alloc = ms.Alloc
	r.General.Sys = ms.Sys
	r.General.Lookups = ms.Lookups
	r.General.Mallocs = ms.Mallocs
	r.General.Frees = ms.Frees
	r.Heap.Alloc = ms.HeapAlloc
	r.Heap.Sys = ms.HeapSys
	r.Heap.Idle = ms.HeapIdle
	r.Heap.Inuse = ms.HeapInuse
	r.Heap.Objects = ms.HeapObjects
	r.GC.Num = ms.NumGC
	r.GC.CPUFraction = ms.GCCPUFraction
	r.GC.TotalPauseMs = ms.PauseTotalNs / uint64(time.Millisecond)
	r.NumProcs = runtime.GOMAXPROCS(0)
	r.NumGoroutines = runtime.NumGoroutine()
	r.NumCgoCall = runtime.NumCgoCall()
	return r
}

// metrics is one proxy's Prometheus registry.
type metrics struct {
	reg      *prometheus.Registry
	calls    *prometheus.CounterVec
	errors   *prometheus.CounterVec
	latency  *prometheus.HistogramVec
	mu       sync.Mutex // protects byOp
	byOp     map[string]*opMetrics
	sessions prometheus.Gauge
}

type opMetrics struct {
	calls   prometheus.Counter
	errors  prometheus.Counter
	latency prometheus.Observer
}

func (m *metrics) forOp(name string) *opMetrics {
	if m == nil {
		return nil
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	if om := m.byOp[name]; om != nil {
		return om
	}
	om := &opMetrics{
		calls:   m.calls.WithLabelValues(name),
		errors:  m.errors.WithLabelValues(name),
		latency: m.latency.WithLabelValues(name),
	}
	m.byOp[name] = om
	return om
}
