package server

import (
	"errors"
	"net"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	"github.com/codisgo/codis/pkg/resp"
)

// client is one connection. Its fields are owned by its serve goroutine;
// fields used by CLIENT LIST/KILL from other clients are guarded by
// Server.mu (they are only written while executing a command) or atomic.
type client struct {
	s      *Server
	conn   net.Conn
	id     int64
	p      *resp.Parser
	out    []byte // pending replies
	db     *DB
	addr   string
	laddr  string
	ctime  time.Time
	name   string // CLIENT SETNAME
	authed bool
	resp   int // protocol version (2)

	lastInteraction atomic.Int64 // unix ns of the last command
	lastCmd         string       // name of the last command (CLIENT LIST cmd=)
	curCmdName      string       // full name of the running CLIENT subcommand

	// transaction state
	inMulti  bool
	multiErr bool // a command was rejected while queueing: EXECABORT
	queue    [][][]byte
	watched  []watchedKey
	dirtyCAS bool
	inExec   bool

	nin  int64 // bytes read since last accounted
	nout int64 // bytes written since last accounted

	// pub/sub (see pubsub.go): subscriptions (Server.mu) and, once the
	// client has subscribed, the writer that owns its connection's output.
	subs     clientSubs
	push     *pushWriter
	pubsubOn atomic.Bool // subscribed to something (read by the idle-timeout cron)

	// monitor: the client is in s.monitors (monitor.go); fedMonitors:
	// the running command was already shown to them (it blocked).
	monitor     bool
	fedMonitors bool

	// blockedFor is the time the running command spent blocked
	// (blocking.go), left out of its stats and slow log entry.
	blockedFor time.Duration

	closeAfterReply bool
	killed          atomic.Bool
	closeMu         sync.Once

	// introspection (t_server.go): the command being processed, CLIENT
	// REPLY and NO-EVICT state, pause and output-limit bookkeeping.
	cmd            *Command
	curArgv        [][]byte
	replyOff       bool
	replySkipNext  bool
	noEvict        bool
	pauseBlocked   atomic.Bool
	softLimitSince time.Time
}

func newClient(s *Server, conn net.Conn) *client {
	c := &client{
		s:     s,
		conn:  conn,
		id:    s.nextID.Add(1),
		addr:  conn.RemoteAddr().String(),
		laddr: conn.LocalAddr().String(),
		ctime: time.Now(),
		resp:  2,
	}
	c.p = resp.NewParser(c)
	c.lastInteraction.Store(c.ctime.UnixNano())
	s.mu.Lock()
	c.db = s.ks.dbs[0]
	c.authed = s.cfg.RequirePass == ""
	c.p.MaxBulkLen = s.cfg.ProtoMaxBulkLen
	c.p.MaxBuffer = queryBufferLimit
	s.mu.Unlock()
	c.p.Unauthenticated = !c.authed
	return c
}

// Read counts input bytes for INFO stats (the parser reads through it).
func (c *client) Read(b []byte) (int, error) {
	n, err := c.conn.Read(b)
	c.nin += int64(n)
	return n, err
}

// closeAsync closes the connection; the serve goroutine then exits.
func (c *client) closeAsync() {
	c.killed.Store(true)
	c.closeMu.Do(func() { _ = c.conn.Close() })
}

const (
	// maxOutBeforeFlush: replies are written once this much is pending
	// even if more pipelined requests are buffered.
	maxOutBeforeFlush = 64 * 1024
	// queryBufferLimit is Redis's client-query-buffer-limit default: a
	// client whose pending request needs more is disconnected.
	queryBufferLimit = 1 << 30
)

// serve is the client's goroutine: read, execute every complete request
// under one acquisition of the keyspace lock, flush, repeat.
func (c *client) serve() {
	defer c.cleanup()
	for {
		argv, err := c.p.ReadCommand()
		if err != nil {
			c.readError(err)
			return
		}
		c.lastInteraction.Store(time.Now().UnixNano())
		c.s.mu.Lock()
		c.s.st.netIn += c.nin
		c.s.st.netOut += c.nout
		c.nin, c.nout = 0, 0
		for argv != nil {
			c.processRequest(argv)
			if c.closeAfterReply || len(c.out) > maxOutBeforeFlush {
				break
			}
			argv, err = c.p.Next()
		}
		c.p.MaxBulkLen = c.s.cfg.ProtoMaxBulkLen // CONFIG SET applies to live clients
		// The replies wait for the AOF write (and fsync), aof.go.
		aofw := c.s.aofBatchEnd()
		if c.push != nil {
			// Ordered with published messages, which are queued under mu.
			c.pushFlushOut()
			if c.closeAfterReply {
				c.unsubscribeAll() // QUIT: receive nothing more
				c.monitorStop()
			}
		}
		c.s.mu.Unlock()
		if aofw.a != nil && !aofw.wait() {
			return // appendfsync always and the AOF failed: no reply
		}
		if len(c.out) > 0 && !c.flush() {
			return
		}
		if c.closeAfterReply {
			if c.push != nil {
				c.pushDrain(5 * time.Second)
			}
			return
		}
		if err != nil {
			c.readError(err)
			return
		}
	}
}

func (c *client) readError(err error) {
	if errors.Is(err, resp.ErrQueryBufferLimit) {
		c.s.log.Warn("closing client that reached max query buffer length", "addr", c.addr)
		return
	}
	var pe *resp.ProtocolError
	if errors.As(err, &pe) {
		c.out = resp.AppendError(c.out, "ERR "+pe.Error())
		if c.push != nil {
			c.s.mu.Lock()
			c.pushFlushOut()
			c.s.mu.Unlock()
			c.pushDrain(5 * time.Second)
			return
		}
		c.flush()
		c.s.log.Debug("protocol error from client", "addr", c.addr, "err", err)
	}
}

func (c *client) flush() bool {
	n, err := c.conn.Write(c.out)
	c.nout += int64(n) // accounted under the lock with the next batch
	if cap(c.out) > 1<<20 {
		c.out = nil
	} else {
		c.out = c.out[:0]
	}
	return err == nil
}

func (c *client) cleanup() {
	c.closeAsync()
	c.s.mu.Lock()
	c.unwatchAll()
	c.unsubscribeAll()
	c.monitorStop()
	c.s.mu.Unlock()
	if c.push != nil {
		c.push.stop()
	}
	c.s.removeClient(c)
}

// Reply helpers (used by command handlers).

func (c *client) addOK()                 { c.out = resp.AppendOK(c.out) }
func (c *client) addSimple(s string)     { c.out = resp.AppendSimple(c.out, s) }
func (c *client) addError(msg string)    { c.out = resp.AppendError(c.out, msg); c.s.countError(msg) }
func (c *client) addInt(n int64)         { c.out = resp.AppendInt(c.out, n) }
func (c *client) addBulk(b []byte)       { c.out = resp.AppendBulk(c.out, b) }
func (c *client) addBulkString(s string) { c.out = resp.AppendBulkString(c.out, s) }
func (c *client) addBulkInt(n int64)     { c.out = resp.AppendBulkInt(c.out, n) }
func (c *client) addNull()               { c.out = resp.AppendNull(c.out) }
func (c *client) addNullArray()          { c.out = resp.AppendNullArray(c.out) }
func (c *client) addArrayLen(n int)      { c.out = resp.AppendArrayLen(c.out, n) }
func (c *client) addRaw(b string)        { c.out = append(c.out, b...) }

// addBool replies :1 or :0.
func (c *client) addBool(b bool) {
	if b {
		c.addRaw(":1\r\n")
	} else {
		c.addRaw(":0\r\n")
	}
}

// addBulkStrings replies an array of bulk strings.
func (c *client) addBulkStrings(ss []string) {
	c.addArrayLen(len(ss))
	for _, s := range ss {
		c.addBulkString(s)
	}
}

// addDouble replies a float as a bulk string, formatted like Redis's
// addReplyDouble (%.17g).
func (c *client) addDouble(f float64) {
	c.addBulk(strconv.AppendFloat(nil, f, 'g', 17, 64))
}
