package proxy

import (
	"bytes"
	"errors"
	"log/slog"
	"math/rand/v2"
	"net"
	"runtime"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	"github.com/codisgo/codis/pkg/resp"
	"github.com/codisgo/codis/pkg/utils/netpoll"
)

// Backend connection states (SPEC-data §D.9).
const (
	stateDisconnected int32 = iota
	stateConnected
	stateDataStale
)

// Backend error texts seen by clients (SPEC-data §D.7).
const (
	errTextConnReset   = "ERR handle response, backend conn reset"
	errTextConnFailure = "ERR handle response, backend conn failure, "
	errTextBroken      = "ERR handle response, request is broken"
)

// Reconnect policy (SPEC-data §D.9).
const (
	dialTimeout        = 5 * time.Second
	immediateRetries   = 10
	minReconnectDelay  = 50 * time.Millisecond
	maxReconnectDelay  = 5 * time.Second
	backendInputQueue  = 1024
	maxBackendWriteBuf = 1 << 20 // flush a batch once it reaches this size
)

// backendOptions are the per-connection settings taken from Config.
type backendOptions struct {
	auth        string
	recvBufsize int
	sendBufsize int
	recvTimeout time.Duration
	sendTimeout time.Duration
	keepAlive   time.Duration
	maxPipeline int
	logger      *slog.Logger
}

// backendConn is one TCP connection to a backend for one database. A
// writer goroutine batches queued requests into one write; a reader
// goroutine completes them in FIFO order. If the link fails, every
// outstanding request is failed promptly and the connection redials.
type backendConn struct {
	addr string
	db   int
	opt  *backendOptions

	input chan *Request
	state atomic.Int32
	quit  chan struct{}
	once  sync.Once
	wg    sync.WaitGroup

	// internal keepalive request in flight (0/1), to avoid piling pings
	pinging atomic.Bool
	// busySince is when the writer queued a request while none was
	// outstanding (unix ns), for the receive timeout.
	busySince atomic.Int64
	pool      *requestPool
}

func newBackendConn(addr string, db int, opt *backendOptions, pool *requestPool) *backendConn {
	bc := &backendConn{
		addr:  addr,
		db:    db,
		opt:   opt,
		input: make(chan *Request, backendInputQueue),
		quit:  make(chan struct{}),
		pool:  pool,
	}
	bc.wg.Add(1)
	go bc.run()
	return bc
}

// Addr returns the backend address.
func (bc *backendConn) Addr() string { return bc.addr }

// IsConnected reports whether the link is up and not data-stale.
func (bc *backendConn) IsConnected() bool { return bc.state.Load() == stateConnected }

// push queues r. If the connection is closed r fails immediately.
func (bc *backendConn) push(r *Request) {
	r.dispatched = true
	select {
	case bc.input <- r: // fast path: a single-case select compiles to a plain non-blocking send
		if bc.closed() {
			bc.failQueued()
		}
		return
	default:
	}
	select {
	case bc.input <- r:
		if bc.closed() {
			// run may already have drained the queue for the last time.
			bc.failQueued()
		}
	case <-bc.quit:
		r.fail(errTextConnReset)
	}
}

// close stops the connection; queued requests fail with "conn reset".
func (bc *backendConn) close() {
	bc.once.Do(func() { close(bc.quit) })
	bc.wg.Wait()
}

func (bc *backendConn) closed() bool {
	select {
	case <-bc.quit:
		return true
	default:
		return false
	}
}

// failQueued fails every request currently queued.
func (bc *backendConn) failQueued() {
	for {
		select {
		case r := <-bc.input:
			r.fail(errTextConnReset)
		default:
			return
		}
	}
}

func (bc *backendConn) run() {
	defer bc.wg.Done()
	defer bc.failQueued()
	failures := 0
	delay := minReconnectDelay
	for !bc.closed() {
		conn, err := bc.dial()
		if err != nil {
			bc.state.Store(stateDisconnected)
			failures++
			bc.failQueued()
			if failures > immediateRetries {
				if bc.opt.logger != nil && (failures == immediateRetries+1 || delay == maxReconnectDelay) {
					bc.opt.logger.Warn("backend dial failed", "addr", bc.addr, "db", bc.db, "err", err)
				}
				if !bc.sleepFailing(delay) {
					return
				}
				delay = min(delay*2, maxReconnectDelay)
			}
			continue
		}
		failures, delay = 0, minReconnectDelay
		bc.state.Store(stateConnected)
		bc.serve(conn)
		bc.state.Store(stateDisconnected)
	}
}

// sleepFailing waits d while failing newly queued requests; it returns
// false if the connection was closed.
func (bc *backendConn) sleepFailing(d time.Duration) bool {
	t := time.NewTimer(d)
	defer t.Stop()
	for {
		select {
		case <-bc.quit:
			return false
		case <-t.C:
			return true
		case r := <-bc.input:
			r.fail(errTextConnReset)
		}
	}
}

var errBadAuthReply = errors.New("bad auth reply")

// dial connects and sends AUTH / SELECT.
func (bc *backendConn) dial() (net.Conn, error) {
	d := net.Dialer{Timeout: dialTimeout, KeepAlive: bc.opt.keepAlive}
	if bc.opt.keepAlive <= 0 {
		d.KeepAlive = -1
	}
	conn, err := d.Dial("tcp", bc.addr)
	if err != nil {
		return nil, err
	}
	var cmd []byte
	n := 0
	if bc.opt.auth != "" {
		cmd = resp.AppendCommandStrings(cmd, "AUTH", bc.opt.auth)
		n++
	}
	if bc.db != 0 {
		cmd = resp.AppendCommandStrings(cmd, "SELECT", strconv.Itoa(bc.db))
		n++
	}
	if n == 0 {
		return netpoll.Wrap(conn), nil
	}
	conn.SetDeadline(time.Now().Add(dialTimeout))
	if _, err := conn.Write(cmd); err != nil {
		conn.Close()
		return nil, err
	}
	rr := resp.NewReplyReader(conn)
	for i := 0; i < n; i++ {
		rep, err := rr.ReadReply()
		if err != nil {
			conn.Close()
			return nil, err
		}
		if rep.Kind != resp.KindSimple {
			conn.Close()
			return nil, errors.Join(errBadAuthReply, errors.New(rep.Str))
		}
	}
	if rr.Buffered() != 0 {
		conn.Close()
		return nil, errBadAuthReply
	}
	conn.SetDeadline(time.Time{})
	return netpoll.Wrap(conn), nil
}

// serve runs one established link until it fails or bc is closed.
func (bc *backendConn) serve(conn net.Conn) {
	inflight := make(chan *Request, max(bc.opt.maxPipeline, 1))
	readerDone := make(chan struct{})
	go func() {
		defer close(readerDone)
		bc.loopReader(conn, inflight)
		conn.Close()
	}()

	bc.loopWriter(conn, inflight, readerDone)

	conn.Close()
	<-readerDone
	for {
		select {
		case r := <-inflight:
			r.fail(errTextConnReset)
		default:
			return
		}
	}
}

func (bc *backendConn) loopWriter(conn net.Conn, inflight chan<- *Request, readerDone <-chan struct{}) {
	bufsize := max(bc.opt.sendBufsize, 4096)
	buf := make([]byte, 0, bufsize)
	wdl := lazyDeadline{timeout: bc.opt.sendTimeout, set: conn.SetWriteDeadline}
	threshold := max(bc.opt.maxPipeline/2, 1)
	batched := 0
	var now time.Time // read for this batch, if it was needed already
	write := func() bool {
		if now.IsZero() {
			wdl.refresh()
		} else {
			wdl.refreshAt(now)
			now = time.Time{}
		}
		_, err := conn.Write(buf)
		if err != nil {
			if bc.opt.logger != nil {
				bc.opt.logger.Warn("backend write failed", "addr", bc.addr, "db", bc.db, "err", err)
			}
			return false
		}
		if cap(buf) > bufsize {
			buf = make([]byte, 0, bufsize) // a huge request passed
		}
		buf = buf[:0]
		batched = 0
		return true
	}
	for {
		var r *Request
		select {
		case r = <-bc.input: // fast path without the three-way select
		default:
			select {
			case <-bc.quit:
				return
			case <-readerDone:
				return
			case r = <-bc.input:
			}
		}
		if r.readOnly && r.isBroken() {
			// A read for a client that is gone: drop it. Requests already
			// batched must still be written below.
			r.fail(errTextBroken)
		} else {
			if len(buf) != 0 && len(buf)+len(r.cmd) > cap(buf) {
				// Write the batch rather than grow the buffer: regrowing
				// it for every large batch cost more than the call.
				if !write() {
					r.fail(errTextConnReset)
					return
				}
			}
			buf = append(buf, r.cmd...)
			if len(inflight) == 0 {
				now = time.Now()
				bc.busySince.Store(now.UnixNano())
			}
			select {
			case inflight <- r:
			default:
				select {
				case inflight <- r:
				case <-readerDone:
					r.fail(errTextConnReset)
					return
				}
			}
			batched++
		}
		if len(buf) == 0 {
			continue
		}
		if batched < threshold && len(buf) < maxBackendWriteBuf {
			if len(bc.input) != 0 {
				continue
			}
			// Let session readers that are already runnable queue
			// their requests too, so one write carries several.
			runtime.Gosched()
			if len(bc.input) != 0 {
				continue
			}
		}
		if !write() {
			return
		}
	}
}

// loopReader completes requests in FIFO order as their replies arrive.
// It blocks in Read even when nothing is outstanding (one wake-up per
// reply batch instead of two); the receive timeout therefore only counts
// while requests are outstanding and no reply has arrived for that long.
// The writer queues a request in inflight before writing it, so a reply
// always finds its request.
func (bc *backendConn) loopReader(conn net.Conn, inflight <-chan *Request) {
	size := max(bc.opt.recvBufsize, 4096)
	buf := make([]byte, size)
	rpos, wpos := 0, 0
	timeout := bc.opt.recvTimeout
	rdl := lazyDeadline{timeout: timeout, set: conn.SetReadDeadline}
	lastReply := time.Now()
	failHead := func(msg string) {
		select {
		case r := <-inflight:
			r.fail(msg)
		default:
		}
	}
	for {
		replied := false
		for rpos < wpos {
			n, err := resp.ScanReplyLimits(buf[rpos:wpos], maxReplyBulk, maxReplyArray)
			if err != nil {
				failHead(errTextConnFailure + err.Error())
				bc.logFailure("backend reply rejected", err)
				return
			}
			if n == 0 {
				break
			}
			var r *Request
			select {
			case r = <-inflight:
			default:
				bc.logFailure("backend sent an unexpected reply", errUnexpectedReply)
				return
			}
			r.reply = append(r.reply[:0], buf[rpos:rpos+n]...)
			rpos += n
			bc.checkState(r)
			r.complete()
			replied = true
		}
		if replied {
			lastReply = time.Now()
			rdl.refreshAt(lastReply)
		} else {
			rdl.refresh()
		}
		// Need more data: compact, grow if full (a large reply), read.
		if rpos == wpos {
			rpos, wpos = 0, 0
			if len(buf) > 4*size { // a huge reply passed: shrink back
				buf = make([]byte, size)
			}
		} else if rpos > 0 {
			wpos = copy(buf, buf[rpos:wpos])
			rpos = 0
		}
		if wpos == len(buf) {
			nb := make([]byte, 2*len(buf))
			copy(nb, buf[:wpos])
			buf = nb
		}
		m, err := conn.Read(buf[wpos:])
		wpos += m
		if err == nil || m > 0 {
			continue
		}
		var ne net.Error
		if errors.As(err, &ne) && ne.Timeout() && timeout > 0 {
			since := max(lastReply.UnixNano(), bc.busySince.Load())
			if len(inflight) == 0 || time.Now().UnixNano()-since < int64(timeout) {
				rdl.expires = time.Time{} // idle or not overdue: re-arm
				continue
			}
		}
		failHead(errTextConnFailure + err.Error())
		bc.logFailure("backend read failed", err)
		return
	}
}

var errUnexpectedReply = errors.New("reply without a request")

// Backend reply limits. Unlike the original (which applied its request
// limits and reset the shared connection on a reply with more than
// 1,048,576 elements, e.g. a large LRANGE), any aggregate a server can
// produce is forwarded; bulks are bounded by Redis's own maximum string
// size.
const (
	maxReplyBulk  = resp.ScanMaxBulkLen
	maxReplyArray = 1<<31 - 1
)

func (bc *backendConn) logFailure(msg string, err error) {
	if bc.opt.logger != nil && !bc.closed() {
		bc.opt.logger.Warn(msg, "addr", bc.addr, "db", bc.db, "err", err)
	}
}

var (
	prefixMasterDown = []byte("-MASTERDOWN")
	prefixLoading    = []byte("-LOADING")
)

// checkState applies the DataStale rules to a reply (SPEC-data §D.9).
func (bc *backendConn) checkState(r *Request) {
	rep := r.reply
	if len(rep) > 0 && rep[0] == '-' {
		if bytes.HasPrefix(rep, prefixMasterDown) || bytes.HasPrefix(rep, prefixLoading) {
			bc.state.CompareAndSwap(stateConnected, stateDataStale)
		}
		return
	}
	if r.kind == internalInfo && bc.state.Load() == stateDataStale {
		if !bytes.Contains(rep, []byte("master_link_status:down")) && !bytes.Contains(rep, []byte("loading:1")) {
			bc.state.CompareAndSwap(stateDataStale, stateConnected)
		}
	}
}

// keepAlive queues a PING (or INFO when data-stale) if the queue is idle.
func (bc *backendConn) keepAlive() {
	if len(bc.input) != 0 || bc.closed() || !bc.pinging.CompareAndSwap(false, true) {
		return
	}
	r := bc.pool.get()
	r.conn = bc
	if bc.state.Load() == stateDataStale {
		r.kind = internalInfo
		r.cmd = resp.AppendCommandStrings(r.cmd[:0], "INFO")
	} else {
		r.kind = internalPing
		r.cmd = resp.AppendCommandStrings(r.cmd[:0], "PING")
	}
	select {
	case bc.input <- r:
	default:
		bc.internalDone(r)
	}
}

// internalDone releases a keepalive request.
func (bc *backendConn) internalDone(r *Request) {
	bc.pool.put(r)
	bc.pinging.Store(false)
}

// sharedBackendConn is the set of connections to one address:
// conns[db][i] for every database and parallel index. It is reference
// counted by the slots that use it.
type sharedBackendConn struct {
	addr  string
	conns [][]*backendConn
	refs  int // guarded by backendPool.mu
}

// get returns the connection for db, choosing among parallel connections
// the first connected one after a pseudo-random start. With must set it
// falls back to connection 0; otherwise it returns nil if none is usable.
func (s *sharedBackendConn) get(db int, must bool) *backendConn {
	if db < 0 || db >= len(s.conns) {
		return nil
	}
	list := s.conns[db]
	if len(list) == 1 {
		if must || list[0].IsConnected() {
			return list[0]
		}
		return nil
	}
	start := rand.IntN(len(list))
	for i := range list {
		bc := list[(start+i)%len(list)]
		if bc.IsConnected() {
			return bc
		}
	}
	if must {
		return list[0]
	}
	return nil
}

func (s *sharedBackendConn) close() {
	var wg sync.WaitGroup
	for _, list := range s.conns {
		for _, bc := range list {
			wg.Add(1)
			go func() { defer wg.Done(); bc.close() }()
		}
	}
	wg.Wait()
}

// backendPool owns the shared connections of one kind (primary or
// replica), keyed by address.
type backendPool struct {
	mu       sync.Mutex // protects conns and closed
	conns    map[string]*sharedBackendConn
	closed   bool
	parallel int
	dbs      int
	opt      *backendOptions
	reqs     *requestPool
}

func newBackendPool(parallel, dbs int, opt *backendOptions, reqs *requestPool) *backendPool {
	return &backendPool{
		conns:    make(map[string]*sharedBackendConn),
		parallel: max(parallel, 1),
		dbs:      max(dbs, 1),
		opt:      opt,
		reqs:     reqs,
	}
}

// retain returns the shared connection for addr, creating (and dialing)
// it on first use, and takes a reference.
func (p *backendPool) retain(addr string) *sharedBackendConn {
	p.mu.Lock()
	defer p.mu.Unlock()
	if s := p.conns[addr]; s != nil {
		s.refs++
		return s
	}
	s := &sharedBackendConn{addr: addr, refs: 1, conns: make([][]*backendConn, p.dbs)}
	for db := range s.conns {
		s.conns[db] = make([]*backendConn, p.parallel)
		for i := range s.conns[db] {
			s.conns[db][i] = newBackendConn(addr, db, p.opt, p.reqs)
		}
	}
	p.conns[addr] = s
	return s
}

// release drops a reference; the last one closes the connections.
func (p *backendPool) release(s *sharedBackendConn) {
	if s == nil {
		return
	}
	p.mu.Lock()
	s.refs--
	last := s.refs == 0
	if last {
		delete(p.conns, s.addr)
	}
	p.mu.Unlock()
	if last {
		s.close()
	}
}

// lookup returns the shared connection for addr if one exists.
func (p *backendPool) lookup(addr string) *sharedBackendConn {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.conns[addr]
}

// keepAlive pings every idle connection.
func (p *backendPool) keepAlive() {
	p.mu.Lock()
	defer p.mu.Unlock()
	for _, s := range p.conns {
		for _, list := range s.conns {
			for _, bc := range list {
				bc.keepAlive()
			}
		}
	}
}

// states counts connections by state for metrics.
func (p *backendPool) states() (connected, stale, down int) {
	p.mu.Lock()
	defer p.mu.Unlock()
	for _, s := range p.conns {
		for _, list := range s.conns {
			for _, bc := range list {
				switch bc.state.Load() {
				case stateConnected:
					connected++
				case stateDataStale:
					stale++
				default:
					down++
				}
			}
		}
	}
	return
}

// closeAll closes every connection regardless of references.
func (p *backendPool) closeAll() {
	p.mu.Lock()
	conns := p.conns
	p.conns = make(map[string]*sharedBackendConn)
	p.closed = true
	p.mu.Unlock()
	for _, s := range conns {
		s.close()
	}
}
