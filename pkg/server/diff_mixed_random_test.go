package server

import (
	"fmt"
	"math/rand/v2"
	"os"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"
)

// TestDiffConfiguredThresholds checks OBJECT ENCODING after CONFIG SET of
// the set, sorted set and list thresholds: new values, conversions when a
// value grows past a limit (never back when it shrinks), computed (STORE)
// results, RESTORE and RDB reload, and the CONFIG GET round trip of the
// directives and their old ziplist names.
func TestDiffConfiguredThresholds(t *testing.T) {
	s := startServer(t)
	rp := startRedisArgs(t, "--enable-debug-command", "yes")
	// restore dumps key and restores it in place (same thresholds).
	restore := func(key string) string {
		return `EVAL "local d=redis.call('dump',KEYS[1]) redis.call('del',KEYS[1]) return redis.call('restore',KEYS[1],0,d)" 1 ` + key
	}
	lines := []string{
		// CONFIG GET / SET and validation.
		"sort: CONFIG GET set-max-intset-entries", "sort: CONFIG GET zset-max-*", "sort: CONFIG GET list-*",
		"sort: CONFIG GET hash-max-*",
		"CONFIG SET set-max-intset-entries -1", "CONFIG SET set-max-intset-entries 1k",
		"CONFIG SET set-max-intset-entries 9223372036854775808", "CONFIG SET zset-max-listpack-entries x",
		"CONFIG SET zset-max-ziplist-value -5", "CONFIG SET list-compress-depth -1", "CONFIG SET list-max-listpack-size abc",
		"CONFIG SET list-max-listpack-size 2147483648", "CONFIG SET list-max-ziplist-size -2147483649",
		"CONFIG SET list-max-listpack-size -6", "CONFIG GET list-max-listpack-size", "CONFIG GET list-max-ziplist-size",
		"CONFIG SET list-max-ziplist-size 0", "CONFIG GET list-max-listpack-size",
		"CONFIG SET list-compress-depth 3", "CONFIG GET list-compress-depth", "CONFIG SET list-compress-depth 0",
		"CONFIG SET zset-max-ziplist-entries 5", "sort: CONFIG GET zset-max-*",
		"CONFIG SET hash-max-ziplist-value 3", "sort: CONFIG GET hash-max-*", "HSET h a bbbb", "OBJECT ENCODING h",
		"CONFIG SET hash-max-listpack-value 64", "CONFIG GET hash-max-ziplist-value",
		"CONFIG SET set-max-intset-entries 9223372036854775807", "CONFIG GET set-max-intset-entries",
		"CONFIG SET zset-max-listpack-value 1kb", "CONFIG GET zset-max-listpack-value", "CONFIG SET zset-max-listpack-value 64",
		"CONFIG SET zset-max-listpack-entries 1k",

		// Sets.
		"CONFIG SET set-max-intset-entries 3", "SADD s 1 2 3", "OBJECT ENCODING s", "SADD s 4", "OBJECT ENCODING s",
		"SREM s 4 3", "OBJECT ENCODING s", "SADD s2 1 2 3 4", "OBJECT ENCODING s2", "SADD big 1 2 3 4 5", "SADD b3 1 2 3",
		"SINTERSTORE d big b3", "OBJECT ENCODING d", "SDIFFSTORE d big b3", "OBJECT ENCODING d",
		"SUNIONSTORE d big", "OBJECT ENCODING d", "SUNIONSTORE d b3 b3", "OBJECT ENCODING d", "SINTERSTORE d big", "OBJECT ENCODING d",
		"SMOVE big nw 1", "OBJECT ENCODING nw", "SMOVE big b3 5", "OBJECT ENCODING b3",
		"CONFIG SET set-max-intset-entries 0", "SADD z0 1", "OBJECT ENCODING z0", "SUNIONSTORE d b3", "OBJECT ENCODING d",
		"CONFIG SET set-max-intset-entries 512", "SADD ht 1 2 x", "SREM ht x", "OBJECT ENCODING ht",
		"SADD s5 1 2 3 4 5", "CONFIG SET set-max-intset-entries 3", restore("s5"), "OBJECT ENCODING s5",
		"CONFIG SET set-max-intset-entries 512", restore("ht"), "OBJECT ENCODING ht", restore("s5"), "OBJECT ENCODING s5",
		"SADD s6 1 2 3 4", "CONFIG SET set-max-intset-entries 2", "SADD s6 5", "OBJECT ENCODING s6",

		// Sorted sets.
		"CONFIG SET zset-max-listpack-entries 3", "ZADD z 1 a 2 b 3 c", "OBJECT ENCODING z", "ZADD z 4 d", "OBJECT ENCODING z",
		"ZREM z d c", "OBJECT ENCODING z", "ZADD y 1 a 2 b 3 c 4 d", "OBJECT ENCODING y",
		"CONFIG SET zset-max-listpack-entries 0", "ZADD x 1 a", "OBJECT ENCODING x", "ZADD x0 NX 1 a", "OBJECT ENCODING x0",
		"CONFIG SET zset-max-listpack-entries 3", "CONFIG SET zset-max-listpack-value 2",
		"ZADD w 1 aa 2 bbb", "OBJECT ENCODING w", "ZADD v 1 aaa", "OBJECT ENCODING v", "ZADD u 1 a", "ZADD u 2 abc",
		"OBJECT ENCODING u", "ZINCRBY u2 1 abc", "OBJECT ENCODING u2",
		"CONFIG SET zset-max-listpack-value 64", "ZUNIONSTORE d 1 z", "OBJECT ENCODING d", "ZRANGESTORE d y 0 1",
		"OBJECT ENCODING d", "ZRANGESTORE d y 0 -1", "OBJECT ENCODING d", "ZDIFFSTORE d 1 y", "OBJECT ENCODING d",
		"ZINTERSTORE d 2 y y", "OBJECT ENCODING d", "CONFIG SET zset-max-listpack-value 2", "ZRANGESTORE d w 0 -1",
		"OBJECT ENCODING d", "ZUNIONSTORE d 1 w", "OBJECT ENCODING d", "ZRANGESTORE d z 0 -1", "OBJECT ENCODING d",
		"CONFIG SET zset-max-listpack-value 64", "CONFIG SET zset-max-listpack-entries 128",
		"GEOADD g 13.361389 38.115556 Palermo 15.087269 37.502669 Catania 2.35 48.85 Paris 0 0 Null", "OBJECT ENCODING g",
		"CONFIG SET zset-max-listpack-entries 2", "GEOSEARCHSTORE d g FROMLONLAT 15 37 BYRADIUS 5000 km", "OBJECT ENCODING d",
		"GEOSEARCHSTORE d g FROMLONLAT 15 37 BYRADIUS 5000 km COUNT 1", "OBJECT ENCODING d",
		"GEOADD g2 13.361389 38.115556 Palermo 15.087269 37.502669 Catania 2.35 48.85 Paris", "OBJECT ENCODING g2",
		"ZADD r 1 a 2 b 3 c", "CONFIG SET zset-max-listpack-entries 128", restore("r"), "OBJECT ENCODING r",
		"ZADD r2 1 a 2 b 3 c", "CONFIG SET zset-max-listpack-entries 2", restore("r2"), "OBJECT ENCODING r2",
		"CONFIG SET zset-max-listpack-entries 128",

		// Lists always report quicklist; the node size is fixed per list.
		"CONFIG SET list-max-listpack-size 1", "RPUSH l a b c d", "OBJECT ENCODING l", "LRANGE l 0 -1",
		"LINSERT l BEFORE c x", "LREM l 1 b", "LSET l 0 z", "LRANGE l 0 -1", "CONFIG SET list-max-listpack-size -5",
		"RPUSH l e", "LRANGE l 0 -1", restore("l"), "LRANGE l 0 -1",

		// Hashes restored or reloaded follow hash-max-listpack-entries.
		"CONFIG SET hash-max-listpack-entries 512", "HSET rh a 1 b 2 c 3", "CONFIG SET hash-max-listpack-entries 2",
		restore("rh"), "OBJECT ENCODING rh", "CONFIG SET hash-max-listpack-entries 512", "HSET rh2 a 1 b 2 c 3",
		"CONFIG SET hash-max-listpack-entries 2", "DEBUG RELOAD", "OBJECT ENCODING rh2",
		"CONFIG SET hash-max-listpack-entries 512",

		// RDB reload with non-default thresholds.
		"CONFIG SET set-max-intset-entries 3 zset-max-listpack-entries 3",
		"DEBUG RELOAD", "OBJECT ENCODING s", "OBJECT ENCODING s2", "OBJECT ENCODING ht", "OBJECT ENCODING s5",
		"OBJECT ENCODING z", "OBJECT ENCODING y", "OBJECT ENCODING r", "OBJECT ENCODING g",
		"CONFIG SET set-max-intset-entries 512 zset-max-listpack-entries 128",
		"DEBUG RELOAD", "OBJECT ENCODING s", "OBJECT ENCODING s2", "OBJECT ENCODING z", "OBJECT ENCODING y",
		"LRANGE l 0 -1",
	}
	runDiff(t, s.Addr().String(), rp.addr, lines)
}

// TestRandomDiffMixed runs one random sequence of commands of every type
// and command family against both servers, in one small keyspace so that
// keys change type and encodings convert often, with the encoding
// thresholds changed by CONFIG SET along the way. The seed is printed;
// set CODIS_DIFF_SEED to replay one, and CODIS_DIFF_N for a longer run.
func TestRandomDiffMixed(t *testing.T) {
	rp := startRedisArgs(t, "--enable-debug-command", "yes")
	s := startServer(t)
	seed := diffSeed(t)
	n := 6000
	if testing.Short() {
		n = 1000
	}
	if v := os.Getenv("CODIS_DIFF_N"); v != "" {
		if x, err := strconv.Atoi(v); err == nil && x > 0 {
			n = x
		}
	}
	g := newMixedGen(seed)
	var lines []string
	for len(lines) < n {
		lines = append(lines, g.next()...)
	}
	if os.Getenv("CODIS_DIFF_PRINT") != "" {
		for i, l := range lines {
			fmt.Printf("%d\t%s\n", i, l)
		}
	}
	runDiff(t, s.Addr().String(), rp.addr, lines)
	if t.Failed() {
		t.Logf("failed with seed %d (CODIS_DIFF_PRINT=1 prints the commands)", seed)
	}
}

// mixedGen generates the commands of TestRandomDiffMixed.
type mixedGen struct {
	r     *rand.Rand
	fam   string // family of the command being generated ("" = any)
	force string // when set, the key every pick returns
	last  string // the last key picked
}

// mixedKeys are the keys of each family: commands mostly use their own
// family's keys (so values grow and convert), sometimes any key (so types
// collide and keys move between families).
var mixedKeys = map[string][]string{
	"str": {"s1", "s2", "{t}s"}, "list": {"l1", "l2", "{t}l"}, "hash": {"h1", "h2", "{t}h"},
	"set": {"S1", "S2", "{t}S"}, "zset": {"z1", "z2", "{t}z"}, "hll": {"p1", "p2"},
}

var mixedAllKeys = func() []string {
	var all []string
	for _, f := range []string{"str", "list", "hash", "set", "zset", "hll"} {
		all = append(all, mixedKeys[f]...)
	}
	return all
}()

func newMixedGen(seed uint64) *mixedGen {
	return &mixedGen{r: rand.New(rand.NewPCG(seed, seed^0x9e3779b97f4a7c15))}
}

// Members are short (at most 20 bytes) or long (70 bytes), so the values
// given to zset-max-listpack-value (24 or 64) never fall between the
// lengths of members already stored. (Redis keeps a packed sorted set with
// longer members when it restores one; our DUMP payloads do not say a set
// was packed, so a restored one would convert.)
var mixedLong = strings.Repeat("L", 70)

func (g *mixedGen) pick(xs ...string) string { return xs[g.r.IntN(len(xs))] }

func (g *mixedGen) key() string {
	switch ks := mixedKeys[g.fam]; {
	case g.force != "":
		g.last = g.force
	case ks != nil && g.r.IntN(8) != 0:
		g.last = g.pick(ks...)
	default:
		g.last = g.pick(mixedAllKeys...)
	}
	return g.last
}

func (g *mixedGen) keys(max int) (string, int) {
	n := 1 + g.r.IntN(max)
	ks := make([]string, n)
	for i := range ks {
		ks[i] = g.key()
	}
	return strings.Join(ks, " "), n
}

func (g *mixedGen) member() string {
	switch x := g.r.IntN(20); {
	case x < 7:
		return strconv.Itoa(g.r.IntN(12) - 3)
	case x == 7:
		// Wider integers (intset element sizes) and near-integers.
		return g.pick("40000", "-40000", "3000000000", "-9223372036854775808", "+1", "1e3", "0x10", "18446744073709551616")
	case x < 17:
		return "m" + strconv.Itoa(g.r.IntN(40))
	case x == 17:
		return mixedLong
	default:
		return g.pick(`""`, `"a b"`, "01", "9223372036854775807", "-0", "1.5")
	}
}

// many is a count of members for a command: mostly a few, sometimes
// enough to cross the default thresholds.
func (g *mixedGen) many() int {
	if g.r.IntN(25) == 0 {
		return 20 + g.r.IntN(140)
	}
	return 1 + g.r.IntN(4)
}

// bulk returns n space-prefixed distinct-ish values prefix+number, to
// cross the default thresholds (512 set integers, 128 zset members, the
// sparse HyperLogLog limit).
func (g *mixedGen) bulk(prefix string, n, span int) string {
	var b strings.Builder
	for i := 0; i < n; i++ {
		b.WriteString(" " + prefix + strconv.Itoa(g.r.IntN(span)))
	}
	return b.String()
}

func (g *mixedGen) members(n int) string {
	var b strings.Builder
	for i := 0; i < n; i++ {
		b.WriteString(" " + g.member())
	}
	return b.String()
}

func (g *mixedGen) score() string {
	return g.pick("0", "1", "2", "-1", "1.5", "-0", "inf", "-inf", "3", "1e3", "0.1", "10")
}

func (g *mixedGen) idx() string { return strconv.Itoa(g.r.IntN(16) - 8) }

func (g *mixedGen) num() string {
	return g.pick("0", "1", "-1", "7", "100", "3.5", "x", "9223372036854775807", "-9223372036854775808")
}

func (g *mixedGen) str() string {
	return g.pick("v", "hello", "12", "-3", "1.5", `""`, mixedLong, "foobar", `"\xff\xf0\x00"`)
}

// next returns the next command, or a MULTI block.
func (g *mixedGen) next() []string {
	r := g.r
	switch x := r.IntN(100); {
	case x == 0 && g.r.IntN(4) == 0:
		return []string{"DEBUG RELOAD"}
	case x < 2:
		// A transaction of a few commands (any queued error aborts it).
		out := []string{"MULTI"}
		for i := 1 + r.IntN(4); i > 0; i-- {
			c := g.command()
			for strings.Contains(c, ": ") || strings.Contains(c, "BY nosort") {
				c = g.command() // EXEC replies are compared exactly
			}
			out = append(out, c)
		}
		return append(out, g.pick("EXEC", "EXEC", "EXEC", "DISCARD"))
	case x < 4:
		return []string{g.config()}
	case x < 7:
		return []string{g.script()}
	case x < 8:
		// WATCH, a command on the watched key (which may or may not
		// change it), then a transaction.
		k := g.pick(mixedAllKeys...)
		out := []string{"WATCH " + k}
		if g.r.IntN(4) != 0 {
			g.force = k
			c := g.command()
			for strings.HasPrefix(c, "DEBUG") || strings.HasPrefix(c, "SWAPDB") {
				c = g.command()
			}
			out = append(out, c)
			g.force = ""
		}
		return append(out, "MULTI", "EXISTS "+k, "EXEC")
	default:
		c := g.command()
		if g.r.IntN(5) == 0 {
			return []string{c, "OBJECT ENCODING " + g.last}
		}
		return []string{c}
	}
}

// config changes an encoding threshold.
func (g *mixedGen) config() string {
	switch g.r.IntN(5) {
	case 4:
		if g.r.IntN(2) == 0 {
			return "CONFIG SET hash-max-listpack-entries " + g.pick("0", "1", "3", "512")
		}
		return "CONFIG SET hash-max-listpack-value " + g.pick("24", "64")
	case 0:
		return "CONFIG SET set-max-intset-entries " + g.pick("0", "1", "3", "5", "512")
	case 1:
		return "CONFIG SET " + g.pick("zset-max-listpack-entries", "zset-max-ziplist-entries") + " " + g.pick("0", "1", "3", "5", "128")
	case 2:
		return "CONFIG SET " + g.pick("zset-max-listpack-value", "zset-max-ziplist-value") + " " + g.pick("24", "64")
	default:
		return "CONFIG SET " + g.pick("list-max-listpack-size", "list-max-ziplist-size") + " " + g.pick("-2", "-1", "1", "3", "0")
	}
}

// script runs commands through EVAL (redis.call and redis.pcall), or
// dumps and restores a key in place.
func (g *mixedGen) script() string {
	g.fam = ""
	k := g.key()
	switch g.r.IntN(10) {
	case 0, 1:
		return `EVAL "local d=redis.call('dump',KEYS[1]) if not d then return 0 end redis.call('del',KEYS[1]) return redis.call('restore',KEYS[1],0,d)" 1 ` + k
	case 7:
		// Restore under another name, with options.
		return `EVAL "local d=redis.call('dump',KEYS[1]) if not d then return 0 end return redis.pcall('restore',KEYS[2],ARGV[1],d,unpack(ARGV,2))" 2 ` +
			k + " " + g.key() + " " + g.pick("0 REPLACE", "0", "100000 REPLACE", "0 REPLACE IDLETIME 10", "0 REPLACE FREQ 5")
	case 8:
		// A runtime error in a script (redis.call raises it).
		return `EVAL "return redis.call(ARGV[1],KEYS[1],ARGV[2])" 1 ` + k + " " + g.pick("lpush", "sadd", "incr", "hget", "zscore", "get") + " x"
	case 9:
		return `EVAL "return redis.call('object','encoding',KEYS[1])" 1 ` + k
	case 2:
		return `EVAL "redis.call('rpush',KEYS[1],ARGV[1]) return redis.call('lrange',KEYS[1],0,-1)" 1 ` + k + " " + g.member()
	case 3:
		return `EVAL "return redis.pcall('zadd',KEYS[1],ARGV[1],ARGV[2])" 1 ` + k + " " + g.score() + " " + g.member()
	case 4:
		return `EVAL "return redis.call('type',KEYS[1])" 1 ` + k
	case 5:
		return `EVAL "return {redis.pcall('incrby',KEYS[1],ARGV[1]), redis.pcall('get',KEYS[1])}" 1 ` + k + " " + g.num()
	default:
		return `EVAL "return redis.pcall('sadd',KEYS[1],ARGV[1],ARGV[2])" 1 ` + k + " " + g.member() + " " + g.member()
	}
}

// command returns one command of any family.
func (g *mixedGen) command() string {
	r := g.r
	k := func(fam string) string {
		g.fam = fam
		return g.key()
	}
	switch r.IntN(12) {
	case 0:
		return g.stringCmd(k("str"))
	case 1:
		return g.bitCmd(k("str"))
	case 2, 3:
		return g.listCmd(k("list"))
	case 4:
		return g.hashCmd(k("hash"))
	case 5, 6:
		return g.setCmd(k("set"))
	case 7, 8:
		return g.zsetCmd(k("zset"))
	case 9:
		if r.IntN(2) == 0 {
			return g.geoCmd(k("zset"))
		}
		return g.hllCmd(k("hll"))
	default:
		return g.keyCmd(k(""))
	}
}

func (g *mixedGen) stringCmd(k string) string {
	switch g.r.IntN(15) {
	case 0, 1:
		return "SET " + k + " " + g.str()
	case 2:
		return "GET " + k
	case 3:
		return "APPEND " + k + " " + g.str()
	case 4:
		return g.pick("INCR ", "DECR ") + k
	case 5:
		return "INCRBY " + k + " " + g.num()
	case 6:
		return "INCRBYFLOAT " + k + " " + g.num()
	case 7:
		return "SETRANGE " + k + " " + strconv.Itoa(g.r.IntN(10)) + " " + g.str()
	case 8:
		return "GETRANGE " + k + " " + g.idx() + " " + g.idx()
	case 9:
		return "STRLEN " + k
	case 10:
		return "MSET " + k + " " + g.str() + " " + g.key() + " " + g.str()
	case 11:
		return g.pick("GETDEL ", "SETNX ", "GETSET ") + k + " " + g.str()
	case 12:
		return "SET " + k + " " + g.str() + g.pick(" NX", " XX", " GET", " KEEPTTL", " EX 100", " XX GET")
	case 13:
		return g.pick("GETEX "+k+" PERSIST", "GETEX "+k+" EX 100", "MGET "+k+" "+g.key(), "SUBSTR "+k+" 1 3",
			"MSETNX "+k+" x "+g.key()+" y", "SETEX "+k+" 100 "+g.str())
	default:
		return "LCS " + k + " " + g.key() + g.pick("", " LEN", " IDX", " IDX MINMATCHLEN 2 WITHMATCHLEN")
	}
}

func (g *mixedGen) bitCmd(k string) string {
	switch g.r.IntN(6) {
	case 0, 1:
		return "SETBIT " + k + " " + strconv.Itoa(g.r.IntN(40)) + " " + g.pick("0", "1")
	case 2:
		return "GETBIT " + k + " " + strconv.Itoa(g.r.IntN(40))
	case 3:
		return "BITCOUNT " + k + g.pick("", " 0 -1", " 1 2", " 0 20 BIT")
	case 4:
		return "BITPOS " + k + " " + g.pick("0", "1") + g.pick("", " 1", " 0 -1", " 2 30 BIT")
	default:
		if g.r.IntN(2) == 0 {
			return "BITFIELD " + k + " INCRBY " + g.pick("u8", "i5", "u2") + " " + strconv.Itoa(g.r.IntN(20)) + " " + g.num() +
				" GET u16 0"
		}
		ks, _ := g.keys(3)
		return "BITOP " + g.pick("AND", "OR", "XOR") + " " + k + " " + ks
	}
}

func (g *mixedGen) listCmd(k string) string {
	switch g.r.IntN(17) {
	case 0, 1, 2:
		return g.pick("LPUSH ", "RPUSH ", "RPUSHX ", "LPUSHX ") + k + g.members(g.many())
	case 14:
		return "RPOPLPUSH " + k + " " + g.key()
	case 15:
		// Blocking commands do not block in scripts.
		return g.pick("EVAL \"return redis.call('blpop',KEYS[1],0)\" 1 "+k,
			"EVAL \"return redis.call('blmove',KEYS[1],KEYS[2],'left','right',0)\" 2 "+k+" "+g.key(),
			"EVAL \"return redis.call('bzpopmin',KEYS[1],0)\" 1 "+k,
			"EVAL \"return redis.call('blmpop',0,1,KEYS[1],'right','count',2)\" 1 "+k)
	case 16:
		return "LRANGE " + k + " 0 -1"
	case 3:
		return g.pick("LPOP ", "RPOP ") + k + g.pick("", " 2", " 0")
	case 4:
		return "LRANGE " + k + " " + g.idx() + " " + g.idx()
	case 5:
		return "LINDEX " + k + " " + g.idx()
	case 6:
		return "LSET " + k + " " + g.idx() + " " + g.member()
	case 7:
		return "LINSERT " + k + " " + g.pick("BEFORE", "AFTER") + " " + g.member() + " " + g.member()
	case 8:
		return "LREM " + k + " " + strconv.Itoa(g.r.IntN(5)-2) + " " + g.member()
	case 9:
		return "LTRIM " + k + " " + g.idx() + " " + g.idx()
	case 10:
		return "LPOS " + k + " " + g.member() + g.pick("", " RANK -1", " COUNT 0", " MAXLEN 3 COUNT 2")
	case 11:
		return "LMOVE " + k + " " + g.key() + " " + g.pick("LEFT", "RIGHT") + " " + g.pick("LEFT", "RIGHT")
	case 12:
		ks, n := g.keys(3)
		return fmt.Sprintf("LMPOP %d %s %s COUNT %d", n, ks, g.pick("LEFT", "RIGHT"), 1+g.r.IntN(3))
	default:
		return "LLEN " + k
	}
}

func (g *mixedGen) hashCmd(k string) string {
	switch g.r.IntN(12) {
	case 10:
		return "sort: HRANDFIELD " + k + " 100000" + g.pick("", " WITHVALUES")
	case 11:
		return "kind: HSCAN " + k + " 0 COUNT 100000"
	case 0, 1, 2:
		var b strings.Builder
		for i := g.many(); i > 0; i-- {
			b.WriteString(" " + g.member() + " " + g.str())
		}
		return "HSET " + k + b.String()
	case 3:
		return "HGET " + k + " " + g.member()
	case 4:
		return "HDEL " + k + g.members(1+g.r.IntN(3))
	case 5:
		return "HINCRBY " + k + " " + g.member() + " " + g.num()
	case 6:
		return "HINCRBYFLOAT " + k + " " + g.member() + " " + g.num()
	case 7:
		return "sort: " + g.pick("HGETALL ", "HKEYS ", "HVALS ") + k
	case 8:
		return "HMGET " + k + g.members(3)
	default:
		return g.pick("HLEN ", "HEXISTS ", "HSTRLEN ", "HSETNX ") + k + g.pick("", " "+g.member(), " "+g.member(), " "+g.member()+" v")
	}
}

func (g *mixedGen) setCmd(k string) string {
	switch g.r.IntN(14) {
	case 12:
		return "SISMEMBER " + k + " " + g.member()
	case 13:
		// SPOP of a single member is random unless the set has one.
		return "EVAL \"if redis.call('type',KEYS[1]).ok=='set' and redis.call('scard',KEYS[1])==1 then return redis.call('spop',KEYS[1]) end return 0\" 1 " + k
	case 0, 1, 2:
		if g.r.IntN(40) == 0 {
			return "SADD " + k + g.bulk("", 300+g.r.IntN(400), 2000)
		}
		if g.r.IntN(2) == 0 { // integers only: intsets
			return "SADD " + k + g.bulk("", g.many(), 20)
		}
		return "SADD " + k + g.members(g.many())
	case 3:
		return "SREM " + k + g.members(1+g.r.IntN(3))
	case 4:
		return "SCARD " + k
	case 5:
		return "SMISMEMBER " + k + g.members(3)
	case 6:
		return "sort: SMEMBERS " + k
	case 7:
		return "sort: " + g.pick("SPOP ", "SRANDMEMBER ") + k + " 100000"
	case 8:
		return "SMOVE " + k + " " + g.key() + " " + g.member()
	case 9:
		ks, _ := g.keys(3)
		return "sort: " + g.pick("SINTER ", "SUNION ", "SDIFF ") + ks
	case 10:
		ks, n := g.keys(3)
		return fmt.Sprintf("SINTERCARD %d %s LIMIT %d", n, ks, g.r.IntN(3))
	default:
		ks, _ := g.keys(3)
		return g.pick("SINTERSTORE ", "SUNIONSTORE ", "SDIFFSTORE ") + k + " " + ks
	}
}

func (g *mixedGen) zsetCmd(k string) string {
	switch g.r.IntN(22) {
	case 16:
		// Lexicographic commands are defined when all scores are equal:
		// they run on a key that only gets score 0.
		return "ZADD zlex 0 " + g.member() + " 0 " + g.member()
	case 17:
		lex := func() string { return g.pick("-", "+", "[m1", "(m2", "[3", "(a", "[") }
		return g.pick("ZRANGEBYLEX zlex ", "ZREVRANGEBYLEX zlex ", "ZLEXCOUNT zlex ", "ZREMRANGEBYLEX zlex ") + lex() + " " + lex()
	case 18:
		return "ZREMRANGEBYSCORE " + k + " " + g.pick("-inf", "0", "(1") + " " + g.pick("+inf", "2", "(3")
	case 19:
		return "ZADD " + k + " INCR " + g.score() + " " + g.member()
	case 20:
		return "sort: ZRANDMEMBER " + k + " 100000" + g.pick("", " WITHSCORES")
	case 21:
		ks, n := g.keys(3)
		return fmt.Sprintf("ZINTERCARD %d %s", n, ks) + g.pick("", " LIMIT 1")
	case 0, 1, 2:
		var b strings.Builder
		if g.r.IntN(40) == 0 {
			for i := 100 + g.r.IntN(100); i > 0; i-- {
				b.WriteString(" " + strconv.Itoa(g.r.IntN(50)) + " n" + strconv.Itoa(g.r.IntN(300)))
			}
		}
		for i := g.many(); i > 0; i-- {
			b.WriteString(" " + g.score() + " " + g.member())
		}
		return "ZADD " + k + g.pick("", " NX", " XX", " GT CH", " LT") + b.String()
	case 3:
		return "ZINCRBY " + k + " " + g.score() + " " + g.member()
	case 4:
		return "ZREM " + k + g.members(1+g.r.IntN(3))
	case 5:
		return "ZRANGE " + k + " " + g.idx() + " " + g.idx() + g.pick("", " WITHSCORES", " REV", " REV WITHSCORES")
	case 6:
		return "ZRANGEBYSCORE " + k + " " + g.pick("-inf", "0", "(1") + " " + g.pick("+inf", "2", "(3") + g.pick("", " WITHSCORES", " LIMIT 1 2")
	case 7:
		return g.pick("ZSCORE ", "ZRANK ", "ZREVRANK ") + k + " " + g.member()
	case 8:
		return g.pick("ZCARD "+k, "ZCOUNT "+k+" -inf +inf", "ZCOUNT "+k+" (0 2")
	case 9:
		return g.pick("ZPOPMIN ", "ZPOPMAX ") + k + g.pick("", " 2", " 100")
	case 10:
		if g.r.IntN(3) == 0 {
			return "ZRANGESTORE " + k + " " + g.key() + " " + g.pick("-inf", "(0", "1") + " " + g.pick("+inf", "2", "(3") + " BYSCORE" + g.pick("", " LIMIT 1 2")
		}
		return "ZRANGESTORE " + k + " " + g.key() + " " + g.idx() + " " + g.idx() + g.pick("", " REV")
	case 11, 12:
		ks, n := g.keys(3)
		op := g.pick("ZUNION", "ZINTER", "ZDIFF")
		opt := ""
		if op != "ZDIFF" && g.r.IntN(2) == 0 {
			opt = " AGGREGATE " + g.pick("SUM", "MIN", "MAX")
		}
		if g.r.IntN(2) == 0 {
			return fmt.Sprintf("%sSTORE %s %d %s%s", op, k, n, ks, opt)
		}
		return fmt.Sprintf("%s %d %s%s WITHSCORES", op, n, ks, opt)
	case 13:
		return "ZREMRANGEBYRANK " + k + " " + g.idx() + " " + g.idx()
	case 14:
		ks, n := g.keys(3)
		return fmt.Sprintf("ZMPOP %d %s %s COUNT %d", n, ks, g.pick("MIN", "MAX"), 1+g.r.IntN(3))
	default:
		return "ZMSCORE " + k + g.members(3)
	}
}

var mixedPlaces = []string{
	"13.361389 38.115556 Palermo", "15.087269 37.502669 Catania", "2.35 48.85 Paris",
	"-0.1275 51.507222 London", "12.5 41.9 Rome", "0 0 Null", "13.4 38.2 m1",
}

func (g *mixedGen) geoCmd(k string) string {
	switch g.r.IntN(10) {
	case 7:
		return "GEORADIUS " + k + " 15 37 " + g.pick("200", "1000") + " km ASC" + g.pick("", " WITHCOORD", " WITHHASH", " WITHDIST COUNT 2")
	case 8:
		return "GEORADIUSBYMEMBER " + k + " Palermo 500 km DESC" + g.pick("", " STORE "+g.key(), " STOREDIST "+g.key())
	case 9:
		return "GEOSEARCH " + k + " FROMMEMBER Rome BYBOX 3000 1500 km DESC WITHCOORD"
	case 0, 1:
		return "GEOADD " + k + " " + g.pick(mixedPlaces...) + " " + g.pick(mixedPlaces...)
	case 2:
		return "GEOPOS " + k + " Palermo Rome nosuch"
	case 3:
		return "GEODIST " + k + " Palermo " + g.pick("Catania", "Rome", "m1", "nosuch") + g.pick("", " km")
	case 4:
		return "GEOSEARCH " + k + " FROMLONLAT 14 38 BYRADIUS " + g.pick("100", "500", "3000") + " km ASC" + g.pick("", " WITHDIST", " COUNT 2")
	case 5:
		return "GEOSEARCHSTORE " + k + " " + g.key() + " FROMMEMBER Palermo BYBOX 2000 2000 km ASC" + g.pick("", " STOREDIST")
	default:
		return "GEOHASH " + k + " Palermo Paris"
	}
}

func (g *mixedGen) hllCmd(k string) string {
	switch g.r.IntN(7) {
	case 5:
		return "GET " + k // the HLL encoding, byte for byte
	case 6:
		if g.r.IntN(10) == 0 {
			return "PFADD " + k + g.bulk("e", 1000+g.r.IntN(2000), 100000) // dense
		}
		return "PFADD " + k + g.members(40+g.r.IntN(200))
	case 0, 1, 2:
		return "PFADD " + k + g.members(1+g.r.IntN(5))
	default:
		if g.r.IntN(2) == 0 {
			ks, _ := g.keys(3)
			return "PFMERGE " + k + " " + ks
		}
		ks, _ := g.keys(2)
		return "PFCOUNT " + ks
	}
}

func (g *mixedGen) keyCmd(k string) string {
	switch g.r.IntN(22) {
	case 18:
		// Elements with equal weights (missing BY keys) come out in the
		// order of the C library's qsort: compare as multisets.
		return "sort: SORT " + k + g.pick(" BY h1->* GET # GET h1->*", " BY s* ALPHA", " GET s* ALPHA", " BY nosort GET h2->*")
	case 19:
		return g.pick("TOUCH ", "kind: OBJECT IDLETIME ", "OBJECT FREQ ", "kind: PEXPIRETIME ") + k
	case 20:
		return g.pick("RENAME "+k+" "+k, "kind: RANDOMKEY")
	case 21:
		return "EXPIRE " + k + " 0"
	case 0, 1:
		return g.pick("DEL ", "UNLINK ") + k
	case 2:
		return "EXISTS " + k + " " + g.key()
	case 3:
		return "TYPE " + k
	case 4, 5:
		return "OBJECT ENCODING " + k
	case 6:
		return g.pick("RENAME ", "RENAMENX ") + k + " " + g.key()
	case 7:
		return "COPY " + k + " " + g.key() + g.pick("", " REPLACE", " DB 1")
	case 8:
		return "MOVE " + k + " 1"
	case 9:
		return "SWAPDB 0 1"
	case 10:
		// No GT / LT: whether the same TTL set again is greater depends on
		// the milliseconds elapsed in between.
		return "EXPIRE " + k + " " + g.pick("100", "200", "-1") + g.pick("", " NX", " XX")
	case 11:
		if g.r.IntN(2) == 0 {
			return "PERSIST " + k
		}
		// TTL itself could round differently on the two servers.
		return `EVAL "local t=redis.call('pttl',KEYS[1]) if t>0 then return 1 end return t" 1 ` + k
	case 12:
		if g.r.IntN(4) == 0 {
			return "sort: SORT " + k + " BY nosort ALPHA" // set order is the hash table's
		}
		return "SORT " + k + g.pick("", " DESC", " ALPHA", " ALPHA LIMIT 1 2")
	case 13:
		return "SORT " + k + " ALPHA STORE " + g.key()
	case 14:
		return "sort: KEYS *"
	case 15:
		return "DBSIZE"
	case 16:
		return "kind: " + g.pick("SSCAN ", "HSCAN ", "ZSCAN ") + k + " 0"
	default:
		return "sort: " + g.pick("HRANDFIELD ", "ZRANDMEMBER ", "SRANDMEMBER ") + k + " 100000"
	}
}

// TestDiffListFillNodes compares the number of quicklist nodes (DEBUG
// OBJECT ql_nodes) with redis-server for entry-count fills, which fix a
// list's node size when it is created: pushes, pops, LTRIM, LSET, LREM
// and LMOVE split and merge nodes as Redis does. (Not LINSERT into a full
// node, which Redis splits differently; and byte-size fills cannot match
// exactly: our entries are not encoded like listpack entries.)
func TestDiffListFillNodes(t *testing.T) {
	rp := startRedisArgs(t, "--enable-debug-command", "yes")
	s := startServer(t)
	a, b := dial(t, s.Addr().String()), dial(t, rp.addr)
	nodes := regexp.MustCompile(` ql_nodes:\d+ `)
	step := 0
	do := func(args ...string) {
		ra, rb := a.do(args...).String(), b.do(args...).String()
		if ra != rb {
			t.Fatalf("%q: ours %s, redis %s", args, ra, rb)
		}
		step++
		na := nodes.FindString(a.do("DEBUG", "OBJECT", "l").String())
		nb := nodes.FindString(b.do("DEBUG", "OBJECT", "l").String())
		if na != nb {
			t.Errorf("step %d after %q: ours%s redis%s", step, args, na, nb)
		}
	}
	for _, fill := range []string{"3", "1", "0", "5", "7"} {
		for _, c := range []*testConn{a, b} {
			c.do("DEL", "l")
			c.do("CONFIG", "SET", "list-max-listpack-size", fill)
		}
		do("RPUSH", "l", "a", "b", "c", "d", "e", "f", "g", "h", "i", "j", "k")
		do("LPUSH", "l", "x", "y", "z")
		do("CONFIG", "SET", "list-max-listpack-size", "-2") // the list keeps its fill
		do("LPOP", "l", "2")
		do("RPUSH", "l", "m", "n")
		do("RPOP", "l", "4")
		do("LTRIM", "l", "1", "-2")
		do("LSET", "l", "2", "qqqq")
		do("RPOPLPUSH", "l", "l")
		do("LMOVE", "l", "l", "LEFT", "RIGHT")
		do("LPUSH", "l", "1", "2", "3", "4", "5", "6", "7", "8")
		do("LTRIM", "l", "0", "4")
		do("RPUSH", "l", "c", "c", "d", "c", "e", "f", "c")
		do("LREM", "l", "0", "c")
		do("LREM", "l", "-1", "d")
	}
}

// TestDiffRestoreRedisPayloadThresholds restores redis-server's own DUMP
// payloads (packed encodings) into both servers under lower thresholds:
// a packed sorted set or hash converts only when it has too many entries,
// not for values longer than the limit.
func TestDiffRestoreRedisPayloadThresholds(t *testing.T) {
	rp := startRedis(t)
	s := startServer(t)
	a, b := dial(t, s.Addr().String()), dial(t, rp.addr)
	b.do("ZADD", "z", "1", "aaaaaaaaaa", "2", "b")
	b.do("HSET", "h", "f", "vvvvvvvvvv", "g", "1")
	b.do("ZADD", "z3", "1", "a", "2", "b", "3", "c")
	b.do("HSET", "h3", "a", "1", "b", "2", "c", "3")
	b.do("SADD", "s", "1", "2", "3", "4")
	b.do("SADD", "s2", "1", "2")
	b.do("RPUSH", "l", "a", "b")
	keys := []string{"z", "h", "z3", "h3", "s", "s2", "l"}
	payloads := map[string]string{}
	for _, k := range keys {
		payloads[k] = b.do("DUMP", k).Str
	}
	for _, c := range []*testConn{a, b} {
		c.do("CONFIG", "SET", "zset-max-listpack-value", "5", "hash-max-listpack-value", "5",
			"zset-max-listpack-entries", "2", "hash-max-listpack-entries", "2", "set-max-intset-entries", "3")
	}
	for _, k := range keys {
		var got [2]string
		for i, c := range []*testConn{a, b} {
			c.do("DEL", k)
			got[i] = c.do("RESTORE", k, "0", payloads[k]).String() + " " + c.do("OBJECT", "ENCODING", k).String()
		}
		if got[0] != got[1] {
			t.Errorf("RESTORE %s: ours %s, redis %s", k, got[0], got[1])
		}
	}
	for _, c := range []*testConn{a, b} {
		c.do("ZADD", "z", "5", "x")
		c.do("HSET", "h", "x", "5")
	}
	for _, k := range []string{"z", "h"} {
		if ga, gb := a.do("OBJECT", "ENCODING", k).String(), b.do("OBJECT", "ENCODING", k).String(); ga != gb {
			t.Errorf("after a third entry, %s: ours %s, redis %s", k, ga, gb)
		}
	}
}

// TestListStructureFills drives lists of every kind of node size
// (list-max-listpack-size) with random operations against a slice, and
// checks that no node holds more entries than its fill allows.
func TestListStructureFills(t *testing.T) {
	seed := uint64(time.Now().UnixNano())
	t.Logf("seed %d", seed)
	r := rand.New(rand.NewPCG(seed, 2))
	for _, fill := range []int{1, 2, 3, 7, 0, -1, -5, -9, 100000} {
		l := newListObjFill(fill)
		var ref [][]byte
		prefix := fmt.Sprintf("fill %d: ", fill)
		for step := 0; step < 4000; step++ {
			ref = listModelStep(t, r, l, ref, prefix)
			if step%61 == 0 {
				checkList(t, l, ref)
				if fill > 0 {
					for i, nd := range l.nodes {
						if nd.n > fill {
							t.Fatalf("fill %d: node %d holds %d entries", fill, i, nd.n)
						}
					}
				}
			}
		}
		checkList(t, l, ref)
		checkList(t, l.Copy().(*listObj), ref)
	}
}
