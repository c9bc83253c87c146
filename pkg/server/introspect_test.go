package server

import (
	"fmt"
	"math/rand/v2"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/codisgo/codis/pkg/resp"
)

// randomDataset returns commands building a random data set of every type
// and encoding (small and large, integers and strings, with expiries), in
// several DBs.
func randomDataset(seed uint64) [][]string {
	rng := rand.New(rand.NewPCG(seed, 7))
	val := func() string {
		switch rng.IntN(4) {
		case 0:
			return strconv.Itoa(rng.IntN(20000) - 100)
		case 1:
			return strings.Repeat("x", rng.IntN(70))
		default:
			return fmt.Sprintf("v%d", rng.IntN(1000))
		}
	}
	var cmds [][]string
	for db := 0; db < 3; db++ {
		cmds = append(cmds, []string{"SELECT", strconv.Itoa(db)})
		for i := 0; i < 40; i++ {
			key := fmt.Sprintf("k%d:%d", db, i)
			n := 1 + rng.IntN(5)
			if rng.IntN(5) == 0 {
				n = 200 + rng.IntN(400) // past the listpack/intset thresholds
			}
			switch i % 5 {
			case 0:
				cmds = append(cmds, []string{"SET", key, val()})
			case 1:
				c := []string{"RPUSH", key}
				for j := 0; j < n; j++ {
					c = append(c, val())
				}
				cmds = append(cmds, c)
			case 2:
				c := []string{"SADD", key}
				for j := 0; j < n; j++ {
					if rng.IntN(2) == 0 {
						c = append(c, strconv.Itoa(rng.IntN(100000)))
					} else {
						c = append(c, val())
					}
				}
				cmds = append(cmds, c)
			case 3:
				c := []string{"ZADD", key}
				for j := 0; j < n; j++ {
					score := []string{strconv.Itoa(rng.IntN(100)), fmt.Sprint(rng.Float64() * 1000), "1e300", "-inf", "0.1"}[rng.IntN(5)]
					c = append(c, score, val())
				}
				cmds = append(cmds, c)
			case 4:
				c := []string{"HSET", key}
				for j := 0; j < n; j++ {
					c = append(c, fmt.Sprintf("f%d", j), val())
				}
				cmds = append(cmds, c)
			}
			if rng.IntN(4) == 0 {
				cmds = append(cmds, []string{"EXPIRE", key, "1000"})
			}
		}
	}
	return cmds
}

func TestDebugDigestMatchesRedis(t *testing.T) {
	rp := startRedisArgs(t, "--enable-debug-command", "yes")
	s := startServer(t)
	a, b := dial(t, s.Addr().String()), dial(t, rp.addr)
	a.expect("+0000000000000000000000000000000000000000", "DEBUG", "DIGEST")
	b.expect("+0000000000000000000000000000000000000000", "DEBUG", "DIGEST")
	for _, cmd := range randomDataset(1) {
		ra, rb := a.do(cmd...), b.do(cmd...)
		if ra.String() != rb.String() {
			t.Fatalf("%q: ours %s, redis %s", cmd, ra, rb)
		}
	}
	a.do("SELECT", "0")
	b.do("SELECT", "0")
	da, db := a.do("DEBUG", "DIGEST").String(), b.do("DEBUG", "DIGEST").String()
	if da != db || len(da) != 41 {
		t.Fatalf("DEBUG DIGEST: ours %s, redis %s", da, db)
	}
	keys := []string{"DEBUG", "DIGEST-VALUE", "nokey"}
	for i := 0; i < 40; i++ {
		keys = append(keys, fmt.Sprintf("k0:%d", i))
	}
	if ra, rb := a.do(keys...).String(), b.do(keys...).String(); ra != rb {
		t.Fatalf("DEBUG DIGEST-VALUE:\n ours  %s\n redis %s", ra, rb)
	}
	// A change anywhere changes the digest.
	a.do("HSET", "k0:4", "f0", "changed")
	if a.do("DEBUG", "DIGEST").String() == db {
		t.Fatal("digest unchanged after HSET")
	}

	// DEBUG RELOAD keeps the data set (and the expiries).
	a.expect("+OK", "DEBUG", "RELOAD")
	b.do("HSET", "k0:4", "f0", "changed")
	if da, db := a.do("DEBUG", "DIGEST").String(), b.do("DEBUG", "DIGEST").String(); da != db {
		t.Fatalf("after DEBUG RELOAD: ours %s, redis %s", da, db)
	}
	a.expect("+OK", "FLUSHALL")
	a.expect("+OK", "DEBUG", "RELOAD", "NOSAVE") // the dump saved above
	if da := a.do("DEBUG", "DIGEST").String(); da == "+0000000000000000000000000000000000000000" {
		t.Fatal("DEBUG RELOAD NOSAVE loaded nothing")
	}
}

func TestDebugMisc(t *testing.T) {
	s := startServer(t)
	a := dial(t, s.Addr().String())
	a.expect(`ERR:"ERR no such key"`, "DEBUG", "OBJECT", "nokey")
	a.do("RPUSH", "l", "a", "b", "c")
	r := a.do("DEBUG", "OBJECT", "l").String()
	if !strings.HasPrefix(r, "+Value at:0x") || !strings.Contains(r, " refcount:1 encoding:quicklist serializedlength:") ||
		!strings.Contains(r, " ql_nodes:1 ") {
		t.Errorf("DEBUG OBJECT l: %s", r)
	}
	a.do("SET", "n", "12")
	if r := a.do("DEBUG", "OBJECT", "n").String(); !strings.Contains(r, "refcount:2147483647 encoding:int serializedlength:2 lru:") {
		t.Errorf("DEBUG OBJECT n: %s", r)
	}
	start := time.Now()
	a.expect("+OK", "DEBUG", "SLEEP", "0.2")
	if time.Since(start) < 200*time.Millisecond {
		t.Error("DEBUG SLEEP returned early")
	}
	a.expect("+OK", "DEBUG", "SET-ACTIVE-EXPIRE", "0")
	a.expect("+OK", "PSETEX", "e", "1", "v")
	time.Sleep(50 * time.Millisecond)
	a.expect("3", "DBSIZE") // not reclaimed in the background
	a.expect("+OK", "DEBUG", "SET-ACTIVE-EXPIRE", "1")
	checkFor(t, 5*time.Second, func() error {
		if r := a.do("DBSIZE").String(); r != "2" {
			return fmt.Errorf("DBSIZE %s", r)
		}
		return nil
	})
	id := infoField(t, s.Addr().String(), "master_replid")
	a.expect("+OK", "DEBUG", "CHANGE-REPL-ID")
	if id2 := infoField(t, s.Addr().String(), "master_replid"); id2 == id || len(id2) != 40 {
		t.Errorf("master_replid %q then %q", id, id2)
	}
	a.expect("+OK", "DEBUG", "POPULATE", "10", "p", "3")
	a.expect("12", "DBSIZE")
	a.expect(`"val"`, "GET", "p:1")
	a.expect(`ERR:"ERR boom"`, "DEBUG", "ERROR", "ERR boom")
	a.expect(`ERR:"ERR unknown subcommand or wrong number of arguments for 'foo'. Try DEBUG HELP."`, "DEBUG", "foo")
	a.expect(`ERR:"ERR This Redis command is not allowed from script script: b725f5c6a8f563da763198e769b98aefa406215d, on @user_script:1."`, "EVAL", "return redis.call('debug','digest')", "0")
}

// sendOnly writes a command without reading its reply.
func (c *testConn) sendOnly(args ...string) { c.send(args...) }

// noReplyWithin checks that nothing arrives on c for d.
func noReplyWithin(t *testing.T, c *testConn, d time.Duration) {
	t.Helper()
	_ = c.conn.SetReadDeadline(time.Now().Add(d))
	r, err := c.rr.ReadReply()
	if err == nil {
		t.Fatalf("unexpected reply %s", r)
	}
	_ = c.conn.SetReadDeadline(time.Time{})
}

func TestClientPause(t *testing.T) {
	s := startServer(t)
	addr := s.Addr().String()
	adm, w := dial(t, addr), dial(t, addr)

	// WRITE: reads pass, writes (and EVAL, PUBLISH) wait until UNPAUSE.
	adm.expect("+OK", "CLIENT", "PAUSE", "10000", "WRITE")
	w.expect("(nil)", "GET", "k")
	w.sendOnly("SET", "k", "v")
	noReplyWithin(t, w, 200*time.Millisecond)
	r := dial(t, addr)
	r.expect("(nil)", "GET", "k") // the write has not run
	r.sendOnly("EVAL", "return 1", "0")
	noReplyWithin(t, r, 100*time.Millisecond)
	adm.expect("+OK", "CLIENT", "UNPAUSE")
	w.expect("+OK")
	r.expect("1")
	w.expect(`"v"`, "GET", "k")

	// ALL: every command waits, until the timeout.
	adm.expect("+OK", "CLIENT", "PAUSE", "300")
	start := time.Now()
	w.expect("+PONG", "PING")
	if el := time.Since(start); el < 200*time.Millisecond {
		t.Errorf("PING during CLIENT PAUSE ALL answered after %v", el)
	}

	// A write queued in MULTI waits too; flag b while waiting.
	w.expect("+OK", "MULTI")
	adm.expect("+OK", "CLIENT", "PAUSE", "10000", "WRITE")
	w.sendOnly("SET", "k", "v2")
	checkFor(t, 5*time.Second, func() error {
		if l := adm.do("CLIENT", "LIST").Str; !strings.Contains(l, "flags=xb ") {
			return fmt.Errorf("no client with flags=xb: %s", l)
		}
		return nil
	})
	adm.expect("+OK", "CLIENT", "UNPAUSE")
	w.expect("+QUEUED")
	w.expect(`[+OK]`, "EXEC")

	// A client blocked in BLPOP shows flag b as well.
	w.sendOnly("BLPOP", "nolist", "0")
	checkFor(t, 5*time.Second, func() error {
		if l := adm.do("CLIENT", "LIST").Str; !strings.Contains(l, "flags=b ") || !strings.Contains(l, "cmd=blpop ") {
			return fmt.Errorf("no blocked client: %s", l)
		}
		return nil
	})
	adm.do("RPUSH", "nolist", "x")
	w.expect(`["nolist" "x"]`)
}

func TestClientKillFilters(t *testing.T) {
	s := startServer(t)
	addr := s.Addr().String()
	me := dial(t, addr)
	a, b := dial(t, addr), dial(t, addr)
	sub := dial(t, addr)
	sub.expect(`["subscribe" "ch" 1]`, "SUBSCRIBE", "ch")
	idA := a.do("CLIENT", "ID").Int
	b.expect("+OK", "CLIENT", "SETNAME", "bee")

	alive := func(c *testConn) bool {
		c.send("PING")
		_ = c.conn.SetReadDeadline(time.Now().Add(2 * time.Second))
		_, err := c.rr.ReadReply()
		return err == nil
	}
	me.expect("1", "CLIENT", "KILL", "ID", strconv.FormatInt(idA, 10))
	if alive(a) {
		t.Error("client a survived KILL ID")
	}
	me.expect("1", "CLIENT", "KILL", "TYPE", "pubsub")
	checkFor(t, 5*time.Second, func() error {
		if n := strings.Count(me.do("CLIENT", "LIST").Str, "\n"); n != 2 {
			return fmt.Errorf("%d clients", n)
		}
		return nil
	})
	// LADDR matches every client; SKIPME yes (default) spares me.
	laddr := b.conn.RemoteAddr().String()
	me.expect("1", "CLIENT", "KILL", "LADDR", laddr, "USER", "default")
	if alive(b) {
		t.Error("client b survived KILL LADDR")
	}
	c := dial(t, addr)
	me.expect("+OK", "CLIENT", "KILL", c.conn.LocalAddr().String())
	if alive(c) {
		t.Error("client c survived the old form of KILL")
	}
	me.expect(`ERR:"ERR No such client"`, "CLIENT", "KILL", c.conn.LocalAddr().String())
	// SKIPME no kills the caller too, after the reply.
	me.expect("1", "CLIENT", "KILL", "TYPE", "normal", "SKIPME", "no")
	if alive(me) {
		t.Error("caller survived SKIPME no")
	}
}

func TestClientReplyModes(t *testing.T) {
	s := startServer(t)
	c := dial(t, s.Addr().String())
	c.sendOnly("CLIENT", "REPLY", "SKIP")
	c.sendOnly("SET", "a", "1")
	c.expect(`"1"`, "GET", "a")
	c.sendOnly("CLIENT", "REPLY", "OFF")
	c.sendOnly("INCR", "a")
	c.sendOnly("NOSUCHCMD")
	c.expect("+OK", "CLIENT", "REPLY", "ON")
	c.expect(`"2"`, "GET", "a")
}

func TestOutputBufferLimitPubsub(t *testing.T) {
	s := startServer(t)
	addr := s.Addr().String()
	adm := dial(t, addr)
	adm.expect("+OK", "CONFIG", "SET", "client-output-buffer-limit", "pubsub 64kb 0 0")
	sub := dial(t, addr)
	sub.expect(`["subscribe" "ch" 1]`, "SUBSCRIBE", "ch")
	// The subscriber does not read: its buffer grows past 64kb once the
	// socket buffers are full.
	msg := strings.Repeat("x", 8<<10)
	checkFor(t, 10*time.Second, func() error {
		for i := 0; i < 100; i++ { // pipelined: fill the socket buffers fast
			adm.send("PUBLISH", "ch", msg)
		}
		var n resp.Reply
		for i := 0; i < 100; i++ {
			n = adm.read()
		}
		if n.Int == 0 {
			return nil
		}
		return fmt.Errorf("still subscribed")
	})
	if l := adm.do("CLIENT", "LIST", "TYPE", "pubsub").Str; l != "" {
		t.Errorf("subscriber still listed: %s", l)
	}
	// A normal client over a normal hard limit is closed as well.
	adm.expect("+OK", "CONFIG", "SET", "client-output-buffer-limit", "normal 10kb 0 0")
	adm.expect("+OK", "SET", "big", strings.Repeat("y", 20<<10))
	c := dial(t, addr)
	c.send("GET", "big")
	_ = c.conn.SetReadDeadline(time.Now().Add(5 * time.Second))
	if r, err := c.rr.ReadReply(); err == nil {
		t.Errorf("GET big over the normal limit replied %d bytes", len(r.Str))
	}
	adm.expect("+OK", "CONFIG", "SET", "client-output-buffer-limit", "normal 0 0 0")
	adm.expect(`["client-output-buffer-limit" "normal 0 0 0 slave 268435456 67108864 60 pubsub 65536 0 0"]`, "CONFIG", "GET", "client-output-buffer-limit")
}

func TestCommandAndErrorStats(t *testing.T) {
	s := startServer(t)
	c := dial(t, s.Addr().String())
	c.do("SET", "s", "x")
	c.do("INCR", "s")
	c.do("GET")
	c.do("CLIENT", "ID")
	c.do("CLIENT", "NOSUCH")
	info := c.do("INFO", "commandstats").Str
	for _, want := range []string{"cmdstat_set:calls=1,", "cmdstat_incr:calls=1,", ",rejected_calls=0,failed_calls=1\r\n",
		"cmdstat_get:calls=0,usec=0,usec_per_call=0.00,rejected_calls=1,failed_calls=0", "cmdstat_client|id:calls=1,"} {
		if !strings.Contains(info, want) {
			t.Errorf("INFO commandstats lacks %q:\n%s", want, info)
		}
	}
	if strings.Contains(info, "nosuch") {
		t.Errorf("unknown subcommand counted:\n%s", info)
	}
	info = c.do("INFO", "errorstats").Str
	if !strings.Contains(info, "errorstat_ERR:count=3\r\n") {
		t.Errorf("INFO errorstats:\n%s", info)
	}
	if v := infoField(t, s.Addr().String(), "total_error_replies"); v != "3" {
		t.Errorf("total_error_replies %s", v)
	}
	c.expect("+OK", "CONFIG", "RESETSTAT")
	if info := c.do("INFO", "errorstats").Str; strings.Contains(info, "errorstat_") {
		t.Errorf("after RESETSTAT: %s", info)
	}
}

func TestLatencyMonitor(t *testing.T) {
	s := startServer(t)
	c := dial(t, s.Addr().String())
	c.expect("[]", "LATENCY", "LATEST")
	c.expect("+OK", "CONFIG", "SET", "latency-monitor-threshold", "20")
	c.expect("+OK", "DEBUG", "SLEEP", "0.05")
	r := c.do("LATENCY", "LATEST")
	if len(r.Elems) != 1 || r.Elems[0].Elems[0].Str != "command" || r.Elems[0].Elems[2].Int < 50 {
		t.Fatalf("LATENCY LATEST %s", r)
	}
	if h := c.do("LATENCY", "HISTORY", "command"); len(h.Elems) != 1 || h.Elems[0].Elems[1].Int < 50 {
		t.Errorf("LATENCY HISTORY %s", h)
	}
	if d := c.do("LATENCY", "DOCTOR").Str; !strings.Contains(d, "1. command: 1 latency spikes") {
		t.Errorf("LATENCY DOCTOR %q", d)
	}
	if g := c.do("LATENCY", "GRAPH", "command").Str; !strings.HasPrefix(g, "command - high") {
		t.Errorf("LATENCY GRAPH %q", g)
	}
	if h := c.do("LATENCY", "HISTOGRAM", "debug"); len(h.Elems) != 2 || h.Elems[0].Str != "debug" {
		t.Errorf("LATENCY HISTOGRAM %s", h)
	}
	c.expect("1", "LATENCY", "RESET")
	c.expect("[]", "LATENCY", "LATEST")
}

func TestOutputBufferLimitConfigFile(t *testing.T) {
	cfg := NewConfig()
	err := cfg.LoadString("client-output-buffer-limit normal 1mb 2mb 3\nclient-output-buffer-limit replica 1gb 512mb 0\nclient-output-buffer-limit pubsub 64mb 16mb 120\n")
	if err != nil {
		t.Fatal(err)
	}
	s := New(cfg, nil)
	want := "normal 1048576 2097152 3 slave 1073741824 536870912 0 pubsub 67108864 16777216 120"
	if got := s.configGet("client-output-buffer-limit"); got != want {
		t.Errorf("got %q, want %q", got, want)
	}
	if h, so, secs := s.replicaOutputLimits(); h != 1<<30 || so != 512<<20 || secs != 0 {
		t.Errorf("replica limits %d %d %v", h, so, secs)
	}
	if err := NewConfig().LoadString("client-output-buffer-limit normal 1 2\n"); err == nil {
		t.Error("bad client-output-buffer-limit accepted")
	}
}
