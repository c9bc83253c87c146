package server

import "testing"

// Differential cases for the SCAN-family cursor syntax and for COMMAND
// GETKEYS on the numkeys commands.
var diffCursorGetkeysCases = []struct {
	name  string
	lines []string
}{
	{"scan-cursor-empty-db", []string{"SCAN -1", "SCAN +5", "SCAN \"\"", "SCAN -", "SCAN +", "SCAN \" 1\"", "SCAN \"1 \"",
		"SCAN -0", "SCAN 18446744073709551615", "SCAN 18446744073709551616", "SCAN -18446744073709551615",
		"SCAN -18446744073709551616", "SCAN 0x1", "SCAN 1.0", "SCAN +-1", "SCAN -1 COUNT 5", "SCAN abc"}},
	{"scan-cursor-keys", []string{"MSET a 1 b 2 c 3", "kind: SCAN -1", "kind: SCAN +5", "SCAN \"\" COUNT 100 MATCH a",
		"kind: SCAN 18446744073709551615", "SCAN x"}},
	{"collection-scan-cursors", []string{"HSET h f v", "SADD s 1", "ZADD z 1 m", "SADD hs m", "kind: SSCAN hs -1", "HSCAN h -1", "SSCAN s -1", "ZSCAN z -1",
		"HSCAN h \"\"", "SSCAN s \"\"", "ZSCAN z \"\"", "HSCAN h +0", "SSCAN s +0", "ZSCAN z +0", "HSCAN h -", "SSCAN s \" 0\"",
		"ZSCAN z 18446744073709551616", "HSCAN nokey -1", "SSCAN nokey \"\"", "ZSCAN nokey +5"}},
	{"getkeys-numkeys", []string{
		"COMMAND GETKEYS ZUNION 2 a b", "COMMAND GETKEYS ZUNION 2 a b WITHSCORES", "COMMAND GETKEYS ZUNION 1 a b",
		"COMMAND GETKEYS ZUNION 0 a", "COMMAND GETKEYS ZUNION 5 a b", "COMMAND GETKEYS ZUNION x a b", "COMMAND GETKEYS ZUNION -1 a b",
		"COMMAND GETKEYS ZUNION 2abc a b", "COMMAND GETKEYS ZUNION \" 2\" a b", "COMMAND GETKEYS ZUNION +1 a",
		"COMMAND GETKEYS ZINTER 2 a b AGGREGATE MAX", "COMMAND GETKEYS ZDIFF 1 a", "COMMAND GETKEYS ZINTERCARD 2 a b LIMIT 1",
		"COMMAND GETKEYS SINTERCARD 2 a b", "COMMAND GETKEYS SINTERCARD 3 a b", "COMMAND GETKEYS SINTERCARD 1x a b",
		"COMMAND GETKEYS ZUNIONSTORE d 2 a b", "COMMAND GETKEYS ZINTERSTORE d 1 a WEIGHTS 2",
		"COMMAND GETKEYS ZDIFFSTORE d 2x a b", "COMMAND GETKEYS ZUNIONSTORE d 0 a", "COMMAND GETKEYS ZUNIONSTORE d 3 a b",
		"COMMAND GETKEYS ZMPOP 2 a b MIN", "COMMAND GETKEYS ZMPOP 1 a MAX COUNT 3", "COMMAND GETKEYS ZMPOP 0 a MIN",
		"COMMAND GETKEYS LMPOP 2 a b LEFT", "COMMAND GETKEYS LMPOP 3 a b LEFT", "COMMAND GETKEYS BLMPOP 0 2 a b LEFT",
		"COMMAND GETKEYS BLMPOP 0 9 a b LEFT", "COMMAND GETKEYS BZMPOP 1.5 1 a MIN COUNT 2", "COMMAND GETKEYS BZMPOP 0 2 a b MAX",
		"COMMAND GETKEYS BZPOPMIN a b 0", "COMMAND GETKEYS BZPOPMAX a 0", "COMMAND GETKEYS BLPOP a b 0",
		"COMMAND GETKEYS GET k", "COMMAND GETKEYS MSET a 1 b 2", "COMMAND GETKEYS PING x", "COMMAND GETKEYS NOSUCH a",
		"COMMAND GETKEYS GET", "COMMAND GETKEYS ZUNION 2", "COMMAND GETKEYS ZMPOP 1 a"}},
}

func TestDiffCursorGetkeys(t *testing.T) {
	rp := startRedis(t)
	s := startServer(t)
	for _, tc := range diffCursorGetkeysCases {
		t.Run(tc.name, func(t *testing.T) {
			runDiff(t, s.Addr().String(), rp.addr, tc.lines)
		})
	}
}

func TestAtoi(t *testing.T) {
	for in, want := range map[string]int{"": 0, "12": 12, " \t-3x": -3, "+7": 7, "abc": 0, "2abc": 2,
		"99999999999999999999": -1, "4294967297": 1} {
		if got := atoi([]byte(in)); got != want {
			t.Errorf("atoi(%q) = %d, want %d", in, got, want)
		}
	}
}
