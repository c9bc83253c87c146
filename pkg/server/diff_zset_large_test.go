package server

import (
	"fmt"
	"math/rand/v2"
	"strconv"
	"testing"
)

// TestRandomDiffLargeZset drives sorted sets of thousands of members (the
// tree encoding with inner levels, splits, merges and refills) with random
// writes, rank and range reads and range deletions against both servers.
// The seed is printed; set CODIS_DIFF_SEED to replay one.
func TestRandomDiffLargeZset(t *testing.T) {
	rp := startRedis(t)
	s := startServer(t)
	seed := diffSeed(t)
	r := rand.New(rand.NewPCG(seed, 3))
	const members = 6000
	m := func() string { return "m" + strconv.Itoa(r.IntN(members)) }
	sc := func() string { // few distinct scores: many ties ordered by member
		if r.IntN(4) == 0 {
			return strconv.FormatFloat(float64(r.IntN(400))/8, 'f', -1, 64)
		}
		return strconv.Itoa(r.IntN(60))
	}
	key := func() string { return []string{"za", "zb"}[r.IntN(2)] }
	var lines []string
	// Fill both keys, in batches of 100 members.
	for _, k := range []string{"za", "zb"} {
		for i := 0; i < 40; i++ {
			line := "ZADD " + k
			for j := 0; j < 100; j++ {
				line += " " + sc() + " " + m()
			}
			lines = append(lines, line)
		}
	}
	n := 3000
	if testing.Short() {
		n = 800
	}
	for i := 0; i < n; i++ {
		k := key()
		var line string
		switch r.IntN(20) {
		case 0, 1, 2, 3:
			line = fmt.Sprintf("ZADD %s %s %s %s %s", k, sc(), m(), sc(), m())
		case 4:
			line = fmt.Sprintf("ZINCRBY %s %s %s", k, sc(), m())
		case 5, 6:
			line = fmt.Sprintf("ZREM %s %s %s %s", k, m(), m(), m())
		case 7:
			line = fmt.Sprintf("ZRANK %s %s", k, m())
		case 8:
			line = fmt.Sprintf("ZREVRANK %s %s", k, m())
		case 9:
			a := r.IntN(7000) - 500
			line = fmt.Sprintf("ZRANGE %s %d %d WITHSCORES", k, a, a+r.IntN(40))
		case 10:
			a := r.IntN(7000) - 500
			line = fmt.Sprintf("ZREVRANGE %s %d %d", k, a, a+r.IntN(40))
		case 11:
			line = fmt.Sprintf("ZRANGEBYSCORE %s (%s %s WITHSCORES LIMIT %d 30", k, sc(), sc(), r.IntN(50))
		case 12:
			line = fmt.Sprintf("ZCOUNT %s %s (%s", k, sc(), sc())
		case 13:
			a := r.IntN(6000)
			line = fmt.Sprintf("ZREMRANGEBYRANK %s %d %d", k, a, a+r.IntN(60))
		case 14:
			s := r.IntN(60)
			line = fmt.Sprintf("ZREMRANGEBYSCORE %s %d (%d", k, s, s+1)
		case 15:
			line = fmt.Sprintf("ZPOPMIN %s %d", k, 1+r.IntN(20))
		case 16:
			line = fmt.Sprintf("ZPOPMAX %s %d", k, 1+r.IntN(20))
		case 17:
			line = fmt.Sprintf("ZMSCORE %s %s %s", k, m(), m())
		case 18:
			line = "ZCARD " + k
		default:
			line = fmt.Sprintf("ZREVRANGEBYSCORE %s %s -inf LIMIT %d 20", k, sc(), r.IntN(100))
		}
		lines = append(lines, line)
	}
	lines = append(lines, "ZRANGE za 0 -1 WITHSCORES", "ZRANGE zb 0 -1 WITHSCORES",
		"ZUNIONSTORE zu 2 za zb", "ZRANGE zu 0 -1 WITHSCORES", "ZINTER 2 za zb WITHSCORES")
	runDiff(t, s.Addr().String(), rp.addr, lines)
}
