package server

import (
	"bufio"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"strconv"
	"sync"
	"time"

	"github.com/codisgo/codis/pkg/resp"
)

// Master side of replication: PSYNC/SYNC, full and partial resync, and the
// per-replica output buffer and writer goroutine.

// replica states (INFO slaveN state=).
const (
	replWaitBgsave = "wait_bgsave"
	replSendBulk   = "send_bulk"
	replOnline     = "online"
)

// replica is one attached replica. Fields marked (mu) are guarded by
// Server.mu, the output buffer by replica.mu.
type replica struct {
	s    *Server
	c    *client
	conn net.Conn // the real connection (c.conn is wrapped once attached)

	// (mu)
	state      string
	ackOff     int64
	ackTime    time.Time
	port       int
	announceIP string
	capaEOF    bool
	capaPSYNC2 bool
	full       *fullSync // full resync in progress

	mu        sync.Mutex
	buf       []byte
	spare     []byte
	inflight  int
	softSince time.Time
	online    bool // the stream may be written (after the RDB)
	started   bool // the stream is buffered (the snapshot point passed)
	dead      bool
	wake      chan struct{}
	hard      int64
	soft      int64
	softSecs  time.Duration
}

func (rp *replica) ip() string {
	if rp.announceIP != "" {
		return rp.announceIP
	}
	if h, _, err := net.SplitHostPort(rp.c.addr); err == nil {
		return h
	}
	return rp.c.addr
}

// append queues stream bytes (Server.mu held), enforcing the replica
// output buffer limits.
func (rp *replica) append(b []byte) {
	rp.mu.Lock()
	if rp.dead || !rp.started {
		rp.mu.Unlock()
		return
	}
	rp.buf = append(rp.buf, b...)
	n := int64(len(rp.buf) + rp.inflight)
	over := rp.hard > 0 && n > rp.hard
	if rp.soft > 0 && n > rp.soft {
		now := time.Now()
		if rp.softSince.IsZero() {
			rp.softSince = now
		} else if now.Sub(rp.softSince) > rp.softSecs {
			over = true
		}
	} else {
		rp.softSince = time.Time{}
	}
	if over {
		rp.dead, rp.buf = true, nil
	}
	rp.mu.Unlock()
	if over {
		rp.s.log.Warn("replica scheduled to be closed ASAP for overcoming of output buffer limits", "addr", rp.c.addr)
		_ = rp.conn.Close()
	}
	rp.signal()
}

func (rp *replica) signal() {
	select {
	case rp.wake <- struct{}{}:
	default:
	}
}

// kill stops the replica's writer and closes its connection.
func (rp *replica) kill() {
	rp.mu.Lock()
	rp.dead, rp.buf = true, nil
	rp.mu.Unlock()
	_ = rp.conn.Close()
	rp.signal()
}

// replicaConn replaces an attached replica's client connection: the
// client goroutine keeps reading (REPLCONF ACK) through it, but its
// replies are dropped, since the writer goroutine owns the output.
type replicaConn struct {
	net.Conn
	rp *replica
}

func (w *replicaConn) Write(b []byte) (int, error) { return len(b), nil }

func (w *replicaConn) Close() error {
	w.rp.kill()
	return nil
}

// fullSync is the state of a full resync of one replica.
type fullSync struct {
	psync    bool           // PSYNC (send +FULLRESYNC) rather than SYNC
	diskless bool           // stream the snapshot with the $EOF: framing
	preamble []byte         // +FULLRESYNC line (mu)
	pipe     *io.PipeReader // diskless: the snapshot streams into the pipe
	file     *os.File       // disk: the snapshot is written here first
	done     chan error     // the snapshot's result
	mark     []byte         // diskless EOF mark
	acked    chan struct{}  // the replica's first REPLCONF ACK after the RDB
}

func syncCommand(c *client, argv [][]byte) { c.s.psync(c, nil, 0, false) }

func psyncCommand(c *client, argv [][]byte) {
	off, ok := parseInt64(argv[2])
	if !ok {
		off = -1
	}
	c.s.psync(c, argv[1], off, true)
}

// psync attaches c as a replica (mu held).
func (s *Server) psync(c *client, replid []byte, off int64, isPsync bool) {
	if c.replicaOf() != nil {
		return // already a replica: ignore, like Redis
	}
	if c.inMulti {
		c.addError("ERR Command not allowed inside a transaction")
		return
	}
	r := s.replState()
	if r.link != nil && r.link.state != linkConnected {
		c.addError("NOMASTERLINK Can't SYNC while not connected with my master")
		return
	}
	rp := r.pending[c]
	delete(r.pending, c)
	if rp == nil {
		rp = &replica{c: c}
	}
	rp.s, rp.conn = s, c.conn
	rp.wake = make(chan struct{}, 1)
	rp.hard, rp.soft, rp.softSecs = s.replicaOutputLimits()
	rp.ackTime = time.Now()

	if isPsync && s.canPartial(string(replid), off) {
		// +CONTINUE and the missing part of the backlog.
		var pre []byte
		if rp.capaPSYNC2 {
			pre = []byte("+CONTINUE " + r.replid + "\r\n")
		} else {
			pre = []byte("+CONTINUE\r\n")
		}
		if n := r.offset - off + 1; n > 0 {
			pre = r.backlog.tail(pre, n)
		}
		rp.state, rp.online, rp.started, rp.buf = replOnline, true, true, pre
		r.syncPartialOK++
		s.attach(rp, nil)
		s.log.Info("partial resynchronization accepted", "replica", c.addr, "offset", off)
		return
	}
	if isPsync && string(replid) != "?" {
		r.syncPartialErr++
	}
	r.ensureBacklog()
	fs := &fullSync{psync: isPsync, diskless: rp.capaEOF && s.cfg.extra["repl-diskless-sync"] != "no",
		acked: make(chan struct{}, 1)}
	rp.full = fs
	rp.state = replWaitBgsave
	r.syncFull++
	err := s.startFullSync(rp)
	if err != nil && !errors.Is(err, errSnapshotRunning) {
		c.addError("ERR can't start the replication snapshot: " + err.Error())
		return
	}
	// With another snapshot running, the writer retries until it can
	// start one; meanwhile the replica receives nothing.
	s.attach(rp, fs)
	s.log.Info("starting full resynchronization", "replica", c.addr, "diskless", fs.diskless)
}

// startFullSync starts the snapshot of a full resync (mu held): from this
// point the stream is buffered for rp.
func (s *Server) startFullSync(rp *replica) error {
	r, fs := s.repl, rp.full
	var w io.Writer
	if fs.diskless {
		pr, pw := io.Pipe()
		fs.pipe, w = pr, pw
		var m [20]byte
		_, _ = rand.Read(m[:])
		fs.mark = []byte(hex.EncodeToString(m[:]))
	} else {
		f, err := os.CreateTemp("", "codis-repl-*.rdb")
		if err != nil {
			return err
		}
		fs.file, w = f, f
	}
	fs.done = make(chan error, 1)
	aux := [][2]string{{"repl-stream-db", "0"}, {"repl-id", r.replid}, {"repl-offset", strconv.FormatInt(r.offset, 10)}}
	done := func(err error) {
		if pw, ok := w.(*io.PipeWriter); ok {
			if err != nil {
				_ = pw.CloseWithError(err)
			} else {
				_ = pw.Close()
			}
		}
		fs.done <- err
	}
	if _, err := s.beginSnapshot(w, aux, done); err != nil {
		if fs.file != nil {
			_ = fs.file.Close()
			_ = os.Remove(fs.file.Name())
			fs.file = nil
		}
		if fs.pipe != nil {
			_ = fs.pipe.Close()
			fs.pipe = nil
		}
		return err
	}
	r.streamDB = -1 // the replica starts without a selected DB
	if fs.psync {
		fs.preamble = []byte(fmt.Sprintf("+FULLRESYNC %s %d\r\n", r.replid, r.offset))
	}
	rp.mu.Lock()
	rp.buf, rp.started = rp.buf[:0], true
	rp.mu.Unlock()
	return nil
}

// canPartial reports whether the stream from offset off on replid is
// still in the backlog (mu held).
func (s *Server) canPartial(replid string, off int64) bool {
	r := s.repl
	if r.backlog == nil || off < 0 {
		return false
	}
	if replid != r.replid && (replid != r.replid2 || off > r.secondOffset) {
		return false
	}
	first := r.offset - r.backlog.histlen + 1
	return off >= first && off <= r.offset+1
}

// attach registers rp and starts its writer (mu held).
func (s *Server) attach(rp *replica, fs *fullSync) {
	r := s.repl
	r.ensureBacklog()
	s.clientsMu.Lock()
	rp.c.conn = &replicaConn{Conn: rp.conn, rp: rp}
	s.clientsMu.Unlock()
	r.replicas = append(r.replicas, rp)
	s.startReplCron()
	s.goroutine(func() { s.replicaWriter(rp, fs) })
}

// detach removes rp (mu held).
func (s *Server) detach(rp *replica) {
	r := s.repl
	for i, o := range r.replicas {
		if o == rp {
			r.replicas = append(r.replicas[:i:i], r.replicas[i+1:]...)
			break
		}
	}
}

var errReplicaGone = errors.New("replica connection closed")

// replicaWriter owns the writes to a replica: the preamble and RDB of a
// full resync, then the stream.
func (s *Server) replicaWriter(rp *replica, fs *fullSync) {
	defer func() {
		rp.kill()
		s.mu.Lock()
		s.detach(rp)
		s.mu.Unlock()
	}()
	timeout := s.replTimeout()
	write := func(b []byte) error {
		_ = rp.conn.SetWriteDeadline(time.Now().Add(timeout))
		_, err := rp.conn.Write(b)
		return err
	}
	if fs != nil {
		err := s.waitSnapshot(rp)
		if err == nil {
			err = s.sendRDB(rp, fs, write)
		}
		if err != nil {
			s.log.Warn("full resynchronization failed", "replica", rp.c.addr, "err", err)
			return
		}
		s.mu.Lock()
		rp.state = replOnline
		rp.ackTime = time.Now()
		rp.full = nil
		s.mu.Unlock()
		rp.mu.Lock()
		rp.online = true
		rp.mu.Unlock()
		s.log.Info("synchronization with replica succeeded", "replica", rp.c.addr)
	}
	for {
		rp.mu.Lock()
		for !rp.dead && len(rp.buf) == 0 {
			rp.mu.Unlock()
			select {
			case <-rp.wake:
			case <-s.quit:
				return
			}
			rp.mu.Lock()
		}
		if rp.dead {
			rp.mu.Unlock()
			return
		}
		out := rp.buf
		rp.buf, rp.spare = rp.spare[:0], nil
		rp.inflight = len(out)
		rp.mu.Unlock()
		err := write(out)
		rp.mu.Lock()
		rp.inflight = 0
		if cap(out) <= 1<<20 {
			rp.spare = out[:0]
		}
		rp.mu.Unlock()
		if err != nil {
			return
		}
	}
}

// waitSnapshot waits until rp's snapshot has started, retrying while
// another snapshot (e.g. BGSAVE) runs.
func (s *Server) waitSnapshot(rp *replica) error {
	for {
		s.mu.Lock()
		if rp.started {
			s.mu.Unlock()
			return nil
		}
		err := s.startFullSync(rp)
		s.mu.Unlock()
		if err == nil {
			return nil
		}
		if !errors.Is(err, errSnapshotRunning) {
			return err
		}
		if rp.isDead() {
			return errReplicaGone
		}
		select {
		case <-time.After(50 * time.Millisecond):
		case <-s.quit:
			return ErrServerClosed
		}
	}
}

// sendRDB writes the full resync preamble and the snapshot.
func (s *Server) sendRDB(rp *replica, fs *fullSync, write func([]byte) error) error {
	s.mu.Lock()
	preamble := fs.preamble
	s.mu.Unlock()
	if fs.pipe != nil {
		defer fs.pipe.Close()
		s.mu.Lock()
		rp.state = replSendBulk
		s.mu.Unlock()
		hdr := append(preamble, "$EOF:"...)
		hdr = append(hdr, fs.mark...)
		hdr = append(hdr, "\r\n"...)
		if err := write(hdr); err != nil {
			fs.pipe.CloseWithError(err)
			return err
		}
		bw := bufio.NewWriterSize(writerFunc(write), 64<<10)
		if _, err := io.Copy(bw, fs.pipe); err != nil {
			fs.pipe.CloseWithError(err)
			return err
		}
		if err := bw.Flush(); err != nil {
			return err
		}
		if err := <-fs.done; err != nil {
			return err
		}
		// An ACK that came before the mark (a replica that ACKs during
		// the transfer) is not the one that says the mark was read.
		select {
		case <-fs.acked:
		default:
		}
		if err := write(fs.mark); err != nil {
			return err
		}
		// Like Redis, start the stream on the replica's first ACK: a
		// replica looks for the mark at the end of what it has read.
		t := time.NewTimer(s.replTimeout())
		defer t.Stop()
		select {
		case <-fs.acked:
			return nil
		case <-t.C:
			return errors.New("timeout waiting for the replica's ACK after the RDB")
		case <-s.quit:
			return ErrServerClosed
		}
	}
	defer func() {
		_ = fs.file.Close()
		_ = os.Remove(fs.file.Name())
	}()
	if err := write(preamble); err != nil {
		return err
	}
	// Newlines keep the replica's link alive while the snapshot is written.
	tick := time.NewTicker(time.Second)
	defer tick.Stop()
	for {
		var err error
		select {
		case err = <-fs.done:
		case <-tick.C:
			if rp.isDead() {
				return errReplicaGone
			}
			if err := write([]byte("\n")); err != nil {
				return err
			}
			continue
		case <-s.quit:
			return ErrServerClosed
		}
		if err != nil {
			return err
		}
		break
	}
	s.mu.Lock()
	rp.state = replSendBulk
	s.mu.Unlock()
	st, err := fs.file.Stat()
	if err != nil {
		return err
	}
	if _, err := fs.file.Seek(0, io.SeekStart); err != nil {
		return err
	}
	if err := write([]byte("$" + strconv.FormatInt(st.Size(), 10) + "\r\n")); err != nil {
		return err
	}
	bw := bufio.NewWriterSize(writerFunc(write), 64<<10)
	if _, err := io.Copy(bw, fs.file); err != nil {
		return err
	}
	return bw.Flush()
}

func (rp *replica) isDead() bool {
	rp.mu.Lock()
	defer rp.mu.Unlock()
	return rp.dead
}

type writerFunc func([]byte) error

func (f writerFunc) Write(b []byte) (int, error) {
	if err := f(b); err != nil {
		return 0, err
	}
	return len(b), nil
}

// replTimeout is repl-timeout (mu not needed: read under it here).
func (s *Server) replTimeout() time.Duration {
	s.mu.Lock()
	defer s.mu.Unlock()
	if v, err := strconv.ParseInt(s.cfg.extra["repl-timeout"], 10, 64); err == nil && v > 0 {
		return time.Duration(v) * time.Second
	}
	return 60 * time.Second
}

// disconnectReplicas closes every attached replica (mu held), e.g. when
// the replication ID changes: they reconnect and resynchronize.
func (s *Server) disconnectReplicas() {
	if s.repl == nil {
		return
	}
	for _, rp := range s.repl.replicas {
		rp.kill()
	}
}

// waitCommand is WAIT numreplicas timeout: it blocks until that many
// replicas acknowledged every write made so far, or the timeout (ms, 0 =
// none) passes, and replies how many did. Like block, it releases
// Server.mu while waiting and returns with it held.
func waitCommand(c *client, argv [][]byte) {
	s := c.s
	num, ok1 := parseInt64(argv[1])
	ms, ok2 := parseInt64(argv[2])
	if !ok1 || !ok2 {
		c.addError(errNotInt)
		return
	}
	if ms < 0 {
		c.addError("ERR timeout is negative")
		return
	}
	r := s.replState()
	if r.link != nil {
		c.addError("ERR WAIT cannot be used with replica instances. Please also note that since Redis 4.0 if a replica is configured to be writable (which is not the default) writes to replicas are just local and are not propagated.")
		return
	}
	target := r.offset
	acked := func() int64 {
		var n int64
		for _, rp := range r.replicas {
			if rp.state == replOnline && rp.ackOff >= target {
				n++
			}
		}
		return n
	}
	if n := acked(); n >= num || c.inExec || len(r.replicas) == 0 {
		c.addInt(n)
		return
	}
	r.write(resp.AppendCommandStrings(nil, "REPLCONF", "GETACK", "*"))
	start := time.Now()
	defer func() { c.blockedFor += time.Since(start) }()
	if c.push != nil {
		c.pushFlushOut()
	}
	s.mu.Unlock()
	if len(c.out) > 0 && !c.flush() {
		c.closeAfterReply = true
	}
	var timeout <-chan time.Time
	if ms > 0 {
		t := time.NewTimer(time.Duration(ms) * time.Millisecond)
		defer t.Stop()
		timeout = t.C
	}
	tick := time.NewTicker(10 * time.Millisecond)
	defer tick.Stop()
	polls := 0
	for {
		gone, timedOut := c.closeAfterReply, false
		select {
		case <-tick.C:
			if polls++; polls%10 == 0 {
				c.lastInteraction.Store(time.Now().UnixNano())
				gone = c.killed.Load() || connClosed(c.conn)
			}
		case <-timeout:
			timedOut = true
		case <-s.quit:
			gone = true
		}
		s.mu.Lock()
		n := acked()
		if gone {
			c.closeAfterReply = true
			return
		}
		if n >= num || timedOut {
			c.addInt(n)
			return
		}
		s.mu.Unlock()
	}
}
