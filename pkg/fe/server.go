// Package fe is codis-fe, the web UI over one or many dashboards
// (SPEC-control §7): an HTTP handler that serves the UI's static files,
// answers GET /list with the names of the known products, and
// reverse-proxies every request carrying ?forward={product} to that
// product's dashboard. The UI itself (HTML, JavaScript, CSS) lives in
// cmd/fe/assets and runs in the browser; this package only serves it.
//
// The product → dashboard map comes from a Loader (a --dashboard-list
// file or the coordinator). It is rebuilt only by GET /list, and only when
// the previous build is older than Config.RebuildInterval, so nothing can
// be forwarded before the first /list.
//
// A Server is safe for concurrent use. Close stops its background
// goroutine and closes idle dashboard connections.
package fe

import (
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"net/http/httputil"
	"net/url"
	"os"
	"path"
	"path/filepath"
	"sort"
	"strings"
	"sync"
	"time"

	"github.com/codisgo/codis/pkg/utils/log"
)

// Defaults of Config and of the dashboard transport (SPEC-control §7.2,
// §7.3).
const (
	// DefaultRebuildInterval is how old the product map must be before
	// GET /list rebuilds it.
	DefaultRebuildInterval = 5 * time.Second
	// DialTimeout bounds connecting to a dashboard.
	DialTimeout = 10 * time.Second
	// IdleCloseInterval is how often idle dashboard connections are
	// closed.
	IdleCloseInterval = time.Minute
)

// ErrNoIndex is wrapped by New when the assets directory has no
// index.html.
var ErrNoIndex = errors.New("assets dir has no index.html")

// Config configures a Server.
type Config struct {
	// AssetsDir is the directory of the UI's static files; it must hold
	// index.html.
	AssetsDir string
	// Loader builds the product → dashboard address map. Required.
	Loader Loader
	// Logger receives discovery and forwarding problems; nil discards.
	Logger *slog.Logger
	// RebuildInterval is the minimum age of the product map before
	// GET /list rebuilds it; <= 0 means DefaultRebuildInterval.
	RebuildInterval time.Duration
}

// Server is the codis-fe HTTP handler.
type Server struct {
	assets   string
	loader   Loader
	log      *slog.Logger
	interval time.Duration
	files    http.Handler
	tr       *http.Transport

	mu     sync.RWMutex // protects routes and built
	routes map[string]*route
	built  time.Time // last rebuild (successful or not); zero = never

	rebuildMu sync.Mutex // serialises rebuilds (and so Loader calls)

	quit      chan struct{}
	wg        sync.WaitGroup
	closeOnce sync.Once
}

// route is one product's dashboard.
type route struct {
	addr  string
	proxy *httputil.ReverseProxy
}

// New checks cfg and builds a Server; it starts the goroutine that closes
// idle dashboard connections every IdleCloseInterval (stopped by Close).
func New(cfg Config) (*Server, error) {
	if cfg.Loader == nil {
		return nil, errors.New("fe: no loader")
	}
	if cfg.AssetsDir == "" {
		return nil, errors.New("fe: no assets dir")
	}
	dir, err := filepath.Abs(cfg.AssetsDir)
	if err != nil {
		return nil, fmt.Errorf("fe: assets dir %s: %w", cfg.AssetsDir, err)
	}
	index := filepath.Join(dir, "index.html")
	if fi, err := os.Stat(index); err != nil || !fi.Mode().IsRegular() {
		if err == nil {
			err = errors.New("not a regular file")
		}
		return nil, fmt.Errorf("%w: %s: %w (set --assets-dir to the directory holding the UI, e.g. cmd/fe/assets)",
			ErrNoIndex, index, err)
	}
	lg := cfg.Logger
	if lg == nil {
		lg = log.Discard()
	}
	interval := cfg.RebuildInterval
	if interval <= 0 {
		interval = DefaultRebuildInterval
	}
	s := &Server{
		assets:   dir,
		loader:   cfg.Loader,
		log:      lg,
		interval: interval,
		files:    http.FileServer(http.Dir(dir)),
		tr: &http.Transport{
			Proxy: nil, // talk to the dashboards directly
			DialContext: (&net.Dialer{
				Timeout:   DialTimeout,
				KeepAlive: 30 * time.Second,
			}).DialContext,
			MaxIdleConnsPerHost:   8,
			IdleConnTimeout:       IdleCloseInterval,
			ResponseHeaderTimeout: 0, // slow operations (rebalance) may take long
		},
		routes: map[string]*route{},
		quit:   make(chan struct{}),
	}
	s.wg.Add(1)
	go s.closeIdleLoop()
	return s, nil
}

// Close stops the background goroutine and closes idle dashboard
// connections. It is idempotent. Requests in flight are not interrupted.
func (s *Server) Close() error {
	s.closeOnce.Do(func() {
		close(s.quit)
		s.wg.Wait()
		s.tr.CloseIdleConnections()
	})
	return nil
}

func (s *Server) closeIdleLoop() {
	defer s.wg.Done()
	t := time.NewTicker(IdleCloseInterval)
	defer t.Stop()
	for {
		select {
		case <-s.quit:
			return
		case <-t.C:
			s.tr.CloseIdleConnections()
		}
	}
}

// ServeHTTP routes a request (SPEC-control §7.3): a static file when the
// path names one (GET/HEAD), GET /list, else the reverse proxy when
// ?forward= names a known product, else 403 with an empty body.
func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if (r.Method == http.MethodGet || r.Method == http.MethodHead) && s.isAsset(r.URL.Path) {
		s.files.ServeHTTP(w, r)
		return
	}
	if r.Method == http.MethodGet && r.URL.Path == "/list" {
		s.serveList(w)
		return
	}
	if name := r.URL.Query().Get("forward"); name != "" {
		if rt := s.lookup(name); rt != nil {
			rt.proxy.ServeHTTP(w, r)
			return
		}
	}
	w.WriteHeader(http.StatusForbidden)
}

// isAsset reports whether p names a file of the assets dir, or a
// directory of it holding index.html.
func (s *Server) isAsset(p string) bool {
	name := filepath.Join(s.assets, filepath.FromSlash(path.Clean("/"+p)))
	fi, err := os.Stat(name)
	if err != nil {
		return false
	}
	if fi.IsDir() {
		fi, err = os.Stat(filepath.Join(name, "index.html"))
		return err == nil && fi.Mode().IsRegular()
	}
	return fi.Mode().IsRegular()
}

func (s *Server) lookup(name string) *route {
	s.mu.RLock()
	defer s.mu.RUnlock()
	return s.routes[name]
}

// serveList answers GET /list: the sorted product names, 4-space
// indented, after a rebuild when the map is stale.
func (s *Server) serveList(w http.ResponseWriter) {
	names := s.Names()
	b, err := json.MarshalIndent(names, "", "    ")
	if err != nil { // cannot happen for a []string
		w.WriteHeader(http.StatusInternalServerError)
		return
	}
	w.Header().Set("Content-Type", "text/plain; charset=utf-8")
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(http.StatusOK)
	w.Write(b)
}

// Names rebuilds the product map if it is older than the rebuild interval
// (or was never built) and returns the product names, sorted. It is what
// GET /list returns.
func (s *Server) Names() []string {
	s.rebuildIfStale()
	s.mu.RLock()
	defer s.mu.RUnlock()
	names := make([]string, 0, len(s.routes))
	for name := range s.routes {
		names = append(names, name)
	}
	sort.Strings(names)
	return names
}

// Dashboard returns the dashboard address of product name in the current
// map, without rebuilding it.
func (s *Server) Dashboard(name string) (string, bool) {
	if rt := s.lookup(name); rt != nil {
		return rt.addr, true
	}
	return "", false
}

func (s *Server) rebuildIfStale() {
	s.rebuildMu.Lock()
	defer s.rebuildMu.Unlock()
	s.mu.RLock()
	fresh := !s.built.IsZero() && time.Since(s.built) < s.interval
	s.mu.RUnlock()
	if fresh {
		return
	}
	m, loadErr := s.loader.Load()
	if loadErr != nil {
		// §7.2: a failed load leaves the map empty until the next
		// successful rebuild.
		s.log.Warn("load dashboard list failed; no product is routed until the next rebuild", "err", loadErr)
		m = nil
	}
	routes := make(map[string]*route, len(m))
	s.mu.RLock()
	old := s.routes
	s.mu.RUnlock()
	for name, addr := range m {
		if name == "" || addr == "" {
			continue
		}
		if rt := old[name]; rt != nil && rt.addr == addr {
			routes[name] = rt
			continue
		}
		rt, err := s.newRoute(name, addr)
		if err != nil {
			s.log.Warn("skip product: bad dashboard address", "product", name, "dashboard", addr, "err", err)
			continue
		}
		routes[name] = rt
	}
	s.mu.Lock()
	s.routes, s.built = routes, time.Now()
	s.mu.Unlock()
	if loadErr == nil {
		s.log.Debug("dashboard list rebuilt", "products", len(routes))
	}
}

// newRoute builds the reverse proxy to the dashboard at addr (host:port,
// optionally with an http:// prefix).
func (s *Server) newRoute(name, addr string) (*route, error) {
	raw := addr
	if !strings.Contains(raw, "://") {
		raw = "http://" + raw
	}
	target, err := url.Parse(raw)
	if err != nil {
		return nil, err
	}
	if target.Scheme != "http" && target.Scheme != "https" || target.Host == "" {
		return nil, fmt.Errorf("want host:port, got %q", addr)
	}
	lg := s.log.With("product", name, "dashboard", addr)
	rp := &httputil.ReverseProxy{
		Rewrite: func(pr *httputil.ProxyRequest) {
			pr.SetURL(target)
			// Keep the client's X-Forwarded-For chain and append it.
			pr.Out.Header["X-Forwarded-For"] = pr.In.Header["X-Forwarded-For"]
			pr.SetXForwarded()
		},
		Transport: s.tr,
		ErrorHandler: func(w http.ResponseWriter, r *http.Request, err error) {
			lg.Warn("forward to dashboard failed", "method", r.Method, "path", r.URL.Path, "err", err)
			w.WriteHeader(http.StatusBadGateway)
		},
	}
	return &route{addr: addr, proxy: rp}, nil
}
