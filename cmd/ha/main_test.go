package main

import (
	"bytes"
	"context"
	"strings"
	"testing"
)

// TestRun checks the command line handling in process; the end-to-end
// behaviour is in pkg/e2e (TestHA, TestHACommandLine).
func TestRun(t *testing.T) {
	for _, tc := range []struct {
		name   string
		args   []string
		code   int
		stdout string
		stderr string
	}{
		{"version", []string{"--version"}, 0, "version: " + version, ""},
		{"help", []string{"-h"}, 0, "codis-ha [--log=FILE]", ""},
		{"no args", nil, 1, "", "missing --dashboard=ADDR"},
		{"dashboard without value", []string{"--dash"}, 1, "", "--dashboard requires argument"},
		{"unknown flag", []string{"--dashboard=127.0.0.1:1", "--bogus"}, 1, "", "invalid command line"},
		{"zero interval", []string{"--dashboard=127.0.0.1:1", "--interval=0"}, 1, "", "invalid --interval"},
		{"bad interval", []string{"--dashboard=127.0.0.1:1", "--interval=5s"}, 1, "", "value=5s"},
		{"empty dashboard", []string{"--dashboard="}, 1, "", "empty dashboard address"},
		{"bad level", []string{"--dashboard=127.0.0.1:1", "--log-level=x"}, 1, "", "invalid --log-level"},
		{"unreachable", []string{"--dashboard=127.0.0.1:1"}, 1, "", "call rpc model to dashboard 127.0.0.1:1 failed"},
		{"unreachable, log file", []string{"--dashboard=127.0.0.1:1", "--log=" + t.TempDir() + "/ha.log"}, 1, "", ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var o, e bytes.Buffer
			code := run(context.Background(), tc.args, &o, &e)
			if code != tc.code || !strings.Contains(o.String(), tc.stdout) || !strings.Contains(e.String(), tc.stderr) {
				t.Errorf("run(%q) = %d, want %d\nstdout: %s\nstderr: %s\nwant %q and %q in them",
					tc.args, code, tc.code, o.String(), e.String(), tc.stdout, tc.stderr)
			}
		})
	}
}
