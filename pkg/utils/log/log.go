// Package log provides the logging used by every Codis component: a
// slog.Handler writing human-readable lines
//
//	2026/11/22 01:21:39 file.go:123: [INFO] message key=value
//
// to stderr or to a daily-rotated file (FILE.YYYY-MM-DD), with levels
// DEBUG, INFO, WARN, ERROR and NONE that can be changed at run time.
//
// Components receive a *slog.Logger; the process owns one *Logger, whose
// SetLevel serves the REST loglevel routes. There is no package-level
// logger.
package log

import (
	"context"
	"io"
	"log/slog"
	"os"
	"runtime"
	"time"
)

// Logger is a *slog.Logger with a run-time adjustable level and an
// optional file it owns. Loggers derived with With/WithGroup share the
// level.
type Logger struct {
	*slog.Logger
	level  *slog.LevelVar
	closer io.Closer // nil when the writer is not owned
}

// New returns a Logger writing to w at the given level. The Logger does
// not close w.
func New(w io.Writer, level slog.Level) *Logger {
	lv := new(slog.LevelVar)
	lv.Set(level)
	return &Logger{Logger: slog.New(NewHandler(w, lv)), level: lv}
}

// Open returns a Logger writing to stderr when path is empty, else to the
// daily-rotated files path.YYYY-MM-DD (see DailyFile). Close releases the
// file.
func Open(path string, level slog.Level) (*Logger, error) {
	if path == "" {
		return New(os.Stderr, level), nil
	}
	f, err := OpenDailyFile(path)
	if err != nil {
		return nil, err
	}
	l := New(f, level)
	l.closer = f
	return l, nil
}

// Discard returns a *slog.Logger that writes nothing, for tests and
// optional loggers.
func Discard() *slog.Logger {
	return slog.New(slog.DiscardHandler)
}

// SetLevel changes the level of l and of every logger derived from it.
func (l *Logger) SetLevel(level slog.Level) { l.level.Set(level) }

// SetLevelName parses name with ParseLevel and sets the level; on error
// the level is unchanged. It serves the REST loglevel routes.
func (l *Logger) SetLevelName(name string) error {
	level, err := ParseLevel(name)
	if err != nil {
		return err
	}
	l.level.Set(level)
	return nil
}

// Level returns the current level.
func (l *Logger) Level() slog.Level { return l.level.Level() }

// Close closes the log file if l owns one. It is idempotent.
func (l *Logger) Close() error {
	if l.closer == nil {
		return nil
	}
	return l.closer.Close()
}

// LogPanic writes msg at LevelPanic (shown as [PANIC]), the last line
// before a process exits on a fatal error. It is written whatever the
// level. It neither panics nor exits.
func LogPanic(l *slog.Logger, msg string, args ...any) {
	logAt(context.Background(), l, LevelPanic, msg, args, 3)
}

// logAt logs with the caller skip frames above runtime.Callers as source.
func logAt(ctx context.Context, l *slog.Logger, level slog.Level, msg string, args []any, skip int) {
	if !l.Enabled(ctx, level) {
		return
	}
	var pcs [1]uintptr
	runtime.Callers(skip, pcs[:])
	r := slog.NewRecord(time.Now(), level, msg, pcs[0])
	r.Add(args...)
	_ = l.Handler().Handle(ctx, r)
}
