package proxy

import (
	"bytes"
	"compress/gzip"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/pprof"
	"strconv"
	"strings"

	"github.com/codisgo/codis/pkg/models"
	"github.com/codisgo/codis/pkg/utils/log"
	"github.com/prometheus/client_golang/prometheus/promhttp"
)

// Admin API errors (SPEC-data §E.1).
var (
	ErrMissingXAuth = errors.New("missing xauth, please check product name & auth")
	ErrInvalidXAuth = errors.New("invalid xauth, please check product name & auth")
	ErrBadBody      = errors.New("invalid request body")
)

// statusRemoteError is the original's non-standard error status.
const statusRemoteError = 800

// maxBodySize bounds request bodies (1024 slots fit easily).
const maxBodySize = 16 << 20

// LevelSetter changes the process log level (the loglevel route).
type LevelSetter interface {
	SetLevelName(name string) error
}

// SetLevelSetter installs the log level control used by the loglevel
// route; without one the route only validates the level.
func (p *Proxy) SetLevelSetter(ls LevelSetter) {
	p.mu.Lock()
	p.levels = ls
	p.mu.Unlock()
}

// apiFunc handles one route: it returns the value to encode or an error.
type apiFunc func(r *http.Request, params []string) (any, error)

type route struct {
	method string
	parts  []string // literal segments, or ":name" for a parameter
	auth   bool     // the first parameter is xauth
	fn     apiFunc
}

type apiHandler struct {
	p      *Proxy
	routes []route
	pprof  http.Handler
	prom   http.Handler
}

func (p *Proxy) newAPIHandler() http.Handler {
	h := &apiHandler{p: p}
	add := func(method, path string, auth bool, fn apiFunc) {
		h.routes = append(h.routes, route{method: method, parts: strings.Split(strings.Trim(path, "/"), "/"), auth: auth, fn: fn})
	}
	add("GET", "/proxy", false, func(*http.Request, []string) (any, error) { return p.overview(StatsFull), nil })
	add("GET", "/proxy/model", false, p.apiModel)
	add("GET", "/api/proxy/model", false, p.apiModel)
	add("GET", "/proxy/stats", false, func(*http.Request, []string) (any, error) { return p.StatsJSON(StatsFull), nil })
	add("GET", "/proxy/slots", false, func(*http.Request, []string) (any, error) { return p.router.Slots(), nil })
	add("GET", "/api/proxy/xping/:xauth", true, okFunc(func() error { return nil }))
	add("GET", "/api/proxy/stats/:xauth", true, func(*http.Request, []string) (any, error) { return p.StatsJSON(0), nil })
	add("GET", "/api/proxy/stats/:xauth/:flags", true, func(_ *http.Request, ps []string) (any, error) {
		flags, err := strconv.Atoi(ps[1]) // the error text is the original's
		if err != nil {
			return nil, err
		}
		return p.StatsJSON(flags), nil
	})
	add("GET", "/api/proxy/slots/:xauth", true, func(*http.Request, []string) (any, error) { return p.router.Slots(), nil })
	add("PUT", "/api/proxy/start/:xauth", true, okFunc(p.Online))
	add("PUT", "/api/proxy/stats/reset/:xauth", true, okFunc(func() error { p.stats.Reset(); return nil }))
	add("PUT", "/api/proxy/forcegc/:xauth", true, okFunc(func() error { forceGC(); return nil }))
	add("PUT", "/api/proxy/shutdown/:xauth", true, okFunc(p.shutdownAsync))
	add("PUT", "/api/proxy/loglevel/:xauth/:value", true, func(_ *http.Request, ps []string) (any, error) {
		return "OK", p.setLogLevel(ps[1])
	})
	add("PUT", "/api/proxy/fillslots/:xauth", true, func(r *http.Request, _ []string) (any, error) {
		var slots []*models.Slot
		if err := decodeBody(r, &slots); err != nil {
			return nil, err
		}
		return "OK", p.FillSlots(slots)
	})
	add("PUT", "/api/proxy/sentinels/:xauth", true, func(r *http.Request, _ []string) (any, error) {
		var s models.Sentinel
		if err := decodeBody(r, &s); err != nil {
			return nil, err
		}
		return "OK", p.SetSentinels(&s)
	})
	add("PUT", "/api/proxy/sentinels/:xauth/rewatch", true, okFunc(p.RewatchSentinels))

	mux := http.NewServeMux()
	mux.HandleFunc("/debug/pprof/", pprof.Index)
	mux.HandleFunc("/debug/pprof/cmdline", pprof.Cmdline)
	mux.HandleFunc("/debug/pprof/profile", pprof.Profile)
	mux.HandleFunc("/debug/pprof/symbol", pprof.Symbol)
	mux.HandleFunc("/debug/pprof/trace", pprof.Trace)
	h.pprof = mux
	h.prom = promhttp.HandlerFor(p.stats.m.reg, promhttp.HandlerOpts{})
	return h
}

func okFunc(f func() error) apiFunc {
	return func(*http.Request, []string) (any, error) {
		if err := f(); err != nil {
			return nil, err
		}
		return "OK", nil
	}
}

func decodeBody(r *http.Request, v any) error {
	data, err := io.ReadAll(io.LimitReader(r.Body, maxBodySize+1))
	if err != nil {
		return fmt.Errorf("%w: %v", ErrBadBody, err)
	}
	if len(data) > maxBodySize {
		return fmt.Errorf("%w: too large", ErrBadBody)
	}
	dec := json.NewDecoder(bytes.NewReader(data))
	if err := dec.Decode(v); err != nil {
		return fmt.Errorf("%w: %v", ErrBadBody, err)
	}
	if dec.More() {
		return fmt.Errorf("%w: trailing data", ErrBadBody)
	}
	return nil
}

func (p *Proxy) apiModel(*http.Request, []string) (any, error) {
	m := p.Model()
	if m == nil {
		return nil, ErrClosedProxy
	}
	return m, nil
}

func (p *Proxy) setLogLevel(value string) error {
	if _, err := log.ParseLevel(value); err != nil {
		return errors.New("invalid loglevel")
	}
	p.mu.Lock()
	ls := p.levels
	p.mu.Unlock()
	if ls != nil {
		if err := ls.SetLevelName(value); err != nil {
			return errors.New("invalid loglevel")
		}
	}
	p.logger.Info("log level changed", "level", strings.ToUpper(value))
	return nil
}

// shutdownAsync closes the proxy shortly after the reply is sent.
func (p *Proxy) shutdownAsync() error {
	if p.IsClosed() {
		return ErrClosedProxy
	}
	go func() {
		p.Close()
		if f := p.OnShutdown; f != nil {
			f()
		}
	}()
	return nil
}

// Overview is GET /proxy.
type Overview struct {
	Version string         `json:"version"`
	Compile string         `json:"compile"`
	Config  *Config        `json:"config,omitempty"`
	Model   *models.Proxy  `json:"model,omitempty"`
	Stats   *StatsJSON     `json:"stats,omitempty"`
	Slots   []*models.Slot `json:"slots,omitempty"`
}

func (p *Proxy) overview(flags int) *Overview {
	o := &Overview{Version: Version, Compile: Compile, Config: p.config, Model: p.Model(), Stats: p.StatsJSON(flags)}
	if flags&StatsSlots != 0 {
		o.Slots = p.router.Slots()
	}
	return o
}

func (h *apiHandler) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	path := r.URL.Path
	switch {
	case strings.HasPrefix(path, "/debug/"):
		h.pprof.ServeHTTP(w, r)
		return
	case path == "/metrics" && r.Method == http.MethodGet:
		h.prom.ServeHTTP(w, r)
		return
	case path == "/" && r.Method == http.MethodGet:
		w.Header().Set("Content-Type", "application/json; charset=utf-8")
		http.Redirect(w, r, "/proxy", http.StatusFound)
		return
	}
	parts := strings.Split(strings.TrimPrefix(path, "/"), "/")
	for i := range h.routes {
		rt := &h.routes[i]
		params, ok := rt.match(parts)
		if !ok || rt.method != r.Method {
			continue
		}
		if r.Method != http.MethodGet && strings.HasPrefix(path, "/api/") {
			h.p.logger.Info("API call", "path", path, "remote", r.RemoteAddr,
				"real_ip", firstNonEmpty(r.Header.Get("X-Real-IP"), r.Header.Get("X-Forwarded-For")))
		}
		if rt.auth {
			if err := h.checkXAuth(params[0]); err != nil {
				writeJSON(w, r, statusRemoteError, remoteError(err))
				return
			}
		}
		v, err := rt.fn(r, params)
		if err != nil {
			if h.p.logger.Enabled(r.Context(), slog.LevelDebug) {
				h.p.logger.Debug("API error", "path", path, "err", err)
			}
			writeJSON(w, r, statusRemoteError, remoteError(err))
			return
		}
		writeJSON(w, r, http.StatusOK, v)
		return
	}
	http.NotFound(w, r)
}

func (rt *route) match(parts []string) ([]string, bool) {
	if len(parts) != len(rt.parts) {
		return nil, false
	}
	var params []string
	for i, p := range rt.parts {
		if strings.HasPrefix(p, ":") {
			params = append(params, parts[i])
		} else if p != parts[i] {
			return nil, false
		}
	}
	return params, true
}

func (h *apiHandler) checkXAuth(xauth string) error {
	if h.p.IsClosed() {
		return ErrClosedProxy
	}
	switch xauth {
	case "":
		return ErrMissingXAuth
	case h.p.XAuth():
		return nil
	default:
		return ErrInvalidXAuth
	}
}

func firstNonEmpty(a, b string) string {
	if a != "" {
		return a
	}
	return b
}

// RemoteError is the original's error body.
type RemoteError struct {
	Cause string `json:"Cause"`
	Stack any    `json:"Stack"`
}

func remoteError(err error) *RemoteError { return &RemoteError{Cause: err.Error()} }

func writeJSON(w http.ResponseWriter, r *http.Request, status int, v any) {
	data, err := json.MarshalIndent(v, "", "    ")
	if err != nil {
		data, _ = json.MarshalIndent(remoteError(err), "", "    ")
		status = statusRemoteError
	}
	hdr := w.Header()
	hdr.Set("Content-Type", "application/json; charset=utf-8")
	if strings.Contains(r.Header.Get("Accept-Encoding"), "gzip") {
		hdr.Set("Content-Encoding", "gzip")
		hdr.Set("Vary", "Accept-Encoding")
		w.WriteHeader(status)
		gz := gzip.NewWriter(w)
		gz.Write(data)
		gz.Close()
		return
	}
	w.WriteHeader(status)
	w.Write(data)
}
