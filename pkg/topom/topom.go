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
// The lock: the node /codis3/{product}/topom holding the dashboard model,
// created with Store.AcquireLock and retried every 2 s. On ZooKeeper it is
// an ephemeral node and on etcd a key on the client's lease, so it
// disappears when the dashboard's session / lease ends (a crash, SIGKILL,
// a network partition longer than CoordinatorTimeout): a second dashboard
// waits for it without limit and takes over by itself. On the filesystem
// it is persistent, as in the original: a crashed dashboard's lock stays
// until --remove-lock, and a waiting dashboard gives up after 17 failed
// attempts (ErrGiveUp). Every topology write goes through the fenced store
// (Store.Fenced): the coordinator applies it only if the lock node is still
// the one this dashboard created, so a dashboard that lost the lock can
// never write over its successor. The dashboard steps down (Err wraps
// ErrLockLost, the lock node is left alone, the process exits) when the
// lock's Done fires or a write fails with models.ErrLockLost.
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
	iofs "io/fs"
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

// ErrLockLost is returned by Err when the dashboard lost its lock (the
// node was removed with --remove-lock or changed, or the ZooKeeper session
// / etcd lease that held it ended): the dashboard steps down instead of
// writing over its successor.
var ErrLockLost = errors.New("dashboard lock lost")

// CoordinatorTimeout is the coordinator client timeout codis-dashboard
// uses. On ZooKeeper it is also the session timeout and on etcd the lease
// TTL, so it bounds how long a crashed dashboard's lock survives it (the
// original used 1 minute and a lock that never expired).
const CoordinatorTimeout = 30 * time.Second

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
	lockHeld  atomic.Bool                  // the lock is held and not known lost
	wstore    atomic.Pointer[models.Store] // writes, fenced by the lock; set with lockHeld
	done      chan struct{}                // closed when the dashboard stops for good
	doneOnce  sync.Once

	// Set by Start, read-only afterwards.
	model    *models.Topom
	xauth    string
	lock     models.Lock // set by acquireLock before the loops start
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

// Done is closed when the dashboard stops: Close, PUT /api/topom/shutdown,
// a failure to acquire the lock or the loss of the lock (see Err).
func (s *Topom) Done() <-chan struct{} { return s.done }

// Err returns why the dashboard stopped on its own (wrapping ErrGiveUp
// or ErrLockLost), or nil.
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

// acquireLock creates the lock node, retrying every lockRetry, then
// brings the dashboard online.
//
// On the filesystem the lock is persistent (a crashed dashboard's lock
// stays until --remove-lock), so, as in the original, the dashboard gives
// up after lockMaxFailures failed attempts. On ZooKeeper and etcd the lock
// is bound to its holder's session or lease and disappears when the holder
// dies: a lock held by another dashboard is waited for without limit (a
// standby takes over by itself, at the latest one session timeout after
// the holder's death). Other errors (the coordinator unreachable, a
// persistent lock node left by an original Codis dashboard) count towards
// lockMaxFailures.
func (s *Topom) acquireLock(ctx context.Context) {
	var lock models.Lock
	for failures := 0; ; {
		var err error
		lock, err = s.store.AcquireLock(s.model)
		if err == nil {
			break
		}
		var holder *models.Topom
		if errors.Is(err, iofs.ErrExist) {
			holder, _ = s.store.LoadTopom(false)
		}
		if holder != nil && holder.Token == s.model.Token && holder.StartTime == s.model.StartTime {
			// Our own node: an earlier attempt was applied although it
			// reported an error (a timeout). It is an orphan no Lock
			// fences; delete it and try again.
			s.log.Warn("removing this dashboard's orphaned lock node", "path", s.store.LockPath(), "err", err)
			if derr := s.store.Client().Delete(s.store.LockPath()); derr == nil {
				if !sleepCtx(ctx, s.lockRetry) {
					return
				}
				continue
			}
		}
		var held *models.LockHeldError
		if errors.As(err, &held) && held.Ephemeral {
			addr := "unknown"
			if holder != nil {
				addr = holder.AdminAddr
			}
			s.rl.Warn(s.log, "waiting for the lock held by another dashboard",
				"product", s.config.ProductName, "holder", addr, "path", s.store.LockPath())
		} else {
			failures++
			if held != nil && s.store.EphemeralLocks() {
				err = fmt.Errorf("%w (a persistent lock node, left by an original Codis dashboard: remove it with --remove-lock)", err)
			}
			s.log.Error("acquire lock failed", "product", s.config.ProductName, "attempt", failures, "err", err)
			if failures >= lockMaxFailures {
				s.stop(fmt.Errorf("%w: %w", ErrGiveUp, err))
				return
			}
		}
		if !sleepCtx(ctx, s.lockRetry) {
			return
		}
	}
	s.lock = lock
	s.wstore.Store(s.store.Fenced(lock))
	s.lockHeld.Store(true)
	if ctx.Err() != nil {
		return // Close releases the lock
	}
	s.log.Info("dashboard lock acquired", "path", s.store.LockPath(), "ephemeral", s.store.EphemeralLocks())
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
	s.goLoop(s.loopLockWatch)
}

// loopLockWatch steps down when the lock's Done fires: the lock node was
// deleted (--remove-lock) or changed, or the session / lease that held it
// ended. Every store write is fenced anyway; this only makes the
// dashboard notice without waiting for its next write.
func (s *Topom) loopLockWatch(ctx context.Context) {
	select {
	case <-ctx.Done():
		return
	case <-s.lock.Done():
	}
	if ctx.Err() != nil {
		return // Close released the lock
	}
	owner := "nobody"
	if t, err := s.store.LoadTopom(false); err != nil {
		owner = "unknown (" + err.Error() + ")"
	} else if t != nil {
		owner = t.AdminAddr
	}
	s.lockLost(fmt.Errorf("%w: lock node is held by %s", ErrLockLost, owner))
}

// lockLost makes the dashboard step down: it stops writing at once and
// closes in the background without deleting the lock node (which is
// someone else's, or gone).
func (s *Topom) lockLost(cause error) {
	if !s.lockHeld.Swap(false) {
		return
	}
	s.online.Store(false)
	s.stop(cause)
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
	if s.lockHeld.Swap(false) {
		// A fenced release: the node is deleted only if it is still ours.
		err := s.wstore.Load().Release()
		switch {
		case errors.Is(err, models.ErrLockLost):
			s.log.Warn("lock was lost before release", "path", s.store.LockPath(), "err", err)
		case err != nil:
			errs = append(errs, err)
			s.log.Error("release lock failed", "err", err)
		default:
			s.log.Info("dashboard lock released", "path", s.store.LockPath())
		}
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
