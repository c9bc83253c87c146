package topom

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

// DefaultConfig is the default dashboard.toml. It is both the source of
// the defaults (NewDefaultConfig matches it, which a test checks) and their
// documentation; `codis-dashboard --default-config` prints it.
const DefaultConfig = `##################################################
#                                                #
#                  Codis-Dashboard               #
#                                                #
##################################################

# Where the cluster topology is stored.
#   coordinator_name: "zookeeper" (or "zk"), "etcd", or "filesystem" (or "fs").
#   coordinator_addr: for zookeeper and etcd a comma separated address list,
#                     e.g. "10.0.0.1:2181,10.0.0.2:2181" or
#                     "http://10.0.0.1:2379"; for filesystem the root
#                     directory, which only suits a single machine.
#   coordinator_auth: "user:password" for ZooKeeper digest or etcd basic
#                     authentication; empty for none. Every Codis component
#                     reading the store must use the same credentials.
coordinator_name = "filesystem"
coordinator_addr = "/tmp/codis"
coordinator_auth = ""

# The cluster (product) this dashboard manages. product_name must match
# ^\w[\w.\-]*$; it names the store directory /codis3/<product_name> and the
# sentinel masters <product_name>-<group id>.
# product_auth is the password (requirepass) of the codis-servers; it is
# also used as masterauth for replication and as auth-pass for sentinels,
# and proxies must be configured with the same value.
product_name = "codis-demo"
product_auth = ""

# Listen address of the dashboard's HTTP API (used by codis-fe, codis-admin
# and codis-proxy). With an unspecified IP (0.0.0.0) the dashboard advertises
# the host name instead; use --host-admin to advertise another address.
admin_addr = "0.0.0.0:18080"

# Slot migration.
#   migration_method: "semi-async" (non-blocking, large keys are moved in
#                     chunks) or "sync" (each key is moved in one blocking
#                     command).
#   migration_parallel_slots: at most this many slots migrate at once; a
#                     group takes part in at most one migrating slot.
#   migration_async_maxbulks, migration_async_maxbytes,
#   migration_async_numkeys: semi-async batch limits: elements per chunk,
#                     bytes in flight, keys per round.
#   migration_timeout: timeout of a migration command and of the
#                     connection between the two servers.
migration_method = "semi-async"
migration_parallel_slots = 100
migration_async_maxbulks = 200
migration_async_maxbytes = "32mb"
migration_async_numkeys = 500
migration_timeout = "30s"

# Redis Sentinel. The dashboard registers every group master with the
# sentinels added to the cluster, using these settings.
#   sentinel_client_timeout: timeout of the dashboard's sentinel commands.
#   sentinel_quorum, sentinel_parallel_syncs, sentinel_down_after,
#   sentinel_failover_timeout: SENTINEL MONITOR quorum, parallel-syncs,
#                     down-after-milliseconds and failover-timeout.
#   sentinel_notification_script, sentinel_client_reconfig_script:
#                     notification-script and client-reconfig-script, set
#                     only when not empty.
sentinel_client_timeout = "10s"
sentinel_quorum = 2
sentinel_parallel_syncs = 1
sentinel_down_after = "30s"
sentinel_failover_timeout = "5m"
sentinel_notification_script = ""
sentinel_client_reconfig_script = ""
`

// Config is the dashboard configuration (SPEC-control §5.2). Sizes and
// durations marshal to the compact Codis form ("32mb", "30s") in TOML and
// JSON; product_auth is never serialised to JSON.
type Config struct {
	CoordinatorName string `toml:"coordinator_name" json:"coordinator_name"` // zookeeper|zk|etcd|filesystem|fs
	CoordinatorAddr string `toml:"coordinator_addr" json:"coordinator_addr"` // address list or fs root
	CoordinatorAuth string `toml:"coordinator_auth" json:"coordinator_auth"` // "user:password" or ""

	AdminAddr   string `toml:"admin_addr" json:"admin_addr"`     // HTTP listen address
	HostAdmin   string `toml:"-" json:"-"`                       // advertised admin address (--host-admin)
	ProductName string `toml:"product_name" json:"product_name"` // cluster name
	ProductAuth string `toml:"product_auth" json:"-"`            // codis-server password

	MigrationMethod        string            `toml:"migration_method" json:"migration_method"`                 // sync|semi-async
	MigrationParallelSlots int               `toml:"migration_parallel_slots" json:"migration_parallel_slots"` // slots per round
	MigrationAsyncMaxBulks int               `toml:"migration_async_maxbulks" json:"migration_async_maxbulks"` // elements per chunk
	MigrationAsyncMaxBytes bytesize.Int64    `toml:"migration_async_maxbytes" json:"migration_async_maxbytes"` // bytes in flight
	MigrationAsyncNumKeys  int               `toml:"migration_async_numkeys" json:"migration_async_numkeys"`   // keys per round
	MigrationTimeout       timesize.Duration `toml:"migration_timeout" json:"migration_timeout"`               // command/connection timeout

	SentinelClientTimeout        timesize.Duration `toml:"sentinel_client_timeout" json:"sentinel_client_timeout"`
	SentinelQuorum               int               `toml:"sentinel_quorum" json:"sentinel_quorum"`
	SentinelParallelSyncs        int               `toml:"sentinel_parallel_syncs" json:"sentinel_parallel_syncs"`
	SentinelDownAfter            timesize.Duration `toml:"sentinel_down_after" json:"sentinel_down_after"`
	SentinelFailoverTimeout      timesize.Duration `toml:"sentinel_failover_timeout" json:"sentinel_failover_timeout"`
	SentinelNotificationScript   string            `toml:"sentinel_notification_script" json:"sentinel_notification_script"`
	SentinelClientReconfigScript string            `toml:"sentinel_client_reconfig_script" json:"sentinel_client_reconfig_script"`
}

// NewDefaultConfig returns the defaults documented in DefaultConfig.
func NewDefaultConfig() *Config {
	return &Config{
		CoordinatorName: "filesystem",
		CoordinatorAddr: "/tmp/codis",
		AdminAddr:       "0.0.0.0:18080",
		ProductName:     "codis-demo",

		MigrationMethod:        "semi-async",
		MigrationParallelSlots: 100,
		MigrationAsyncMaxBulks: 200,
		MigrationAsyncMaxBytes: bytesize.Int64(32 * bytesize.MB),
		MigrationAsyncNumKeys:  500,
		MigrationTimeout:       timesize.Duration(timesize.MustParse("30s")),

		SentinelClientTimeout:   timesize.Duration(timesize.MustParse("10s")),
		SentinelQuorum:          2,
		SentinelParallelSyncs:   1,
		SentinelDownAfter:       timesize.Duration(timesize.MustParse("30s")),
		SentinelFailoverTimeout: timesize.Duration(timesize.MustParse("5m")),
	}
}

// LoadConfig reads the TOML file at path over the defaults. Keys the
// dashboard does not know are ignored, as the original does, and reported
// in warnings. The result is not validated; call Validate after applying
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

// configProductRegexp is the product name syntax shared with the proxy.
var configProductRegexp = regexp.MustCompile(`^\w[\w.\-]*$`)

// Validate checks every key and returns nil or one error listing every
// problem (one *ConfigError per line, joined with errors.Join).
func (c *Config) Validate() error {
	var errs []error
	bad := func(key, format string, args ...any) {
		errs = append(errs, &ConfigError{Key: key, Reason: fmt.Sprintf(format, args...)})
	}
	switch c.CoordinatorName {
	case "zookeeper", "zk", "etcd", "filesystem", "fs":
	case "":
		bad("coordinator_name", "empty")
	default:
		bad("coordinator_name", "%q (want zookeeper, etcd or filesystem)", c.CoordinatorName)
	}
	if c.CoordinatorAddr == "" {
		bad("coordinator_addr", "empty")
	}
	if a := c.CoordinatorAuth; a != "" {
		if user, _, ok := strings.Cut(a, ":"); !ok || user == "" {
			bad("coordinator_auth", "want \"user:password\"")
		}
	}
	if c.AdminAddr == "" {
		bad("admin_addr", "empty")
	} else if _, _, err := net.SplitHostPort(c.AdminAddr); err != nil {
		bad("admin_addr", "%q is not host:port", c.AdminAddr)
	}
	switch {
	case c.ProductName == "":
		bad("product_name", "empty")
	case !configProductRegexp.MatchString(c.ProductName):
		bad("product_name", "%q does not match %s", c.ProductName, configProductRegexp)
	}
	switch strings.ToLower(c.MigrationMethod) {
	case "sync", "semi-async":
	default:
		bad("migration_method", "%q (want sync or semi-async)", c.MigrationMethod)
	}
	// Values sent to codis-server as SLOTSMGRT*-ASYNC arguments must fit
	// its 0..2^31-1 argument range (timeouts are sent in milliseconds).
	const maxArg = 1<<31 - 1
	check := func(key string, v, max int64, s string) {
		switch {
		case v <= 0:
			bad(key, "%s (must be > 0)", s)
		case max > 0 && v > max:
			bad(key, "%s (too large)", s)
		}
	}
	checkInt := func(key string, v int, max int64) { check(key, int64(v), max, fmt.Sprint(v)) }
	checkDur := func(key string, d timesize.Duration, max int64) { check(key, int64(d), max, d.String()) }
	msMax := int64(maxArg * time.Millisecond)
	checkInt("migration_parallel_slots", c.MigrationParallelSlots, 0)
	checkInt("migration_async_maxbulks", c.MigrationAsyncMaxBulks, maxArg)
	check("migration_async_maxbytes", c.MigrationAsyncMaxBytes.Int64(), maxArg, c.MigrationAsyncMaxBytes.String())
	checkInt("migration_async_numkeys", c.MigrationAsyncNumKeys, maxArg)
	checkDur("migration_timeout", c.MigrationTimeout, msMax)
	checkDur("sentinel_client_timeout", c.SentinelClientTimeout, 0)
	checkInt("sentinel_quorum", c.SentinelQuorum, 0)
	checkInt("sentinel_parallel_syncs", c.SentinelParallelSyncs, 0)
	checkDur("sentinel_down_after", c.SentinelDownAfter, msMax)
	checkDur("sentinel_failover_timeout", c.SentinelFailoverTimeout, msMax)
	return errors.Join(errs...)
}
