package server

import (
	"bytes"
	"fmt"
	"math/rand/v2"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/codisgo/codis/pkg/resp"
)

// checkList verifies l against the reference slice and its invariants.
func checkList(t *testing.T, l *listObj, ref [][]byte) {
	t.Helper()
	if l.count != len(ref) {
		t.Fatalf("count %d, want %d", l.count, len(ref))
	}
	var got [][]byte
	l.Each(func(v []byte) bool { got = append(got, slices.Clone(v)); return true })
	if len(got) != len(ref) {
		t.Fatalf("Each yields %d elements, want %d", len(got), len(ref))
	}
	for i := range ref {
		if !bytes.Equal(got[i], ref[i]) {
			t.Fatalf("element %d = %q, want %q", i, got[i], ref[i])
		}
	}
	var bufs int64
	n := 0
	for i, nd := range l.nodes {
		if nd.n == 0 {
			t.Fatalf("node %d is empty", i)
		}
		if nd.n > 1 && (nd.size() > l.maxBytes || nd.n > l.maxCount) {
			t.Fatalf("node %d holds %d bytes in %d entries", i, nd.size(), nd.n)
		}
		bufs += int64(cap(nd.buf))
		n += nd.n
	}
	if n != l.count || bufs != l.bufs {
		t.Fatalf("node counts %d/%d, bufs %d/%d", n, l.count, bufs, l.bufs)
	}
	// Backward iteration and random access agree with the reference.
	if len(ref) > 0 {
		i := len(ref) - 1
		l.iterate(len(ref)-1, false, func(idx int, v []byte) bool {
			if idx != i || !bytes.Equal(v, ref[i]) {
				t.Fatalf("backward element %d (%d) = %q, want %q", idx, i, v, ref[i])
			}
			i--
			return true
		})
		if i != -1 {
			t.Fatalf("backward iteration stopped at %d", i)
		}
		for _, j := range []int{0, len(ref) / 3, len(ref) / 2, len(ref) - 1} {
			if v := l.index(j); !bytes.Equal(v, ref[j]) {
				t.Fatalf("index(%d) = %q, want %q", j, v, ref[j])
			}
		}
	}
}

func randValue(r *rand.Rand) []byte {
	switch r.IntN(10) {
	case 0:
		return bytes.Repeat([]byte{'B'}, 100+r.IntN(9000)) // may exceed a node
	case 1:
		return nil
	default:
		return []byte(fmt.Sprintf("v%d", r.IntN(20)))
	}
}

// TestListStructure drives listObj with random operations against a slice.
func TestListStructure(t *testing.T) {
	seed := uint64(time.Now().UnixNano())
	t.Logf("seed %d", seed)
	r := rand.New(rand.NewPCG(seed, 1))
	l := newListObj()
	var ref [][]byte
	for step := 0; step < 20000; step++ {
		ref = listModelStep(t, r, l, ref, "")
		if step%97 == 0 {
			checkList(t, l, ref)
		}
	}
	checkList(t, l, ref)
	cp := l.Copy().(*listObj)
	checkList(t, cp, ref)
	if l.MemSize() <= 0 {
		t.Fatal("MemSize must be positive")
	}
}

// listModelStep applies one random operation to l and to its model ref
// (a slice) and returns the new model; prefix starts failure messages.
func listModelStep(t *testing.T, r *rand.Rand, l *listObj, ref [][]byte, prefix string) [][]byte {
	t.Helper()
	switch op := r.IntN(12); {
	case op < 3:
		v := randValue(r)
		l.pushBack(v)
		ref = append(ref, v)
	case op < 5:
		v := randValue(r)
		l.pushFront(v)
		ref = slices.Insert(ref, 0, v)
	case op == 5 && len(ref) > 0:
		if v := l.popFront(); !bytes.Equal(v, ref[0]) {
			t.Fatalf("%spopFront %q, want %q", prefix, v, ref[0])
		}
		ref = ref[1:]
	case op == 6 && len(ref) > 0:
		if v := l.popBack(); !bytes.Equal(v, ref[len(ref)-1]) {
			t.Fatalf("%spopBack %q, want %q", prefix, v, ref[len(ref)-1])
		}
		ref = ref[:len(ref)-1]
	case op == 7 && len(ref) > 0:
		i, v := r.IntN(len(ref)), randValue(r)
		l.set(i, v)
		ref[i] = v
	case op == 8:
		pivot, v, after := randValue(r), randValue(r), r.IntN(2) == 0
		i := slices.IndexFunc(ref, func(x []byte) bool { return bytes.Equal(x, pivot) })
		if found := l.insert(pivot, v, after); found != (i >= 0) {
			t.Fatalf("%sinsert found=%v, want %v", prefix, found, i >= 0)
		}
		if i >= 0 {
			if after {
				i++
			}
			ref = slices.Insert(ref, i, v)
		}
	case op == 9:
		v := randValue(r)
		count := int64(r.IntN(7) - 3)
		l.remove(v, count)
		ref = refRemove(ref, v, count)
	case op == 10 && len(ref) > 0 && r.IntN(20) == 0:
		s := r.IntN(len(ref))
		e := s + r.IntN(len(ref)-s)
		l.trim(s, e)
		ref = slices.Clone(ref[s : e+1])
	}
	return ref
}

func refRemove(ref [][]byte, v []byte, count int64) [][]byte {
	limit := count
	if limit < 0 {
		limit = -limit
	}
	removed := int64(0)
	if count >= 0 {
		out := ref[:0:0]
		for _, x := range ref {
			if bytes.Equal(x, v) && (limit == 0 || removed < limit) {
				removed++
				continue
			}
			out = append(out, x)
		}
		return out
	}
	out := slices.Clone(ref)
	for i := len(out) - 1; i >= 0 && removed < limit; i-- {
		if bytes.Equal(out[i], v) {
			out = slices.Delete(out, i, i+1)
			removed++
		}
	}
	return out
}

func TestListEntryEncoding(t *testing.T) {
	for _, n := range []int{0, 1, 127, 128, 16383, 16384, 70000} {
		v := bytes.Repeat([]byte{'x'}, n)
		b := appendEntry([]byte("pre"), v)
		if len(b) != 3+listEntrySize(n) {
			t.Fatalf("len %d: size %d", n, len(b)-3)
		}
		got, next := readEntryFwd(b, 3)
		if !bytes.Equal(got, v) || next != len(b) {
			t.Fatalf("len %d: forward decode", n)
		}
		got, start := readEntryBwd(b, len(b))
		if !bytes.Equal(got, v) || start != 3 {
			t.Fatalf("len %d: backward decode", n)
		}
	}
}

// TestListMemory checks that small lists stay compact.
func TestListMemory(t *testing.T) {
	l := newListObj()
	for i := 0; i < 100000; i++ {
		l.pushBack([]byte(fmt.Sprintf("%d", i)))
	}
	// ~6.9 bytes of entries per element; allow for node slack.
	if per := float64(l.MemSize()) / 100000; per > 10 {
		t.Fatalf("%.1f bytes per small element", per)
	}
	for l.count > 10 {
		l.popFront()
	}
	if l.MemSize() > 2000 {
		t.Fatalf("MemSize %d after popping nearly everything", l.MemSize())
	}
}

// Blocking behaviour (real clients against the in-process server).

func TestBlockingFIFO(t *testing.T) {
	s := startServer(t)
	addr := s.Addr().String()
	c1, c2, c3 := dial(t, addr), dial(t, addr), dial(t, addr)
	p := dial(t, addr)
	c1.send("BLPOP", "q", "0")
	waitBlocked(t, s, 1)
	c2.send("BRPOP", "other", "q", "0")
	waitBlocked(t, s, 2)
	c3.send("BLPOP", "q", "5")
	waitBlocked(t, s, 3)
	p.expect("3", "RPUSH", "q", "a", "b", "c")
	// Everything was consumed in arrival order.
	if got := c1.read().String(); got != `["q" "a"]` {
		t.Fatalf("first waiter got %s", got)
	}
	if got := c2.read().String(); got != `["q" "c"]` { // BRPOP pops from the tail
		t.Fatalf("second waiter got %s", got)
	}
	if got := c3.read().String(); got != `["q" "b"]` {
		t.Fatalf("third waiter got %s", got)
	}
	p.expect("0", "EXISTS", "q")
	waitBlocked(t, s, 0)
}

func TestBlockingTimeoutAndMulti(t *testing.T) {
	s := startServer(t)
	c := dial(t, s.Addr().String())
	start := time.Now()
	c.expect("(nil-array)", "BLPOP", "nokey", "0.2")
	if d := time.Since(start); d < 150*time.Millisecond || d > 3*time.Second {
		t.Fatalf("timeout took %v", d)
	}
	c.expect("(nil-array)", "BLMOVE", "nokey", "dst", "LEFT", "LEFT", "0.05")
	c.expect("(nil-array)", "BLMPOP", "0.05", "1", "nokey", "LEFT")
	c.expect("+OK", "MULTI")
	c.expect("+QUEUED", "BLPOP", "nokey", "0")
	c.expect("+QUEUED", "BRPOPLPUSH", "nokey", "x", "0")
	c.expect("[(nil-array) (nil)]", "EXEC")
	// Pipelined replies before a blocking command are not held back.
	c.send("PING")
	c.send("BLPOP", "nokey", "0.3")
	if got := c.read().String(); got != "+PONG" {
		t.Fatalf("got %s", got)
	}
	if got := c.read().String(); got != "(nil-array)" {
		t.Fatalf("BLPOP after PING got %s", got)
	}
	waitBlocked(t, s, 0)
}

func TestBlockingMoveChain(t *testing.T) {
	s := startServer(t)
	addr := s.Addr().String()
	a, b, p := dial(t, addr), dial(t, addr), dial(t, addr)
	a.send("BLMOVE", "src", "mid", "LEFT", "RIGHT", "0")
	waitBlocked(t, s, 1)
	b.send("BLMPOP", "0", "2", "nokey", "mid", "LEFT", "COUNT", "5")
	waitBlocked(t, s, 2)
	p.expect("1", "LPUSH", "src", "x")
	if got := a.read().String(); got != `"x"` {
		t.Fatalf("BLMOVE got %s", got)
	}
	if got := b.read().String(); got != `["mid" ["x"]]` {
		t.Fatalf("BLMPOP got %s", got)
	}
	p.expect("0", "EXISTS", "src")
	p.expect("0", "EXISTS", "mid")
	// A list created by RENAME also wakes waiters (via the periodic check).
	a.send("BLPOP", "renamed", "0")
	waitBlocked(t, s, 1)
	p.expect("1", "RPUSH", "tmp", "v")
	p.expect("+OK", "RENAME", "tmp", "renamed")
	if got := a.read().String(); got != `["renamed" "v"]` {
		t.Fatalf("BLPOP after RENAME got %s", got)
	}
	// A wrong-typed destination is reported to the served client.
	a.send("BLMOVE", "src", "str", "LEFT", "LEFT", "0")
	waitBlocked(t, s, 1)
	p.expect("+OK", "SET", "str", "x")
	p.expect("1", "RPUSH", "src", "v")
	if got := a.read().String(); !strings.Contains(got, "WRONGTYPE") {
		t.Fatalf("BLMOVE onto a string got %s", got)
	}
	p.expect(`["v"]`, "LRANGE", "src", "0", "-1")
}

func TestBlockingClientGone(t *testing.T) {
	s := startServer(t)
	addr := s.Addr().String()
	p := dial(t, addr)
	// A client that disconnects while blocked consumes nothing.
	gone := dial(t, addr)
	gone.send("BLPOP", "q", "0")
	waitBlocked(t, s, 1)
	gone.conn.Close()
	waitBlocked(t, s, 0)
	// A killed client neither.
	k := dial(t, addr)
	k.expect("+OK", "CLIENT", "SETNAME", "victim")
	k.send("BRPOP", "q", "0")
	waitBlocked(t, s, 1)
	r := p.do("CLIENT", "LIST")
	var id string
	for _, line := range strings.Split(string(r.Str), "\n") {
		if strings.Contains(line, "name=victim") {
			f := strings.Fields(line)[0]
			id = strings.TrimPrefix(f, "id=")
		}
	}
	if id == "" {
		t.Fatalf("victim not in CLIENT LIST: %s", r.Str)
	}
	p.expect("1", "CLIENT", "KILL", "ID", id)
	waitBlocked(t, s, 0)
	p.expect("2", "RPUSH", "q", "a", "b")
	p.expect(`["a" "b"]`, "LRANGE", "q", "0", "-1")
}

// waitBlocked polls until n clients are blocked.
func waitBlocked(t *testing.T, s *Server, n int) {
	t.Helper()
	checkFor(t, 5*time.Second, func() error {
		s.mu.Lock()
		got := s.blockedClients()
		s.mu.Unlock()
		if got != n {
			return fmt.Errorf("%d blocked clients, want %d", got, n)
		}
		return nil
	})
}

// TestListHashDumpRestore moves lists and hashes between our server and
// redis-server in both directions with DUMP and RESTORE.
func TestListHashDumpRestore(t *testing.T) {
	rp := startRedis(t)
	s := startServer(t)
	ours, theirs := dial(t, s.Addr().String()), dial(t, rp.addr)
	big := strings.Repeat("z", 100)
	setup := [][]string{
		{"RPUSH", "l1", "a", "1", "-7", "", big},
		{"HSET", "h1", "f", "v", "n", "12", "e", ""},
		{"HSET", "h2", "long", big, "x", "y"},
	}
	var many []string
	for i := 0; i < 3000; i++ {
		many = append(many, fmt.Sprintf("e%d", i))
	}
	setup = append(setup, append([]string{"RPUSH", "l2"}, many...))
	hs := []string{"HSET", "h3"}
	for i := 0; i < 600; i++ {
		hs = append(hs, fmt.Sprintf("f%d", i), fmt.Sprint(i))
	}
	setup = append(setup, hs)
	read := map[string][]string{"l1": {"LRANGE", "l1", "0", "-1"}, "l2": {"LRANGE", "l2", "0", "-1"},
		"h1": {"HGETALL", "h1"}, "h2": {"HGETALL", "h2"}, "h3": {"HGETALL", "h3"}}
	for _, from := range []*testConn{ours, theirs} {
		to := theirs
		if from == theirs {
			to = ours
		}
		from.expect("+OK", "FLUSHALL")
		to.expect("+OK", "FLUSHALL")
		for _, cmd := range setup {
			if r := from.do(cmd...); r.IsError() {
				t.Fatalf("%q: %s", cmd, r.String())
			}
		}
		for key, rd := range read {
			p := from.do("DUMP", key)
			if p.IsError() {
				t.Fatalf("DUMP %s: %s", key, p.String())
			}
			to.expect("+OK", "RESTORE", key, "0", p.Str)
			a, b := sortedReply(from.do(rd...)), sortedReply(to.do(rd...))
			if a != b {
				t.Fatalf("%s differs after RESTORE:\n %s\n %s", key, a, b)
			}
		}
	}
	// Encodings after RESTORE follow the thresholds.
	ours.expect(`"listpack"`, "OBJECT", "ENCODING", "h1")
	ours.expect(`"hashtable"`, "OBJECT", "ENCODING", "h2")
	ours.expect(`"hashtable"`, "OBJECT", "ENCODING", "h3")
	ours.expect(`"quicklist"`, "OBJECT", "ENCODING", "l2")
}

// TestBlockingStress runs concurrent producers and blocked consumers: every
// element is delivered exactly once.
func TestBlockingStress(t *testing.T) {
	s := startServer(t)
	addr := s.Addr().String()
	const producers, consumers, perProducer = 4, 6, 300
	results := make(chan []string, consumers)
	errs := make(chan error, consumers+producers)
	for i := 0; i < consumers; i++ {
		c := dial(t, addr)
		go func() {
			var got []string
			for i := 0; ; i++ {
				if i%3 != 2 {
					c.send("BLPOP", "q1", "q2", "5")
				} else {
					c.send("BRPOPLPUSH", "q2", "q1", "0.05") // short: q1 may be non-empty
				}
				_ = c.conn.SetReadDeadline(time.Now().Add(10 * time.Second))
				r, err := c.rr.ReadReply()
				if err != nil {
					errs <- err
					results <- got
					return
				}
				switch {
				case r.Kind == resp.KindArray && len(r.Elems) == 2:
					if r.Elems[1].Str == "stop" {
						results <- got
						return
					}
					got = append(got, r.Elems[1].Str)
				case r.Kind == resp.KindBulk && !r.Nil:
					// Moved from q2 to q1: it will be popped again.
				case r.Nil:
					// Timed out: try again.
				default:
					errs <- fmt.Errorf("unexpected reply %s", r.String())
					results <- got
					return
				}
			}
		}()
	}
	done := make(chan struct{})
	for p := 0; p < producers; p++ {
		c := dial(t, addr)
		go func() {
			defer func() { done <- struct{}{} }()
			for i := 0; i < perProducer; i++ {
				key := []string{"q1", "q2"}[i%2]
				c.send("RPUSH", key, fmt.Sprintf("p%d-%d", p, i))
				_ = c.conn.SetReadDeadline(time.Now().Add(10 * time.Second))
				if _, err := c.rr.ReadReply(); err != nil {
					errs <- err
					return
				}
			}
		}()
	}
	for p := 0; p < producers; p++ {
		<-done
	}
	ctl := dial(t, addr)
	// Wait for the queues to drain, then stop every consumer.
	checkFor(t, 10*time.Second, func() error {
		if r := ctl.do("EXISTS", "q1", "q2"); r.Int != 0 {
			s.mu.Lock()
			b := s.blockedClients()
			s.mu.Unlock()
			return fmt.Errorf("%d queues not drained (llen %s %s, %d blocked, %d errors)", r.Int,
				ctl.do("LLEN", "q1").String(), ctl.do("LLEN", "q2").String(), b, len(errs))
		}
		return nil
	})
	for i := 0; i < consumers; i++ {
		ctl.do("RPUSH", "q1", "stop")
	}
	seen := map[string]int{}
	for i := 0; i < consumers; i++ {
		for _, v := range <-results {
			seen[v]++
		}
	}
	close(errs)
	for err := range errs {
		t.Error(err)
	}
	if len(seen) != producers*perProducer {
		t.Fatalf("%d distinct elements delivered, want %d", len(seen), producers*perProducer)
	}
	for v, n := range seen {
		if n != 1 {
			t.Fatalf("%s delivered %d times", v, n)
		}
	}
	waitBlocked(t, s, 0)
}

func BenchmarkListQueue(b *testing.B) {
	l := newListObj()
	v := []byte("some-element-value")
	for i := 0; i < 1000; i++ {
		l.pushBack(v)
	}
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		l.pushFront(v)
		l.popBack()
	}
}

func BenchmarkHashSetGet(b *testing.B) {
	for _, n := range []int{16, 100000} {
		b.Run(fmt.Sprint(n), func(b *testing.B) {
			h := newHashObj()
			fs := make([][]byte, n)
			for i := range fs {
				fs[i] = []byte(fmt.Sprintf("field:%d", i))
				h.set(fs[i], []byte("v"), defaultHashLimits)
			}
			b.ResetTimer()
			for i := 0; i < b.N; i++ {
				f := fs[i%n]
				h.set(f, []byte("value"), defaultHashLimits)
				h.get(f)
			}
		})
	}
}
