// Package proxy is codis-proxy: it accepts Redis clients, routes every
// command by slot to the owning backend, splits multi-key commands, follows
// slot migrations and sentinel fail-overs, and serves the admin REST API.
//
// Concurrency: a Proxy is safe for concurrent use. New does no I/O; Start
// opens the listeners; Close is idempotent and waits for every goroutine.
//
// Data path (DESIGN decision 4): per session a reader parses and
// dispatches requests and a writer returns replies in request order; per
// backend address and database a fixed set of connections, each with a
// writer goroutine that batches queued requests into one write and a
// reader that completes them FIFO. Requests are pooled, arguments are
// re-encoded into the request's own buffer, and replies are forwarded as
// raw bytes (resp.ScanReplyLimits finds their end), so simple commands do
// not allocate in steady state.
//
// Deliberate differences from the original Codis 3.2 (SPEC-data appendix):
//   - PING, INFO, ECHO and HELLO (RESP2 only) are answered by the proxy; the
//     original sent PING/INFO to a random slot's backend (random failures
//     when slots are offline) and took "PING <msg>" as a backend address.
//   - Every command name is looked up in the command table, so dash-named
//     migration commands (SLOTSMGRT-EXEC-WRAPPER, SLOTSRESTORE-ASYNC-*, ...)
//     are refused like the rest of the not-allowed list.
//   - A null bulk argument ($-1) is a protocol error for the client instead
//     of being forwarded and breaking the shared backend connection.
//   - Protocol errors and pipeline overflow are answered with an error text
//     before the connection closes (the original closed silently).
//   - Backend replies with more than 1,048,576 elements are forwarded
//     instead of resetting the shared backend connection.
//   - A malformed JSON body on PUT fillslots/sentinels is rejected with an
//     error (the original treated it as an empty list).
//   - Inline requests are split like Redis does (quotes supported), by the
//     shared pkg/resp parser.
package proxy

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"os"
	"os/exec"
	"runtime"
	"runtime/debug"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/codisgo/codis/pkg/models"
	"github.com/codisgo/codis/pkg/utils/netaddr"
	"github.com/codisgo/codis/pkg/utils/netpoll"
	"github.com/codisgo/codis/pkg/utils/token"
	"github.com/prometheus/client_golang/prometheus"
)

// Build information, set with -ldflags "-X ...".
var (
	Version = "3.2.11-go"
	Compile = "unknown"
)

// Proxy errors.
var (
	ErrClosedProxy = errors.New("use of closed proxy")
	ErrStarted     = errors.New("proxy already started")
)

// Proxy is one codis-proxy instance.
type Proxy struct {
	config *Config
	logger *slog.Logger

	mu     sync.Mutex // protects model, lproxy, ladmin, sessions, online, closed
	model  *models.Proxy
	xauth  string
	lproxy net.Listener
	ladmin net.Listener
	hsrv   *http.Server

	sessions map[*session]struct{}
	online   bool
	closed   bool

	router *Router
	reqs   *requestPool
	stats  *Stats

	sentinel *sentinelWatcher
	jodis    *jodis      // guarded by mu; nil unless registered
	levels   LevelSetter // guarded by mu

	exitOnce sync.Once
	exitC    chan struct{} // closed by Close and by the shutdown route
	quit     chan struct{}
	wg       sync.WaitGroup

	startOnce atomic.Bool

	// placeholder is proxy_heap_placeholder bytes of never-touched heap:
	// it raises the GC target so collections are rarer (the pages are
	// not written, so they cost no RSS).
	placeholder []byte

	// OnShutdown, if set before Start, is called (once, in its own
	// goroutine) after PUT /api/proxy/shutdown closed the proxy.
	OnShutdown func()
}

// New builds a proxy from a validated config. It does no I/O. logger may
// be nil.
func New(c *Config, logger *slog.Logger) (*Proxy, error) {
	if c == nil {
		return nil, errors.New("proxy: nil config")
	}
	if err := c.Validate(); err != nil {
		return nil, err
	}
	if logger == nil {
		logger = slog.New(slog.DiscardHandler)
	}
	p := &Proxy{
		config:   c,
		logger:   logger,
		sessions: map[*session]struct{}{},
		reqs:     &requestPool{},
		exitC:    make(chan struct{}),
		quit:     make(chan struct{}),
	}
	p.stats = newStats(newMetrics(p))
	opt := &backendOptions{
		auth:        c.ProductAuth,
		recvBufsize: int(c.BackendRecvBufsize),
		sendBufsize: int(c.BackendSendBufsize),
		recvTimeout: c.BackendRecvTimeout.Duration(),
		sendTimeout: c.BackendSendTimeout.Duration(),
		keepAlive:   c.BackendKeepAlivePeriod.Duration(),
		maxPipeline: c.BackendMaxPipeline,
		logger:      logger,
	}
	p.router = newRouter(c, opt, p.reqs)
	p.sentinel = newSentinelWatcher(p)
	return p, nil
}

// Config returns the proxy's configuration (read-only).
func (p *Proxy) Config() *Config { return p.config }

// Start opens the client and admin listeners and starts serving. The
// proxy is not online (sessions are refused) until Online is called.
func (p *Proxy) Start() error {
	if !p.startOnce.CompareAndSwap(false, true) {
		return ErrStarted
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.closed {
		return ErrClosedProxy
	}
	lproxy, err := net.Listen(p.config.ProtoType, p.config.ProxyAddr)
	if err != nil {
		return fmt.Errorf("listen proxy_addr %s: %w", p.config.ProxyAddr, err)
	}
	ladmin, err := net.Listen("tcp", p.config.AdminAddr)
	if err != nil {
		lproxy.Close()
		return fmt.Errorf("listen admin_addr %s: %w", p.config.AdminAddr, err)
	}
	model, err := p.buildModel(lproxy.Addr().String(), ladmin.Addr().String())
	if err != nil {
		lproxy.Close()
		ladmin.Close()
		return err
	}
	p.lproxy, p.ladmin, p.model = lproxy, ladmin, model
	p.xauth = token.NewXAuth(p.config.ProductName, p.config.ProductAuth, model.Token)

	p.hsrv = &http.Server{Handler: p.newAPIHandler(), ReadHeaderTimeout: 30 * time.Second}
	p.wg.Add(3)
	go func() {
		defer p.wg.Done()
		p.hsrv.Serve(ladmin)
	}()
	go func() {
		defer p.wg.Done()
		p.acceptLoop(lproxy)
	}()
	go func() {
		defer p.wg.Done()
		p.loopStats()
	}()
	p.startReportersLocked()
	if n := int64(p.config.ProxyHeapPlaceholder); n > 0 {
		p.placeholder = make([]byte, n)
	}
	p.logger.Info("proxy started", "proxy_addr", model.ProxyAddr, "admin_addr", model.AdminAddr, "token", model.Token)
	return nil
}

func (p *Proxy) buildModel(proxyBound, adminBound string) (*models.Proxy, error) {
	c := p.config
	proxyAddr, err := netaddr.Advertise(c.ProtoType, proxyBound, c.HostProxy)
	if err != nil {
		return nil, fmt.Errorf("advertise proxy_addr: %w", err)
	}
	adminAddr, err := netaddr.Advertise("tcp", adminBound, c.HostAdmin)
	if err != nil {
		return nil, fmt.Errorf("advertise admin_addr: %w", err)
	}
	m := &models.Proxy{
		Token:       token.NewToken(c.ProductName, proxyBound, adminBound),
		StartTime:   time.Now().String(),
		AdminAddr:   adminAddr,
		ProtoType:   c.ProtoType,
		ProxyAddr:   proxyAddr,
		ProductName: c.ProductName,
		Pid:         os.Getpid(),
		DataCenter:  c.ProxyDataCenter,
	}
	m.Pwd, _ = os.Getwd()
	if out, err := exec.Command("uname", "-a").Output(); err == nil {
		m.Sys = strings.TrimSpace(string(out))
	}
	m.Hostname, _ = os.Hostname()
	if c.JodisAddr != "" {
		if c.JodisCompatible {
			m.JodisPath = models.JodisCompatPath(c.ProductName, m.Token)
		} else {
			m.JodisPath = models.JodisPath(c.ProductName, m.Token)
		}
	}
	return m, nil
}

// Model returns a copy of the proxy model (nil before Start).
func (p *Proxy) Model() *models.Proxy {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.model.Clone()
}

// XAuth returns the admin API credential (valid after Start).
func (p *Proxy) XAuth() string {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.xauth
}

// ProxyAddr returns the bound client listener address (after Start).
func (p *Proxy) ProxyAddr() string {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.lproxy == nil {
		return ""
	}
	return p.lproxy.Addr().String()
}

// AdminAddr returns the bound admin listener address (after Start).
func (p *Proxy) AdminAddr() string {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.ladmin == nil {
		return ""
	}
	return p.ladmin.Addr().String()
}

// Router returns the slot router.
func (p *Proxy) Router() *Router { return p.router }

// Stats returns the proxy's counters.
func (p *Proxy) Stats() *Stats { return p.stats }

// Online marks the proxy and its router online (idempotent).
func (p *Proxy) Online() error {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.closed {
		return ErrClosedProxy
	}
	p.online = true
	p.router.Start()
	if err := p.startJodisLocked(); err != nil {
		p.logger.Error("jodis setup failed", "err", err)
		return err
	}
	return nil
}

// IsOnline reports whether the proxy accepts sessions.
func (p *Proxy) IsOnline() bool {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.online && !p.closed
}

// IsClosed reports whether Close was called.
func (p *Proxy) IsClosed() bool {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.closed
}

// FillSlots applies slots in order (see Router.FillSlots).
func (p *Proxy) FillSlots(slots []*models.Slot) error {
	if p.IsClosed() {
		return ErrClosedProxy
	}
	return p.router.FillSlots(slots)
}

// Done is closed when the proxy has been closed (by Close or by the
// shutdown route).
func (p *Proxy) Done() <-chan struct{} { return p.exitC }

// Close stops accepting, closes every session and backend connection, and
// waits for every goroutine. It is idempotent.
func (p *Proxy) Close() error {
	p.mu.Lock()
	if p.closed {
		p.mu.Unlock()
		p.wg.Wait()
		return nil
	}
	p.closed = true
	p.online = false
	close(p.quit)
	if p.lproxy != nil {
		p.lproxy.Close()
	}
	hsrv := p.hsrv
	jd := p.jodis
	for s := range p.sessions {
		s.conn.Close()
	}
	p.mu.Unlock()

	if hsrv != nil {
		// Let in-flight API calls (e.g. the shutdown route) answer.
		ctx, cancel := context.WithTimeout(context.Background(), time.Second)
		hsrv.Shutdown(ctx)
		cancel()
		hsrv.Close()
	}

	if jd != nil {
		jd.close()
	}
	p.sentinel.stop()
	p.router.Close()
	p.wg.Wait()
	p.exitOnce.Do(func() { close(p.exitC) })
	p.logger.Info("proxy closed")
	return nil
}

func (p *Proxy) acceptLoop(l net.Listener) {
	var sessions sync.WaitGroup
	defer sessions.Wait()
	keepAlive := p.config.SessionKeepAlivePeriod.Duration()
	delay := time.Duration(0)
	for {
		conn, err := l.Accept()
		if err != nil {
			var ne net.Error
			if errors.As(err, &ne) && ne.Timeout() {
				delay = min(max(delay*2, 5*time.Millisecond), time.Second)
				select {
				case <-time.After(delay):
					continue
				case <-p.quit:
					return
				}
			}
			select {
			case <-p.quit:
				return
			default:
			}
			if errors.Is(err, net.ErrClosed) {
				return
			}
			p.logger.Warn("accept failed", "err", err)
			select {
			case <-time.After(100 * time.Millisecond):
				continue
			case <-p.quit:
				return
			}
		}
		delay = 0
		if tc, ok := conn.(*net.TCPConn); ok {
			if keepAlive > 0 {
				tc.SetKeepAlive(true)
				tc.SetKeepAlivePeriod(keepAlive)
			}
			tc.SetNoDelay(true)
		}
		p.stats.sessTotal.Add(1)
		conn = netpoll.Wrap(conn) // one read per request at -P 1
		s := newSession(p, conn)
		p.mu.Lock()
		closed, online := p.closed, p.online && p.router.IsOnline()
		alive := len(p.sessions)
		if !closed && online && alive+1 <= p.config.ProxyMaxClients {
			p.sessions[s] = struct{}{}
		}
		p.mu.Unlock()
		switch {
		case closed:
			conn.Close()
			return
		case alive+1 > p.config.ProxyMaxClients:
			p.stats.fails.Add(1)
			sessions.Add(1)
			go func() { defer sessions.Done(); s.reject(errTextMaxClients) }()
			continue
		case !online:
			p.stats.fails.Add(1)
			sessions.Add(1)
			go func() { defer sessions.Done(); s.reject(errTextNotOnline) }()
			continue
		}
		p.stats.sessAlive.Add(1)
		sessions.Add(1)
		go func() {
			defer sessions.Done()
			s.serve()
			p.mu.Lock()
			delete(p.sessions, s)
			p.mu.Unlock()
			p.stats.sessAlive.Add(-1)
		}()
	}
}

// loopStats computes qps and samples rusage every second.
func (p *Proxy) loopStats() {
	t := time.NewTicker(time.Second)
	defer t.Stop()
	last := p.stats.total.Load()
	lastAt := time.Now()
	var prev RusageStats
	var prevAt time.Time
	for {
		select {
		case <-p.quit:
			return
		case now := <-t.C:
			total := p.stats.total.Load()
			el := now.Sub(lastAt)
			if el > 0 {
				d := total - last
				if d < 0 {
					d = total
				}
				p.stats.qps.Store(int64(float64(d) / el.Seconds()))
			}
			last, lastAt = total, now
			ru := sampleRusage(&prev, prevAt, now)
			prev, prevAt = ru, now
			p.stats.rusageMu.Lock()
			p.stats.rusage = ru
			p.stats.rusageMu.Unlock()
		}
	}
}

// Stats flags (GET /api/proxy/stats/:xauth/:flags).
const (
	StatsCmds    = 1
	StatsSlots   = 2
	StatsRuntime = 4
	StatsFull    = StatsCmds | StatsSlots | StatsRuntime
)

// StatsJSON is the proxy's stats document (SPEC-data §E.3).
type StatsJSON struct {
	Online    bool         `json:"online"`
	Closed    bool         `json:"closed"`
	Sentinels SentinelJSON `json:"sentinels"`
	Ops       struct {
		Total int64 `json:"total"`
		Fails int64 `json:"fails"`
		Redis struct {
			Errors int64 `json:"errors"`
		} `json:"redis"`
		QPS int64      `json:"qps"`
		Cmd []*OpStats `json:"cmd,omitempty"`
	} `json:"ops"`
	Sessions struct {
		Total int64 `json:"total"`
		Alive int64 `json:"alive"`
	} `json:"sessions"`
	Rusage  RusageStats `json:"rusage"`
	Backend struct {
		PrimaryOnly bool `json:"primary_only"`
	} `json:"backend"`
	Runtime *RuntimeStats `json:"runtime,omitempty"`
}

// SentinelJSON is stats.sentinels.
type SentinelJSON struct {
	Servers  []string          `json:"servers,omitempty"`
	Masters  map[string]string `json:"masters,omitempty"`
	Switched bool              `json:"switched,omitempty"`
}

// StatsJSON returns the stats document for the given flags.
func (p *Proxy) StatsJSON(flags int) *StatsJSON {
	s := &StatsJSON{}
	s.Online = p.IsOnline()
	s.Closed = p.IsClosed()
	s.Sentinels = p.sentinel.snapshot()
	s.Sentinels.Switched = p.router.switched.Load()
	st := p.stats
	s.Ops.Total = st.total.Load()
	s.Ops.Fails = st.fails.Load()
	s.Ops.Redis.Errors = st.redisErrors.Load()
	s.Ops.QPS = st.qps.Load()
	if flags&StatsCmds != 0 {
		s.Ops.Cmd = st.opStatsList()
	}
	s.Sessions.Total = st.sessTotal.Load()
	s.Sessions.Alive = st.sessAlive.Load()
	st.rusageMu.Lock()
	s.Rusage = st.rusage
	st.rusageMu.Unlock()
	if s.Rusage.Now == "" {
		s.Rusage = sampleRusage(nil, time.Time{}, time.Now())
	}
	s.Backend.PrimaryOnly = p.config.BackendPrimaryOnly
	if flags&StatsRuntime != 0 {
		s.Runtime = runtimeStats()
	}
	return s
}

// infoText is the proxy's answer to INFO [section].
func (p *Proxy) infoText(section string) string {
	var b strings.Builder
	all := section == "" || section == "all" || section == "default" || section == "everything"
	m := p.Model()
	if all || section == "server" {
		b.WriteString("# Server\r\n")
		fmt.Fprintf(&b, "codis_version:%s\r\n", Version)
		fmt.Fprintf(&b, "redis_mode:proxy\r\n")
		fmt.Fprintf(&b, "product_name:%s\r\n", p.config.ProductName)
		fmt.Fprintf(&b, "os:%s %s\r\n", runtime.GOOS, runtime.GOARCH)
		fmt.Fprintf(&b, "process_id:%d\r\n", os.Getpid())
		if m != nil {
			fmt.Fprintf(&b, "proxy_addr:%s\r\nadmin_addr:%s\r\ntoken:%s\r\nstart_time:%s\r\n",
				m.ProxyAddr, m.AdminAddr, m.Token, m.StartTime)
		}
		b.WriteString("\r\n")
	}
	if all || section == "clients" {
		fmt.Fprintf(&b, "# Clients\r\nconnected_clients:%d\r\nmaxclients:%d\r\n\r\n",
			p.stats.sessAlive.Load(), p.config.ProxyMaxClients)
	}
	if all || section == "stats" {
		fmt.Fprintf(&b, "# Stats\r\ntotal_connections_received:%d\r\ntotal_commands_processed:%d\r\ninstantaneous_ops_per_sec:%d\r\ntotal_failed_commands:%d\r\ntotal_error_replies:%d\r\n\r\n",
			p.stats.sessTotal.Load(), p.stats.total.Load(), p.stats.qps.Load(), p.stats.fails.Load(), p.stats.redisErrors.Load())
	}
	if all || section == "proxy" {
		connected, stale, down := p.router.primary.states()
		rc, rs, rd := p.router.replica.states()
		fmt.Fprintf(&b, "# Proxy\r\nonline:%d\r\nbackend_conns_connected:%d\r\nbackend_conns_stale:%d\r\nbackend_conns_down:%d\r\n\r\n",
			b2i(p.IsOnline()), connected+rc, stale+rs, down+rd)
	}
	return strings.TrimSuffix(b.String(), "\r\n")
}

func b2i(b bool) int {
	if b {
		return 1
	}
	return 0
}

// forceGC runs the garbage collector and returns memory to the OS.
func forceGC() { debug.FreeOSMemory() }

// newMetrics builds the proxy's own Prometheus registry.
func newMetrics(p *Proxy) *metrics {
	reg := prometheus.NewRegistry()
	m := &metrics{
		reg:  reg,
		byOp: map[string]*opMetrics{},
		calls: prometheus.NewCounterVec(prometheus.CounterOpts{
			Namespace: "codis_proxy", Name: "command_calls_total", Help: "Replies written to clients, by command.",
		}, []string{"cmd"}),
		errors: prometheus.NewCounterVec(prometheus.CounterOpts{
			Namespace: "codis_proxy", Name: "command_errors_total", Help: "Error replies written to clients, by command.",
		}, []string{"cmd"}),
		latency: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Namespace: "codis_proxy", Name: "command_duration_seconds", Help: "Time from request read to reply written.",
			Buckets: []float64{.00005, .0001, .00025, .0005, .001, .0025, .005, .01, .025, .05, .1, .25, .5, 1, 5},
		}, []string{"cmd"}),
	}
	gauge := func(name, help string, f func() float64) prometheus.Collector {
		return prometheus.NewGaugeFunc(prometheus.GaugeOpts{Namespace: "codis_proxy", Name: name, Help: help}, f)
	}
	counter := func(name, help string, f func() float64) prometheus.Collector {
		return prometheus.NewCounterFunc(prometheus.CounterOpts{Namespace: "codis_proxy", Name: name, Help: help}, f)
	}
	reg.MustRegister(m.calls, m.errors, m.latency,
		gauge("sessions_alive", "Open client sessions.", func() float64 { return float64(p.stats.sessAlive.Load()) }),
		counter("sessions_accepted_total", "Accepted client connections.", func() float64 { return float64(p.stats.sessTotal.Load()) }),
		gauge("ops_total", "Requests read (reset by stats/reset).", func() float64 { return float64(p.stats.total.Load()) }),
		gauge("ops_fails", "Failed requests (reset by stats/reset).", func() float64 { return float64(p.stats.fails.Load()) }),
		gauge("ops_per_second", "Requests per second over the last second.", func() float64 { return float64(p.stats.qps.Load()) }),
		gauge("online", "1 when the proxy is online.", func() float64 { return float64(b2i(p.IsOnline())) }),
		&backendCollector{p: p, desc: prometheus.NewDesc("codis_proxy_backend_connections",
			"Backend connections by pool and state.", []string{"pool", "state"}, nil)},
	)
	return m
}

type backendCollector struct {
	p    *Proxy
	desc *prometheus.Desc
}

func (c *backendCollector) Describe(ch chan<- *prometheus.Desc) { ch <- c.desc }

func (c *backendCollector) Collect(ch chan<- prometheus.Metric) {
	for _, pool := range []struct {
		name string
		bp   *backendPool
	}{{"primary", c.p.router.primary}, {"replica", c.p.router.replica}} {
		connected, stale, down := pool.bp.states()
		ch <- prometheus.MustNewConstMetric(c.desc, prometheus.GaugeValue, float64(connected), pool.name, "connected")
		ch <- prometheus.MustNewConstMetric(c.desc, prometheus.GaugeValue, float64(stale), pool.name, "stale")
		ch <- prometheus.MustNewConstMetric(c.desc, prometheus.GaugeValue, float64(down), pool.name, "down")
	}
}
