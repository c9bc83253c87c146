package admin

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"

	"github.com/codisgo/codis/pkg/models"
	"github.com/codisgo/codis/pkg/utils/token"
)

// ErrInvalidSlotsFile is wrapped when a --fillslots file cannot be used.
var ErrInvalidSlotsFile = errors.New("invalid slots file")

// maxSlotsFile bounds a --fillslots file (1024 slots with replica groups
// fit easily).
const maxSlotsFile = 16 << 20

// proxyAdmin is one proxy-mode invocation.
type proxyAdmin struct {
	rpc   *RPC
	env   *Env
	out   io.Writer
	addr  string
	xauth string
}

// RunProxy runs the proxy mode against the proxy admin address addr
// (SPEC-control §6.3). --auth is the product auth that is part of the
// proxy xauth.
func RunProxy(ctx context.Context, env *Env, addr string, o Options) error {
	if addr == "" {
		return fmt.Errorf("%w: empty --proxy address", ErrUsage)
	}
	rpc, closeRPC := env.rpc()
	defer closeRPC()
	p := &proxyAdmin{rpc: rpc, env: env, out: env.Out, addr: addr}
	if p.out == nil {
		p.out = io.Discard
	}
	if !o.Bool("--start") && !o.Bool("--shutdown") && o["--log-level"] == nil &&
		o["--fillslots"] == nil && !o.Bool("--reset-stats") && !o.Bool("--forcegc") {
		return p.view(ctx, o)
	}

	// Check local input before contacting the proxy.
	var level string
	var slots []*models.Slot
	var err error
	if s, ok := o.String("--log-level"); ok {
		if level, err = normalizeLevel(s); err != nil {
			return err
		}
	}
	if file, ok := o.String("--fillslots"); ok {
		if slots, err = LoadSlots(file); err != nil {
			return err
		}
		if o.Bool("--locked") {
			for _, s := range slots {
				s.Locked = true
			}
		}
	}

	auth, _ := o.String("--auth")
	if err := p.login(ctx, auth); err != nil {
		return err
	}
	switch {
	case o.Bool("--start"):
		return p.put(ctx, "start", p.api("start"), nil)
	case o.Bool("--shutdown"):
		return p.put(ctx, "shutdown", p.api("shutdown"), nil)
	case level != "":
		return p.put(ctx, "loglevel", p.api("loglevel", level), nil)
	case slots != nil:
		return p.put(ctx, "fillslots", p.api("fillslots"), slots)
	case o.Bool("--reset-stats"):
		return p.put(ctx, "stats-reset", p.api("stats/reset"), nil)
	default: // --forcegc
		return p.put(ctx, "forcegc", p.api("forcegc"), nil)
	}
}

// api builds /api/proxy/{op...}/{xauth}/{args...}.
func (p *proxyAdmin) api(op string, args ...string) string {
	segs := []string{"api", "proxy"}
	segs = append(segs, splitPath(op)...)
	segs = append(segs, p.xauth)
	return URL(p.addr, append(segs, args...)...)
}

func (p *proxyAdmin) put(ctx context.Context, what, u string, body any) error {
	p.env.logger().Debug("call proxy", "op", what, "url", u)
	var ack string
	if err := p.rpc.Put(ctx, u, body, &ack); err != nil {
		return &StepError{Step: fmt.Sprintf("call rpc %s to proxy %s failed", what, p.addr), Err: err}
	}
	return nil
}

func (p *proxyAdmin) get(ctx context.Context, what, u string, out any) error {
	p.env.logger().Debug("call proxy", "op", what, "url", u)
	if err := p.rpc.Get(ctx, u, out); err != nil {
		return &StepError{Step: fmt.Sprintf("call rpc %s to proxy %s failed", what, p.addr), Err: err}
	}
	return nil
}

// login reads the proxy model and checks the xauth built from its product
// name, auth and token.
func (p *proxyAdmin) login(ctx context.Context, auth string) error {
	var m models.Proxy
	if err := p.get(ctx, "model", URL(p.addr, "api", "proxy", "model"), &m); err != nil {
		return err
	}
	p.xauth = token.NewXAuth(m.ProductName, auth, m.Token)
	var ack string
	return p.get(ctx, "xping", URL(p.addr, "api", "proxy", "xping", p.xauth), &ack)
}

// view prints GET /proxy or one of its parts (no auth needed).
func (p *proxyAdmin) view(ctx context.Context, o Options) error {
	ov := &ProxyOverview{}
	if err := p.get(ctx, "overview", URL(p.addr, "proxy"), ov); err != nil {
		return err
	}
	switch {
	case o.Bool("config"):
		return writeJSON(p.out, rawOrNull(ov.Config))
	case o.Bool("model"):
		return writeJSON(p.out, ov.Model)
	case o.Bool("stats"):
		return writeJSON(p.out, rawOrNull(ov.Stats))
	case o.Bool("slots"):
		return writeJSON(p.out, ov.Slots)
	}
	if isNullRaw(ov.Config) {
		ov.Config = nil
	}
	if isNullRaw(ov.Stats) {
		ov.Stats = nil
	}
	return writeJSON(p.out, ov)
}

// LoadSlots reads a --fillslots file: a JSON list of Slot whose ids are
// all in 0..1023 ("invalid slot id = N"). Other fields are checked by the
// proxy.
func LoadSlots(file string) ([]*models.Slot, error) {
	f, err := os.Open(file)
	if err != nil {
		return nil, fmt.Errorf("%w: %w", ErrInvalidSlotsFile, err)
	}
	defer f.Close()
	b, err := io.ReadAll(io.LimitReader(f, maxSlotsFile+1))
	if err != nil {
		return nil, fmt.Errorf("%w: read %s: %w", ErrInvalidSlotsFile, file, err)
	}
	if len(b) > maxSlotsFile {
		return nil, fmt.Errorf("%w: %s is larger than %d bytes", ErrInvalidSlotsFile, file, maxSlotsFile)
	}
	if len(bytes.TrimSpace(b)) == 0 {
		return nil, fmt.Errorf("%w: %s is empty", ErrInvalidSlotsFile, file)
	}
	var slots []*models.Slot
	if err := json.Unmarshal(b, &slots); err != nil {
		return nil, fmt.Errorf("%w: decode %s: %w", ErrInvalidSlotsFile, file, err)
	}
	if slots == nil {
		slots = []*models.Slot{}
	}
	for i, s := range slots {
		if s == nil {
			return nil, fmt.Errorf("%w: %s: slot[%d] is null", ErrInvalidSlotsFile, file, i)
		}
		if s.ID < 0 || s.ID >= models.MaxSlotNum {
			return nil, fmt.Errorf("%w: invalid slot id = %d", ErrInvalidSlotsFile, s.ID)
		}
	}
	return slots, nil
}
