// Package admin implements codis-admin (SPEC-control §6): the dashboard
// mode (dashboard.go), the proxy mode (proxy.go) and the coordinator
// modes (coordinator.go). Each mode writes its normal output to an
// injected io.Writer and returns an error instead of exiting, so the
// command in cmd/admin stays a thin docopt shell and tests capture the
// output.
//
// Options are the docopt result map: keys are option and command names
// ("--gid", "config"), values are bool, string or nil.
package admin

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"strconv"
	"strings"
	"time"

	"github.com/codisgo/codis/pkg/models"
	"github.com/codisgo/codis/pkg/utils/log"
)

// ErrUsage is wrapped by errors about missing or malformed arguments.
var ErrUsage = errors.New("invalid argument")

// StepError is the failure of one step of a command: Step says what was
// attempted ("call rpc stats to dashboard 127.0.0.1:18080 failed"), Err
// is the cause, e.g. a *RemoteError. cmd/admin prints them on two lines.
type StepError struct {
	Step string
	Err  error
}

func (e *StepError) Error() string { return e.Step + ": " + e.Err.Error() }

func (e *StepError) Unwrap() error { return e.Err }

// Options is the parsed command line (a docopt result map).
type Options map[string]any

// Bool reports whether a flag or command was given.
func (o Options) Bool(name string) bool {
	b, _ := o[name].(bool)
	return b
}

// String returns the value of an option and whether it was given.
func (o Options) String(name string) (string, bool) {
	s, ok := o[name].(string)
	return s, ok
}

// MustString returns the non-empty value of an option or an error naming
// it.
func (o Options) MustString(name string) (string, error) {
	s, ok := o.String(name)
	if !ok || s == "" {
		return "", fmt.Errorf("%w: missing %s", ErrUsage, name)
	}
	return s, nil
}

// Int returns the integer value of an option: missing or not an integer
// is an error naming it.
func (o Options) Int(name string) (int, error) {
	s, err := o.MustString(name)
	if err != nil {
		return 0, err
	}
	n, err := strconv.Atoi(s)
	if err != nil {
		return 0, fmt.Errorf("%w: %s = %q is not an integer", ErrUsage, name, s)
	}
	return n, nil
}

// Env is what a mode needs from its caller.
type Env struct {
	Out io.Writer    // normal output (stdout)
	Log *slog.Logger // debug and progress logs (stderr); nil discards
	RPC *RPC         // REST client; nil means a NewRPC(RequestTimeout) per call

	// CoordinatorTimeout is the coordinator client timeout; <= 0 means
	// one minute (SPEC-control §6.4).
	CoordinatorTimeout time.Duration
	// WaitInterval is the polling period of --wait; <= 0 means 1 s.
	WaitInterval time.Duration
}

func (env *Env) logger() *slog.Logger {
	if env.Log == nil {
		return log.Discard()
	}
	return env.Log
}

// rpc returns env.RPC, or a new client and a func that closes it.
func (env *Env) rpc() (*RPC, func()) {
	if env.RPC != nil {
		return env.RPC, func() {}
	}
	c := NewRPC(RequestTimeout)
	return c, c.Close
}

func (env *Env) waitInterval() time.Duration {
	if env.WaitInterval <= 0 {
		return time.Second
	}
	return env.WaitInterval
}

// Run selects the mode (SPEC-control §6.1): --proxy gives the proxy mode,
// else --dashboard the dashboard mode, else a coordinator mode.
func Run(ctx context.Context, env *Env, o Options) error {
	if env.Out == nil {
		env.Out = io.Discard
	}
	if addr, ok := o.String("--proxy"); ok {
		return RunProxy(ctx, env, addr, o)
	}
	if addr, ok := o.String("--dashboard"); ok {
		return RunDashboard(ctx, env, addr, o)
	}
	return RunCoordinator(ctx, env, o)
}

// writeJSON prints v as 4-space indented JSON followed by a newline.
func writeJSON(w io.Writer, v any) error {
	b, err := models.Marshal(v)
	if err != nil {
		return fmt.Errorf("encode output: %w", err)
	}
	b = append(b, '\n')
	if _, err := w.Write(b); err != nil {
		return fmt.Errorf("write output: %w", err)
	}
	return nil
}

// normalizeLevel checks a --log-level value and returns its canonical
// name (DEBUG, INFO, WARN, ERROR or NONE).
func normalizeLevel(s string) (string, error) {
	l, err := log.ParseLevel(s)
	if err != nil {
		return "", fmt.Errorf("%w: --log-level: %w", ErrUsage, err)
	}
	return log.LevelName(l), nil
}

// boolSeg is the 0/1 path segment the original client sends for booleans.
func boolSeg(b bool) string {
	if b {
		return "1"
	}
	return "0"
}

func itoa(n int) string { return strconv.Itoa(n) }

// splitPath splits a route such as "group/action/create" into segments.
func splitPath(p string) []string { return strings.Split(p, "/") }
