package server

import (
	"errors"
	"fmt"
	"io"
	"runtime"
	"sync"
	"sync/atomic"
	"time"

	"github.com/codisgo/codis/pkg/rdb"
)

// Point-in-time snapshots without fork: slot-granular copy-on-write.
//
// beginSnapshot (Server.mu held) fixes the point in time. Every (db, slot)
// shard holding keys at that moment is marked pending; a background
// goroutine then serializes the pending shards one batch at a time, each
// batch under Server.mu, and writes the produced bytes to the output
// outside the lock. Before anything changes a pending shard (a key added,
// removed, overwritten, its value or expiry modified), the shard is
// serialized first, in the goroutine of whoever is about to change it and
// still under Server.mu; its keys therefore reach the file as they were at
// the snapshot point. Each shard is written exactly once; the order of the
// chunks in the file does not matter, and a SELECTDB opcode precedes every
// run of keys of another DB (RDB allows SELECTDB to repeat).
//
// Pending shards are identified by their shard array (DB.shards) rather
// than by DB index: SWAPDB exchanges the arrays, FLUSHDB and FLUSHALL
// detach them (DB.flush installs the shared empty array). Neither needs
// any copying: a swapped array is still written under the DB index it had
// at the snapshot point, and a detached array, which nothing can reach or
// change any more, is simply serialized later by the background goroutine.
//
// Every place that mutates a shard or a value, and how it is covered:
//
//   - client.call: before a FlagWrite command runs, the shards of its key
//     arguments (Command.keys, the COMMAND GETKEYS extraction, movable
//     keys included) are serialized: this covers the in-place value
//     changes of every type file (LPUSH, HSET, ZADD, SETRANGE, ...), also
//     inside MULTI/EXEC, whose commands pass through call;
//   - DB.Lookup (the write-intent lookup; LookupRead and LookupNoTouch are
//     used by readers): covers keys a command changes without naming them
//     as keys, e.g. the destination of a served BLMOVE, and scripts;
//   - DB.Add, DB.Set (new key or overwrite in place), DB.remove (under
//     DB.Delete, lazy expiry in Lookup/LookupNoTouch/LookupRead, the
//     active expire cycle, eviction, SLOTSDEL, migration, MOVE, RENAME)
//     and DB.setExpireEntry (EXPIRE, PERSIST, SET EX, GETEX, ...): each
//     serializes the shard first, so a key is never lost from or changed
//     in the snapshot, even for the second DB of MOVE and COPY ... DB;
//   - DB.flush (FLUSHDB, FLUSHALL) and DB.swapWith (SWAPDB): arrays are
//     detached or exchanged, never modified (see above);
//   - DB.Modified runs after a value was changed: if its shard is still
//     pending there, a mutation escaped the hooks above. The shard is then
//     written at once (so the key is not lost) and snapshot.late counts
//     it; the tests assert that it stays zero.
//
// LRU/LFU fields, memory accounting and WATCH state change without hooks:
// they are not part of the file.
//
// Output: one rdb.Writer, used only under Server.mu, writes into an
// in-memory chunk queue; the background goroutine drains the queue to the
// caller's io.Writer without holding Server.mu. Only the background
// goroutine's own batches wait for the queue to drain (it drains after
// each batch), so clients never wait for the output; the copy-on-write
// chunks they produce are bounded by the size of the data set.

// errSnapshotRunning is returned by beginSnapshot while another snapshot
// is being written.
var errSnapshotRunning = errors.New("server: a snapshot is already in progress")

// errSnapshotAborted is the error a snapshot's done callback receives when
// it was cancelled (FLUSHALL or SHUTDOWN during BGSAVE, or abort).
var errSnapshotAborted = errors.New("server: snapshot aborted")

const (
	snapBatchTime  = time.Millisecond // Server.mu hold per background batch
	snapBatchBytes = 1 << 20          // output per background batch
)

// snapDB is the part of a snapshot of one DB.
type snapDB struct {
	id       int
	arr      *[NumSlots]shard
	pending  [NumSlots]bool
	keys     int // at the snapshot point, for RESIZEDB
	vol      int
	selected bool // RESIZEDB written
}

// snapshot is one point-in-time RDB serialization in progress. All fields
// but q are guarded by Server.mu.
type snapshot struct {
	s         *Server
	out       io.Writer
	done      func(error)
	q         chunkQueue
	wr        *rdb.Writer
	dbs       []*snapDB
	byArr     map[*[NumSlots]shard]*snapDB
	curDB     int // DB of the last SELECTDB written, -1 before
	remaining int // pending shards
	cursorDB  int // background walk position
	cursorSl  int
	err       error       // set when finished with an error or aborted
	finished  bool        // EOF written or err set: hooks detached
	stop      atomic.Bool // set with err: the goroutine stops writing
	start     time.Time

	keysTotal int64 // keys at the snapshot point
	keysDone  int64 // keys serialized so far
	cowBytes  int64 // bytes serialized on behalf of writers
	late      int   // shards first serialized after a mutation (bug)
}

// chunkQueue is the in-memory output queue: Write copies (it is called by
// rdb.Writer, which reuses its buffer), drain hands the chunks to the
// output.
//
// Chunks are filled up to chunkSize and reused once written out
// (recycle): a snapshot of a large data set would otherwise allocate its
// whole size again, and the garbage collector, marking a heap of that
// size meanwhile, slows every client down.
type chunkQueue struct {
	mu     sync.Mutex
	chunks [][]byte
	size   int
	free   [][]byte // written-out chunks, emptied, for reuse
}

const (
	chunkSize     = 256 << 10
	chunkFreeKeep = 32 // chunks kept for reuse (8 MB)
)

func (q *chunkQueue) Write(p []byte) (int, error) {
	q.mu.Lock()
	defer q.mu.Unlock()
	q.size += len(p)
	if n := len(q.chunks); n > 0 {
		if last := q.chunks[n-1]; cap(last)-len(last) >= len(p) {
			q.chunks[n-1] = append(last, p...)
			return len(p), nil
		}
	}
	var b []byte
	if n := len(q.free); n > 0 && len(p) <= chunkSize {
		b, q.free = q.free[n-1], q.free[:n-1]
	} else {
		b = make([]byte, 0, max(chunkSize, len(p)))
	}
	q.chunks = append(q.chunks, append(b, p...))
	return len(p), nil
}

func (q *chunkQueue) take() [][]byte {
	q.mu.Lock()
	defer q.mu.Unlock()
	c := q.chunks
	q.chunks, q.size = nil, 0
	return c
}

// recycle takes back chunks returned by take once they were written.
func (q *chunkQueue) recycle(cs [][]byte) {
	q.mu.Lock()
	defer q.mu.Unlock()
	for _, c := range cs {
		if len(q.free) < chunkFreeKeep && cap(c) == chunkSize {
			q.free = append(q.free, c[:0])
		}
	}
}

func (q *chunkQueue) queued() int {
	q.mu.Lock()
	defer q.mu.Unlock()
	return q.size
}

// snapshotOptions are the writer settings taken from the configuration.
func (s *Server) rdbWriterOptions() *rdb.WriterOptions {
	return &rdb.WriterOptions{NoCompress: !s.cfg.RDBCompression, NoChecksum: !s.cfg.RDBChecksum}
}

// beginSnapshot starts writing a point-in-time RDB image of the whole
// keyspace to w. It must be called with s.mu held; the point in time is
// the call. aux fields (e.g. repl-id, repl-offset) follow the standard
// ones. done is called once, from the snapshot goroutine and without s.mu
// held, after the last byte was written to w (nil) or when the snapshot
// failed or was aborted; w is not closed. Only one snapshot runs at a
// time: while one does, errSnapshotRunning is returned.
func (s *Server) beginSnapshot(w io.Writer, aux [][2]string, done func(error)) (*snapshot, error) {
	if s.ks.snap != nil {
		return nil, errSnapshotRunning
	}
	select {
	case <-s.quit:
		return nil, ErrServerClosed
	default:
	}
	sn := &snapshot{s: s, out: w, done: done, curDB: -1, start: time.Now(),
		byArr: make(map[*[NumSlots]shard]*snapDB)}
	sn.wr = rdb.NewWriter(&sn.q, s.rdbWriterOptions())
	if err := s.writeRDBHeader(sn.wr, aux); err != nil {
		return nil, err
	}
	for _, db := range s.ks.dbs {
		if db.nkeys == 0 || db.shards == &emptyShards {
			continue
		}
		sd := &snapDB{id: db.id, arr: db.shards, keys: db.nkeys, vol: db.nvol}
		for i := range db.shards {
			if len(db.shards[i].keys) > 0 {
				sd.pending[i] = true
				sn.remaining++
			}
		}
		sn.keysTotal += int64(db.nkeys)
		sn.dbs = append(sn.dbs, sd)
		sn.byArr[db.shards] = sd
	}
	s.ks.snap = sn
	s.goroutine(sn.run)
	return sn, nil
}

// writeRDBHeader writes the auxiliary fields Redis 7.0 starts a file with,
// then the caller's (mu held).
func (s *Server) writeRDBHeader(wr *rdb.Writer, aux [][2]string) error {
	wr.WriteStandardAux(Version, time.Now(), s.usedMemory())
	for _, kv := range aux {
		wr.WriteAux(kv[0], kv[1])
	}
	return wr.WriteAuxInt("aof-base", 0)
}

// abort cancels the snapshot (s.mu held): the hooks detach at once, the
// goroutine stops at its next step and calls done with err. Aborting a
// finished snapshot does nothing.
func (sn *snapshot) abort(err error) {
	if sn.finished {
		return
	}
	sn.fail(err)
}

// fail records err and detaches the hooks (s.mu held).
func (sn *snapshot) fail(err error) {
	sn.err = err
	sn.stop.Store(true)
	sn.finished = true
	sn.remaining = 0
	sn.dbs, sn.byArr = nil, nil
	if sn.s.ks.snap == sn {
		sn.s.ks.snap = nil
	}
}

// progress returns the keys serialized and the keys in the snapshot (s.mu
// held).
func (sn *snapshot) progress() (done, total int64) { return sn.keysDone, sn.keysTotal }

// run is the snapshot goroutine.
func (sn *snapshot) run() {
	s := sn.s
	var err error
	for {
		if err = sn.drain(); err != nil {
			s.mu.Lock()
			sn.abort(err)
			if sn.err != nil {
				err = sn.err
			}
			s.mu.Unlock()
			break
		}
		select {
		case <-s.quit:
			s.mu.Lock()
			sn.abort(ErrServerClosed)
			s.mu.Unlock()
		default:
		}
		s.mu.Lock()
		if !sn.finished {
			sn.batch()
		}
		fin, ferr := sn.finished, sn.err
		s.mu.Unlock()
		// Let the clients that queued on the lock during the batch run
		// before the next one: sync.Mutex would often give it straight
		// back to this goroutine.
		runtime.Gosched()
		if fin {
			if ferr == nil {
				ferr = sn.drain()
			}
			err = ferr
			break
		}
	}
	if err != nil {
		sn.q.take() // drop what was not written
	}
	if sn.done != nil {
		sn.done(err)
	}
}

// drain writes the queued chunks to the output (no lock held).
func (sn *snapshot) drain() error {
	cs := sn.q.take()
	defer sn.q.recycle(cs)
	for _, c := range cs {
		if sn.stop.Load() {
			return nil // aborted: the error is in sn.err
		}
		if _, err := sn.out.Write(c); err != nil {
			return fmt.Errorf("server: snapshot write: %w", err)
		}
	}
	return nil
}

// batch serializes pending shards for about snapBatchTime, then writes the
// end of the file when none is left (s.mu held).
func (sn *snapshot) batch() {
	start := time.Now()
	for n := 0; sn.remaining > 0; {
		sd := sn.dbs[sn.cursorDB]
		if !sd.pending[sn.cursorSl] {
			if sn.cursorSl++; sn.cursorSl == NumSlots {
				sn.cursorSl = 0
				sn.cursorDB++
			}
			continue
		}
		if err := sn.writeShard(sd, sn.cursorSl); err != nil {
			sn.fail(err)
			return
		}
		// A shard can take a millisecond (about a thousand keys): check
		// the time after each one, not every few.
		if n++; time.Since(start) > snapBatchTime || sn.q.queued() > snapBatchBytes {
			return
		}
	}
	if err := sn.wr.Close(); err != nil {
		sn.fail(err)
		return
	}
	sn.finished = true
	if sn.s.ks.snap == sn {
		sn.s.ks.snap = nil
	}
}

// writeShard serializes one pending shard and marks it done (s.mu held).
func (sn *snapshot) writeShard(sd *snapDB, slot int) error {
	sd.pending[slot] = false
	sn.remaining--
	if sn.curDB != sd.id {
		sn.wr.SelectDB(sd.id)
		if !sd.selected {
			sd.selected = true
			sn.wr.ResizeDB(uint64(sd.keys), uint64(sd.vol))
		}
		sn.curDB = sd.id
	}
	n, err := writeShardKeys(sn.wr, &sd.arr[slot])
	sn.keysDone += int64(n)
	return err
}

// writeShardKeys writes every key of a shard with its expiry.
func writeShardKeys(wr *rdb.Writer, sh *shard) (int, error) {
	n := 0
	for k, e := range sh.keys {
		o, err := entryRDB(e)
		if err != nil {
			return n, fmt.Errorf("server: key %q: %w", k, err)
		}
		if err := wr.WriteKey([]byte(k), &o, e.expireAt); err != nil {
			return n, fmt.Errorf("server: key %q: %w", k, err)
		}
		n++
	}
	return n, nil
}

// cow serializes the shard of slot of db if it is pending in the running
// snapshot, before it changes (s.mu held).
func (sn *snapshot) cow(db *DB, slot int) {
	sd := sn.byArr[db.shards]
	if sd == nil || !sd.pending[slot] {
		return
	}
	before := sn.wr.Written() + int64(sn.q.queued())
	if err := sn.writeShard(sd, slot); err != nil {
		sn.fail(err)
		return
	}
	sn.cowBytes += sn.wr.Written() + int64(sn.q.queued()) - before
}

// cow is the copy-on-write hook of the DB primitives.
func (db *DB) cow(slot int) {
	if sn := db.ks.snap; sn != nil {
		sn.cow(db, slot)
	}
}

// cowLate is called by Modified, after a change: a pending shard there is
// a mutation that escaped the hooks.
func (db *DB) cowLate(key []byte) {
	sn := db.ks.snap
	slot := SlotOf(key)
	if sd := sn.byArr[db.shards]; sd != nil && sd.pending[slot] {
		sn.late++
		sn.s.pst.lateCOW++
		sn.cow(db, slot)
	}
}

// snapBeforeWrite is called by client.call before a write command runs
// while a snapshot is in progress: the shards of its keys are serialized
// before the command can change them.
func (s *Server) snapBeforeWrite(c *client, cmd *Command, argv [][]byte) {
	for _, k := range cmd.keys(argv) {
		c.db.cow(SlotOf(k))
	}
}
