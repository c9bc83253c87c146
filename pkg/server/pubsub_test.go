package server

import (
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/codisgo/codis/pkg/resp"
)

// pubsubCases are multi-connection scenarios compared against
// redis-server. Each line is "<conn>: <command>" (send, read one reply),
// "<conn><" (read one more reply, e.g. a message or the second reply of a
// multi-channel SUBSCRIBE) or "sort <conn>: <command>" (compare the array
// reply sorted).
var pubsubCases = []struct {
	name  string
	lines []string
}{
	{"basic", []string{"A: SUBSCRIBE a b", "A<", "A: PING", "A: PING x", "A: GET k", "A: CONFIG GET maxmemory",
		"A: SET k v", "B: PUBLISH a hello", "A<", "B: PUBLISH zz x", "A: PSUBSCRIBE h* a", "A<", "B: PUBLISH hello m", "A<",
		"B: PUBLISH a twice", "A<", "A<", "sort B: PUBSUB CHANNELS", "B: PUBSUB CHANNELS h*", "B: PUBSUB NUMSUB a b c",
		"B: PUBSUB NUMSUB", "B: PUBSUB NUMPAT", "A: UNSUBSCRIBE a", "A: UNSUBSCRIBE", "A: PUNSUBSCRIBE h*", "A: PUNSUBSCRIBE",
		"A: GET k", "A: UNSUBSCRIBE", "A: PUNSUBSCRIBE", "A: UNSUBSCRIBE x y", "A<", "B: PUBSUB NUMPAT", "B: PUBSUB CHANNELS"}},
	{"shard", []string{"A: SSUBSCRIBE s1", "A: GET k", "B: SPUBLISH s1 x", "A<", "B: PUBLISH s1 y", "B: PUBSUB SHARDCHANNELS",
		"B: PUBSUB SHARDNUMSUB s1 s2", "A: SUBSCRIBE c", "A: SUNSUBSCRIBE", "A: GET k", "A: UNSUBSCRIBE", "A: SUNSUBSCRIBE",
		"A: GET k"}},
	{"reset-quit", []string{"A: SUBSCRIBE a", "A: PSUBSCRIBE p*", "A: RESET", "A: GET k", "B: PUBLISH a x", "B: PUBSUB NUMPAT",
		"A: SUBSCRIBE a", "A: QUIT", "B: PUBLISH a x"}},
	{"errors", []string{"A: SUBSCRIBE", "A: PSUBSCRIBE", "A: PUBLISH a", "A: PUBSUB", "A: PUBSUB FOO", "A: PUBSUB NUMPAT x",
		"A: PUBSUB CHANNELS a b", "A: PUBLISH a b c"}},
	{"multi", []string{"A: MULTI", "A: SUBSCRIBE a", "A: PING", "A: EXEC", "A: GET k", "B: PUBLISH a x", "A<", "A: PING"}},
	{"multi-self", []string{"A: MULTI", "A: SUBSCRIBE a", "A: PUBLISH a x", "A: PING", "A: EXEC", "A<", "A: PING"}},
	{"self-and-many", []string{"A: SUBSCRIBE x", "B: SUBSCRIBE x", "C: PSUBSCRIBE *", "E: PSUBSCRIBE x", "D: PUBLISH x m",
		"A<", "B<", "C<", "E<", "D: PUBSUB NUMSUB x", "D: PUBSUB SHARDCHANNELS a b"}},
}

func runPubsubDiff(t *testing.T, ours, theirs string, lines []string) {
	t.Helper()
	conns := map[string][2]*testConn{}
	get := func(name string) [2]*testConn {
		if c, ok := conns[name]; ok {
			return c
		}
		c := [2]*testConn{dial(t, ours), dial(t, theirs)}
		conns[name] = c
		return c
	}
	for i, line := range lines {
		sorted := strings.HasPrefix(line, "sort ")
		line = strings.TrimPrefix(line, "sort ")
		var ra, rb resp.Reply
		if name, ok := strings.CutSuffix(line, "<"); ok {
			c := get(name)
			ra, rb = c[0].read(), c[1].read()
		} else {
			name, cmd, ok := strings.Cut(line, ": ")
			if !ok {
				t.Fatalf("bad line %q", line)
			}
			argv, ok := resp.SplitArgs([]byte(cmd))
			if !ok {
				t.Fatalf("bad command %q", cmd)
			}
			args := make([]string, len(argv))
			for j, a := range argv {
				args[j] = string(a)
			}
			c := get(name)
			if args[0] == "QUIT" {
				c[0].expect("+OK", args...)
				c[1].expect("+OK", args...)
				delete(conns, name)
				continue
			}
			ra, rb = c[0].do(args...), c[1].do(args...)
		}
		ga, gb := ra.String(), rb.String()
		if sorted {
			ga, gb = sortedReply(ra), sortedReply(rb)
		}
		if ga != gb {
			t.Errorf("line %d %q:\n ours:  %s\n redis: %s", i, line, ga, gb)
		}
	}
}

func TestPubsubDiff(t *testing.T) {
	rp := startRedis(t)
	s := startServer(t)
	for _, tc := range pubsubCases {
		t.Run(tc.name, func(t *testing.T) {
			runPubsubDiff(t, s.Addr().String(), rp.addr, tc.lines)
		})
	}
}

// TestPubsubSlowSubscriber checks that a subscriber that does not read is
// disconnected at the hard output limit and never blocks publishers.
func TestPubsubSlowSubscriber(t *testing.T) {
	s := startServer(t)
	sub := dial(t, s.Addr().String())
	sub.expect(`["subscribe" "ch" 1]`, "SUBSCRIBE", "ch")
	pub := dial(t, s.Addr().String())
	msg := strings.Repeat("x", 1<<20)
	start := time.Now()
	var batch []byte
	for i := 0; i < 8; i++ {
		batch = resp.AppendCommandStrings(batch, "PUBLISH", "ch", msg)
	}
	for round := 0; ; round++ {
		if _, err := pub.conn.Write(batch); err != nil {
			t.Fatal(err)
		}
		got := 0
		for i := 0; i < 8; i++ {
			got += int(pub.read().Int)
		}
		if got == 0 {
			break // the subscriber is gone
		}
		if round > 20 { // 168 MiB published
			t.Fatal("slow subscriber never disconnected")
		}
	}
	if d := time.Since(start); d > 20*time.Second {
		t.Errorf("publishing took %v", d)
	}
	pub.expect("[]", "PUBSUB", "CHANNELS")
	pub.expect(`"x"`, "ECHO", "x")
}

// TestPubsubManyMessages checks ordering under load: every message arrives
// once and in order, interleaved correctly with the subscriber's replies.
func TestPubsubManyMessages(t *testing.T) {
	s := startServer(t)
	sub := dial(t, s.Addr().String())
	sub.expect(`["subscribe" "ch" 1]`, "SUBSCRIBE", "ch")
	const n = 5000
	done := make(chan error, 1)
	go func() {
		pc, err := dialOnce(s.Addr().String())
		if err != nil {
			done <- err
			return
		}
		defer pc.conn.Close()
		for i := 0; i < n; i++ {
			if r, err := rawDo(pc, "PUBLISH", "ch", fmt.Sprint(i)); err != nil || r.Int != 1 {
				done <- fmt.Errorf("PUBLISH %d: %v %v", i, r, err)
				return
			}
		}
		done <- nil
	}()
	pings, pongs := 0, 0
	for i := 0; i < n; {
		if i%500 == 0 && pings < i/500+1 {
			sub.send("PING")
			pings++
		}
		r := sub.read()
		if len(r.Elems) == 2 {
			if r.String() != `["pong" ""]` {
				t.Fatalf("ping reply %s", r)
			}
			pongs++
			continue
		}
		if want := fmt.Sprintf(`["message" "ch" "%d"]`, i); r.String() != want {
			t.Fatalf("got %s, want %s", r, want)
		}
		i++
	}
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	for ; pongs < pings; pongs++ {
		if r := sub.read(); r.String() != `["pong" ""]` {
			t.Fatalf("ping reply %s", r)
		}
	}
}

func TestPubsubClientType(t *testing.T) {
	s := startServer(t)
	a, b := dial(t, s.Addr().String()), dial(t, s.Addr().String())
	a.expect(`["psubscribe" "x*" 1]`, "PSUBSCRIBE", "x*")
	if r := b.do("CLIENT", "LIST", "TYPE", "pubsub"); strings.Count(r.Str, "\n") != 1 || !strings.Contains(r.Str, " psub=1 ") ||
		!strings.Contains(r.Str, " flags=P ") {
		t.Errorf("CLIENT LIST TYPE pubsub: %s", r)
	}
	b.expect("0", "CLIENT", "KILL", "TYPE", "normal", "SKIPME", "yes")
	b.expect("1", "CLIENT", "KILL", "TYPE", "pubsub")
	checkFor(t, 5*time.Second, func() error {
		if r := b.do("PUBSUB", "NUMPAT"); r.Int != 0 {
			return fmt.Errorf("NUMPAT %d", r.Int)
		}
		return nil
	})
	b.expect("0", "PUBLISH", "xy", "m")
	if r := b.do("INFO", "stats"); !strings.Contains(r.Str, "pubsub_channels:0\r\npubsub_patterns:0\r\n") {
		t.Errorf("INFO stats: %q", r.Str)
	}
}

// TestPubsubIdleTimeoutExempt: with timeout set, idle normal clients are
// closed but subscribers are not.
func TestPubsubIdleTimeoutExempt(t *testing.T) {
	s := startServer(t, "timeout", "1")
	sub := dial(t, s.Addr().String())
	sub.expect(`["subscribe" "ch" 1]`, "SUBSCRIBE", "ch")
	idle := dial(t, s.Addr().String())
	idle.expect("+PONG", "PING")
	_ = idle.conn.SetReadDeadline(time.Now().Add(10 * time.Second))
	if _, err := idle.rr.ReadReply(); err == nil {
		t.Fatal("idle client got a reply instead of being closed")
	}
	pub := dial(t, s.Addr().String())
	pub.expect("1", "PUBLISH", "ch", "still here")
	if r := sub.read(); r.String() != `["message" "ch" "still here"]` {
		t.Errorf("subscriber got %s", r)
	}
}
