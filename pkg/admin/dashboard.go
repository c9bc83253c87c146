package admin

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"sort"
	"strconv"

	"github.com/codisgo/codis/pkg/models"
	"github.com/codisgo/codis/pkg/utils/token"
)

// ErrProxyNotFound is wrapped when --remove-proxy/--reinit-proxy finds no
// proxy with the given id or address (and --force is not set).
var ErrProxyNotFound = errors.New("can't find specific proxy")

// dashboard is one dashboard-mode invocation.
type dashboard struct {
	env   *Env
	rpc   *RPC
	log   *slog.Logger
	out   io.Writer
	addr  string
	xauth string
}

func (d *dashboard) url(segs ...string) string { return URL(d.addr, segs...) }

// api builds /api/topom/{op...}/{xauth}/{args...}.
func (d *dashboard) api(op string, args ...string) string {
	segs := append(splitPath("api/topom/"+op), d.xauth)
	return d.url(append(segs, args...)...)
}

// put sends an acknowledged write (reply "OK").
func (d *dashboard) put(ctx context.Context, what, u string, body any) error {
	d.log.Debug("call dashboard", "op", what, "url", u)
	var ack string
	if err := d.rpc.Put(ctx, u, body, &ack); err != nil {
		return &StepError{Step: fmt.Sprintf("call rpc %s to dashboard %s failed", what, d.addr), Err: err}
	}
	d.log.Debug("call dashboard OK", "op", what)
	return nil
}

// RunDashboard runs the dashboard mode against the dashboard at addr
// (SPEC-control §6.2). The arguments are checked first; then it reads the
// dashboard model, derives the xauth from its product name, checks it
// with xping and runs the command.
func RunDashboard(ctx context.Context, env *Env, addr string, o Options) error {
	if addr == "" {
		return fmt.Errorf("%w: empty --dashboard address", ErrUsage)
	}
	rpc, closeRPC := env.rpc()
	defer closeRPC()
	d := &dashboard{env: env, rpc: rpc, log: env.logger(), out: env.Out, addr: addr}
	if d.out == nil {
		d.out = io.Discard
	}
	op, err := d.command(o)
	if err != nil {
		return err
	}
	if err := d.login(ctx); err != nil {
		return err
	}
	return op(ctx)
}

// op is a parsed command, run after login.
type op func(ctx context.Context) error

// putOp is a command that is one acknowledged PUT.
func (d *dashboard) putOp(what, route string, args ...string) op {
	return func(ctx context.Context) error { return d.put(ctx, what, d.api(route, args...), nil) }
}

// command parses the arguments of the selected command.
func (d *dashboard) command(o Options) (op, error) {
	switch {
	case o.Bool("--shutdown"):
		return d.putOp("shutdown", "shutdown"), nil
	case o.Bool("--reload"):
		return d.putOp("reload", "reload"), nil
	case o["--log-level"] != nil:
		s, _ := o.String("--log-level")
		level, err := normalizeLevel(s)
		if err != nil {
			return nil, err
		}
		return d.putOp("loglevel", "loglevel", level), nil
	case o.Bool("--slots-assign"):
		return d.slotsAssign(o)
	case o.Bool("--slots-status"):
		return func(ctx context.Context) error {
			var slots []*models.Slot
			if err := d.get(ctx, "slots", d.api("slots"), &slots); err != nil {
				return err
			}
			return writeJSON(d.out, slots)
		}, nil
	case o.Bool("--list-proxy"):
		return d.overviewOp(func(s *DashboardStats) any { return s.Proxy.Models }), nil
	case o.Bool("--create-proxy"), o.Bool("--online-proxy"):
		name := "create"
		if o.Bool("--online-proxy") {
			name = "online"
		}
		a, err := o.MustString("--addr")
		if err != nil {
			return nil, err
		}
		return d.putOp(name+"-proxy", "proxy/"+name, a), nil
	case o.Bool("--remove-proxy"), o.Bool("--reinit-proxy"):
		return d.proxyTokens(o)
	case o.Bool("--proxy-status"):
		return d.statsOp(func(s *DashboardStats) error { return writeProxyStatus(d.out, s) }), nil
	case o.Bool("--list-group"):
		return d.overviewOp(func(s *DashboardStats) any { return s.Group.Models }), nil
	case o.Bool("--create-group"), o.Bool("--remove-group"):
		name := "create"
		if o.Bool("--remove-group") {
			name = "remove"
		}
		gid, err := o.Int("--gid")
		if err != nil {
			return nil, err
		}
		return d.putOp(name+"-group", "group/"+name, itoa(gid)), nil
	case o.Bool("--resync-group"):
		return d.resyncGroup(o)
	case o.Bool("--group-add"):
		gid, a, err := gidAddr(o)
		if err != nil {
			return nil, err
		}
		args := []string{itoa(gid), a}
		if dc, _ := o.String("--datacenter"); dc != "" {
			args = append(args, dc)
		}
		return d.putOp("group-add-server", "group/add", args...), nil
	case o.Bool("--group-del"):
		gid, a, err := gidAddr(o)
		if err != nil {
			return nil, err
		}
		return d.putOp("group-del-server", "group/del", itoa(gid), a), nil
	case o.Bool("--replica-groups"):
		gid, a, err := gidAddr(o)
		if err != nil {
			return nil, err
		}
		if o.Bool("--enable") == o.Bool("--disable") {
			return nil, fmt.Errorf("%w: --replica-groups needs exactly one of --enable and --disable", ErrUsage)
		}
		return d.putOp("replica-groups", "group/replica-groups", itoa(gid), a, boolSeg(o.Bool("--enable"))), nil
	case o.Bool("--promote-server"):
		gid, a, err := gidAddr(o)
		if err != nil {
			return nil, err
		}
		promote := d.putOp("group-promote-server", "group/promote", itoa(gid), a)
		status := d.statsOp(func(s *DashboardStats) error { return writeGroupStatus(d.out, s) })
		return func(ctx context.Context) error {
			if err := promote(ctx); err != nil {
				return err
			}
			return status(ctx)
		}, nil
	case o.Bool("--group-status"):
		return d.statsOp(func(s *DashboardStats) error { return writeGroupStatus(d.out, s) }), nil
	case o.Bool("--sync-action"):
		return d.syncAction(o)
	case o.Bool("--slot-action"):
		return d.slotAction(o)
	case o.Bool("--rebalance"):
		return d.rebalance(o), nil
	case o.Bool("--sentinel-add"):
		a, err := o.MustString("--addr")
		if err != nil {
			return nil, err
		}
		return d.putOp("add-sentinel", "sentinels/add", a), nil
	case o.Bool("--sentinel-del"):
		a, err := o.MustString("--addr")
		if err != nil {
			return nil, err
		}
		return d.putOp("del-sentinel", "sentinels/del", a, boolSeg(o.Bool("--force"))), nil
	case o.Bool("--sentinel-resync"):
		return d.putOp("resync-sentinels", "sentinels/resync-all"), nil
	default:
		return func(ctx context.Context) error { return d.view(ctx, o) }, nil
	}
}

// overviewOp prints part of the stats of the overview (GET /topom), as
// the original does for --list-group and --list-proxy.
func (d *dashboard) overviewOp(part func(s *DashboardStats) any) op {
	return func(ctx context.Context) error {
		ov := &DashboardOverview{}
		if err := d.get(ctx, "overview", d.url("topom"), ov); err != nil {
			return err
		}
		if ov.Stats == nil {
			return writeJSON(d.out, nil)
		}
		return writeJSON(d.out, part(ov.Stats))
	}
}

// statsOp fetches the stats and hands them to f.
func (d *dashboard) statsOp(f func(s *DashboardStats) error) op {
	return func(ctx context.Context) error {
		s, err := d.stats(ctx)
		if err != nil {
			return err
		}
		return f(s)
	}
}

// login reads the dashboard model, derives the xauth from its product
// name and checks it.
func (d *dashboard) login(ctx context.Context) error {
	var t models.Topom
	if err := d.get(ctx, "model", d.url("api", "topom", "model"), &t); err != nil {
		return err
	}
	d.xauth = token.NewXAuth(t.ProductName)
	var ack string
	if err := d.get(ctx, "xping", d.url("api", "topom", "xping", d.xauth), &ack); err != nil {
		return err
	}
	return nil
}

func (d *dashboard) get(ctx context.Context, what, u string, out any) error {
	d.log.Debug("call dashboard", "op", what, "url", u)
	if err := d.rpc.Get(ctx, u, out); err != nil {
		return &StepError{Step: fmt.Sprintf("call rpc %s to dashboard %s failed", what, d.addr), Err: err}
	}
	d.log.Debug("call dashboard OK", "op", what)
	return nil
}

func (d *dashboard) stats(ctx context.Context) (*DashboardStats, error) {
	s := &DashboardStats{}
	if err := d.get(ctx, "stats", d.api("stats"), s); err != nil {
		return nil, err
	}
	return s, nil
}

// view prints the overview or one part of it.
func (d *dashboard) view(ctx context.Context, o Options) error {
	ov := &DashboardOverview{}
	if err := d.get(ctx, "overview", d.url("topom"), ov); err != nil {
		return err
	}
	switch {
	case o.Bool("config"):
		return writeJSON(d.out, rawOrNull(ov.Config))
	case o.Bool("model"):
		return writeJSON(d.out, ov.Model)
	}
	if !o.Bool("stats") && !o.Bool("slots") && !o.Bool("group") && !o.Bool("proxy") {
		if isNullRaw(ov.Config) {
			ov.Config = nil // omitted, as a missing config is
		}
		return writeJSON(d.out, ov)
	}
	if ov.Stats == nil {
		return writeJSON(d.out, nil)
	}
	switch {
	case o.Bool("stats"):
		return writeJSON(d.out, ov.Stats)
	case o.Bool("slots"):
		return writeJSON(d.out, ov.Stats.Slots)
	case o.Bool("group"):
		return writeJSON(d.out, ov.Stats.Group)
	default:
		return writeJSON(d.out, ov.Stats.Proxy)
	}
}

func gidAddr(o Options) (int, string, error) {
	gid, err := o.Int("--gid")
	if err != nil {
		return 0, "", err
	}
	a, err := o.MustString("--addr")
	if err != nil {
		return 0, "", err
	}
	return gid, a, nil
}

// slotRange reads --beg/--end: slot ids with beg <= end.
func slotRange(o Options) (int, int, error) {
	beg, err := o.Int("--beg")
	if err != nil {
		return 0, 0, err
	}
	end, err := o.Int("--end")
	if err != nil {
		return 0, 0, err
	}
	if err := models.ValidateSlotID(beg); err != nil {
		return 0, 0, fmt.Errorf("%w: --beg: %w", ErrUsage, err)
	}
	if err := models.ValidateSlotID(end); err != nil {
		return 0, 0, fmt.Errorf("%w: --end: %w", ErrUsage, err)
	}
	if beg > end {
		return 0, 0, fmt.Errorf("%w: invalid slot range [%d,%d]", ErrUsage, beg, end)
	}
	return beg, end, nil
}

func (d *dashboard) slotsAssign(o Options) (op, error) {
	beg, end, err := slotRange(o)
	if err != nil {
		return nil, err
	}
	gid := 0
	if !o.Bool("--offline") {
		if gid, err = o.Int("--gid"); err != nil {
			return nil, err
		}
		if err := models.ValidateGroupID(gid); err != nil {
			return nil, fmt.Errorf("%w: --gid: %w", ErrUsage, err)
		}
	}
	slots := make([]*models.SlotMapping, 0, end-beg+1)
	for sid := beg; sid <= end; sid++ {
		slots = append(slots, &models.SlotMapping{ID: sid, GroupID: gid})
	}
	if !o.Bool("--confirm") {
		// Preview only; nothing is sent.
		return func(context.Context) error { return writeJSON(d.out, slots) }, nil
	}
	return func(ctx context.Context) error {
		u := d.api("slots/assign")
		if o.Bool("--offline") {
			u += "/offline"
		}
		return d.put(ctx, "slots-assign", u, slots)
	}, nil
}

// proxyTokens runs --remove-proxy and --reinit-proxy.
func (d *dashboard) proxyTokens(o Options) (op, error) {
	remove := o.Bool("--remove-proxy")
	if !remove && o.Bool("--all") {
		return func(ctx context.Context) error { return d.reinitAll(ctx) }, nil
	}
	resolve, err := d.tokenResolver(o)
	if err != nil {
		return nil, err
	}
	return func(ctx context.Context) error {
		tokens, err := resolve(ctx)
		if err != nil {
			return err
		}
		for _, t := range tokens {
			if remove {
				err = d.put(ctx, "remove-proxy", d.api("proxy/remove", t, boolSeg(o.Bool("--force"))), nil)
			} else {
				err = d.put(ctx, "reinit-proxy", d.api("proxy/reinit", t), nil)
			}
			if err != nil {
				return err
			}
		}
		return nil
	}, nil
}

// reinitAll reinitialises every proxy known to the dashboard, printing
// each model first.
func (d *dashboard) reinitAll(ctx context.Context) error {
	s, err := d.stats(ctx)
	if err != nil {
		return err
	}
	for _, p := range s.Proxy.Models {
		if p == nil {
			continue
		}
		if _, err := fmt.Fprintf(d.out, "reinit proxy: %s\n", models.Encode(p)); err != nil {
			return fmt.Errorf("write output: %w", err)
		}
		if err := d.put(ctx, "reinit-proxy", d.api("proxy/reinit", p.Token), nil); err != nil {
			return err
		}
	}
	return nil
}

// tokenResolver maps --token, --pid or --addr to proxy tokens
// (SPEC-control §6.2): --token is used as is; --pid and --addr select the
// proxy models of the dashboard stats. No match is an error unless
// --force.
func (d *dashboard) tokenResolver(o Options) (func(ctx context.Context) ([]string, error), error) {
	if t, ok := o.String("--token"); ok {
		if t == "" {
			return nil, fmt.Errorf("%w: empty --token", ErrUsage)
		}
		return func(context.Context) ([]string, error) { return []string{t}, nil }, nil
	}
	var match func(p *models.Proxy) bool
	var what string
	switch {
	case o["--pid"] != nil:
		pid, err := o.Int("--pid")
		if err != nil {
			return nil, err
		}
		match = func(p *models.Proxy) bool { return p.ID == pid }
		what = "id = " + itoa(pid)
	case o["--addr"] != nil:
		a, err := o.MustString("--addr")
		if err != nil {
			return nil, err
		}
		match = func(p *models.Proxy) bool { return p.AdminAddr == a }
		what = "addr = " + a
	default:
		return nil, fmt.Errorf("%w: need one of --addr, --token and --pid", ErrUsage)
	}
	force := o.Bool("--force")
	return func(ctx context.Context) ([]string, error) {
		s, err := d.stats(ctx)
		if err != nil {
			return nil, err
		}
		var tokens []string
		for _, p := range s.Proxy.Models {
			if p != nil && match(p) {
				tokens = append(tokens, p.Token)
			}
		}
		if len(tokens) == 0 && !force {
			return nil, fmt.Errorf("%w with %s", ErrProxyNotFound, what)
		}
		return tokens, nil
	}, nil
}

func (d *dashboard) resyncGroup(o Options) (op, error) {
	if !o.Bool("--all") {
		gid, err := o.Int("--gid")
		if err != nil {
			return nil, err
		}
		return d.putOp("resync-group", "group/resync", itoa(gid)), nil
	}
	// Every group one by one, not the resync-all route (as the original).
	return func(ctx context.Context) error {
		s, err := d.stats(ctx)
		if err != nil {
			return err
		}
		for _, g := range s.Group.Models {
			if g == nil {
				continue
			}
			if err := d.put(ctx, "resync-group", d.api("group/resync", itoa(g.ID)), nil); err != nil {
				return err
			}
		}
		return nil
	}, nil
}

func (d *dashboard) syncAction(o Options) (op, error) {
	a, err := o.MustString("--addr")
	if err != nil {
		return nil, err
	}
	switch {
	case o.Bool("--create"):
		return d.putOp("create-sync-action", "group/action/create", a), nil
	case o.Bool("--remove"):
		return d.putOp("remove-sync-action", "group/action/remove", a), nil
	}
	return nil, fmt.Errorf("%w: --sync-action needs --create or --remove", ErrUsage)
}

// thenWait runs first and then, with --wait, waits for the slot actions.
func (d *dashboard) thenWait(o Options, first op) op {
	if !o.Bool("--wait") {
		return first
	}
	return func(ctx context.Context) error {
		if err := first(ctx); err != nil {
			return err
		}
		return d.waitSlotActions(ctx)
	}
}

func (d *dashboard) slotAction(o Options) (op, error) {
	switch {
	case o.Bool("--create"):
		sid, err := o.Int("--sid")
		if err != nil {
			return nil, err
		}
		gid, err := o.Int("--gid")
		if err != nil {
			return nil, err
		}
		return d.putOp("create-slot-action", "slots/action/create", itoa(sid), itoa(gid)), nil
	case o.Bool("--remove"):
		sid, err := o.Int("--sid")
		if err != nil {
			return nil, err
		}
		return d.putOp("remove-slot-action", "slots/action/remove", itoa(sid)), nil
	case o.Bool("--create-some"):
		src, err := o.Int("--gid-from")
		if err != nil {
			return nil, err
		}
		dst, err := o.Int("--gid-to")
		if err != nil {
			return nil, err
		}
		num, err := o.Int("--num-slots")
		if err != nil {
			return nil, err
		}
		return d.thenWait(o, d.putOp("create-slot-action-some", "slots/action/create-some", itoa(src), itoa(dst), itoa(num))), nil
	case o.Bool("--create-range"):
		beg, end, err := slotRange(o)
		if err != nil {
			return nil, err
		}
		gid, err := o.Int("--gid")
		if err != nil {
			return nil, err
		}
		return d.thenWait(o, d.putOp("create-slot-action-range", "slots/action/create-range", itoa(beg), itoa(end), itoa(gid))), nil
	case o["--interval"] != nil:
		v, err := o.Int("--interval")
		if err != nil {
			return nil, err
		}
		return d.putOp("slot-action-interval", "slots/action/interval", itoa(v)), nil
	case o["--disabled"] != nil:
		v, err := o.Int("--disabled")
		if err != nil {
			return nil, err
		}
		return d.putOp("slot-action-disabled", "slots/action/disabled", boolSeg(v != 0)), nil
	}
	return nil, fmt.Errorf("%w: --slot-action needs one of --create, --remove, --create-some, --create-range, --interval and --disabled", ErrUsage)
}

// rebalance asks the dashboard for a rebalance plan (applied with
// --confirm) and prints it; with --confirm --wait it then waits for the
// migrations.
func (d *dashboard) rebalance(o Options) op {
	confirm := o.Bool("--confirm")
	return func(ctx context.Context) error {
		u := d.api("slots/rebalance", boolSeg(confirm))
		d.log.Debug("call dashboard", "op", "slots-rebalance", "url", u)
		var raw map[string]int
		if err := d.rpc.Put(ctx, u, nil, &raw); err != nil {
			return &StepError{Step: fmt.Sprintf("call rpc slots-rebalance to dashboard %s failed", d.addr), Err: err}
		}
		plans := make(map[int]int, len(raw))
		for k, gid := range raw {
			sid, err := strconv.Atoi(k)
			if err != nil {
				return fmt.Errorf("dashboard %s returned an invalid rebalance plan: slot %q", d.addr, k)
			}
			plans[sid] = gid
		}
		if err := writePlan(d.out, plans); err != nil {
			return err
		}
		if confirm && len(plans) != 0 && o.Bool("--wait") {
			return d.waitSlotActions(ctx)
		}
		return nil
	}
}

// writePlan prints a rebalance plan: "nothing changes", or runs of
// consecutive slots moving to the same group as "[%04d,%04d] => %d" in
// ascending order followed by "done".
func writePlan(w io.Writer, plans map[int]int) error {
	var b bytes.Buffer
	if len(plans) == 0 {
		b.WriteString("nothing changes\n")
	} else {
		sids := make([]int, 0, len(plans))
		for sid := range plans {
			sids = append(sids, sid)
		}
		sort.Ints(sids)
		beg := 0
		for i := 1; i <= len(sids); i++ {
			if i < len(sids) && sids[i] == sids[i-1]+1 && plans[sids[i]] == plans[sids[beg]] {
				continue
			}
			fmt.Fprintf(&b, "[%04d,%04d] => %d\n", sids[beg], sids[i-1], plans[sids[beg]])
			beg = i
		}
		b.WriteString("done\n")
	}
	if _, err := w.Write(b.Bytes()); err != nil {
		return fmt.Errorf("write output: %w", err)
	}
	return nil
}

func isNullRaw(r json.RawMessage) bool {
	t := bytes.TrimSpace(r)
	return len(t) == 0 || bytes.Equal(t, []byte("null"))
}

// rawOrNull makes a missing raw document encode as null.
func rawOrNull(r json.RawMessage) any {
	if isNullRaw(r) {
		return nil
	}
	return r
}
