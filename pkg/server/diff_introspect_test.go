package server

import (
	"fmt"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/codisgo/codis/pkg/resp"
)

// Differential cases for the introspection and operations commands
// (CLIENT, DEBUG, LATENCY, MEMORY, OBJECT, INFO sections, COMMAND).
// redis-server runs with enable-debug-command yes.
var diffIntrospectCases = []struct {
	name  string
	lines []string
}{
	{"client-subcommands", []string{"CLIENT HELP", "CLIENT PAUSE -1", "CLIENT PAUSE x", "CLIENT PAUSE 10 foo",
		"CLIENT PAUSE", "CLIENT UNPAUSE", "CLIENT UNPAUSE x", "CLIENT REPLY foo", "CLIENT REPLY", "CLIENT NO-EVICT foo",
		"CLIENT NO-EVICT on", "CLIENT NO-EVICT OFF", "CLIENT GETREDIR", "CLIENT UNBLOCK x", "CLIENT UNBLOCK 1 foo",
		"CLIENT UNBLOCK 999999", "CLIENT KILL USER foo", "CLIENT KILL ADDR 1.2.3.4:5", "CLIENT KILL LADDR 1.2.3.4:5",
		"CLIENT KILL ID x", "CLIENT KILL MAXAGE 10", "CLIENT KILL MAXAGE x", "CLIENT KILL ID 0", "CLIENT KILL SKIPME maybe", "CLIENT KILL TYPE slave", "CLIENT KILL TYPE master",
		"CLIENT KILL TYPE pubsub", "CLIENT KILL TYPE replica SKIPME no", "CLIENT KILL USER default TYPE pubsub",
		"CLIENT KILL ADDR", "CLIENT KILL 1.2.3.4:5", "CLIENT LIST TYPE replica", "CLIENT LIST TYPE master",
		"CLIENT LIST ID 0", "CLIENT LIST ID x", "CLIENT PAUSE 0", "CLIENT PAUSE 0 WRITE", "CLIENT PAUSE 0 all",
		"CLIENT UNPAUSE"}},
	{"debug", []string{"DEBUG DIGEST", "DEBUG DIGEST-VALUE a", "SET a 1", "DEBUG DIGEST", "DEBUG DIGEST-VALUE a nokey",
		"RPUSH l 1 2 3", "SADD s a b 1", "ZADD z 1.5 a 2 b", "HSET h f v", "EXPIRE h 100", "DEBUG DIGEST",
		"DEBUG DIGEST-VALUE l s z h", "DEBUG DIGEST x", "DEBUG FOO", "DEBUG", "DEBUG OBJECT nokey", "DEBUG OBJECT",
		"DEBUG SLEEP 0", "DEBUG SET-ACTIVE-EXPIRE 1", "DEBUG CHANGE-REPL-ID", "DEBUG ERROR \"ERR custom\"",
		"DEBUG ERROR \"WEIRD custom\"", "DEBUG POPULATE 5", "DEBUG POPULATE 3 p 10", "GET p:1", "DBSIZE",
		"DEBUG POPULATE x", "DEBUG RELOAD", "DBSIZE", "DEBUG DIGEST", "DEBUG RELOAD FOO", "DEBUG RELOAD NOSAVE", "DEBUG DIGEST"}},
	{"help", []string{"CONFIG HELP", "SLOWLOG HELP", "COMMAND HELP", "OBJECT HELP", "CLIENT HELP", "MEMORY HELP", "LATENCY HELP"}},
	{"latency", []string{"LATENCY HELP", "LATENCY LATEST", "LATENCY HISTORY command", "LATENCY RESET", "LATENCY RESET foo",
		"LATENCY GRAPH foo", "LATENCY DOCTOR", "LATENCY FOO", "LATENCY", "LATENCY HISTORY", "LATENCY HISTOGRAM nosuch"}},
	{"memory", []string{"MEMORY HELP", "MEMORY USAGE nokey", "SET a 1", "kind: MEMORY USAGE a", "MEMORY USAGE a SAMPLES x",
		"MEMORY USAGE a FOO", "MEMORY USAGE a SAMPLES -1", "kind: MEMORY USAGE a SAMPLES 0", "MEMORY USAGE", "MEMORY FOO",
		"MEMORY STATS x", "MEMORY DOCTOR x", "MEMORY PURGE", "MEMORY DOCTOR", "kind: MEMORY STATS"}},
	{"object", []string{"OBJECT HELP", "RPUSH l a b", "OBJECT ENCODING l", "SADD s 1 2", "OBJECT ENCODING s", "SADD s x",
		"OBJECT ENCODING s", "HSET h f v", "OBJECT ENCODING h", "ZADD z 1 a", "OBJECT ENCODING z", "OBJECT REFCOUNT l",
		"OBJECT FREQ l", "OBJECT ENCODING nokey", "OBJECT IDLETIME nokey",
		"CONFIG SET hash-max-listpack-entries 1", "HSET h2 a 1", "OBJECT ENCODING h2", "HSET h2 b 2", "OBJECT ENCODING h2",
		"CONFIG SET hash-max-listpack-value 3", "HSET h3 a 1234", "OBJECT ENCODING h3",
		"CONFIG SET hash-max-listpack-entries 128", "CONFIG SET hash-max-listpack-value 64"}},
	{"output-buffer-limit-config", []string{"CONFIG GET client-output-buffer-limit",
		"CONFIG SET client-output-buffer-limit \"pubsub 1mb 2mb 10\"", "CONFIG GET client-output-buffer-limit",
		"CONFIG SET client-output-buffer-limit \"normal 1 2\"", "CONFIG SET client-output-buffer-limit \"foo 1 2 3\"",
		"CONFIG SET client-output-buffer-limit \"normal 1k 2kb 3 replica 1gb 1 1\"", "CONFIG GET client-output-buffer-limit",
		"CONFIG SET client-output-buffer-limit \"normal x 1 1\"",
		"CONFIG SET client-output-buffer-limit \"normal 0 0 0 replica 256mb 64mb 60 pubsub 32mb 8mb 60\"",
		"CONFIG GET client-output-buffer-limit"}},
	{"info-stats-sections", []string{"CONFIG RESETSTAT", "SET a 1", "GET a", "INCR nokey", "SET s x", "INCR s", "LPUSH s x",
		"CONFIG FOO", "GET", "DEBUG ERROR \"foo bar\"", "statsfilter: INFO commandstats", "INFO errorstats", "CONFIG RESETSTAT", "INFO errorstats",
		"statsfilter: INFO commandstats"}},
	{"command-introspection", []string{"COMMAND INFO get", "COMMAND INFO mget incr", "COMMAND DOCS nosuch", "kind: COMMAND DOCS get", "COMMAND COUNT x", "COMMAND HELP", "COMMAND INFO nosuch get",
		"COMMAND GETKEYS SET a 1", "COMMAND GETKEYSANDFLAGS SMOVE a b c", "COMMAND GETKEYSANDFLAGS GET a",
		"COMMAND GETKEYSANDFLAGS PING", "COMMAND GETKEYSANDFLAGS LMOVE a b LEFT RIGHT", "COMMAND GETKEYS MEMORY USAGE k", "COMMAND GETKEYS EVAL x 2 a b c",
		"COMMAND LIST FILTERBY pattern xyz*", "COMMAND LIST FILTERBY foo bar", "sort: COMMAND LIST FILTERBY ACLCAT hyperloglog", "sort: COMMAND LIST FILTERBY aclcat geo", "COMMAND LIST FILTERBY MODULE x", "sort: COMMAND LIST FILTERBY PATTERN z*store"}},
}

// statsLine keeps name, calls, rejected_calls and failed_calls of
// cmdstat lines (times differ).
var statsLine = regexp.MustCompile(`(?m)^(cmdstat_[^:]+):calls=(\d+),usec=\d+,usec_per_call=[0-9.]+,(rejected_calls=\d+,failed_calls=\d+)\r?$`)

func filterStats(s string) string {
	var out []string
	for _, m := range statsLine.FindAllStringSubmatch(s, -1) {
		if m[1] == "cmdstat_info" || m[1] == "cmdstat_config|resetstat" {
			continue
		}
		out = append(out, m[1]+":"+m[2]+","+m[3])
	}
	slices.Sort(out)
	return strings.Join(out, "\n")
}

func TestDiffIntrospect(t *testing.T) {
	rp := startRedisArgs(t, "--enable-debug-command", "yes")
	s := startServer(t)
	for _, tc := range diffIntrospectCases {
		t.Run(tc.name, func(t *testing.T) {
			var lines []string
			filtered := map[int]bool{}
			for i, l := range tc.lines {
				if strings.HasPrefix(l, "statsfilter: ") {
					filtered[i] = true
					l = "skip: " + strings.TrimPrefix(l, "statsfilter: ")
				}
				lines = append(lines, l)
			}
			runDiff(t, s.Addr().String(), rp.addr, lines)
			if len(filtered) == 0 {
				return
			}
			// Lines needing a filter: compare their filtered forms.
			a, b := dial(t, s.Addr().String()), dial(t, rp.addr)
			for i, l := range tc.lines {
				_, cmd := compareMode(strings.Replace(l, "statsfilter: ", "", 1))
				args := strings.Fields(cmd)
				ra, rb := a.do(args...), b.do(args...)
				if filtered[i] {
					if fa, fb := filterStats(ra.Str), filterStats(rb.Str); fa != fb {
						t.Errorf("line %d %q:\n ours:\n%s\n redis:\n%s", i, l, fa, fb)
					}
				}
			}
		})
	}
}

// TestDiffCommandInfo compares COMMAND INFO for every command both servers
// have: name, arity, flags, key range, ACL categories and tips exactly;
// key specs by presence and first-spec flags; subcommands by name, arity,
// flags and categories.
func TestDiffCommandInfo(t *testing.T) {
	rp := startRedisArgs(t)
	s := startServer(t)
	a, b := dial(t, s.Addr().String()), dial(t, rp.addr)
	ours := a.do("COMMAND")
	theirs := map[string]resp.Reply{}
	for _, e := range b.do("COMMAND").Elems {
		theirs[e.Elems[0].Str] = e
	}
	specFlags := func(r resp.Reply) string {
		if len(r.Elems) == 0 {
			return "none"
		}
		ks := r.Elems[0].Elems
		for i := 0; i+1 < len(ks); i += 2 {
			if ks[i].Str == "flags" {
				return ks[i+1].String()
			}
		}
		return "no flags"
	}
	var compare func(prefix string, o, r resp.Reply)
	compare = func(prefix string, o, r resp.Reply) {
		for i := 0; i < 8; i++ {
			if o.Elems[i].String() != r.Elems[i].String() {
				t.Errorf("%s field %d: ours %s, redis %s", prefix, i, o.Elems[i], r.Elems[i])
			}
		}
		if (len(o.Elems[8].Elems) == 0) != (len(r.Elems[8].Elems) == 0) || specFlags(o.Elems[8]) != specFlags(r.Elems[8]) {
			t.Errorf("%s key specs: ours %s, redis %s", prefix, o.Elems[8], r.Elems[8])
		}
		rs := map[string]resp.Reply{}
		for _, sc := range r.Elems[9].Elems {
			rs[sc.Elems[0].Str] = sc
		}
		for _, sc := range o.Elems[9].Elems {
			name := sc.Elems[0].Str
			if rsc, ok := rs[name]; ok {
				compare(name, sc, rsc)
			} else {
				t.Errorf("%s: subcommand %s unknown to redis", prefix, name)
			}
		}
	}
	n := 0
	for _, o := range ours.Elems {
		name := o.Elems[0].Str
		r, ok := theirs[name]
		if !ok {
			continue // codis commands (slots*)
		}
		n++
		compare(name, o, r)
	}
	if n < 150 {
		t.Errorf("only %d commands compared", n)
	}
}

// normClientLine replaces the values that differ between servers (ids,
// addresses, times, memory figures) by their field names.
var clientVolatile = regexp.MustCompile(`\b(id|addr|laddr|fd|age|idle|qbuf-free|tot-mem|rbs|rbp)=\S*`)

func normClientLine(s string) string {
	return clientVolatile.ReplaceAllString(s, "$1=*")
}

func TestDiffClientList(t *testing.T) {
	rp := startRedisArgs(t)
	s := startServer(t)
	type pair struct{ a, b *testConn }
	dialBoth := func() pair { return pair{dial(t, s.Addr().String()), dial(t, rp.addr)} }
	run := func(p pair, args ...string) (string, string) {
		ra, rb := p.a.do(args...), p.b.do(args...)
		return ra.String(), rb.String()
	}
	check := func(what string, p pair, args ...string) {
		t.Helper()
		ra, rb := p.a.do(args...), p.b.do(args...)
		if a, b := normClientLine(ra.Str), normClientLine(rb.Str); a != b || ra.Kind != rb.Kind {
			t.Errorf("%s %q:\n ours:  %s\n redis: %s", what, args, a, b)
		}
	}
	me := dialBoth()
	check("fresh", me, "CLIENT", "INFO")
	run(me, "CLIENT", "SETNAME", "admin")
	run(me, "SELECT", "3")
	run(me, "CLIENT", "NO-EVICT", "on")
	check("named", me, "CLIENT", "INFO")

	other := dialBoth()
	run(other, "CONFIG", "GET", "maxmemory")
	check("other after config get", me, "CLIENT", "LIST", "ID", "999999")
	ido, idr := other.a.do("CLIENT", "ID").Int, other.b.do("CLIENT", "ID").Int
	run(other, "MULTI")
	run(other, "SET", "a", "1")
	run(other, "GET", "a")
	ra := me.a.do("CLIENT", "LIST", "ID", strconv.FormatInt(ido, 10))
	rb := me.b.do("CLIENT", "LIST", "ID", strconv.FormatInt(idr, 10))
	if a, b := normClientLine(ra.Str), normClientLine(rb.Str); a != b {
		t.Errorf("client in MULTI:\n ours:  %s\n redis: %s", a, b)
	}
	run(other, "DISCARD")
	sub := dialBoth()
	run(sub, "SUBSCRIBE", "c1")
	sub.a.do("PSUBSCRIBE", "p*")
	sub.b.do("PSUBSCRIBE", "p*")
	check("pubsub", me, "CLIENT", "LIST", "TYPE", "pubsub")
	check("normal", me, "CLIENT", "LIST", "TYPE", "normal")
}

// TestDiffEncodingThresholds checks OBJECT ENCODING at the default
// thresholds of every type and across conversions.
func TestDiffEncodingThresholds(t *testing.T) {
	s := startServer(t)
	seq := func(prefix string, n int, pairs bool) string {
		var sb strings.Builder
		for i := 0; i < n; i++ {
			if pairs {
				fmt.Fprintf(&sb, " %d %s%d", i, prefix, i)
			} else {
				fmt.Fprintf(&sb, " %s%d", prefix, i)
			}
		}
		return sb.String()
	}
	long := strings.Repeat("v", 64)
	lines := []string{
		"SADD s1" + seq("", 512, false), "OBJECT ENCODING s1", "SADD s1 512", "OBJECT ENCODING s1",
		"SADD s2 1 2 3", "OBJECT ENCODING s2", "SADD s2 x", "OBJECT ENCODING s2", "SREM s2 x", "OBJECT ENCODING s2",
		"SADD s3 -9223372036854775808", "OBJECT ENCODING s3", "SADD s4 01", "OBJECT ENCODING s4",
		"ZADD z1" + seq("m", 128, true), "OBJECT ENCODING z1", "ZADD z1 1000 extra", "OBJECT ENCODING z1",
		"ZADD z2 1 " + long, "OBJECT ENCODING z2", "ZADD z3 1 " + long + "x", "OBJECT ENCODING z3",
		"ZREMRANGEBYRANK z1 0 100", "OBJECT ENCODING z1",
		"HSET h1" + seq("f", 512, true), "OBJECT ENCODING h1", "HSET h1 new 1", "OBJECT ENCODING h1",
		"HSET h2 f " + long, "OBJECT ENCODING h2", "HSET h3 f " + long + "x", "OBJECT ENCODING h3",
		"HSET h4 " + long + "x v", "OBJECT ENCODING h4",
		"SET e1 " + strings.Repeat("a", 44), "OBJECT ENCODING e1", "SET e2 " + strings.Repeat("a", 45), "OBJECT ENCODING e2",
		"SET i1 9223372036854775807", "OBJECT ENCODING i1", "SET i2 9223372036854775808", "OBJECT ENCODING i2",
		"SET i3 -0", "OBJECT ENCODING i3", "SET i4 \" 1\"", "OBJECT ENCODING i4", "APPEND e1 b", "OBJECT ENCODING e1",
		"RPUSH l1" + seq("x", 1000, false), "OBJECT ENCODING l1", "RPUSH l2 a", "OBJECT ENCODING l2",
		"SETRANGE sr 0 abc", "OBJECT ENCODING sr", "SETBIT sb 1 1", "OBJECT ENCODING sb", "INCRBYFLOAT fl 1.5", "OBJECT ENCODING fl",
		"PFADD hll a", "OBJECT ENCODING hll", "GEOADD geo 13.361389 38.115556 p", "OBJECT ENCODING geo",
		"SINTERSTORE dst s1 s1", "OBJECT ENCODING dst", "SUNIONSTORE dst2 s2 s2", "OBJECT ENCODING dst2",
		"ZUNIONSTORE zdst 1 z2", "OBJECT ENCODING zdst", "COPY h1 hc", "OBJECT ENCODING hc",
		"DEBUG RELOAD", "OBJECT ENCODING s1", "OBJECT ENCODING s2", "OBJECT ENCODING z1", "OBJECT ENCODING z3", "OBJECT ENCODING h1",
		"OBJECT ENCODING h2", "OBJECT ENCODING e1", "OBJECT ENCODING i1", "OBJECT ENCODING l1",
	}
	rpd := startRedisArgs(t, "--enable-debug-command", "yes")
	runDiff(t, s.Addr().String(), rpd.addr, lines)
}

// TestDiffDebugObject compares DEBUG OBJECT for strings, whose
// serialized form is the same in both servers (address and LRU aside).
func TestDiffDebugObject(t *testing.T) {
	rp := startRedisArgs(t, "--enable-debug-command", "yes")
	s := startServer(t)
	a, b := dial(t, s.Addr().String()), dial(t, rp.addr)
	norm := regexp.MustCompile(`Value at:0x[0-9a-f]+|lru:\d+ lru_seconds_idle:\d+`)
	for _, v := range []string{"hello", "12", "123456", "-5", "3.14", strings.Repeat("ab", 10),
		"wlDx2M7mxWLlGOmlcOcHRzh54BlwlbOr8nmRMUsHHPMzcNxw0Et0qc8O2ykKbU1aa4Hs1eFCE9DCyxHDpyr0Q2Tq5Odf"} {
		a.do("SET", "k", v)
		b.do("SET", "k", v)
		ra, rb := a.do("DEBUG", "OBJECT", "k").String(), b.do("DEBUG", "OBJECT", "k").String()
		if na, nb := norm.ReplaceAllString(ra, "*"), norm.ReplaceAllString(rb, "*"); na != nb {
			t.Errorf("DEBUG OBJECT of %q:\n ours:  %s\n redis: %s", v, na, nb)
		}
	}
	a.do("RPUSH", "l", "a", "b", "c")
	b.do("RPUSH", "l", "a", "b", "c")
	ql := regexp.MustCompile(` ql_nodes:\d+ ql_avg_node:[0-9.]+ ql_listpack_max:-?\d+ ql_compressed:\d+ ql_uncompressed_size:\d+$`)
	for _, c := range []*testConn{a, b} {
		if r := c.do("DEBUG", "OBJECT", "l").String(); !ql.MatchString(r) || !strings.Contains(r, " encoding:quicklist ") {
			t.Errorf("DEBUG OBJECT l: %s", r)
		}
	}
}

// TestMemoryUsageMagnitude checks MEMORY USAGE is within a factor of 3 of
// redis-server's for values of every type and size.
func TestMemoryUsageMagnitude(t *testing.T) {
	rp := startRedisArgs(t)
	s := startServer(t)
	a, b := dial(t, s.Addr().String()), dial(t, rp.addr)
	cmds := [][]string{{"SET", "s", "1"}, {"SET", "s2", strings.Repeat("x", 100)}, {"SET", "s3", strings.Repeat("x", 10000)},
		{"HSET", "hs", "a", "b"}, {"ZADD", "zs", "1", "a"}, {"SADD", "is", "1", "2"}}
	l, h, st, z := []string{"RPUSH", "l"}, []string{"HSET", "h"}, []string{"SADD", "st"}, []string{"ZADD", "z"}
	for i := 0; i < 1000; i++ {
		l = append(l, fmt.Sprint("elem", i))
		h = append(h, fmt.Sprint("f", i), "v")
		st = append(st, fmt.Sprint("m", i))
		z = append(z, fmt.Sprint(i), fmt.Sprint("m", i))
	}
	cmds = append(cmds, l, h, st, z)
	for _, c := range cmds {
		a.do(c...)
		b.do(c...)
	}
	for _, c := range cmds {
		ours, theirs := a.do("MEMORY", "USAGE", c[1]).Int, b.do("MEMORY", "USAGE", c[1], "SAMPLES", "0").Int
		if ours*3 < theirs || ours > 3*theirs {
			t.Errorf("MEMORY USAGE %s: ours %d, redis %d", c[1], ours, theirs)
		}
	}
}

// TestDiffClientPauseWrite checks which commands CLIENT PAUSE WRITE
// holds back, against redis-server.
func TestDiffClientPauseWrite(t *testing.T) {
	rp := startRedisArgs(t)
	s := startServer(t)
	cmds := [][]string{{"GET", "k"}, {"SET", "k", "v"}, {"SCRIPT", "LOAD", "return 1"}, {"SCRIPT", "EXISTS", "x"},
		{"PFCOUNT", "h"}, {"PUBLISH", "c", "1"}, {"SPUBLISH", "c", "1"}, {"EVAL", "return 1", "0"},
		{"EVAL_RO", "return 1", "0"}, {"EVALSHA_RO", "x", "0"}, {"SWAPDB", "0", "1"}, {"FLUSHALL"}, {"CLIENT", "ID"},
		{"INFO", "server"}, {"PING"}, {"DEL", "nokey"}, {"EXPIRE", "k", "100"}, {"CONFIG", "GET", "hz"}}
	paused := func(addr string, cmd []string) bool {
		adm, c := dial(t, addr), dial(t, addr)
		id := strconv.FormatInt(c.do("CLIENT", "ID").Int, 10)
		adm.expect("+OK", "CLIENT", "PAUSE", "10000", "WRITE")
		c.send(cmd...)
		// Either the reply comes, or the client shows up blocked (b).
		for {
			_ = c.conn.SetReadDeadline(time.Now().Add(5 * time.Millisecond))
			if _, err := c.rr.ReadReply(); err == nil {
				adm.expect("+OK", "CLIENT", "UNPAUSE")
				return false
			}
			if strings.Contains(adm.do("CLIENT", "LIST", "ID", id).Str, " flags=b ") {
				adm.expect("+OK", "CLIENT", "UNPAUSE")
				c.read() // the reply once unpaused
				return true
			}
		}
	}
	for _, cmd := range cmds {
		if a, b := paused(s.Addr().String(), cmd), paused(rp.addr, cmd); a != b {
			t.Errorf("%q: paused by us %v, by redis %v", cmd, a, b)
		}
	}
}
