package server

import (
	"fmt"
	"math/rand/v2"
	"strconv"
	"strings"
	"testing"
)

// diffHashCases are differential cases for the hash commands (see
// diffCases for the line syntax). Hashes in the listpack encoding reply in
// insertion order like Redis; hashtable-encoded replies are compared
// sorted.
var diffHashCases = []struct {
	name  string
	lines []string
}{
	{"hset-hget", []string{"HSET h a 1", "HSET h a 2 b 3", "HGET h a", "HGET h b", "HGET h c", "HGET nokey a", "HSET h a",
		"HSET h a 1 b", "HSET h", "HMSET h c 4 d 5", "HMSET h c", "HGETALL h", "HSETNX h a 9", "HSETNX h z 9", "HGET h z",
		"HSETNX h2 f v", "HGETALL h2", "HSETNX h", "HLEN h", "HLEN nokey", "HSET h \"\" \"\"", "HGET h \"\"", "HKEYS h", "HVALS h",
		"OBJECT ENCODING h", "TYPE h", "HSET h a 1 a 2", "HGET h a"}},
	{"hmget-hdel", []string{"HSET h a 1 b 2 c 3", "HMGET h a x c", "HMGET nokey a b", "HMGET h", "HDEL h a x", "HDEL h a",
		"HDEL h b c", "EXISTS h", "HDEL h a", "HSET h a 1 b 2", "HDEL h a b a", "EXISTS h", "HDEL nokey a", "HDEL h"}},
	{"hstrlen-hexists", []string{"HSET h a hello b \"\"", "HSTRLEN h a", "HSTRLEN h b", "HSTRLEN h c", "HSTRLEN nokey a",
		"HEXISTS h a", "HEXISTS h b", "HEXISTS h c", "HEXISTS nokey a", "HSTRLEN h", "HEXISTS h"}},
	{"wrongtype", []string{"SET s x", "HSET s a 1", "HMSET s a 1", "HSETNX s a 1", "HGET s a", "HMGET s a", "HDEL s a",
		"HLEN s", "HSTRLEN s a", "HEXISTS s a", "HKEYS s", "HVALS s", "HGETALL s", "HINCRBY s a 1", "HINCRBYFLOAT s a 1",
		"HRANDFIELD s", "HRANDFIELD s 2", "HSCAN s 0", "RPUSH l x", "HGET l a", "HSCAN s x", "HSET s a"}},
	{"hincrby", []string{"HINCRBY h a 5", "HINCRBY h a -10", "HGET h a", "HINCRBY h a x", "HSET h s foo", "HINCRBY h s 1",
		"HSET h m 9223372036854775807", "HINCRBY h m 1", "HSET h m -9223372036854775808", "HINCRBY h m -1", "HINCRBY h m 0",
		"HSET h sp \" 1\"", "HINCRBY h sp 1", "HSET h f 1.5", "HINCRBY h f 1", "HINCRBY h n 9223372036854775808",
		"HINCRBY h e \"\"", "HINCRBY h", "HGETALL h"}},
	{"hincrbyfloat", []string{"HINCRBYFLOAT h a 10.5", "HINCRBYFLOAT h a 0.1", "HINCRBYFLOAT h a -5", "HINCRBYFLOAT h a 1e3",
		"HGET h a", "HSET h i 3", "HINCRBYFLOAT h i 1.1", "HINCRBYFLOAT h i abc", "HINCRBYFLOAT h i inf", "HINCRBYFLOAT h i -inf",
		"HINCRBYFLOAT h i nan", "HSET h s abc", "HINCRBYFLOAT h s 1", "HSET h g inf", "HINCRBYFLOAT h g 1", "HINCRBYFLOAT h a 1e5000",
		"HINCRBYFLOAT h z 5.0e3", "HINCRBYFLOAT h y -0.0", "HINCRBYFLOAT h x \" 1\"", "HINCRBYFLOAT h x 0x10",
		"HINCRBYFLOAT h w 3.0000000000000001", "HINCRBYFLOAT h v 1e300", "OBJECT ENCODING h", "HSTRLEN h v", "sort: HGETALL h"}},
	{"hrandfield", []string{"HRANDFIELD nokey", "HRANDFIELD nokey 5", "HRANDFIELD nokey -5 WITHVALUES", "HSET h a 1",
		"HRANDFIELD h", "HRANDFIELD h 1", "HRANDFIELD h -3", "HRANDFIELD h -2 WITHVALUES", "HRANDFIELD h 0", "HRANDFIELD h 5 WITHVALUES",
		"HSET h b 2 c 3", "sort: HRANDFIELD h 3", "sort: HRANDFIELD h 10", "sort: HRANDFIELD h 10 WITHVALUES", "kind: HRANDFIELD h 2",
		"kind: HRANDFIELD h -10 WITHVALUES", "HRANDFIELD h x", "HRANDFIELD h 1 FOO", "HRANDFIELD h 1 WITHVALUES x",
		"HRANDFIELD h -9223372036854775808", "HRANDFIELD h -9223372036854775807 WITHVALUES", "HRANDFIELD h 4611686018427387904 WITHVALUES",
		"HRANDFIELD h 4611686018427387903 WITHVALUES", "HRANDFIELD h 9223372036854775807", "kind: HRANDFIELD h 1 withvalues", "HRANDFIELD"}},
	{"hscan", []string{"HSCAN nokey 0", "HSCAN nokey 0 COUNT 0", "HSCAN nokey x", "HSET h a 1 b 2 c 3 ab 4", "HSCAN h 0",
		"HSCAN h 0 MATCH a*", "HSCAN h 0 MATCH *b COUNT 1", "HSCAN h 0 COUNT 0", "HSCAN h 0 COUNT x", "HSCAN h 0 COUNT -1",
		"HSCAN h 0 TYPE string", "HSCAN h 0 FOO bar", "HSCAN h 0 COUNT", "HSCAN h x", "HSCAN h -1", "HSCAN h 18446744073709551616",
		"HSCAN h 0 MATCH", "HSCAN h 0 match * count 100", "HSCAN h 0 NOVALUES", "HSCAN h +0", "HSCAN h \"\"",
		"HSCAN h -", "HSCAN h \" 1\"", "HSCAN h 1x", "HSCAN h -18446744073709551616", "HSCAN h 18446744073709551615"}},
	{"encoding", []string{"HSET h a 1", "OBJECT ENCODING h",
		"HSET h f " + strings.Repeat("v", 64), "OBJECT ENCODING h",
		"HSET h g " + strings.Repeat("v", 65), "OBJECT ENCODING h", "HDEL h g", "OBJECT ENCODING h",
		"HSET k " + strings.Repeat("f", 65) + " 1", "OBJECT ENCODING k",
		"HSETNX n " + strings.Repeat("f", 65) + " 1", "OBJECT ENCODING n",
		"HINCRBY i " + strings.Repeat("f", 65) + " 1", "OBJECT ENCODING i",
		"HINCRBYFLOAT j " + strings.Repeat("f", 65) + " 1", "OBJECT ENCODING j",
		"HMSET m a 1 b " + strings.Repeat("x", 100), "OBJECT ENCODING m", "COPY m m2", "OBJECT ENCODING m2", "sort: HGETALL m2",
		"HINCRBYFLOAT fl a 1e60", "OBJECT ENCODING fl", "HSETNX sn a 1", "HSETNX sn a " + strings.Repeat("x", 100), "OBJECT ENCODING sn"}},
	{"hash-in-multi", []string{"MULTI", "HSET h a 1", "HINCRBY h a 1", "HGET h a", "HINCRBY h a x", "HDEL h a", "EXEC",
		"EXISTS h", "HSET h a 1", "WATCH h", "HSET h a 1", "MULTI", "PING", "EXEC", "WATCH h", "HDEL h nope", "MULTI", "PING",
		"EXEC", "WATCH h", "HSETNX h a 2", "MULTI", "PING", "EXEC"}},
	// Found by TestRandomDiffMixed: after CONFIG SET lowers
	// hash-max-listpack-entries, any write to a longer listpack hash (an
	// update too) converts it.
	{"hash-update-after-lower-limit", []string{"HSET h a 1 b 2 c 3", "HSET h2 a 1 b 2 c 3", "HSET h3 a 1 b 2 c 3",
		"HSET h4 a 1 b 2 c 3", "HSET h6 a 1 b 2 c 3", "CONFIG SET hash-max-listpack-entries 2", "HSET h a 5", "OBJECT ENCODING h",
		"HINCRBY h2 a 1", "OBJECT ENCODING h2", "HINCRBYFLOAT h3 c 1.5", "OBJECT ENCODING h3", "HSETNX h4 a 1",
		"OBJECT ENCODING h4", "HDEL h4 c", "OBJECT ENCODING h4", "HGET h6 a", "OBJECT ENCODING h6",
		"CONFIG SET hash-max-listpack-entries 3", "HSET h5 a 1 b 2 c 3", "HSET h5 c 4", "OBJECT ENCODING h5",
		"CONFIG SET hash-max-listpack-entries 512"}},
}

func hashEntriesLines() []string {
	// Debian's redis-server defaults hash-max-listpack-entries to 512;
	// Redis (and we) default to 128.
	lines := []string{"CONFIG SET hash-max-listpack-entries 128"}
	for i := 0; i < 130; i++ {
		lines = append(lines, fmt.Sprintf("HSET h f%d v%d", i, i))
		if i >= 126 {
			lines = append(lines, "OBJECT ENCODING h", "HLEN h")
		}
	}
	lines = append(lines, "sort: HGETALL h", "sort: HKEYS h", "sort: HVALS h", "HGET h f77", "HMGET h f1 f129 nope",
		"HDEL h f1 f2", "HLEN h", "OBJECT ENCODING h", "HSTRLEN h f100", "HEXISTS h f2", "HINCRBY h f3 1",
		"sort: HRANDFIELD h 1000", "kind: HRANDFIELD h 5 WITHVALUES", "kind: HRANDFIELD h -500")
	// Delete everything: the (hashtable) key must disappear.
	for i := 0; i < 130; i++ {
		lines = append(lines, fmt.Sprintf("HDEL h f%d", i))
	}
	lines = append(lines, "EXISTS h", "CONFIG SET hash-max-listpack-entries 512", "HSET h2 a 1", "CONFIG SET hash-max-listpack-value 2",
		"HSET h2 b 123", "OBJECT ENCODING h2", "CONFIG SET hash-max-listpack-value 64", "CONFIG SET hash-max-listpack-entries 128")
	return lines
}

func TestDiffHash(t *testing.T) {
	rp := startRedis(t)
	s := startServer(t)
	cases := append(diffHashCases, struct {
		name  string
		lines []string
	}{"entries-threshold", hashEntriesLines()})
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			runDiff(t, s.Addr().String(), rp.addr, tc.lines)
		})
	}
}

// TestHashScanFull checks that a full HSCAN of a hashtable-encoded hash
// returns every field on both servers, with concurrent-free iteration.
func TestHashScanFull(t *testing.T) {
	s := startServer(t)
	c := dial(t, s.Addr().String())
	const n = 2000
	for i := 0; i < n; i++ {
		c.expect("1", "HSET", "h", fmt.Sprintf("f%d", i), strconv.Itoa(i))
	}
	c.expect(`"hashtable"`, "OBJECT", "ENCODING", "h")
	for _, count := range []string{"1", "10", "1000"} {
		seen := map[string]int{}
		cur := "0"
		calls := 0
		for {
			r := c.do("HSCAN", "h", cur, "COUNT", count)
			if r.IsError() || len(r.Elems) != 2 {
				t.Fatalf("HSCAN: %s", r.String())
			}
			cur = string(r.Elems[0].Str)
			kv := r.Elems[1].Elems
			for i := 0; i+1 < len(kv); i += 2 {
				seen[string(kv[i].Str)]++
				if strings.HasPrefix(string(kv[i].Str), "extra") {
					continue
				}
				if want := strings.TrimPrefix(string(kv[i].Str), "f"); string(kv[i+1].Str) != want {
					t.Fatalf("field %s has value %s", kv[i].Str, kv[i+1].Str)
				}
			}
			calls++
			if cur == "0" {
				break
			}
			// Modifying other fields during the scan must not lose any.
			c.do("HSET", "h", fmt.Sprintf("extra%d", calls), "x")
			if calls > n {
				t.Fatal("HSCAN does not terminate")
			}
		}
		for i := 0; i < n; i++ {
			if seen[fmt.Sprintf("f%d", i)] == 0 {
				t.Fatalf("count %s: field f%d missing", count, i)
			}
		}
		c.do("HDEL", "h", "extra1", "extra2")
	}
	// MATCH filters after selection.
	r := c.do("HSCAN", "h", "0", "MATCH", "f1999", "COUNT", "100000")
	if r.Elems[0].String() != `"0"` || len(r.Elems[1].Elems) != 2 {
		t.Fatalf("HSCAN MATCH: %s", r.String())
	}
}

func randomHashCommand(r *rand.Rand) string {
	keys := []string{"h0", "h1", "{t}h", "l0", "s"}
	k := func() string { return keys[r.IntN(len(keys))] }
	fields := []string{"a", "b", "c", "d", "n", "\"\"", "f" + strings.Repeat("F", 66)}
	f := func() string { return fields[r.IntN(len(fields))] }
	vals := []string{"1", "-5", "abc", "\"\"", "2.5", "9223372036854775807", strings.Repeat("V", 65)}
	v := func() string { return vals[r.IntN(len(vals))] }
	switch r.IntN(18) {
	case 0, 1:
		return "HSET " + k() + " " + f() + " " + v()
	case 2:
		return "HSET " + k() + " " + f() + " " + v() + " " + f() + " " + v()
	case 3:
		return "HSETNX " + k() + " " + f() + " " + v()
	case 4:
		return "HGET " + k() + " " + f()
	case 5:
		return "HMGET " + k() + " " + f() + " " + f()
	case 6:
		return "HDEL " + k() + " " + f() + " " + f()
	case 7:
		return "HLEN " + k()
	case 8:
		return "HSTRLEN " + k() + " " + f()
	case 9:
		return "HEXISTS " + k() + " " + f()
	case 10:
		return "sort: HKEYS " + k()
	case 11:
		return "sort: HVALS " + k()
	case 12:
		return "sort: HGETALL " + k()
	case 13:
		return "HINCRBY " + k() + " " + f() + " " + []string{"1", "-3", "100", "x"}[r.IntN(4)]
	case 14:
		return "HINCRBYFLOAT " + k() + " " + f() + " " + []string{"1.5", "-0.25", "10", "abc"}[r.IntN(4)]
	case 15:
		return "OBJECT ENCODING " + k()
	case 16:
		return "kind: HRANDFIELD " + k() + " " + []string{"1", "-3", "2 WITHVALUES", "0"}[r.IntN(4)]
	default:
		return "DEL " + k()
	}
}

// TestDiffHashDefaultThreshold: with default settings a hash converts to
// hashtable at the same size as in the reference redis-server.
func TestDiffHashDefaultThreshold(t *testing.T) {
	rp := startRedis(t)
	s := startServer(t)
	lines := []string{"CONFIG GET hash-max-listpack-entries"}
	for i := 0; i < 600; i++ {
		lines = append(lines, fmt.Sprintf("HSET hdef f%d v", i))
		if i%50 == 0 || (i > 120 && i < 135) || (i > 505 && i < 515) {
			lines = append(lines, "OBJECT ENCODING hdef")
		}
	}
	runDiff(t, s.Addr().String(), rp.addr, lines)
}
