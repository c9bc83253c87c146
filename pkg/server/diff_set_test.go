package server

import (
	"strconv"
	"testing"
)

// setDiffCases are differential cases for the set commands (see diffCases
// for the line syntax). Hash-table sets reply in an unspecified order, so
// such replies are compared sorted.
var setDiffCases = []struct {
	name  string
	lines []string
}{
	{"sadd-srem-scard", []string{"SADD s a b c", "SADD s a d", "SCARD s", "SCARD nokey", "SREM s a x", "SREM s x",
		"sort: SMEMBERS s", "SREM s b c d", "EXISTS s", "SREM nokey a", "SADD s", "SREM s", "SET str x", "SADD str a",
		"SREM str a", "SCARD str", "SMEMBERS str", "SMEMBERS nokey", "TYPE s", "SADD s x", "TYPE s"}},
	{"intset-encoding", []string{"SADD i 3 1 2 -5 9223372036854775807 -9223372036854775808", "OBJECT ENCODING i",
		"SMEMBERS i", "SADD i 01", "OBJECT ENCODING i", "SREM i 01", "OBJECT ENCODING i", "sort: SMEMBERS i",
		"SADD j 1 a", "SREM j a", "OBJECT ENCODING j", "SADD k a 1", "OBJECT ENCODING k",
		"SADD n 1 +2", "OBJECT ENCODING n", "SADD m 18446744073709551616", "OBJECT ENCODING m",
		"SADD z 0 -0", "sort: SMEMBERS z", "OBJECT ENCODING z", "SISMEMBER i 3", "SISMEMBER i 03", "SISMEMBER i x"}},
	{"sismember-smismember", []string{"SADD s a b 1", "SISMEMBER s a", "SISMEMBER s z", "SISMEMBER nokey a",
		"SMISMEMBER s a z 1 b", "SMISMEMBER nokey a b", "SMISMEMBER s", "SET str x", "SISMEMBER str a",
		"SMISMEMBER str a"}},
	{"srandmember", []string{"SADD s 1 2 3 4 5", "SRANDMEMBER s 5", "SRANDMEMBER s 100", "SRANDMEMBER s 0",
		"SRANDMEMBER s x", "SRANDMEMBER s 1 2", "SRANDMEMBER s -9223372036854775808", "kind: SRANDMEMBER s",
		"kind: SRANDMEMBER s 2", "kind: SRANDMEMBER s -10", "SRANDMEMBER nokey", "SRANDMEMBER nokey 5",
		"SRANDMEMBER nokey -5", "SET str x", "SRANDMEMBER str", "SRANDMEMBER str 0", "SRANDMEMBER str x",
		"SADD h a b c", "sort: SRANDMEMBER h 3", "sort: SRANDMEMBER h 10", "SCARD h"}},
	{"spop", []string{"SADD s 1 2 3", "kind: SPOP s", "SCARD s", "SPOP s 0", "SPOP s -1", "SPOP s x", "SPOP s 1 2",
		"kind: SPOP s 1", "SCARD s", "kind: SPOP s 5", "EXISTS s", "SPOP nokey", "SPOP nokey 3", "SPOP nokey 0",
		"SADD h a b c d", "sort: SPOP h 4", "EXISTS h", "SADD h a b c d", "kind: SPOP h 2", "SCARD h", "SET str x",
		"SPOP str", "SPOP str 1", "SPOP str -1"}},
	{"smove", []string{"SADD a 1 2 x", "SADD b 3", "SMOVE a b 1", "SMEMBERS b", "SMOVE a b nope", "SMOVE nokey b 1",
		"SMOVE a a 2", "SMOVE a a nope", "SMOVE a c x", "SMEMBERS c", "OBJECT ENCODING c", "SMOVE a b 2", "EXISTS a",
		"SET str v", "SMOVE b str 3", "SMOVE str b 3", "SMOVE nokey str 3", "SMEMBERS b", "SMOVE b b 3",
		"SMOVE str str 3", "SADD b y", "SMOVE b c y", "sort: SMEMBERS c"}},
	{"sinter", []string{"SADD a 1 2 3 4", "SADD b 2 3 5", "SADD c x 3 2", "SINTER a b", "sort: SINTER a b c",
		"SINTER a", "SINTER a nokey", "SET str x", "SINTER nokey str", "SINTER str nokey", "SINTER a str",
		"SINTERSTORE d a b", "SMEMBERS d", "OBJECT ENCODING d", "SINTERSTORE d a nokey", "EXISTS d",
		"SINTERSTORE e a c", "OBJECT ENCODING e", "SINTERSTORE str a b", "TYPE str", "SINTERSTORE a a b",
		"SMEMBERS a", "SINTERSTORE d2 a str", "SET x y", "EXPIRE x 100", "SINTERSTORE x a b", "TTL x",
		"SINTERSTORE x a a", "SMEMBERS x", "SINTERSTORE x b c nokey", "EXISTS x"}},
	{"sintercard", []string{"SADD a 1 2 3 4", "SADD b 2 3 4 5", "SINTERCARD 2 a b", "SINTERCARD 2 a b LIMIT 2",
		"SINTERCARD 2 a b LIMIT 0", "SINTERCARD 2 a b LIMIT 10", "SINTERCARD 1 a", "SINTERCARD 2 a nokey",
		"SINTERCARD 0 a", "SINTERCARD x a", "SINTERCARD -1 a", "SINTERCARD 3 a b", "SINTERCARD 1 a LIMIT -1",
		"SINTERCARD 1 a LIMIT x", "SINTERCARD 1 a FOO", "SINTERCARD 1 a LIMIT", "SINTERCARD 1 a limit 1 limit 2",
		"SET str x", "SINTERCARD 1 str", "SINTERCARD 2 nokey str", "SINTERCARD 2 a str"}},
	{"sunion-sdiff", []string{"SADD a 1 2 3", "SADD b 3 4", "SADD c x y 1", "SUNION a b", "sort: SUNION a b c",
		"SUNION a nokey", "SUNION nokey", "SET str x", "SUNION a str", "SUNION nokey str", "SDIFF a b",
		"sort: SDIFF c a", "SDIFF a nokey", "SDIFF nokey a", "SDIFF a a", "SDIFF a str", "SDIFF str a",
		"SUNIONSTORE d a b", "SMEMBERS d", "OBJECT ENCODING d", "SUNIONSTORE d a c", "OBJECT ENCODING d",
		"sort: SMEMBERS d", "SDIFFSTORE d a b", "SMEMBERS d", "SDIFFSTORE d a a", "EXISTS d", "SDIFFSTORE d nokey",
		"SUNIONSTORE d nokey", "EXISTS d", "SUNIONSTORE str a", "TYPE str", "SDIFFSTORE a a b", "SMEMBERS a",
		"SUNIONSTORE e a str", "EXISTS e"}},
	{"sscan", []string{"SADD s 1 2 3 10 20", "SSCAN s 0", "SSCAN s 0 MATCH 1*", "SSCAN s 0 COUNT 1",
		"SSCAN s 0 COUNT 0", "SSCAN s 0 COUNT x", "SSCAN s 0 MATCH", "SSCAN s 0 FOO bar", "SSCAN s 0 TYPE set",
		"SSCAN s x", "SSCAN s -1", "SSCAN s \"\"", "SSCAN s +0", "SSCAN s \" 0\"", "SSCAN s 99999999999999999999", "SSCAN s -", "SSCAN nokey 0", "SSCAN nokey 0 COUNT 0", "SSCAN nokey x", "SET str x",
		"SSCAN str 0", "SSCAN str x", "SADD h a b c", "kind: SSCAN h 0 COUNT 100"}},
	{"set-edge", []string{"SADD s 1", "SET str x", "SMOVE s str 1", "SMOVE str s 1", "SADD d 5", "EXPIRE d 100",
		"SUNIONSTORE d s", "TTL d", "SMEMBERS d", "SADD h 9223372036854775808 -9223372036854775809 1", "OBJECT ENCODING h",
		"sort: SMEMBERS h", "SADD w 70000 -70000 5000000000 1", "SMEMBERS w", "OBJECT ENCODING w", "SREM w 5000000000",
		"SMEMBERS w", "SISMEMBER w -70000", "SINTER w w", "SDIFF w s", "SINTERCARD 2 w w", "SRANDMEMBER w 4",
		"SPOP w 10", "EXISTS w", "SADD e \"\"", "SMEMBERS e", "SISMEMBER e \"\"", "OBJECT ENCODING e", "SCARD e"}},
	{"set-big", []string{"DEBUG SET-ACTIVE-EXPIRE 1"}},
	{"set-arity", []string{"SADD s", "SREM s", "SCARD", "SCARD a b", "SISMEMBER s", "SMISMEMBER s", "SMEMBERS",
		"SRANDMEMBER", "SPOP", "SMOVE a b", "SINTER", "SINTERSTORE d", "SINTERCARD 1", "SUNION", "SDIFFSTORE d",
		"SSCAN s"}},
	{"set-in-multi", []string{"SADD s a", "WATCH s", "SADD s a", "MULTI", "SCARD s", "EXEC", "WATCH s", "SADD s b",
		"MULTI", "SCARD s", "EXEC", "MULTI", "SADD s c", "SMEMBERS x", "SPOP s 0", "EXEC"}},
}

func init() {
	// Large sets: intset conversion at 513 entries and hash table scans.
	var big []string
	line := "SADD big"
	for i := 0; i < 512; i++ {
		line += " " + strconv.Itoa(i)
	}
	big = append(big, line, "OBJECT ENCODING big", "SCARD big", "SADD big 512", "OBJECT ENCODING big",
		"SREM big 512", "OBJECT ENCODING big", "SCARD big", "SMISMEMBER big 0 511 512",
		"SINTERSTORE c big big", "OBJECT ENCODING c", "SUNIONSTORE c big", "OBJECT ENCODING c", "SADD c2 600",
		"SUNIONSTORE c3 big c2", "OBJECT ENCODING c3", "SCARD c3", "SDIFFSTORE c4 c3 c2", "OBJECT ENCODING c4",
		"SINTERCARD 2 big c3 LIMIT 100", "sort: SINTER c2 c3", "sort: SRANDMEMBER big 1000")
	for i := range setDiffCases {
		if setDiffCases[i].name == "set-big" {
			setDiffCases[i].lines = big
		}
	}
}

func TestDiffSet(t *testing.T) {
	rp := startRedis(t)
	s := startServer(t)
	for _, tc := range setDiffCases {
		t.Run(tc.name, func(t *testing.T) {
			runDiff(t, s.Addr().String(), rp.addr, tc.lines)
		})
	}
}
