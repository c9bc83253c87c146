// Package topom is the Codis dashboard ("topom"): the single writer of a
// product's topology. It holds the product's lock node in the coordinator,
// keeps a cached copy of the topology, serves the dashboard REST API
// (SPEC-control §4), pushes slot tables to proxies, drives slot migration,
// sync actions and promotions (§5), and polls servers, proxies and
// sentinels for stats.
//
// Lifecycle: New builds the object without I/O; Start binds the admin
// listener, serves HTTP at once and acquires the lock in the background;
// Close (idempotent) stops every goroutine, releases the lock and closes
// the store.
//
// Locking: opMu serialises topology operations (validation, store writes
// and the proxy pushes that must follow them in order). mu guards the
// cache and the stats and is only held for short copies, so the stats and
// read routes never wait for a slow proxy or server. Long work (moving a
// slot's keys, SLAVEOF transactions, stats probes) runs without opMu.
package topom

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"os"
	"os/exec"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/codisgo/codis/pkg/models"
	"github.com/codisgo/codis/pkg/utils/log"
	"github.com/codisgo/codis/pkg/utils/netaddr"
	"github.com/codisgo/codis/pkg/utils/token"
)

const (
	// lockRetryInterval and lockMaxFailures: the lock is retried every 2 s
	// and the dashboard gives up after the 17th failure (§5.3 step 6).
	lockRetryInterval = 2 * time.Second
	lockMaxFailures   = 17
	// closeHTTPTimeout bounds the wait for in-flight requests on Close.
	closeHTTPTimeout = 5 * time.Second
)

// ErrGiveUp is returned by Err when the lock could not be acquired.
var ErrGiveUp = errors.New("dashboard online failed, give up & abort")

// ErrLockLost is returned by Err when the lock node stopped naming this
// dashboard (removed with --remove-lock, or taken by another dashboard):
// the dashboard steps down instead of writing over its successor.
var ErrLockLost = errors.New("dashboard lock lost")

// lockCheckInterval is how often the lock node is checked.
const lockCheckInterval = 3 * time.Second

// Options are the dashboard's collaborators besides its Config.
type Options struct {
	// Logger receives the dashboard's log; nil discards it.
	Logger *slog.Logger
	// SetLogLevel serves PUT /api/topom/loglevel; nil makes the route fail.
	SetLogLevel func(level string) error
	// Version and Compile are reported by GET /topom.
	Version, Compile string
}

// Topom is the dashboard. Its methods are safe for concurrent use.
type Topom struct {
	config *Config
	opts   Options
	log    *slog.Logger
	rl     *log.RateLimiter // for errors repeated by the loops
	store  *models.Store
	api    *apiClient
	pools  *redisPools
	method int // models.ForwardSync or ForwardSemiAsync

	ctx    context.Context // cancelled by Close
	cancel context.CancelFunc
	wg     sync.WaitGroup // every goroutine but the HTTP server's

	startOnce sync.Once
	closeOnce sync.Once
	started   atomic.Bool
	closed    atomic.Bool
	online    atomic.Bool
	lockHeld  atomic.Bool
	done      chan struct{} // closed when the dashboard stops for good
	doneOnce  sync.Once

	// Set by Start, read-only afterwards.
	model    *models.Topom
	xauth    string
	listener net.Listener
	httpSrv  *http.Server
	httpDone chan struct{} // closed when Serve returns

	opMu sync.Mutex // serialises topology operations

	mu          sync.RWMutex
	cache       cache
	redisStats  map[string]*RedisStats // group servers, by address
	proxyStats  map[string]*ProxyStats // by token
	sentStats   map[string]*RedisStats // sentinels, by address
	masters     map[int]string         // learned from sentinels
	status      string                 // slot action progress
	fatal       error                  // why the dashboard stopped
	watchCancel context.CancelFunc     // restarts the sentinel watcher

	interval atomic.Int64 // slot action interval, µs
	disabled atomic.Bool  // slot actions disabled
	executor atomic.Int64 // migration calls in flight

	metrics *metrics

	lockRetry time.Duration // lockRetryInterval; shortened by tests
}

// New returns a dashboard for config (validated here) on the coordinator
// client; the dashboard owns the client and closes it on Close. No I/O is
// done.
func New(client models.Client, config *Config, opts Options) (*Topom, error) {
	if config == nil {
		return nil, errors.New("topom: nil config")
	}
	if err := config.Validate(); err != nil {
		return nil, err
	}
	store, err := models.NewStore(client, config.ProductName)
	if err != nil {
		return nil, err
	}
	if opts.Logger == nil {
		opts.Logger = log.Discard()
	}
	s := &Topom{
		config:     config,
		opts:       opts,
		log:        opts.Logger,
		rl:         log.NewRateLimiter(30 * time.Second),
		store:      store,
		api:        newAPIClient(),
		done:       make(chan struct{}),
		redisStats: map[string]*RedisStats{},
		proxyStats: map[string]*ProxyStats{},
		sentStats:  map[string]*RedisStats{},
		masters:    map[int]string{},
		lockRetry:  lockRetryInterval,
	}
	s.pools = newRedisPools(config.ProductAuth, redisStatsTimeout)
	if strings.EqualFold(config.MigrationMethod, "semi-async") {
		s.method = models.ForwardSemiAsync
	}
	s.ctx, s.cancel = context.WithCancel(context.Background())
	s.metrics = newMetrics(s)
	return s, nil
}

// Config returns the dashboard's configuration (do not modify it).
func (s *Topom) Config() *Config { return s.config }

// Model returns the dashboard model (nil before Start).
func (s *Topom) Model() *models.Topom { return s.model.Clone() }

// XAuth returns the dashboard xauth (empty before Start).
func (s *Topom) XAuth() string { return s.xauth }

// AdminAddr returns the bound admin address (empty before Start).
func (s *Topom) AdminAddr() string {
	if s.listener == nil {
		return ""
	}
	return s.listener.Addr().String()
}

// IsOnline reports whether the dashboard holds the lock and is serving.
func (s *Topom) IsOnline() bool { return s.online.Load() && !s.closed.Load() }

// IsClosed reports whether the dashboard has been closed or asked to.
func (s *Topom) IsClosed() bool { return s.closed.Load() }

// Done is closed when the dashboard stops: Close, PUT /api/topom/shutdown
// or a failure to acquire the lock (see Err).
func (s *Topom) Done() <-chan struct{} { return s.done }

// Err returns why the dashboard stopped on its own (ErrGiveUp wrapped),
// or nil.
func (s *Topom) Err() error {
	s.mu.RLock()
	defer s.mu.RUnlock()
	return s.fatal
}

// Start binds the admin listener, starts serving HTTP and starts
// acquiring the lock in the background; once the lock is held the
// dashboard loads the topology and starts its background loops.
func (s *Topom) Start() error {
	if s.closed.Load() {
		return ErrClosed
	}
	err := errors.New("topom: already started")
	s.startOnce.Do(func() { err = s.start() })
	return err
}

func (s *Topom) start() error {
	l, err := net.Listen("tcp", s.config.AdminAddr)
	if err != nil {
		return fmt.Errorf("listen %s: %w", s.config.AdminAddr, err)
	}
	addr, err := netaddr.Advertise("tcp", l.Addr().String(), s.config.HostAdmin)
	if err != nil {
		l.Close()
		return err
	}
	pwd, _ := os.Getwd()
	s.model = &models.Topom{
		Token:       token.NewToken(s.config.ProductName, l.Addr().String()),
		StartTime:   time.Now().String(),
		AdminAddr:   addr,
		ProductName: s.config.ProductName,
		Pid:         os.Getpid(),
		Pwd:         pwd,
		Sys:         uname(),
	}
	s.xauth = token.NewXAuth(s.config.ProductName)
	s.listener = l
	s.httpSrv = &http.Server{
		Handler:           s.newHandler(),
		ReadHeaderTimeout: 10 * time.Second,
		ErrorLog:          slog.NewLogLogger(s.log.Handler(), slog.LevelWarn),
	}
	s.httpDone = make(chan struct{})
	s.started.Store(true)
	go func() {
		defer close(s.httpDone)
		if err := s.httpSrv.Serve(l); err != nil && !errors.Is(err, http.ErrServerClosed) {
			s.log.Error("admin http server stopped", "err", err)
		}
	}()
	s.log.Info("dashboard serving", "admin", l.Addr().String(), "advertised", addr,
		"product", s.config.ProductName, "token", s.model.Token)
	s.goLoop(s.acquireLock)
	return nil
}

// goLoop runs f in a goroutine owned by the dashboard: Close cancels its
// context and waits for it.
func (s *Topom) goLoop(f func(ctx context.Context)) {
	s.wg.Add(1)
	go func() {
		defer s.wg.Done()
		f(s.ctx)
	}()
}

// acquireLock creates the lock node, retrying, then brings the dashboard
// online.
func (s *Topom) acquireLock(ctx context.Context) {
	for failures := 0; ; {
		err := s.store.Acquire(s.model)
		if err == nil {
			break
		}
		failures++
		s.log.Error("acquire lock failed", "product", s.config.ProductName, "attempt", failures, "err", err)
		if failures >= lockMaxFailures {
			s.stop(fmt.Errorf("%w: %w", ErrGiveUp, err))
			return
		}
		if !sleepCtx(ctx, s.lockRetry) {
			return
		}
	}
	s.lockHeld.Store(true)
	if ctx.Err() != nil {
		return // Close releases the lock
	}
	s.log.Info("dashboard lock acquired", "path", s.store.LockPath())
	s.online.Store(true)

	s.opMu.Lock()
	if err := s.refresh(); err != nil {
		s.log.Error("load topology failed", "err", err)
	}
	s.opMu.Unlock()

	s.goLoop(s.loopRedisStats)
	s.goLoop(s.loopProxyStats)
	s.goLoop(s.loopSlotActions)
	s.goLoop(s.loopSyncActions)
	s.goLoop(s.loopSentinelWatch)
	s.goLoop(s.loopLockCheck)
}

// loopLockCheck verifies that the lock node still holds this dashboard's
// model and steps down when it does not. Read errors are only logged (the
// coordinator may be briefly unavailable).
func (s *Topom) loopLockCheck(ctx context.Context) {
	for sleepCtx(ctx, lockCheckInterval) {
		t, err := s.store.LoadTopom(false)
		if err != nil {
			s.rl.Warn(s.log, "check lock failed", "err", err)
			continue
		}
		if t != nil && t.Token == s.model.Token && t.StartTime == s.model.StartTime {
			continue
		}
		owner := "nobody"
		if t != nil {
			owner = t.AdminAddr
		}
		s.lockHeld.Store(false) // not ours: Close must not delete it
		s.stop(fmt.Errorf("%w: lock node is held by %s", ErrLockLost, owner))
		return
	}
}

// stop records why the dashboard stopped on its own and closes it in the
// background (the caller may be one of the goroutines Close waits for).
func (s *Topom) stop(cause error) {
	s.mu.Lock()
	if s.fatal == nil {
		s.fatal = cause
	}
	s.mu.Unlock()
	if cause != nil {
		s.log.Error("dashboard stopping", "err", cause)
	}
	s.closed.Store(true)
	go s.Close()
}

// Close stops the dashboard: it refuses new operations, stops the HTTP
// server and every loop, waits for them, deletes the lock node if it was
// held and closes the store. It is idempotent; concurrent callers wait for
// the first.
func (s *Topom) Close() error {
	var err error
	s.closeOnce.Do(func() { err = s.doClose() })
	<-s.done
	return err
}

func (s *Topom) doClose() error {
	s.closed.Store(true)
	s.online.Store(false)
	s.cancel()
	if s.started.Load() {
		ctx, cancel := context.WithTimeout(context.Background(), closeHTTPTimeout)
		if err := s.httpSrv.Shutdown(ctx); err != nil {
			s.httpSrv.Close()
		}
		cancel()
		<-s.httpDone
	}
	s.wg.Wait()
	var errs []error
	if s.lockHeld.Load() {
		if err := s.store.Release(); err != nil {
			errs = append(errs, err)
			s.log.Error("release lock failed", "err", err)
		} else {
			s.log.Info("dashboard lock released", "path", s.store.LockPath())
		}
		s.lockHeld.Store(false)
	}
	s.pools.close()
	s.api.close()
	if err := s.store.Close(); err != nil {
		errs = append(errs, err)
	}
	s.doneOnce.Do(func() { close(s.done) })
	return errors.Join(errs...)
}

// requestShutdown serves PUT /api/topom/shutdown: the dashboard is marked
// closed at once (so the reply still goes out) and closed in the
// background.
func (s *Topom) requestShutdown() {
	s.log.Info("dashboard shutdown requested")
	s.closed.Store(true)
	go s.Close()
}

// checkOnline is the "requires online" gate of §4.1.
func (s *Topom) checkOnline() error {
	if s.closed.Load() {
		return ErrClosed
	}
	if !s.online.Load() {
		return ErrNotOnline
	}
	return nil
}

// sleepCtx sleeps for d; it returns false if ctx ended first.
func sleepCtx(ctx context.Context, d time.Duration) bool {
	if d <= 0 {
		return ctx.Err() == nil
	}
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return false
	case <-t.C:
		return true
	}
}

// uname returns `uname -a`, trimmed, or the OS name if it cannot be run.
func uname() string {
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
	defer cancel()
	out, err := exec.CommandContext(ctx, "uname", "-a").Output()
	if err != nil {
		return "unknown"
	}
	return strings.TrimSpace(string(out))
}
