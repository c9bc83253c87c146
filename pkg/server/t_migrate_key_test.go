package server

import (
	"net"
	"strconv"
	"strings"
	"testing"
	"time"
)

// TestDiffMigrate runs the same MIGRATE scenarios with our server and with
// redis-server 7.0 as the source, each moving keys to its own redis-server
// target, and compares every reply on both sides.
func TestDiffMigrate(t *testing.T) {
	ours := startServer(t).Addr().String()
	theirs := startRedis(t).addr
	var log [2][]string
	for i, src := range []string{ours, theirs} {
		target := startRedis(t)
		secure := startRedis(t)
		dial(t, secure.addr).do("CONFIG", "SET", "requirepass", "s3cret")
		th, tp, _ := net.SplitHostPort(target.addr)
		sh, sp, _ := net.SplitHostPort(secure.addr)
		closed := freePort(t)
		a, b, sc := dial(t, src), dial(t, target.addr), dial(t, secure.addr)
		sc.do("AUTH", "s3cret")
		names := map[string]string{tp: "TPORT", sp: "SPORT", strconv.Itoa(closed): "XPORT"}
		rec := func(c *testConn, who string, args ...string) {
			r := c.do(args...).String()
			if args[0] == "SMEMBERS" { // order varies with each server's hash seed
				r = sortedReply(c.do(args...))
			}
			shown := make([]string, len(args))
			for j, a := range args {
				if n, ok := names[a]; ok {
					a = n
				}
				shown[j] = a
			}
			log[i] = append(log[i], who+" "+strings.Join(shown, " ")+" -> "+r)
		}
		src := func(args ...string) { rec(a, "src", args...) }
		dst := func(args ...string) { rec(b, "dst", args...) }
		sec := func(args ...string) { rec(sc, "sec", args...) }

		src("SET", "k", "v")
		src("PEXPIRE", "k", "100000")
		src("MIGRATE", th, tp, "k", "0", "1000")
		src("EXISTS", "k")
		dst("GET", "k")
		log[i] = append(log[i], "ttl kept: "+boolStr(b.do("PTTL", "k").Int > 90000))
		src("MIGRATE", th, tp, "nokey", "0", "1000")

		// BUSYKEY, then REPLACE, then COPY.
		src("SET", "k", "v2")
		src("MIGRATE", th, tp, "k", "0", "1000")
		src("GET", "k")
		src("MIGRATE", th, tp, "k", "0", "1000", "REPLACE")
		dst("GET", "k")
		src("SET", "c", "copied")
		src("MIGRATE", th, tp, "c", "0", "1000", "COPY")
		src("GET", "c")
		dst("GET", "c")

		// KEYS: some missing, some busy on the target; every type.
		src("RPUSH", "l", "1", "2", "3")
		src("HSET", "h", "f", "v")
		src("ZADD", "z", "1", "m")
		src("SADD", "s", "a", "b")
		src("SET", "busy", "x")
		dst("SET", "busy", "y")
		src("MIGRATE", th, tp, "", "0", "1000", "KEYS", "l", "missing", "h", "busy", "z", "s")
		src("EXISTS", "l", "h", "z", "s", "busy")
		dst("LRANGE", "l", "0", "-1")
		dst("HGETALL", "h")
		dst("ZRANGE", "z", "0", "-1", "WITHSCORES")
		dst("SMEMBERS", "s")
		dst("GET", "busy")
		src("MIGRATE", th, tp, "", "0", "1000", "KEYS", "missing1", "missing2")

		// Databases.
		src("SET", "d", "in5")
		src("MIGRATE", th, tp, "d", "5", "1000")
		dst("SELECT", "5")
		dst("GET", "d")
		dst("SELECT", "0")
		src("SET", "d", "again")
		src("MIGRATE", th, tp, "d", "99", "1000")
		src("GET", "d")
		src("MIGRATE", th, tp, "d", "0", "1000") // SELECT again after the failure
		dst("GET", "d")

		// Authentication.
		src("SET", "p", "pw")
		src("MIGRATE", sh, sp, "p", "0", "1000")
		src("MIGRATE", sh, sp, "p", "0", "1000", "AUTH", "wrong")
		src("MIGRATE", th, tp, "p", "0", "1000", "AUTH", "x") // target has no password
		src("MIGRATE", sh, sp, "p", "0", "1000", "AUTH", "s3cret")
		sec("GET", "p")
		src("SET", "p2", "pw2")
		src("MIGRATE", sh, sp, "p2", "0", "1000", "AUTH2", "default", "s3cret")
		sec("GET", "p2")

		// Argument errors and a dead target.
		src("SET", "e", "1")
		src("MIGRATE", th, tp, "e", "0", "1000", "FOO")
		src("MIGRATE", th, tp, "e", "0", "1000", "AUTH")
		src("MIGRATE", th, tp, "e", "0", "1000", "AUTH2", "u")
		src("MIGRATE", th, tp, "e", "0", "1000", "KEYS", "e")
		src("MIGRATE", th, tp, "e", "0", "x")
		src("MIGRATE", th, tp, "e", "x", "1000")
		src("MIGRATE", th, tp, "e", "0", "-5") // a non-positive timeout is 1000 ms
		dst("GET", "e")
		src("SET", "e", "1")
		src("MIGRATE", "127.0.0.1", strconv.Itoa(closed), "e", "0", "100")
		src("GET", "e")
		src("COMMAND", "GETKEYS", "MIGRATE", th, tp, "", "0", "1000", "COPY", "KEYS", "x", "y")
		src("COMMAND", "GETKEYS", "MIGRATE", th, tp, "k1", "0", "1000")

		// The cached connection is dropped by the target: retried once.
		src("SET", "r", "1")
		src("MIGRATE", th, tp, "r", "0", "1000")
		dst("CLIENT", "KILL", "TYPE", "normal", "SKIPME", "yes")
		src("SET", "r", "2")
		src("MIGRATE", th, tp, "r", "0", "1000", "REPLACE")
		dst("GET", "r")
	}
	if len(log[0]) != len(log[1]) {
		t.Fatalf("different lengths:\n%s\n---\n%s", strings.Join(log[0], "\n"), strings.Join(log[1], "\n"))
	}
	for j := range log[0] {
		if log[0][j] != log[1][j] {
			t.Errorf("step %d:\n ours:  %s\n redis: %s", j, log[0][j], log[1][j])
		}
	}
}

func boolStr(b bool) string {
	if b {
		return "yes"
	}
	return "no"
}

// TestMigrateReplicates: a replica of the source loses exactly the keys
// MIGRATE moved (they propagate as DEL), and keeps those COPY or an error
// left in place.
func TestMigrateReplicates(t *testing.T) {
	master := startServer(t).Addr().String()
	replica := startServer(t).Addr().String()
	target := startRedis(t)
	th, tp := hostPortOf(target.addr)
	mh, mp := hostPortOf(master)
	m, r, d := dial(t, master), dial(t, replica), dial(t, target.addr)
	r.expect("+OK", "REPLICAOF", mh, mp)
	waitLinkUp(t, replica, 10*time.Second)
	for _, k := range []string{"a", "b", "c", "busy"} {
		m.expect("+OK", "SET", k, "v-"+k)
	}
	d.expect("+OK", "SET", "busy", "there")
	m.expect(`ERR:"ERR Target instance replied with error: BUSYKEY Target key name already exists."`,
		"MIGRATE", th, tp, "", "0", "1000", "KEYS", "a", "busy", "b")
	m.expect("+OK", "MIGRATE", th, tp, "c", "0", "1000", "COPY")
	waitCaughtUp(t, master, replica, 10*time.Second)
	r.expect("2", "EXISTS", "c", "busy")
	r.expect("0", "EXISTS", "a", "b")
	m.expect("2", "EXISTS", "c", "busy")
	m.expect("0", "EXISTS", "a", "b")
}
