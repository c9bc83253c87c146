package server

import (
	"math"
	"math/rand/v2"
	"os"
	"slices"
	"strconv"
	"testing"

	"github.com/codisgo/codis/pkg/resp"
)

// zmodel is the reference: a slice kept sorted by (score, member).
type zmodel []zent

func (m zmodel) index(member string) int {
	for i, e := range m {
		if e.member == member {
			return i
		}
	}
	return -1
}

func (m *zmodel) set(member string, score float64) {
	if i := m.index(member); i >= 0 {
		*m = slices.Delete(*m, i, i+1)
	}
	*m = append(*m, zent{member, score})
	slices.SortFunc(*m, zentCmp)
}

// TestParseScoreFastPath checks the integer fast path against the general
// parser.
func TestParseScoreFastPath(t *testing.T) {
	for _, in := range []string{"0", "-0", "+0", "7", "007", "-12", "+12", "999999999999999",
		"-999999999999999", "1000000000000000", "12345678901234567890", "1e3", "1.5", "-", "+", "1-", " 1", "0x10"} {
		got, ok := parseScoreStrict([]byte(in))
		want, wok := strtodWhole(in)
		if ok != wok || got != want || math.Signbit(got) != math.Signbit(want) {
			t.Errorf("parseScoreStrict(%q) = %v, %v; want %v, %v", in, got, ok, want, wok)
		}
	}
}

// checkZset compares a zsetObject with the model and its memory estimate
// with a recomputation.
func checkZset(t *testing.T, z *zsetObject, m zmodel) {
	t.Helper()
	if z.Len() != len(m) {
		t.Fatalf("len %d, model %d", z.Len(), len(m))
	}
	all := z.All()
	for i := range m {
		if all[i] != m[i] {
			t.Fatalf("entry %d = %v, model %v", i, all[i], m[i])
		}
		if r, ok := z.Rank(m[i].member); !ok || r != i {
			t.Fatalf("rank of %s = %d %v, want %d", m[i].member, r, ok, i)
		}
		if s, ok := z.Score(m[i].member); !ok || s != m[i].score {
			t.Fatalf("score of %s = %v %v", m[i].member, s, ok)
		}
	}
	var want int64
	if z.tree == nil {
		if z.mem != 0 {
			t.Fatalf("listpack with a running member cost %d", z.mem)
		}
		size := 0
		for _, e := range m {
			size += zlpEntrySize(e.member, e.score)
		}
		if size != len(z.lp.buf) {
			t.Fatalf("listpack of %d bytes, want %d", len(z.lp.buf), size)
		}
	} else {
		for m, sc := range z.dict {
			want += memberCost(m)
			if !z.tree.contains(sc, m) {
				t.Fatalf("member %q with score %v missing from the tree", m, sc)
			}
		}
		if len(z.dict) != z.tree.length {
			t.Fatalf("dict has %d members, tree %d", len(z.dict), z.tree.length)
		}
	}
	if z.mem != want {
		t.Fatalf("running memory %d, recomputed %d", z.mem, want)
	}
}

func TestZSetObjectModel(t *testing.T) {
	seed := rand.Uint64()
	t.Logf("seed %d", seed)
	r := rand.New(rand.NewPCG(seed, 11))
	for round := 0; round < 4; round++ {
		z := newZsetObject()
		var m zmodel
		universe := 100 + 60*round // rounds 1+ cross the listpack limit
		for step := 0; step < 3000; step++ {
			member := "m" + strconv.Itoa(r.IntN(universe))
			score := float64(r.IntN(30)) / 4
			switch r.IntN(4) {
			case 0, 1:
				if old, ok := z.Score(member); ok {
					z.Update(member, old, score)
				} else {
					z.Insert(member, score, &defaultEncLimits)
				}
				m.set(member, score)
			case 2:
				i := m.index(member)
				if z.Delete(member) != (i >= 0) {
					t.Fatalf("delete %s disagrees with the model", member)
				}
				if i >= 0 {
					m = slices.Delete(m, i, i+1)
				}
			case 3:
				if len(m) > 0 && r.IntN(10) == 0 {
					lo := r.IntN(len(m))
					hi := lo + r.IntN(min(5, len(m)-lo)+1)
					z.DeleteRanks(lo, hi)
					m = slices.Delete(m, lo, hi)
				}
			}
			if step%300 == 0 {
				checkZset(t, z, m)
			}
		}
		checkZset(t, z, m)
		if len(m) > zsetMaxListpackEntries && z.Encoding() != "skiplist" {
			t.Fatalf("%d members in a %s", len(m), z.Encoding())
		}
		cp := z.Copy().(*zsetObject)
		checkZset(t, cp, m)
		// Reverse ranges agree with the model.
		if len(m) > 0 {
			var got []string
			z.Range(len(m)-1, 3, true, func(member string, _ float64) bool {
				got = append(got, member)
				return true
			})
			for i, g := range got {
				if g != m[len(m)-1-i].member {
					t.Fatalf("reverse range[%d] = %s", i, g)
				}
			}
		}
	}
}

func TestZSetEncodingConversion(t *testing.T) {
	z := newZsetObject()
	for i := 0; i < zsetMaxListpackEntries; i++ {
		z.Insert("m"+strconv.Itoa(i), float64(i), &defaultEncLimits)
	}
	if z.Encoding() != "listpack" {
		t.Fatalf("encoding %s at the limit", z.Encoding())
	}
	z.Insert("one-more", 0, &defaultEncLimits)
	if z.Encoding() != "skiplist" {
		t.Fatalf("encoding %s above the limit", z.Encoding())
	}
	for i := 0; i < 100; i++ {
		z.Delete("m" + strconv.Itoa(i))
	}
	if z.Encoding() != "skiplist" {
		t.Fatal("conversion must be one-way")
	}
	y := newZsetObject()
	y.Insert(string(make([]byte, zsetMaxListpackValue+1)), 1, &defaultEncLimits)
	if y.Encoding() != "skiplist" {
		t.Fatal("a long member must convert")
	}
}

func TestZSetScoreParsing(t *testing.T) {
	strict := map[string]float64{"1": 1, "-1.5": -1.5, "inf": math.Inf(1), "-Infinity": math.Inf(-1), "+inf": math.Inf(1),
		"0x10": 16, "1e3": 1000, ".5": 0.5, "5.": 5, "0": 0, "0.0e-10": 0}
	for s, want := range strict {
		if got, ok := parseScoreStrict([]byte(s)); !ok || got != want {
			t.Errorf("parseScoreStrict(%q) = %v %v, want %v", s, got, ok, want)
		}
	}
	for _, s := range []string{"", " 1", "1 ", "nan", "-nan", "1e400", "1e-400", "abc", "1_0", "0x", "in", "infinit", "--1", "1e"} {
		if got, ok := parseScoreStrict([]byte(s)); ok {
			t.Errorf("parseScoreStrict(%q) accepted: %v", s, got)
		}
	}
	rng := map[string]float64{"": 0, " 1": 1, "1e400": math.Inf(1), "-1e400": math.Inf(-1), "-inf": math.Inf(-1)}
	for s, want := range rng {
		if got, ok := parseRangeScore(s); !ok || got != want {
			t.Errorf("parseRangeScore(%q) = %v %v, want %v", s, got, ok, want)
		}
	}
	for _, s := range []string{" ", "nan", "1 ", "x", "(1"} {
		if got, ok := parseRangeScore(s); ok {
			t.Errorf("parseRangeScore(%q) accepted: %v", s, got)
		}
	}
	formats := map[float64]string{1.5: "1.5", 3: "3", math.Inf(1): "inf", math.Inf(-1): "-inf", 1.1: "1.1000000000000001",
		1e20: "1e+20", 1e-5: "1.0000000000000001e-05", math.Copysign(0, -1): "-0"}
	for f, want := range formats {
		if got := formatScore(f); got != want {
			t.Errorf("formatScore(%v) = %q, want %q", f, got, want)
		}
	}
}

// TestZSetLargeRank checks ranks and rank ranges on a large skiplist zset
// through the server.
func TestZSetLargeRank(t *testing.T) {
	s := startServer(t)
	c := dial(t, s.Addr().String())
	const n = 20000
	args := []string{"ZADD", "big"}
	for i := 0; i < n; i++ {
		args = append(args, strconv.Itoa(i), "m"+strconv.Itoa(i))
	}
	if r := c.do(args...); r.Int != n {
		t.Fatalf("ZADD of %d members: %s", n, r.String())
	}
	c.expect(`"skiplist"`, "OBJECT", "ENCODING", "big")
	for _, i := range []int{0, 1, 777, n / 2, n - 1} {
		c.expect(strconv.Itoa(i), "ZRANK", "big", "m"+strconv.Itoa(i))
		c.expect(strconv.Itoa(n-1-i), "ZREVRANK", "big", "m"+strconv.Itoa(i))
		c.expect(`["m`+strconv.Itoa(i)+`"]`, "ZRANGE", "big", strconv.Itoa(i), strconv.Itoa(i))
	}
	c.expect(`["m19999" "19999" "m19998" "19998"]`, "ZRANGE", "big", "0", "1", "REV", "WITHSCORES")
	c.expect("100", "ZREMRANGEBYRANK", "big", "100", "199")
	c.expect("100", "ZRANK", "big", "m200")
	c.expect("19900", "ZCARD", "big")
}

// TestZSetRandomCounts checks the random replies, which the differential
// tests can only compare by shape.
func TestZSetRandomCounts(t *testing.T) {
	s := startServer(t)
	c := dial(t, s.Addr().String())
	c.expect("3", "ZADD", "z", "1", "a", "2", "b", "3", "c")
	r := c.do("ZRANDMEMBER", "z", "-10", "WITHSCORES")
	if len(r.Elems) != 20 {
		t.Fatalf("ZRANDMEMBER -10 WITHSCORES: %d elements", len(r.Elems))
	}
	want := map[string]string{"a": "1", "b": "2", "c": "3"}
	for i := 0; i < 20; i += 2 {
		m, sc := r.Elems[i].Str, r.Elems[i+1].Str
		if want[m] != sc {
			t.Fatalf("bad pair %q %q", m, sc)
		}
	}
	r = c.do("ZRANDMEMBER", "z", "2")
	if len(r.Elems) != 2 || r.Elems[0].String() == r.Elems[1].String() {
		t.Fatalf("ZRANDMEMBER 2: %s", r.String())
	}
	// A skiplist zset takes the rank-sampling paths.
	args := []string{"ZADD", "big"}
	for i := 0; i < 500; i++ {
		args = append(args, strconv.Itoa(i), "m"+strconv.Itoa(i))
	}
	c.do(args...)
	r = c.do("ZRANDMEMBER", "big", "20", "WITHSCORES")
	seen := map[string]bool{}
	for i := 0; i+1 < len(r.Elems); i += 2 {
		m, sc := r.Elems[i].Str, r.Elems[i+1].Str
		if seen[m] || "m"+sc != m {
			t.Fatalf("ZRANDMEMBER 20: repeated or wrong pair %q %q", m, sc)
		}
		seen[m] = true
	}
	if len(seen) != 20 {
		t.Fatalf("ZRANDMEMBER 20 returned %d members", len(seen))
	}
	r = c.do("ZRANDMEMBER", "big", "-1000")
	if len(r.Elems) != 1000 {
		t.Fatalf("ZRANDMEMBER -1000 returned %d", len(r.Elems))
	}
	for _, e := range r.Elems {
		if n, err := strconv.Atoi(e.Str[1:]); err != nil || n < 0 || n >= 500 {
			t.Fatalf("ZRANDMEMBER -1000: non-member %q", e.Str)
		}
	}
}

// TestZSetScan checks that a cursor scan of a skiplist zset returns every
// member that stays present, even while members are added and removed.
func TestZSetScan(t *testing.T) {
	s := startServer(t)
	c := dial(t, s.Addr().String())
	args := []string{"ZADD", "z"}
	for i := 0; i < 1000; i++ {
		args = append(args, strconv.Itoa(i), "m"+strconv.Itoa(i))
	}
	c.do(args...)
	seen := map[string]bool{}
	cur := "0"
	for iter := 0; ; iter++ {
		r := c.do("ZSCAN", "z", cur, "COUNT", "20")
		cur = r.Elems[0].Str
		items := r.Elems[1].Elems
		if len(items)%2 != 0 {
			t.Fatalf("odd ZSCAN reply %s", r.String())
		}
		for i := 0; i < len(items); i += 2 {
			seen[items[i].Str] = true
		}
		// Churn: add and remove members that are not part of the check.
		c.do("ZADD", "z", "5", "tmp"+strconv.Itoa(iter))
		c.do("ZREM", "z", "tmp"+strconv.Itoa(iter-1))
		if cur == "0" {
			break
		}
		if iter > 1000 {
			t.Fatal("scan does not terminate")
		}
	}
	for i := 0; i < 1000; i++ {
		if !seen["m"+strconv.Itoa(i)] {
			t.Fatalf("member m%d not returned", i)
		}
	}
}

// TestSetZSetNoPanics feeds the set and sorted set commands random
// arguments drawn from values that matter to them and checks that every
// reply is well formed. Set CODIS_NOPANIC_SEED to replay.
func TestSetZSetNoPanics(t *testing.T) {
	seed := rand.Uint64()
	if v := os.Getenv("CODIS_NOPANIC_SEED"); v != "" {
		seed, _ = strconv.ParseUint(v, 10, 64)
	}
	t.Logf("seed %d", seed)
	r := rand.New(rand.NewPCG(seed, 2))
	pool := []string{"", "0", "1", "-1", "2", "3", "-5", "100", "9223372036854775807", "-9223372036854775808",
		"1.5", "inf", "-inf", "+inf", "nan", "(1", "(", "[", "[a", "(b", "-", "+", "a", "b", "k", "k2", "s", "z",
		"NX", "XX", "GT", "LT", "CH", "INCR", "WITHSCORES", "LIMIT", "BYSCORE", "BYLEX", "REV", "WEIGHTS",
		"AGGREGATE", "SUM", "MIN", "MAX", "COUNT", "MATCH", "*", "\x00\xff", "01", "1e400"}
	names := []string{"sadd", "srem", "scard", "sismember", "smismember", "smembers", "srandmember", "spop",
		"smove", "sinter", "sintercard", "sinterstore", "sunion", "sunionstore", "sdiff", "sdiffstore", "sscan"}
	for n := range commands {
		if n[0] == 'z' {
			names = append(names, n)
		}
	}
	slices.Sort(names)
	s := New(nil, nil)
	s.cfg.ActiveExpire = false
	s.cfg.Save, s.cfg.Dir = "", t.TempDir()
	c := &client{s: s, db: s.ks.dbs[0], authed: true, p: resp.NewParser(nil)}
	s.mu.Lock()
	defer s.mu.Unlock()
	n := 30000
	if testing.Short() {
		n = 5000
	}
	for i := 0; i < n; i++ {
		argv := [][]byte{[]byte(names[r.IntN(len(names))])}
		for j := r.IntN(9); j > 0; j-- {
			argv = append(argv, []byte(pool[r.IntN(len(pool))]))
		}
		func() {
			defer func() {
				if p := recover(); p != nil {
					t.Fatalf("panic on %q: %v", argv, p)
				}
			}()
			c.out = c.out[:0]
			c.process(argv)
		}()
		rr := resp.NewReplyReader(&sliceReader{b: c.out})
		if _, err := rr.ReadReply(); err != nil || rr.Buffered() != 0 {
			t.Fatalf("bad reply to %q: %v (%q)", argv, err, c.out)
		}
	}
}
