// Command codis-fe serves the Codis web UI over one or many dashboards
// (SPEC-control §7): it parses the command line, builds one fe.Server
// (pkg/fe) with a static or coordinator loader, and serves it on --listen
// until SIGINT/SIGTERM.
package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"os/signal"
	"path/filepath"
	"syscall"
	"time"

	"github.com/codisgo/codis/pkg/fe"
	"github.com/codisgo/codis/pkg/models"
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
	codis-fe [--ncpu=N] [--log=FILE] [--log-level=LEVEL] [--assets-dir=PATH] [--pidfile=FILE] (--dashboard-list=FILE|--zookeeper=ADDR [--zookeeper-auth=USR:PWD]|--etcd=ADDR [--etcd-auth=USR:PWD]|--filesystem=ROOT) --listen=ADDR
	codis-fe  --version

Options:
	--ncpu=N                        set runtime.GOMAXPROCS to N, default is runtime.NumCPU().
	-d FILE, --dashboard-list=FILE  route to the dashboards listed in FILE, the JSON printed by
	                                codis-admin --dashboard-list.
	-l FILE, --log=FILE             set path/name of daily rotated log file.
	--log-level=LEVEL               set the log-level, should be INFO,WARN,DEBUG or ERROR, default is INFO.
	--assets-dir=PATH               directory of the web UI (index.html), default is <dir of the binary>/assets.
	--pidfile=FILE                  write the process id to FILE, removed on exit.
	--zookeeper=ADDR                discover dashboards in ZooKeeper at ADDR.
	--zookeeper-auth=USR:PWD        ZooKeeper digest auth.
	--etcd=ADDR                     discover dashboards in etcd at ADDR.
	--etcd-auth=USR:PWD             etcd user and password.
	--filesystem=ROOT               discover dashboards in the filesystem coordinator at ROOT.
	--listen=ADDR                   serve HTTP on ADDR (tcp), e.g. 0.0.0.0:8080.
`

// coordinatorTimeout is the coordinator client timeout.
const coordinatorTimeout = 30 * time.Second

// shutdownTimeout bounds the wait for requests in flight at exit.
const shutdownTimeout = 5 * time.Second

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGINT, syscall.SIGTERM)
	defer stop()
	os.Exit(run(ctx, os.Args[1:], os.Stdout, os.Stderr, nil))
}

// run executes codis-fe and returns the exit status. It serves until ctx
// is done. ready, when not nil, receives the listener address once the
// server accepts connections (for tests).
func run(ctx context.Context, args []string, stdout, stderr io.Writer, ready func(net.Addr)) int {
	opts, helped, err := cli.Parse(usage, args, stdout, stderr)
	if helped {
		return 0
	}
	boot := log.New(stderr, log.LevelInfo)
	if err != nil {
		log.LogPanic(boot.Logger, "parse arguments failed", "err", cli.OrError(err, errors.New("invalid command line, see usage")))
		return 1
	}
	flag := func(name string) (string, bool) { return cli.Flag(opts, name) }
	if b, _ := opts.Bool("--version"); b {
		fmt.Fprintf(stdout, "version: %s\ncompile: %s\n", version, cli.CompileInfo(compile))
		return 0
	}

	levelName, _ := flag("--log-level")
	logFile, _ := flag("--log")
	logger, msg, err := cli.OpenLogTo(stderr, logFile, levelName)
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

	assets, ok := flag("--assets-dir")
	if !ok {
		assets = defaultAssetsDir()
	}

	loader, closeLoader, err := newLoader(opts, lg)
	if err != nil {
		log.LogPanic(lg, "create dashboard loader failed", "err", err)
		return 1
	}
	defer closeLoader()

	srv, err := fe.New(fe.Config{AssetsDir: assets, Loader: loader, Logger: lg})
	if err != nil {
		log.LogPanic(lg, "invalid assets dir", "err", err)
		return 1
	}
	defer srv.Close()

	addr, _ := flag("--listen")
	if addr == "" {
		log.LogPanic(lg, "missing --listen")
		return 1
	}
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		log.LogPanic(lg, "listen failed", "addr", addr, "err", err)
		return 1
	}
	hs := &http.Server{
		Handler:           srv,
		ReadHeaderTimeout: 30 * time.Second,
		ErrorLog:          slog.NewLogLogger(lg.Handler(), slog.LevelWarn),
	}
	served := make(chan error, 1)
	go func() { served <- hs.Serve(ln) }()
	lg.Info("codis-fe serving", "addr", ln.Addr().String(), "assets", assets)

	if path, ok := flag("--pidfile"); ok {
		path, remove, err := cli.WritePidfile(path)
		if err != nil {
			lg.Error("write pidfile failed", "path", path, "err", err)
		}
		defer remove()
	}
	if ready != nil {
		ready(ln.Addr())
	}

	select {
	case <-ctx.Done():
		lg.Warn("codis-fe received signal, shutting down")
	case err := <-served:
		log.LogPanic(lg, "serve failed", "err", err)
		return 1
	}
	sctx, cancel := context.WithTimeout(context.Background(), shutdownTimeout)
	defer cancel()
	if err := hs.Shutdown(sctx); err != nil {
		hs.Close()
	}
	lg.Info("codis-fe exited")
	return 0
}

// defaultAssetsDir is <dir of the binary>/assets.
func defaultAssetsDir() string {
	exe, err := os.Executable()
	if err != nil {
		exe = os.Args[0]
	}
	if p, err := filepath.EvalSymlinks(exe); err == nil {
		exe = p
	}
	if p, err := filepath.Abs(exe); err == nil {
		exe = p
	}
	return filepath.Join(filepath.Dir(exe), "assets")
}

// newLoader builds the loader chosen on the command line: the
// --dashboard-list file (read once now, so a bad file stops the start) or
// a coordinator client. close releases the client.
func newLoader(opts map[string]any, lg *slog.Logger) (loader fe.Loader, close func(), err error) {
	flag := func(name string) (string, bool) {
		v, ok := opts[name].(string)
		return v, ok && v != ""
	}
	if file, ok := flag("--dashboard-list"); ok {
		if _, err := fe.ReadDashboardList(file); err != nil {
			return nil, nil, err
		}
		return fe.StaticLoader(file), func() {}, nil
	}
	for _, c := range []struct{ name, flag, auth string }{
		{"zookeeper", "--zookeeper", "--zookeeper-auth"},
		{"etcd", "--etcd", "--etcd-auth"},
		{"filesystem", "--filesystem", ""},
	} {
		addr, ok := flag(c.flag)
		if !ok {
			continue
		}
		var auth string
		if c.auth != "" {
			auth, _ = flag(c.auth)
		}
		client, err := models.NewClient(c.name, addr, auth, coordinatorTimeout)
		if err != nil {
			return nil, nil, fmt.Errorf("create %s client: %w", c.name, err)
		}
		return fe.CoordinatorLoader(client, lg), func() { client.Close() }, nil
	}
	return nil, nil, errors.New("need one of --dashboard-list, --zookeeper, --etcd and --filesystem")
}
