package topom

import (
	"bytes"
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/BurntSushi/toml"

	"github.com/codisgo/codis/pkg/utils/timesize"
)

func TestDefaultConfigMatchesNewDefaultConfig(t *testing.T) {
	c := &Config{}
	md, err := toml.Decode(DefaultConfig, c)
	if err != nil {
		t.Fatalf("DefaultConfig does not parse: %v", err)
	}
	if u := md.Undecoded(); len(u) != 0 {
		t.Fatalf("DefaultConfig has unknown keys %v", u)
	}
	if want := NewDefaultConfig(); !reflect.DeepEqual(c, want) {
		t.Fatalf("DefaultConfig parses to\n%+v\nNewDefaultConfig is\n%+v", c, want)
	}
	// Every toml key of Config is present in DefaultConfig.
	typ := reflect.TypeFor[Config]()
	for i := range typ.NumField() {
		key := typ.Field(i).Tag.Get("toml")
		if key == "-" {
			continue
		}
		if !md.IsDefined(key) {
			t.Errorf("key %s missing from DefaultConfig", key)
		}
	}
	if err := NewDefaultConfig().Validate(); err != nil {
		t.Fatalf("defaults do not validate: %v", err)
	}
}

func TestConfigFileIsDefaultConfig(t *testing.T) {
	data, err := os.ReadFile(filepath.Join("..", "..", "config", "dashboard.toml"))
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(data, []byte(DefaultConfig)) {
		t.Fatal("config/dashboard.toml differs from topom.DefaultConfig; regenerate it with codis-dashboard --default-config")
	}
}

func writeConfigFile(t *testing.T, content string) string {
	t.Helper()
	path := filepath.Join(t.TempDir(), "dashboard.toml")
	if err := os.WriteFile(path, []byte(content), 0o644); err != nil {
		t.Fatal(err)
	}
	return path
}

func TestLoadConfigOverlay(t *testing.T) {
	path := writeConfigFile(t, `
coordinator_name = "zookeeper"
coordinator_addr = "127.0.0.1:2181,127.0.0.1:2182"
product_name = "demo2"
migration_async_maxbytes = "1.5mb"
migration_timeout = 45
sentinel_failover_timeout = "1h"
no_such_key = 1
[extra]
nested = "x"
`)
	c, warnings, err := LoadConfig(path)
	if err != nil {
		t.Fatal(err)
	}
	want := NewDefaultConfig()
	want.CoordinatorName = "zookeeper"
	want.CoordinatorAddr = "127.0.0.1:2181,127.0.0.1:2182"
	want.ProductName = "demo2"
	want.MigrationAsyncMaxBytes = 1536 << 10
	want.MigrationTimeout = timesize.Duration(45 * time.Second)
	want.SentinelFailoverTimeout = timesize.Duration(time.Hour)
	if !reflect.DeepEqual(c, want) {
		t.Fatalf("got\n%+v\nwant\n%+v", c, want)
	}
	joined := strings.Join(warnings, "\n")
	for _, k := range []string{`"no_such_key"`, `"extra.nested"`} {
		if !strings.Contains(joined, k) {
			t.Errorf("warnings %q do not mention %s", warnings, k)
		}
	}
	if err := c.Validate(); err != nil {
		t.Fatal(err)
	}
}

func TestLoadConfigErrors(t *testing.T) {
	tests := []struct {
		name, content, want string
	}{
		{"syntax", "product_name = \n", "product_name"},
		{"bad size", "migration_async_maxbytes = \"12 parsecs\"\n", "12 parsecs"},
		{"bad duration", "migration_timeout = \"1 fortnight\"\n", "1 fortnight"},
		{"wrong type", "migration_parallel_slots = \"many\"\n", "migration_parallel_slots"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			_, _, err := LoadConfig(writeConfigFile(t, tc.content))
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("error %v, want one mentioning %q", err, tc.want)
			}
		})
	}
	_, _, err := LoadConfig(filepath.Join(t.TempDir(), "missing.toml"))
	if !errors.Is(err, os.ErrNotExist) {
		t.Fatalf("missing file: %v", err)
	}
}

func TestValidate(t *testing.T) {
	tests := []struct {
		name   string
		modify func(c *Config)
		want   string // "" = valid
	}{
		{"defaults", func(c *Config) {}, ""},
		{"zk", func(c *Config) { c.CoordinatorName = "zk" }, ""},
		{"etcd with auth", func(c *Config) { c.CoordinatorName = "etcd"; c.CoordinatorAuth = "root:pw:x" }, ""},
		{"fs", func(c *Config) { c.CoordinatorName = "fs" }, ""},
		{"sync upper case", func(c *Config) { c.MigrationMethod = "SYNC" }, ""},
		{"product with dots", func(c *Config) { c.ProductName = "a.b-c_1" }, ""},
		{"empty coordinator_name", func(c *Config) { c.CoordinatorName = "" }, "invalid coordinator_name"},
		{"unknown coordinator_name", func(c *Config) { c.CoordinatorName = "consul" }, "invalid coordinator_name"},
		{"empty coordinator_addr", func(c *Config) { c.CoordinatorAddr = "" }, "invalid coordinator_addr"},
		{"bad coordinator_auth", func(c *Config) { c.CoordinatorAuth = "password" }, "invalid coordinator_auth"},
		{"no user in coordinator_auth", func(c *Config) { c.CoordinatorAuth = ":pw" }, "invalid coordinator_auth"},
		{"empty admin_addr", func(c *Config) { c.AdminAddr = "" }, "invalid admin_addr"},
		{"bad admin_addr", func(c *Config) { c.AdminAddr = "18080" }, "invalid admin_addr"},
		{"empty product_name", func(c *Config) { c.ProductName = "" }, "invalid product_name"},
		{"bad product_name", func(c *Config) { c.ProductName = "-demo" }, "invalid product_name"},
		{"slash product_name", func(c *Config) { c.ProductName = "a/b" }, "invalid product_name"},
		{"bad migration_method", func(c *Config) { c.MigrationMethod = "async" }, "invalid migration_method"},
		{"zero parallel slots", func(c *Config) { c.MigrationParallelSlots = 0 }, "invalid migration_parallel_slots"},
		{"negative maxbulks", func(c *Config) { c.MigrationAsyncMaxBulks = -1 }, "invalid migration_async_maxbulks"},
		{"huge maxbulks", func(c *Config) { c.MigrationAsyncMaxBulks = 1 << 31 }, "invalid migration_async_maxbulks"},
		{"zero maxbytes", func(c *Config) { c.MigrationAsyncMaxBytes = 0 }, "invalid migration_async_maxbytes"},
		{"huge maxbytes", func(c *Config) { c.MigrationAsyncMaxBytes = 2 << 30 }, "invalid migration_async_maxbytes"},
		{"zero numkeys", func(c *Config) { c.MigrationAsyncNumKeys = 0 }, "invalid migration_async_numkeys"},
		{"zero migration_timeout", func(c *Config) { c.MigrationTimeout = 0 }, "invalid migration_timeout"},
		{"huge migration_timeout", func(c *Config) { c.MigrationTimeout = timesize.Duration(30 * 24 * time.Hour) },
			"invalid migration_timeout"},
		{"zero sentinel_client_timeout", func(c *Config) { c.SentinelClientTimeout = 0 }, "invalid sentinel_client_timeout"},
		{"zero quorum", func(c *Config) { c.SentinelQuorum = 0 }, "invalid sentinel_quorum"},
		{"zero parallel syncs", func(c *Config) { c.SentinelParallelSyncs = 0 }, "invalid sentinel_parallel_syncs"},
		{"negative down_after", func(c *Config) { c.SentinelDownAfter = -1 }, "invalid sentinel_down_after"},
		{"zero failover_timeout", func(c *Config) { c.SentinelFailoverTimeout = 0 }, "invalid sentinel_failover_timeout"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			c := NewDefaultConfig()
			tc.modify(c)
			err := c.Validate()
			if tc.want == "" {
				if err != nil {
					t.Fatalf("unexpected error: %v", err)
				}
				return
			}
			if err == nil {
				t.Fatalf("no error, want %q", tc.want)
			}
			if !errors.Is(err, ErrInvalidConfig) {
				t.Fatalf("error %v does not match ErrInvalidConfig", err)
			}
			if !strings.HasPrefix(err.Error(), tc.want) || strings.Contains(err.Error(), "\n") {
				t.Fatalf("error %q, want exactly one problem starting with %q", err, tc.want)
			}
		})
	}
}

func TestValidateListsEveryProblem(t *testing.T) {
	c := NewDefaultConfig()
	c.AdminAddr = ""
	c.SentinelQuorum = -2
	c.CoordinatorAuth = "secret-password"
	err := c.Validate()
	lines := strings.Split(err.Error(), "\n")
	if len(lines) != 3 {
		t.Fatalf("error %q: want 3 lines", err)
	}
	for i, want := range []string{"invalid coordinator_auth", "invalid admin_addr", "invalid sentinel_quorum: -2"} {
		if !strings.HasPrefix(lines[i], want) {
			t.Errorf("line %d = %q, want prefix %q", i, lines[i], want)
		}
	}
	if strings.Contains(err.Error(), "secret-password") {
		t.Fatal("error leaks coordinator_auth")
	}
	var ce *ConfigError
	if !errors.As(err, &ce) || ce.Key != "coordinator_auth" {
		t.Fatalf("errors.As: %v", ce)
	}
}

func TestConfigJSON(t *testing.T) {
	c := NewDefaultConfig()
	c.CoordinatorAddr = "/var/lib/codis/rootfs"
	c.AdminAddr = "127.0.0.1:31080"
	c.ProductName = "spec-ctl"
	c.ProductAuth = "must-not-appear"
	c.HostAdmin = "10.0.0.1:18080"
	got, err := json.Marshal(c)
	if err != nil {
		t.Fatal(err)
	}
	// SPEC-control §4.4, verified against the original.
	want := `{"coordinator_name": "filesystem", "coordinator_addr": "/var/lib/codis/rootfs", "coordinator_auth": "",
 "admin_addr": "127.0.0.1:31080", "product_name": "spec-ctl", "migration_method": "semi-async",
 "migration_parallel_slots": 100, "migration_async_maxbulks": 200, "migration_async_maxbytes": "32mb",
 "migration_async_numkeys": 500, "migration_timeout": "30s", "sentinel_client_timeout": "10s",
 "sentinel_quorum": 2, "sentinel_parallel_syncs": 1, "sentinel_down_after": "30s",
 "sentinel_failover_timeout": "5m", "sentinel_notification_script": "", "sentinel_client_reconfig_script": ""}`
	var compact bytes.Buffer
	if err := json.Compact(&compact, []byte(want)); err != nil {
		t.Fatal(err)
	}
	if string(got) != compact.String() {
		t.Fatalf("JSON\n%s\nwant\n%s", got, compact.String())
	}
	back := &Config{}
	if err := json.Unmarshal(got, back); err != nil {
		t.Fatal(err)
	}
	c.ProductAuth, c.HostAdmin = "", ""
	if !reflect.DeepEqual(back, c) {
		t.Fatalf("JSON round trip\n%+v\nwant\n%+v", back, c)
	}
}
