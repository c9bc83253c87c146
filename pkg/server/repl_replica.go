package server

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"io"
	"net"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/codisgo/codis/pkg/resp"
)

// Replica side of replication: the link to the master, the handshake, the
// RDB transfer and the application of the stream.

type linkState int

const (
	linkConnect    linkState = iota // waiting to (re)connect
	linkConnecting                  // dialing
	linkHandshake                   // PING, AUTH, REPLCONF, PSYNC
	linkTransfer                    // receiving the RDB
	linkConnected                   // applying the stream
)

func (st linkState) String() string {
	switch st {
	case linkConnecting:
		return "connecting"
	case linkHandshake:
		return "handshake"
	case linkTransfer:
		return "sync"
	case linkConnected:
		return "connected"
	}
	return "connect"
}

// masterLink is the connection of a replica to its master. Fields marked
// (mu) are guarded by Server.mu.
type masterLink struct {
	s    *Server
	host string
	port int

	state     linkState // (mu)
	downSince time.Time // (mu)
	mc        *client   // (mu) the master client while connected
	streamDB  int       // (mu) DB selected by the master's stream so far

	// master transaction being received (apply goroutine only)
	inMulti    bool
	queue      [][][]byte
	ackPending bool

	lastIO     atomic.Int64 // unix ns of the last byte from the master
	readOffset atomic.Int64 // slave_read_repl_offset
	syncTotal  atomic.Int64
	syncRead   atomic.Int64

	stopOnce sync.Once
	stopCh   chan struct{}

	connMu sync.Mutex // guards conn and writes to it
	conn   net.Conn
}

func (l *masterLink) syncPerc() float64 {
	t := l.syncTotal.Load()
	if t <= 0 {
		return 0
	}
	return float64(l.syncRead.Load()) * 100 / float64(t)
}

// close stops the link; its goroutine exits soon after.
func (l *masterLink) close() {
	l.stopOnce.Do(func() { close(l.stopCh) })
	l.connMu.Lock()
	if l.conn != nil {
		_ = l.conn.Close()
	}
	l.connMu.Unlock()
}

func (l *masterLink) stopped() bool {
	select {
	case <-l.stopCh:
		return true
	default:
		return false
	}
}

// sendAck writes REPLCONF ACK offset to the master if connected.
func (l *masterLink) sendAck(off int64) {
	l.connMu.Lock()
	defer l.connMu.Unlock()
	if l.conn == nil {
		return
	}
	_ = l.conn.SetWriteDeadline(time.Now().Add(5 * time.Second))
	_, _ = l.conn.Write(resp.AppendCommandStrings(nil, "REPLCONF", "ACK", strconv.FormatInt(off, 10)))
}

// setMaster makes this server a replica of host:port (mu held).
func (s *Server) setMaster(host string, port int) {
	r := s.replState()
	// A partial resync with the new master continues the stream in the DB
	// it had selected so far.
	streamDB := max(r.streamDB, 0)
	if old := r.link; old != nil {
		streamDB = old.streamDB
		if old.mc != nil {
			streamDB = old.mc.db.id
		}
		s.dropLink()
	}
	s.disconnectReplicas()
	l := &masterLink{s: s, host: host, port: port, stopCh: make(chan struct{}), downSince: time.Now(),
		streamDB: streamDB}
	r.link = l
	r.pending = map[*client]*replica{}
	s.updateExpireMode()
	s.startReplCron()
	s.goroutine(func() { s.replicaLoop(l) })
	s.goroutine(func() {
		select {
		case <-s.quit:
		case <-l.stopCh:
		}
		l.close()
	})
}

// dropLink stops the current master link (mu held).
func (s *Server) dropLink() {
	r := s.repl
	l := r.link
	l.close()
	if l.mc != nil {
		l.mc.closeAsync()
		l.mc = nil
	}
	r.link = nil
}

// unsetMaster promotes this replica to master (REPLICAOF NO ONE, mu
// held): the master's replication ID becomes replid2 so that the other
// replicas can continue with a partial resync.
func (s *Server) unsetMaster() {
	r := s.repl
	s.dropLink()
	if r.backlog == nil {
		r.backlog = newBacklog(s.backlogSize())
	}
	r.shiftReplID()
	r.streamDB = -1 // the next propagated command selects its DB
	s.disconnectReplicas()
	s.updateExpireMode()
}

var errLinkStopped = errors.New("replication link stopped")

// replicaLoop (re)connects to the master until the link is stopped.
func (s *Server) replicaLoop(l *masterLink) {
	delay := 50 * time.Millisecond
	for !l.stopped() {
		start := time.Now()
		err := s.replicaSession(l)
		s.mu.Lock()
		if s.repl.link == l {
			if l.state == linkConnected {
				l.downSince = time.Now()
			}
			l.state = linkConnect
		}
		mc := l.mc
		if mc != nil {
			l.streamDB = mc.db.id // a partial resync continues in this DB
		}
		l.mc = nil
		s.mu.Unlock()
		l.connMu.Lock()
		l.conn = nil
		l.connMu.Unlock()
		if mc != nil {
			mc.closeAsync()
			s.removeClient(mc)
		}
		if l.stopped() {
			return
		}
		s.log.Warn("replication link with master lost", "master", net.JoinHostPort(l.host, strconv.Itoa(l.port)), "err", err)
		if time.Since(start) > 5*time.Second {
			delay = 50 * time.Millisecond
		}
		select {
		case <-time.After(delay):
		case <-l.stopCh:
			return
		}
		delay = min(2*delay, time.Second)
	}
}

// replicaSession runs one connection to the master: handshake, sync,
// stream. It returns why it ended.
func (s *Server) replicaSession(l *masterLink) error {
	s.mu.Lock()
	if s.repl.link != l {
		s.mu.Unlock()
		return errLinkStopped
	}
	l.state = linkConnecting
	auth := s.cfg.MasterAuth
	myPort := s.cfg.Port
	announce := s.cfg.extra["replica-announce-ip"]
	if p, err := strconv.ParseInt(s.cfg.extra["replica-announce-port"], 10, 64); err == nil && p > 0 {
		myPort = p
	}
	s.mu.Unlock()
	timeout := s.replTimeout()

	d := net.Dialer{Timeout: 5 * time.Second}
	conn, err := d.Dial("tcp", net.JoinHostPort(l.host, strconv.Itoa(l.port)))
	if err != nil {
		return err
	}
	l.connMu.Lock()
	if l.stopped() {
		l.connMu.Unlock()
		conn.Close()
		return errLinkStopped
	}
	l.conn = conn
	l.connMu.Unlock()
	if tc, ok := conn.(*net.TCPConn); ok {
		_ = tc.SetNoDelay(true)
	}
	br := bufio.NewReaderSize(conn, 64<<10)
	send := func(args ...string) error {
		l.connMu.Lock()
		defer l.connMu.Unlock()
		_ = conn.SetWriteDeadline(time.Now().Add(timeout))
		_, err := conn.Write(resp.AppendCommandStrings(nil, args...))
		return err
	}
	readLine := func() (string, error) {
		for {
			_ = conn.SetReadDeadline(time.Now().Add(timeout))
			line, err := br.ReadString('\n')
			if err != nil {
				return "", err
			}
			l.lastIO.Store(time.Now().UnixNano())
			line = strings.TrimRight(line, "\r\n")
			if line != "" { // newlines are keep-alives
				return line, nil
			}
		}
	}
	cmd := func(args ...string) (string, error) {
		if err := send(args...); err != nil {
			return "", err
		}
		return readLine()
	}

	s.mu.Lock()
	l.state = linkHandshake
	s.mu.Unlock()
	if _, err := cmd("PING"); err != nil {
		return err
	}
	if auth != "" {
		reply, err := cmd("AUTH", auth)
		if err != nil {
			return err
		}
		if reply != "+OK" {
			return fmt.Errorf("unable to AUTH to MASTER: %s", reply)
		}
	}
	if _, err := cmd("REPLCONF", "listening-port", strconv.FormatInt(myPort, 10)); err != nil {
		return err
	}
	if announce != "" {
		if _, err := cmd("REPLCONF", "ip-address", announce); err != nil {
			return err
		}
	}
	if _, err := cmd("REPLCONF", "capa", "eof", "capa", "psync2"); err != nil {
		return err
	}
	s.mu.Lock()
	r := s.repl
	replid, off := "?", int64(-1)
	if r.backlog != nil {
		replid, off = r.replid, r.offset+1
	}
	s.mu.Unlock()
	reply, err := cmd("PSYNC", replid, strconv.FormatInt(off, 10))
	if err != nil {
		return err
	}
	var rest []byte
	switch {
	case strings.HasPrefix(reply, "+FULLRESYNC"):
		f := strings.Fields(reply)
		if len(f) != 3 || len(f[1]) != 40 {
			return fmt.Errorf("bad FULLRESYNC reply %q", reply)
		}
		moff, err := strconv.ParseInt(f[2], 10, 64)
		if err != nil {
			return fmt.Errorf("bad FULLRESYNC offset %q", reply)
		}
		if rest, err = s.fullResync(l, conn, br, readLine, f[1], moff, timeout); err != nil {
			return err
		}
	case strings.HasPrefix(reply, "+CONTINUE"):
		newID := strings.TrimSpace(strings.TrimPrefix(reply, "+CONTINUE"))
		s.mu.Lock()
		if s.repl.link != l {
			s.mu.Unlock()
			return errLinkStopped
		}
		if newID != "" && newID != r.replid {
			r.replid2, r.secondOffset, r.replid = r.replid, r.offset+1, newID
			s.disconnectReplicas()
		}
		s.mu.Unlock()
		s.log.Info("successful partial resynchronization with master", "offset", off)
	default:
		return fmt.Errorf("unexpected reply to PSYNC: %s", reply)
	}
	return s.applyStream(l, conn, io.MultiReader(bytes.NewReader(rest), br), timeout)
}

// countReader counts bytes for master_sync_read_bytes.
type countReader struct {
	r io.Reader
	l *masterLink
}

func (c countReader) Read(p []byte) (int, error) {
	n, err := c.r.Read(p)
	c.l.syncRead.Add(int64(n))
	if n > 0 {
		c.l.lastIO.Store(time.Now().UnixNano())
	}
	return n, err
}

// deadlineReader renews the read deadline before each read.
type deadlineReader struct {
	conn    net.Conn
	r       io.Reader
	timeout time.Duration
}

func (d deadlineReader) Read(p []byte) (int, error) {
	_ = d.conn.SetReadDeadline(time.Now().Add(d.timeout))
	return d.r.Read(p)
}

var errBadTransfer = errors.New("bad RDB transfer from master")

// fullResync receives and loads the master's RDB and returns the bytes of
// stream already read past its end.
func (s *Server) fullResync(l *masterLink, conn net.Conn, br *bufio.Reader, readLine func() (string, error),
	replid string, moff int64, timeout time.Duration) ([]byte, error) {
	s.mu.Lock()
	if s.repl.link != l {
		s.mu.Unlock()
		return nil, errLinkStopped
	}
	l.state = linkTransfer
	ndbs := len(s.ks.dbs)
	lfu, clock := s.ks.lfu, s.ks.lruClock
	s.mu.Unlock()
	hdr, err := readLine()
	if err != nil {
		return nil, err
	}
	if len(hdr) < 2 || hdr[0] != '$' {
		return nil, fmt.Errorf("%w: bulk header %q", errBadTransfer, hdr)
	}
	l.syncRead.Store(0)
	src := deadlineReader{conn: conn, r: br, timeout: timeout}
	var body io.Reader
	var limited *io.LimitedReader
	if strings.HasPrefix(hdr, "$EOF:") {
		mark := []byte(hdr[5:])
		if len(mark) != 40 {
			return nil, fmt.Errorf("%w: EOF mark %q", errBadTransfer, hdr)
		}
		l.syncTotal.Store(-1)
		body = &eofMarkReader{r: countReader{r: src, l: l}, mark: mark}
	} else {
		n, err := strconv.ParseInt(hdr[1:], 10, 64)
		if err != nil || n < 0 {
			return nil, fmt.Errorf("%w: bulk header %q", errBadTransfer, hdr)
		}
		l.syncTotal.Store(n)
		limited = &io.LimitedReader{R: countReader{r: src, l: l}, N: n}
		body = limited
	}
	start := time.Now()
	// Load into a private keyspace without the lock: clients keep being
	// served the old data until the swap below.
	ks := newKeyspace(ndbs, &stats{})
	ks.lfu, ks.lruClock = lfu, clock
	tmp := &Server{cfg: &Config{ReplicaOfHost: l.host}, ks: ks, nowFunc: s.nowFunc}
	if _, err := tmp.loadRDB(body); err != nil {
		return nil, fmt.Errorf("loading the master's RDB: %w", err)
	}
	if _, err := io.Copy(io.Discard, body); err != nil {
		return nil, fmt.Errorf("%w: after the RDB: %v", errBadTransfer, err)
	}
	if limited != nil && limited.N != 0 {
		return nil, fmt.Errorf("%w: %d bytes missing", errBadTransfer, limited.N)
	}
	var rest []byte

	s.lockKeyspace()
	defer s.mu.Unlock()
	r := s.repl
	if r.link != l {
		return nil, errLinkStopped
	}
	for i, db := range s.ks.dbs {
		db.flush()
		nd := ks.dbs[i]
		if nd.nkeys > 0 {
			db.shards, db.nkeys, db.nvol = nd.shards, nd.nkeys, nd.nvol
			db.expireCursor = 0
		}
		if s.ks.blk != nil {
			db.signalBlockedKeys()
		}
	}
	s.ks.used += ks.used
	s.ks.dirty++
	r.replid, r.replid2, r.secondOffset, r.offset = replid, nullReplID, -1, moff
	r.backlog = newBacklog(s.backlogSize())
	r.streamDB = -1
	l.streamDB = 0
	s.disconnectReplicas()
	s.aofRestartAfterSync() // the AOF must describe the new data set (aof.go)
	s.log.Info("MASTER <-> REPLICA sync: finished with success", "keys", countKeys(ks), "took", time.Since(start))
	return rest, nil
}

// eofMarkReader returns the RDB of a diskless transfer: everything before
// the 40-byte EOF mark. The master sends nothing after the mark until the
// replica's first ACK, so the mark is what ends the data read so far.
type eofMarkReader struct {
	r    io.Reader
	mark []byte
	buf  []byte
	eof  bool
}

func (e *eofMarkReader) Read(p []byte) (int, error) {
	for {
		if e.eof {
			return 0, io.EOF
		}
		if n := len(e.buf) - len(e.mark); n > 0 {
			n = copy(p, e.buf[:n])
			e.buf = e.buf[n:]
			return n, nil
		}
		if len(e.buf) == len(e.mark) && bytes.Equal(e.buf, e.mark) {
			e.eof = true
			return 0, io.EOF
		}
		if cap(e.buf)-len(e.buf) < 32<<10 {
			nb := make([]byte, len(e.buf), len(e.buf)+64<<10)
			copy(nb, e.buf)
			e.buf = nb
		}
		n, err := e.r.Read(e.buf[len(e.buf):cap(e.buf)])
		e.buf = e.buf[:len(e.buf)+n]
		if err != nil && n == 0 {
			if err == io.EOF {
				err = io.ErrUnexpectedEOF
			}
			return 0, err
		}
	}
}

func countKeys(ks *keyspace) int {
	n := 0
	for _, db := range ks.dbs {
		n += db.nkeys
	}
	return n
}

// teeReader keeps what the parser read, so that each processed command's
// exact bytes can be proxied to sub-replicas and the backlog.
type teeReader struct {
	r   io.Reader
	buf []byte
}

func (t *teeReader) Read(p []byte) (int, error) {
	n, err := t.r.Read(p)
	t.buf = append(t.buf, p[:n]...)
	return n, err
}

// applyStream registers the master client and applies the stream until
// the connection fails or the link stops.
func (s *Server) applyStream(l *masterLink, conn net.Conn, src io.Reader, timeout time.Duration) error {
	now := time.Now()
	mc := &client{s: s, conn: conn, id: s.nextID.Add(1), addr: conn.RemoteAddr().String(),
		laddr: conn.LocalAddr().String(), ctime: now, resp: 2, authed: true}
	mc.lastInteraction.Store(now.UnixNano())
	mc.inExec = true // never blocks; time is set per command below
	s.mu.Lock()
	if s.repl.link != l {
		s.mu.Unlock()
		return errLinkStopped
	}
	mc.db = s.ks.dbs[l.streamDB]
	l.mc, l.state, l.downSince = mc, linkConnected, time.Time{}
	l.inMulti, l.queue = false, nil
	maxBulk := s.cfg.ProtoMaxBulkLen
	s.mu.Unlock()
	s.nclients.Add(1)
	s.clientsMu.Lock()
	s.clients[mc.id] = mc
	s.clientsMu.Unlock()
	l.lastIO.Store(now.UnixNano())
	// The first ACK tells a diskless master to start the stream.
	s.mu.Lock()
	off := s.repl.offset
	s.mu.Unlock()
	l.sendAck(off)

	tee := &teeReader{r: deadlineReader{conn: conn, r: src, timeout: timeout}}
	p := resp.NewParser(tee)
	p.MaxBulkLen = maxBulk
	for {
		argv, err := p.ReadCommand()
		if err != nil {
			return err
		}
		t := time.Now()
		l.lastIO.Store(t.UnixNano())
		mc.lastInteraction.Store(t.UnixNano())
		s.lockKeyspace()
		r := s.repl
		if r.link != l || l.mc != mc {
			s.mu.Unlock()
			return errLinkStopped
		}
		s.ks.masterExec = true
		for argv != nil {
			consumed := len(tee.buf) - p.Buffered()
			dirty := s.ks.dirty
			s.applyMaster(l, mc, argv)
			raw := tee.buf[:consumed]
			r.write(raw)
			if len(r.feeds) > 0 {
				s.feedFromMaster(argv, raw, s.ks.dirty != dirty, l.inMulti, mc.db.id) // aof.go
			}
			tee.buf = tee.buf[consumed:]
			argv, err = p.Next()
		}
		s.ks.masterExec = false
		mc.out = mc.out[:0]
		off := r.offset
		ack := l.ackPending
		l.ackPending = false
		s.mu.Unlock()
		l.readOffset.Store(off + int64(p.Buffered()))
		if len(tee.buf) == 0 && cap(tee.buf) > 1<<20 {
			tee.buf = nil
		} else if len(tee.buf) < cap(tee.buf)/4 && cap(tee.buf) > 64<<10 {
			tee.buf = append([]byte(nil), tee.buf...)
		}
		if ack {
			l.sendAck(off)
		}
		if err != nil {
			return err
		}
	}
}

func isTxWord(b []byte) bool { return eqFold(b, "multi") || eqFold(b, "exec") }

// applyMaster executes one command of the master's stream (mu held).
func (s *Server) applyMaster(l *masterLink, mc *client, argv [][]byte) {
	cmd := lookupCommand(argv[0])
	if cmd == nil {
		s.log.Warn("unknown command in the replication stream", "cmd", string(argv[0]))
		return
	}
	if (cmd.Arity > 0 && len(argv) != cmd.Arity) || len(argv) < -cmd.Arity {
		s.log.Warn("wrong arity in the replication stream", "cmd", cmd.Name)
		return
	}
	switch cmd.Name {
	case "multi":
		l.inMulti, l.queue = true, l.queue[:0]
		return
	case "discard":
		l.inMulti, l.queue = false, l.queue[:0]
		return
	case "exec":
		if !l.inMulti {
			return
		}
		q := l.queue
		l.inMulti, l.queue = false, nil
		s.ks.now = s.nowFunc().UnixMilli()
		for _, a := range q {
			if c := lookupCommand(a[0]); c != nil {
				mc.call(c, a)
			}
		}
		mc.out = mc.out[:0]
		return
	case "replconf":
		if len(argv) >= 2 && eqFold(argv[1], "getack") {
			l.ackPending = true
		}
		return
	case "ping":
		return
	}
	if l.inMulti {
		l.queue = append(l.queue, copyArgv(argv))
		return
	}
	s.ks.now = s.nowFunc().UnixMilli()
	mc.call(cmd, argv)
	if len(mc.out) > 0 && mc.out[0] == '-' {
		s.log.Debug("error applying a command from the master", "cmd", cmd.Name, "reply", string(bytes.TrimSpace(mc.out)))
	}
	mc.out = mc.out[:0]
}
