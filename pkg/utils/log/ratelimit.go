package log

import (
	"context"
	"log/slog"
	"sync"
	"time"
)

// maxLimiterKeys bounds the memory of a RateLimiter fed with many distinct
// messages.
const maxLimiterKeys = 1024

// RateLimiter drops repeated log lines: a message is written at most once
// per interval; the next line written for it carries suppressed=N, the
// number dropped in between. Messages are keyed by their text, so use
// constant messages with key/value arguments. Safe for concurrent use.
type RateLimiter struct {
	interval time.Duration
	now      func() time.Time

	mu   sync.Mutex // protects seen
	seen map[string]*limitEntry
}

type limitEntry struct {
	last       time.Time
	suppressed int
}

// NewRateLimiter returns a RateLimiter letting one line per message
// through every interval.
func NewRateLimiter(interval time.Duration) *RateLimiter {
	return &RateLimiter{interval: interval, now: time.Now, seen: make(map[string]*limitEntry)}
}

// Warn logs msg at WARN on l unless msg was logged less than the interval
// ago.
func (rl *RateLimiter) Warn(l *slog.Logger, msg string, args ...any) {
	rl.log(l, LevelWarn, msg, args)
}

// Error logs msg at ERROR on l unless msg was logged less than the
// interval ago.
func (rl *RateLimiter) Error(l *slog.Logger, msg string, args ...any) {
	rl.log(l, LevelError, msg, args)
}

func (rl *RateLimiter) log(l *slog.Logger, level slog.Level, msg string, args []any) {
	ctx := context.Background()
	if !l.Enabled(ctx, level) {
		return
	}
	suppressed, ok := rl.allow(msg)
	if !ok {
		return
	}
	if suppressed > 0 {
		args = append(args[:len(args):len(args)], slog.Int("suppressed", suppressed))
	}
	logAt(ctx, l, level, msg, args, 4)
}

// allow reports whether msg may be logged now, and how many lines were
// dropped since it was last logged.
func (rl *RateLimiter) allow(msg string) (int, bool) {
	now := rl.now()
	rl.mu.Lock()
	defer rl.mu.Unlock()
	e, ok := rl.seen[msg]
	if ok {
		if now.Sub(e.last) < rl.interval {
			e.suppressed++
			return 0, false
		}
		n := e.suppressed
		e.last, e.suppressed = now, 0
		return n, true
	}
	if len(rl.seen) >= maxLimiterKeys {
		for k, v := range rl.seen {
			if now.Sub(v.last) >= rl.interval {
				delete(rl.seen, k)
			}
		}
		if len(rl.seen) >= maxLimiterKeys {
			clear(rl.seen)
		}
	}
	rl.seen[msg] = &limitEntry{last: now}
	return 0, true
}
