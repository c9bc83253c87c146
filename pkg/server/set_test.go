package server

import (
	"math"
	"math/rand/v2"
	"slices"
	"strconv"
	"testing"
)

// checkSet compares a setObject with a map model and its memory estimate
// with a recomputation.
func checkSet(t *testing.T, s *setObject, m map[string]bool) {
	t.Helper()
	if s.Len() != len(m) {
		t.Fatalf("len %d, model %d", s.Len(), len(m))
	}
	for k := range m {
		if !s.Has([]byte(k)) {
			t.Fatalf("member %q missing", k)
		}
	}
	got := s.Members()
	if len(got) != len(m) {
		t.Fatalf("Members returned %d", len(got))
	}
	if s.m == nil {
		if !slices.IsSorted(s.ints.values()) {
			t.Fatal("intset not sorted")
		}
		if s.ints.len() > setMaxIntsetEntries {
			t.Fatalf("intset with %d entries", s.ints.len())
		}
		return
	}
	var want int64
	for k := range s.m {
		want += setMemberOverhead + strAlloc(len(k))
	}
	if want != s.mem {
		t.Fatalf("running memory %d, recomputed %d", s.mem, want)
	}
}

func TestSetObjectModel(t *testing.T) {
	seed := rand.Uint64()
	t.Logf("seed %d", seed)
	r := rand.New(rand.NewPCG(seed, 3))
	for round := 0; round < 4; round++ {
		s := newSetObject()
		m := map[string]bool{}
		for step := 0; step < 4000; step++ {
			var member string
			switch {
			case round < 2 || r.IntN(50) > 0:
				member = strconv.Itoa(r.IntN(300+300*round) - 100)
			default:
				member = "x" + strconv.Itoa(r.IntN(10))
			}
			if r.IntN(3) > 0 {
				if s.Add([]byte(member), setMaxIntsetEntries) == m[member] {
					t.Fatalf("Add(%s) disagrees with the model", member)
				}
				m[member] = true
			} else {
				if s.Remove([]byte(member)) != m[member] {
					t.Fatalf("Remove(%s) disagrees with the model", member)
				}
				delete(m, member)
			}
			if step%250 == 0 {
				checkSet(t, s, m)
			}
		}
		checkSet(t, s, m)
		checkSet(t, s.Copy().(*setObject), m)
	}
}

func TestSetEncoding(t *testing.T) {
	s := newSetObject()
	for i := 0; i < setMaxIntsetEntries; i++ {
		s.Add([]byte(strconv.Itoa(i*3)), setMaxIntsetEntries)
	}
	if s.Encoding() != "intset" {
		t.Fatalf("encoding %s at the limit", s.Encoding())
	}
	s.Add([]byte("-1"), setMaxIntsetEntries)
	if s.Encoding() != "hashtable" {
		t.Fatal("no conversion above the limit")
	}
	for i := 0; i < 500; i++ {
		s.Remove([]byte(strconv.Itoa(i * 3)))
	}
	if s.Encoding() != "hashtable" {
		t.Fatal("conversion must be one-way")
	}
	for _, v := range []string{"01", "+1", " 1", "1.0", "", "18446744073709551616"} {
		x := newSetObject()
		x.Add([]byte("5"), setMaxIntsetEntries)
		x.Add([]byte(v), setMaxIntsetEntries)
		if x.Encoding() != "hashtable" {
			t.Errorf("%q kept the intset encoding", v)
		}
	}
}

func TestSetRandomCommands(t *testing.T) {
	s := startServer(t)
	c := dial(t, s.Addr().String())
	for _, key := range []string{"ints", "strs"} {
		args := []string{"SADD", key}
		for i := 0; i < 50; i++ {
			if key == "ints" {
				args = append(args, strconv.Itoa(i))
			} else {
				args = append(args, "m"+strconv.Itoa(i))
			}
		}
		c.do(args...)
		members := map[string]bool{}
		for _, e := range c.do("SMEMBERS", key).Elems {
			members[e.Str] = true
		}
		r := c.do("SRANDMEMBER", key, "-200")
		if len(r.Elems) != 200 {
			t.Fatalf("SRANDMEMBER -200: %d elements", len(r.Elems))
		}
		for _, e := range r.Elems {
			if !members[e.Str] {
				t.Fatalf("SRANDMEMBER returned a non-member %q", e.Str)
			}
		}
		r = c.do("SRANDMEMBER", key, "20")
		seen := map[string]bool{}
		for _, e := range r.Elems {
			if !members[e.Str] || seen[e.Str] {
				t.Fatalf("SRANDMEMBER 20: bad or repeated %q", e.Str)
			}
			seen[e.Str] = true
		}
		if len(seen) != 20 {
			t.Fatalf("SRANDMEMBER 20: %d members", len(seen))
		}
		r = c.do("SPOP", key, "30")
		if len(r.Elems) != 30 {
			t.Fatalf("SPOP 30: %d", len(r.Elems))
		}
		for _, e := range r.Elems {
			if !members[e.Str] {
				t.Fatalf("SPOP returned a non-member %q", e.Str)
			}
			c.expect("0", "SISMEMBER", key, e.Str)
		}
		c.expect("20", "SCARD", key)
		for i := 0; i < 20; i++ {
			c.do("SPOP", key)
		}
		c.expect("0", "EXISTS", key)
	}
}

// TestSetScan checks that SSCAN of a hash table set returns every member
// that stays present while others come and go.
func TestSetScan(t *testing.T) {
	s := startServer(t)
	c := dial(t, s.Addr().String())
	args := []string{"SADD", "s"}
	for i := 0; i < 3000; i++ {
		args = append(args, "m"+strconv.Itoa(i))
	}
	c.do(args...)
	seen := map[string]bool{}
	cur := "0"
	for iter := 0; ; iter++ {
		r := c.do("SSCAN", "s", cur, "COUNT", "25", "MATCH", "m*")
		cur = r.Elems[0].Str
		for _, e := range r.Elems[1].Elems {
			seen[e.Str] = true
		}
		c.do("SADD", "s", "tmp"+strconv.Itoa(iter))
		c.do("SREM", "s", "tmp"+strconv.Itoa(iter-1))
		if cur == "0" {
			break
		}
		if iter > 3000 {
			t.Fatal("scan does not terminate")
		}
	}
	for i := 0; i < 3000; i++ {
		if !seen["m"+strconv.Itoa(i)] {
			t.Fatalf("member m%d not returned", i)
		}
	}
	for k := range seen {
		if k[0] != 'm' {
			t.Fatalf("MATCH let %q through", k)
		}
	}
}

// TestSetMemoryAccounting checks that used_memory follows set and zset
// values as they grow, shrink and are deleted.
func TestSetZSetMemoryAccounting(t *testing.T) {
	s := startServer(t)
	c := dial(t, s.Addr().String())
	used := func() int64 {
		s.mu.Lock()
		defer s.mu.Unlock()
		return s.ks.used
	}
	base := used()
	args := []string{"SADD", "s"}
	zargs := []string{"ZADD", "z"}
	for i := 0; i < 2000; i++ {
		args = append(args, "member-"+strconv.Itoa(i))
		zargs = append(zargs, strconv.Itoa(i), "member-"+strconv.Itoa(i))
	}
	c.do(args...)
	afterSet := used()
	if d := afterSet - base; d < 2000*32 || d > 2000*200 {
		t.Fatalf("a 2000-member set accounts %d bytes", d)
	}
	c.do(zargs...)
	afterZset := used()
	if d := afterZset - afterSet; d < 2000*64 || d > 2000*300 {
		t.Fatalf("a 2000-member zset accounts %d bytes", d)
	}
	c.do("ZREMRANGEBYRANK", "z", "0", "999")
	if d := used() - afterSet; d >= afterZset-afterSet {
		t.Fatalf("removing zset members did not lower used memory (%d)", d)
	}
	c.do("DEL", "s", "z")
	if got := used(); got != base {
		t.Fatalf("used memory %d after deleting everything, was %d", got, base)
	}
}

func TestSetIntsetModel(t *testing.T) {
	seed := rand.Uint64()
	t.Logf("seed %d", seed)
	r := rand.New(rand.NewPCG(seed, 5))
	widths := []int64{100, 40000, 3_000_000_000, math.MaxInt64}
	for round := 0; round < 20; round++ {
		var is intset
		model := map[int64]bool{}
		for step := 0; step < 300; step++ {
			lim := widths[r.IntN(len(widths))]
			v := r.Int64N(lim) - lim/2
			if r.IntN(8) == 0 {
				v = []int64{math.MinInt64, math.MaxInt64, math.MinInt16, math.MaxInt16, math.MinInt32 - 1, 0}[r.IntN(6)]
			}
			if r.IntN(3) > 0 {
				if is.insert(v) == model[v] {
					t.Fatalf("insert(%d) disagrees with the model", v)
				}
				model[v] = true
			} else {
				if is.remove(v) != model[v] {
					t.Fatalf("remove(%d) disagrees with the model", v)
				}
				delete(model, v)
			}
		}
		vals := is.values()
		if len(vals) != len(model) || !slices.IsSorted(vals) {
			t.Fatalf("intset %v does not match the model of %d values", vals, len(model))
		}
		maxW := uint8(2)
		for _, v := range vals {
			if !model[v] {
				t.Fatalf("stray value %d", v)
			}
			maxW = max(maxW, intsetWidth(v))
		}
		if len(vals) > 0 && is.enc < maxW {
			t.Fatalf("width %d too small for the values", is.enc)
		}
		cp := intsetFromSorted(vals)
		if !slices.Equal(cp.values(), vals) {
			t.Fatal("intsetFromSorted does not round-trip")
		}
	}
}

// TestSetZSetShrink checks that collections that lose most of their
// members rebuild their hash tables and stay consistent.
func TestSetZSetShrink(t *testing.T) {
	s := newSetObject()
	z := newZsetObject()
	model := map[string]bool{}
	var zm zmodel
	for i := 0; i < 5000; i++ {
		m := "m" + strconv.Itoa(i)
		s.Add([]byte(m), setMaxIntsetEntries)
		z.Insert(m, float64(i%7), &defaultEncLimits)
		model[m] = true
	}
	for i := 0; i < 4900; i++ {
		m := "m" + strconv.Itoa(i)
		s.Remove([]byte(m))
		z.Delete(m)
		delete(model, m)
	}
	for m := range model {
		n, _ := strconv.Atoi(m[1:])
		zm.set(m, float64(n%7))
	}
	if s.peak >= 5000 || z.peak >= 5000 {
		t.Fatalf("tables not rebuilt (peaks %d, %d)", s.peak, z.peak)
	}
	checkSet(t, s, model)
	checkZset(t, z, zm)
}

func TestSetScanSelect(t *testing.T) {
	r := rand.New(rand.NewPCG(rand.Uint64(), 9))
	for round := 0; round < 300; round++ {
		n := 2 + r.IntN(200)
		a := make([]szHK, n)
		sum := uint64(0)
		for i := range a {
			a[i] = szHK{h: uint64(r.IntN(1 + r.IntN(50))), k: strconv.Itoa(i)}
			sum += a[i].h
		}
		k := 1 + r.IntN(n-1)
		szSelect(a, k)
		maxLeft, minRight := uint64(0), ^uint64(0)
		for _, x := range a[:k] {
			maxLeft = max(maxLeft, x.h)
		}
		for _, x := range a[k:] {
			minRight = min(minRight, x.h)
			sum -= x.h
		}
		for _, x := range a[:k] {
			sum -= x.h
		}
		if maxLeft > minRight || sum != 0 {
			t.Fatalf("select k=%d of %d: left max %d > right min %d (or elements lost)", k, n, maxLeft, minRight)
		}
	}
	// A full scan returns every member exactly once, in hash order.
	m := map[string]bool{}
	for i := 0; i < 5000; i++ {
		m["m"+strconv.Itoa(i)] = true
	}
	seen := map[string]bool{}
	cur := uint64(0)
	for calls := 0; ; calls++ {
		out, next := szHashScan(m, cur, 7)
		for i, k := range out {
			if seen[k] || szHash(k) < cur || (i > 0 && szHash(k) < szHash(out[i-1])) {
				t.Fatalf("member %q repeated or out of order", k)
			}
			seen[k] = true
			if next != 0 && szHash(k) >= next {
				t.Fatalf("member %q at or past the next cursor", k)
			}
		}
		if next == 0 {
			break
		}
		if next <= cur || calls > 5000 {
			t.Fatal("cursor does not advance")
		}
		cur = next
	}
	if len(seen) != len(m) {
		t.Fatalf("scan returned %d of %d members", len(seen), len(m))
	}
}
