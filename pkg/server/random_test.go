package server

import (
	"fmt"
	"math/rand/v2"
	"strconv"
	"testing"
)

// TestRandomDiff runs random sequences of string and key commands against
// both servers. The seed is printed; set CODIS_DIFF_SEED to replay one.
func TestRandomDiff(t *testing.T) {
	rp := startRedis(t)
	s := startServer(t)
	seed := diffSeed(t)
	rng := rand.New(rand.NewPCG(seed, seed^0x9e3779b97f4a7c15))
	n := 3000
	if testing.Short() {
		n = 500
	}
	lines := make([]string, n)
	for i := range lines {
		lines[i] = randomCommand(rng)
	}
	runDiff(t, s.Addr().String(), rp.addr, lines)
}

func randomCommand(r *rand.Rand) string {
	keys := []string{"k0", "k1", "k2", "k3", "{t}a", "{t}b", "x{}", "n"}
	k := func() string { return keys[r.IntN(len(keys))] }
	vals := []string{"0", "1", "-7", "42", "abc", "\"\"", "9223372036854775807", "3.5", "\"a b\"", "foobar", "\"\\xff\\x00\""}
	v := func() string { return vals[r.IntN(len(vals))] }
	num := func() string { return strconv.Itoa(r.IntN(40) - 20) }
	switch r.IntN(38) {
	case 36:
		types := []string{"u1", "u4", "u8", "i5", "i8", "i16", "u63", "i64"}
		ows := []string{"", "OVERFLOW WRAP ", "OVERFLOW SAT ", "OVERFLOW FAIL "}
		ops := []string{"GET", "SET", "INCRBY"}
		op := ops[r.IntN(3)]
		s := fmt.Sprintf("BITFIELD %s %s%s %s %d", k(), ows[r.IntN(4)], op, types[r.IntN(len(types))], r.IntN(40))
		if op != "GET" {
			s += " " + []string{"1", "-1", "100", "-300", "9223372036854775807", "255"}[r.IntN(6)]
		}
		return s
	case 37:
		return fmt.Sprintf("BITFIELD_RO %s GET %s %d", k(), []string{"u8", "i8", "i64", "u3"}[r.IntN(4)], r.IntN(40))
	case 0:
		return "SET " + k() + " " + v()
	case 1:
		opts := []string{"", " NX", " XX", " GET", " EX 1000", " PX 100000", " KEEPTTL", " XX GET", " EXAT 99999999999"}
		return "SET " + k() + " " + v() + opts[r.IntN(len(opts))]
	case 2, 3:
		return "GET " + k()
	case 4:
		return "DEL " + k() + " " + k()
	case 5:
		return "APPEND " + k() + " " + v()
	case 6:
		return "INCR " + k()
	case 7:
		return "INCRBY " + k() + " " + num()
	case 8:
		return "DECRBY " + k() + " " + num()
	case 9:
		return "GETRANGE " + k() + " " + num() + " " + num()
	case 10:
		return fmt.Sprintf("SETRANGE %s %d %s", k(), r.IntN(20), v())
	case 11:
		return "STRLEN " + k()
	case 12:
		return "EXISTS " + k() + " " + k()
	case 13:
		return "TYPE " + k()
	case 14:
		return "RENAME " + k() + " " + k()
	case 15:
		return "RENAMENX " + k() + " " + k()
	case 16:
		return "MSET " + k() + " " + v() + " " + k() + " " + v()
	case 17:
		return "MGET " + k() + " " + k() + " " + k()
	case 18:
		return "SETNX " + k() + " " + v()
	case 19:
		return "GETSET " + k() + " " + v()
	case 20:
		return "GETDEL " + k()
	case 21:
		opts := []string{"", " NX", " XX", " GT", " LT"}
		return fmt.Sprintf("EXPIRE %s %d%s", k(), 1000+r.IntN(1000), opts[r.IntN(len(opts))])
	case 22:
		return "PERSIST " + k()
	case 23:
		return "TTL " + k()
	case 24:
		return fmt.Sprintf("SETBIT %s %d %d", k(), r.IntN(64), r.IntN(2))
	case 25:
		return fmt.Sprintf("GETBIT %s %d", k(), r.IntN(64))
	case 26:
		return "BITCOUNT " + k() + " " + num() + " " + num()
	case 27:
		return fmt.Sprintf("BITPOS %s %d %s", k(), r.IntN(2), num())
	case 28:
		ops := []string{"AND", "OR", "XOR"}
		return "BITOP " + ops[r.IntN(3)] + " " + k() + " " + k() + " " + k()
	case 29:
		return "INCRBYFLOAT " + k() + " " + []string{"1.5", "-0.25", "10", "abc"}[r.IntN(4)]
	case 30:
		return "sort: KEYS *"
	case 31:
		return "DBSIZE"
	case 32:
		return "MSETNX " + k() + " " + v() + " " + k() + " " + v()
	case 33:
		return "COPY " + k() + " " + k() + []string{"", " REPLACE"}[r.IntN(2)]
	case 34:
		return "GETEX " + k() + []string{"", " PERSIST", " EX 500"}[r.IntN(3)]
	default:
		return "DECR " + k()
	}
}
