// Command codis-ha is the optional failover helper of Codis
// (SPEC-control §8): every interval it reads the dashboard stats, logs the
// status of every proxy and group server and, unless --no-maintains,
// removes a dead proxy, removes and shuts down a failed slave, or promotes
// a slave of a group whose master is down. The work is done by pkg/ha;
// this file only parses the command line.
package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/signal"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/codisgo/codis/pkg/ha"
	"github.com/codisgo/codis/pkg/utils/cli"
	"github.com/codisgo/codis/pkg/utils/log"
)

// version and compile are set at link time
// (-ldflags "-X main.version=... -X main.compile=...").
var (
	version = "3.2.2-codisgo"
	compile = ""
)

const usage = `
Usage:
	codis-ha [--log=FILE] [--log-level=LEVEL] [--interval=SECONDS] --dashboard=ADDR [--no-maintains]
	codis-ha  --version

Options:
	-l FILE, --log=FILE         set path/name of daily rotated log file.
	--log-level=LEVEL           set the log-level, should be INFO,WARN,DEBUG or ERROR, default is INFO.
	--interval=SECONDS          seconds between two checks, a positive integer, default is 5.
	--dashboard=ADDR            admin address of the dashboard.
	--no-maintains              only log the status, never remove or promote anything.
`

func main() { os.Exit(run(context.Background(), os.Args[1:], os.Stdout, os.Stderr)) }

// run executes codis-ha with args until ctx is done, SIGINT/SIGTERM, or a
// fatal error, and returns the exit status: 0 after a signal, 1 on a
// usage error or when the dashboard cannot be read.
func run(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	opts, helped, err := cli.Parse(usage, args, stdout, stderr)
	if helped {
		return 0
	}
	boot := log.New(stderr, log.LevelInfo)
	if err != nil {
		fallback := errors.New("invalid command line, see usage")
		if !hasFlag(args, "--dashboard") && !hasFlag(args, "--version") {
			fallback = errors.New("missing --dashboard=ADDR, see usage")
		}
		log.LogPanic(boot.Logger, "parse arguments failed", "err", cli.OrError(err, fallback))
		return 1
	}
	if b, _ := opts.Bool("--version"); b {
		fmt.Fprintf(stdout, "version: %s\ncompile: %s\n", version, cli.CompileInfo(compile))
		return 0
	}

	interval := ha.DefaultInterval
	if s, ok := opts["--interval"].(string); ok {
		n, err := strconv.Atoi(s)
		if err != nil || n <= 0 {
			log.LogPanic(boot.Logger, "invalid --interval, must be a positive number of seconds", "value", s)
			return 1
		}
		interval = time.Duration(n) * time.Second
	}
	dashboard, _ := cli.Flag(opts, "--dashboard")
	noMaintains, _ := opts.Bool("--no-maintains")

	levelName, _ := cli.Flag(opts, "--log-level")
	logFile, _ := cli.Flag(opts, "--log")
	logger, msg, err := cli.OpenLogTo(stderr, logFile, levelName)
	if err != nil {
		log.LogPanic(boot.Logger, msg, "err", err)
		return 1
	}
	defer logger.Close()
	lg := logger.Logger

	h, err := ha.New(ha.Options{Dashboard: dashboard, Interval: interval, NoMaintains: noMaintains, Logger: lg})
	if err != nil {
		log.LogPanic(lg, "invalid arguments", "err", err)
		return 1
	}
	defer h.Close()

	ctx, stop := signal.NotifyContext(ctx, syscall.SIGINT, syscall.SIGTERM)
	defer stop()
	if err := h.Run(ctx); err != nil {
		log.LogPanic(lg, "codis-ha failed", "err", err)
		return 1
	}
	lg.Info("codis-ha exited")
	return 0
}

// hasFlag reports whether args name the long option flag (docopt also
// accepts unambiguous prefixes such as --dash=ADDR).
func hasFlag(args []string, flag string) bool {
	for _, a := range args {
		name, _, _ := strings.Cut(a, "=")
		if len(name) > 2 && strings.HasPrefix(flag, name) {
			return true
		}
	}
	return false
}
