package server

import (
	"math"
	"math/big"
	"net"
	"syscall"
	"time"

	"github.com/codisgo/codis/pkg/resp"
)

// Blocking commands on lists (BLPOP, BRPOP, BRPOPLPUSH, BLMOVE, BLMPOP)
// and sorted sets (BZPOPMIN, BZPOPMAX, BZMPOP).
//
// A client whose keys are all empty registers a waiter on each key, in
// FIFO order per key (list and zset waiters share the queue), releases the
// keyspace lock and sleeps in its own serve goroutine. Creating a list or
// sorted set at a key with waiters (DB.Add, DB.Set, and the pushes) marks
// the key ready (signalKeyReady) and wakes its first waiter;
// serveBlockedKeys, run with the lock held after every command outside
// EXEC (and after EXEC as a whole), then serves the waiters of every ready
// key in arrival order for as long as the key holds elements of the type
// they wait for: it pops on the waiter's behalf and stores the waiter's
// reply in the waiter (never in client.out, which only its own goroutine
// touches). As in Redis 7.0, a waiter whose key now holds another type
// stays blocked. A served, timed out or disconnected waiter retakes the
// lock, copies its reply and returns from its handler.
//
// Inside EXEC the commands never block (they reply as on timeout). Waiters
// of clients that are killed or disconnect are removed within
// blockPollInterval, so they never consume an element.

// blockPollInterval is how often a blocked client checks that its
// connection is alive and re-examines its keys.
const blockPollInterval = 100 * time.Millisecond

type blockOp uint8

const (
	blockPop   blockOp = iota // BLPOP, BRPOP: reply [key, element]
	blockMove                 // BLMOVE, BRPOPLPUSH: reply element
	blockMPop                 // BLMPOP: reply [key, [elements]]
	blockZPop                 // BZPOPMIN, BZPOPMAX: reply [key, member, score]
	blockZMPop                // BZMPOP: reply [key, [[member, score]...]]
)

// blockKey is a key of one DB.
type blockKey struct {
	db  *DB
	key string
}

// blockWaiter is one blocked client.
type blockWaiter struct {
	c       *client
	db      *DB
	keys    []string
	op      blockOp
	head    bool   // pop from the head (lists)
	popMax  bool   // pop the highest scores (sorted sets)
	dst     []byte // BLMOVE destination
	dstHead bool
	count   int64         // BLMPOP, BZMPOP count
	wake    chan struct{} // buffered: a key may be ready, or served
	done    bool          // served: out holds the reply
	out     []byte
}

// waitsFor is the value type that serves w.
func (w *blockWaiter) waitsFor() ValueType {
	if w.op == blockZPop || w.op == blockZMPop {
		return TypeZSet
	}
	return TypeList
}

// blockState is the blocking state of one server, guarded by Server.mu.
type blockState struct {
	waiters  map[blockKey][]*blockWaiter
	ready    []blockKey
	readySet map[blockKey]struct{}
}

func (ks *keyspace) blocking(create bool) *blockState {
	if ks.blk == nil && create {
		ks.blk = &blockState{waiters: make(map[blockKey][]*blockWaiter), readySet: make(map[blockKey]struct{})}
	}
	return ks.blk
}

// signalKeyReady records that key may now hold a list or sorted set for
// waiters (mu held). It is cheap when nobody is blocked.
func (db *DB) signalKeyReady(key []byte) {
	st := db.ks.blk
	if st == nil {
		return
	}
	bk := blockKey{db, string(key)}
	ws := st.waiters[bk]
	if len(ws) == 0 {
		return
	}
	if _, dup := st.readySet[bk]; !dup {
		st.readySet[bk] = struct{}{}
		st.ready = append(st.ready, bk)
	}
	ws[0].notify()
}

// signalListReady is signalKeyReady for the list commands.
func (db *DB) signalListReady(key []byte) { db.signalKeyReady(key) }

// signalBlockedKeys marks ready every key of db that has waiters and now
// exists (SWAPDB).
func (db *DB) signalBlockedKeys() {
	st := db.ks.blk
	if st == nil {
		return
	}
	for bk := range st.waiters {
		if bk.db == db && db.peek([]byte(bk.key)) != nil {
			db.signalKeyReady([]byte(bk.key))
		}
	}
}

func (w *blockWaiter) notify() {
	select {
	case w.wake <- struct{}{}:
	default:
	}
}

// blockedClients returns how many clients are blocked (mu held).
func (s *Server) blockedClients() int {
	st := s.ks.blk
	if st == nil {
		return 0
	}
	seen := make(map[*blockWaiter]struct{})
	for _, ws := range st.waiters {
		for _, w := range ws {
			seen[w] = struct{}{}
		}
	}
	return len(seen)
}

// serveBlockedKeys serves the waiters of every ready key (mu held). The
// core calls it after each command outside EXEC, so waiters are served
// before any other client runs; woken waiters call it too.
func (s *Server) serveBlockedKeys() {
	st := s.ks.blk
	if st == nil {
		return
	}
	for len(st.ready) > 0 {
		bk := st.ready[0]
		st.ready = st.ready[1:]
		delete(st.readySet, bk)
		key := []byte(bk.key)
		for i := 0; i < len(st.waiters[bk]); {
			e := bk.db.Lookup(key)
			if e == nil {
				break
			}
			w := st.waiters[bk][i]
			if w.waitsFor() != e.typ {
				i++ // stays blocked, as in Redis 7.0
				continue
			}
			if w.c.killed.Load() || connClosed(w.c.conn) {
				// Gone: it must not consume an element.
				st.unregister(w)
				w.notify()
				continue
			}
			w.serve(s, key, e)
			st.unregister(w)
			w.done = true
			w.notify()
		}
	}
	if len(st.waiters) == 0 && len(st.ready) == 0 {
		s.ks.blk = nil
	}
}

// serve pops for w from the non-empty list or sorted set e at key and
// stores its reply.
func (w *blockWaiter) serve(s *Server, key []byte, e *Entry) {
	db := w.db
	switch w.op {
	case blockPop:
		l := e.list()
		v := l.pop(w.head)
		s.propagateOp(db.id, popWord(w.head), key)
		w.out = resp.AppendArrayLen(w.out, 2)
		w.out = resp.AppendBulk(w.out, key)
		w.out = resp.AppendBulk(w.out, v)
		db.notify(notifyList, popEvent(w.head), key)
		db.listAfterPop(key, e, l)
	case blockMove:
		s.propagateOp(db.id, bLMOVE, key, w.dst, dirWord(w.head), dirWord(w.dstHead))
		db.lmove(s, &w.out, key, w.dst, e, w.head, w.dstHead)
	case blockMPop:
		s.propagateOp(db.id, popWord(w.head), key, itob(w.count))
		w.out = db.mpopFrom(w.out, key, e, w.head, w.count)
	case blockZPop:
		s.propagateOp(db.id, zpopWord(w.popMax), key)
		w.out = appendZpopReply(w.out, key, db.zsetPop(key, e, w.popMax, 1), zpopKeyed)
	case blockZMPop:
		s.propagateOp(db.id, zpopWord(w.popMax), key, itob(w.count))
		w.out = appendZpopReply(w.out, key, db.zsetPop(key, e, w.popMax, int(min(w.count, math.MaxInt32))), zpopNested)
	}
}

func (st *blockState) register(w *blockWaiter) {
	for _, k := range w.keys {
		bk := blockKey{w.db, k}
		if ws := st.waiters[bk]; len(ws) > 0 && ws[len(ws)-1] == w {
			continue // the same key given twice
		}
		st.waiters[bk] = append(st.waiters[bk], w)
	}
}

func (st *blockState) unregister(w *blockWaiter) {
	for _, k := range w.keys {
		bk := blockKey{w.db, k}
		ws := st.waiters[bk]
		for i, o := range ws {
			if o == w {
				ws = append(ws[:i], ws[i+1:]...)
				break
			}
		}
		if len(ws) == 0 {
			delete(st.waiters, bk)
		} else {
			st.waiters[bk] = ws
		}
	}
}

// parseBlockTimeout parses a timeout in (float) seconds like Redis's
// getTimeoutFromObjectOrReply and returns the absolute deadline in unix
// ms, 0 meaning forever.
func (c *client) parseBlockTimeout(b []byte) (int64, bool) {
	f, inf, ok := parseLongDouble(b)
	if !ok {
		c.addError("ERR timeout is not a float or out of range")
		return 0, false
	}
	// Redis converts seconds*1000 to long long; out of range values
	// (including infinities) become LLONG_MIN and so "negative".
	ms := int64(math.MinInt64)
	if inf == 0 {
		x := new(big.Float).SetPrec(ldPrec).Mul(f, big.NewFloat(1000))
		if x.Cmp(big.NewFloat(math.MaxInt64)) < 0 {
			i, acc := x.Int64()
			if acc == big.Below { // ceil
				i++
			}
			ms = i
		}
	}
	if ms < 0 {
		c.addError("ERR timeout is negative")
		return 0, false
	}
	if ms > 0 {
		now := time.Now().UnixMilli()
		ms = min(ms, math.MaxInt64-now) + now
	}
	return ms, true
}

// block waits until w is served, its deadline (unix ms, 0 = none) passes or
// the client goes away. It is called from a command handler with Server.mu
// held and returns with it held, the reply written.
func (c *client) block(w *blockWaiter, deadline int64) {
	s := c.s
	// The slow log and command stats leave out the time spent blocked.
	start := time.Now()
	defer func() { c.blockedFor += time.Since(start) }()
	w.c, w.db = c, c.db
	w.wake = make(chan struct{}, 1)
	st := s.ks.blocking(true)
	st.register(w)
	if len(s.monitors) > 0 && c.curArgv != nil && !hiddenFromMonitor(c.cmd, c.curArgv) {
		s.feedMonitors(c, c.curArgv) // shown when it blocks, as in Redis
		c.fedMonitors = true
	}
	if c.push != nil {
		c.pushFlushOut() // ordered with published messages, as in serve
	}
	s.mu.Unlock()
	if len(c.out) > 0 && !c.flush() {
		c.closeAfterReply = true
	}
	var timeout <-chan time.Time
	if deadline > 0 {
		t := time.NewTimer(time.Until(time.UnixMilli(deadline)))
		defer t.Stop()
		timeout = t.C
	}
	tick := time.NewTicker(blockPollInterval)
	defer tick.Stop()
	for {
		timedOut, check, gone := false, false, c.closeAfterReply
		select {
		case <-w.wake:
		case <-timeout:
			timedOut = true
		case <-tick.C:
			check = true
			// Blocked clients are exempt from the idle timeout, as in Redis.
			c.lastInteraction.Store(time.Now().UnixNano())
			gone = c.killed.Load() || connClosed(c.conn)
		case <-s.quit:
			gone = true
		}
		s.lockKeyspace()
		s.updateClock()
		if !w.done && !gone {
			if check {
				for _, k := range w.keys {
					if e := w.db.peek([]byte(k)); e != nil && e.typ == w.waitsFor() {
						w.db.signalKeyReady([]byte(k))
					}
				}
			}
			s.serveBlockedKeys()
		}
		if w.done {
			c.out = append(c.out, w.out...)
			return
		}
		if gone || timedOut {
			if st := s.ks.blk; st != nil {
				st.unregister(w)
				// w may have been woken for a ready key: serve the others.
				s.serveBlockedKeys()
			}
			if gone {
				c.closeAfterReply = true
			} else {
				c.addNullArray() // Redis replies a null array for every blocking command
			}
			return
		}
		s.mu.Unlock()
	}
}

// connClosed reports whether the peer closed conn, without consuming input.
func connClosed(conn net.Conn) bool {
	sc, ok := conn.(syscall.Conn)
	if !ok {
		return false
	}
	rc, err := sc.SyscallConn()
	if err != nil {
		return true
	}
	closed := false
	var b [1]byte
	err = rc.Read(func(fd uintptr) bool {
		n, _, rerr := syscall.Recvfrom(int(fd), b[:], syscall.MSG_PEEK|syscall.MSG_DONTWAIT)
		closed = (n == 0 && rerr == nil) || (rerr != nil && rerr != syscall.EAGAIN && rerr != syscall.EINTR)
		return true
	})
	return err != nil || closed
}

func init() {
	register(
		&Command{Name: "blpop", Arity: -3, Flags: FlagWrite | FlagNoScript, FirstKey: 1, LastKey: -2, Step: 1, Proc: blpopCommand},
		&Command{Name: "brpop", Arity: -3, Flags: FlagWrite | FlagNoScript, FirstKey: 1, LastKey: -2, Step: 1, Proc: brpopCommand},
		&Command{Name: "brpoplpush", Arity: 4, Flags: FlagWrite | FlagDenyOOM | FlagNoScript, FirstKey: 1, LastKey: 2, Step: 1, Proc: brpoplpushCommand},
		&Command{Name: "blmove", Arity: 6, Flags: FlagWrite | FlagDenyOOM | FlagNoScript, FirstKey: 1, LastKey: 2, Step: 1, Proc: blmoveCommand},
		// Redis 7.0 lets scripts call BLMPOP and BZMPOP (they do not
		// block there), unlike the older blocking commands.
		&Command{Name: "blmpop", Arity: -5, Flags: FlagWrite, KeysFn: numkeysKeys(0, 2), Proc: blmpopCommand},
		&Command{Name: "bzpopmin", Arity: -3, Flags: FlagWrite | FlagNoScript | FlagFast, FirstKey: 1, LastKey: -2, Step: 1, Proc: bzpopminCommand},
		&Command{Name: "bzpopmax", Arity: -3, Flags: FlagWrite | FlagNoScript | FlagFast, FirstKey: 1, LastKey: -2, Step: 1, Proc: bzpopmaxCommand},
		&Command{Name: "bzmpop", Arity: -5, Flags: FlagWrite, KeysFn: numkeysKeys(0, 2), Proc: bzmpopCommand},
	)
}

// denyBlocking reports whether the client must not block: inside EXEC, and
// for internal clients without a connection (Redis's CLIENT_DENY_BLOCKING).
// Such clients get the timeout reply at once.
func (c *client) denyBlocking() bool { return c.inExec || c.conn == nil }

func keyStrings(keys [][]byte) []string {
	out := make([]string, len(keys))
	for i, k := range keys {
		out[i] = string(k)
	}
	return out
}

func (c *client) bpopGeneric(argv [][]byte, head bool) {
	deadline, ok := c.parseBlockTimeout(argv[len(argv)-1])
	if !ok {
		return
	}
	keys := argv[1 : len(argv)-1]
	for _, k := range keys {
		e, l, ok := c.lookupList(k, false)
		if !ok {
			return
		}
		if l != nil && l.count > 0 {
			c.propagateInstead(popWord(head), k)
			v := l.pop(head)
			c.addArrayLen(2)
			c.addBulk(k)
			c.addBulk(v)
			c.notify(notifyList, popEvent(head), k)
			c.db.listAfterPop(k, e, l)
			return
		}
	}
	if c.denyBlocking() {
		c.addNullArray()
		return
	}
	c.block(&blockWaiter{keys: keyStrings(keys), op: blockPop, head: head}, deadline)
}

func blpopCommand(c *client, argv [][]byte) { c.bpopGeneric(argv, true) }
func brpopCommand(c *client, argv [][]byte) { c.bpopGeneric(argv, false) }

func (c *client) blmoveGeneric(src, dst, timeout []byte, srcHead, dstHead bool) {
	deadline, ok := c.parseBlockTimeout(timeout)
	if !ok {
		return
	}
	e, l, ok := c.lookupList(src, false)
	if !ok {
		return
	}
	if l != nil && l.count > 0 {
		c.propagateInstead(bLMOVE, src, dst, dirWord(srcHead), dirWord(dstHead))
		c.db.lmove(c.s, &c.out, src, dst, e, srcHead, dstHead)
		return
	}
	if c.denyBlocking() {
		c.addNull()
		return
	}
	c.block(&blockWaiter{keys: []string{string(src)}, op: blockMove, head: srcHead,
		dst: cloneBytes(dst), dstHead: dstHead}, deadline)
}

func brpoplpushCommand(c *client, argv [][]byte) {
	c.blmoveGeneric(argv[1], argv[2], argv[3], false, true)
}

func blmoveCommand(c *client, argv [][]byte) {
	from, ok1 := parseDirection(argv[3])
	to, ok2 := parseDirection(argv[4])
	if !ok1 || !ok2 {
		c.addError(errSyntax)
		return
	}
	c.blmoveGeneric(argv[1], argv[2], argv[5], from, to)
}

func blmpopCommand(c *client, argv [][]byte) {
	a, ok := c.parseMpop(argv, 2)
	if !ok {
		return
	}
	deadline, ok := c.parseBlockTimeout(argv[1])
	if !ok {
		return
	}
	key, e, ok := c.firstNonEmptyList(a.keys)
	if !ok {
		return
	}
	if e != nil {
		c.propagateInstead(popWord(a.head), key, itob(a.count))
		c.out = c.db.mpopFrom(c.out, key, e, a.head, a.count)
		return
	}
	if c.denyBlocking() {
		c.addNullArray()
		return
	}
	c.block(&blockWaiter{keys: keyStrings(a.keys), op: blockMPop, head: a.head, count: a.count}, deadline)
}

func (c *client) bzpopGeneric(argv [][]byte, popMax bool) {
	deadline, ok := c.parseBlockTimeout(argv[len(argv)-1])
	if !ok {
		return
	}
	keys := argv[1 : len(argv)-1]
	if k := c.firstLiveKey(keys); k != nil {
		c.propagateInstead(zpopWord(popMax), k)
	}
	if c.zpopGeneric(keys, popMax, 1, zpopKeyed, false) {
		return
	}
	if c.denyBlocking() {
		c.addNullArray()
		return
	}
	c.block(&blockWaiter{keys: keyStrings(keys), op: blockZPop, popMax: popMax}, deadline)
}

func bzpopminCommand(c *client, argv [][]byte) { c.bzpopGeneric(argv, false) }
func bzpopmaxCommand(c *client, argv [][]byte) { c.bzpopGeneric(argv, true) }

// BZMPOP timeout numkeys key... MIN|MAX [COUNT count]
func bzmpopCommand(c *client, argv [][]byte) {
	keys, popMax, count, ok := c.parseZmpopArgs(argv, 2)
	if !ok {
		return
	}
	deadline, ok := c.parseBlockTimeout(argv[1])
	if !ok {
		return
	}
	if k := c.firstLiveKey(keys); k != nil {
		c.propagateInstead(zpopWord(popMax), k, itob(count))
	}
	if c.zpopGeneric(keys, popMax, count, zpopNested, false) {
		return
	}
	if c.denyBlocking() {
		c.addNullArray()
		return
	}
	c.block(&blockWaiter{keys: keyStrings(keys), op: blockZMPop, popMax: popMax, count: count}, deadline)
}
