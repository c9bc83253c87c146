package server

import (
	"fmt"
	"math/rand/v2"
	"strings"
	"testing"
)

// hllDiffCases are differential cases for the HyperLogLog commands (see
// diffCases for the line syntax). GET compares the stored strings byte for
// byte.
var hllDiffCases = []struct {
	name  string
	lines []string
}{
	{"pfadd-pfcount", []string{"PFADD h", "GET h", "PFADD h", "PFCOUNT h", "PFADD h a b c", "GET h", "PFCOUNT h", "GET h",
		"PFADD h a", "PFADD h a b c d", "PFCOUNT h", "GET h", "PFCOUNT nokey", "PFCOUNT nokey nokey2", "OBJECT ENCODING h",
		"TYPE h", "STRLEN h", "PFADD h \"\" \"\"", "PFCOUNT h", "GET h", "PFADD", "PFCOUNT", "PFADD h2 x y z", "PFCOUNT h h2",
		"PFCOUNT h h2 nokey", "GET h2", "PFADD e", "PFCOUNT e", "GET e", "PFCOUNT e h", "SET s foo", "PFADD s a", "PFCOUNT s",
		"PFCOUNT h s", "PFMERGE d s", "PFMERGE s h", "RPUSH l a", "PFADD l a", "PFCOUNT l", "PFCOUNT h l", "PFMERGE d l",
		"PFMERGE l h", "SET n 12345678901234567890", "PFADD n a", "SET hy HYLL", "PFADD hy a", "PFCOUNT hy"}},
	{"pfmerge", []string{"PFADD a 1 2 3 4 5", "PFADD b 4 5 6 7", "PFMERGE d a b", "GET d", "PFCOUNT d", "GET d",
		"PFMERGE d", "GET d", "PFMERGE new", "GET new", "PFCOUNT new", "PFMERGE a b", "GET a", "PFCOUNT a b d",
		"PFMERGE d nokey", "GET d", "PFMERGE x nokey1 nokey2", "GET x", "PFMERGE", "SET big:x 1", "PFMERGE d big:x",
		"PFDEBUG TODENSE b", "PFMERGE m a b", "GET m", "PFDEBUG ENCODING m", "PFCOUNT m", "PFMERGE m2 a", "PFDEBUG ENCODING m2",
		"GET m2", "PFMERGE a a", "GET a"}},
	{"pfdebug", []string{"PFADD h a b c d e f g", "PFDEBUG ENCODING h", "PFDEBUG DECODE h", "PFDEBUG GETREG h",
		"PFDEBUG ENCODING h", "PFDEBUG DECODE h", "GET h", "PFDEBUG TODENSE h", "PFADD h2 x", "PFDEBUG TODENSE h2",
		"PFDEBUG TODENSE h2", "GET h2", "PFCOUNT h2", "PFDEBUG FOO h", "PFDEBUG FOO nokey", "PFDEBUG GETREG nokey",
		"PFDEBUG GETREG", "PFDEBUG GETREG h x", "SET s x", "PFDEBUG ENCODING s", "RPUSH l a", "PFDEBUG ENCODING l",
		"pfdebug encoding h2", "PFADD h3", "PFDEBUG DECODE h3", "PFADD h3 a", "PFDEBUG DECODE h3", "PFCOUNT h h2 h3",
		"PFSELFTEST", "PFSELFTEST x"}},
	{"corrupt", []string{
		// Header only: no opcodes.
		"SET c1 \"HYLL\\x01\\x00\\x00\\x00\\x00\\x00\\x00\\x00\\x00\\x00\\x00\\x80\"", "PFCOUNT c1", "PFADD c1 a", "PFCOUNT c1 c1",
		"PFMERGE d c1", "PFDEBUG DECODE c1", "PFDEBUG GETREG c1", "PFDEBUG TODENSE c1",
		// Opcodes covering too few registers.
		"SET c2 \"HYLL\\x01\\x00\\x00\\x00\\x00\\x00\\x00\\x00\\x00\\x00\\x00\\x80\\x7f\\xfe\"", "PFCOUNT c2", "PFADD c2 a b c",
		"PFCOUNT c2 nokey", "PFMERGE c2 nokey", "PFDEBUG DECODE c2",
		// Too many registers.
		"SET c3 \"HYLL\\x01\\x00\\x00\\x00\\x00\\x00\\x00\\x00\\x00\\x00\\x00\\x80\\x7f\\xff\\x83\"", "PFCOUNT c3", "PFCOUNT c3 c3",
		"PFADD c3 a", "PFDEBUG TODENSE c3", "PFMERGE d c3",
		// Truncated XZERO.
		"SET c4 \"HYLL\\x01\\x00\\x00\\x00\\x00\\x00\\x00\\x00\\x00\\x00\\x00\\x80\\x7f\"", "PFCOUNT c4", "PFCOUNT c4 c4", "PFDEBUG DECODE c4",
		// Unknown encoding, bad magic, short dense.
		"SET c5 \"HYLL\\x02\\x00\\x00\\x00\\x00\\x00\\x00\\x00\\x00\\x00\\x00\\x80\\x7f\\xff\"", "PFCOUNT c5", "PFADD c5 a",
		"SET c6 \"HYLX\\x01\\x00\\x00\\x00\\x00\\x00\\x00\\x00\\x00\\x00\\x00\\x80\\x7f\\xff\"", "PFCOUNT c6",
		"SET c7 \"HYLL\\x00\\x00\\x00\\x00\\x00\\x00\\x00\\x00\\x00\\x00\\x00\\x80\\x7f\\xff\"", "PFCOUNT c7", "PFADD c7 a",
		// Valid sparse with a stale valid cache: the cache is trusted.
		"SET c8 \"HYLL\\x01\\x00\\x00\\x00\\x2a\\x00\\x00\\x00\\x00\\x00\\x00\\x00\\x7f\\xff\"", "PFCOUNT c8", "PFCOUNT c8 c8",
		"OBJECT ENCODING c8", "PFADD c8 a", "OBJECT ENCODING c8", "PFCOUNT c8", "GET c8",
		"SET c11 \"HYLL\\x01\\x00\\x00\\x00\\x2a\\x00\\x00\\x00\\x00\\x00\\x00\\x00\\x7f\\xff\"", "OBJECT ENCODING c11",
		"PFCOUNT c11", "OBJECT ENCODING c11",
		// VAL runs covering the registers with values.
		"SET c9 \"HYLL\\x01\\x00\\x00\\x00\\x00\\x00\\x00\\x00\\x00\\x00\\x00\\x80\\xff\\x7f\\xfb\"", "PFCOUNT c9", "PFDEBUG DECODE c9",
		"PFADD c9 a b c", "GET c9", "PFCOUNT c9", "SET c10 \"HYLL\\x01\\x00\\x00\\x00\\x00\\x00\\x00\\x00\\x00\\x00\\x00\\x80\\x00\"",
		"PFCOUNT c10", "PFADD c10 a"}},
	{"sparse-max-bytes", []string{"CONFIG SET hll-sparse-max-bytes 40", "CONFIG GET hll-sparse-max-bytes", "PFADD h a b c d e f",
		"PFDEBUG ENCODING h", "GET h", "PFADD h g h i j k l m n o p", "PFDEBUG ENCODING h", "PFCOUNT h", "GET h",
		"CONFIG SET hll-sparse-max-bytes 0", "PFADD h2 a", "PFDEBUG ENCODING h2", "GET h2", "CONFIG SET hll-sparse-max-bytes -1",
		"CONFIG SET hll-sparse-max-bytes 1kb", "CONFIG GET hll-sparse-max-bytes", "CONFIG SET hll-sparse-max-bytes x",
		"CONFIG SET hll-sparse-max-bytes 3000"}},
	{"watch-pfcount", []string{"PFADD h a b", "WATCH h", "PFCOUNT h", "MULTI", "PING", "EXEC", "WATCH h", "PFCOUNT h",
		"MULTI", "PING", "EXEC", "PFADD h c", "MULTI", "PFCOUNT h", "PFADD h d", "PFCOUNT h", "EXEC"}},
}

func TestDiffHLL(t *testing.T) {
	rp := startRedis(t)
	s := startServer(t)
	for _, tc := range hllDiffCases {
		t.Run(tc.name, func(t *testing.T) {
			runDiff(t, s.Addr().String(), rp.addr, tc.lines)
		})
	}
}

// pfaddBatch formats PFADD key e1 e2 ...
func pfaddBatch(key string, elems []string) string {
	var b strings.Builder
	b.WriteString("PFADD ")
	b.WriteString(key)
	for _, e := range elems {
		fmt.Fprintf(&b, " %q", e)
	}
	return b.String()
}

// TestDiffHLLGrowth adds elements in batches until well past the
// sparse-to-dense switch, comparing the stored bytes after every batch,
// under the default and a few smaller hll-sparse-max-bytes settings.
func TestDiffHLLGrowth(t *testing.T) {
	rp := startRedis(t)
	s := startServer(t)
	for _, maxBytes := range []string{"3000", "200", "1000"} {
		t.Run("max"+maxBytes, func(t *testing.T) {
			lines := []string{"CONFIG SET hll-sparse-max-bytes " + maxBytes}
			n := 0
			for batch := 1; n < 6000; batch++ {
				var elems []string
				for i := 0; i < batch*3; i++ {
					elems = append(elems, fmt.Sprintf("el:%d", n))
					n++
				}
				lines = append(lines, pfaddBatch("h", elems), "GET h", "PFDEBUG ENCODING h", "PFCOUNT h", "GET h", "STRLEN h")
				if batch%5 == 0 {
					lines = append(lines, "PFADD h el:1 el:2 el:3", "PFMERGE m h", "GET m", "PFCOUNT m h")
				}
			}
			lines = append(lines, "CONFIG SET hll-sparse-max-bytes 3000")
			runDiff(t, s.Addr().String(), rp.addr, lines)
		})
	}
}

// TestDiffHLLRandom runs seeded random PFADD / PFCOUNT / PFMERGE mixes over
// a few keys, sparse and dense, comparing replies and stored bytes.
func TestDiffHLLRandom(t *testing.T) {
	rp := startRedis(t)
	s := startServer(t)
	rng := rand.New(rand.NewPCG(3, 1415))
	keys := []string{"{h}a", "{h}b", "{h}c", "{h}d"}
	for round := 0; round < 4; round++ {
		var lines []string
		for step := 0; step < 300; step++ {
			k := keys[rng.IntN(len(keys))]
			switch op := rng.IntN(10); {
			case op < 5:
				var elems []string
				size := 1 + rng.IntN(20)
				if rng.IntN(10) == 0 {
					size = 200 + rng.IntN(800)
				}
				for i := 0; i < size; i++ {
					elems = append(elems, fmt.Sprintf("%d", rng.IntN(1<<(8+2*round))))
				}
				lines = append(lines, pfaddBatch(k, elems))
			case op < 7:
				lines = append(lines, "PFCOUNT "+k)
			case op < 8:
				lines = append(lines, "PFCOUNT "+strings.Join(keys[:1+rng.IntN(len(keys))], " "))
			case op < 9:
				lines = append(lines, "PFMERGE "+k+" "+keys[rng.IntN(len(keys))]+" "+keys[rng.IntN(len(keys))])
			default:
				lines = append(lines, "GET "+k, "PFDEBUG ENCODING "+k)
			}
		}
		for _, k := range keys {
			lines = append(lines, "GET "+k, "PFCOUNT "+k, "GET "+k)
		}
		t.Run(fmt.Sprintf("round%d", round), func(t *testing.T) {
			runDiff(t, s.Addr().String(), rp.addr, lines)
		})
	}
}

// TestHLLDumpRestoreInterop moves HLL values between redis-server and our
// server with DUMP / RESTORE both ways; they must arrive unchanged and keep
// counting identically.
func TestHLLDumpRestoreInterop(t *testing.T) {
	rp := startRedis(t)
	s := startServer(t)
	ours, theirs := dial(t, s.Addr().String()), dial(t, rp.addr)
	ours.expect("+OK", "FLUSHALL")
	theirs.expect("+OK", "FLUSHALL")
	var small, large []string
	for i := 0; i < 20; i++ {
		small = append(small, fmt.Sprintf("s%d", i))
	}
	for i := 0; i < 5000; i++ {
		large = append(large, fmt.Sprintf("l%d", i))
	}
	for name, elems := range map[string][]string{"sparse": small, "dense": large} {
		t.Run(name, func(t *testing.T) {
			for _, pair := range []struct {
				from, to *testConn
				dir      string
			}{{theirs, ours, "redis->ours"}, {ours, theirs, "ours->redis"}} {
				key := "hll:" + name
				pair.from.do("DEL", key)
				pair.to.do("DEL", key, key+":copy")
				pair.from.do(append([]string{"PFADD", key}, elems...)...)
				pair.from.do("PFCOUNT", key)
				orig := pair.from.do("GET", key).String()
				dump := pair.from.do("DUMP", key)
				if dump.IsError() || dump.Nil {
					t.Fatalf("%s: DUMP: %s", pair.dir, dump.String())
				}
				pair.to.expect("+OK", "RESTORE", key, "0", string(dump.Str))
				if got := pair.to.do("GET", key).String(); got != orig {
					t.Fatalf("%s: value changed by DUMP/RESTORE", pair.dir)
				}
				// Both keep counting the same way.
				more := []string{"x1", "x2", "l1", "s1", "y3", "zz"}
				for _, c := range []*testConn{pair.from, pair.to} {
					c.do(append([]string{"PFADD", key}, more...)...)
				}
				cf, ct := pair.from.do("PFCOUNT", key).String(), pair.to.do("PFCOUNT", key).String()
				if cf != ct {
					t.Errorf("%s: PFCOUNT %s vs %s", pair.dir, cf, ct)
				}
				if pair.from.do("GET", key).String() != pair.to.do("GET", key).String() {
					t.Errorf("%s: values differ after the same PFADDs", pair.dir)
				}
			}
		})
	}
}
