package server

import (
	"fmt"
	"math/rand/v2"
	"strconv"
	"strings"
	"testing"
)

// TestRandomDiffSetZSet runs random sequences of set and sorted set
// commands against both servers. The seed is printed; set
// CODIS_DIFF_SEED to replay one.
func TestRandomDiffSetZSet(t *testing.T) {
	rp := startRedis(t)
	s := startServer(t)
	seed := diffSeed(t)
	rng := rand.New(rand.NewPCG(seed, seed^0x9e3779b97f4a7c15))
	n := 4000
	if testing.Short() {
		n = 800
	}
	lines := make([]string, n)
	for i := range lines {
		lines[i] = randomSetZsetCommand(rng)
	}
	runDiff(t, s.Addr().String(), rp.addr, lines)
}

func randomSetZsetCommand(r *rand.Rand) string {
	keys := []string{"s1", "s2", "s3", "z1", "z2", "z3", "{t}a", "str"}
	k := func() string { return keys[r.IntN(len(keys))] }
	long := strings.Repeat("L", 65)
	member := func() string {
		switch x := r.IntN(20); {
		case x < 8:
			return strconv.Itoa(r.IntN(12) - 3)
		case x < 18:
			return "m" + strconv.Itoa(r.IntN(150))
		case x == 18:
			return long
		default:
			return []string{"\"\"", "\"a b\"", "01", "9223372036854775807"}[r.IntN(4)]
		}
	}
	members := func(n int) string {
		var b strings.Builder
		for i := 0; i < n; i++ {
			b.WriteString(" " + member())
		}
		return b.String()
	}
	score := func() string {
		return []string{"0", "1", "2", "-1", "1.5", "2.5", "-0", "inf", "-inf", "3", "1e3", "0.1", "10", "7"}[r.IntN(14)]
	}
	bound := func() string {
		s := score()
		if r.IntN(3) == 0 {
			s = "(" + s
		}
		return s
	}
	lex := func() string {
		switch r.IntN(6) {
		case 0:
			return "-"
		case 1:
			return "+"
		case 2:
			return "(" + member()
		default:
			return "[" + member()
		}
	}
	// Lexicographic ranges are only defined when all scores are equal:
	// they run on keys that only ever get score 0.
	lk := func() string { return []string{"l1", "l2"}[r.IntN(2)] }
	idx := func() string { return strconv.Itoa(r.IntN(30) - 15) }
	nk := func() (string, int) {
		n := 1 + r.IntN(3)
		ks := make([]string, n)
		for i := range ks {
			ks[i] = k()
		}
		return strings.Join(ks, " "), n
	}
	switch r.IntN(48) {
	case 0, 1, 2:
		return "SADD " + k() + members(1+r.IntN(4))
	case 3:
		return "SREM " + k() + members(1+r.IntN(3))
	case 4:
		return "SCARD " + k()
	case 5:
		return "SISMEMBER " + k() + " " + member()
	case 6:
		return "SMISMEMBER " + k() + members(3)
	case 7:
		return "sort: SMEMBERS " + k()
	case 8:
		return "sort: SRANDMEMBER " + k() + " 1000"
	case 9:
		return "sort: SPOP " + k() + " 1000"
	case 10:
		return "SMOVE " + k() + " " + k() + " " + member()
	case 11:
		ks, _ := nk()
		return "sort: SINTER " + ks
	case 12:
		ks, n := nk()
		return fmt.Sprintf("SINTERCARD %d %s LIMIT %d", n, ks, r.IntN(4))
	case 13:
		ks, _ := nk()
		return "sort: SUNION " + ks
	case 14:
		ks, _ := nk()
		return "sort: SDIFF " + ks
	case 15:
		ks, _ := nk()
		return []string{"SINTERSTORE ", "SUNIONSTORE ", "SDIFFSTORE "}[r.IntN(3)] + k() + " " + ks
	case 16, 17, 18:
		opts := []string{"", "NX ", "XX ", "GT ", "LT ", "CH ", "GT CH ", "XX LT ", "INCR "}
		o := opts[r.IntN(len(opts))]
		n := 1 + r.IntN(4)
		if o == "INCR " {
			n = 1
		}
		var b strings.Builder
		for i := 0; i < n; i++ {
			b.WriteString(" " + score() + " " + member())
		}
		return "ZADD " + k() + " " + strings.TrimSpace(o) + b.String()
	case 19:
		return "ZINCRBY " + k() + " " + score() + " " + member()
	case 20:
		return "ZREM " + k() + members(1+r.IntN(3))
	case 21:
		return "ZCARD " + k()
	case 22:
		return "ZCOUNT " + k() + " " + bound() + " " + bound()
	case 23:
		return "ZLEXCOUNT " + lk() + " " + lex() + " " + lex()
	case 24:
		return "ZSCORE " + k() + " " + member()
	case 25:
		return "ZMSCORE " + k() + members(3)
	case 26:
		return []string{"ZRANK ", "ZREVRANK "}[r.IntN(2)] + k() + " " + member()
	case 27, 28:
		opts := []string{"", " WITHSCORES", " REV", " REV WITHSCORES"}
		return "ZRANGE " + k() + " " + idx() + " " + idx() + opts[r.IntN(len(opts))]
	case 29:
		lim := ""
		if r.IntN(2) == 0 {
			lim = fmt.Sprintf(" LIMIT %d %d", r.IntN(5)-1, r.IntN(6)-1)
		}
		return []string{"ZRANGEBYSCORE ", "ZREVRANGEBYSCORE "}[r.IntN(2)] + k() + " " + bound() + " " + bound() +
			[]string{"", " WITHSCORES"}[r.IntN(2)] + lim
	case 30:
		lim := ""
		if r.IntN(2) == 0 {
			lim = fmt.Sprintf(" LIMIT %d %d", r.IntN(5)-1, r.IntN(6)-1)
		}
		return []string{"ZRANGEBYLEX ", "ZREVRANGEBYLEX "}[r.IntN(2)] + lk() + " " + lex() + " " + lex() + lim
	case 31:
		kinds := []string{"", " BYSCORE", " BYSCORE REV", " BYLEX", " BYLEX REV", " REV"}
		kd := kinds[r.IntN(len(kinds))]
		a, b := idx(), idx()
		if strings.Contains(kd, "BYSCORE") {
			a, b = bound(), bound()
		} else if strings.Contains(kd, "BYLEX") {
			return "ZRANGESTORE " + k() + " " + lk() + " " + lex() + " " + lex() + kd
		}
		return "ZRANGESTORE " + k() + " " + k() + " " + a + " " + b + kd
	case 32:
		return "ZREMRANGEBYRANK " + k() + " " + idx() + " " + idx()
	case 33:
		return "ZREMRANGEBYSCORE " + k() + " " + bound() + " " + bound()
	case 34:
		return "ZREMRANGEBYLEX " + lk() + " " + lex() + " " + lex()
	case 35:
		return []string{"ZPOPMIN ", "ZPOPMAX "}[r.IntN(2)] + k() + []string{"", " 0", " 2", " 100"}[r.IntN(4)]
	case 36:
		ks, n := nk()
		return fmt.Sprintf("ZMPOP %d %s %s COUNT %d", n, ks, []string{"MIN", "MAX"}[r.IntN(2)], 1+r.IntN(3))
	case 37:
		return "ZRANDMEMBER " + k() + " 1000" + []string{"", " WITHSCORES"}[r.IntN(2)]
	case 38, 39:
		ks, n := nk()
		op := []string{"ZUNION", "ZINTER", "ZDIFF"}[r.IntN(3)]
		opt := ""
		if op != "ZDIFF" && r.IntN(2) == 0 {
			var w []string
			for i := 0; i < n; i++ {
				w = append(w, []string{"1", "2", "-1", "0", "0.5", "inf"}[r.IntN(6)])
			}
			opt += " WEIGHTS " + strings.Join(w, " ")
		}
		if op != "ZDIFF" && r.IntN(2) == 0 {
			opt += " AGGREGATE " + []string{"SUM", "MIN", "MAX"}[r.IntN(3)]
		}
		if r.IntN(2) == 0 {
			return fmt.Sprintf("%sSTORE %s %d %s%s", op, k(), n, ks, opt)
		}
		return fmt.Sprintf("%s %d %s%s WITHSCORES", op, n, ks, opt)
	case 40:
		ks, n := nk()
		return fmt.Sprintf("ZINTERCARD %d %s LIMIT %d", n, ks, r.IntN(3))
	case 41:
		return "kind: ZSCAN " + k() + " 0 COUNT 1000"
	case 42:
		return "OBJECT ENCODING " + k()
	case 43:
		return "TYPE " + k()
	case 44:
		var b strings.Builder
		b.WriteString("ZADD " + k())
		for i := 0; i < 130; i++ {
			b.WriteString(" " + strconv.Itoa(r.IntN(5)) + " m" + strconv.Itoa(r.IntN(150)))
		}
		return b.String()
	case 45:
		if r.IntN(3) == 0 {
			return "ZREM " + lk() + members(2)
		}
		return "ZADD " + lk() + " 0 " + member() + " 0 " + member()
	default:
		return []string{"SET str v", "DEL " + k(), "EXISTS " + k()}[r.IntN(3)]
	}
}
