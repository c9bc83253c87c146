package server

import (
	"fmt"
	"math/rand/v2"
	"strings"
	"testing"
	"time"

	"github.com/codisgo/codis/pkg/resp"
	"github.com/codisgo/codis/pkg/utils/procs"
)

// Benchmarks modelling redis-benchmark's tests at -P 16 without the
// network: -n 200000 requests whose __rand_int__ is a 12-digit random
// number below 1,000,000 (-r 1000000) and -d 256 values. One benchmark
// iteration runs the 200,000 requests against a fresh server (processing
// them as the serve loop does, the output reset every 16 replies). The
// metrics are per request: ns/cmd in wall time, cpu-ns/cmd in process CPU
// time (GC included), the steadier one on a shared machine. Profile one
// with e.g.
//
//	go test -run '^$' -bench RBHset -cpu 1 -cpuprofile cpu.out ./pkg/server
//
// (-cpu 1: codis-server runs with GOMAXPROCS=1 by default).

const rbRequests = 200000

// rbKeys returns n keys prefix + 12-digit random number, as
// redis-benchmark's __rand_int__ with -r 1000000.
func rbKeys(prefix string, n int, seed uint64) [][]byte {
	r := rand.New(rand.NewPCG(seed, 1))
	out := make([][]byte, n)
	for i := range out {
		out[i] = []byte(fmt.Sprintf("%s%012d", prefix, r.IntN(1000000)))
	}
	return out
}

func rbClient() (*Server, *client) {
	s := New(nil, nil)
	c := &client{s: s, db: s.ks.dbs[0], authed: true, p: resp.NewParser(nil)}
	return s, c
}

// rbRun processes argvs (one per request) as a pipeline of 16.
func rbRun(c *client, argvs [][][]byte) {
	for i, argv := range argvs {
		c.processRequest(argv)
		if i%16 == 15 {
			c.out = c.out[:0]
		}
	}
	c.out = c.out[:0]
}

// rbBench runs setup (untimed) then the timed requests on a fresh server
// each iteration.
func rbBench(b *testing.B, setup, timed [][][]byte) {
	b.ReportAllocs()
	b.ResetTimer()
	var cpu time.Duration
	for i := 0; i < b.N; i++ {
		b.StopTimer()
		s, c := rbClient()
		s.mu.Lock()
		rbRun(c, setup)
		b.StartTimer()
		t0 := cpuTime()
		rbRun(c, timed)
		cpu += cpuTime() - t0
		b.StopTimer()
		s.mu.Unlock()
	}
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N*len(timed)), "ns/cmd")
	b.ReportMetric(float64(cpu.Nanoseconds())/float64(b.N*len(timed)), "cpu-ns/cmd")
}

// cpuTime is the process's user+system CPU time, less sensitive than wall
// time to other load on the machine.
func cpuTime() time.Duration {
	d, _ := procs.CPUTime()
	return d
}

func rbArgv(parts ...[]byte) [][]byte { return parts }

var rbValue = []byte(strings.Repeat("x", 256))

func BenchmarkRBSet(b *testing.B) {
	set := []byte("SET")
	var timed [][][]byte
	for _, k := range rbKeys("key:", rbRequests, 1) {
		timed = append(timed, rbArgv(set, k, rbValue))
	}
	rbBench(b, nil, timed)
}

func BenchmarkRBGet(b *testing.B) {
	set, get := []byte("SET"), []byte("GET")
	var setup, timed [][][]byte
	for _, k := range rbKeys("key:", rbRequests, 1) {
		setup = append(setup, rbArgv(set, k, rbValue))
	}
	for _, k := range rbKeys("key:", rbRequests, 2) {
		timed = append(timed, rbArgv(get, k))
	}
	// GET changes nothing but statistics: one server for every iteration.
	s, c := rbClient()
	s.mu.Lock()
	defer s.mu.Unlock()
	rbRun(c, setup)
	b.ReportAllocs()
	b.ResetTimer()
	t0 := cpuTime()
	for i := 0; i < b.N; i++ {
		rbRun(c, timed)
	}
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N*len(timed)), "ns/cmd")
	b.ReportMetric(float64((cpuTime()-t0).Nanoseconds())/float64(b.N*len(timed)), "cpu-ns/cmd")
}

func BenchmarkRBIncr(b *testing.B) {
	incr := []byte("INCR")
	var timed [][][]byte
	for _, k := range rbKeys("counter:", rbRequests, 3) {
		timed = append(timed, rbArgv(incr, k))
	}
	rbBench(b, nil, timed)
}

func BenchmarkRBSadd(b *testing.B) {
	sadd, key := []byte("SADD"), []byte("myset")
	var timed [][][]byte
	for _, m := range rbKeys("element:", rbRequests, 4) {
		timed = append(timed, rbArgv(sadd, key, m))
	}
	rbBench(b, nil, timed)
}

func BenchmarkRBHset(b *testing.B) {
	hset, key := []byte("HSET"), []byte("myhash")
	var timed [][][]byte
	for _, f := range rbKeys("element:", rbRequests, 5) {
		timed = append(timed, rbArgv(hset, key, f, rbValue))
	}
	rbBench(b, nil, timed)
}

func BenchmarkRBZadd(b *testing.B) {
	zadd, key := []byte("ZADD"), []byte("myzset")
	var timed [][][]byte
	scores := rbKeys("", rbRequests, 6)
	for i, m := range rbKeys("element:", rbRequests, 7) {
		timed = append(timed, rbArgv(zadd, key, scores[i], m))
	}
	rbBench(b, nil, timed)
}

// BenchmarkZbtInsert is the tree alone: 200,000 inserts of random
// scores below 1,000,000 with "element:<random>" members.
func BenchmarkZbtInsert(b *testing.B) {
	r := rand.New(rand.NewPCG(8, 9))
	type in struct {
		score  float64
		member string
	}
	ins := make([]in, rbRequests)
	for i := range ins {
		ins[i] = in{float64(r.IntN(1000000)), fmt.Sprintf("element:%012d", r.IntN(1000000))}
	}
	b.ReportAllocs()
	b.ResetTimer()
	var cpu time.Duration
	for i := 0; i < b.N; i++ {
		z := newZbtree(0)
		t0 := cpuTime()
		for _, x := range ins {
			z.insert(x.score, x.member)
		}
		cpu += cpuTime() - t0
	}
	b.ReportMetric(float64(cpu.Nanoseconds())/float64(b.N*len(ins)), "cpu-ns/cmd")
}
