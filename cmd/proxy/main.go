// Command codis-proxy runs one Codis proxy (SPEC-data §F.2): it parses the
// command line and proxy.toml, builds one proxy.Proxy, brings it online
// (dashboard, coordinator or --fillslots) and serves until SIGINT/SIGTERM
// or PUT /api/proxy/shutdown.
package main

import (
	"context"
	"errors"
	"fmt"
	"os"
	"os/signal"
	"runtime"
	"strconv"
	"syscall"
	"time"

	"github.com/codisgo/codis/pkg/models"
	"github.com/codisgo/codis/pkg/proxy"
	"github.com/codisgo/codis/pkg/utils/cli"
	"github.com/codisgo/codis/pkg/utils/log"
	"github.com/codisgo/codis/pkg/utils/procs"
)

// procsInterval is how often GOMAXPROCS auto-tuning samples CPU usage.
const procsInterval = 10 * time.Second

const usage = `
Usage:
	codis-proxy [--ncpu=N [--max-ncpu=MAX]] [--config=CONF] [--log=FILE] [--log-level=LEVEL] [--host-admin=ADDR] [--host-proxy=ADDR] [--dashboard=ADDR|--zookeeper=ADDR [--zookeeper-auth=USR:PWD]|--etcd=ADDR [--etcd-auth=USR:PWD]|--filesystem=ROOT|--fillslots=FILE] [--ulimit=NLIMIT] [--pidfile=FILE] [--product_name=NAME] [--product_auth=AUTH] [--session_auth=AUTH]
	codis-proxy  --default-config
	codis-proxy  --version

Options:
	--ncpu=N                    set runtime.GOMAXPROCS to N, default is 4.
	--max-ncpu=MAX              upper bound of GOMAXPROCS auto-tuning, default is max(N, NumCPU).
	-c CONF, --config=CONF      run with the specific configuration.
	-l FILE, --log=FILE         set path/name of daily rotated log file.
	--log-level=LEVEL           set the log-level, should be INFO,WARN,DEBUG or ERROR, default is INFO.
	--host-admin=ADDR           advertise ADDR as the admin address instead of the bind address.
	--host-proxy=ADDR           advertise ADDR as the proxy address instead of the bind address.
	--dashboard=ADDR            register with the dashboard at ADDR.
	--zookeeper=ADDR            find the dashboard through ZooKeeper at ADDR.
	--etcd=ADDR                 find the dashboard through etcd at ADDR.
	--filesystem=ROOT           find the dashboard through the filesystem coordinator at ROOT.
	--fillslots=FILE            fill the slots from FILE (JSON array of Slot) and go online.
	--ulimit=NLIMIT             refuse to start unless 'ulimit -n' is at least NLIMIT.
	--pidfile=FILE              write the process id to FILE, removed on exit.
	--product_name=NAME         override product_name.
	--product_auth=AUTH         override product_auth.
	--session_auth=AUTH         override session_auth.
`

func main() { os.Exit(run(os.Args[1:])) }

func compileInfo() string {
	if proxy.Compile != "unknown" {
		return proxy.Compile
	}
	return cli.CompileInfo("")
}

func run(args []string) int {
	opts, helped, err := cli.Parse(usage, args, os.Stdout, os.Stderr)
	if helped {
		return 0
	}
	boot := log.New(os.Stderr, log.LevelInfo)
	if err != nil {
		log.LogPanic(boot.Logger, "parse arguments failed", "err", err)
		return 1
	}
	flag := func(name string) (string, bool) { return cli.Flag(opts, name) }
	if b, _ := opts.Bool("--default-config"); b {
		fmt.Print(proxy.DefaultConfig)
		return 0
	}
	if b, _ := opts.Bool("--version"); b {
		fmt.Printf("version: %s\ncompile: %s\n", proxy.Version, compileInfo())
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

	ncpu := 4
	if s, ok := flag("--ncpu"); ok {
		if ncpu, err = strconv.Atoi(s); err != nil || ncpu <= 0 {
			log.LogPanic(lg, "invalid --ncpu", "value", s)
			return 1
		}
	}
	maxNCPU := max(ncpu, runtime.NumCPU())
	if s, ok := flag("--max-ncpu"); ok {
		if maxNCPU, err = strconv.Atoi(s); err != nil || maxNCPU <= 0 {
			log.LogPanic(lg, "invalid --max-ncpu", "value", s)
			return 1
		}
		maxNCPU = max(maxNCPU, ncpu)
	}
	// GOMAXPROCS starts at --ncpu and, when --max-ncpu is larger, follows
	// the measured CPU usage between the two.
	tuner := &procs.Tuner{Lo: ncpu, Hi: maxNCPU, Interval: procsInterval,
		OnChange: func(from, to int, usage float64) {
			lg.Info("GOMAXPROCS tuned", "from", from, "to", to, "cpu_usage", fmt.Sprintf("%.2f", usage))
		}}
	runtime.GOMAXPROCS(ncpu)
	tunerCtx, stopTuner := context.WithCancel(context.Background())
	tunerDone := make(chan struct{})
	go func() { defer close(tunerDone); tuner.Run(tunerCtx) }()
	defer func() { stopTuner(); <-tunerDone }()
	lg.Info("GOMAXPROCS", "ncpu", ncpu, "max_ncpu", maxNCPU)

	if s, ok := flag("--ulimit"); ok {
		n, err := strconv.ParseUint(s, 10, 64)
		if err != nil {
			log.LogPanic(lg, "invalid --ulimit", "value", s)
			return 1
		}
		var rl syscall.Rlimit
		if err := syscall.Getrlimit(syscall.RLIMIT_NOFILE, &rl); err != nil || rl.Cur < n {
			log.LogPanic(lg, "ulimit too small", "want", n, "have", rl.Cur, "err", err)
			return 1
		}
	}

	config := proxy.NewDefaultConfig()
	if path, ok := flag("--config"); ok {
		c, warnings, err := proxy.LoadConfig(path)
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
	if s, ok := flag("--host-proxy"); ok {
		config.HostProxy = s
	}
	if s, ok := flag("--product_name"); ok {
		config.ProductName = s
	}
	if s, ok := opts["--product_auth"].(string); ok {
		config.ProductAuth = s
	}
	if s, ok := opts["--session_auth"].(string); ok {
		config.SessionAuth = s
	}
	if err := config.Validate(); err != nil {
		log.LogPanic(lg, "invalid config", "err", err)
		return 1
	}

	var slots []*models.Slot
	if path, ok := flag("--fillslots"); ok {
		if slots, err = proxy.LoadSlotsFile(path); err != nil {
			log.LogPanic(lg, "load fillslots file failed", "err", err)
			return 1
		}
	}

	p, err := proxy.New(config, lg)
	if err != nil {
		log.LogPanic(lg, "create proxy failed", "err", err)
		return 1
	}
	p.SetLevelSetter(logger)
	if err := p.Start(); err != nil {
		p.Close()
		log.LogPanic(lg, "start proxy failed", "err", err)
		return 1
	}
	defer p.Close()

	if path, ok := flag("--pidfile"); ok {
		path, remove, err := cli.WritePidfile(path)
		if err != nil {
			lg.Error("write pidfile failed", "path", path, "err", err)
		}
		defer remove()
	}

	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	onlineErr := make(chan error, 1)
	switch {
	case slots != nil:
		if err := p.FillSlots(slots); err != nil {
			log.LogPanic(lg, "fill slots failed", "err", err)
			return 1
		}
		if err := p.Online(); err != nil {
			log.LogPanic(lg, "go online failed", "err", err)
			return 1
		}
	default:
		if addr, ok := flag("--dashboard"); ok {
			go func() { onlineErr <- p.OnlineDashboard(ctx, addr) }()
			break
		}
		for _, c := range []struct{ flag, auth, name string }{
			{"--zookeeper", "--zookeeper-auth", "zookeeper"}, {"--etcd", "--etcd-auth", "etcd"}, {"--filesystem", "", "filesystem"},
		} {
			addr, ok := flag(c.flag)
			if !ok {
				continue
			}
			auth, _ := flag(c.auth)
			client, err := models.NewClient(c.name, addr, auth, time.Minute)
			if err != nil {
				log.LogPanic(lg, "create coordinator client failed", "err", err)
				return 1
			}
			defer client.Close()
			go func() { onlineErr <- p.OnlineCoordinator(ctx, client) }()
		}
	}

	sigs := make(chan os.Signal, 1)
	signal.Notify(sigs, syscall.SIGINT, syscall.SIGTERM)
	defer signal.Stop(sigs)
	for {
		select {
		case sig := <-sigs:
			lg.Info("signal received, closing", "signal", sig.String())
			return 0
		case <-p.Done():
			lg.Info("proxy shut down")
			return 0
		case err := <-onlineErr:
			if err != nil && !errors.Is(err, context.Canceled) {
				log.LogPanic(lg, "go online failed", "err", err)
				return 1
			}
			lg.Info("proxy is online")
		}
	}
}
