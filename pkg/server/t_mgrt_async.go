package server

import (
	"cmp"
	"encoding/binary"
	"errors"
	"fmt"
	"math"
	"net"
	"slices"
	"strconv"
	"time"

	"github.com/codisgo/codis/pkg/rdb"
	"github.com/codisgo/codis/pkg/resp"
	keyslot "github.com/codisgo/codis/pkg/utils/slot"
)

// Semi-async slot migration, source side (SPEC-data §B.7.1–§B.7.3,
// §B.7.5–§B.7.9); the target side is in mgrt_async_restore.go.
//
// A source keeps at most one link per DB to a target. The link is a
// client of this server (it appears in CLIENT LIST) whose connection we
// opened: the target's replies are SLOTSRESTORE-ASYNC-ACK commands that
// the link's serve goroutine parses and executes like any request, so
// ACKs run under Server.mu through the command table. Messages to the
// target go through the link's push writer (pubsub.go), which may be fed
// from any goroutine under Server.mu: the migration command queues the
// first messages, each ACK handler queues more, and the push writer writes
// them without the lock. No client therefore waits for the target.
//
// A batch (one SLOTSMGRT*-ASYNC call) holds an ordered list of keys. Each
// key is read when its turn comes: small values become one message, big
// lists, hashes, sets and sorted sets are copied out and sent in chunks.
// The caller (and FENCE callers) get their reply when the last message is
// acknowledged, through their own push writer, so that, as in the
// original, their pipelined commands are answered meanwhile. Then the
// migrated keys are deleted, propagated as one DEL.
//
// The cron (mgrtCloseIdle, once a second) aborts batches without an ACK
// for longer than their timeout and closes links idle for 60 s; a link
// whose connection ends aborts its batch at once.

func init() {
	src := FlagWrite | FlagNoScript | FlagNoMulti
	register(
		&Command{Name: "slotsmgrtslot-async", Arity: 8, Flags: src, Proc: slotsmgrtslotAsyncCommand},
		&Command{Name: "slotsmgrttagslot-async", Arity: 8, Flags: src, Proc: slotsmgrttagslotAsyncCommand},
		&Command{Name: "slotsmgrtone-async", Arity: -7, Flags: src, FirstKey: 6, LastKey: -1, Step: 1, Proc: slotsmgrtoneAsyncCommand},
		&Command{Name: "slotsmgrttagone-async", Arity: -7, Flags: src, FirstKey: 6, LastKey: -1, Step: 1, Proc: slotsmgrttagoneAsyncCommand},
		&Command{Name: "slotsmgrtone-async-dump", Arity: -4, Flags: FlagReadOnly | FlagDenyOOM, FirstKey: 3, LastKey: -1, Step: 1, Proc: slotsmgrtoneAsyncDumpCommand},
		&Command{Name: "slotsmgrttagone-async-dump", Arity: -4, Flags: FlagReadOnly | FlagDenyOOM, FirstKey: 3, LastKey: -1, Step: 1, Proc: slotsmgrttagoneAsyncDumpCommand},
		&Command{Name: "slotsmgrt-async-fence", Arity: 0, Flags: FlagReadOnly | FlagNoScript | FlagNoMulti, Proc: slotsmgrtAsyncFenceCommand},
		&Command{Name: "slotsmgrt-async-cancel", Arity: 0, Flags: FlagFast, Proc: slotsmgrtAsyncCancelCommand},
		&Command{Name: "slotsmgrt-async-status", Arity: 0, Flags: FlagFast, Proc: slotsmgrtAsyncStatusCommand},
		&Command{Name: "slotsmgrt-exec-wrapper", Arity: -3, Flags: FlagWrite | FlagDenyOOM, FirstKey: 1, LastKey: 1, Step: 1, Proc: slotsmgrtExecWrapperCommand},
		&Command{Name: "slotsrestore-async-ack", Arity: 3, Flags: FlagWrite, Proc: slotsrestoreAsyncAckCommand},
	)
}

const (
	asyncDefaultTimeout  = 30000 // ms, when 0 is given
	asyncDefaultMaxBulks = 200   // elements per chunk, when 0 is given
	asyncMaxMaxBulks     = 512 * 1024
	asyncDefaultMaxBytes = 512 * 1024
	asyncMaxMaxBytes     = 1<<30 - 1
	asyncDefaultNumKeys  = 100
	asyncLinkIdle        = 60 * time.Second // an idle link is closed after this
	asyncConnectTimeout  = 100 * time.Millisecond
)

// Abort reasons (§B.7.5).
const (
	errAsyncClosed   = "ERR interrupted: connection closed"
	errAsyncTimeout  = "ERR interrupted: migration timeout"
	errAsyncCanceled = "ERR interrupted: canceled"
	errAsyncReplaced = "ERR interrupted: build new connection"
	errAsyncBusyDB   = "ERR the specified DB is being migrated"
	errAsyncPrevious = "ERR previous operation has not finished"
)

// mgrtAsyncState is the server's semi-async migration state (Server.mu).
type mgrtAsyncState struct {
	links   map[int]*asyncLink      // by DB index
	waiting map[*client]*asyncBatch // clients waiting for a batch's reply
}

func (s *Server) asyncState() *mgrtAsyncState {
	if s.mgrtAsync == nil {
		s.mgrtAsync = &mgrtAsyncState{links: map[int]*asyncLink{}, waiting: map[*client]*asyncBatch{}}
	}
	return s.mgrtAsync
}

// asyncBatchOf returns the batch in progress in DB db, or nil (mu held).
func (s *Server) asyncBatchOf(db int) *asyncBatch {
	if s.mgrtAsync == nil {
		return nil
	}
	if l := s.mgrtAsync.links[db]; l != nil {
		return l.batch
	}
	return nil
}

// asyncLink is the connection of one DB to its target.
type asyncLink struct {
	db      int
	host    string
	port    int64
	c       *client // the link, a client of this server
	used    bool    // the AUTH/SELECT preamble was sent
	timeout int64   // ms, of the last batch
	lastUse time.Time
	pending int // messages sent and not acknowledged
	batch   *asyncBatch
	closed  bool
}

// asyncBatch is one migration call in progress.
type asyncBatch struct {
	link     *asyncLink
	slotMode bool // SLOT/TAGSLOT reply shape
	slot     int
	keys     []string // in migration order
	next     int      // index of the next key to start
	keySet   map[string]struct{}
	tags     map[uint32]struct{}
	timeout  int64 // ms
	maxBulks int
	maxBytes int
	estimate int
	moved    []string // keys that existed when their turn came
	chunked  int      // values sent in chunks
	cur      *asyncIter
	queue    [][]byte // encoded messages ready to go
	waiters  []*client
	lastAck  time.Time
	noLimit  bool // DUMP commands: no byte limit
}

// Iterator stages (STATUS).
const (
	stagePrepare = iota
	stagePayload
	stageChunked
	stageFillTTL
	stageDone
)

// asyncIter is the state of the key being sent.
type asyncIter struct {
	key      string
	typ      int // 0 string .. 4 hash, -1 not loaded
	stage    int
	expireAt int64
	sub      string   // chunk message name
	elems    [][]byte // copied elements (pairs flattened for hash and zset)
	per      int      // bulks per element: 1, or 2 for pairs
	pos      int      // next bulk in elems
	hint     int      // element count of the source value
	chunks   int      // chunk messages sent
}

// asyncTypeCode is the Redis 3.2 type number of a value.
func asyncTypeCode(t ValueType) int {
	switch t {
	case TypeString:
		return 0
	case TypeList:
		return 1
	case TypeSet:
		return 2
	case TypeZSet:
		return 3
	case TypeHash:
		return 4
	}
	return -1
}

// asyncArgs are the parsed arguments of a migration call.
type asyncArgs struct {
	host                        string
	port                        int64
	timeout, maxBulks, maxBytes int64
}

// parseAsyncInt parses a non-negative int32 argument; it replies
// "ERR invalid value of <what> (<arg>)" itself.
func (c *client) parseAsyncInt(b []byte, what string, lo int64) (int64, bool) {
	n, ok := parseInt64(b)
	if !ok || n < lo || n > math.MaxInt32 {
		c.addError(fmt.Sprintf("ERR invalid value of %s (%s)", what, b))
		return 0, false
	}
	return n, true
}

func (c *client) parseAsyncArgs(argv [][]byte) (a asyncArgs, ok bool) {
	a.host = string(argv[1])
	if a.port, ok = c.parseAsyncInt(argv[2], "port", 1); !ok {
		return
	}
	if a.port > 65535 {
		c.addError(fmt.Sprintf("ERR invalid value of port (%s)", argv[2]))
		return a, false
	}
	if a.timeout, ok = c.parseAsyncInt(argv[3], "timeout", 0); !ok {
		return
	}
	if a.timeout == 0 {
		a.timeout = asyncDefaultTimeout
	}
	if a.maxBulks, ok = c.parseAsyncInt(argv[4], "maxbulks", 0); !ok {
		return
	}
	if a.maxBulks == 0 {
		a.maxBulks = asyncDefaultMaxBulks
	}
	a.maxBulks = min(a.maxBulks, asyncMaxMaxBulks)
	if a.maxBytes, ok = c.parseAsyncInt(argv[5], "maxbytes", 0); !ok {
		return
	}
	if a.maxBytes == 0 {
		a.maxBytes = asyncDefaultMaxBytes
	}
	a.maxBytes = min(a.maxBytes, asyncMaxMaxBytes)
	lim := c.s.outputLimits("normal")
	if lim.soft > 0 {
		a.maxBytes = min(a.maxBytes, lim.soft)
	}
	if lim.hard > 0 {
		a.maxBytes = min(a.maxBytes, lim.hard)
	}
	return a, true
}

func slotsmgrtoneAsyncCommand(c *client, argv [][]byte)     { c.mgrtAsync(argv, false, false) }
func slotsmgrttagoneAsyncCommand(c *client, argv [][]byte)  { c.mgrtAsync(argv, true, false) }
func slotsmgrtslotAsyncCommand(c *client, argv [][]byte)    { c.mgrtAsync(argv, false, true) }
func slotsmgrttagslotAsyncCommand(c *client, argv [][]byte) { c.mgrtAsync(argv, true, true) }

// mgrtAsync is the four SLOTSMGRT*-ASYNC commands. Like the original it
// connects to a new target holding Server.mu (at most 100 ms); everything
// after that happens without blocking anyone.
func (c *client) mgrtAsync(argv [][]byte, tag, slotMode bool) {
	a, ok := c.parseAsyncArgs(argv)
	if !ok {
		return
	}
	slot, numKeys := 0, int64(0)
	if slotMode {
		n, ok := parseInt64(argv[6])
		if !ok || n < 0 || n >= NumSlots {
			c.addError(fmt.Sprintf("ERR invalid value of slot (%s)", argv[6]))
			return
		}
		slot = int(n)
		if numKeys, ok = c.parseAsyncInt(argv[7], "numkeys", 0); !ok {
			return
		}
		if numKeys == 0 {
			numKeys = asyncDefaultNumKeys
		}
	}
	s := c.s
	st := s.asyncState()
	if s.asyncBatchOf(c.db.id) != nil {
		c.addError(errAsyncBusyDB)
		return
	}
	if st.waiting[c] != nil {
		c.addError(errAsyncPrevious)
		return
	}
	if c.conn == nil || c.inExec {
		c.addError("ERR semi-async migration needs a client connection")
		return
	}
	l := s.asyncGetLink(c.db.id, a.host, a.port, a.timeout)
	if l == nil {
		c.addError(fmt.Sprintf("ERR create client to %s:%d failed", a.host, a.port))
		return
	}
	b := &asyncBatch{link: l, slotMode: slotMode, slot: slot, keySet: map[string]struct{}{},
		tags: map[uint32]struct{}{}, timeout: a.timeout, maxBulks: int(a.maxBulks), maxBytes: int(a.maxBytes)}
	if slotMode {
		b.collectSlot(c.db, slot, tag, int(numKeys))
	} else {
		for _, k := range argv[6:] {
			b.addKey(c.db, string(k), tag)
		}
	}
	l.timeout = a.timeout
	l.lastUse = time.Now()
	l.batch = b
	b.lastAck = l.lastUse
	b.waiters = []*client{c}
	st.waiting[c] = b
	n := s.asyncEmit(l, 3, 500*time.Microsecond)
	if n == 0 {
		// Nothing existed: reply now, no batch.
		l.batch = nil
		delete(st.waiting, c)
		if slotMode {
			c.addArrayLen(2)
			c.addInt(0)
			c.addInt(int64(c.db.keysOfSlot(slot)))
		} else {
			c.addInt(0)
		}
		return
	}
	// The reply comes later, through the client's push writer so that it
	// can be written from the goroutine of the link.
	c.pushEnable()
	c.propagateNothing()
}

// addKey adds key (and with tag its tag group) to the batch; it returns
// the number of keys added.
func (b *asyncBatch) addKey(db *DB, key string, tag bool) int {
	n := 0
	add := func(k string) {
		if _, dup := b.keySet[k]; dup {
			return
		}
		b.keySet[k] = struct{}{}
		b.keys = append(b.keys, k)
		if e := db.peek([]byte(k)); e != nil && !db.isExpired(e) {
			b.estimate += b.estimateOf(e)
		}
		n++
	}
	_, tagged, crc := keyslot.Lookup([]byte(key))
	if tagged {
		if _, seen := b.tags[crc]; !seen {
			b.tags[crc] = struct{}{}
			if tag {
				add(key)
				names, _ := db.tagKeys([]byte(key))
				for _, k := range names {
					add(k)
				}
				return n
			}
		}
	}
	add(key)
	return n
}

// collectSlot fills the batch from a slot: keys (whole tag groups with
// tag) until about numKeys keys or estimated messages.
func (b *asyncBatch) collectSlot(db *DB, slot int, tag bool, numKeys int) {
	for k, e := range db.shards[slot].keys {
		if len(b.keys) >= numKeys || b.estimate >= numKeys {
			return
		}
		if _, dup := b.keySet[k]; dup || db.isExpired(e) {
			continue
		}
		est := b.estimateOf(e)
		if tag {
			if names, tagged := db.tagKeys([]byte(k)); tagged {
				est = 0
				for _, n := range names {
					if ne := db.peek([]byte(n)); ne != nil {
						est += b.estimateOf(ne)
					}
				}
			}
		}
		if len(b.keys) > 0 && b.estimate+est > 2*numKeys {
			continue
		}
		b.addKey(db, k, tag)
	}
}

// bulksOf returns whether e is sent in chunks and how many bulks it has.
func (b *asyncBatch) bulksOf(e *Entry) (chunked bool, bulks int) {
	if e.typ == TypeString {
		return false, 0
	}
	enc := e.Obj().Encoding()
	switch o := e.Obj().(type) {
	case *listObj:
		return o.Len() > b.maxBulks, o.Len()
	case *hashObj:
		n := 2 * o.Len()
		return enc == "hashtable" && n > b.maxBulks, n
	case *setObject:
		return enc == "hashtable" && o.Len() > b.maxBulks, o.Len()
	case *zsetObject:
		n := 2 * o.Len()
		return enc == "skiplist" && n > b.maxBulks, n
	}
	return false, 0
}

// estimateOf is the estimated number of messages of a value.
func (b *asyncBatch) estimateOf(e *Entry) int {
	if chunked, bulks := b.bulksOf(e); chunked {
		return (bulks + b.maxBulks - 1) / b.maxBulks
	}
	return 1
}

// asyncGetLink returns the link of db to host:port, creating it (and
// closing a link to another target) when needed (mu held). It returns
// nil when the target cannot be reached.
func (s *Server) asyncGetLink(db int, host string, port int64, timeout int64) *asyncLink {
	st := s.asyncState()
	if l := st.links[db]; l != nil {
		if l.host == host && l.port == port && !l.closed {
			return l
		}
		s.asyncCloseLink(l, errAsyncReplaced)
	}
	d := net.Dialer{Timeout: min(asyncConnectTimeout, time.Duration(timeout)*time.Millisecond)}
	conn, err := d.Dial("tcp", net.JoinHostPort(host, strconv.FormatInt(port, 10)))
	if err != nil {
		s.log.Warn("slotsmgrt-async: connect failed", "host", host, "port", port, "err", err)
		return nil
	}
	if tc, ok := conn.(*net.TCPConn); ok {
		_ = tc.SetNoDelay(true)
	}
	lc := &client{s: s, conn: conn, id: s.nextID.Add(1), addr: conn.RemoteAddr().String(),
		laddr: conn.LocalAddr().String(), ctime: time.Now(), resp: 2, authed: true}
	lc.p = resp.NewParser(lc)
	lc.lastInteraction.Store(lc.ctime.UnixNano())
	lc.db = s.ks.dbs[db]
	lc.p.MaxBulkLen = s.cfg.ProtoMaxBulkLen
	lc.p.MaxBuffer = queryBufferLimit
	s.clientsMu.Lock()
	select {
	case <-s.quit:
		s.clientsMu.Unlock()
		conn.Close()
		return nil
	default:
	}
	s.clients[lc.id] = lc
	s.nclients.Add(1)
	s.clientsMu.Unlock()
	// Nothing is ever replied on a link: the target would take a reply for
	// a command and answer it in turn (a target refusing our messages
	// with NOAUTH, say, would start an endless exchange of errors). Such
	// a target gets no answer, and the batch times out.
	lc.replyOff = true
	lc.pushEnable()
	l := &asyncLink{db: db, host: host, port: port, c: lc, timeout: timeout, lastUse: time.Now()}
	st.links[db] = l
	s.goroutine(func() {
		lc.serve()
		s.lockKeyspace()
		if !l.closed {
			s.asyncCloseLink(l, errAsyncClosed)
		}
		s.mu.Unlock()
	})
	s.log.Info("slotsmgrt-async: connected to target", "host", host, "port", port, "db", db)
	return l
}

// asyncCloseLink closes a link, aborting its batch with reason (mu held).
func (s *Server) asyncCloseLink(l *asyncLink, reason string) {
	if reason == "" {
		reason = errAsyncClosed
	}
	if l.batch != nil {
		s.asyncFinish(l.batch, reason)
	}
	l.closed = true
	l.c.closeAsync()
	if st := s.mgrtAsync; st != nil && st.links[l.db] == l {
		delete(st.links, l.db)
	}
}

// asyncCron aborts batches whose target stopped acknowledging and closes
// idle links; with all it closes every link (mu held, from mgrtCloseIdle).
func (s *Server) asyncCron(now time.Time, all bool) {
	st := s.mgrtAsync
	if st == nil {
		return
	}
	for _, l := range st.links {
		switch {
		case all:
			s.asyncCloseLink(l, errAsyncClosed)
		case l.batch != nil:
			if now.Sub(l.batch.lastAck) > time.Duration(l.batch.timeout)*time.Millisecond {
				s.log.Warn("slotsmgrt-async: migration timeout", "host", l.host, "port", l.port, "db", l.db)
				s.asyncCloseLink(l, errAsyncTimeout)
			}
		case now.Sub(l.lastUse) > asyncLinkIdle:
			s.asyncCloseLink(l, "")
		}
	}
}

// asyncFinish ends a batch: every waiting client receives reply (an error
// text), or on success the result, after which the migrated keys are
// deleted (mu held). ack is the link client running the last ACK.
func (s *Server) asyncFinish(b *asyncBatch, reason string) {
	l := b.link
	if l.batch == b {
		l.batch = nil
	}
	var out []byte
	if reason != "" {
		out = resp.AppendError(nil, reason)
	} else if b.slotMode {
		out = resp.AppendArrayLen(nil, 2)
		out = resp.AppendInt(out, int64(len(b.moved)))
		out = resp.AppendInt(out, int64(s.ks.dbs[l.db].keysOfSlot(b.slot)))
	} else {
		out = resp.AppendInt(nil, int64(len(b.moved)))
	}
	st := s.asyncState()
	for _, w := range b.waiters {
		delete(st.waiting, w)
		if w.push != nil && !w.killed.Load() {
			if reason != "" {
				s.countError(reason)
			}
			w.pushAppend(out)
		}
	}
	b.waiters = nil
	if reason != "" || len(b.moved) == 0 {
		return
	}
	db := s.ks.dbs[l.db]
	del := make([][]byte, 0, len(b.moved)+1)
	del = append(del, bDEL)
	for _, k := range b.moved {
		if db.Delete([]byte(k)) {
			del = append(del, []byte(k))
		}
	}
	if len(del) > 1 {
		l.c.propagateInstead(del...)
	}
}

// asyncOutLen is what the link's writer has not written yet.
func asyncOutLen(c *client) int {
	pw := c.push
	pw.mu.Lock()
	n := len(pw.buf) + pw.inflight
	pw.mu.Unlock()
	return n
}

// asyncEmit queues messages of l's batch while the link's output is under
// maxbytes, until at least minMsgs were queued and minDur passed, or the
// batch has nothing more. It returns the number of messages (mu held).
func (s *Server) asyncEmit(l *asyncLink, minMsgs int, minDur time.Duration) int {
	b := l.batch
	if b == nil {
		return 0
	}
	start := time.Now()
	out := asyncOutLen(l.c)
	var buf []byte
	n := 0
	// With nothing pending the target has read everything, even if the
	// writer has not yet accounted for it: send at least one message.
	for out+len(buf) < b.maxBytes || (l.pending == 0 && n == 0) {
		if n >= minMsgs && time.Since(start) >= minDur {
			break
		}
		msg := b.nextMsg(s, max(b.maxBytes-out-len(buf), 1))
		if msg == nil {
			break
		}
		buf = append(buf, msg...)
		n++
	}
	if len(buf) > 0 {
		l.c.pushAppend(buf)
	}
	l.pending += n
	return n
}

// nextMsg returns the next encoded message of the batch, or nil when
// everything was produced. room is the byte budget of a chunk.
func (b *asyncBatch) nextMsg(s *Server, room int) []byte {
	for len(b.queue) == 0 {
		if !b.advance(s, room) {
			return nil
		}
	}
	m := b.queue[0]
	b.queue[0] = nil
	b.queue = b.queue[1:]
	return m
}

func (b *asyncBatch) push(args ...[]byte) {
	b.queue = append(b.queue, resp.AppendCommand(nil, args...))
}

var (
	bRestoreAsync       = []byte("SLOTSRESTORE-ASYNC")
	bRestoreAsyncAuth   = []byte("SLOTSRESTORE-ASYNC-AUTH")
	bRestoreAsyncSelect = []byte("SLOTSRESTORE-ASYNC-SELECT")
	bAsyncDelete        = []byte("delete")
	bAsyncString        = []byte("string")
	bAsyncObject        = []byte("object")
	bAsyncExpire        = []byte("expire")
)

// remainingTTL is the TTL sent for an expiry: 0 for none, else at least 1.
func remainingTTL(at, now int64) int64 {
	if at == 0 {
		return 0
	}
	return max(at-now, 1)
}

// advance moves the current key one step, queueing its messages; it
// returns false when the batch has nothing more to send.
func (b *asyncBatch) advance(s *Server, room int) bool {
	it := b.cur
	if it == nil || it.stage == stageDone {
		b.cur = nil
		if !b.startNext(s) {
			return false
		}
		return true
	}
	if it.stage == stageChunked {
		b.chunk(it, room)
		if it.pos >= len(it.elems) {
			it.stage = stageFillTTL
		}
		return true
	}
	if it.stage == stageFillTTL {
		b.push(bRestoreAsync, bAsyncExpire, []byte(it.key), itob(remainingTTL(it.expireAt, s.ks.now)))
		it.elems = nil
		it.stage = stageDone
		return true
	}
	it.stage = stageDone
	return true
}

// startNext finds the next existing key and queues its first messages.
func (b *asyncBatch) startNext(s *Server) bool {
	db := s.ks.dbs[b.link.db]
	for b.next < len(b.keys) {
		key := b.keys[b.next]
		b.next++
		e := db.Lookup([]byte(key))
		if e == nil {
			continue
		}
		b.moved = append(b.moved, key)
		l := b.link
		if !l.used && !b.noLimit {
			l.used = true
			if pw := s.cfg.RequirePass; pw != "" {
				b.push(bRestoreAsyncAuth, []byte(pw))
			}
			b.push(bRestoreAsyncSelect, itob(int64(l.db)))
		}
		kb := []byte(key)
		b.push(bRestoreAsync, bAsyncDelete, kb)
		it := &asyncIter{key: key, typ: asyncTypeCode(e.typ), stage: stagePayload, expireAt: e.expireAt}
		b.cur = it
		ttl := itob(remainingTTL(e.expireAt, s.ks.now))
		if e.typ == TypeString {
			b.push(bRestoreAsync, bAsyncString, kb, ttl, e.Str())
			it.stage = stageDone
			return true
		}
		if chunked, _ := b.bulksOf(e); !chunked {
			payload, err := dumpEntry(e)
			if err != nil {
				s.log.Warn("slotsmgrt-async: cannot serialize key", "key", key, "err", err)
				it.stage = stageDone
				return true
			}
			b.push(bRestoreAsync, bAsyncObject, kb, ttl, payload)
			it.stage = stageDone
			return true
		}
		b.loadChunks(it, e)
		b.chunked++
		it.stage = stageChunked
		return true
	}
	return false
}

// loadChunks copies the elements of a chunked value.
func (b *asyncBatch) loadChunks(it *asyncIter, e *Entry) {
	o, err := entryRDB(e)
	if err != nil {
		return
	}
	switch o.Kind {
	case rdb.KindList:
		it.sub, it.per, it.hint = "list", 1, len(o.List)
		it.elems = cloneAll(o.List)
	case rdb.KindSet:
		it.sub, it.per, it.hint = "dict", 1, len(o.Set)
		it.elems = cloneAll(o.Set)
	case rdb.KindHash:
		it.sub, it.per, it.hint = "hash", 2, len(o.Hash)
		it.elems = make([][]byte, 0, 2*len(o.Hash))
		for _, f := range o.Hash {
			it.elems = append(it.elems, cloneBytes(f.Name), cloneBytes(f.Value))
		}
	case rdb.KindZSet:
		it.sub, it.per, it.hint = "zset", 2, len(o.ZSet)
		zs := slices.Clone(o.ZSet)
		slices.SortFunc(zs, func(x, y rdb.ZMember) int { // highest score first
			if c := cmp.Compare(y.Score, x.Score); c != 0 {
				return c
			}
			return cmp.Compare(string(y.Member), string(x.Member))
		})
		it.elems = make([][]byte, 0, 2*len(zs))
		for _, m := range zs {
			it.elems = append(it.elems, cloneBytes(m.Member), scoreBits(m.Score))
		}
	}
}

func cloneAll(in [][]byte) [][]byte {
	out := make([][]byte, len(in))
	for i, v := range in {
		out[i] = cloneBytes(v)
	}
	return out
}

// scoreBits is the little-endian IEEE-754 form of a score.
func scoreBits(f float64) []byte {
	var b [8]byte
	binary.LittleEndian.PutUint64(b[:], math.Float64bits(f))
	return b[:]
}

// chunk queues one chunk message: at most maxBulks bulks (whole pairs, at
// least one element) and about room bytes.
func (b *asyncBatch) chunk(it *asyncIter, room int) {
	ttl := 3 * b.timeout
	args := [][]byte{bRestoreAsync, []byte(it.sub), []byte(it.key), itob(ttl), itob(int64(it.hint))}
	bulks, bytes := 0, 0
	for it.pos < len(it.elems) {
		if bulks > 0 && (bulks+it.per > b.maxBulks || (!b.noLimit && bytes >= room)) {
			break
		}
		for j := 0; j < it.per; j++ {
			v := it.elems[it.pos+j]
			args = append(args, v)
			bytes += len(v)
		}
		it.pos += it.per
		bulks += it.per
	}
	it.chunks++
	b.push(args...)
}

// asyncLinkOf returns the link whose client is c, or nil (mu held).
func (s *Server) asyncLinkOf(c *client) *asyncLink {
	if s.mgrtAsync == nil {
		return nil
	}
	for _, l := range s.mgrtAsync.links {
		if l.c == c {
			return l
		}
	}
	return nil
}

// slotsrestoreAsyncAckCommand: SLOTSRESTORE-ASYNC-ACK code msg, sent by
// the target on a link (§B.7.5). Success replies nothing: anything
// written would reach the target as a command.
func slotsrestoreAsyncAckCommand(c *client, argv [][]byte) {
	s := c.s
	l := s.asyncLinkOf(c)
	if l == nil {
		c.addError("ERR invalid client, permission denied")
		c.closeAfterReply = true
		return
	}
	code, ok := parseInt64(argv[1])
	if !ok {
		c.addError(fmt.Sprintf("ERR invalid errcode (%s)", argv[1]))
		s.asyncCloseLink(l, errAsyncClosed)
		return
	}
	if code != 0 {
		s.log.Warn("slotsmgrt-async: error from target", "host", l.host, "port", l.port, "code", code, "msg", string(argv[2]))
		s.asyncCloseLink(l, errAsyncClosed)
		return
	}
	b := l.batch
	if b == nil {
		c.addError("ERR invalid iterator (NULL)")
		s.asyncCloseLink(l, "")
		return
	}
	if l.pending == 0 {
		c.addError("ERR invalid pending messages")
		s.asyncCloseLink(l, errAsyncClosed)
		return
	}
	now := time.Now()
	l.lastUse, b.lastAck = now, now
	l.pending--
	s.asyncEmit(l, 2, 10*time.Microsecond)
	if l.pending == 0 {
		s.asyncFinish(b, "")
	}
}

// slotsmgrtExecWrapperCommand: SLOTSMGRT-EXEC-WRAPPER hashkey command
// [args...] (§B.7.6).
func slotsmgrtExecWrapperCommand(c *client, argv [][]byte) {
	inner := argv[2:]
	cmd := lookupCommand(inner[0])
	reply := func(code int64, msg string) {
		c.addArrayLen(2)
		c.addInt(code)
		c.addError(msg)
	}
	if cmd == nil {
		reply(-1, fmt.Sprintf("ERR invalid command specified (%s)", inner[0]))
		return
	}
	if (cmd.Arity > 0 && len(inner) != cmd.Arity) || len(inner) < -cmd.Arity {
		reply(-1, fmt.Sprintf("ERR wrong number of arguments for command (%s)", inner[0]))
		return
	}
	hkey := argv[1]
	if c.db.Lookup(hkey) == nil {
		reply(0, "ERR the specified key doesn't exist")
		return
	}
	if cmd.Flags&FlagReadOnly == 0 {
		if b := c.s.asyncBatchOf(c.db.id); b != nil && b.holds(hkey) {
			reply(1, "ERR the specified key is being migrated")
			return
		}
	}
	c.addArrayLen(2)
	c.addInt(2)
	// The inner command runs nested (so it is propagated as itself, not
	// the wrapper) and, as inside EXEC, never blocks.
	exec := c.inExec
	c.inExec = true
	c.call(cmd, inner)
	c.inExec = exec
	c.propagateNothing()
}

// holds reports whether key is in the batch, by name or tag.
func (b *asyncBatch) holds(key []byte) bool {
	if _, ok := b.keySet[string(key)]; ok {
		return true
	}
	if _, tagged, crc := keyslot.Lookup(key); tagged {
		_, ok := b.tags[crc]
		return ok
	}
	return false
}

// slotsmgrtAsyncFenceCommand waits for the batch of the client's DB.
func slotsmgrtAsyncFenceCommand(c *client, argv [][]byte) {
	s := c.s
	b := s.asyncBatchOf(c.db.id)
	if b == nil {
		c.addOK()
		return
	}
	st := s.asyncState()
	if st.waiting[c] != nil {
		c.addError("ERR previous operation has not finished (call fence again)")
		return
	}
	if c.conn == nil || c.inExec {
		c.addError("ERR semi-async migration needs a client connection")
		return
	}
	b.waiters = append(b.waiters, c)
	st.waiting[c] = b
	c.pushEnable()
}

func slotsmgrtAsyncCancelCommand(c *client, argv [][]byte) {
	s := c.s
	if st := s.mgrtAsync; st != nil {
		if l := st.links[c.db.id]; l != nil {
			s.asyncCloseLink(l, errAsyncCanceled)
			c.addInt(1)
			return
		}
	}
	c.addInt(0)
}

func slotsmgrtAsyncStatusCommand(c *client, argv [][]byte) {
	s := c.s
	var l *asyncLink
	if st := s.mgrtAsync; st != nil {
		l = st.links[c.db.id]
	}
	if l == nil {
		c.addNullArray()
		return
	}
	now := time.Now()
	str := func(name, v string) {
		c.addBulkString(name)
		c.addBulkString(v)
	}
	num := func(name string, v int64) { str(name, strconv.FormatInt(v, 10)) }
	blocked := 0
	if l.batch != nil {
		for _, w := range l.batch.waiters {
			if !w.killed.Load() {
				blocked++
			}
		}
	}
	used := int64(0)
	if l.used {
		used = 1
	}
	c.addArrayLen(18)
	str("host", l.host)
	num("port", l.port)
	num("used", used)
	num("timeout", l.timeout)
	num("lastuse", l.lastUse.UnixMilli())
	num("since_lastuse", now.Sub(l.lastUse).Milliseconds())
	num("sending_msgs", int64(l.pending))
	num("blocked_clients", int64(blocked))
	c.addBulkString("batched_iterator")
	b := l.batch
	if b == nil {
		c.addNullArray()
		return
	}
	c.addArrayLen(16)
	c.addBulkString("keys")
	c.addArrayLen(2)
	c.addBulkString(strconv.Itoa(len(b.keys)))
	c.addBulkStrings(b.keys)
	num("timeout", b.timeout)
	num("maxbulks", int64(b.maxBulks))
	num("maxbytes", int64(b.maxBytes))
	num("estimate_msgs", int64(b.estimate))
	num("removed_keys", int64(len(b.moved)))
	num("chunked_vals", int64(b.chunked))
	c.addBulkString("iterators")
	c.addArrayLen(2)
	c.addBulkString(strconv.Itoa(len(b.keys) - b.next))
	it := b.cur
	if it == nil {
		c.addNullArray()
		return
	}
	expire := int64(-1)
	if it.expireAt != 0 {
		expire = it.expireAt
	}
	lindex, zindex := int64(-1), int64(-1)
	switch it.sub {
	case "list":
		lindex = int64(it.pos)
	case "zset":
		zindex = int64(it.pos / 2)
	}
	c.addArrayLen(16)
	str("key", it.key)
	num("val.type", int64(it.typ))
	num("stage", int64(it.stage))
	num("expire", expire)
	num("cursor", int64(it.pos))
	num("lindex", lindex)
	num("zindex", zindex)
	num("chunked_msgs", int64(it.chunks))
}

func slotsmgrtoneAsyncDumpCommand(c *client, argv [][]byte)    { c.mgrtAsyncDump(argv, false) }
func slotsmgrttagoneAsyncDumpCommand(c *client, argv [][]byte) { c.mgrtAsyncDump(argv, true) }

// mgrtAsyncDump returns the messages a migration of the keys would send
// (§B.7.9), without sending or deleting anything.
func (c *client) mgrtAsyncDump(argv [][]byte, tag bool) {
	timeout, ok := c.parseAsyncInt(argv[1], "timeout", 0)
	if !ok {
		return
	}
	if timeout == 0 {
		timeout = asyncDefaultTimeout
	}
	maxBulks, ok := c.parseAsyncInt(argv[2], "maxbulks", 0)
	if !ok {
		return
	}
	if maxBulks == 0 {
		maxBulks = 1000
	}
	b := &asyncBatch{link: &asyncLink{db: c.db.id, used: true}, keySet: map[string]struct{}{},
		tags: map[uint32]struct{}{}, timeout: timeout, maxBulks: int(maxBulks), maxBytes: math.MaxInt32, noLimit: true}
	for _, k := range argv[3:] {
		b.addKey(c.db, string(k), tag)
	}
	var msgs [][]byte
	for {
		m := b.nextMsg(c.s, math.MaxInt32)
		if m == nil {
			break
		}
		msgs = append(msgs, m)
	}
	c.addArrayLen(len(msgs))
	for _, m := range msgs {
		c.out = append(c.out, m...) // already a RESP array of bulks
	}
}

// errAsyncPayload maps a payload decoding error to the target's message.
func errAsyncPayload(err error) string {
	switch {
	case errors.Is(err, rdb.ErrChecksum):
		return "invalid payload checksum"
	case errors.Is(err, rdb.ErrUnsupportedType):
		return "invalid payload type"
	}
	return "invalid payload body"
}
