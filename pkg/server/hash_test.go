package server

import (
	"fmt"
	"math/rand/v2"
	"os"
	"runtime"
	"strings"
	"testing"
	"time"
)

func checkHash(t *testing.T, h *hashObj, ref map[string]string) {
	t.Helper()
	if h.Len() != len(ref) {
		t.Fatalf("Len %d, want %d", h.Len(), len(ref))
	}
	seen := 0
	h.Each(func(f, v []byte) bool {
		seen++
		if want, ok := ref[string(f)]; !ok || want != string(v) {
			t.Fatalf("field %q = %q, want %q (present %v)", f, v, want, ok)
		}
		return true
	})
	if seen != len(ref) {
		t.Fatalf("Each yields %d pairs, want %d", seen, len(ref))
	}
	for f, v := range ref {
		got, ok := h.get([]byte(f))
		if !ok || string(got) != v {
			t.Fatalf("get(%q) = %q, %v", f, got, ok)
		}
	}
	if h.ht != nil {
		var mem int64
		for f, v := range h.ht.m {
			mem += hashEntryMem(f, v)
		}
		if mem != h.ht.mem {
			t.Fatalf("accounted %d bytes, recomputed %d", h.ht.mem, mem)
		}
	}
}

// TestHashStructure drives hashObj with random operations against a map
// and checks the one-way listpack → hashtable conversion.
func TestHashStructure(t *testing.T) {
	seed := uint64(time.Now().UnixNano())
	t.Logf("seed %d", seed)
	r := rand.New(rand.NewPCG(seed, 2))
	lim := defaultHashLimits
	for round := 0; round < 20; round++ {
		h := newHashObj()
		ref := map[string]string{}
		nfields := 10 + r.IntN(300)
		wasHT := false
		for step := 0; step < 2000; step++ {
			f := fmt.Sprintf("f%d", r.IntN(nfields))
			switch r.IntN(5) {
			case 0:
				if h.del([]byte(f)) != (ref[f] != "" || hasKey(ref, f)) {
					t.Fatalf("del %s disagrees", f)
				}
				delete(ref, f)
			default:
				v := fmt.Sprintf("v%d", r.IntN(1000))
				if r.IntN(500) == 0 {
					v = strings.Repeat("L", 65)
				}
				_, existed := ref[f]
				if isNew := h.set([]byte(f), []byte(v), lim); isNew == existed {
					t.Fatalf("set %s: new=%v, existed=%v", f, isNew, existed)
				}
				ref[f] = v
			}
			if wasHT && h.ht == nil {
				t.Fatal("hashtable converted back to listpack")
			}
			wasHT = h.ht != nil
			if h.ht == nil {
				if h.Len() > lim.entries {
					t.Fatalf("listpack with %d entries", h.Len())
				}
				for _, v := range ref {
					if len(v) > lim.value {
						t.Fatal("listpack holding a long value")
					}
				}
			}
			if step%101 == 0 {
				checkHash(t, h, ref)
			}
		}
		checkHash(t, h, ref)
		checkHash(t, h.Copy().(*hashObj), ref)
	}
}

func hasKey(m map[string]string, k string) bool { _, ok := m[k]; return ok }

func TestHashEncodingNames(t *testing.T) {
	h := newHashObj()
	lim := hashLimits{entries: 4, value: 8}
	for i := 0; i < 4; i++ {
		h.set([]byte(fmt.Sprint(i)), []byte("v"), lim)
	}
	if h.Encoding() != "listpack" {
		t.Fatalf("encoding %s with 4 fields", h.Encoding())
	}
	h.set([]byte("x"), []byte("v"), lim)
	if h.Encoding() != "hashtable" {
		t.Fatalf("encoding %s with 5 fields", h.Encoding())
	}
	h2 := newHashObj()
	h2.set([]byte("f"), []byte("123456789"), lim)
	if h2.Encoding() != "hashtable" {
		t.Fatalf("encoding %s with a 9-byte value", h2.Encoding())
	}
}

// TestHashMemory checks the per-field cost of both encodings.
func TestHashMemory(t *testing.T) {
	small := newHashObj()
	for i := 0; i < 100; i++ {
		small.set([]byte(fmt.Sprintf("field%d", i)), []byte(fmt.Sprint(i)), defaultHashLimits)
	}
	// ~12 bytes of field+value per pair plus 4 of headers.
	if per := float64(small.MemSize()) / 100; per > 25 {
		t.Fatalf("listpack: %.1f bytes per field", per)
	}
	big := newHashObj()
	for i := 0; i < 10000; i++ {
		big.set([]byte(fmt.Sprintf("field%d", i)), []byte(fmt.Sprint(i)), defaultHashLimits)
	}
	if per := float64(big.MemSize()) / 10000; per > 80 {
		t.Fatalf("hashtable: %.1f bytes per field", per)
	}
}

func TestParseScanCursor(t *testing.T) {
	for in, want := range map[string]uint64{"0": 0, "": 0, "+5": 5, "-1": 1<<64 - 1, "18446744073709551615": 1<<64 - 1} {
		if got, ok := parseScanCursor([]byte(in)); !ok || got != want {
			t.Errorf("%q: %d %v", in, got, ok)
		}
	}
	for _, in := range []string{"-", "+", " 1", "1 ", "x", "18446744073709551616", "0x1"} {
		if _, ok := parseScanCursor([]byte(in)); ok {
			t.Errorf("%q accepted", in)
		}
	}
}

// TestMemoryVsRedis loads the same strings, lists and hashes into both servers and
// compares our real heap growth with Redis's used_memory growth. It is slow,
// so it runs only with CODIS_MEMCMP=1.
func TestMemoryVsRedis(t *testing.T) {
	if os.Getenv("CODIS_MEMCMP") == "" {
		t.Skip("set CODIS_MEMCMP=1 to compare memory with redis-server")
	}
	rp := startRedis(t)
	s := startServer(t)
	ours, theirs := dial(t, s.Addr().String()), dial(t, rp.addr)
	type load struct {
		name string
		cmd  func(i int) []string
		n    int
	}
	loads := []load{
		{"strings", func(i int) []string {
			return []string{"SET", fmt.Sprintf("key:%d", i), fmt.Sprintf("%0100d", i)}
		}, 200000},
		{"small strings", func(i int) []string {
			return []string{"SET", fmt.Sprintf("counter:%d", i), fmt.Sprint(i)}
		}, 200000},
		{"small lists", func(i int) []string {
			return []string{"RPUSH", fmt.Sprintf("list:%d", i), "alpha", "beta", "gamma", "1", "22", "333", "delta", "x", "y", "z"}
		}, 50000},
		{"long list", func(i int) []string {
			return []string{"RPUSH", "biglist", fmt.Sprintf("element-%d", i), fmt.Sprint(i)}
		}, 200000},
		{"small hashes", func(i int) []string {
			return []string{"HSET", fmt.Sprintf("hash:%d", i), "name", "somebody", "age", "42", "city", "paris", "id", fmt.Sprint(i)}
		}, 50000},
		{"big hash", func(i int) []string {
			return []string{"HSET", "bighash", fmt.Sprintf("field:%d", i), fmt.Sprintf("value-%d", i)}
		}, 200000},
	}
	usedRedis := func() int64 {
		r := theirs.do("MEMORY", "STATS")
		for i := 0; i+1 < len(r.Elems); i += 2 {
			if r.Elems[i].Str == "total.allocated" {
				return r.Elems[i+1].Int
			}
		}
		t.Fatal("no total.allocated in MEMORY STATS")
		return 0
	}
	heap := func() int64 {
		var ms runtime.MemStats
		runtime.GC()
		runtime.GC()
		runtime.ReadMemStats(&ms)
		return int64(ms.HeapAlloc)
	}
	for _, ld := range loads {
		ours.expect("+OK", "FLUSHALL")
		theirs.expect("+OK", "FLUSHALL")
		accounted := func() int64 {
			s.mu.Lock()
			defer s.mu.Unlock()
			return s.ks.used
		}
		h0, r0, a0 := heap(), usedRedis(), accounted()
		for _, c := range []*testConn{ours, theirs} {
			for i := 0; i < ld.n; i++ {
				c.send(ld.cmd(i)...)
				if i%1000 == 999 {
					for j := 0; j < 1000; j++ {
						c.read()
					}
				}
			}
			for j := 0; j < ld.n%1000; j++ {
				c.read()
			}
		}
		h1, r1, a1 := heap(), usedRedis(), accounted()
		ratio := float64(h1-h0) / float64(r1-r0)
		acc := float64(a1-a0) / float64(h1-h0)
		t.Logf("%s: ours %d bytes (accounted %.2f of it), redis %d bytes, ratio %.2f", ld.name, h1-h0, acc, r1-r0, ratio)
		if acc < 0.7 || acc > 1.3 {
			t.Errorf("%s: used_memory accounts %.2f of the real heap growth", ld.name, acc)
		}
		if ratio > 1.5 {
			t.Errorf("%s: %.2f× Redis memory", ld.name, ratio)
		}
	}
}

// TestHashRandomPair checks that random fields of both encodings cover the
// whole hash.
func TestHashRandomPair(t *testing.T) {
	for _, n := range []int{5, 1000} {
		h := newHashObj()
		for i := 0; i < n; i++ {
			h.set([]byte(fmt.Sprint(i)), []byte("v"), defaultHashLimits)
		}
		seen := map[string]bool{}
		for i := 0; i < n*50 && len(seen) < n; i++ {
			seen[string(h.randomPair().f)] = true
		}
		if len(seen) < n*9/10 {
			t.Fatalf("%s hash of %d: only %d distinct random fields", h.Encoding(), n, len(seen))
		}
	}
}
