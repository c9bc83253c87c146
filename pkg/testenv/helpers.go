package testenv

import (
	"log/slog"
	"os"
	"testing"
	"time"

	"github.com/codisgo/codis/pkg/utils/log"
)

// Logger is the logger for components a test runs in process: it discards
// everything unless CODIS_TEST_LOG is set, then logs at debug level to
// stderr.
func Logger() *slog.Logger {
	if os.Getenv("CODIS_TEST_LOG") != "" {
		return log.New(os.Stderr, log.LevelDebug).Logger
	}
	return log.Discard()
}

// CheckFor polls cond every 20 ms until it holds, failing the test if
// timeout passes first.
func CheckFor(t testing.TB, timeout time.Duration, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(timeout)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out after %v waiting for %s", timeout, what)
		}
		time.Sleep(20 * time.Millisecond)
	}
}
