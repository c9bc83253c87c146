package server

import (
	"bufio"
	"fmt"
	"io"
	"math/rand/v2"
	"net"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/codisgo/codis/pkg/resp"
)

// startReplicaOf starts one of our servers as a replica of addr.
func startReplicaOf(t testing.TB, addr string, opts ...string) *Server {
	t.Helper()
	h, p := hostPortOf(addr)
	s := startServer(t, opts...)
	c := dial(t, ourAddr(s))
	c.expect("+OK", "REPLICAOF", h, p)
	c.conn.Close()
	return s
}

// TestReplOursFromRedis: our replica of Debian's redis-server 7.0 master
// (diskless $EOF: transfer), then a partial resync after CLIENT KILL TYPE
// master.
func TestReplOursFromRedis(t *testing.T) {
	m := startRedisArgs(t)
	mc := dial(t, m.addr)
	rng := rand.New(rand.NewPCG(1, 2))
	mixedLoad(t, mc, rng, 2000, "pre")

	h, p := hostPortOf(m.addr)
	s := startServer(t)
	sc := dial(t, ourAddr(s))
	sc.expect("+OK", "REPLICAOF", h, p)
	// Writes during the sync.
	mixedLoad(t, mc, rng, 1000, "during")
	waitLinkUp(t, ourAddr(s), 20*time.Second)
	mixedLoad(t, mc, rng, 2000, "after")
	waitCaughtUp(t, m.addr, ourAddr(s), 20*time.Second)
	if n := compareData(t, m.addr, ourAddr(s)); n < 100 {
		t.Fatalf("only %d keys compared", n)
	}
	// Replica is read-only and answers ROLE/INFO like Redis.
	if r := sc.do("SET", "x", "1"); !strings.HasPrefix(r.Str, "READONLY") {
		t.Errorf("write on replica: %s", r)
	}
	if r := sc.do("ROLE"); len(r.Elems) != 5 || r.Elems[0].Str != "slave" || r.Elems[3].Str != "connected" {
		t.Errorf("ROLE = %s", r)
	}
	if id := infoField(t, ourAddr(s), "master_replid"); id != infoField(t, m.addr, "master_replid") {
		t.Errorf("replid %s, master's %s", id, infoField(t, m.addr, "master_replid"))
	}

	// Break the link: a partial resync follows.
	okBefore := infoInt(t, m.addr, "sync_partial_ok")
	if r := sc.do("CLIENT", "KILL", "TYPE", "master"); r.Int != 1 {
		t.Fatalf("CLIENT KILL TYPE master = %s", r)
	}
	mixedLoad(t, mc, rng, 1000, "broken")
	checkFor(t, 20*time.Second, func() error {
		if n := infoInt(t, m.addr, "sync_partial_ok"); n <= okBefore {
			return fmt.Errorf("sync_partial_ok %d", n)
		}
		return nil
	})
	mixedLoad(t, mc, rng, 500, "resumed")
	waitCaughtUp(t, m.addr, ourAddr(s), 20*time.Second)
	compareData(t, m.addr, ourAddr(s))
	if n := infoInt(t, m.addr, "sync_full"); n != 1 {
		t.Errorf("sync_full = %d, want 1", n)
	}
}

// TestReplRedisFromOurs: Debian's redis-server 7.0 as the replica of our
// master, diskless and disk-based, then partial resync.
func TestReplRedisFromOurs(t *testing.T) {
	for _, diskless := range []string{"yes", "no"} {
		t.Run("diskless="+diskless, func(t *testing.T) {
			s := startServer(t, "repl-diskless-sync", diskless)
			mc := dial(t, ourAddr(s))
			rng := rand.New(rand.NewPCG(3, 4))
			mixedLoad(t, mc, rng, 2000, "pre")
			h, p := hostPortOf(ourAddr(s))
			r := startRedisArgs(t, "--replicaof", h, p)
			mixedLoad(t, mc, rng, 1000, "during")
			waitLinkUp(t, r.addr, 20*time.Second)
			mixedLoad(t, mc, rng, 2000, "after")
			waitCaughtUp(t, ourAddr(s), r.addr, 20*time.Second)
			if n := compareData(t, ourAddr(s), r.addr); n < 100 {
				t.Fatalf("only %d keys compared", n)
			}
			mc.expect("+OK", "SET", "w", "1")
			mc.expect("1", "WAIT", "1", "5000") // redis-server answers REPLCONF GETACK
			if n := infoInt(t, ourAddr(s), "connected_slaves"); n != 1 {
				t.Errorf("connected_slaves = %d", n)
			}
			if v := infoField(t, ourAddr(s), "slave0"); !strings.Contains(v, "state=online") {
				t.Errorf("slave0 = %q", v)
			}
			okBefore := infoInt(t, ourAddr(s), "sync_partial_ok")
			if k := mc.do("CLIENT", "KILL", "TYPE", "replica"); k.Int != 1 {
				t.Fatalf("CLIENT KILL TYPE replica = %s", k)
			}
			mixedLoad(t, mc, rng, 1000, "broken")
			checkFor(t, 20*time.Second, func() error {
				if n := infoInt(t, ourAddr(s), "sync_partial_ok"); n <= okBefore {
					return fmt.Errorf("sync_partial_ok %d", n)
				}
				return nil
			})
			waitCaughtUp(t, ourAddr(s), r.addr, 20*time.Second)
			compareData(t, ourAddr(s), r.addr)
		})
	}
}

// TestReplChained: ours → ours → ours; the middle replica proxies the
// stream with the same replid and offsets.
func TestReplChained(t *testing.T) {
	a := startServer(t)
	ac := dial(t, ourAddr(a))
	rng := rand.New(rand.NewPCG(5, 6))
	mixedLoad(t, ac, rng, 1500, "pre")
	b := startReplicaOf(t, ourAddr(a))
	c := startReplicaOf(t, ourAddr(b))
	mixedLoad(t, ac, rng, 1500, "during")
	waitLinkUp(t, ourAddr(b), 20*time.Second)
	waitLinkUp(t, ourAddr(c), 20*time.Second)
	mixedLoad(t, ac, rng, 1500, "after")
	waitCaughtUp(t, ourAddr(a), ourAddr(b), 20*time.Second)
	waitCaughtUp(t, ourAddr(a), ourAddr(c), 20*time.Second)
	compareData(t, ourAddr(a), ourAddr(b))
	compareData(t, ourAddr(a), ourAddr(c))
	// WAIT counts the direct replicas that acknowledged every write.
	ac.expect("+OK", "SET", "w", "1")
	ac.expect("1", "WAIT", "1", "5000")
	start := time.Now()
	ac.expect("1", "WAIT", "2", "200")
	if d := time.Since(start); d < 150*time.Millisecond {
		t.Errorf("WAIT 2 200 returned after %v", d)
	}
	id := infoField(t, ourAddr(a), "master_replid")
	for _, s := range []*Server{b, c} {
		if got := infoField(t, ourAddr(s), "master_replid"); got != id {
			t.Errorf("replid %s, want %s", got, id)
		}
	}
}

// TestReplBacklogTooSmall: after a break longer than the backlog, the
// replica gets a full resync and still ends identical.
func TestReplBacklogTooSmall(t *testing.T) {
	a := startServer(t, "repl-backlog-size", "16384")
	ac := dial(t, ourAddr(a))
	rng := rand.New(rand.NewPCG(7, 8))
	mixedLoad(t, ac, rng, 500, "pre")
	b := startReplicaOf(t, ourAddr(a))
	waitLinkUp(t, ourAddr(b), 20*time.Second)
	waitCaughtUp(t, ourAddr(a), ourAddr(b), 20*time.Second)
	full := infoInt(t, ourAddr(a), "sync_full")
	bc := dial(t, ourAddr(b))
	// Pause the replica's link long enough to write far past the backlog.
	bc.expect("+OK", "REPLICAOF", "NO", "ONE")
	mixedLoad(t, ac, rng, 3000, "gap")
	big := strings.Repeat("x", 4096)
	for i := 0; i < 20; i++ {
		ac.expect("+OK", "SET", fmt.Sprintf("big:%d", i), big)
	}
	h, p := hostPortOf(ourAddr(a))
	bc.expect("+OK", "REPLICAOF", h, p)
	checkFor(t, 20*time.Second, func() error {
		if n := infoInt(t, ourAddr(a), "sync_full"); n <= full {
			return fmt.Errorf("sync_full %d", n)
		}
		return nil
	})
	waitCaughtUp(t, ourAddr(a), ourAddr(b), 20*time.Second)
	compareData(t, ourAddr(a), ourAddr(b))
}

// TestReplPromotion: under load, one replica is promoted with REPLICAOF NO
// ONE; the other, re-pointed to it, continues with a partial resync.
func TestReplPromotion(t *testing.T) {
	a := startServer(t)
	ac := dial(t, ourAddr(a))
	rng := rand.New(rand.NewPCG(9, 10))
	mixedLoad(t, ac, rng, 1000, "pre")
	b := startReplicaOf(t, ourAddr(a))
	c := startReplicaOf(t, ourAddr(a))
	waitLinkUp(t, ourAddr(b), 20*time.Second)
	waitLinkUp(t, ourAddr(c), 20*time.Second)

	// The master keeps writing while B and C replicate, then "fails".
	stopA := writeLoad(ourAddr(a), "loadA")
	time.Sleep(200 * time.Millisecond)
	stopA()
	waitCaughtUp(t, ourAddr(a), ourAddr(b), 20*time.Second)
	waitCaughtUp(t, ourAddr(a), ourAddr(c), 20*time.Second)

	bc := dial(t, ourAddr(b))
	oldID := infoField(t, ourAddr(b), "master_replid")
	bc.expect("+OK", "REPLICAOF", "NO", "ONE")
	if got := infoField(t, ourAddr(b), "master_replid2"); got != oldID {
		t.Errorf("master_replid2 = %s, want %s", got, oldID)
	}
	bc.expect("+OK", "SET", "after-promotion", "1")
	// The promoted replica takes writes while C is re-pointed to it.
	stopB := writeLoad(ourAddr(b), "loadB")
	cc := dial(t, ourAddr(c))
	h, p := hostPortOf(ourAddr(b))
	cc.expect("+OK", "REPLICAOF", h, p)
	checkFor(t, 20*time.Second, func() error {
		if n := infoInt(t, ourAddr(b), "sync_partial_ok"); n != 1 {
			return fmt.Errorf("sync_partial_ok on the promoted replica %d", n)
		}
		return nil
	})
	if n := infoInt(t, ourAddr(b), "sync_full"); n != 0 {
		t.Errorf("sync_full on the promoted replica = %d", n)
	}
	time.Sleep(100 * time.Millisecond)
	stopB()
	mixedLoad(t, bc, rng, 500, "promoted")
	waitCaughtUp(t, ourAddr(b), ourAddr(c), 20*time.Second)
	compareData(t, ourAddr(b), ourAddr(c))
	cc.expect(`"1"`, "GET", "after-promotion")
}

// TestReplSlots: SLOTSINFO on a replica equals the master's, and after
// SLOTSMGRTTAGSLOT moves a slot away the master's replica has none of its
// keys; the target's replica receives them.
func TestReplSlots(t *testing.T) {
	a := startServer(t)
	ac := dial(t, ourAddr(a))
	for i := 0; i < 300; i++ {
		ac.expect("+OK", "SET", fmt.Sprintf("{tag%d}:k", i%7), "v")
		ac.expect("+OK", "SET", fmt.Sprintf("key%d", i), "v", "EX", "500")
	}
	ra := startReplicaOf(t, ourAddr(a))
	waitLinkUp(t, ourAddr(ra), 20*time.Second)
	waitCaughtUp(t, ourAddr(a), ourAddr(ra), 20*time.Second)
	rac := dial(t, ourAddr(ra))
	if x, y := ac.do("SLOTSINFO").String(), rac.do("SLOTSINFO").String(); x != y {
		t.Fatalf("SLOTSINFO differs:\nmaster  %s\nreplica %s", x, y)
	}

	b := startServer(t)
	rb := startReplicaOf(t, ourAddr(b))
	waitLinkUp(t, ourAddr(rb), 20*time.Second)
	slot := ac.do("SLOTSHASHKEY", "{tag3}:k").Elems[0].Int
	slot2 := ac.do("SLOTSHASHKEY", "key7").Elems[0].Int
	h, p := hostPortOf(ourAddr(b))
	for _, sl := range []int64{slot, slot2} {
		for {
			r := ac.do("SLOTSMGRTTAGSLOT", h, p, "3000", fmt.Sprint(sl))
			if r.IsError() {
				t.Fatalf("SLOTSMGRTTAGSLOT: %s", r)
			}
			if r.Elems[1].Int == 0 {
				break
			}
		}
	}
	waitCaughtUp(t, ourAddr(a), ourAddr(ra), 20*time.Second)
	waitCaughtUp(t, ourAddr(b), ourAddr(rb), 20*time.Second)
	for _, sl := range []int64{slot, slot2} {
		if r := rac.do("SLOTSSCAN", fmt.Sprint(sl), "0", "COUNT", "100"); len(r.Elems[1].Elems) != 0 {
			t.Errorf("replica of the source still has keys of slot %d: %s", sl, r)
		}
	}
	if x, y := ac.do("SLOTSINFO").String(), rac.do("SLOTSINFO").String(); x != y {
		t.Errorf("SLOTSINFO differs after migration:\nmaster  %s\nreplica %s", x, y)
	}
	compareData(t, ourAddr(a), ourAddr(ra))
	compareData(t, ourAddr(b), ourAddr(rb))
	if n := infoInt(t, ourAddr(rb), "db0"); n != 0 {
		_ = n
	}
	rbc := dial(t, ourAddr(rb))
	if r := rbc.do("PTTL", "key7"); r.Int <= 0 {
		t.Errorf("migrated key7 on the target's replica: PTTL %s", r)
	}
}

// TestReplPropagationForms checks the stream itself: relative and random
// commands arrive as their effects.
func TestReplPropagationForms(t *testing.T) {
	s := startServer(t)
	c := dial(t, ourAddr(s))
	c.expect("+OK", "SET", "seed", "1")
	conn, err := net.DialTimeout("tcp", ourAddr(s), 5*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	_ = conn.SetDeadline(time.Now().Add(20 * time.Second))
	br := bufio.NewReader(conn)
	line := func() string {
		for {
			l, err := br.ReadString('\n')
			if err != nil {
				t.Fatal(err)
			}
			if l = strings.TrimRight(l, "\r\n"); l != "" {
				return l
			}
		}
	}
	_, _ = conn.Write(resp.AppendCommandStrings(nil, "REPLCONF", "capa", "psync2"))
	if l := line(); l != "+OK" {
		t.Fatalf("REPLCONF: %s", l)
	}
	_, _ = conn.Write(resp.AppendCommandStrings(nil, "PSYNC", "?", "-1"))
	if l := line(); !strings.HasPrefix(l, "+FULLRESYNC ") {
		t.Fatalf("PSYNC reply %s", l)
	}
	// Disk-based transfer ($<len>) since we did not send capa eof.
	var n int64
	if l := line(); len(l) < 2 || l[0] != '$' {
		t.Fatalf("bulk header %q", l)
	} else if n, err = strconv.ParseInt(l[1:], 10, 64); err != nil {
		t.Fatal(err)
	}
	if _, err := io.CopyN(io.Discard, br, n); err != nil {
		t.Fatal(err)
	}
	rc := &testConn{t: t, conn: conn, rr: resp.NewReplyReader(br)}
	c.expect("+OK", "SET", "a", "1", "EX", "100")
	c.expect("+OK", "SETEX", "b", "100", "x")
	c.expect(`"2.5"`, "INCRBYFLOAT", "f", "2.5")
	c.expect("3", "SADD", "st", "x", "y", "z")
	c.do("SPOP", "st")
	c.expect("1", "EXPIRE", "f", "100")
	c.expect("1", "RPUSH", "l", "e")
	c.expect(`["l" "e"]`, "BLPOP", "l", "0")
	c.expect("+OK", "MULTI")
	c.expect("+QUEUED", "INCR", "n")
	c.expect("+QUEUED", "INCR", "n")
	c.expect("[1 2]", "EXEC")
	c.expect("(nil)", "GET", "nothing") // reads propagate nothing
	want := []string{
		`["SELECT" "0"]`,
		`["SET" "a" "1" "PXAT" `, `["SET" "b" "x" "PXAT" `, `["SET" "f" "2.5" "KEEPTTL"]`,
		`["SADD" "st" "x" "y" "z"]`, `["SREM" "st" `, `["PEXPIREAT" "f" `, `["RPUSH" "l" "e"]`,
		`["LPOP" "l"]`, `["MULTI"]`, `["INCR" "n"]`, `["INCR" "n"]`, `["EXEC"]`,
	}
	for _, w := range want {
		got := rc.read().String()
		if !strings.HasPrefix(got, w) {
			t.Fatalf("stream: got %s, want prefix %s", got, w)
		}
	}
}

// TestReplAuthAndStale: masterauth against a requirepass master; with
// replica-serve-stale-data no a replica whose link is down answers
// MASTERDOWN.
func TestReplAuthAndStale(t *testing.T) {
	m := startServer(t, "requirepass", "secret")
	mc := dial(t, ourAddr(m))
	mc.expect("+OK", "AUTH", "secret")
	mc.expect("+OK", "SET", "k", "v")
	r := startServer(t, "masterauth", "wrong", "replica-serve-stale-data", "no")
	rc := dial(t, ourAddr(r))
	h, p := hostPortOf(ourAddr(m))
	rc.expect("+OK", "REPLICAOF", h, p)
	time.Sleep(200 * time.Millisecond)
	if st := infoField(t, ourAddr(r), "master_link_status"); st != "down" {
		t.Fatalf("link with a wrong masterauth: %s", st)
	}
	if g := rc.do("GET", "k"); !strings.HasPrefix(g.Str, "MASTERDOWN") {
		t.Errorf("GET on a stale replica: %s", g)
	}
	rc.expect("+OK", "CONFIG", "SET", "masterauth", "secret")
	waitLinkUp(t, ourAddr(r), 10*time.Second)
	rc.expect(`"v"`, "GET", "k")
	if v := infoField(t, ourAddr(r), "master_link_down_since_seconds"); v != "" {
		t.Errorf("master_link_down_since_seconds while up: %q", v)
	}
}

// TestReplSentinelSeesReplica: redis-sentinel discovers our replica from
// our master's INFO replication and reads the replica's own INFO.
func TestReplSentinelSeesReplica(t *testing.T) {
	m := startServer(t)
	r := startReplicaOf(t, ourAddr(m))
	waitLinkUp(t, ourAddr(r), 10*time.Second)
	h, p := hostPortOf(ourAddr(m))
	saddr := startSentinel(t, fmt.Sprintf("sentinel monitor m1 %s %s 1\nsentinel down-after-milliseconds m1 2000\n", h, p))
	sc := dial(t, saddr)
	_, rport := hostPortOf(ourAddr(r))
	checkFor(t, 20*time.Second, func() error {
		reps := sc.do("SENTINEL", "REPLICAS", "m1")
		for _, rep := range reps.Elems {
			f := map[string]string{}
			for i := 0; i+1 < len(rep.Elems); i += 2 {
				f[rep.Elems[i].Str] = rep.Elems[i+1].Str
			}
			if f["port"] == rport && f["flags"] == "slave" && f["master-link-status"] == "ok" &&
				f["master-port"] == p && f["slave-repl-offset"] != "" {
				return nil
			}
		}
		return fmt.Errorf("sentinel replicas: %s", reps)
	})
}

// writeLoad sends SETs to addr from a goroutine until the returned
// function is called (which waits for the goroutine).
func writeLoad(addr, prefix string) (stop func()) {
	quit := make(chan struct{})
	done := make(chan struct{})
	go func() {
		defer close(done)
		c, err := dialOnce(addr)
		if err != nil {
			return
		}
		defer c.conn.Close()
		for i := 0; ; i++ {
			select {
			case <-quit:
				return
			default:
			}
			k := fmt.Sprintf("%s:%d", prefix, i%500)
			cmds := resp.AppendCommandStrings(nil, "SET", k, strconv.Itoa(i))
			cmds = resp.AppendCommandStrings(cmds, "SELECT", strconv.Itoa(i%2))
			if _, err := c.conn.Write(cmds); err != nil {
				return
			}
			for j := 0; j < 2; j++ {
				if _, err := c.rr.ReadReply(); err != nil {
					return
				}
			}
		}
	}()
	return func() {
		close(quit)
		<-done
	}
}

// FLUSHALL on a master with save rules saves, which resets the change
// counter: the replica must see the FLUSHALL all the same.
func TestReplFlushallWithSaveRules(t *testing.T) {
	m := startPersistServer(t, t.TempDir(), "save", "3600 1")
	mc := dial(t, persistAddr(m))
	r := startReplicaOf(t, persistAddr(m))
	for i := 0; i < 10; i++ {
		mc.expect("+OK", "SET", "k"+strconv.Itoa(i), "v")
	}
	waitLinkUp(t, ourAddr(r), 20*time.Second)
	waitCaughtUp(t, persistAddr(m), ourAddr(r), 20*time.Second)
	rc := dial(t, ourAddr(r))
	rc.expect("10", "DBSIZE")
	mc.expect("+OK", "FLUSHALL")
	if v := persistInfo(t, mc, "rdb_changes_since_last_save"); v != "0" {
		t.Errorf("rdb_changes_since_last_save:%s after FLUSHALL, redis-server says 0", v)
	}
	waitCaughtUp(t, persistAddr(m), ourAddr(r), 20*time.Second)
	rc.expect("0", "DBSIZE")
}
