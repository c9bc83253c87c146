package server

import (
	"fmt"
	"math/rand/v2"
	"strconv"
	"strings"
	"testing"
)

// diffListCases are differential cases for the list commands (see diffCases
// for the line syntax).
var diffListCases = []struct {
	name  string
	lines []string
}{
	{"push-pop", []string{"LPUSH l a b c", "RPUSH l x y", "LRANGE l 0 -1", "LLEN l", "LPOP l", "RPOP l", "LPOP l 2", "RPOP l 0",
		"LPOP l -1", "LPOP l x", "LPOP l 1 2", "RPOP l 100", "EXISTS l", "LPOP l", "LPOP l 0", "RPOP l 3", "LLEN l",
		"LPUSHX l a", "RPUSHX l a b", "EXISTS l", "RPUSH l a", "LPUSHX l b c", "RPUSHX l d", "LRANGE l 0 -1",
		"LPUSH", "LPUSH l", "RPUSH l", "LPOP", "RPOP l 1 2 3", "OBJECT ENCODING l", "TYPE l", "RPOP l 9223372036854775807",
		"RPUSH n 1 2 3", "LPOP n 9223372036854775808", "RPUSH \"\" \"\"", "LRANGE \"\" 0 -1", "LPOP \"\""}},
	{"wrongtype", []string{"SET s x", "LPUSH s a", "RPUSH s a", "LPUSHX s a", "RPUSHX s a", "LPOP s", "RPOP s 2", "LLEN s",
		"LRANGE s 0 1", "LINDEX s 0", "LSET s 0 a", "LINSERT s BEFORE a b", "LREM s 0 a", "LTRIM s 0 1", "LPOS s a",
		"LMOVE s d LEFT LEFT", "RPOPLPUSH s d", "RPUSH l a", "LMOVE l s LEFT LEFT", "LRANGE l 0 -1", "RPOPLPUSH l s",
		"LMPOP 2 nokey s LEFT", "LMPOP 2 l s LEFT", "BLPOP s 1", "BRPOP nokey s 1", "BLMOVE s d LEFT LEFT 1",
		"BLMPOP 1 2 s l LEFT", "RPUSH l2 q", "BLMOVE l2 s LEFT LEFT 0", "LLEN l2", "HSET h f v", "LPUSH h x", "GET l"}},
	{"lrange-lindex", []string{"RPUSH l 0 1 2 3 4 5 6 7 8 9", "LRANGE l 0 0", "LRANGE l -3 -1", "LRANGE l 5 2", "LRANGE l -100 100",
		"LRANGE l 8 100", "LRANGE l 10 11", "LRANGE l -1 -5", "LRANGE l x 1", "LRANGE l 0 y", "LRANGE nokey 0 -1",
		"LRANGE l -9223372036854775808 9223372036854775807", "LINDEX l 0", "LINDEX l -1", "LINDEX l 9", "LINDEX l 10", "LINDEX l -10",
		"LINDEX l -11", "LINDEX l x", "LINDEX nokey 0", "LINDEX l 9223372036854775807", "LINDEX l -9223372036854775808"}},
	{"lset", []string{"LSET nokey 0 a", "RPUSH l a b c", "LSET l 0 x", "LSET l -1 z", "LSET l 3 q", "LSET l -4 q", "LSET l x q",
		"LRANGE l 0 -1", "LSET l 1 \"\"", "LRANGE l 0 -1", "LSET nokey x a"}},
	{"linsert", []string{"LINSERT nokey BEFORE a b", "RPUSH l a b c b", "LINSERT l BEFORE b x", "LINSERT l AFTER b y",
		"LINSERT l after c z", "LINSERT l before a first", "LINSERT l BEFORE nope q", "LINSERT l MIDDLE a q", "LRANGE l 0 -1",
		"LINSERT l BEFORE", "LLEN l"}},
	{"lrem", []string{"RPUSH l a b a c a b a", "LREM l 2 a", "LRANGE l 0 -1", "LREM l -1 a", "LRANGE l 0 -1", "LREM l 0 b",
		"LRANGE l 0 -1", "LREM l 0 nope", "LREM l x a", "LREM nokey 0 a", "LREM l 0 a", "LREM l 0 c", "EXISTS l",
		"RPUSH m x x x", "LREM m -9223372036854775808 x", "EXISTS m", "RPUSH m x y x", "LREM m 9223372036854775807 x", "LRANGE m 0 -1"}},
	{"ltrim", []string{"LTRIM nokey 0 1", "RPUSH l 0 1 2 3 4 5 6 7 8 9", "LTRIM l 1 -2", "LRANGE l 0 -1", "LTRIM l -3 100",
		"LRANGE l 0 -1", "LTRIM l 2 1", "EXISTS l", "RPUSH l a b", "LTRIM l 5 10", "EXISTS l", "RPUSH l a b", "LTRIM l x 1",
		"LTRIM l 0 0", "LRANGE l 0 -1", "LTRIM l -100 -50", "EXISTS l"}},
	{"lpos", []string{"RPUSH l a b c 1 2 3 c c", "LPOS l c", "LPOS l c RANK 2", "LPOS l c RANK -1", "LPOS l c RANK -3",
		"LPOS l c RANK 4", "LPOS l c COUNT 0", "LPOS l c COUNT 2", "LPOS l c COUNT 0 RANK -1", "LPOS l c RANK 2 COUNT 5",
		"LPOS l c MAXLEN 2", "LPOS l c COUNT 0 MAXLEN 7", "LPOS l c COUNT 0 RANK -1 MAXLEN 2", "LPOS l nope", "LPOS l nope COUNT 0",
		"LPOS nokey a", "LPOS nokey a COUNT 1", "LPOS l c RANK 0", "LPOS l c RANK x", "LPOS l c COUNT -1", "LPOS l c COUNT x",
		"LPOS l c MAXLEN -1", "LPOS l c MAXLEN x", "LPOS l c FOO 1", "LPOS l c RANK", "LPOS l c RANK -9223372036854775808",
		"LPOS l c RANK 9223372036854775807", "LPOS l", "LPOS l c COUNT 1 COUNT 3", "LPOS s x COUNT 0 RANK 0"}},
	{"lmove", []string{"RPUSH a 1 2 3", "LMOVE a b LEFT RIGHT", "LMOVE a b RIGHT LEFT", "LRANGE a 0 -1", "LRANGE b 0 -1",
		"LMOVE a a LEFT RIGHT", "LRANGE a 0 -1", "LMOVE a a RIGHT LEFT", "LMOVE a b UP LEFT", "LMOVE a b LEFT DOWN",
		"LMOVE nokey b LEFT LEFT", "EXISTS nokey", "LMOVE a b left right", "EXISTS a", "RPOPLPUSH b c", "RPOPLPUSH b c",
		"RPOPLPUSH b c", "RPOPLPUSH b c", "EXISTS b", "LRANGE c 0 -1", "RPOPLPUSH c c", "LRANGE c 0 -1", "RPUSH one x",
		"LMOVE one one LEFT LEFT", "LRANGE one 0 -1", "RPOPLPUSH nokey c"}},
	{"lmpop", []string{"LMPOP 2 a b LEFT", "RPUSH b 1 2 3", "LMPOP 2 a b LEFT", "LMPOP 2 a b RIGHT COUNT 5", "EXISTS b",
		"RPUSH a x y", "LMPOP 1 a LEFT COUNT 1", "LMPOP 0 a LEFT", "LMPOP -1 a LEFT", "LMPOP x a LEFT", "LMPOP 3 a LEFT",
		"LMPOP 1 a MIDDLE", "LMPOP 1 a LEFT COUNT 0", "LMPOP 1 a LEFT COUNT -1", "LMPOP 1 a LEFT COUNT x",
		"LMPOP 1 a LEFT COUNT 1 COUNT 2", "LMPOP 1 a LEFT FOO", "LMPOP 1 a LEFT COUNT", "LMPOP 2 a", "LMPOP 1 a",
		"LMPOP 1 a RIGHT COUNT 9223372036854775807", "EXISTS a", "LMPOP 9223372036854775807 a LEFT",
		"LMPOP 4611686018427387904 a LEFT", "BLMPOP 0 9223372036854775807 a LEFT"}},
	{"blocking-nonblocking", []string{"RPUSH a 1 2 3", "BLPOP nokey a 0", "BRPOP a nokey 1.5", "BLPOP a 0", "EXISTS a",
		"BLPOP a -1", "BLPOP a abc", "BLPOP a inf", "BLPOP a -inf", "BLPOP a 1e30", "BRPOP a \" 1\"", "BLPOP a nan",
		"RPUSH b x y", "BRPOPLPUSH b c 0", "BLMOVE b c LEFT LEFT 0.01", "BLMOVE b c UP LEFT 0", "BLMOVE b c LEFT LEFT -1",
		"EXISTS b", "LRANGE c 0 -1", "BLMPOP 0 2 nokey c LEFT COUNT 5", "BLMPOP -1 1 c LEFT", "BLMPOP 0 0 c LEFT",
		"BLMPOP x 1 c LEFT", "BLMPOP 0 1 c FOO", "BRPOPLPUSH b c x", "BLPOP", "BLPOP a"}},
	{"blocking-in-multi", []string{"MULTI", "BLPOP a 0", "BRPOP a b 0", "BRPOPLPUSH a b 0", "BLMOVE a b LEFT LEFT 0",
		"BLMPOP 0 1 a LEFT", "RPUSH a 1", "BLPOP a 0", "BLPOP a 0", "EXEC"}},
	{"list-in-multi", []string{"MULTI", "RPUSH l a b c", "LPOP l", "LRANGE l 0 -1", "LSET l 9 x", "LLEN l", "EXEC",
		"WATCH l", "LPUSH l z", "MULTI", "LLEN l", "EXEC", "WATCH l", "LTRIM l 0 -1", "MULTI", "PING", "EXEC",
		"WATCH l", "LREM l 0 nope", "MULTI", "PING", "EXEC", "WATCH l", "LINSERT l BEFORE nope x", "MULTI", "PING", "EXEC"}},
	{"list-keys", []string{"RPUSH l a b c", "COPY l l2", "LRANGE l2 0 -1", "RPUSH l2 d", "LLEN l", "RENAME l l3",
		"LRANGE l3 0 -1", "EXPIRE l3 100", "TTL l3", "RPOP l3 3", "TTL l3", "EXISTS l3", "OBJECT ENCODING l2",
		"RPUSH big 0123456789012345678901234567890123456789012345678901234567890123456789", "OBJECT ENCODING big",
		"sort: KEYS *", "DEL l2 big", "DBSIZE"}},
	{"list-big-elements", []string{
		"RPUSH l " + strings.Repeat("x", 9000) + " small " + strings.Repeat("y", 20000),
		"LLEN l", "LINDEX l 1", "STRLEN nokey", "LINSERT l BEFORE small " + strings.Repeat("z", 8000), "LRANGE l 1 2",
		"LSET l 0 tiny", "LRANGE l 0 1", "LREM l 0 small", "LLEN l", "LPOS l tiny", "LTRIM l 1 1", "LLEN l", "RPOP l"}},
}

func TestDiffList(t *testing.T) {
	rp := startRedis(t)
	s := startServer(t)
	for _, tc := range diffListCases {
		t.Run(tc.name, func(t *testing.T) {
			runDiff(t, s.Addr().String(), rp.addr, tc.lines)
		})
	}
}

// TestDiffListLarge builds long lists (many nodes) with a mix of operations
// and compares the whole content regularly.
func TestDiffListLarge(t *testing.T) {
	rp := startRedis(t)
	s := startServer(t)
	var lines []string
	for i := 0; i < 3000; i++ {
		lines = append(lines, fmt.Sprintf("RPUSH l v%d w%d %s", i, i%7, strings.Repeat("p", i%90)))
		if i%3 == 0 {
			lines = append(lines, fmt.Sprintf("LPUSH l h%d", i))
		}
	}
	lines = append(lines, "LLEN l", "LRANGE l 0 -1", "LINDEX l 4000", "LINDEX l -4000", "LRANGE l 2500 2600",
		"LRANGE l -3000 -2900", "LSET l 5000 changed", "LINSERT l AFTER v1500 ins", "LREM l 100 w3", "LREM l -50 w4",
		"LRANGE l 0 -1", "LPOS l w5 RANK -10 COUNT 3", "LPOS l w6 COUNT 0 MAXLEN 5000", "LREM l 0 w0", "LLEN l",
		"LTRIM l 1000 -1000", "LLEN l", "LRANGE l 0 -1", "LPOP l 500", "RPOP l 500", "LRANGE l 0 -1", "LREM l 0 w1",
		"LREM l 0 w2", "LRANGE l 0 -1", "LMPOP 1 l LEFT COUNT 100000", "EXISTS l")
	runDiff(t, s.Addr().String(), rp.addr, lines)
}

// TestRandomDiffListHash runs random list and hash command sequences
// against both servers. Set CODIS_DIFF_SEED to replay a printed seed.
func TestRandomDiffListHash(t *testing.T) {
	rp := startRedis(t)
	s := startServer(t)
	seed := diffSeed(t)
	rng := rand.New(rand.NewPCG(seed, seed^0x2545f4914f6cdd1d))
	n := 4000
	if testing.Short() {
		n = 800
	}
	lines := make([]string, n)
	for i := range lines {
		if rng.IntN(2) == 0 {
			lines[i] = randomListCommand(rng)
		} else {
			lines[i] = randomHashCommand(rng)
		}
	}
	runDiff(t, s.Addr().String(), rp.addr, lines)
}

func randomListCommand(r *rand.Rand) string {
	keys := []string{"l0", "l1", "{t}l", "h0", "s"}
	k := func() string { return keys[r.IntN(len(keys))] }
	vals := []string{"a", "b", "c", "1", "-2", "\"\"", "\"x y\"", strings.Repeat("L", 70), strings.Repeat("m", 300)}
	v := func() string { return vals[r.IntN(len(vals))] }
	num := func() string { return strconv.Itoa(r.IntN(24) - 12) }
	dir := func() string { return []string{"LEFT", "RIGHT"}[r.IntN(2)] }
	switch r.IntN(24) {
	case 0, 1:
		return "RPUSH " + k() + " " + v() + " " + v() + " " + v()
	case 2:
		return "LPUSH " + k() + " " + v() + " " + v()
	case 3:
		return "LPUSHX " + k() + " " + v()
	case 4:
		return "RPUSHX " + k() + " " + v()
	case 5:
		return "LPOP " + k() + []string{"", " 0", " 2", " 5"}[r.IntN(4)]
	case 6:
		return "RPOP " + k() + []string{"", " 1", " 3"}[r.IntN(3)]
	case 7:
		return "LLEN " + k()
	case 8, 9:
		return "LRANGE " + k() + " " + num() + " " + num()
	case 10:
		return "LINDEX " + k() + " " + num()
	case 11:
		return "LSET " + k() + " " + num() + " " + v()
	case 12:
		return "LINSERT " + k() + " " + []string{"BEFORE", "AFTER"}[r.IntN(2)] + " " + v() + " " + v()
	case 13:
		return "LREM " + k() + " " + num() + " " + v()
	case 14:
		return "LTRIM " + k() + " " + num() + " " + num()
	case 15:
		s := "LPOS " + k() + " " + v()
		if r.IntN(2) == 0 {
			s += " RANK " + []string{"1", "2", "-1", "-2", "3"}[r.IntN(5)]
		}
		if r.IntN(2) == 0 {
			s += " COUNT " + strconv.Itoa(r.IntN(4))
		}
		if r.IntN(3) == 0 {
			s += " MAXLEN " + strconv.Itoa(r.IntN(6))
		}
		return s
	case 16:
		return "LMOVE " + k() + " " + k() + " " + dir() + " " + dir()
	case 17:
		return "RPOPLPUSH " + k() + " " + k()
	case 18:
		return fmt.Sprintf("LMPOP 2 %s %s %s COUNT %d", k(), k(), dir(), 1+r.IntN(4))
	case 19:
		return "BLPOP " + k() + " " + k() + " 0.01"
	case 20:
		return "BLMOVE " + k() + " " + k() + " " + dir() + " " + dir() + " 0.01"
	case 21:
		return "OBJECT ENCODING " + k()
	case 22:
		return "TYPE " + k()
	default:
		return "SET s " + v()
	}
}
