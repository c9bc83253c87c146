package server

import (
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"strconv"
	"strings"
	"time"
)

// replState is the replication state of a server: its replication ID and
// offset, the backlog, the attached replicas (master side, repl_master.go)
// and the link to its own master (replica side, repl_replica.go). It is
// created on first use (a replica attaching, REPLICAOF, a stream feed) and
// guarded by Server.mu.
type replState struct {
	s *Server

	replid       string // master_replid
	replid2      string // master_replid2 (the previous master's ID)
	offset       int64  // master_repl_offset: bytes of stream so far
	secondOffset int64  // second_repl_offset: first offset not valid for replid2 (-1 = none)
	backlog      *backlog
	streamDB     int // DB of the stream's last SELECT (-1 = none yet)

	replicas []*replica           // attached replicas (master side)
	pending  map[*client]*replica // connections that sent REPLCONF but no PSYNC yet

	feeds   []streamFeed
	feedSeq int

	// per-command propagation state (propagate.go)
	depth        int
	expCount     int64 // keys reclaimed by expiry so far
	nestedOps    int64 // commands queued by nested calls so far
	callReplaced bool
	callForce    bool // propagate the call even if dirty did not grow
	callOps      []pendOp
	callBuf      []byte
	pend         []byte
	pendOps      []pendOp
	scratch      []byte

	link *masterLink // non-nil while this server is a replica

	cronRunning bool

	syncFull, syncPartialOK, syncPartialErr int64
}

// replState returns the replication state, creating it (mu held).
func (s *Server) replState() *replState {
	if s.repl != nil {
		return s.repl
	}
	r := &replState{s: s, replid: newReplID(), replid2: nullReplID, secondOffset: -1, streamDB: -1,
		pending: map[*client]*replica{}}
	s.repl = r
	s.ks.onExpire = s.propagateExpired
	s.rdbAuxFn = func() [][2]string {
		return [][2]string{{"repl-stream-db", "0"}, {"repl-id", r.replid}, {"repl-offset", strconv.FormatInt(r.offset, 10)}}
	}
	if s.started.Load() {
		s.startReplCron()
	}
	return r
}

const nullReplID = "0000000000000000000000000000000000000000"

func newReplID() string {
	var b [20]byte
	_, _ = rand.Read(b[:])
	return hex.EncodeToString(b[:])
}

// isMaster reports whether c is the link to this replica's master.
func (c *client) isMaster() bool {
	r := c.s.repl
	return r != nil && r.link != nil && r.link.mc == c
}

// replicaOf reports whether c is an attached replica (mu held).
func (c *client) replicaOf() *replica {
	r := c.s.repl
	if r == nil {
		return nil
	}
	for _, rp := range r.replicas {
		if rp.c == c {
			return rp
		}
	}
	return nil
}

// backlog is the circular replication backlog: the last size bytes of the
// stream, which end at replState.offset.
type backlog struct {
	buf     []byte
	idx     int   // next write position
	histlen int64 // valid bytes (<= len(buf))
}

func newBacklog(size int64) *backlog {
	return &backlog{buf: make([]byte, max(size, 16*1024))}
}

func (b *backlog) add(p []byte) {
	size := len(b.buf)
	if len(p) >= size {
		copy(b.buf, p[len(p)-size:])
		b.idx, b.histlen = 0, int64(size)
		return
	}
	n := copy(b.buf[b.idx:], p)
	if n < len(p) {
		copy(b.buf, p[n:])
	}
	b.idx = (b.idx + len(p)) % size
	b.histlen = min(b.histlen+int64(len(p)), int64(size))
}

// tail appends the last n (<= histlen) bytes of the backlog to dst.
func (b *backlog) tail(dst []byte, n int64) []byte {
	size := len(b.buf)
	start := (b.idx - int(n)%size + size) % size
	if int(n) == size {
		start = b.idx
	}
	if start+int(n) <= size {
		return append(dst, b.buf[start:start+int(n)]...)
	}
	dst = append(dst, b.buf[start:]...)
	return append(dst, b.buf[:int(n)-(size-start)]...)
}

// resized returns a backlog of the new size holding the same tail.
func (b *backlog) resized(size int64) *backlog {
	nb := newBacklog(size)
	keep := min(b.histlen, int64(len(nb.buf)))
	nb.add(b.tail(nil, keep))
	return nb
}

// backlogSize is repl-backlog-size (mu held).
func (s *Server) backlogSize() int64 {
	if v, ok := parseMemory(s.cfg.extra["repl-backlog-size"]); ok && v > 0 {
		return v
	}
	return 1 << 20
}

// ensureBacklog creates the backlog; on a master without one the
// replication ID changes first, as in Redis (mu held).
func (r *replState) ensureBacklog() {
	if r.backlog != nil {
		return
	}
	if r.link == nil {
		r.replid, r.replid2, r.secondOffset = newReplID(), nullReplID, -1
	}
	r.backlog = newBacklog(r.s.backlogSize())
}

// shiftReplID keeps the current ID as replid2 (valid up to offset) and
// takes a new one: a promoted replica can then accept PSYNCs of the old
// master's replicas (PSYNC2).
func (r *replState) shiftReplID() {
	r.replid2 = r.replid
	r.secondOffset = r.offset + 1
	r.replid = newReplID()
}

// outputLimits is client-output-buffer-limit for the replica class.
func (s *Server) replicaOutputLimits() (hard, soft int64, softSecs time.Duration) {
	l := s.outputLimits("replica")
	return l.hard, l.soft, time.Duration(l.softSecs) * time.Second
}

// startReplCron starts the replication cron once (mu held).
func (s *Server) startReplCron() {
	r := s.repl
	if r == nil || r.cronRunning {
		return
	}
	r.cronRunning = true
	s.goroutine(s.replCron)
}

// replCron pings replicas, sends ACKs to the master, resizes the backlog
// and drops half-open handshakes, once a second.
func (s *Server) replCron() {
	t := time.NewTicker(time.Second)
	defer t.Stop()
	lastPing := time.Now()
	for {
		select {
		case <-s.quit:
			return
		case <-t.C:
		}
		s.mu.Lock()
		r := s.repl
		if r.backlog != nil && int64(len(r.backlog.buf)) != max(s.backlogSize(), 16*1024) {
			r.backlog = r.backlog.resized(s.backlogSize())
		}
		for c := range r.pending {
			if c.killed.Load() {
				delete(r.pending, c)
			}
		}
		s.updateExpireMode()
		period := int64(10)
		if v, err := strconv.ParseInt(s.cfg.extra["repl-ping-replica-period"], 10, 64); err == nil && v > 0 {
			period = v
		}
		if r.link == nil && len(r.replicas) > 0 && time.Since(lastPing) >= time.Duration(period)*time.Second {
			lastPing = time.Now()
			r.write([]byte(respPing)) // not a command for the feeds (AOF)
		}
		l := r.link
		off := r.offset
		// Only a replica that is streaming ACKs: during a diskless
		// transfer an ACK would tell the master to start the stream right
		// after the EOF mark, and a mark that is not at the end of what
		// was read is never found.
		ack := l != nil && l.state == linkConnected
		s.mu.Unlock()
		if ack {
			l.sendAck(off)
		}
	}
}

// updateExpireMode sets how expiry behaves on a replica: keys are not
// reclaimed by the replica itself (the master sends DELs) but hidden from
// readers, unless the replica is writable (mu held).
func (s *Server) updateExpireMode() {
	s.ks.keepExpired = s.repl != nil && s.repl.link != nil && s.cfg.ReplicaReadOnly
}

const errMasterDown = "MASTERDOWN Link with MASTER is down and replica-serve-stale-data is set to 'no'."

// staleRefused reports whether commands without the stale flag are
// refused: a replica whose link is down, with replica-serve-stale-data
// no (mu held).
func (r *replState) staleRefused() bool {
	return r.link != nil && r.link.state != linkConnected && r.s.cfg.extra["replica-serve-stale-data"] == "no"
}

// Commands.

func replconfCommand(c *client, argv [][]byte) {
	if len(argv)%2 == 0 {
		c.addError(errSyntax)
		return
	}
	r := c.s.replState()
	for i := 1; i < len(argv); i += 2 {
		opt, val := strings.ToLower(string(argv[i])), argv[i+1]
		switch opt {
		case "listening-port":
			p, ok := parseInt64(val)
			if !ok || p < 0 || p > 65535 {
				c.addError("ERR Invalid listening-port")
				return
			}
			r.handshake(c).port = int(p)
		case "ip-address":
			r.handshake(c).announceIP = string(val)
		case "capa":
			switch strings.ToLower(string(val)) {
			case "eof":
				r.handshake(c).capaEOF = true
			case "psync2":
				r.handshake(c).capaPSYNC2 = true
			}
		case "ack", "fack":
			rp := c.replicaOf()
			if rp == nil {
				return // no reply, even for unknown connections
			}
			if off, ok := parseInt64(val); ok && opt == "ack" && off > rp.ackOff {
				rp.ackOff = off
			}
			rp.ackTime = time.Now()
			if rp.full != nil {
				select {
				case rp.full.acked <- struct{}{}:
				default:
				}
			}
			return
		case "getack":
			if c.isMaster() {
				return // handled by the link
			}
			c.addOK()
			return
		case "rdb-only", "rdb-filter-only":
		default:
			c.addError(fmt.Sprintf("ERR Unrecognized REPLCONF option: %s", argv[i]))
			return
		}
	}
	c.addOK()
}

// handshake returns the replica being set up on c.
func (r *replState) handshake(c *client) *replica {
	rp := r.pending[c]
	if rp == nil {
		rp = &replica{c: c}
		r.pending[c] = rp
	}
	return rp
}

func roleCommand(c *client, argv [][]byte) {
	s := c.s
	r := s.repl
	if r == nil || r.link == nil {
		c.addArrayLen(3)
		c.addBulkString("master")
		var off int64
		if r != nil {
			off = r.offset
		}
		c.addInt(off)
		if r == nil {
			c.addArrayLen(0)
			return
		}
		var online []*replica
		for _, rp := range r.replicas {
			if rp.state == replOnline {
				online = append(online, rp)
			}
		}
		c.addArrayLen(len(online))
		for _, rp := range online {
			c.addArrayLen(3)
			c.addBulkString(rp.ip())
			c.addBulkString(strconv.Itoa(rp.port))
			c.addBulkString(strconv.FormatInt(rp.ackOff, 10))
		}
		return
	}
	l := r.link
	c.addArrayLen(5)
	c.addBulkString("slave")
	c.addBulkString(l.host)
	c.addInt(int64(l.port))
	c.addBulkString(l.state.String())
	off := int64(-1)
	if l.state == linkConnected {
		off = r.offset
	}
	c.addInt(off)
}

func replicaofCommand(c *client, argv [][]byte) {
	s := c.s
	if bytes2lower(argv[1]) == "no" && bytes2lower(argv[2]) == "one" {
		if s.repl != nil && s.repl.link != nil {
			s.log.Info("MASTER MODE enabled (user request)")
			s.unsetMaster()
		}
		s.cfg.ReplicaOfHost, s.cfg.ReplicaOfPort = "", 0
		c.addOK()
		return
	}
	port, ok := parseInt64(argv[2])
	if !ok || port < 0 || port > 65535 {
		c.addError("ERR Invalid master port")
		return
	}
	host := string(argv[1])
	if r := s.repl; r != nil && r.link != nil && r.link.host == host && r.link.port == int(port) {
		c.addSimple("OK Already connected to specified master")
		return
	}
	s.cfg.ReplicaOfHost, s.cfg.ReplicaOfPort = host, port
	s.setMaster(host, int(port))
	s.log.Info("REPLICAOF enabled (user request)", "host", host, "port", port)
	c.addOK()
}

func bytes2lower(b []byte) string { return strings.ToLower(string(b)) }

// startReplication is called by Start: it connects to the configured
// master, if any.
func (s *Server) startReplication() {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.cfg.ReplicaOfHost != "" && (s.repl == nil || s.repl.link == nil) {
		s.setMaster(s.cfg.ReplicaOfHost, int(s.cfg.ReplicaOfPort))
	}
	if s.repl != nil {
		s.startReplCron()
	}
}

// infoReplication writes the replication section of INFO (mu held).
func (s *Server) infoReplication(w func(format string, a ...any)) {
	r := s.replState()
	w("# Replication")
	if r.link == nil {
		w("role:master")
	} else {
		l := r.link
		w("role:slave")
		w("master_host:%s", l.host)
		w("master_port:%d", l.port)
		up := l.state == linkConnected
		if up {
			w("master_link_status:up")
		} else {
			w("master_link_status:down")
		}
		lastIO := int64(-1)
		if up {
			lastIO = int64(time.Since(time.Unix(0, l.lastIO.Load())).Seconds())
		}
		w("master_last_io_seconds_ago:%d", lastIO)
		w("master_sync_in_progress:%d", b2i(l.state == linkTransfer))
		w("slave_read_repl_offset:%d", l.readOffset.Load())
		w("slave_repl_offset:%d", r.offset)
		if l.state == linkTransfer {
			w("master_sync_total_bytes:%d", l.syncTotal.Load())
			w("master_sync_read_bytes:%d", l.syncRead.Load())
			w("master_sync_left_bytes:%d", max(l.syncTotal.Load()-l.syncRead.Load(), -1))
			w("master_sync_perc:%.2f", l.syncPerc())
			w("master_sync_last_io_seconds_ago:%d", int64(time.Since(time.Unix(0, l.lastIO.Load())).Seconds()))
		}
		if !up {
			down := int64(-1)
			if !l.downSince.IsZero() {
				down = int64(time.Since(l.downSince).Seconds())
			}
			w("master_link_down_since_seconds:%d", down)
		}
		prio := s.cfg.extra["replica-priority"]
		if prio == "" {
			prio = "100"
		}
		w("slave_priority:%s", prio)
		w("slave_read_only:%d", b2i(s.cfg.ReplicaReadOnly))
		w("replica_announced:1")
	}
	w("connected_slaves:%d", len(r.replicas))
	for i, rp := range r.replicas {
		lag := int64(time.Since(rp.ackTime).Seconds())
		if rp.ackTime.IsZero() {
			lag = 0
		}
		w("slave%d:ip=%s,port=%d,state=%s,offset=%d,lag=%d", i, rp.ip(), rp.port, rp.state, rp.ackOff, lag)
	}
	w("master_failover_state:no-failover")
	w("master_replid:%s", r.replid)
	w("master_replid2:%s", r.replid2)
	w("master_repl_offset:%d", r.offset)
	w("second_repl_offset:%d", r.secondOffset)
	if b := r.backlog; b != nil {
		w("repl_backlog_active:1")
		w("repl_backlog_size:%d", len(b.buf))
		w("repl_backlog_first_byte_offset:%d", r.offset-b.histlen+1)
		w("repl_backlog_histlen:%d", b.histlen)
	} else {
		w("repl_backlog_active:0")
		w("repl_backlog_size:%d", s.backlogSize())
		w("repl_backlog_first_byte_offset:0")
		w("repl_backlog_histlen:0")
	}
}

// infoReplStats writes the replication counters of INFO stats (mu held).
func (s *Server) infoReplStats(w func(format string, a ...any)) {
	var full, ok, bad int64
	if r := s.repl; r != nil {
		full, ok, bad = r.syncFull, r.syncPartialOK, r.syncPartialErr
	}
	w("sync_full:%d", full)
	w("sync_partial_ok:%d", ok)
	w("sync_partial_err:%d", bad)
}
