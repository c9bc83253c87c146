package proxy

import (
	"errors"
	"fmt"
	"net"
	"os"
	"regexp"
	"strings"
	"time"

	"github.com/BurntSushi/toml"

	"github.com/codisgo/codis/pkg/utils/bytesize"
	"github.com/codisgo/codis/pkg/utils/timesize"
)

// DefaultConfig is the default proxy.toml. It is both the source of the
// defaults (NewDefaultConfig matches it, which a test checks) and their
// documentation; `codis-proxy --default-config` prints it.
//
// Sizes are a number with an optional unit b, k/kb, m/mb, g/gb, t/tb, p/pb
// (powers of 1024); durations are Go durations ("30s", "5m") or a bare
// number of seconds.
const DefaultConfig = `##################################################
#                                                #
#                  Codis-Proxy                   #
#                                                #
##################################################

# The cluster (product) this proxy serves. product_name must match
# ^\w[\w.\-]*$ and equal the dashboard's.
# product_auth is the password (requirepass) of the codis-servers; it must
# equal the dashboard's, which uses it to authenticate to this proxy.
# session_auth is the password clients must send with AUTH; empty for none.
product_name = "codis-demo"
product_auth = ""
session_auth = ""

# Listen address of the proxy's HTTP admin API (always tcp).
admin_addr = "0.0.0.0:11080"

# Client listener: proto_type is "tcp", "tcp4", "tcp6", "unix" or
# "unixpacket"; proxy_addr is a host:port, or a socket path for unix.
# With an unspecified IP (0.0.0.0) the proxy advertises the host name
# instead; use --host-proxy / --host-admin to advertise other addresses.
proto_type = "tcp4"
proxy_addr = "0.0.0.0:19000"

# Jodis: register this proxy for client-side discovery.
#   jodis_name: "zookeeper" (or "zk") or "etcd"; empty disables Jodis.
#   jodis_addr: comma separated address list, required with jodis_name.
#   jodis_auth: "user:password" for ZooKeeper digest or etcd basic
#               authentication; empty for none.
#   jodis_timeout: ZooKeeper session timeout / etcd key TTL.
#   jodis_compatible: false registers /jodis/<product_name>/proxy-<token>;
#               true uses the Codis 2 path /zk/codis/db_<product_name>/proxy/<token>.
jodis_name = ""
jodis_addr = ""
jodis_auth = ""
jodis_timeout = "20s"
jodis_compatible = false

# Data center of this proxy, reported in its model; the dashboard uses it to
# order replica groups (same data center first).
proxy_datacenter = ""

# Maximum number of client connections (0 rejects every client).
proxy_max_clients = 1000

# Memory tuning: cap of the off-heap buffer allocator (0 disables it), and a
# placeholder heap allocation that makes garbage collection less frequent.
proxy_max_offheap_size = "1024mb"
proxy_heap_placeholder = "256mb"

# Backend (codis-server) connections.
#   backend_ping_period: keepalive PING period, at least 1s; 0 disables.
#   backend_recv_bufsize / backend_send_bufsize: buffered reader / writer sizes.
#   backend_recv_timeout / backend_send_timeout: I/O deadlines; 0 for none.
#   backend_max_pipeline: requests in flight per connection.
#   backend_primary_only: never read from replica groups.
#   backend_primary_parallel / backend_replica_parallel: connections per
#               master / replica server, per database.
#   backend_keepalive_period: TCP keepalive period; 0 disables.
#   backend_number_databases: databases per server: the SELECT range and
#               the number of connection sets (at least 1).
backend_ping_period = "5s"
backend_recv_bufsize = "128kb"
backend_recv_timeout = "30s"
backend_send_bufsize = "128kb"
backend_send_timeout = "30s"
backend_max_pipeline = 20480
backend_primary_only = false
backend_primary_parallel = 1
backend_replica_parallel = 1
backend_keepalive_period = "75s"
backend_number_databases = 16

# Client sessions.
#   session_recv_bufsize / session_send_bufsize: buffered reader / writer sizes.
#   session_recv_timeout: idle timeout; 0 for none.
#   session_send_timeout: write deadline; 0 for none.
#   session_max_pipeline: requests a client may have in flight; more closes
#               the connection.
#   session_keepalive_period: TCP keepalive period; 0 disables.
#   session_break_on_failure: close the connection after a failed request.
session_recv_bufsize = "128kb"
session_recv_timeout = "30m"
session_send_bufsize = "64kb"
session_send_timeout = "30s"
session_max_pipeline = 10000
session_keepalive_period = "75s"
session_break_on_failure = false

# Metrics push, each disabled while its server is empty.
#   metrics_report_server: HTTP address receiving the stats as JSON.
#   metrics_report_influxdb_*: InfluxDB server (http://host:port), database
#               and credentials.
#   metrics_report_statsd_*: statsd server (host:port) and metric prefix.
metrics_report_server = ""
metrics_report_period = "1s"
metrics_report_influxdb_server = ""
metrics_report_influxdb_period = "1s"
metrics_report_influxdb_username = ""
metrics_report_influxdb_password = ""
metrics_report_influxdb_database = ""
metrics_report_statsd_server = ""
metrics_report_statsd_period = "1s"
metrics_report_statsd_prefix = ""
`

// Config is the proxy configuration (SPEC-data §F.1). Sizes and durations
// marshal to the compact Codis form ("128kb", "30s") in TOML and JSON; the
// passwords are never serialised to JSON.
type Config struct {
	ProductName string `toml:"product_name" json:"product_name"` // cluster name
	ProductAuth string `toml:"product_auth" json:"-"`            // backend AUTH password
	SessionAuth string `toml:"session_auth" json:"-"`            // client AUTH password

	AdminAddr string `toml:"admin_addr" json:"admin_addr"` // HTTP listen address
	ProtoType string `toml:"proto_type" json:"proto_type"` // client listener network
	ProxyAddr string `toml:"proxy_addr" json:"proxy_addr"` // client listener address
	HostAdmin string `toml:"-" json:"-"`                   // advertised admin address (--host-admin)
	HostProxy string `toml:"-" json:"-"`                   // advertised proxy address (--host-proxy)

	JodisName       string            `toml:"jodis_name" json:"jodis_name"`             // zookeeper|zk|etcd or ""
	JodisAddr       string            `toml:"jodis_addr" json:"jodis_addr"`             // coordinator address list
	JodisAuth       string            `toml:"jodis_auth" json:"jodis_auth"`             // "user:password" or ""
	JodisTimeout    timesize.Duration `toml:"jodis_timeout" json:"jodis_timeout"`       // session timeout / TTL
	JodisCompatible bool              `toml:"jodis_compatible" json:"jodis_compatible"` // Codis 2 path

	ProxyDataCenter      string         `toml:"proxy_datacenter" json:"proxy_datacenter"`
	ProxyMaxClients      int            `toml:"proxy_max_clients" json:"proxy_max_clients"`
	ProxyMaxOffheapBytes bytesize.Int64 `toml:"proxy_max_offheap_size" json:"proxy_max_offheap_size"`
	ProxyHeapPlaceholder bytesize.Int64 `toml:"proxy_heap_placeholder" json:"proxy_heap_placeholder"`

	BackendPingPeriod      timesize.Duration `toml:"backend_ping_period" json:"backend_ping_period"`
	BackendRecvBufsize     bytesize.Int64    `toml:"backend_recv_bufsize" json:"backend_recv_bufsize"`
	BackendRecvTimeout     timesize.Duration `toml:"backend_recv_timeout" json:"backend_recv_timeout"`
	BackendSendBufsize     bytesize.Int64    `toml:"backend_send_bufsize" json:"backend_send_bufsize"`
	BackendSendTimeout     timesize.Duration `toml:"backend_send_timeout" json:"backend_send_timeout"`
	BackendMaxPipeline     int               `toml:"backend_max_pipeline" json:"backend_max_pipeline"`
	BackendPrimaryOnly     bool              `toml:"backend_primary_only" json:"backend_primary_only"`
	BackendPrimaryParallel int               `toml:"backend_primary_parallel" json:"backend_primary_parallel"`
	BackendReplicaParallel int               `toml:"backend_replica_parallel" json:"backend_replica_parallel"`
	BackendKeepAlivePeriod timesize.Duration `toml:"backend_keepalive_period" json:"backend_keepalive_period"`
	BackendNumberDatabases int               `toml:"backend_number_databases" json:"backend_number_databases"`

	SessionRecvBufsize     bytesize.Int64    `toml:"session_recv_bufsize" json:"session_recv_bufsize"`
	SessionRecvTimeout     timesize.Duration `toml:"session_recv_timeout" json:"session_recv_timeout"`
	SessionSendBufsize     bytesize.Int64    `toml:"session_send_bufsize" json:"session_send_bufsize"`
	SessionSendTimeout     timesize.Duration `toml:"session_send_timeout" json:"session_send_timeout"`
	SessionMaxPipeline     int               `toml:"session_max_pipeline" json:"session_max_pipeline"`
	SessionKeepAlivePeriod timesize.Duration `toml:"session_keepalive_period" json:"session_keepalive_period"`
	SessionBreakOnFailure  bool              `toml:"session_break_on_failure" json:"session_break_on_failure"`

	MetricsReportServer           string            `toml:"metrics_report_server" json:"metrics_report_server"`
	MetricsReportPeriod           timesize.Duration `toml:"metrics_report_period" json:"metrics_report_period"`
	MetricsReportInfluxdbServer   string            `toml:"metrics_report_influxdb_server" json:"metrics_report_influxdb_server"`
	MetricsReportInfluxdbPeriod   timesize.Duration `toml:"metrics_report_influxdb_period" json:"metrics_report_influxdb_period"`
	MetricsReportInfluxdbUsername string            `toml:"metrics_report_influxdb_username" json:"metrics_report_influxdb_username"`
	MetricsReportInfluxdbPassword string            `toml:"metrics_report_influxdb_password" json:"-"`
	MetricsReportInfluxdbDatabase string            `toml:"metrics_report_influxdb_database" json:"metrics_report_influxdb_database"`
	MetricsReportStatsdServer     string            `toml:"metrics_report_statsd_server" json:"metrics_report_statsd_server"`
	MetricsReportStatsdPeriod     timesize.Duration `toml:"metrics_report_statsd_period" json:"metrics_report_statsd_period"`
	MetricsReportStatsdPrefix     string            `toml:"metrics_report_statsd_prefix" json:"metrics_report_statsd_prefix"`
}

// NewDefaultConfig returns the defaults documented in DefaultConfig.
func NewDefaultConfig() *Config {
	return &Config{
		ProductName: "codis-demo",
		AdminAddr:   "0.0.0.0:11080",
		ProtoType:   "tcp4",
		ProxyAddr:   "0.0.0.0:19000",

		JodisTimeout: timesize.Duration(20 * time.Second),

		ProxyMaxClients:      1000,
		ProxyMaxOffheapBytes: bytesize.Int64(1024 * bytesize.MB),
		ProxyHeapPlaceholder: bytesize.Int64(256 * bytesize.MB),

		BackendPingPeriod:      timesize.Duration(5 * time.Second),
		BackendRecvBufsize:     bytesize.Int64(128 * bytesize.KB),
		BackendRecvTimeout:     timesize.Duration(30 * time.Second),
		BackendSendBufsize:     bytesize.Int64(128 * bytesize.KB),
		BackendSendTimeout:     timesize.Duration(30 * time.Second),
		BackendMaxPipeline:     20480,
		BackendPrimaryParallel: 1,
		BackendReplicaParallel: 1,
		BackendKeepAlivePeriod: timesize.Duration(75 * time.Second),
		BackendNumberDatabases: 16,

		SessionRecvBufsize:     bytesize.Int64(128 * bytesize.KB),
		SessionRecvTimeout:     timesize.Duration(30 * time.Minute),
		SessionSendBufsize:     bytesize.Int64(64 * bytesize.KB),
		SessionSendTimeout:     timesize.Duration(30 * time.Second),
		SessionMaxPipeline:     10000,
		SessionKeepAlivePeriod: timesize.Duration(75 * time.Second),

		MetricsReportPeriod:         timesize.Duration(time.Second),
		MetricsReportInfluxdbPeriod: timesize.Duration(time.Second),
		MetricsReportStatsdPeriod:   timesize.Duration(time.Second),
	}
}

// LoadConfig reads the TOML file at path over the defaults. Keys the proxy
// does not know are ignored, as the original does, and reported in
// warnings. The result is not validated; call Validate after applying
// command-line overrides.
func LoadConfig(path string) (c *Config, warnings []string, err error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, nil, fmt.Errorf("load config: %w", err)
	}
	c = NewDefaultConfig()
	md, err := toml.Decode(string(data), c)
	if err != nil {
		return nil, nil, fmt.Errorf("load config %s: %w", path, err)
	}
	for _, k := range md.Undecoded() {
		warnings = append(warnings, fmt.Sprintf("%s: unknown key %q ignored", path, k.String()))
	}
	return c, warnings, nil
}

// ErrInvalidConfig is matched (errors.Is) by every Validate error.
var ErrInvalidConfig = errors.New("invalid config")

// ConfigError reports one invalid key. Its text starts with the original
// Codis message "invalid <key>".
type ConfigError struct {
	Key    string // toml key
	Reason string // what is wrong, with the offending value unless secret
}

func (e *ConfigError) Error() string {
	if e.Reason == "" {
		return "invalid " + e.Key
	}
	return "invalid " + e.Key + ": " + e.Reason
}

// Is makes every ConfigError match ErrInvalidConfig.
func (e *ConfigError) Is(target error) bool { return target == ErrInvalidConfig }

// maxConfigBufsize caps the per-connection buffer sizes: each connection
// allocates them, so a typo such as "128gb" must not reach the allocator.
const maxConfigBufsize = bytesize.Int64(bytesize.GB)

// configProductRegexp is the product name syntax shared with the dashboard.
var configProductRegexp = regexp.MustCompile(`^\w[\w.\-]*$`)

// Validate checks every key and returns nil or one error listing every
// problem (one *ConfigError per line, joined with errors.Join).
func (c *Config) Validate() error {
	var errs []error
	bad := func(key, format string, args ...any) {
		errs = append(errs, &ConfigError{Key: key, Reason: fmt.Sprintf(format, args...)})
	}
	switch {
	case c.ProductName == "":
		bad("product_name", "empty")
	case !configProductRegexp.MatchString(c.ProductName):
		bad("product_name", "%q does not match %s", c.ProductName, configProductRegexp)
	}
	if c.AdminAddr == "" {
		bad("admin_addr", "empty")
	} else if _, _, err := net.SplitHostPort(c.AdminAddr); err != nil {
		bad("admin_addr", "%q is not host:port", c.AdminAddr)
	}
	switch c.ProtoType {
	case "tcp", "tcp4", "tcp6":
		if c.ProxyAddr == "" {
			bad("proxy_addr", "empty")
		} else if _, _, err := net.SplitHostPort(c.ProxyAddr); err != nil {
			bad("proxy_addr", "%q is not host:port", c.ProxyAddr)
		}
	case "unix", "unixpacket":
		if c.ProxyAddr == "" {
			bad("proxy_addr", "empty")
		}
	case "":
		bad("proto_type", "empty")
	default:
		bad("proto_type", "%q (want tcp, tcp4, tcp6, unix or unixpacket)", c.ProtoType)
	}

	switch c.JodisName {
	case "":
		if c.JodisAddr != "" {
			bad("jodis_name", "empty while jodis_addr is set")
		}
	case "zookeeper", "zk", "etcd", "filesystem", "fs":
		if c.JodisAddr == "" {
			bad("jodis_addr", "empty while jodis_name is set")
		}
	default:
		bad("jodis_name", "%q (want zookeeper or etcd)", c.JodisName)
	}
	if a := c.JodisAuth; a != "" {
		if user, _, ok := strings.Cut(a, ":"); !ok || user == "" {
			bad("jodis_auth", "want \"user:password\"")
		}
	}
	if c.JodisName != "" && c.JodisTimeout == 0 {
		bad("jodis_timeout", "%s (must be > 0 when jodis_name is set)", c.JodisTimeout)
	}

	nonNegInt := func(key string, v int) {
		if v < 0 {
			bad(key, "%d (must be >= 0)", v)
		}
	}
	nonNegSize := func(key string, v bytesize.Int64) {
		if v < 0 {
			bad(key, "%s (must be >= 0)", v)
		}
	}
	bufSize := func(key string, v bytesize.Int64) {
		nonNegSize(key, v)
		if v > maxConfigBufsize {
			bad(key, "%s (must be <= %s)", v, maxConfigBufsize)
		}
	}
	nonNegDur := func(key string, v timesize.Duration) {
		if v < 0 {
			bad(key, "%s (must be >= 0)", v)
		}
	}
	nonNegDur("jodis_timeout", c.JodisTimeout)
	nonNegInt("proxy_max_clients", c.ProxyMaxClients)
	nonNegSize("proxy_max_offheap_size", c.ProxyMaxOffheapBytes)
	nonNegSize("proxy_heap_placeholder", c.ProxyHeapPlaceholder)

	nonNegDur("backend_ping_period", c.BackendPingPeriod)
	bufSize("backend_recv_bufsize", c.BackendRecvBufsize)
	nonNegDur("backend_recv_timeout", c.BackendRecvTimeout)
	bufSize("backend_send_bufsize", c.BackendSendBufsize)
	nonNegDur("backend_send_timeout", c.BackendSendTimeout)
	nonNegInt("backend_max_pipeline", c.BackendMaxPipeline)
	nonNegInt("backend_primary_parallel", c.BackendPrimaryParallel)
	nonNegInt("backend_replica_parallel", c.BackendReplicaParallel)
	nonNegDur("backend_keepalive_period", c.BackendKeepAlivePeriod)
	if c.BackendNumberDatabases < 1 {
		bad("backend_number_databases", "%d (must be >= 1)", c.BackendNumberDatabases)
	}

	bufSize("session_recv_bufsize", c.SessionRecvBufsize)
	nonNegDur("session_recv_timeout", c.SessionRecvTimeout)
	bufSize("session_send_bufsize", c.SessionSendBufsize)
	nonNegDur("session_send_timeout", c.SessionSendTimeout)
	nonNegInt("session_max_pipeline", c.SessionMaxPipeline)
	nonNegDur("session_keepalive_period", c.SessionKeepAlivePeriod)

	nonNegDur("metrics_report_period", c.MetricsReportPeriod)
	nonNegDur("metrics_report_influxdb_period", c.MetricsReportInfluxdbPeriod)
	nonNegDur("metrics_report_statsd_period", c.MetricsReportStatsdPeriod)
	return errors.Join(errs...)
}
