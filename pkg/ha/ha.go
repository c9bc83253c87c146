// Package ha implements codis-ha (SPEC-control §8), the optional failover
// helper: every interval it reads the dashboard stats, classifies every
// proxy and group server, logs one status line for each, and (unless
// maintenance is off) takes at most one corrective step: force-remove a
// dead proxy, remove and shut down a failed slave, or promote a slave of
// a group whose master is down.
//
// The usual failover path of Codis is redis-sentinel driven by the
// dashboard; codis-ha is a blunt alternative. It removes whatever looks
// broken, including a slave that was just added and is not replicating
// yet, so it should only run against a cluster whose topology is not
// being changed by hand.
//
// An HA is used by one goroutine at a time: Init once, then Round
// repeatedly (or Run, which does both).
package ha

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"strconv"
	"strings"
	"time"

	"github.com/codisgo/codis/pkg/admin"
	"github.com/codisgo/codis/pkg/models"
	"github.com/codisgo/codis/pkg/utils/log"
	"github.com/codisgo/codis/pkg/utils/rpc"
	"github.com/codisgo/codis/pkg/utils/token"
)

// DefaultInterval is the time between two rounds when none is given.
const DefaultInterval = 5 * time.Second

// ErrInvalidOptions is wrapped by New errors.
var ErrInvalidOptions = errors.New("invalid options")

// ErrNotInitialized is returned by Round before a successful Init.
var ErrNotInitialized = errors.New("codis-ha is not initialized")

// Options configure an HA.
type Options struct {
	// Dashboard is the admin address of the dashboard (host:port).
	Dashboard string
	// Interval is the time between rounds; it must be positive. A slave
	// whose link has been down for more than 10×Interval is only
	// promoted when no fresher one exists.
	Interval time.Duration
	// NoMaintains turns the corrective steps off: rounds only log.
	NoMaintains bool
	// Logger receives the status lines and the steps; nil discards.
	Logger *slog.Logger
	// RPC is the REST client; nil means a client with the default
	// timeouts, closed by Close.
	RPC *rpc.Client
}

// HA is one codis-ha instance.
type HA struct {
	addr     string
	interval time.Duration
	maintain bool
	log      *slog.Logger
	rpc      *rpc.Client
	ownRPC   bool

	xauth       string // dashboard xauth, from the product name
	productAuth string // from GET /topom config; the dashboard never sends it
}

// New checks the options and returns an HA; it does no I/O.
func New(o Options) (*HA, error) {
	if o.Dashboard == "" {
		return nil, fmt.Errorf("%w: empty dashboard address", ErrInvalidOptions)
	}
	if o.Interval <= 0 {
		return nil, fmt.Errorf("%w: interval = %v, must be positive", ErrInvalidOptions, o.Interval)
	}
	h := &HA{addr: o.Dashboard, interval: o.Interval, maintain: !o.NoMaintains, log: o.Logger, rpc: o.RPC}
	if h.log == nil {
		h.log = log.Discard()
	}
	if h.rpc == nil {
		h.rpc, h.ownRPC = rpc.New(rpc.Options{}), true
	}
	return h, nil
}

// Close releases the REST client if the HA made it.
func (h *HA) Close() {
	if h.ownRPC {
		h.rpc.Close()
	}
}

// maxdown is 10 intervals in whole seconds (at least 1).
func (h *HA) maxdown() int { return max(int(10*h.interval/time.Second), 1) }

// Init reads the dashboard model (GET /api/topom/model) for the product
// name, from which the xauth is derived, and the overview (GET /topom)
// for config.product_auth.
func (h *HA) Init(ctx context.Context) error {
	var t models.Topom
	if err := h.get(ctx, "model", rpc.URL(h.addr, "api", "topom", "model"), &t); err != nil {
		return err
	}
	var ov admin.DashboardOverview
	if err := h.get(ctx, "overview", rpc.URL(h.addr, "topom"), &ov); err != nil {
		return err
	}
	var conf struct {
		ProductAuth string `json:"product_auth"`
	}
	if !isNull(ov.Config) {
		if err := json.Unmarshal(ov.Config, &conf); err != nil {
			return fmt.Errorf("decode config of dashboard %s: %w", h.addr, err)
		}
	}
	h.xauth, h.productAuth = token.NewXAuth(t.ProductName), conf.ProductAuth
	h.log.Info("codis-ha watching dashboard", "dashboard", h.addr, "product", t.ProductName,
		"interval", h.interval, "maintains", h.maintain)
	return nil
}

// Run calls Init, then Round every interval until ctx is done (it then
// returns nil) or a round fails to read the stats (it returns that
// error).
func (h *HA) Run(ctx context.Context) error {
	if err := h.Init(ctx); err != nil {
		return err
	}
	for {
		if _, err := h.Round(ctx); err != nil {
			if ctx.Err() != nil {
				return nil
			}
			return err
		}
		t := time.NewTimer(h.interval)
		select {
		case <-ctx.Done():
			t.Stop()
			return nil
		case <-t.C:
		}
	}
}

// Result is what one round saw and did.
type Result struct {
	Stats    *admin.DashboardStats
	Status   *Status
	Decision Decision // the plan; zero when maintenance is off
	Err      error    // the corrective step failed (logged, not fatal)
}

// Round fetches the stats (GET /api/topom/stats/{xauth}; a failure is
// returned and ends Run), logs the status of every proxy and server and,
// unless maintenance is off, takes the corrective step chosen by Plan.
// A failed corrective step is logged and reported in Result.Err.
func (h *HA) Round(ctx context.Context) (*Result, error) {
	if h.xauth == "" {
		return nil, ErrNotInitialized
	}
	s := &admin.DashboardStats{}
	if err := h.get(ctx, "stats", h.api("stats"), s); err != nil {
		return nil, err
	}
	r := &Result{Stats: s, Status: Classify(s)}
	for _, l := range ProxyLines(s, r.Status) {
		h.log.Info(l)
	}
	for _, l := range GroupLines(s, r.Status) {
		h.log.Info(l)
	}
	if !h.maintain {
		return r, nil
	}
	r.Decision = Plan(s, r.Status, h.maxdown())
	for _, sk := range r.Decision.Skipped {
		switch sk.Reason {
		case SkipGiveUp:
			h.log.Warn("master is down and no slave can be promoted, giveup", "group", sk.GroupID, "master", sk.Master)
		case SkipPromoting:
			h.log.Warn("master is down but the group is promoting, please fix it manually", "group", sk.GroupID, "master", sk.Master)
		}
	}
	r.Err = h.apply(ctx, r.Decision.Action)
	return r, nil
}

// apply takes a corrective step.
func (h *HA) apply(ctx context.Context, a Action) error {
	switch a.Kind {
	case ActionRemoveProxy:
		h.log.Warn("remove proxy", "token", a.Token, "status", a.Code)
		if err := h.put(ctx, "remove-proxy", h.api("proxy/remove", a.Token, "1")); err != nil {
			h.log.Error("remove proxy failed", "token", a.Token, "err", err)
			return err
		}
		h.log.Warn("remove proxy done", "token", a.Token)
	case ActionRemoveServer:
		h.log.Warn("remove server from group", "group", a.GroupID, "server", a.Addr, "status", a.Code)
		if err := h.put(ctx, "group-del-server", h.api("group/del", strconv.Itoa(a.GroupID), a.Addr)); err != nil {
			h.log.Error("remove server from group failed", "group", a.GroupID, "server", a.Addr, "err", err)
			return err
		}
		h.log.Warn("remove server from group done", "group", a.GroupID, "server", a.Addr)
		if err := shutdownServer(ctx, a.Addr, h.productAuth); err != nil {
			h.log.Warn("shutdown server failed", "server", a.Addr, "err", err)
			return nil // the topology step is done; the server may well be dead
		}
		h.log.Warn("shutdown server done", "server", a.Addr)
	case ActionPromote:
		h.log.Warn("promote slave", "group", a.GroupID, "slave", a.Addr, "master_status", a.Code)
		if err := h.put(ctx, "group-promote-server", h.api("group/promote", strconv.Itoa(a.GroupID), a.Addr)); err != nil {
			h.log.Error("promote slave failed", "group", a.GroupID, "slave", a.Addr, "err", err)
			return err
		}
		h.log.Warn("promote slave done", "group", a.GroupID, "slave", a.Addr)
	}
	return nil
}

// api builds http://{dashboard}/api/topom/{op...}/{xauth}/{args...}.
func (h *HA) api(op string, args ...string) string {
	segs := append(strings.Split("api/topom/"+op, "/"), h.xauth)
	return rpc.URL(h.addr, append(segs, args...)...)
}

func (h *HA) get(ctx context.Context, what, u string, out any) error {
	if err := h.rpc.Get(ctx, u, out); err != nil {
		return fmt.Errorf("call rpc %s to dashboard %s failed: %w", what, h.addr, err)
	}
	return nil
}

func (h *HA) put(ctx context.Context, what, u string) error {
	var ack string
	if err := h.rpc.Put(ctx, u, nil, &ack); err != nil {
		return fmt.Errorf("call rpc %s to dashboard %s failed: %w", what, h.addr, err)
	}
	return nil
}
