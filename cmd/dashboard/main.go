// Command codis-dashboard runs the Codis dashboard (SPEC-control §5.1):
// it parses flags and dashboard.toml, builds one topom.Topom and runs it
// until SIGINT/SIGTERM or PUT /api/topom/shutdown.
package main

import (
	"errors"
	"fmt"
	"log/slog"
	"os"
	"os/signal"
	"syscall"

	"github.com/codisgo/codis/pkg/models"
	"github.com/codisgo/codis/pkg/topom"
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
	codis-dashboard [--ncpu=N] [--config=CONF] [--log=FILE] [--log-level=LEVEL] [--host-admin=ADDR] [--pidfile=FILE] [--zookeeper=ADDR|--etcd=ADDR|--filesystem=ROOT] [--product_name=NAME] [--product_auth=AUTH] [--remove-lock]
	codis-dashboard  --default-config
	codis-dashboard  --version

Options:
	--ncpu=N                    set runtime.GOMAXPROCS to N, default is runtime.NumCPU().
	-c CONF, --config=CONF      run with the specific configuration.
	-l FILE, --log=FILE         set path/name of daily rotated log file.
	--log-level=LEVEL           set the log-level, should be INFO,WARN,DEBUG or ERROR, default is INFO.
	--host-admin=ADDR           advertise ADDR as the admin address instead of the bind address.
	--pidfile=FILE              write the process id to FILE, removed on exit.
	--zookeeper=ADDR            use ZooKeeper at ADDR as coordinator.
	--etcd=ADDR                 use etcd at ADDR as coordinator.
	--filesystem=ROOT           use the directory ROOT as coordinator.
	--product_name=NAME         override product_name.
	--product_auth=AUTH         override product_auth.
	--remove-lock               delete the dashboard lock of the product before starting.
`

func main() { os.Exit(run(os.Args[1:])) }

func compileInfo() string { return cli.CompileInfo(compile) }

func run(args []string) int {
	opts, helped, err := cli.Parse(usage, args, os.Stdout, os.Stderr)
	if helped {
		return 0
	}
	boot := log.New(os.Stderr, log.LevelInfo)
	if err != nil {
		log.LogPanic(boot.Logger, "parse arguments failed", "err", cli.OrError(err, errors.New("invalid command line, see usage")))
		return 1
	}
	flag := func(name string) (string, bool) { return cli.Flag(opts, name) }
	if b, _ := opts.Bool("--default-config"); b {
		fmt.Print(topom.DefaultConfig)
		return 0
	}
	if b, _ := opts.Bool("--version"); b {
		fmt.Printf("version: %s\ncompile: %s\n", version, compileInfo())
		return 0
	}

	levelName, _ := flag("--log-level")
	logFile, _ := flag("--log")
	logger, msg, err := cli.OpenLog(logFile, levelName)
	if err != nil {
		log.LogPanic(boot.Logger, msg, "err", err)
		return 1
	}
	defer logger.Close()
	lg := logger.Logger

	if s, ok := cli.SetNCPU(opts); !ok {
		log.LogPanic(lg, "invalid --ncpu", "value", s)
		return 1
	}

	config := topom.NewDefaultConfig()
	if path, ok := flag("--config"); ok {
		c, warnings, err := topom.LoadConfig(path)
		if err != nil {
			log.LogPanic(lg, "load config failed", "err", err)
			return 1
		}
		for _, w := range warnings {
			lg.Warn("config", "warning", w)
		}
		config = c
	}
	if s, ok := flag("--host-admin"); ok {
		config.HostAdmin = s
	}
	for _, c := range []struct{ flag, name string }{
		{"--zookeeper", "zookeeper"}, {"--etcd", "etcd"}, {"--filesystem", "filesystem"},
	} {
		if s, ok := flag(c.flag); ok {
			config.CoordinatorName, config.CoordinatorAddr = c.name, s
		}
	}
	if s, ok := flag("--product_name"); ok {
		config.ProductName = s
	}
	if s, ok := opts["--product_auth"].(string); ok {
		config.ProductAuth = s
	}
	if err := config.Validate(); err != nil {
		log.LogPanic(lg, "invalid config", "err", err)
		return 1
	}

	client, err := models.NewClient(config.CoordinatorName, config.CoordinatorAddr, config.CoordinatorAuth, topom.CoordinatorTimeout)
	if err != nil {
		log.LogPanic(lg, "create coordinator client failed", "err", err)
		return 1
	}
	if b, _ := opts.Bool("--remove-lock"); b {
		removeLock(lg, client, config.ProductName)
	}

	t, err := topom.New(client, config, topom.Options{
		Logger:      lg,
		SetLogLevel: logger.SetLevelName,
		Version:     version,
		Compile:     compileInfo(),
	})
	if err != nil {
		client.Close()
		log.LogPanic(lg, "create dashboard failed", "err", err)
		return 1
	}
	if err := t.Start(); err != nil {
		t.Close()
		log.LogPanic(lg, "start dashboard failed", "err", err)
		return 1
	}

	if path, ok := flag("--pidfile"); ok {
		path, remove, err := cli.WritePidfile(path)
		if err != nil {
			lg.Error("write pidfile failed", "path", path, "err", err)
		}
		defer remove()
	}

	sig := make(chan os.Signal, 1)
	signal.Notify(sig, syscall.SIGINT, syscall.SIGTERM)
	defer signal.Stop(sig)
	select {
	case s := <-sig:
		lg.Warn("dashboard received signal, shutting down", "signal", s.String())
	case <-t.Done():
	}
	if err := t.Close(); err != nil {
		lg.Error("dashboard close", "err", err)
	}
	if err := t.Err(); err != nil {
		if errors.Is(err, topom.ErrGiveUp) {
			log.LogPanic(lg, "dashboard online failed, give up & abort", "err", err)
		} else {
			log.LogPanic(lg, "dashboard failed", "err", err)
		}
		return 1
	}
	lg.Info("dashboard exited")
	return 0
}

// removeLock deletes the product's lock node; errors are only logged.
func removeLock(lg *slog.Logger, client models.Client, product string) {
	path := models.LockPath(product)
	if err := client.Delete(path); err != nil {
		lg.Warn("remove lock failed", "path", path, "err", err)
		return
	}
	lg.Info("lock removed", "path", path)
}
