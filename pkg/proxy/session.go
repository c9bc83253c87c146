package proxy

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"io"
	"net"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	"github.com/codisgo/codis/pkg/resp"
)

// Session error texts (SPEC-data §D.7).
const (
	errTextMaxClients   = "ERR max number of clients reached"
	errTextNotOnline    = "ERR router is not online"
	errTextBadOpLength  = "ERR handle request, bad command length, too short or too long"
	errTextNoAuth       = "NOAUTH Authentication required"
	errTextPipelineFull = "ERR handle request, too many pipelined requests, session_max_pipeline = "
)

// session is one client connection: a reader that parses and dispatches
// requests in order, and a writer that returns the replies in that order.
type session struct {
	p    *Proxy
	conn net.Conn

	queue  requestQueue  // requests in arrival order, consumed by the writer
	notify chan struct{} // capacity 1: a queued request may have completed
	broken atomic.Bool   // the client is gone or its writes failed

	// reader state
	db         int
	authorized bool
	quit       bool
	nameBuf    [maxOpNameLen]byte
	argvBuf    [][]byte
	groups     []splitGroup
	assign     []int // key number → group, -1 for a full dispatch

	// writer state
	mergeElems [][]byte
}

func newSession(p *Proxy, conn net.Conn) *session {
	return &session{
		p:          p,
		conn:       conn,
		notify:     make(chan struct{}, 1),
		authorized: p.config.SessionAuth == "",
	}
}

// reject answers one error and closes (max clients, not online).
func (s *session) reject(msg string) {
	if t := s.p.config.SessionSendTimeout.Duration(); t > 0 {
		s.conn.SetWriteDeadline(time.Now().Add(t))
	}
	s.conn.Write(resp.AppendError(nil, msg))
	s.conn.Close()
}

// serve runs the session until the client leaves or the proxy closes.
func (s *session) serve() {
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		s.loopWriter()
	}()
	s.loopReader()
	s.queue.close()
	s.wake()
	wg.Wait()
	s.conn.Close()
}

func (s *session) loopReader() {
	cfg := s.p.config
	p := resp.NewParser(s.conn)
	rdl := lazyDeadline{timeout: cfg.SessionRecvTimeout.Duration(), set: s.conn.SetReadDeadline}
	maxPipeline := max(cfg.SessionMaxPipeline, 1)
	var last time.Time // start of the newest request since the last fill
	for !s.quit {
		argv, err := p.Next()
		if err != nil {
			s.protocolError(err)
			break
		}
		if argv == nil {
			if last.IsZero() {
				rdl.refresh()
			} else {
				rdl.refreshAt(last)
				last = time.Time{}
			}
			if err := p.Fill(); err != nil {
				// Client gone, idle timeout or proxy shutting down. A
				// clean EOF may be a half-close by a client that still
				// reads its replies, so only other errors mark the
				// session broken (the writer marks it when writes fail).
				if !errors.Is(err, io.EOF) {
					s.broken.Store(true)
				}
				break
			}
			continue
		}
		s.p.stats.total.Add(1)
		if s.queue.len() >= maxPipeline {
			r := s.p.reqs.get()
			r.start = time.Now()
			if op, name, ok := lookupOp(argv[0], &s.nameBuf); ok {
				r.op, r.opName = op, append(r.opName[:0], name...)
			}
			r.setError(errTextPipelineFull + strconv.Itoa(maxPipeline))
			r.reqFail = true
			s.push(r)
			s.p.stats.fails.Add(1)
			break
		}
		r := s.handle(argv)
		last = r.start
		stop := r.reqFail && cfg.SessionBreakOnFailure
		s.push(r) // r belongs to the writer now
		if stop {
			break
		}
	}
}

// protocolError ends the session after a malformed request. Unlike the
// original (which closes silently), the client gets the Redis-style
// protocol error text so it can tell why.
func (s *session) protocolError(err error) {
	r := s.p.reqs.get()
	r.start = time.Now()
	var pe *resp.ProtocolError
	if errors.As(err, &pe) {
		r.setError("ERR " + pe.Error())
	} else {
		r.setError("ERR " + err.Error())
	}
	r.reqFail = true
	s.push(r)
	s.p.stats.fails.Add(1)
}

// handle classifies and dispatches one request (SPEC-data §D.4). The
// returned request is either dispatched or carries its reply.
func (s *session) handle(argv [][]byte) *Request {
	r := s.p.reqs.get()
	r.start = time.Now()
	r.sess = s
	r.db = s.db
	op, name, ok := lookupOp(argv[0], &s.nameBuf)
	if !ok {
		return s.reqError(r, errTextBadOpLength)
	}
	r.op = op
	r.opName = append(r.opName[:0], name...)
	if op.Flag.IsNotAllowed() {
		return s.reqError(r, "ERR handle request, command '"+op.Name+"' is not allowed")
	}
	r.readOnly = op.Flag.IsReadOnly()
	switch op.kind {
	case kindQuit:
		s.quit = true
		r.reply = resp.AppendOK(r.reply[:0])
		return r
	case kindAuth:
		return s.handleAuth(r, argv)
	case kindHello:
		return s.handleHello(r, argv)
	}
	if !s.authorized {
		r.setError(errTextNoAuth)
		return r
	}
	switch op.kind {
	case kindSelect:
		return s.handleSelect(r, argv)
	case kindPing:
		return s.handlePing(r, argv)
	case kindInfo:
		return s.handleInfo(r, argv)
	case kindEcho:
		if len(argv) != 2 {
			r.setError("ERR wrong number of arguments for 'echo' command")
		} else {
			r.reply = resp.AppendBulk(r.reply[:0], argv[1])
		}
		return r
	case kindMGet:
		return s.handleSplit(r, argv, "MGET", 1)
	case kindMSet:
		return s.handleSplit(r, argv, "MSET", 2)
	case kindDel:
		return s.handleSplit(r, argv, "DEL", 1)
	case kindExists:
		return s.handleSplit(r, argv, "EXISTS", 1)
	case kindSlotsInfo:
		return s.handleSlotsInfo(r, argv)
	case kindSlotsScan:
		return s.handleSlotsScan(r, argv)
	case kindSlotsMapping:
		return s.handleSlotsMapping(r, argv)
	}
	r.setCommand(argv)
	if errText := s.p.router.dispatch(r, hashKey(argv, op), argv); errText != "" {
		return s.reqError(r, errText)
	}
	return r
}

func (s *session) reqError(r *Request, msg string) *Request {
	r.setError(msg)
	r.reqFail = true
	return r
}

func (s *session) handleAuth(r *Request, argv [][]byte) *Request {
	auth := s.p.config.SessionAuth
	switch {
	case len(argv) != 2:
		r.setError("ERR wrong number of arguments for 'AUTH' command")
	case auth == "":
		r.setError("ERR Client sent AUTH, but no password is set")
	case string(argv[1]) != auth:
		s.authorized = false
		r.setError("ERR invalid password")
	default:
		s.authorized = true
		r.reply = resp.AppendOK(r.reply[:0])
	}
	return r
}

// handleHello answers HELLO [protover [AUTH user pass] [SETNAME name]].
// Only RESP2 is offered: backend connections are shared, so the proxy
// cannot switch protocols per client.
func (s *session) handleHello(r *Request, argv [][]byte) *Request {
	if len(argv) >= 2 {
		v, ok := resp.ParseInt(argv[1])
		if !ok {
			r.setError("ERR Protocol version is not an integer or out of range")
			return r
		}
		if v != 2 {
			r.setError("NOPROTO unsupported protocol version")
			return r
		}
	}
	authed := s.authorized
	for i := 2; i < len(argv); i++ {
		opt := bytes.ToUpper(argv[i])
		switch {
		case string(opt) == "AUTH" && i+2 < len(argv):
			auth := s.p.config.SessionAuth
			if auth == "" {
				r.setError("ERR Client sent AUTH, but no password is set")
				return r
			}
			if string(argv[i+2]) != auth {
				s.authorized = false
				r.setError("WRONGPASS invalid username-password pair or user is disabled.")
				return r
			}
			authed = true
			i += 2
		case string(opt) == "SETNAME" && i+1 < len(argv):
			i++
		default:
			r.setError("ERR Syntax error in HELLO option '" + string(argv[i]) + "'")
			return r
		}
	}
	if !authed {
		r.setError("NOAUTH HELLO must be called with the client already authenticated, otherwise the HELLO <proto> AUTH <user> <pass> option can be used to authenticate the client and select the RESP protocol version at the same time")
		return r
	}
	s.authorized = true
	b := resp.AppendArrayLen(r.reply[:0], 14)
	b = resp.AppendBulkString(b, "server")
	b = resp.AppendBulkString(b, "redis")
	b = resp.AppendBulkString(b, "version")
	b = resp.AppendBulkString(b, "7.0.0")
	b = resp.AppendBulkString(b, "proto")
	b = resp.AppendInt(b, 2)
	b = resp.AppendBulkString(b, "id")
	b = resp.AppendInt(b, 0)
	b = resp.AppendBulkString(b, "mode")
	b = resp.AppendBulkString(b, "proxy")
	b = resp.AppendBulkString(b, "role")
	b = resp.AppendBulkString(b, "master")
	b = resp.AppendBulkString(b, "modules")
	b = resp.AppendArrayLen(b, 0)
	r.reply = b
	return r
}

func (s *session) handleSelect(r *Request, argv [][]byte) *Request {
	if len(argv) != 2 {
		r.setError("ERR wrong number of arguments for 'SELECT' command")
		return r
	}
	db, err := strconv.Atoi(string(argv[1]))
	if err != nil {
		r.setError("ERR invalid DB index")
		return r
	}
	n := s.p.config.BackendNumberDatabases
	if db < 0 || db >= n {
		r.setError(fmt.Sprintf("ERR invalid DB index, only accept DB [0,%d)", n))
		return r
	}
	s.db = db
	r.reply = resp.AppendOK(r.reply[:0])
	return r
}

// handlePing answers locally: PING → +PONG, PING msg → msg. The original
// forwarded PING to a random slot's backend, which failed at random when
// some slots were offline.
func (s *session) handlePing(r *Request, argv [][]byte) *Request {
	switch len(argv) {
	case 1:
		r.reply = append(r.reply[:0], "+PONG\r\n"...)
	case 2:
		r.reply = resp.AppendBulk(r.reply[:0], argv[1])
	default:
		r.setError("ERR wrong number of arguments for 'ping' command")
	}
	return r
}

// handleInfo answers with the proxy's own INFO text.
func (s *session) handleInfo(r *Request, argv [][]byte) *Request {
	if len(argv) > 2 {
		r.setError("ERR syntax error")
		return r
	}
	section := ""
	if len(argv) == 2 {
		section = string(bytes.ToLower(argv[1]))
	}
	r.reply = resp.AppendBulkString(r.reply[:0], s.p.infoText(section))
	return r
}

func (s *session) handleSlotsInfo(r *Request, argv [][]byte) *Request {
	if len(argv) != 2 {
		r.setError("ERR wrong number of arguments for 'SLOTSINFO' command")
		return r
	}
	r.cmd = resp.AppendCommandStrings(r.cmd[:0], "SLOTSINFO")
	if !s.p.router.dispatchAddr(r, string(argv[1])) {
		return s.reqError(r, "ERR backend server '"+string(argv[1])+"' not found")
	}
	return r
}

func parseSlotNum(arg []byte) (int, string) {
	n, err := strconv.Atoi(string(arg))
	if err != nil {
		return 0, "ERR parse slotnum '" + string(arg) + "' failed, " + err.Error()
	}
	if n < 0 || n >= MaxSlotNum {
		return 0, "ERR parse slotnum '" + string(arg) + "' failed, out of range"
	}
	return n, ""
}

func (s *session) handleSlotsScan(r *Request, argv [][]byte) *Request {
	if len(argv) < 3 {
		r.setError("ERR wrong number of arguments for 'SLOTSSCAN' command")
		return r
	}
	id, errText := parseSlotNum(argv[1])
	if errText != "" {
		r.setError(errText)
		return r
	}
	r.setCommand(argv)
	if errText := s.p.router.dispatchSlot(r, id); errText != "" {
		return s.reqError(r, errText)
	}
	return r
}

func (s *session) handleSlotsMapping(r *Request, argv [][]byte) *Request {
	if len(argv) > 2 {
		r.setError("ERR wrong number of arguments for 'SLOTSMAPPING' command")
		return r
	}
	appendSlot := func(b []byte, id int) []byte {
		m := s.p.router.slotModel(id)
		b = resp.AppendArrayLen(b, 4)
		b = resp.AppendSimple(b, strconv.Itoa(m.ID))
		b = resp.AppendSimple(b, m.BackendAddr)
		b = resp.AppendSimple(b, m.MigrateFrom)
		if len(m.ReplicaGroups) == 0 {
			return resp.AppendNullArray(b)
		}
		b = resp.AppendArrayLen(b, len(m.ReplicaGroups))
		for _, g := range m.ReplicaGroups {
			b = resp.AppendArrayLen(b, len(g))
			for _, a := range g {
				b = resp.AppendSimple(b, a)
			}
		}
		return b
	}
	if len(argv) == 2 {
		id, errText := parseSlotNum(argv[1])
		if errText != "" {
			r.setError(errText)
			return r
		}
		r.reply = appendSlot(r.reply[:0], id)
		return r
	}
	b := resp.AppendArrayLen(r.reply[:0], MaxSlotNum)
	for i := 0; i < MaxSlotNum; i++ {
		b = appendSlot(b, i)
	}
	r.reply = b
	return r
}

// handleSplit splits MGET/MSET/DEL/EXISTS by key (or pair) and merges the
// replies (SPEC-data §D.6). Keys whose slots are plainly served by a
// master are grouped into one sub-request per backend connection (the
// original sent one sub-request per key); keys of migrating, replicated,
// locked or offline slots get their own sub-request through the normal
// dispatch, with its migration step and errors.
func (s *session) handleSplit(r *Request, argv [][]byte, name string, step int) *Request {
	nargs := len(argv) - 1
	if nargs == 0 || nargs%step != 0 {
		r.setError("ERR wrong number of arguments for '" + name + "' command")
		return r
	}
	if nargs == step {
		r.setCommand(argv)
		if errText := s.p.router.dispatch(r, argv[1], argv); errText != "" {
			return s.reqError(r, errText)
		}
		return r
	}
	rt := s.p.router
	nkeys := nargs / step
	groups := s.groups[:0]
	assign := s.assign[:0]
	for i := 0; i < nkeys; i++ {
		sl, bc := rt.reserve(argv[1+i*step], r.db, r.readOnly)
		if bc == nil {
			assign = append(assign, -1)
			continue
		}
		g := 0
		for g < len(groups) && groups[g].bc != bc {
			g++
		}
		if g == len(groups) {
			c := s.p.reqs.get()
			c.sess, c.db, c.readOnly = s, r.db, r.readOnly
			groups = append(groups, splitGroup{bc: bc, sub: c})
		}
		groups[g].n++
		groups[g].sub.slots = append(groups[g].sub.slots, sl)
		assign = append(assign, g)
	}
	for _, g := range groups {
		g.sub.cmd = resp.AppendArrayLen(g.sub.cmd[:0], 1+g.n*step)
		g.sub.cmd = resp.AppendBulk(g.sub.cmd, argv[0])
	}
	for i, g := range assign {
		if g < 0 {
			continue
		}
		c := groups[g].sub
		for _, a := range argv[1+i*step : 1+(i+1)*step] {
			c.cmd = resp.AppendBulk(c.cmd, a)
		}
		c.keyIdx = append(c.keyIdx, i)
	}
	for i := range groups {
		r.subs = append(r.subs, groups[i].sub)
		groups[i].bc.push(groups[i].sub)
		groups[i] = splitGroup{}
	}
	s.groups, s.assign = groups[:0], assign
	// Keys that need the full dispatch, one sub-request each.
	sub := s.argvBuf[:0]
	defer func() { s.argvBuf = sub[:0] }()
	for i, g := range assign {
		if g >= 0 {
			continue
		}
		sub = append(sub[:0], argv[0])
		sub = append(sub, argv[1+i*step:1+(i+1)*step]...)
		c := s.p.reqs.get()
		c.sess, c.db, c.readOnly = s, r.db, r.readOnly
		c.keyIdx = append(c.keyIdx, i)
		c.setCommand(sub)
		r.subs = append(r.subs, c)
		if errText := rt.dispatch(c, sub[1], sub); errText != "" {
			// Sub-requests already sent still complete; the parent
			// reports the error.
			return s.reqError(r, errText)
		}
	}
	return r
}

// splitGroup is one batched sub-request of a split command.
type splitGroup struct {
	bc  *backendConn
	sub *Request
	n   int // keys (or pairs)
}

// loopWriter returns replies in request order, flushing when the queue is
// empty (pipelined replies are batched).
func (s *session) loopWriter() {
	cfg := s.p.config
	w := bufio.NewWriterSize(s.conn, max(int(cfg.SessionSendBufsize), 4096))
	wdl := lazyDeadline{timeout: cfg.SessionSendTimeout.Duration(), set: s.conn.SetWriteDeadline}
	var werr error
	flushAt := max(cfg.SessionMaxPipeline/2, 1)
	pending := 0
	var now time.Time // when the newest buffered reply was written
	// flush writes buffered replies; the writer never blocks with
	// unflushed output.
	flush := func() {
		if werr == nil && w.Buffered() > 0 {
			wdl.refreshAt(now)
			werr = w.Flush()
			pending = 0
			if werr != nil {
				s.broken.Store(true)
				s.conn.Close() // unblock the reader; the rest is drained
			}
		}
	}
	for {
		r, closed := s.queue.peek()
		if r == nil {
			if closed {
				break
			}
			flush()
			<-s.notify
			continue
		}
		if !r.isDone() {
			flush()
			<-s.notify
			continue
		}
		s.queue.pop()
		if werr != nil {
			s.p.stats.recordFail(r.op, r.opName)
			s.p.reqs.put(r)
			continue
		}
		if len(r.subs) != 0 && !r.reqFail {
			s.merge(r)
		}
		rep := r.reply
		isErr := len(rep) > 0 && rep[0] == '-'
		fail := r.respFail && cfg.SessionBreakOnFailure
		now = time.Now()
		if w.Available() < len(rep) {
			wdl.refreshAt(now)
		}
		_, werr = w.Write(rep)
		pending++
		s.p.stats.record(r.op, r.opName, now.Sub(r.start), isErr, fail || werr != nil)
		if fail {
			werr = errBreakOnFailure
		}
		s.p.reqs.put(r)
		if werr == nil && pending >= flushAt {
			flush()
		}
		if werr != nil {
			s.broken.Store(true)
			if werr == errBreakOnFailure {
				w.Flush()
			}
			// Unblock the reader; remaining requests are drained.
			s.conn.Close()
		}
	}
	flush()
}

var errBreakOnFailure = errors.New("session break on failure")

// merge builds the reply of a split request from its sub-replies. It runs
// in the writer.
func (s *session) merge(r *Request) {
	for _, c := range r.subs {
		if c.reqFail || c.respFail {
			r.reply = append(r.reply[:0], c.reply...)
			r.respFail = c.respFail
			return
		}
	}
	b := r.reply[:0]
	switch r.op.kind {
	case kindMGet:
		nkeys := 0
		for _, c := range r.subs {
			nkeys += len(c.keyIdx)
		}
		elems := s.mergeElems[:0]
		for i := 0; i < nkeys; i++ {
			elems = append(elems, nil)
		}
		for _, c := range r.subs {
			var eb [16][]byte
			got, ok := splitArray(c.reply, eb[:0])
			if !ok || len(got) != len(c.keyIdx) {
				s.badMerge(r, "mget", c.reply, len(got), ok)
				return
			}
			for j, idx := range c.keyIdx {
				elems[idx] = got[j]
			}
		}
		b = resp.AppendArrayLen(b, nkeys)
		for _, e := range elems {
			b = append(b, e...)
		}
		clear(elems)
		s.mergeElems = elems[:0]
	case kindMSet:
		for _, c := range r.subs {
			if len(c.reply) == 0 || c.reply[0] != '+' {
				s.badMerge(r, "mset", c.reply, 0, false)
				return
			}
		}
		b = append(b, r.subs[len(r.subs)-1].reply...)
	case kindDel, kindExists:
		var n int64
		name := "del"
		if r.op.kind == kindExists {
			name = "exists"
		}
		for _, c := range r.subs {
			rep := c.reply
			v, ok := int64(0), false
			if len(rep) >= 4 && rep[0] == ':' {
				v, ok = resp.ParseInt(trimLine(rep[1:]))
			}
			if !ok || v < 0 {
				s.badMerge(r, name, rep, 0, false)
				return
			}
			n += v
		}
		b = resp.AppendInt(b, n)
	}
	r.reply = b
}

func (s *session) badMerge(r *Request, name string, rep []byte, n int, isArray bool) {
	var msg string
	switch {
	case isArray || (len(rep) > 0 && rep[0] == '*'):
		msg = fmt.Sprintf("ERR handle response, bad %s resp: %s array.len = %d", name, replyTypeName(rep), n)
	default:
		val := trimLine(rep)
		if len(val) > 0 {
			val = val[1:]
		}
		msg = fmt.Sprintf("ERR handle response, bad %s resp: %s value.len = %d", name, replyTypeName(rep), len(val))
	}
	r.setError(msg)
	r.respFail = true
}

// push hands r to the writer. A request that is already complete (local
// reply, or a fast backend) wakes the writer; others wake it when they
// complete.
func (s *session) push(r *Request) {
	if s.queue.push(r) {
		s.wake()
	}
}

// wake nudges the writer without blocking.
func (s *session) wake() {
	select {
	case s.notify <- struct{}{}:
	default:
	}
}

// requestQueue is a FIFO of requests shared by a session's reader (push)
// and writer (peek/pop).
type requestQueue struct {
	mu     sync.Mutex // protects the fields below
	buf    []*Request // ring buffer
	head   int
	n      int
	closed bool
}

// push appends r. It reports whether the writer must be woken: r is the
// only request and already complete. (If r is not complete, its completion
// wakes the writer; if older requests are queued, the writer reaches r
// after them.) r is inspected under the lock, before the writer can see
// and recycle it.
func (q *requestQueue) push(r *Request) bool {
	q.mu.Lock()
	defer q.mu.Unlock()
	if q.n == len(q.buf) {
		nb := make([]*Request, max(2*len(q.buf), 16))
		for i := 0; i < q.n; i++ {
			nb[i] = q.buf[(q.head+i)%len(q.buf)]
		}
		q.buf, q.head = nb, 0
	}
	q.buf[(q.head+q.n)%len(q.buf)] = r
	q.n++
	return q.n == 1 && r.isDone()
}

// peek returns the oldest request (nil if none) and whether the queue was
// closed.
func (q *requestQueue) peek() (*Request, bool) {
	q.mu.Lock()
	defer q.mu.Unlock()
	if q.n == 0 {
		return nil, q.closed
	}
	return q.buf[q.head], q.closed
}

func (q *requestQueue) pop() {
	q.mu.Lock()
	q.buf[q.head] = nil
	q.head = (q.head + 1) % len(q.buf)
	q.n--
	q.mu.Unlock()
}

func (q *requestQueue) len() int {
	q.mu.Lock()
	defer q.mu.Unlock()
	return q.n
}

func (q *requestQueue) close() {
	q.mu.Lock()
	q.closed = true
	q.mu.Unlock()
}
