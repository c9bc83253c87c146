package server

import (
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/codisgo/codis/pkg/utils/netpoll"
)

// stats are the INFO stats counters. Fields without "atomic" are guarded by
// Server.mu.
type stats struct {
	hits, misses   int64
	expiredKeys    int64
	evictedKeys    int64
	numCommands    int64
	numConnections atomic.Int64
	rejectedConns  atomic.Int64
	netIn, netOut  int64
	netOutPush     atomic.Int64 // bytes written by pub/sub push writers
	errorReplies   int64
}

// ErrServerClosed is returned by Start after Close.
var ErrServerClosed = errors.New("server: closed")

// Server is a codis-server instance. Build it with New, then Start; Close
// stops it and waits for every goroutine.
type Server struct {
	// mu is the keyspace lock: every command, the expire cycle and eviction
	// run holding it, which makes each command (and MULTI/EXEC) atomic.
	// It also guards cfg, slowlog, replication settings and stats fields.
	mu  sync.Mutex
	cfg *Config
	ks  *keyspace

	script *scriptState // EVAL and SCRIPT, created on first use (script_state.go)
	st     stats
	intro  introState // command/error stats, client pause, latency monitor (t_server.go)
	log    *slog.Logger

	slowlog    []slowlogEntry // newest first
	slowlogID  int64
	lastSave   int64       // unix seconds
	peakMem    int64       // highest used_memory seen by the cron
	opsSamples [16]float64 // commands/s measured by the cron (ring)
	opsIdx     int
	opsLastN   int64     // numCommands at the last sample
	opsLastT   time.Time // time of the last sample
	runID      string
	startTime  time.Time

	clientsMu sync.Mutex        // protects clients
	clients   map[int64]*client // connected clients by id
	nextID    atomic.Int64      // last client id handed out
	nclients  atomic.Int64      // connected clients
	listeners []net.Listener    // set by Start
	addrs     []net.Addr        // listener addresses
	wg        sync.WaitGroup    // every goroutine
	quit      chan struct{}     // closed by Close
	closeOnce sync.Once         // Close is idempotent
	started   atomic.Bool       // Start called
	shutdown  chan struct{}     // closed when SHUTDOWN was requested
	shutOnce  sync.Once         // guards shutdown
	nowFunc   func() time.Time  // clock (tests may replace before Start)

	ps *pubsubState // subscriptions (mu), nil until the first SUBSCRIBE

	monitors   []*client // MONITOR clients (mu), monitor.go
	monitorBuf []byte    // the line being fed to them (mu)

	repl *replState // replication (mu), nil until first used (repl.go)

	mgrtConns     map[string]*mgrtConn    // sync migration targets by "host:port" (mu)
	migrateSocks  map[string]*migrateSock // MIGRATE targets by "host:port" (mu)
	lastMgrtSweep time.Time               // last idle sweep of mgrtConns (mu)
	idle          *idleGC                 // idle-time garbage collection (idlegc.go)
	mgrtAsync     *mgrtAsyncState         // semi-async migration links (mu), t_mgrt_async.go

	pst persistState // RDB persistence state (mu)
	aof *aofState    // append-only file (mu), nil until used (aof.go)
	// rdbAuxFn, when set, returns auxiliary fields (repl-id, repl-offset,
	// ...) written into RDB files by SAVE and BGSAVE (mu held).
	rdbAuxFn func() [][2]string
}

// New builds a server from cfg (nil = defaults). It does no I/O.
func New(cfg *Config, logger *slog.Logger) *Server {
	if cfg == nil {
		cfg = NewConfig()
	}
	if logger == nil {
		logger = slog.New(slog.NewTextHandler(io.Discard, nil))
	}
	var id [20]byte
	_, _ = rand.Read(id[:])
	s := &Server{
		cfg:       cfg,
		log:       logger,
		clients:   make(map[int64]*client),
		quit:      make(chan struct{}),
		shutdown:  make(chan struct{}),
		runID:     hex.EncodeToString(id[:]),
		startTime: time.Now(),
		nowFunc:   time.Now,
		idle:      newIdleGC(),
	}
	s.ks = newKeyspace(int(cfg.Databases), &s.st)
	s.applyConfig()
	s.lastSave = s.startTime.Unix()
	s.pst.lastBgsaveSecs = -1
	s.updateClock()
	return s
}

// Config returns a copy of the current configuration.
func (s *Server) Config() Config {
	s.mu.Lock()
	defer s.mu.Unlock()
	c := *s.cfg
	return c
}

// Start opens the listeners and starts serving. With port 0 a free port is
// chosen; see Addr.
func (s *Server) Start() error {
	if !s.started.CompareAndSwap(false, true) {
		return errors.New("server: already started")
	}
	select {
	case <-s.quit:
		return ErrServerClosed
	default:
	}
	if err := s.loadAtStart(); err != nil {
		return err
	}
	s.mu.Lock()
	binds := append([]string(nil), s.cfg.Bind...)
	port := int(s.cfg.Port)
	s.mu.Unlock()
	if port == 0 && len(binds) > 0 {
		// Port 0 must resolve to the same port on every address.
		binds = binds[:1]
	}
	for _, b := range binds {
		optional := strings.HasPrefix(b, "-")
		b = strings.TrimPrefix(b, "-")
		host := b
		switch b {
		case "*":
			host = "0.0.0.0"
		case "::*":
			host = "::"
		}
		ln, err := net.Listen("tcp", net.JoinHostPort(host, strconv.Itoa(port)))
		if err != nil {
			if optional {
				continue
			}
			s.closeListeners()
			return fmt.Errorf("server: listen on %s port %d: %w", b, port, err)
		}
		s.listeners = append(s.listeners, ln)
		s.addrs = append(s.addrs, ln.Addr())
	}
	if len(s.listeners) == 0 {
		return fmt.Errorf("server: no address to listen on (bind %q)", binds)
	}
	if port == 0 {
		s.mu.Lock()
		s.cfg.Port = int64(s.listeners[0].Addr().(*net.TCPAddr).Port)
		s.mu.Unlock()
	}
	for _, ln := range s.listeners {
		s.goroutine(func() { s.acceptLoop(ln) })
	}
	s.goroutine(s.cron)
	s.goroutine(s.aofLoop)
	s.startReplication()
	s.log.Info("ready to accept connections", "addr", s.addrs[0].String())
	return nil
}

// goroutine starts fn tracked by the WaitGroup.
func (s *Server) goroutine(fn func()) {
	s.wg.Add(1)
	go func() {
		defer s.wg.Done()
		fn()
	}()
}

// Addr returns the first listener's address (nil before Start).
func (s *Server) Addr() net.Addr {
	if len(s.addrs) == 0 {
		return nil
	}
	return s.addrs[0]
}

// Done is closed when a client asked for SHUTDOWN.
func (s *Server) Done() <-chan struct{} { return s.shutdown }

func (s *Server) requestShutdown() { s.shutOnce.Do(func() { close(s.shutdown) }) }

func (s *Server) closeListeners() {
	for _, ln := range s.listeners {
		_ = ln.Close()
	}
}

// Close stops listening, disconnects every client and waits for all
// goroutines. It is idempotent.
func (s *Server) Close() error {
	s.closeOnce.Do(func() {
		close(s.quit)
		s.closeListeners()
		s.clientsMu.Lock()
		for _, c := range s.clients {
			c.conn.Close()
		}
		s.clientsMu.Unlock()
	})
	s.wg.Wait()
	s.aofClose()
	s.mu.Lock()
	s.mgrtCloseIdle(time.Time{}, true)
	s.mu.Unlock()
	return nil
}

func (s *Server) acceptLoop(ln net.Listener) {
	var delay time.Duration
	for {
		conn, err := ln.Accept()
		if err != nil {
			select {
			case <-s.quit:
				return
			default:
			}
			var ne net.Error
			if errors.As(err, &ne) && ne.Timeout() || errors.Is(err, syscallEMFILE) {
				delay = min(max(2*delay, 5*time.Millisecond), time.Second)
				s.log.Warn("accept error", "err", err)
				select {
				case <-time.After(delay):
				case <-s.quit:
					return
				}
				continue
			}
			if errors.Is(err, net.ErrClosed) {
				return
			}
			s.log.Warn("accept error", "err", err)
			continue
		}
		delay = 0
		s.accept(conn)
	}
}

// errProtectedMode is Redis's refusal of remote clients in protected mode.
const errProtectedMode = "-DENIED Redis is running in protected mode because protected mode is enabled and no password is set for the default user. In this mode connections are only accepted from the loopback interface. If you want to connect from external computers to Redis you may adopt one of the following solutions: 1) Just disable protected mode sending the command 'CONFIG SET protected-mode no' from the loopback interface by connecting to Redis from the same host the server is running, however MAKE SURE Redis is not publicly accessible from internet if you do so. Use CONFIG REWRITE to make this change permanent. 2) Alternatively you can just disable the protected mode by editing the Redis configuration file, and setting the protected mode option to 'no', and then restarting the server. 3) If you started the server manually just for testing, restart it with the '--protected-mode no' option. 4) Set up an authentication password for the default user. NOTE: You only need to do one of the above things in order for the server to start accepting connections from the outside.\r\n"

// isDefaultBind reports whether bind is Redis's default (all interfaces).
func isDefaultBind(b []string) bool {
	return len(b) == 2 && b[0] == "*" && b[1] == "-::*"
}

func (s *Server) accept(conn net.Conn) {
	s.mu.Lock()
	maxc, keep := s.cfg.MaxClients, s.cfg.TCPKeepAlive
	protected := s.cfg.ProtectedMode && s.cfg.RequirePass == "" && isDefaultBind(s.cfg.Bind)
	s.mu.Unlock()
	if protected {
		if ta, ok := conn.RemoteAddr().(*net.TCPAddr); ok && !ta.IP.IsLoopback() {
			_ = conn.SetWriteDeadline(time.Now().Add(time.Second))
			_, _ = conn.Write([]byte(errProtectedMode))
			conn.Close()
			return
		}
	}
	if tc, ok := conn.(*net.TCPConn); ok {
		_ = tc.SetNoDelay(true)
		if keep > 0 {
			_ = tc.SetKeepAliveConfig(net.KeepAliveConfig{Enable: true, Idle: time.Duration(keep) * time.Second,
				Interval: time.Duration(keep) * time.Second / 3, Count: 3})
		}
	}
	if s.nclients.Add(1) > maxc {
		s.nclients.Add(-1)
		s.st.rejectedConns.Add(1)
		_ = conn.SetWriteDeadline(time.Now().Add(time.Second))
		_, _ = conn.Write([]byte("-ERR max number of clients reached\r\n"))
		conn.Close()
		return
	}
	s.st.numConnections.Add(1)
	conn = netpoll.Wrap(conn) // one read per request at -P 1 (package doc)
	c := newClient(s, conn)
	s.clientsMu.Lock()
	select {
	case <-s.quit:
		s.clientsMu.Unlock()
		s.nclients.Add(-1)
		conn.Close()
		return
	default:
	}
	s.clients[c.id] = c
	s.clientsMu.Unlock()
	s.goroutine(c.serve)
}

func (s *Server) removeClient(c *client) {
	s.clientsMu.Lock()
	delete(s.clients, c.id)
	s.clientsMu.Unlock()
	s.nclients.Add(-1)
}

// applyConfig propagates configuration into derived state (mu held or not
// yet shared).
func (s *Server) applyConfig() {
	s.ks.lfu = strings.HasSuffix(s.cfg.MaxMemoryPolicy, "lfu")
	s.aofApplyConfig()
	s.applyNotifyConfig()
	s.applyLatencyConfig()
}

// updateClock refreshes the time snapshot used for expiry (mu held or not
// yet shared).
func (s *Server) updateClock() {
	now := s.nowFunc()
	s.ks.now = now.UnixMilli()
	s.ks.lruClock = uint32(now.Unix())
}

// cron runs hz times a second: LRU clock, active expiry, eviction and
// client timeouts.
func (s *Server) cron() {
	clampHz := func(hz int64) int64 { return min(max(hz, 1), 500) }
	s.mu.Lock()
	hz := clampHz(s.cfg.Hz)
	s.mu.Unlock()
	t := time.NewTicker(time.Second / time.Duration(hz))
	defer t.Stop()
	lastSecond := time.Now()
	for {
		select {
		case <-s.quit:
			return
		case <-t.C:
		}
		s.lockKeyspace()
		if h := clampHz(s.cfg.Hz); h != hz { // CONFIG SET hz
			hz = h
			t.Reset(time.Second / time.Duration(hz))
		}
		s.updateClock()
		paused := s.clientsPaused() // CLIENT PAUSE stops expiry and eviction too
		if s.cfg.ActiveExpire && !paused {
			start := time.Now()
			s.activeExpireCycle(time.Second / time.Duration(hz) / 4)
			s.latencyAddIfNeeded("expire-cycle", time.Since(start))
		}
		if s.cfg.MaxMemory > 0 && !paused {
			start := time.Now()
			s.evict()
			s.latencyAddIfNeeded("eviction-cycle", time.Since(start))
		}
		s.peakMem = max(s.peakMem, s.usedMemory())
		if now := time.Now(); now.Sub(s.lastMgrtSweep) >= time.Second {
			s.lastMgrtSweep = now
			s.mgrtCloseIdle(now, false)
		}
		s.sampleOps()
		s.persistCron(time.Now())
		s.idleGCTick(time.Now())
		timeout := s.cfg.Timeout
		s.mu.Unlock()
		if time.Since(lastSecond) >= time.Second {
			lastSecond = time.Now()
			if timeout > 0 {
				s.closeIdleClients(time.Duration(timeout) * time.Second)
			}
		}
	}
}

// sampleOps records the command rate since the previous sample, every
// 100ms like Redis's trackInstantaneousMetric (mu held).
func (s *Server) sampleOps() {
	now := time.Now()
	if s.opsLastT.IsZero() {
		s.opsLastT, s.opsLastN = now, s.st.numCommands
		return
	}
	d := now.Sub(s.opsLastT)
	if d < 100*time.Millisecond {
		return
	}
	s.opsSamples[s.opsIdx] = float64(max(0, s.st.numCommands-s.opsLastN)) / d.Seconds()
	s.opsIdx = (s.opsIdx + 1) % len(s.opsSamples)
	s.opsLastT, s.opsLastN = now, s.st.numCommands
}

func (s *Server) opsPerSec() int64 {
	var sum float64
	for _, v := range s.opsSamples {
		sum += v
	}
	return int64(sum / float64(len(s.opsSamples)))
}

func (s *Server) closeIdleClients(idle time.Duration) {
	now := time.Now().UnixNano()
	s.clientsMu.Lock()
	defer s.clientsMu.Unlock()
	for _, c := range s.clients {
		// Subscribers are exempt, as in Redis (blocked clients refresh
		// lastInteraction themselves).
		if time.Duration(now-c.lastInteraction.Load()) > idle && !c.pubsubOn.Load() {
			c.closeAsync()
		}
	}
}
