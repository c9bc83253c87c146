//go:build linux

package netpoll

import (
	"io"
	"net"
	"os"
	"sync"
	"sync/atomic"
	"syscall"
	"time"
	"unsafe"
)

// poller is one epoll instance and the goroutine that collects its events.
// Sockets are registered edge-triggered for input and output; every event
// leaves a token in the Conn's read and/or write channel.
type poller struct {
	epfd int
	rc   syscall.RawConn // the epoll descriptor on Go's poller

	mu    sync.RWMutex
	conns []*Conn // by descriptor
	gen   uint32

	events [256]syscall.EpollEvent
}

var (
	sharedOnce   sync.Once
	sharedPoller *poller
)

func shared() *poller {
	sharedOnce.Do(func() {
		p, err := newPoller()
		if err == nil {
			sharedPoller = p
			go p.loop()
		}
	})
	return sharedPoller
}

func newPoller() (*poller, error) {
	epfd, err := syscall.EpollCreate1(syscall.EPOLL_CLOEXEC)
	if err != nil {
		return nil, os.NewSyscallError("epoll_create1", err)
	}
	if err := syscall.SetNonblock(epfd, true); err != nil {
		syscall.Close(epfd)
		return nil, os.NewSyscallError("fcntl", err)
	}
	// A non-blocking descriptor handed to os.NewFile is registered with
	// Go's poller; an epoll descriptor is readable while it has events.
	f := os.NewFile(uintptr(epfd), "netpoll")
	// Deadlines work only on descriptors the runtime polls: this fails if
	// the registration did.
	if err := f.SetReadDeadline(time.Time{}); err != nil {
		f.Close()
		return nil, err
	}
	rc, err := f.SyscallConn()
	if err != nil {
		f.Close()
		return nil, err
	}
	// f is kept reachable by the loop through rc; it is never closed.
	return &poller{epfd: epfd, rc: rc}, nil
}

// loop collects events for ever. Each round first asks epoll without
// waiting and parks on Go's poller only when nothing is pending, so no
// thread ever blocks in epoll_wait.
func (p *poller) loop() {
	var n int
	var werr error
	try := func(uintptr) bool {
		for {
			n, werr = epollWaitNow(p.epfd, p.events[:])
			if werr != syscall.EINTR {
				return n > 0 || werr != nil
			}
		}
	}
	for {
		if err := p.rc.Read(try); err != nil {
			panic("netpoll: waiting on the epoll descriptor: " + err.Error())
		}
		if werr != nil {
			panic("netpoll: epoll_wait: " + werr.Error())
		}
		p.dispatch(p.events[:n])
	}
}

func (p *poller) dispatch(evs []syscall.EpollEvent) {
	p.mu.RLock()
	for i := range evs {
		ev := &evs[i]
		fd := int(ev.Fd)
		if fd < 0 || fd >= len(p.conns) {
			continue
		}
		c := p.conns[fd]
		if c == nil || c.gen != uint32(ev.Pad) {
			continue // closed since; the descriptor may be reused
		}
		if ev.Events&(syscall.EPOLLIN|syscall.EPOLLRDHUP|syscall.EPOLLHUP|syscall.EPOLLERR) != 0 {
			notify(c.rtok)
		}
		if ev.Events&(syscall.EPOLLOUT|syscall.EPOLLHUP|syscall.EPOLLERR) != 0 {
			notify(c.wtok)
		}
	}
	p.mu.RUnlock()
}

// notify leaves a token unless one is already waiting.
func notify(ch chan struct{}) {
	select {
	case ch <- struct{}{}:
	default:
	}
}

const epollET = 1 << 31 // syscall.EPOLLET is negative in package syscall

func (p *poller) add(c *Conn) error {
	p.mu.Lock()
	p.gen++
	c.gen = p.gen
	if c.fd >= len(p.conns) {
		n := max(2*len(p.conns), c.fd+1, 64)
		conns := make([]*Conn, n)
		copy(conns, p.conns)
		p.conns = conns
	}
	p.conns[c.fd] = c
	p.mu.Unlock()
	ev := syscall.EpollEvent{
		Events: syscall.EPOLLIN | syscall.EPOLLOUT | syscall.EPOLLRDHUP | epollET,
		Fd:     int32(c.fd),
		Pad:    int32(c.gen),
	}
	if err := syscall.EpollCtl(p.epfd, syscall.EPOLL_CTL_ADD, c.fd, &ev); err != nil {
		p.remove(c)
		return os.NewSyscallError("epoll_ctl", err)
	}
	return nil
}

// remove forgets c; its descriptor must still be open.
func (p *poller) remove(c *Conn) {
	_ = syscall.EpollCtl(p.epfd, syscall.EPOLL_CTL_DEL, c.fd, nil)
	p.mu.Lock()
	if c.fd < len(p.conns) && p.conns[c.fd] == c {
		p.conns[c.fd] = nil
	}
	p.mu.Unlock()
}

// Conn is a socket served by the shared poller. Read, Write and Close may
// be called from different goroutines; like net.Conn, concurrent Reads (or
// concurrent Writes) are not meaningful and must not be made.
type Conn struct {
	p     *poller
	fd    int
	gen   uint32
	laddr net.Addr
	raddr net.Addr
	netw  string

	rtok chan struct{} // readiness tokens, capacity 1
	wtok chan struct{}
	// rhot: the last read filled its buffer, so more may be pending: read
	// before waiting for a token. Only the reading goroutine uses it.
	rhot bool

	// refs counts the open Conn itself plus each operation in progress;
	// the descriptor is closed when it drops to zero after Close.
	refs     atomic.Int32
	closing  atomic.Bool
	fdClosed atomic.Bool

	rdl, wdl deadline
}

func wrap(conn net.Conn) net.Conn {
	sc, ok := conn.(syscall.Conn)
	if !ok {
		return conn
	}
	p := shared()
	if p == nil {
		return conn
	}
	rc, err := sc.SyscallConn()
	if err != nil {
		return conn
	}
	nfd := -1
	var derr error
	if err := rc.Control(func(fd uintptr) { nfd, derr = dupCloexec(int(fd)) }); err != nil || derr != nil {
		return conn
	}
	c := &Conn{
		p:     p,
		fd:    nfd,
		laddr: conn.LocalAddr(),
		raddr: conn.RemoteAddr(),
		netw:  conn.LocalAddr().Network(),
		rtok:  make(chan struct{}, 1),
		wtok:  make(chan struct{}, 1),
		rhot:  true, // the first request is often there already
	}
	c.refs.Store(1)
	c.rdl.tok, c.wdl.tok = c.rtok, c.wtok
	if err := p.add(c); err != nil {
		syscall.Close(nfd)
		return conn
	}
	// The duplicate shares the socket (and its O_NONBLOCK flag); closing
	// Go's descriptor takes it off the runtime poller without a FIN.
	conn.Close()
	return c
}

// The socket and epoll calls below never block (the descriptors are
// non-blocking, the epoll timeout is zero), so they are made as raw system
// calls: without the runtime's syscall entry and exit, Go's monitor thread
// never hands the processor to another thread while one is in progress.
// With one processor (GOMAXPROCS=1, codis-server's default) those
// hand-offs, a futex wake and two thread switches each, were the largest
// single cost of a request round trip on a virtual machine.

func rawRead(fd int, b []byte) (int, error) {
	r, _, e := syscall.RawSyscall(syscall.SYS_READ, uintptr(fd), uintptr(unsafe.Pointer(unsafe.SliceData(b))), uintptr(len(b)))
	if e != 0 {
		return 0, e
	}
	return int(r), nil
}

func rawWrite(fd int, b []byte) (int, error) {
	r, _, e := syscall.RawSyscall(syscall.SYS_WRITE, uintptr(fd), uintptr(unsafe.Pointer(unsafe.SliceData(b))), uintptr(len(b)))
	if e != 0 {
		return 0, e
	}
	return int(r), nil
}

func epollWaitNow(epfd int, evs []syscall.EpollEvent) (int, error) {
	r, _, e := syscall.RawSyscall6(syscall.SYS_EPOLL_PWAIT, uintptr(epfd), uintptr(unsafe.Pointer(&evs[0])), uintptr(len(evs)), 0, 0, 0)
	if e != 0 {
		return 0, e
	}
	return int(r), nil
}

func dupCloexec(fd int) (int, error) {
	r, _, e := syscall.Syscall(syscall.SYS_FCNTL, uintptr(fd), syscall.F_DUPFD_CLOEXEC, 0)
	if e != 0 {
		return -1, e
	}
	return int(r), nil
}

func (c *Conn) acquire() bool {
	if c.refs.Add(1) <= 1 || c.closing.Load() {
		c.release()
		return false
	}
	return true
}

func (c *Conn) release() {
	if c.refs.Add(-1) == 0 && c.fdClosed.CompareAndSwap(false, true) {
		syscall.Close(c.fd)
	}
}

// wait blocks until a token arrives on tok, the deadline passes or the
// Conn is closed.
func (c *Conn) wait(tok chan struct{}, d *deadline) error {
	for {
		if c.closing.Load() {
			return net.ErrClosed
		}
		if d.expired() {
			return os.ErrDeadlineExceeded
		}
		<-tok
		if !c.closing.Load() && !d.expired() {
			return nil
		}
	}
}

func (c *Conn) opError(op string, err error) error {
	return &net.OpError{Op: op, Net: c.netw, Source: c.laddr, Addr: c.raddr, Err: err}
}

// Read reads what the socket has, waiting for an event first unless the
// previous read filled its buffer.
func (c *Conn) Read(b []byte) (int, error) {
	if !c.acquire() {
		return 0, c.opError("read", net.ErrClosed)
	}
	defer c.release()
	if len(b) == 0 {
		return 0, nil
	}
	for {
		if !c.rhot {
			if err := c.wait(c.rtok, &c.rdl); err != nil {
				return 0, c.opError("read", err)
			}
		}
		n, err := rawRead(c.fd, b)
		switch err {
		case nil:
			if n == 0 {
				c.rhot = true // EOF stays readable
				return 0, io.EOF
			}
			c.rhot = n == len(b)
			return n, nil
		case syscall.EINTR:
			c.rhot = true
		case syscall.EAGAIN:
			c.rhot = false
		default:
			c.rhot = true
			return 0, c.opError("read", os.NewSyscallError("read", err))
		}
	}
}

// Write writes all of b, waiting for the socket to drain when it is full.
func (c *Conn) Write(b []byte) (int, error) {
	if !c.acquire() {
		return 0, c.opError("write", net.ErrClosed)
	}
	defer c.release()
	nn := 0
	for nn < len(b) {
		n, err := rawWrite(c.fd, b[nn:])
		if n > 0 {
			nn += n
		}
		switch err {
		case nil:
			if n == 0 {
				return nn, c.opError("write", io.ErrUnexpectedEOF)
			}
		case syscall.EINTR:
		case syscall.EAGAIN:
			if err := c.wait(c.wtok, &c.wdl); err != nil {
				return nn, c.opError("write", err)
			}
		default:
			return nn, c.opError("write", os.NewSyscallError("write", err))
		}
	}
	return nn, nil
}

// Close takes the socket off the poller and wakes blocked calls; the
// descriptor is closed when the last of them returns.
func (c *Conn) Close() error {
	if c.closing.Swap(true) {
		return c.opError("close", net.ErrClosed)
	}
	c.p.remove(c)
	c.rdl.stop()
	c.wdl.stop()
	notify(c.rtok)
	notify(c.wtok)
	c.release()
	return nil
}

func (c *Conn) LocalAddr() net.Addr  { return c.laddr }
func (c *Conn) RemoteAddr() net.Addr { return c.raddr }

func (c *Conn) SetDeadline(t time.Time) error {
	if c.closing.Load() {
		return c.opError("set", net.ErrClosed)
	}
	c.rdl.set(t)
	c.wdl.set(t)
	return nil
}

func (c *Conn) SetReadDeadline(t time.Time) error {
	if c.closing.Load() {
		return c.opError("set", net.ErrClosed)
	}
	c.rdl.set(t)
	return nil
}

func (c *Conn) SetWriteDeadline(t time.Time) error {
	if c.closing.Load() {
		return c.opError("set", net.ErrClosed)
	}
	c.wdl.set(t)
	return nil
}

// SyscallConn gives raw access to the socket (syscall.Conn).
func (c *Conn) SyscallConn() (syscall.RawConn, error) { return rawConn{c}, nil }

type rawConn struct{ c *Conn }

func (r rawConn) Control(f func(fd uintptr)) error {
	if !r.c.acquire() {
		return net.ErrClosed
	}
	defer r.c.release()
	f(uintptr(r.c.fd))
	return nil
}

func (r rawConn) Read(f func(fd uintptr) bool) error {
	if !r.c.acquire() {
		return net.ErrClosed
	}
	defer r.c.release()
	for !f(uintptr(r.c.fd)) {
		if err := r.c.wait(r.c.rtok, &r.c.rdl); err != nil {
			return err
		}
	}
	return nil
}

func (r rawConn) Write(f func(fd uintptr) bool) error {
	if !r.c.acquire() {
		return net.ErrClosed
	}
	defer r.c.release()
	for !f(uintptr(r.c.fd)) {
		if err := r.c.wait(r.c.wtok, &r.c.wdl); err != nil {
			return err
		}
	}
	return nil
}

// deadline is one direction's deadline: a time checked by the waiting
// call and a timer that wakes it when the time comes.
type deadline struct {
	at    atomic.Int64 // unix ns; 0 for none
	tok   chan struct{}
	mu    sync.Mutex
	timer *time.Timer
}

func (d *deadline) expired() bool {
	at := d.at.Load()
	return at != 0 && time.Now().UnixNano() >= at
}

func (d *deadline) set(t time.Time) {
	d.mu.Lock()
	defer d.mu.Unlock()
	if t.IsZero() {
		d.at.Store(0)
		if d.timer != nil {
			d.timer.Stop()
		}
		return
	}
	d.at.Store(t.UnixNano())
	dur := time.Until(t)
	if d.timer == nil {
		tok := d.tok
		d.timer = time.AfterFunc(dur, func() { notify(tok) })
	} else {
		d.timer.Reset(dur)
	}
}

func (d *deadline) stop() {
	d.mu.Lock()
	if d.timer != nil {
		d.timer.Stop()
	}
	d.mu.Unlock()
}
