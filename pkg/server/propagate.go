package server

import (
	"strconv"

	"github.com/codisgo/codis/pkg/resp"
)

// Propagation: the replication stream.
//
// Every top-level command that changed the keyspace (a positive delta of
// the dirty counter, not counting keys reclaimed by expiry meanwhile) is
// appended to the stream in RESP, preceded by SELECT when its DB differs
// from the stream's current one. Non-deterministic or relative commands
// are rewritten into their effects as Redis 7.0 does (rewriteFor below;
// handlers that know better call c.propagateInstead / c.alsoPropagate).
// Keys reclaimed by expiry or eviction are propagated as DEL. The effects
// of nested calls (EXEC, EVAL and anything else that runs commands through
// client.call from inside a command) replace the container command and are
// wrapped in MULTI/EXEC when there is more than one, or always for EXEC.
//
// The stream is fed, in execution order and with Server.mu held, to the
// replication backlog, to every attached replica and to the subscribers
// registered with addStreamFeed (the AOF):
//
//	remove := s.addStreamFeed(func(db int, cmd []byte) { ... })
//
// fn receives each propagated command once, RESP-encoded (valid only
// during the call), with the DB it applies to, or db = -1 for the MULTI
// and EXEC that wrap a transaction. SELECT and the replication PINGs are
// not passed to feeds: a feed tracks its own current DB. Both calls need
// Server.mu held.
//
// On a replica the master's stream is applied through the normal command
// path by the master client and proxied byte for byte (repl_replica.go);
// local writes of a writable replica are not propagated, as in Redis.
//
// Cost: with no backlog and no feed the hook in client.call does a nil
// check (s.repl) or one boolean test and allocates nothing.

// streamFeed is one subscriber of the command stream.
type streamFeed struct {
	id int
	fn func(db int, cmd []byte)
}

// pendOp is one propagated command of the running top-level command,
// encoded in replState.pend[start:end].
type pendOp struct {
	db         int
	start, end int
}

// callPrep is what the hook needs from before the command ran.
type callPrep struct {
	dirty   int64
	exp     int64 // replState.expCount
	nested  int64 // replState.nestedOps
	counted bool  // depth was incremented
}

// replBegin is called by client.call before cmd.Proc.
func (s *Server) replBegin() callPrep {
	r := s.repl
	if r == nil {
		return callPrep{dirty: s.ks.dirty}
	}
	r.depth++
	return callPrep{dirty: s.ks.dirty, exp: r.expCount, nested: r.nestedOps, counted: true}
}

// propagating reports whether commands must be encoded at all (mu held).
func (r *replState) propagating() bool {
	return (r.backlog != nil || len(r.feeds) > 0) && r.link == nil
}

// propagateCall is the hook after cmd.Proc (mu held).
func (s *Server) propagateCall(c *client, cmd *Command, argv [][]byte, pc callPrep) {
	r := s.repl
	if pc.counted {
		r.depth--
	}
	replaced, ops, force := r.callReplaced, r.callOps, r.callForce
	r.callReplaced, r.callOps, r.callForce = false, r.callOps[:0], false
	if !r.propagating() || c.isMaster() {
		r.pend, r.pendOps, r.callBuf = r.pend[:0], r.pendOps[:0], r.callBuf[:0]
		return
	}
	before := len(r.pendOps)
	own := s.ks.dirty-pc.dirty-(r.expCount-pc.exp) > 0 || force
	switch {
	case r.nestedOps > pc.nested:
		// A container (EXEC, EVAL): its effects were queued by the
		// nested calls.
		r.callBuf = r.callBuf[:0]
	case replaced:
		if !own {
			ops = nil
		}
		r.queueEncoded(ops)
	default:
		if own || cmd.Name == "publish" {
			s.rewriteFor(c, cmd, argv)
		}
		r.queueEncoded(ops) // alsoPropagate
	}
	if r.depth > 0 {
		if len(r.pendOps) > before {
			r.nestedOps++
		}
		return
	}
	r.flushPending(cmd.Name == "exec")
}

// queueEncoded moves ops (encoded in callBuf) to the pending list.
func (r *replState) queueEncoded(ops []pendOp) {
	for _, op := range ops {
		start := len(r.pend)
		r.pend = append(r.pend, r.callBuf[op.start:op.end]...)
		r.pendOps = append(r.pendOps, pendOp{db: op.db, start: start, end: len(r.pend)})
	}
	r.callBuf = r.callBuf[:0]
}

// queue appends one command to the pending list.
func (r *replState) queue(db int, args ...[]byte) {
	start := len(r.pend)
	r.pend = resp.AppendCommand(r.pend, args...)
	r.pendOps = append(r.pendOps, pendOp{db: db, start: start, end: len(r.pend)})
}

// flushPending emits the pending commands, wrapped in MULTI/EXEC when
// there are several (or for EXEC).
func (r *replState) flushPending(exec bool) {
	n := len(r.pendOps)
	if n == 0 {
		return
	}
	multi := n > 1 || exec
	if multi {
		r.emit(-1, []byte(respMulti))
	}
	for _, op := range r.pendOps {
		r.emit(op.db, r.pend[op.start:op.end])
	}
	if multi {
		r.emit(-1, []byte(respExec))
	}
	r.pend, r.pendOps = r.pend[:0], r.pendOps[:0]
	if cap(r.pend) > 1<<20 {
		r.pend = nil
	}
}

const (
	respMulti = "*1\r\n$5\r\nMULTI\r\n"
	respExec  = "*1\r\n$4\r\nEXEC\r\n"
	respPing  = "*1\r\n$4\r\nPING\r\n"
)

// emit appends one command of DB db (-1: no SELECT) to the stream.
func (r *replState) emit(db int, cmd []byte) {
	if db >= 0 && db != r.streamDB {
		r.scratch = resp.AppendCommand(r.scratch[:0], []byte("SELECT"), strconv.AppendInt(nil, int64(db), 10))
		r.write(r.scratch)
		r.streamDB = db
	}
	r.write(cmd)
	for _, f := range r.feeds {
		f.fn(db, cmd)
	}
}

// write appends raw bytes to the stream: backlog, offset, replicas.
func (r *replState) write(b []byte) {
	if r.backlog != nil {
		r.backlog.add(b)
	}
	r.offset += int64(len(b))
	for _, rp := range r.replicas {
		rp.append(b)
	}
}

// addStreamFeed subscribes fn to the command stream (see the file
// comment) and returns the function that unsubscribes it. mu held.
func (s *Server) addStreamFeed(fn func(db int, cmd []byte)) (remove func()) {
	r := s.replState()
	r.feedSeq++
	id := r.feedSeq
	r.feeds = append(r.feeds, streamFeed{id: id, fn: fn})
	return func() {
		for i, f := range r.feeds {
			if f.id == id {
				r.feeds = append(r.feeds[:i:i], r.feeds[i+1:]...)
				return
			}
		}
	}
}

// propagateInstead makes the running command propagate args instead of
// itself (mu held; callable more than once to propagate several commands).
func (c *client) propagateInstead(args ...[]byte) {
	r := c.s.repl
	if r == nil || !r.propagating() {
		return
	}
	r.callReplaced = true
	r.addCallOp(c.db.id, args)
}

// alsoPropagate propagates args after the running command itself.
func (c *client) alsoPropagate(args ...[]byte) {
	r := c.s.repl
	if r == nil || !r.propagating() {
		return
	}
	r.addCallOp(c.db.id, args)
}

// propagateNothing makes the running command propagate nothing.
func (c *client) propagateNothing() {
	if r := c.s.repl; r != nil {
		r.callReplaced = true
	}
}

// propagateOp propagates a command outside the running command's own
// propagation, e.g. the pop that serves a blocked client (mu held).
func (s *Server) propagateOp(db int, args ...[]byte) {
	r := s.repl
	if r == nil || !r.propagating() {
		return
	}
	r.queue(db, args...)
	if r.depth == 0 {
		r.flushPending(false)
	}
}

func (r *replState) addCallOp(db int, args [][]byte) {
	start := len(r.callBuf)
	r.callBuf = resp.AppendCommand(r.callBuf, args...)
	r.callOps = append(r.callOps, pendOp{db: db, start: start, end: len(r.callBuf)})
}

// propagateExpired is keyspace.onExpire: a key reclaimed by expiry is
// propagated as DEL, before the command that found it expired.
func (s *Server) propagateExpired(db *DB, key string) {
	r := s.repl
	r.expCount++
	if !r.propagating() {
		return
	}
	s.propagateOp(db.id, bDEL, []byte(key))
}

// propagateEvicted propagates the eviction of key as DEL (mu held).
func (s *Server) propagateEvicted(db *DB, key string) {
	if s.repl == nil {
		return
	}
	s.propagateOp(db.id, bDEL, []byte(key))
}

var (
	bDEL      = []byte("DEL")
	bSET      = []byte("SET")
	bPXAT     = []byte("PXAT")
	bKEEPTTL  = []byte("KEEPTTL")
	bPEXPAT   = []byte("PEXPIREAT")
	bPERSIST  = []byte("PERSIST")
	bRESTORE  = []byte("RESTORE")
	bREPLACE  = []byte("REPLACE")
	bABSTTL   = []byte("ABSTTL")
	bSREM     = []byte("SREM")
	bHSET     = []byte("HSET")
	bLPOP     = []byte("LPOP")
	bRPOP     = []byte("RPOP")
	bLMOVE    = []byte("LMOVE")
	bLEFT     = []byte("LEFT")
	bRIGHT    = []byte("RIGHT")
	bZPOPMIN  = []byte("ZPOPMIN")
	bZPOPMAX  = []byte("ZPOPMAX")
	bSELECT   = []byte("SELECT")
	bREPLCONF = []byte("REPLCONF")
)

func itob(n int64) []byte { return strconv.AppendInt(nil, n, 10) }

func dirWord(head bool) []byte {
	if head {
		return bLEFT
	}
	return bRIGHT
}

// rewriteFor queues the propagated form of a command that changed the
// keyspace: argv itself, or its effect for the commands Redis 7.0
// rewrites (relative expiries become absolute, INCRBYFLOAT its result).
func (s *Server) rewriteFor(c *client, cmd *Command, argv [][]byte) {
	r, db := s.repl, c.db.id
	switch cmd.Name {
	case "set":
		if len(argv) > 3 && setHasRelativeExpire(argv[3:]) {
			if e := c.db.peek(argv[1]); e != nil && e.expireAt != 0 {
				r.queue(db, bSET, argv[1], argv[2], bPXAT, itob(e.expireAt))
				return
			}
		}
	case "setex", "psetex":
		if e := c.db.peek(argv[1]); e != nil && e.expireAt != 0 {
			r.queue(db, bSET, argv[1], argv[3], bPXAT, itob(e.expireAt))
			return
		}
	case "expire", "pexpire", "expireat", "pexpireat", "getex":
		e := c.db.peek(argv[1])
		switch {
		case e == nil:
			r.queue(db, bDEL, argv[1])
		case e.expireAt == 0:
			r.queue(db, bPERSIST, argv[1])
		default:
			r.queue(db, bPEXPAT, argv[1], itob(e.expireAt))
		}
		return
	case "incrbyfloat":
		if e := c.db.peek(argv[1]); e != nil && e.typ == TypeString {
			r.queue(db, bSET, argv[1], e.Str(), bKEEPTTL)
			return
		}
	case "restore":
		if e := c.db.peek(argv[1]); e != nil {
			out := make([][]byte, 0, len(argv)+1)
			out = append(out, argv[:2]...)
			out = append(out, itob(e.expireAt), argv[3])
			abs := false
			for _, a := range argv[4:] {
				abs = abs || eqFold(a, "absttl")
				out = append(out, a)
			}
			if !abs {
				out = append(out, bABSTTL)
			}
			r.queue(db, out...)
			return
		}
	case "slotsrestore":
		// As RESTORE forms, which any Redis replica understands.
		for i := 1; i+2 < len(argv); i += 3 {
			var at int64
			if e := c.db.peek(argv[i]); e != nil {
				at = e.expireAt
			}
			r.queue(db, bRESTORE, argv[i], itob(at), argv[i+2], bREPLACE, bABSTTL)
		}
		return
	}
	r.queue(db, argv...)
}

// setHasRelativeExpire reports whether SET options hold EX, PX or EXAT.
func setHasRelativeExpire(opts [][]byte) bool {
	for _, o := range opts {
		if eqFold(o, "ex") || eqFold(o, "px") || eqFold(o, "exat") {
			return true
		}
	}
	return false
}

func popWord(head bool) []byte {
	if head {
		return bLPOP
	}
	return bRPOP
}

func zpopWord(popMax bool) []byte {
	if popMax {
		return bZPOPMAX
	}
	return bZPOPMIN
}

// propagateSrem propagates the members removed by SPOP with a count as
// SREMs of at most 1024 members, as Redis does.
func (c *client) propagateSrem(key []byte, members []string) {
	r := c.s.repl
	if r == nil || !r.propagating() {
		return
	}
	for len(members) > 0 {
		n := min(len(members), 1024)
		args := make([][]byte, 0, n+2)
		args = append(args, bSREM, key)
		for _, m := range members[:n] {
			args = append(args, []byte(m))
		}
		c.propagateInstead(args...)
		members = members[n:]
	}
}

// firstLiveKey returns the first of keys that exists (the key a blocking
// pop served at once pops from, when it is of the right type).
func (c *client) firstLiveKey(keys [][]byte) []byte {
	for _, k := range keys {
		if e := c.db.peek(k); e != nil && !c.db.isExpired(e) {
			return k
		}
	}
	return nil
}

// forcePropagation makes the running command propagate even if dirty
// did not grow (Redis's forceCommandPropagation), mu held.
func (s *Server) forcePropagation() {
	if s.repl != nil {
		s.repl.callForce = true
	}
}
