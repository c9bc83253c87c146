package server

import (
	"fmt"
	"math/rand/v2"
	"strconv"
	"testing"
)

// TestSortRandomDiff compares random SORT invocations with redis-server.
// Element and BY values are unique so that Redis's (unstable) ordering of
// ties never matters.
func TestSortRandomDiff(t *testing.T) {
	rp := startRedis(t)
	s := startServer(t)
	seed := rand.Uint64()
	t.Logf("seed %d", seed)
	r := rand.New(rand.NewPCG(seed, 7))
	var lines []string
	elem := func(i int) string {
		switch r.IntN(4) {
		case 0:
			return strconv.Itoa(i*7 - 50)
		case 1:
			return fmt.Sprintf("%d.%d", i, r.IntN(100))
		case 2:
			return fmt.Sprintf("e%03d", i)
		}
		return strconv.Itoa(i)
	}
	for round := 0; round < 30; round++ {
		lines = append(lines, "FLUSHALL")
		n := 1 + r.IntN(40)
		numeric := r.IntN(2) == 0
		var elems []string
		perm := r.Perm(n)
		for i := 0; i < n; i++ {
			e := elem(i)
			if numeric {
				e = strconv.Itoa(i*13%97 - 40 + i*1000)
			}
			elems = append(elems, e)
			lines = append(lines, fmt.Sprintf("SET w_%s %d", e, r.IntN(1000)*100+i))
			lines = append(lines, fmt.Sprintf("HSET h_%s f v%03d", e, perm[i]))
		}
		kind := r.IntN(3)
		for i, e := range elems {
			switch kind {
			case 0:
				lines = append(lines, "RPUSH k "+e)
			case 1:
				lines = append(lines, "SADD k "+e)
			case 2:
				lines = append(lines, fmt.Sprintf("ZADD k %d %s", r.IntN(1000)*100+i, e))
			}
		}
		for q := 0; q < 10; q++ {
			cmd := "SORT k"
			if r.IntN(4) == 0 {
				cmd = "SORT_RO k"
			}
			by := r.IntN(4)
			switch by {
			case 1:
				cmd += " BY w_*"
			case 2:
				cmd += " BY h_*->f"
			case 3:
				if kind != 1 {
					cmd += " BY nosort"
				}
			}
			if r.IntN(2) == 0 {
				cmd += " DESC"
			}
			if !numeric && by != 1 || by == 2 {
				cmd += " ALPHA"
			}
			if r.IntN(2) == 0 {
				cmd += fmt.Sprintf(" LIMIT %d %d", r.IntN(n+3)-1, r.IntN(n+3)-1)
			}
			for g := r.IntN(3); g > 0; g-- {
				cmd += []string{" GET #", " GET w_*", " GET h_*->f", " GET nokey_*"}[r.IntN(4)]
			}
			if cmd[:6] == "SORT k" && r.IntN(4) == 0 {
				cmd += " STORE dst"
				lines = append(lines, cmd, "LRANGE dst 0 -1")
				continue
			}
			lines = append(lines, cmd)
		}
	}
	runDiff(t, s.Addr().String(), rp.addr, lines)
}
