package server

import (
	"fmt"
	"math"
	"net"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/codisgo/codis/pkg/resp"
)

// Tests of semi-async migration (t_mgrt_async.go, mgrt_async_restore.go,
// SPEC-data §B.7), with real servers on both sides, and a scripted fake
// target where the exact message stream matters.

// fillMigrationData writes values of every type and size (chunked and
// not, with and without TTL, tagged groups) into s.
func fillMigrationData(t *testing.T, c *testConn) {
	t.Helper()
	var cmds [][]string
	for i := range 60 {
		k := "str:" + strconv.Itoa(i)
		cmds = append(cmds, []string{"SET", k, strings.Repeat("v", i%7) + strconv.Itoa(i)})
		if i%3 == 0 {
			cmds = append(cmds, []string{"PEXPIRE", k, strconv.Itoa(100000 + i)})
		}
	}
	for i := range 8 {
		tag := "{tag" + strconv.Itoa(i) + "}"
		cmds = append(cmds, []string{"SET", tag + "a", "1"}, []string{"INCR", tag + "n"},
			[]string{"RPUSH", tag + "l", "x", "y", "z"}, []string{"HSET", tag + "h", "f", "v"},
			[]string{"SADD", tag + "s", "1", "2", "m"}, []string{"ZADD", tag + "z", "1.5", "a", "-inf", "b"})
	}
	big := func(cmd, key string, n int, gen func(i int) []string) {
		args := []string{cmd, key}
		for i := range n {
			args = append(args, gen(i)...)
		}
		cmds = append(cmds, args)
	}
	big("RPUSH", "{big}list", 700, func(i int) []string { return []string{"e" + strconv.Itoa(i)} })
	big("HSET", "{big}hash", 300, func(i int) []string { return []string{"f" + strconv.Itoa(i), strings.Repeat("h", i%90)} })
	big("SADD", "{big}set", 400, func(i int) []string { return []string{"m" + strconv.Itoa(i)} })
	big("SADD", "bigints", 300, func(i int) []string { return []string{strconv.Itoa(i * 7)} })
	big("ZADD", "{big}zset", 300, func(i int) []string {
		return []string{strconv.FormatFloat(float64(i%50)/3, 'g', -1, 64), "z" + strconv.Itoa(i)}
	})
	big("ZADD", "zset2", 200, func(i int) []string { return []string{strconv.Itoa(i), "w" + strconv.Itoa(i)} })
	big("HSET", "hash2", 200, func(i int) []string { return []string{"g" + strconv.Itoa(i), "x"} })
	cmds = append(cmds, []string{"PEXPIRE", "{big}list", "200000"}, []string{"PEXPIRE", "{big}zset", "300000"})
	c.pipeline(cmds, false)
}

// occupiedSlots returns the slots holding keys.
func occupiedSlots(t *testing.T, c *testConn) []int {
	t.Helper()
	var out []int
	for _, e := range c.do("SLOTSINFO").Elems {
		out = append(out, int(e.Elems[0].Int))
	}
	return out
}

// migrateSlotsAsync moves whole slots with SLOTSMGRTTAGSLOT-ASYNC until
// each is empty.
func migrateSlotsAsync(t *testing.T, c *testConn, host, port string, slots []int, maxbulks, maxbytes, numkeys string) int {
	t.Helper()
	calls := 0
	for _, slot := range slots {
		for {
			r := c.do("SLOTSMGRTTAGSLOT-ASYNC", host, port, "5000", maxbulks, maxbytes, strconv.Itoa(slot), numkeys)
			calls++
			if r.IsError() || len(r.Elems) != 2 {
				t.Fatalf("SLOTSMGRTTAGSLOT-ASYNC slot %d: %s", slot, r)
			}
			if r.Elems[1].Int == 0 {
				break
			}
		}
	}
	return calls
}

// wrapperWriter writes through SLOTSMGRT-EXEC-WRAPPER as the proxy does
// for a semi-async migrating slot: code 0 goes to the target, code 1 is
// retried, code 2 was executed on the source.
type wrapperWriter struct {
	src, dst *testConn
	values   map[string]string // key -> last value written
	pushes   int               // RPUSHes to {big}list
	retries  int
}

func (w *wrapperWriter) run(args ...string) error {
	for {
		r := w.src.do(append([]string{"SLOTSMGRT-EXEC-WRAPPER", args[1]}, args...)...)
		if r.IsError() || len(r.Elems) != 2 {
			return fmt.Errorf("wrapper %q: %s", args, r)
		}
		switch r.Elems[0].Int {
		case 0:
			if x := w.dst.do(args...); x.IsError() {
				return fmt.Errorf("%q on target: %s", args, x)
			}
			return nil
		case 1:
			w.retries++
			time.Sleep(time.Millisecond)
			continue
		case 2:
			if r.Elems[1].IsError() {
				return fmt.Errorf("%q on source: %s", args, r.Elems[1])
			}
			return nil
		default:
			return fmt.Errorf("wrapper %q: %s", args, r)
		}
	}
}

func TestMgrtAsyncSlotsUnderLoad(t *testing.T) {
	src, dst := startServer(t), startServer(t)
	srcRep, dstRep := startServer(t), startServer(t)
	for _, p := range [][2]*Server{{src, srcRep}, {dst, dstRep}} {
		h, port := hostPortOf(ourAddr(p[0]))
		dial(t, ourAddr(p[1])).expect("+OK", "REPLICAOF", h, port)
	}
	sc := dial(t, ourAddr(src))
	fillMigrationData(t, sc)
	want := dumpData(t, ourAddr(src))
	slots := occupiedSlots(t, sc)
	host, port := hostPortOf(ourAddr(dst))

	stop := make(chan struct{})
	var werr error
	w := &wrapperWriter{src: dial(t, ourAddr(src)), dst: dial(t, ourAddr(dst)), values: map[string]string{}}
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		for i := 0; ; i++ {
			select {
			case <-stop:
				return
			default:
			}
			k := "str:" + strconv.Itoa(i%60)
			v := "w" + strconv.Itoa(i)
			if werr = w.run("SET", k, v); werr != nil {
				return
			}
			w.values[k] = v
			if i%5 == 0 {
				if werr = w.run("RPUSH", "{big}list", "p"+strconv.Itoa(i)); werr != nil {
					return
				}
				w.pushes++
			}
		}
	}()
	calls := migrateSlotsAsync(t, sc, host, port, slots, "37", "3000", "5")
	close(stop)
	wg.Wait()
	if werr != nil {
		t.Fatal(werr)
	}
	t.Logf("%d slots in %d calls; writer: %d keys, %d pushes, %d retries", len(slots), calls, len(w.values), w.pushes, w.retries)
	if n := sc.do("DBSIZE").Int; n != 0 {
		t.Fatalf("%d keys left on the source", n)
	}
	sc.expect("+OK", "SLOTSCHECK")
	dc := dial(t, ourAddr(dst))
	dc.expect("+OK", "SLOTSCHECK")
	got := dumpData(t, ourAddr(dst))
	for k, v := range w.values {
		want["0/"+k] = keyState{typ: "string", value: strconv.Quote(v), pttl: -1} // SET cleared any TTL
	}
	if n := dc.do("LLEN", "{big}list").Int; n != int64(700+w.pushes) {
		t.Errorf("LLEN {big}list on target = %d, want %d", n, 700+w.pushes)
	}
	delete(want, "0/{big}list")
	delete(got, "0/{big}list")
	if len(got) != len(want) {
		t.Errorf("target has %d keys, want %d", len(got), len(want))
	}
	for k, x := range want {
		y, ok := got[k]
		switch {
		case !ok:
			t.Errorf("key %s missing on the target", k)
		case x.typ != y.typ || x.value != y.value:
			t.Errorf("key %s: target has %s %.200s, want %s %.200s", k, y.typ, y.value, x.typ, x.value)
		case (x.pttl < 0) != (y.pttl < 0) || absInt(x.pttl-y.pttl) > 5000:
			t.Errorf("key %s: target TTL %d, want about %d", k, y.pttl, x.pttl)
		}
	}
	// Replicas end with their master's data.
	waitCaughtUp(t, ourAddr(src), ourAddr(srcRep), 10*time.Second)
	waitCaughtUp(t, ourAddr(dst), ourAddr(dstRep), 10*time.Second)
	compareData(t, ourAddr(src), ourAddr(srcRep))
	compareData(t, ourAddr(dst), ourAddr(dstRep))
	if n := dial(t, ourAddr(srcRep)).do("DBSIZE").Int; n != 0 {
		t.Errorf("source replica holds %d keys", n)
	}
}

func TestMgrtAsyncAuthAndOne(t *testing.T) {
	src := startServer(t, "requirepass", "pw")
	dst := startServer(t, "requirepass", "pw")
	sc, dc := dial(t, ourAddr(src)), dial(t, ourAddr(dst))
	sc.expect("+OK", "AUTH", "pw")
	dc.expect("+OK", "AUTH", "pw")
	sc.expect("+OK", "SELECT", "3")
	sc.c3(t)
	host, port := hostPortOf(ourAddr(dst))
	sc.expect("3", "SLOTSMGRTTAGONE-ASYNC", host, port, "1000", "2", "0", "{a}x", "nokey")
	sc.expect("0", "SLOTSMGRTTAGONE-ASYNC", host, port, "1000", "2", "0", "nokey")
	sc.expect("1", "SLOTSMGRTONE-ASYNC", host, port, "1000", "2", "0", "b", "{a}x")
	sc.expect("0", "DBSIZE")
	dc.expect("+OK", "SELECT", "3")
	dc.expect("4", "DBSIZE")
	dc.expect(`["1" "2" "3" "4" "5"]`, "LRANGE", "{a}list", "0", "-1")
	dc.expect(`"vb"`, "GET", "b")
	if r := dc.do("PTTL", "b"); r.Int < 50000 || r.Int > 60000 {
		t.Errorf("PTTL b on target = %s", r)
	}
	// A source with another password: the target refuses the link, the
	// batch ends when the target closes it.
	bad := startServer(t, "requirepass", "other")
	bc := dial(t, ourAddr(bad))
	bc.expect("+OK", "AUTH", "other")
	bc.expect("+OK", "SET", "k", "v")
	bc.expect(`ERR:"ERR interrupted: connection closed"`, "SLOTSMGRTONE-ASYNC", host, port, "1000", "0", "0", "k")
	bc.expect(`"v"`, "GET", "k")
	// A source without a password: the target answers NOAUTH, which is no
	// ACK; the source ignores it (no endless exchange of errors) and the
	// batch times out.
	nopw := startServer(t)
	nc := dial(t, ourAddr(nopw))
	nc.expect("+OK", "SET", "k", "v")
	nc.expect(`ERR:"ERR interrupted: migration timeout"`, "SLOTSMGRTONE-ASYNC", host, port, "100", "0", "0", "k")
	nc.expect(`"v"`, "GET", "k")
	time.Sleep(50 * time.Millisecond)
	info := dc.do("INFO", "stats").Str
	if i := strings.Index(info, "total_commands_processed:"); i < 0 {
		t.Errorf("INFO stats: %q", info)
	} else if n, _ := strconv.Atoi(strings.Fields(info[i+len("total_commands_processed:"):])[0]); n > 100 {
		t.Errorf("target processed %d commands: errors bounced between the servers?", n)
	}
}

// c3 fills DB 3 for TestMgrtAsyncAuthAndOne.
func (c *testConn) c3(t *testing.T) {
	c.expect("+OK", "SET", "{a}x", "1")
	c.expect("5", "RPUSH", "{a}list", "1", "2", "3", "4", "5")
	c.expect("1", "SADD", "{a}set", "m")
	c.expect("+OK", "SET", "b", "vb", "PX", "60000")
}

func TestMgrtAsyncErrors(t *testing.T) {
	s := startServer(t)
	c := dial(t, ourAddr(s))
	e := func(msg string, args ...string) { c.expect(`ERR:"`+msg+`"`, args...) }
	e("ERR wrong number of arguments for 'slotsmgrtone-async' command", "SLOTSMGRTONE-ASYNC", "h", "1", "0", "0", "0")
	e("ERR wrong number of arguments for 'slotsmgrttagslot-async' command", "SLOTSMGRTTAGSLOT-ASYNC", "h", "1", "0", "0", "0", "1")
	e("ERR invalid value of port (0)", "SLOTSMGRTONE-ASYNC", "h", "0", "0", "0", "0", "k")
	e("ERR invalid value of port (65536)", "SLOTSMGRTONE-ASYNC", "h", "65536", "0", "0", "0", "k")
	e("ERR invalid value of port (x)", "SLOTSMGRTONE-ASYNC", "h", "x", "0", "0", "0", "k")
	e("ERR invalid value of timeout (-1)", "SLOTSMGRTONE-ASYNC", "h", "1", "-1", "0", "0", "k")
	e("ERR invalid value of timeout (2147483648)", "SLOTSMGRTONE-ASYNC", "h", "1", "2147483648", "0", "0", "k")
	e("ERR invalid value of maxbulks (-1)", "SLOTSMGRTONE-ASYNC", "h", "1", "0", "-1", "0", "k")
	e("ERR invalid value of maxbytes (y)", "SLOTSMGRTONE-ASYNC", "h", "1", "0", "0", "y", "k")
	e("ERR invalid value of slot (1024)", "SLOTSMGRTSLOT-ASYNC", "h", "1", "0", "0", "0", "1024", "0")
	e("ERR invalid value of slot (-1)", "SLOTSMGRTTAGSLOT-ASYNC", "h", "1", "0", "0", "0", "-1", "0")
	e("ERR invalid value of numkeys (-1)", "SLOTSMGRTTAGSLOT-ASYNC", "h", "1", "0", "0", "0", "1", "-1")
	port := strconv.Itoa(freePort(t))
	e("ERR create client to 127.0.0.1:"+port+" failed", "SLOTSMGRTONE-ASYNC", "127.0.0.1", port, "0", "0", "0", "k")
	e("ERR invalid value of timeout (x)", "SLOTSMGRTONE-ASYNC-DUMP", "x", "0", "k")
	e("ERR invalid value of maxbulks (-2)", "SLOTSMGRTTAGONE-ASYNC-DUMP", "0", "-2", "k")
	e("ERR wrong number of arguments for 'slotsmgrtone-async-dump' command", "SLOTSMGRTONE-ASYNC-DUMP", "0", "0")
	e("ERR wrong number of arguments for 'slotsmgrt-exec-wrapper' command", "SLOTSMGRT-EXEC-WRAPPER", "k")
	e("ERR wrong number of arguments for 'slotsrestore-async' command", "SLOTSRESTORE-ASYNC")
	c.expect("+OK", "SLOTSMGRT-ASYNC-FENCE")
	c.expect("0", "SLOTSMGRT-ASYNC-CANCEL")
	c.expect("(nil-array)", "SLOTSMGRT-ASYNC-STATUS")

	// EXEC-WRAPPER codes.
	c.expect(`[-1 ERR:"ERR invalid command specified (nosuch)"]`, "SLOTSMGRT-EXEC-WRAPPER", "k", "nosuch", "k")
	c.expect(`[-1 ERR:"ERR wrong number of arguments for command (GET)"]`, "SLOTSMGRT-EXEC-WRAPPER", "k", "GET", "k", "x")
	c.expect(`[0 ERR:"ERR the specified key doesn't exist"]`, "SLOTSMGRT-EXEC-WRAPPER", "k", "SET", "k", "1")
	c.expect("+OK", "SET", "k", "1", "PX", "1")
	time.Sleep(5 * time.Millisecond)
	c.expect(`[0 ERR:"ERR the specified key doesn't exist"]`, "SLOTSMGRT-EXEC-WRAPPER", "k", "GET", "k")
	c.expect("+OK", "SET", "k", "1")
	c.expect(`[2 2]`, "SLOTSMGRT-EXEC-WRAPPER", "k", "INCR", "k")
	c.expect(`[2 ERR:"WRONGTYPE Operation against a key holding the wrong kind of value"]`, "SLOTSMGRT-EXEC-WRAPPER", "k", "LPUSH", "k", "x")

	// Target side: every error ACK closes the connection.
	ack := func(want string, args ...string) {
		t.Helper()
		tc := dial(t, ourAddr(s))
		if got := tc.do(args...).String(); got != want {
			t.Errorf("%q: got %s, want %s", args, got, want)
		}
		if strings.Contains(want, `"-1"`) {
			_ = tc.conn.SetReadDeadline(time.Now().Add(2 * time.Second))
			if _, err := tc.rr.ReadReply(); err == nil {
				t.Errorf("%q: connection not closed after the error ACK", args)
			}
		}
	}
	a := func(code, msg string) string { return `["SLOTSRESTORE-ASYNC-ACK" "` + code + `" "` + msg + `"]` }
	ack(a("-1", "Client sent AUTH, but no password is set"), "SLOTSRESTORE-ASYNC-AUTH", "x")
	ack(a("-1", "invalid DB index (16)"), "SLOTSRESTORE-ASYNC-SELECT", "16")
	ack(a("-1", "invalid DB index (-1)"), "SLOTSRESTORE-ASYNC-SELECT", "-1")
	ack(a("0", "OK"), "SLOTSRESTORE-ASYNC-SELECT", "2")
	ack(a("0", "0"), "SLOTSRESTORE-ASYNC", "DELETE", "nokey")
	ack(a("-1", "wrong number of arguments (argc=4,cmd=delete)"), "SLOTSRESTORE-ASYNC", "delete", "a", "b")
	ack(a("-1", "wrong number of arguments (argc=3,cmd=bogus)"), "SLOTSRESTORE-ASYNC", "bogus", "a")
	ack(a("-1", "unknown command (argc=5,cmd=bogus)"), "SLOTSRESTORE-ASYNC", "bogus", "a", "b", "c")
	ack(a("-1", "invalid TTL value (TTL=-1)"), "SLOTSRESTORE-ASYNC", "string", "a", "-1", "v")
	ack(a("-1", "the specified key already exists (k)"), "SLOTSRESTORE-ASYNC", "string", "k", "0", "v")
	ack(a("-1", "the specified key doesn't exist (nokey)"), "SLOTSRESTORE-ASYNC", "expire", "nokey", "0")
	ack(a("-1", "invalid payload checksum"), "SLOTSRESTORE-ASYNC", "object", "o", "0", "garbage-payload")
	ack(a("-1", "invalid Hint value (Hint=x)"), "SLOTSRESTORE-ASYNC", "list", "l", "0", "x", "e")
	ack(a("-1", "the specified key doesn't exist (l)"), "SLOTSRESTORE-ASYNC", "list", "l", "0", "0")
	ack(a("-1", "wrong type (expect=1/9,got=0/1)"), "SLOTSRESTORE-ASYNC", "list", "k", "0", "1", "e")
	ack(a("-1", "wrong number of arguments (argc=6,cmd=hash)"), "SLOTSRESTORE-ASYNC", "hash", "h", "0", "1", "f")
	ack(a("-1", "invalid zset score ([1]), bad raw bits"), "SLOTSRESTORE-ASYNC", "zset", "z", "0", "2", "a", "12345678", "b", "1")
	ack(a("0", "2"), "SLOTSRESTORE-ASYNC", "list", "l", "0", "2", "e1", "e2")
	ack(a("0", "3"), "SLOTSRESTORE-ASYNC", "list", "l", "5000", "3", "e3")
	if r := c.do("PTTL", "l"); r.Int <= 0 || r.Int > 5000 {
		t.Errorf("PTTL after a chunk with ttl 5000: %s", r)
	}
	ack(a("0", "1"), "SLOTSRESTORE-ASYNC", "expire", "l", "0")
	c.expect("-1", "PTTL", "l")
	ack(a("0", "1"), "SLOTSRESTORE-ASYNC", "zset", "z", "0", "1", "a", string(scoreBits(1.5)))
	c.expect(`["a" "1.5"]`, "ZRANGE", "z", "0", "-1", "WITHSCORES")
	ack(a("0", "2"), "SLOTSRESTORE-ASYNC", "hash", "h", "0", "2", "f", "1", "g", "2")
	ack(a("0", "3"), "SLOTSRESTORE-ASYNC", "dict", "d", "0", "3", "a", "b", "c")
	ack(a("0", "1"), "SLOTSRESTORE-ASYNC", "string", "s2", "100000", "val")
	dump := c.do("DUMP", "d").Str
	ack(a("0", "1"), "SLOTSRESTORE-ASYNC", "object", "d2", "0", dump)
	c.expect("3", "SCARD", "d2")
	ack(a("0", "1"), "SLOTSRESTORE-ASYNC", "delete", "d2")

	// ACK from a normal client.
	tc := dial(t, ourAddr(s))
	tc.expect(`ERR:"ERR invalid client, permission denied"`, "SLOTSRESTORE-ASYNC-ACK", "0", "OK")
}

// fakeTarget accepts one link and lets the test read messages and ACK.
type fakeTarget struct {
	t    *testing.T
	ln   net.Listener
	conn net.Conn
	p    *resp.Parser
}

func newFakeTarget(t *testing.T) *fakeTarget {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { ln.Close() })
	return &fakeTarget{t: t, ln: ln}
}

func (f *fakeTarget) hostPort() (string, string) { return hostPortOf(f.ln.Addr().String()) }

// next reads one message, accepting the link first if needed.
func (f *fakeTarget) next() string {
	f.t.Helper()
	if f.conn == nil {
		c, err := f.ln.Accept()
		if err != nil {
			f.t.Fatal(err)
		}
		f.t.Cleanup(func() { c.Close() })
		f.conn, f.p = c, resp.NewParser(c)
	}
	_ = f.conn.SetReadDeadline(time.Now().Add(5 * time.Second))
	argv, err := f.p.ReadCommand()
	if err != nil {
		f.t.Fatalf("fake target: %v", err)
	}
	parts := make([]string, len(argv))
	for i, a := range argv {
		parts[i] = string(a)
		if len(a) == 8 && i >= 5 && string(argv[1]) == "zset" && i%2 == 0 {
			parts[i] = fmt.Sprintf("%x", a)
		}
	}
	return strings.Join(parts, " ")
}

// expectRead reads a reply (of a command sent earlier) and checks it.
func (c *testConn) expectRead(want string) {
	c.t.Helper()
	if got := c.read().String(); got != want {
		c.t.Errorf("got %s, want %s", got, want)
	}
}

func (f *fakeTarget) ack(n int) {
	f.t.Helper()
	var b []byte
	for range n {
		b = resp.AppendCommandStrings(b, "SLOTSRESTORE-ASYNC-ACK", "0", "1")
	}
	if _, err := f.conn.Write(b); err != nil {
		f.t.Fatal(err)
	}
}

func TestMgrtAsyncMessageStream(t *testing.T) {
	s := startServer(t)
	c := dial(t, ourAddr(s))
	c.expect("+OK", "SELECT", "2")
	c.expect("8", "RPUSH", "{t}l", "1", "2", "3", "4", "5", "6", "7", "a")
	c.expect("1", "PEXPIRE", "{t}l", "100000")
	c.expect("+OK", "SET", "{t}s", "12")
	c.expect("2", "ZADD", "{t}z", "1.5", "m", "+inf", "n")
	f := newFakeTarget(t)
	host, port := f.hostPort()

	// The DUMP helper shows the same stream without the preamble.
	d := c.do("SLOTSMGRTONE-ASYNC-DUMP", "1000", "3", "{t}l")
	if got := d.String(); got != `[["SLOTSRESTORE-ASYNC" "delete" "{t}l"] ["SLOTSRESTORE-ASYNC" "list" "{t}l" "3000" "8" "1" "2" "3"] `+
		`["SLOTSRESTORE-ASYNC" "list" "{t}l" "3000" "8" "4" "5" "6"] ["SLOTSRESTORE-ASYNC" "list" "{t}l" "3000" "8" "7" "a"] `+
		`["SLOTSRESTORE-ASYNC" "expire" "{t}l" "`+d.Elems[4].Elems[3].Str+`"]]` {
		t.Errorf("SLOTSMGRTONE-ASYNC-DUMP: %s", got)
	}
	if ttl, _ := strconv.Atoi(d.Elems[4].Elems[3].Str); ttl < 90000 || ttl > 100000 {
		t.Errorf("expire ttl %d", ttl)
	}
	if r := c.do("SLOTSMGRTTAGONE-ASYNC-DUMP", "0", "0", "{t}s"); len(r.Elems) != 6 {
		t.Errorf("SLOTSMGRTTAGONE-ASYNC-DUMP: %s", r)
	}

	// The migration call waits; pipelined commands are answered meanwhile.
	c.send("SLOTSMGRTTAGONE-ASYNC", host, port, "1000", "3", "0", "{t}l")
	c.send("PING")
	want := []string{
		"SLOTSRESTORE-ASYNC-SELECT 2",
		"SLOTSRESTORE-ASYNC delete {t}l",
		"SLOTSRESTORE-ASYNC list {t}l 3000 8 1 2 3",
		"SLOTSRESTORE-ASYNC list {t}l 3000 8 4 5 6",
		"SLOTSRESTORE-ASYNC list {t}l 3000 8 7 a",
	}
	// Each message is acknowledged as read, except the last one, so that
	// the test does not depend on how many are sent before the first ACK.
	for _, w := range want {
		if got := f.next(); got != w {
			t.Fatalf("message %q, want %q", got, w)
		}
		f.ack(1)
	}
	got := f.next()
	if ttl, err := strconv.Atoi(strings.TrimPrefix(got, "SLOTSRESTORE-ASYNC expire {t}l ")); err != nil || ttl < 90000 || ttl > 100000 {
		t.Fatalf("message %q, want expire with the remaining TTL", got)
	}
	f.ack(1)
	c.expectRead("+PONG") // the pipelined PING is answered first
	for _, w := range []string{"SLOTSRESTORE-ASYNC delete {t}s", "SLOTSRESTORE-ASYNC string {t}s 0 12",
		"SLOTSRESTORE-ASYNC delete {t}z"} {
		if got := f.next(); got != w {
			t.Fatalf("message %q, want %q", got, w)
		}
		f.ack(1)
	}
	if got := f.next(); !strings.HasPrefix(got, "SLOTSRESTORE-ASYNC object {t}z 0 ") {
		t.Fatalf("message %q, want object", got)
	}

	// While in flight: status, wrapper codes, fence, second call.
	o := dial(t, ourAddr(s))
	o.expect("+OK", "SELECT", "2")
	checkFor(t, 5*time.Second, func() error { // the ACKs are processed meanwhile
		st := o.do("SLOTSMGRT-ASYNC-STATUS")
		if len(st.Elems) != 18 || st.Elems[1].Str != host || st.Elems[13].Str != "1" || st.Elems[15].Str != "1" ||
			len(st.Elems[17].Elems) != 16 || st.Elems[17].Elems[11].Str != "3" {
			return fmt.Errorf("STATUS: %s", st)
		}
		return nil
	})
	o.expect(`[1 ERR:"ERR the specified key is being migrated"]`, "SLOTSMGRT-EXEC-WRAPPER", "{t}s", "SET", "{t}s", "x")
	o.expect(`[1 ERR:"ERR the specified key is being migrated"]`, "SLOTSMGRT-EXEC-WRAPPER", "{t}s", "DEL", "{t}other")
	o.expect(`[2 "12"]`, "SLOTSMGRT-EXEC-WRAPPER", "{t}s", "GET", "{t}s")
	o.expect(`ERR:"ERR the specified DB is being migrated"`, "SLOTSMGRTONE-ASYNC", host, port, "1000", "3", "0", "x")
	o.send("SLOTSMGRT-ASYNC-FENCE")
	o.send("PING")
	o.expectRead("+PONG")
	o.expect(`ERR:"ERR previous operation has not finished (call fence again)"`, "SLOTSMGRT-ASYNC-FENCE")
	f.ack(1)
	c.expectRead("3")
	o.expectRead("3")
	c.expect("0", "DBSIZE")
	c.expect("(nil)", "GET", "{t}s")
	// Idle link: STATUS without a batch; CANCEL closes it.
	st := o.do("SLOTSMGRT-ASYNC-STATUS")
	if len(st.Elems) != 18 || !st.Elems[17].Nil || st.Elems[5].Str != "1" {
		t.Errorf("STATUS idle: %s", st)
	}
	o.expect("1", "SLOTSMGRT-ASYNC-CANCEL")
	o.expect("0", "SLOTSMGRT-ASYNC-CANCEL")

	// Cancel and timeout abort a batch; nothing is deleted.
	c.expect("+OK", "SET", "k1", "v")
	f2 := newFakeTarget(t)
	host2, port2 := f2.hostPort()
	c.send("SLOTSMGRTONE-ASYNC", host2, port2, "1000", "0", "0", "k1")
	f2.next()
	f2.next()
	f2.next()
	o.send("SLOTSMGRT-ASYNC-FENCE")
	checkFor(t, 5*time.Second, func() error {
		st := dial(t, ourAddr(s))
		st.expect("+OK", "SELECT", "2")
		if r := st.do("SLOTSMGRT-ASYNC-STATUS"); len(r.Elems) != 18 || r.Elems[15].Str != "2" {
			return fmt.Errorf("STATUS %s", r)
		}
		return nil
	})
	// The waiting FENCE is answered before the CANCEL itself.
	o.send("SLOTSMGRT-ASYNC-CANCEL")
	o.expectRead(`ERR:"ERR interrupted: canceled"`)
	o.expectRead("1")
	c.expectRead(`ERR:"ERR interrupted: canceled"`)
	c.expect(`"v"`, "GET", "k1")
	f3 := newFakeTarget(t)
	host3, port3 := f3.hostPort()
	start := time.Now()
	c.send("SLOTSMGRTONE-ASYNC", host3, port3, "200", "0", "0", "k1")
	f3.next()
	c.expectRead(`ERR:"ERR interrupted: migration timeout"`)
	if d := time.Since(start); d < 200*time.Millisecond {
		t.Errorf("timeout after %v", d)
	}
	c.expect(`"v"`, "GET", "k1")
	// A closed link aborts at once.
	f4 := newFakeTarget(t)
	host4, port4 := f4.hostPort()
	c.send("SLOTSMGRTONE-ASYNC", host4, port4, "100000", "0", "0", "k1")
	f4.next()
	f4.conn.Close()
	c.expectRead(`ERR:"ERR interrupted: connection closed"`)
}

// TestMgrtAsyncDumpChunks checks the chunk messages of each type with the
// DUMP helper: sorted sets highest score first with raw little-endian
// scores, hints, the safety TTL, and the final expire.
func TestMgrtAsyncDumpChunks(t *testing.T) {
	s := startServer(t)
	c := dial(t, ourAddr(s))
	long := strings.Repeat("L", 70) // forces hashtable / skiplist encodings
	c.expect("3", "ZADD", "z", "1", "a", "2.5", "b", "+inf", long)
	c.expect("2", "HSET", "h", "f1", long, "f2", "x")
	c.expect("4", "SADD", "s", "a", "b", "c", long)
	c.expect("1", "PEXPIRE", "s", "50000")
	c.expect("5", "RPUSH", "l", "1", "2", "3", "4", "5")
	hex := func(f float64) string { return fmt.Sprintf("%q", scoreBits(f)) }
	r := c.do("SLOTSMGRTONE-ASYNC-DUMP", "1000", "3", "z", "h", "l", "nokey", "s")
	var got []string
	for _, m := range r.Elems {
		var parts []string
		for _, a := range m.Elems[1:] {
			if len(a.Str) == 8 && m.Elems[1].Str == "zset" {
				parts = append(parts, fmt.Sprintf("%q", a.Str))
			} else {
				parts = append(parts, a.Str)
			}
		}
		got = append(got, strings.Join(parts, " "))
	}
	want := []string{
		"delete z",
		"zset z 3000 3 " + long + " " + hex(math.Inf(1)),
		"zset z 3000 3 b " + hex(2.5),
		"zset z 3000 3 a " + hex(1),
		"expire z 0",
		"delete h",
		"", // hash chunks: field order is the hash table's
		"",
		"expire h 0",
		"delete l",
		"list l 3000 5 1 2 3",
		"list l 3000 5 4 5",
		"expire l 0",
		"delete s",
		"", // set members: any order
		"",
		"",
	}
	if len(got) != len(want) {
		t.Fatalf("messages:\n%s", strings.Join(got, "\n"))
	}
	for i, w := range want {
		if w != "" && got[i] != w {
			t.Errorf("message %d: %q, want %q", i, got[i], w)
		}
	}
	for _, i := range []int{6, 7} {
		if f := strings.Fields(got[i]); len(f) != 6 || f[0] != "hash" || f[3] != "2" {
			t.Errorf("hash chunk %q", got[i])
		}
	}
	for _, i := range []int{14, 15} {
		if f := strings.Fields(got[i]); len(f) != map[int]int{14: 7, 15: 5}[i] || f[0] != "dict" || f[2] != "3000" || f[3] != "4" {
			t.Errorf("set chunk %q", got[i])
		}
	}
	if f := strings.Fields(got[16]); len(f) != 3 || f[0] != "expire" {
		t.Errorf("set expire %q", got[16])
	} else if ttl, _ := strconv.Atoi(f[2]); ttl < 40000 || ttl > 50000 {
		t.Errorf("set expire %q", got[16])
	}
	// Small encodings and strings are never chunked.
	c.expect("+OK", "SET", "str", long)
	c.expect("2", "SADD", "ints", "1", "2")
	r = c.do("SLOTSMGRTONE-ASYNC-DUMP", "0", "1", "str", "ints")
	if len(r.Elems) != 4 || r.Elems[1].Elems[1].Str != "string" || r.Elems[3].Elems[1].Str != "object" {
		t.Errorf("SLOTSMGRTONE-ASYNC-DUMP str ints: %s", r)
	}
}

// TestMgrtAsyncDisconnectedCaller: a caller that goes away does not stop
// the batch.
func TestMgrtAsyncDisconnectedCaller(t *testing.T) {
	src, dst := startServer(t), startServer(t)
	sc := dial(t, ourAddr(src))
	var cmds [][]string
	for i := range 2000 {
		cmds = append(cmds, []string{"RPUSH", "{x}l", strconv.Itoa(i)})
	}
	sc.pipeline(cmds, false)
	host, port := hostPortOf(ourAddr(dst))
	var done atomic.Bool
	c2 := dial(t, ourAddr(src))
	c2.send("SLOTSMGRTTAGONE-ASYNC", host, port, "5000", "10", "100", "{x}l")
	c2.conn.Close()
	checkFor(t, 10*time.Second, func() error {
		if n := sc.do("EXISTS", "{x}l").Int; n != 0 {
			return fmt.Errorf("still on the source")
		}
		done.Store(true)
		return nil
	})
	dial(t, ourAddr(dst)).expect("2000", "LLEN", "{x}l")
}
