// Command codis-server is the Codis data server (a Redis 7.0 compatible
// server with the codis slot commands).
//
//	codis-server [config-file] [--key value ...]
package main

import (
	"fmt"
	"log/slog"
	"os"
	"os/signal"
	"runtime"
	"runtime/debug"
	"strings"
	"syscall"

	"github.com/codisgo/codis/pkg/server"
)

const usage = `Usage: ./codis-server [/path/to/redis.conf] [options] [-]
       ./codis-server - (read config from stdin is not supported)
       ./codis-server -v or --version
       ./codis-server -h or --help

Examples:
       ./codis-server (run the server with default conf)
       ./codis-server /etc/redis/6379.conf
       ./codis-server --port 7777
       ./codis-server --port 7777 --replicaof 127.0.0.1 8888
       ./codis-server /etc/myredis.conf --loglevel verbose

Sentinel mode (--sentinel) is not supported by codis-server.
`

func main() { os.Exit(run(os.Args[1:])) }

func run(args []string) int {
	if len(args) == 1 {
		switch args[0] {
		case "-v", "--version":
			fmt.Printf("Redis server v=%s sha=00000000:0 malloc=go bits=64 build=codisgo\n", server.Version)
			return 0
		case "-h", "--help":
			fmt.Print(usage)
			return 0
		}
	}
	for _, a := range args {
		if a == "--sentinel" {
			fmt.Fprintln(os.Stderr, "codis-server: sentinel mode (--sentinel) is not supported; use redis-sentinel")
			return 1
		}
	}
	cfg, err := server.ParseArgs(args)
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	if cfg.Daemonize {
		fmt.Fprintln(os.Stderr, "codis-server: daemonize yes is not supported; run it under a supervisor")
		return 1
	}
	out := os.Stdout
	if cfg.LogFile != "" {
		f, err := os.OpenFile(cfg.LogFile, os.O_CREATE|os.O_APPEND|os.O_WRONLY, 0o644)
		if err != nil {
			fmt.Fprintf(os.Stderr, "Can't open the log file: %v\n", err)
			return 1
		}
		defer f.Close()
		out = f
	}
	level := slog.LevelInfo
	switch strings.ToLower(cfg.LogLevel) {
	case "debug", "verbose":
		level = slog.LevelDebug
	case "warning":
		level = slog.LevelWarn
	case "nothing":
		level = slog.LevelError + 100
	}
	logger := slog.New(slog.NewTextHandler(out, &slog.HandlerOptions{Level: level}))
	if os.Getenv("GOGC") == "" {
		// Keep the heap close to the live data set (memory target: ~Redis).
		debug.SetGCPercent(50)
	}
	if os.Getenv("GOMAXPROCS") == "" {
		// io-threads (default 1) sets the processors; GOMAXPROCS in the
		// environment wins.
		runtime.GOMAXPROCS(min(cfg.IOThreads(), runtime.NumCPU()))
	}
	if cfg.PidFile != "" {
		if err := os.WriteFile(cfg.PidFile, []byte(fmt.Sprintf("%d\n", os.Getpid())), 0o644); err != nil {
			logger.Warn("cannot write pid file", "file", cfg.PidFile, "err", err)
		}
		defer os.Remove(cfg.PidFile)
	}
	s := server.New(cfg, logger)
	if err := s.Start(); err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	sig := make(chan os.Signal, 1)
	signal.Notify(sig, syscall.SIGINT, syscall.SIGTERM)
	signals := 0
wait:
	for {
		select {
		case <-sig:
			if signals++; signals > 1 {
				logger.Warn("received a second signal: exiting without saving")
				break wait
			}
			logger.Warn("received signal, scheduling shutdown")
			// Like redis-server: save first when save rules are set; if
			// that fails, keep serving (a second signal exits anyway).
			if err := s.SaveBeforeShutdown(); err != nil {
				logger.Warn("cannot save the data set before exiting: still running; send the signal again to exit anyway", "err", err)
				continue
			}
			break wait
		case <-s.Done():
			break wait
		}
	}
	s.Close()
	return 0
}
