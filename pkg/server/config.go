package server

import (
	"errors"
	"fmt"
	"math"
	"os"
	"strconv"
	"strings"

	"github.com/codisgo/codis/pkg/resp"
)

// Version is the Redis version this server reports.
const Version = "7.0.0"

// Config is the server configuration (redis.conf directives). NewConfig
// gives Redis's defaults.
type Config struct {
	Port            int64    // port: TCP port (0 = pick a free one, for tests)
	Bind            []string // bind: addresses to listen on
	RequirePass     string   // requirepass: password for AUTH ("" = none)
	MasterAuth      string   // masterauth: password used toward a master
	Databases       int64    // databases: number of DBs (fixed after start)
	MaxMemory       int64    // maxmemory: bytes, 0 = unlimited
	MaxMemoryPolicy string   // maxmemory-policy
	MaxMemorySample int64    // maxmemory-samples
	MaxClients      int64    // maxclients
	Timeout         int64    // timeout: idle client timeout in seconds, 0 = never
	TCPKeepAlive    int64    // tcp-keepalive: seconds, 0 = off
	Dir             string   // dir: working directory for persistence files
	DBFilename      string   // dbfilename
	AppendOnly      bool     // appendonly
	AppendFilename  string   // appendfilename
	AppendFsync     string   // appendfsync
	Save            string   // save: "secs changes ..." pairs, "" = none
	LogFile         string   // logfile: "" = stdout
	LogLevel        string   // loglevel
	Daemonize       bool     // daemonize (must be no: we do not fork)
	PidFile         string   // pidfile
	ReplicaOfHost   string   // replicaof host ("" = master)
	ReplicaOfPort   int64    // replicaof port
	ProtectedMode   bool     // protected-mode
	ProtoMaxBulkLen int64    // proto-max-bulk-len
	Hz              int64    // hz: cron frequency
	RDBCompression  bool     // rdbcompression
	RDBChecksum     bool     // rdbchecksum (fixed after start, as in Redis)
	ReplicaReadOnly bool     // replica-read-only
	SlowlogSlower   int64    // slowlog-log-slower-than (µs)
	SlowlogMaxLen   int64    // slowlog-max-len
	ActiveExpire    bool     // active-expire-enabled (DEBUG-style switch, tests)

	HLLSparseMaxBytes int64 // hll-sparse-max-bytes: sparse HyperLogLog size limit

	// Encoding thresholds (read by the type files once per command).
	SetMaxIntsetEntries    int64 // set-max-intset-entries
	ZsetMaxListpackEntries int64 // zset-max-listpack-entries (alias zset-max-ziplist-entries)
	ZsetMaxListpackValue   int64 // zset-max-listpack-value (alias zset-max-ziplist-value)
	ListMaxListpackSize    int64 // list-max-listpack-size (alias list-max-ziplist-size): >0 entries, -1..-5 4kb..64kb per node
	ListCompressDepth      int64 // list-compress-depth: accepted, nodes are never compressed

	// notify-keyspace-events: the class mask (notify.go) and its
	// canonical letters, as CONFIG GET prints them.
	notifyFlags  int
	notifyEvents string

	// ConfigFile is the file the configuration was read from (for
	// CONFIG REWRITE); empty when started without one.
	ConfigFile string

	// extra holds accepted Redis directives we do not act on.
	extra        map[string]string
	saveFromFile bool // a "save" line was seen: later ones append
}

// NewConfig returns Redis 7.0's defaults.
func NewConfig() *Config {
	return &Config{
		Port: 6379, Bind: []string{"*", "-::*"}, Databases: 16,
		MaxMemoryPolicy: "noeviction", MaxMemorySample: 5, MaxClients: 10000,
		TCPKeepAlive: 300, Dir: ".", DBFilename: "dump.rdb",
		AppendFilename: "appendonly.aof", AppendFsync: "everysec",
		Save: "3600 1 300 100 60 10000", LogLevel: "notice",
		PidFile: "", ProtectedMode: true, ProtoMaxBulkLen: 512 << 20, Hz: 10,
		RDBCompression: true, RDBChecksum: true, ReplicaReadOnly: true, SlowlogSlower: 10000,
		SlowlogMaxLen: 128, ActiveExpire: true, HLLSparseMaxBytes: 3000,
		SetMaxIntsetEntries: 512, ZsetMaxListpackEntries: 128, ZsetMaxListpackValue: 64,
		ListMaxListpackSize: -2,
		extra:               map[string]string{},
	}
}

type dirKind int

const (
	kInt dirKind = iota
	kMem
	kBool
	kEnum
	kString
)

type directive struct {
	name      string
	kind      dirKind
	i         *int64
	s         *string
	b         *bool
	enum      []string
	min, max  int64
	immutable bool // not settable with CONFIG SET
}

var maxmemoryPolicies = []string{"volatile-lru", "volatile-lfu", "volatile-random", "volatile-ttl",
	"allkeys-lru", "allkeys-lfu", "allkeys-random", "noeviction"}

// harmlessDirectives are real Redis directives we accept and only store.
var harmlessDirectives = map[string]string{
	"tcp-backlog": "511", "supervised": "no", "always-show-logo": "no", "set-proc-title": "yes",
	"stop-writes-on-bgsave-error": "yes", "rdb-del-sync-files": "no",
	"replica-serve-stale-data": "yes", "repl-diskless-sync": "yes", "repl-diskless-sync-delay": "5",
	"repl-diskless-load": "disabled", "repl-disable-tcp-nodelay": "no", "repl-backlog-size": "1048576",
	"repl-backlog-ttl": "3600", "repl-timeout": "60", "repl-ping-replica-period": "10",
	"replica-priority": "100", "lazyfree-lazy-eviction": "no", "lazyfree-lazy-expire": "no",
	"lazyfree-lazy-server-del": "no", "replica-lazy-flush": "no", "lazyfree-lazy-user-del": "no",
	"lazyfree-lazy-user-flush": "no", "no-appendfsync-on-rewrite": "no",
	"auto-aof-rewrite-percentage": "100", "auto-aof-rewrite-min-size": "67108864",
	"aof-load-truncated": "yes", "aof-use-rdb-preamble": "yes", "aof-timestamp-enabled": "no",
	"appenddirname": "appendonlydir", "lua-time-limit": "5000", "busy-reply-threshold": "5000",
	"latency-monitor-threshold": "0",
	"hash-max-listpack-entries": "512", "hash-max-listpack-value": "64",
	// Old names (aliases): listed by CONFIG GET, resolved by find / apply.
	"hash-max-ziplist-entries": "512", "hash-max-ziplist-value": "64",
	"list-max-ziplist-size": "-2", "zset-max-ziplist-entries": "128", "zset-max-ziplist-value": "64",
	"stream-node-max-bytes": "4096", "stream-node-max-entries": "100", "activerehashing": "yes",
	"client-output-buffer-limit": "normal 0 0 0 slave 268435456 67108864 60 pubsub 33554432 8388608 60",
	"client-query-buffer-limit":  "1073741824", "aof-rewrite-incremental-fsync": "yes",
	"rdb-save-incremental-fsync": "yes", "dynamic-hz": "yes", "lfu-log-factor": "10", "lfu-decay-time": "1",
	"jemalloc-bg-thread": "yes", "min-replicas-to-write": "0", "min-replicas-max-lag": "10",
	"syslog-enabled": "no", "syslog-ident": "redis", "unixsocketperm": "0", "unixsocket": "",
	"crash-log-enabled": "yes", "crash-memcheck-enabled": "yes", "oom-score-adj": "no",
	"disable-thp": "yes", "io-threads": "1", "io-threads-do-reads": "no", "activedefrag": "no",
	"maxmemory-eviction-tenacity": "10", "lazyfree-lazy-user-del-enabled": "no",
	"replica-announce-ip": "", "replica-announce-port": "0", "enable-debug-command": "no",
	"enable-protected-configs": "no", "enable-module-command": "no", "acllog-max-len": "128",
	"tracking-table-max-keys": "1000000", "cluster-enabled": "no", "tls-port": "0",
}

// aliases maps old directive names to current ones.
var aliases = map[string]string{
	"slaveof": "replicaof", "slave-read-only": "replica-read-only",
	"slave-serve-stale-data": "replica-serve-stale-data", "slave-priority": "replica-priority",
	"slave-lazy-flush": "replica-lazy-flush", "hash-max-ziplist-entries": "hash-max-listpack-entries",
	"hash-max-ziplist-value": "hash-max-listpack-value", "list-max-ziplist-size": "list-max-listpack-size",
	"zset-max-ziplist-entries": "zset-max-listpack-entries", "zset-max-ziplist-value": "zset-max-listpack-value",
}

func (c *Config) directives() []directive {
	return []directive{
		{name: "port", kind: kInt, i: &c.Port, min: 0, max: 65535, immutable: true},
		{name: "requirepass", kind: kString, s: &c.RequirePass},
		{name: "masterauth", kind: kString, s: &c.MasterAuth},
		{name: "databases", kind: kInt, i: &c.Databases, min: 1, max: 1 << 16, immutable: true},
		{name: "maxmemory", kind: kMem, i: &c.MaxMemory, min: 0, max: 1 << 62},
		{name: "maxmemory-policy", kind: kEnum, s: &c.MaxMemoryPolicy, enum: maxmemoryPolicies},
		{name: "maxmemory-samples", kind: kInt, i: &c.MaxMemorySample, min: 1, max: 64},
		{name: "maxclients", kind: kInt, i: &c.MaxClients, min: 1, max: 1 << 31},
		{name: "timeout", kind: kInt, i: &c.Timeout, min: 0, max: 1 << 31},
		{name: "tcp-keepalive", kind: kInt, i: &c.TCPKeepAlive, min: 0, max: 1 << 31},
		{name: "dir", kind: kString, s: &c.Dir},
		{name: "dbfilename", kind: kString, s: &c.DBFilename},
		{name: "appendonly", kind: kBool, b: &c.AppendOnly},
		{name: "appendfilename", kind: kString, s: &c.AppendFilename, immutable: true},
		{name: "appendfsync", kind: kEnum, s: &c.AppendFsync, enum: []string{"always", "everysec", "no"}},
		{name: "logfile", kind: kString, s: &c.LogFile, immutable: true},
		{name: "loglevel", kind: kEnum, s: &c.LogLevel, enum: []string{"debug", "verbose", "notice", "warning", "nothing"}},
		{name: "daemonize", kind: kBool, b: &c.Daemonize, immutable: true},
		{name: "pidfile", kind: kString, s: &c.PidFile, immutable: true},
		{name: "protected-mode", kind: kBool, b: &c.ProtectedMode},
		{name: "proto-max-bulk-len", kind: kMem, i: &c.ProtoMaxBulkLen, min: 1 << 20, max: 1 << 62},
		{name: "hz", kind: kInt, i: &c.Hz, min: 0, max: 1 << 31},
		{name: "rdbcompression", kind: kBool, b: &c.RDBCompression},
		{name: "rdbchecksum", kind: kBool, b: &c.RDBChecksum, immutable: true},
		{name: "replica-read-only", kind: kBool, b: &c.ReplicaReadOnly},
		{name: "slowlog-log-slower-than", kind: kInt, i: &c.SlowlogSlower, min: -1, max: 1 << 62},
		{name: "slowlog-max-len", kind: kInt, i: &c.SlowlogMaxLen, min: 0, max: 1 << 31},
		{name: "hll-sparse-max-bytes", kind: kMem, i: &c.HLLSparseMaxBytes, min: 0, max: math.MaxInt64},
		{name: "set-max-intset-entries", kind: kInt, i: &c.SetMaxIntsetEntries, min: 0, max: math.MaxInt64},
		{name: "zset-max-listpack-entries", kind: kInt, i: &c.ZsetMaxListpackEntries, min: 0, max: math.MaxInt64},
		{name: "zset-max-listpack-value", kind: kMem, i: &c.ZsetMaxListpackValue, min: 0, max: math.MaxInt64},
		{name: "list-max-listpack-size", kind: kInt, i: &c.ListMaxListpackSize, min: math.MinInt32, max: math.MaxInt32},
		{name: "list-compress-depth", kind: kInt, i: &c.ListCompressDepth, min: 0, max: math.MaxInt32},
		// Parsed and canonicalized by apply.
		{name: "notify-keyspace-events", kind: kString, s: &c.notifyEvents},
	}
}

func (c *Config) find(name string) (directive, bool) {
	if a, ok := aliases[name]; ok { // CONFIG GET of an old name
		name = a
	}
	for _, d := range c.directives() {
		if d.name == name {
			return d, true
		}
	}
	return directive{}, false
}

// errBadArgs is the generic config-file complaint.
var errBadArgs = errors.New("Bad directive or wrong number of arguments")

// parseMemory parses Redis memory units (1k = 1000, 1kb = 1024, ...).
func parseMemory(s string) (int64, bool) {
	ls := strings.ToLower(s)
	mul := int64(1)
	for _, u := range []struct {
		suf string
		m   int64
	}{{"kb", 1024}, {"mb", 1 << 20}, {"gb", 1 << 30}, {"k", 1000}, {"m", 1000 * 1000}, {"g", 1000 * 1000 * 1000}, {"b", 1}} {
		if strings.HasSuffix(ls, u.suf) {
			ls, mul = strings.TrimSuffix(ls, u.suf), u.m
			break
		}
	}
	n, err := strconv.ParseInt(ls, 10, 64)
	if err != nil || n < 0 {
		return 0, false
	}
	return n * mul, true
}

// setValue validates and stores one directive value.
func (d directive) set(val string) error {
	switch d.kind {
	case kInt, kMem:
		var n int64
		var ok bool
		if d.kind == kMem {
			n, ok = parseMemory(val)
			if !ok {
				return errors.New("argument must be a memory value")
			}
		} else {
			var err error
			n, err = strconv.ParseInt(val, 10, 64)
			if err != nil {
				return errors.New("argument couldn't be parsed into an integer")
			}
		}
		if n < d.min || n > d.max {
			return fmt.Errorf("argument must be between %d and %d inclusive", d.min, d.max)
		}
		*d.i = n
	case kBool:
		switch strings.ToLower(val) {
		case "yes":
			*d.b = true
		case "no":
			*d.b = false
		default:
			return errors.New("argument must be 'yes' or 'no'")
		}
	case kEnum:
		lv := strings.ToLower(val)
		for _, e := range d.enum {
			if e == lv {
				*d.s = lv
				return nil
			}
		}
		return fmt.Errorf("argument(s) must be one of the following: %s", strings.Join(d.enum, ", "))
	case kString:
		*d.s = val
	}
	return nil
}

func (d directive) get() string {
	switch d.kind {
	case kInt, kMem:
		return strconv.FormatInt(*d.i, 10)
	case kBool:
		if *d.b {
			return "yes"
		}
		return "no"
	}
	return *d.s
}

// apply sets one directive from its arguments (file line or CONFIG SET).
func (c *Config) apply(name string, args []string) error {
	name = strings.ToLower(name)
	if a, ok := aliases[name]; ok {
		name = a
	}
	switch name {
	case "bind":
		if len(args) < 1 {
			return errBadArgs
		}
		c.Bind = append([]string(nil), args...)
		return nil
	case "save":
		if len(args) == 1 && strings.TrimSpace(args[0]) == "" {
			c.Save = ""
			return nil
		}
		if len(args) == 1 {
			// save "3600 1 300 100", as redis-server 7 accepts it (and
			// as --save "3600 1" arrives from the command line).
			args = strings.Fields(args[0])
		}
		if len(args)%2 != 0 || len(args) == 0 {
			return errBadArgs
		}
		for _, a := range args {
			if n, err := strconv.Atoi(a); err != nil || n < 0 {
				return errors.New("Invalid save parameters")
			}
		}
		if c.Save != "" && c.saveFromFile {
			c.Save += " " + strings.Join(args, " ")
		} else {
			c.Save = strings.Join(args, " ")
		}
		c.saveFromFile = true
		return nil
	case "replicaof":
		if len(args) != 2 {
			return errBadArgs
		}
		if strings.EqualFold(args[0], "no") && strings.EqualFold(args[1], "one") {
			c.ReplicaOfHost, c.ReplicaOfPort = "", 0
			return nil
		}
		p, err := strconv.ParseInt(args[1], 10, 64)
		if err != nil || p < 0 || p > 65535 {
			return errors.New("Invalid master port")
		}
		c.ReplicaOfHost, c.ReplicaOfPort = args[0], p
		return nil
	case "sentinel":
		return errors.New("sentinel mode is not supported by codis-server")
	case "notify-keyspace-events":
		if len(args) != 1 {
			return errBadArgs
		}
		f, err := parseNotifyFlags(args[0])
		if err != nil {
			return err
		}
		c.notifyFlags, c.notifyEvents = f, formatNotifyFlags(f)
		return nil
	case "dbfilename":
		if len(args) == 1 && strings.ContainsRune(args[0], '/') {
			return errors.New("dbfilename can't be a path, just a filename")
		}
	case "io-threads":
		if len(args) == 1 {
			if n, err := strconv.Atoi(args[0]); err != nil || n < 1 || n > 128 {
				return errors.New("argument must be between 1 and 128 inclusive")
			}
		}
	}
	if d, ok := c.find(name); ok {
		if len(args) != 1 {
			return errBadArgs
		}
		return d.set(args[0])
	}
	if _, ok := harmlessDirectives[name]; ok {
		if name == "client-output-buffer-limit" { // classes accumulate (t_server.go)
			v, err := mergeOutputLimits(c.extra[name], strings.Join(args, " "))
			if err != nil {
				return err
			}
			c.extra[name] = v
			return nil
		}
		c.extra[name] = strings.Join(args, " ")
		switch name { // one setting under two names in Redis 7
		case "hash-max-listpack-entries":
			c.extra["hash-max-ziplist-entries"] = c.extra[name]
		case "hash-max-listpack-value":
			c.extra["hash-max-ziplist-value"] = c.extra[name]
		case "lua-time-limit":
			c.extra["busy-reply-threshold"] = c.extra[name]
		case "busy-reply-threshold":
			c.extra["lua-time-limit"] = c.extra[name]
		}
		return nil
	}
	return errBadArgs
}

// ConfigError is a fatal configuration problem, formatted like Redis's.
type ConfigError struct {
	Line int    // 1-based line in the combined file + options text
	Text string // the offending line
	Msg  string
}

func (e *ConfigError) Error() string {
	return fmt.Sprintf("\n*** FATAL CONFIG FILE ERROR (Redis %s) ***\nReading the configuration file, at line %d\n>>> '%s'\n%s",
		Version, e.Line, e.Text, e.Msg)
}

// LoadString applies redis.conf text, one directive per line; '#' starts a
// comment line. It stops at the first error.
func (c *Config) LoadString(text string) error {
	c.saveFromFile = false
	for i, line := range strings.Split(text, "\n") {
		t := strings.TrimSpace(line)
		if t == "" || t[0] == '#' {
			continue
		}
		argv, ok := resp.SplitArgs([]byte(t))
		if !ok {
			return &ConfigError{Line: i + 1, Text: t, Msg: "Unbalanced quotes in configuration line"}
		}
		if len(argv) == 0 {
			continue
		}
		args := make([]string, len(argv)-1)
		for j, a := range argv[1:] {
			args[j] = string(a)
		}
		if err := c.apply(string(argv[0]), args); err != nil {
			return &ConfigError{Line: i + 1, Text: t, Msg: err.Error()}
		}
	}
	return nil
}

// ParseArgs builds a configuration the way redis-server does from its
// command line: an optional config file path, then "--key value ..."
// options appended as extra lines (so they win). A lone "-" as the file
// reads the file from stdin is not supported.
func ParseArgs(args []string) (*Config, error) {
	c := NewConfig()
	var text string
	if len(args) > 0 && !strings.HasPrefix(args[0], "--") {
		b, err := os.ReadFile(args[0])
		if err != nil {
			return nil, fmt.Errorf("Fatal error, can't open config file '%s': %w", args[0], err)
		}
		text = string(b)
		c.ConfigFile = args[0]
		args = args[1:]
	}
	var opts strings.Builder
	for i, a := range args {
		if strings.HasPrefix(a, "--") {
			if opts.Len() > 0 {
				opts.WriteByte('\n')
			}
			opts.WriteString(a[2:])
			continue
		}
		if i == 0 {
			return nil, fmt.Errorf("invalid option %q", a)
		}
		opts.WriteByte(' ')
		opts.WriteString(quoteArg(a))
	}
	if opts.Len() > 0 {
		if text != "" && !strings.HasSuffix(text, "\n") {
			text += "\n"
		}
		text += opts.String()
	}
	if err := c.LoadString(text); err != nil {
		return nil, err
	}
	return c, nil
}

// quoteArg quotes a command-line value so SplitArgs gives it back.
func quoteArg(a string) string {
	if a != "" && !strings.ContainsAny(a, " \t\r\n\"'\\") {
		return a
	}
	var sb strings.Builder
	sb.WriteByte('"')
	for i := 0; i < len(a); i++ {
		switch c := a[i]; c {
		case '"', '\\':
			sb.WriteByte('\\')
			sb.WriteByte(c)
		case '\n':
			sb.WriteString(`\n`)
		case '\r':
			sb.WriteString(`\r`)
		case '\t':
			sb.WriteString(`\t`)
		default:
			sb.WriteByte(c)
		}
	}
	sb.WriteByte('"')
	return sb.String()
}

// IOThreads is the io-threads setting (1 to 128, default 1). codis-server
// uses it as the number of processors running Go code (GOMAXPROCS): with
// the default, like a redis-server without I/O threads, one — which on a
// host shared with its clients or with other servers avoids cross-thread
// wake-ups (see doc/benchmarks.md).
func (c *Config) IOThreads() int {
	if n, err := strconv.Atoi(c.extra["io-threads"]); err == nil && n >= 1 {
		return n
	}
	return 1
}
