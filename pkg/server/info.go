package server

import (
	"fmt"
	"os"
	"runtime"
	"slices"
	"strings"
	"syscall"
	"time"
)

var defaultInfoSections = []string{"server", "clients", "memory", "persistence", "stats", "replication", "cpu", "modules", "errorstats", "cluster", "keyspace"}

func infoCommand(c *client, argv [][]byte) {
	want := map[string]bool{}
	for _, a := range argv[1:] {
		want[strings.ToLower(string(a))] = true
	}
	all := want["all"] || want["everything"]
	if len(want) == 0 || want["default"] || all {
		for _, s := range defaultInfoSections {
			want[s] = true
		}
	}
	if all {
		want["commandstats"] = true
		want["latencystats"] = true
	}
	var sb strings.Builder
	for _, sec := range []string{"server", "clients", "memory", "persistence", "stats", "replication", "cpu", "modules", "commandstats", "errorstats", "latencystats", "cluster", "keyspace"} {
		if !want[sec] {
			continue
		}
		if sb.Len() > 0 {
			sb.WriteString("\r\n")
		}
		c.s.infoSection(&sb, sec)
	}
	c.addBulkString(sb.String())
}

func (s *Server) infoSection(sb *strings.Builder, sec string) {
	w := func(format string, a ...any) { fmt.Fprintf(sb, format+"\r\n", a...) }
	cfg := s.cfg
	now := time.Now()
	switch sec {
	case "server":
		w("# Server")
		w("redis_version:%s", Version)
		w("redis_git_sha1:00000000")
		w("redis_git_dirty:0")
		w("redis_build_id:codisgo")
		w("redis_mode:standalone")
		w("os:%s %s", runtime.GOOS, runtime.GOARCH)
		w("arch_bits:64")
		w("monotonic_clock:POSIX clock_gettime")
		w("multiplexing_api:epoll")
		w("go_maxprocs:%d", runtime.GOMAXPROCS(0))
		w("atomicvar_api:c11-builtin")
		w("gcc_version:0.0.0")
		w("go_version:%s", runtime.Version())
		w("process_id:%d", os.Getpid())
		w("process_supervised:no")
		w("run_id:%s", s.runID)
		w("tcp_port:%d", cfg.Port)
		w("server_time_usec:%d", now.UnixMicro())
		up := now.Sub(s.startTime)
		w("uptime_in_seconds:%d", int64(up.Seconds()))
		w("uptime_in_days:%d", int64(up.Hours()/24))
		w("hz:%d", cfg.Hz)
		w("configured_hz:%d", cfg.Hz)
		w("lru_clock:%d", s.ks.lruClock&(1<<24-1))
		exe, _ := os.Executable()
		w("executable:%s", exe)
		w("config_file:%s", cfg.ConfigFile)
		w("io_threads_active:0")
	case "clients":
		w("# Clients")
		w("connected_clients:%d", s.nclients.Load())
		w("cluster_connections:0")
		w("maxclients:%d", cfg.MaxClients)
		w("client_recent_max_input_buffer:0")
		w("client_recent_max_output_buffer:0")
		w("blocked_clients:%d", s.blockedClients())
		w("tracking_clients:0")
		w("clients_in_timeout_table:0")
	case "memory":
		used := s.usedMemory()
		var ms runtime.MemStats
		runtime.ReadMemStats(&ms)
		w("# Memory")
		w("used_memory:%d", used)
		w("used_memory_human:%s", humanBytes(used))
		w("used_memory_rss:%d", ms.Sys-ms.HeapReleased)
		w("used_memory_rss_human:%s", humanBytes(int64(ms.Sys-ms.HeapReleased)))
		w("used_memory_peak:%d", max(used, s.peakMem))
		w("used_memory_peak_human:%s", humanBytes(max(used, s.peakMem)))
		w("used_memory_startup:%d", baseMemory)
		w("used_memory_dataset:%d", s.ks.used)
		w("total_system_memory:%d", totalSystemMemory())
		w("total_system_memory_human:%s", humanBytes(totalSystemMemory()))
		luaMem, nScripts := s.scriptInfo()
		w("used_memory_lua:%d", luaMem)
		w("used_memory_lua_human:%s", humanBytes(luaMem))
		w("number_of_cached_scripts:%d", nScripts)
		w("maxmemory:%d", cfg.MaxMemory)
		w("maxmemory_human:%s", humanBytes(cfg.MaxMemory))
		w("maxmemory_policy:%s", cfg.MaxMemoryPolicy)
		frag := 1.0
		if used > 0 {
			frag = float64(ms.Sys-ms.HeapReleased) / float64(used)
		}
		w("mem_fragmentation_ratio:%.2f", frag)
		w("mem_allocator:go")
		w("lazyfree_pending_objects:0")
	case "persistence":
		w("# Persistence")
		s.infoPersistence(w)
		s.infoAOF(w) // aof_* fields (aof.go)
	case "stats":
		w("# Stats")
		w("total_connections_received:%d", s.st.numConnections.Load())
		w("total_commands_processed:%d", s.st.numCommands)
		w("instantaneous_ops_per_sec:%d", s.opsPerSec())
		w("total_net_input_bytes:%d", s.st.netIn)
		w("total_net_output_bytes:%d", s.st.netOut+s.st.netOutPush.Load())
		w("rejected_connections:%d", s.st.rejectedConns.Load())
		w("expired_keys:%d", s.st.expiredKeys)
		w("evicted_keys:%d", s.st.evictedKeys)
		w("keyspace_hits:%d", s.st.hits)
		w("keyspace_misses:%d", s.st.misses)
		var nch, npat, nshard int
		if s.ps != nil {
			nch, npat, nshard = len(s.ps.channels), len(s.ps.patterns), len(s.ps.shard)
		}
		w("pubsub_channels:%d", nch)
		w("pubsub_patterns:%d", npat)
		w("pubsubshard_channels:%d", nshard)
		w("total_error_replies:%d", s.st.errorReplies)
		s.infoReplStats(w)
	case "replication":
		s.infoReplication(w)
	case "cpu":
		var ru syscall.Rusage
		_ = syscall.Getrusage(syscall.RUSAGE_SELF, &ru)
		w("# CPU")
		w("used_cpu_sys:%.6f", tvSec(ru.Stime))
		w("used_cpu_user:%.6f", tvSec(ru.Utime))
		w("used_cpu_sys_children:0.000000")
		w("used_cpu_user_children:0.000000")
	case "modules":
		w("# Modules")
	case "errorstats":
		w("# Errorstats")
		for _, code := range sortedKeys(s.intro.errstats) {
			w("errorstat_%s:count=%d", code, s.intro.errstats[code])
		}
	case "commandstats":
		w("# Commandstats")
		for _, name := range sortedKeys(s.intro.cmdstats) {
			st := s.intro.cmdstats[name]
			if st.calls == 0 && st.rejected == 0 && st.failed == 0 {
				continue
			}
			perCall := 0.0
			if st.calls > 0 {
				perCall = float64(st.usec) / float64(st.calls)
			}
			w("cmdstat_%s:calls=%d,usec=%d,usec_per_call=%.2f,rejected_calls=%d,failed_calls=%d",
				name, st.calls, st.usec, perCall, st.rejected, st.failed)
		}
	case "latencystats":
		w("# Latencystats")
		for _, name := range sortedKeys(s.intro.cmdstats) {
			st := s.intro.cmdstats[name]
			if st.calls == 0 {
				continue
			}
			w("latency_percentiles_usec_%s:p50=%.3f,p99=%.3f,p99.9=%.3f", name,
				st.percentile(50), st.percentile(99), st.percentile(99.9))
		}
	case "cluster":
		w("# Cluster")
		w("cluster_enabled:0")
	case "keyspace":
		w("# Keyspace")
		for _, db := range s.ks.dbs {
			if db.nkeys == 0 {
				continue
			}
			w("db%d:keys=%d,expires=%d,avg_ttl=%d", db.id, db.nkeys, db.nvol, db.avgTTL(s.ks.now))
		}
	}
}

// avgTTL estimates the average TTL in ms of volatile keys from a sample.
func (db *DB) avgTTL(now int64) int64 {
	if db.nvol == 0 {
		return 0
	}
	var sum, n int64
	for i := range db.shards {
		for _, e := range db.shards[i].volatile {
			if ttl := e.expireAt - now; ttl > 0 {
				sum += ttl
				n++
			}
			if n >= 1000 {
				return sum / n
			}
		}
	}
	if n == 0 {
		return 0
	}
	return sum / n
}

func tvSec(tv syscall.Timeval) float64 { return float64(tv.Sec) + float64(tv.Usec)/1e6 }

func b2i(b bool) int {
	if b {
		return 1
	}
	return 0
}

func humanBytes(n int64) string {
	f := float64(n)
	switch {
	case n < 1024:
		return fmt.Sprintf("%dB", n)
	case n < 1<<20:
		return fmt.Sprintf("%.2fK", f/1024)
	case n < 1<<30:
		return fmt.Sprintf("%.2fM", f/(1<<20))
	case n < 1<<40:
		return fmt.Sprintf("%.2fG", f/(1<<30))
	}
	return fmt.Sprintf("%.2fT", f/(1<<40))
}

func totalSystemMemory() int64 {
	var si syscall.Sysinfo_t
	if syscall.Sysinfo(&si) != nil {
		return 0
	}
	return int64(si.Totalram) * int64(si.Unit)
}

// configRewrite rewrites the config file: lines of directives we manage are
// replaced by their current values; other lines and comments are kept; managed
// directives that differ from the defaults and were absent are appended.
func (s *Server) configRewrite() error {
	path := s.cfg.ConfigFile
	if path == "" {
		return fmt.Errorf("The server is running without a config file")
	}
	old, err := os.ReadFile(path)
	if err != nil && !os.IsNotExist(err) {
		return fmt.Errorf("Rewriting config file: %s", err)
	}
	def := NewConfig()
	defSrv := &Server{cfg: def}
	managed := []string{"bind", "save", "replicaof"}
	for _, d := range s.cfg.directives() {
		managed = append(managed, d.name)
	}
	value := func(name string) []string {
		v := s.configGet(name)
		switch name {
		case "save":
			if v == "" {
				return []string{`save ""`}
			}
			f := strings.Fields(v)
			var out []string
			for i := 0; i+1 < len(f); i += 2 {
				out = append(out, "save "+f[i]+" "+f[i+1])
			}
			return out
		case "replicaof", "bind":
			// Several arguments ("host port", "addr addr ..."): quote
			// each one, never the whole list as one argument.
			f := strings.Fields(v)
			if len(f) == 0 {
				return nil
			}
			for i := range f {
				f[i] = quoteArg(f[i])
			}
			return []string{name + " " + strings.Join(f, " ")}
		}
		return []string{name + " " + quoteArg(v)}
	}
	done := map[string]bool{}
	var lines []string
	for _, line := range strings.Split(strings.TrimRight(string(old), "\n"), "\n") {
		t := strings.TrimSpace(line)
		f := strings.Fields(t)
		if len(f) == 0 || t[0] == '#' {
			lines = append(lines, line)
			continue
		}
		name := strings.ToLower(f[0])
		if a, ok := aliases[name]; ok {
			name = a
		}
		if !slices.Contains(managed, name) {
			lines = append(lines, line)
			continue
		}
		if !done[name] {
			done[name] = true
			lines = append(lines, value(name)...)
		}
	}
	for _, name := range managed {
		if done[name] || s.configGet(name) == defSrv.configGet(name) {
			continue
		}
		lines = append(lines, value(name)...)
	}
	tmp := path + ".tmp"
	if err := os.WriteFile(tmp, []byte(strings.Join(lines, "\n")+"\n"), 0o644); err != nil {
		return fmt.Errorf("Rewriting config file: %s", err)
	}
	if err := os.Rename(tmp, path); err != nil {
		return fmt.Errorf("Rewriting config file: %s", err)
	}
	return nil
}
