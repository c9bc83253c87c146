package log

import (
	"errors"
	"fmt"
	"log/slog"
	"strings"
)

// Levels understood by this package. They are slog levels, so a
// *slog.Logger built on Handler uses them directly.
const (
	LevelDebug = slog.LevelDebug
	LevelInfo  = slog.LevelInfo
	LevelWarn  = slog.LevelWarn
	LevelError = slog.LevelError
	// LevelPanic marks the last line a process writes before it exits on a
	// fatal error (bad flags, bad config). Records at this level or above
	// are written whatever the configured level, even NONE.
	LevelPanic slog.Level = 12
	// LevelNone is a threshold above every level below LevelPanic: a
	// logger set to it writes nothing but fatal records.
	LevelNone slog.Level = 1 << 20
)

// ErrInvalidLevel is wrapped by ParseLevel errors.
var ErrInvalidLevel = errors.New("invalid loglevel")

// ParseLevel parses a level name case-insensitively: DEBUG, INFO, WARN
// (or WARNING), ERROR or NONE. Surrounding white space is ignored.
func ParseLevel(s string) (slog.Level, error) {
	switch strings.ToUpper(strings.TrimSpace(s)) {
	case "DEBUG":
		return LevelDebug, nil
	case "INFO":
		return LevelInfo, nil
	case "WARN", "WARNING":
		return LevelWarn, nil
	case "ERROR":
		return LevelError, nil
	case "NONE":
		return LevelNone, nil
	}
	return 0, fmt.Errorf("%w %q (want DEBUG, INFO, WARN, ERROR or NONE)", ErrInvalidLevel, s)
}

// LevelName returns the canonical name of l: DEBUG, INFO, WARN, ERROR,
// PANIC or NONE for the levels of this package, slog's name otherwise.
func LevelName(l slog.Level) string {
	switch l {
	case LevelDebug:
		return "DEBUG"
	case LevelInfo:
		return "INFO"
	case LevelWarn:
		return "WARN"
	case LevelError:
		return "ERROR"
	case LevelPanic:
		return "PANIC"
	case LevelNone:
		return "NONE"
	}
	return l.String()
}
