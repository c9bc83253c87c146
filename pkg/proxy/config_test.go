package proxy

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

	"github.com/codisgo/codis/pkg/utils/bytesize"
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

// TestDefaults pins the defaults of SPEC-data §F.1.
func TestDefaults(t *testing.T) {
	c := NewDefaultConfig()
	sizes := map[string]bytesize.Int64{
		"1024mb": c.ProxyMaxOffheapBytes, "256mb": c.ProxyHeapPlaceholder,
		"128kb": c.BackendRecvBufsize, "128KB": c.BackendSendBufsize,
		"128k": c.SessionRecvBufsize, "64kb": c.SessionSendBufsize,
	}
	for text, got := range sizes {
		if want := bytesize.MustParse(text); got.Int64() != want {
			t.Errorf("size %s: got %d", text, got)
		}
	}
	durs := []struct {
		got  timesize.Duration
		want string
	}{
		{c.JodisTimeout, "20s"}, {c.BackendPingPeriod, "5s"}, {c.BackendRecvTimeout, "30s"},
		{c.BackendSendTimeout, "30s"}, {c.BackendKeepAlivePeriod, "75s"}, {c.SessionRecvTimeout, "30m"},
		{c.SessionSendTimeout, "30s"}, {c.SessionKeepAlivePeriod, "75s"}, {c.MetricsReportPeriod, "1s"},
		{c.MetricsReportInfluxdbPeriod, "1s"}, {c.MetricsReportStatsdPeriod, "1s"},
	}
	for _, d := range durs {
		if d.got.Duration() != timesize.MustParse(d.want) {
			t.Errorf("duration %s: got %v", d.want, d.got)
		}
	}
	if c.ProductName != "codis-demo" || c.AdminAddr != "0.0.0.0:11080" || c.ProtoType != "tcp4" ||
		c.ProxyAddr != "0.0.0.0:19000" || c.ProxyMaxClients != 1000 || c.BackendMaxPipeline != 20480 ||
		c.BackendPrimaryParallel != 1 || c.BackendReplicaParallel != 1 || c.BackendNumberDatabases != 16 ||
		c.SessionMaxPipeline != 10000 || c.JodisCompatible || c.BackendPrimaryOnly || c.SessionBreakOnFailure {
		t.Fatalf("defaults %+v", c)
	}
}

func TestConfigFileIsDefaultConfig(t *testing.T) {
	data, err := os.ReadFile(filepath.Join("..", "..", "config", "proxy.toml"))
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(data, []byte(DefaultConfig)) {
		t.Fatal("config/proxy.toml differs from proxy.DefaultConfig; regenerate it with codis-proxy --default-config")
	}
}

func writeConfigFile(t *testing.T, content string) string {
	t.Helper()
	path := filepath.Join(t.TempDir(), "proxy.toml")
	if err := os.WriteFile(path, []byte(content), 0o644); err != nil {
		t.Fatal(err)
	}
	return path
}

func TestLoadConfigOverlay(t *testing.T) {
	path := writeConfigFile(t, `
product_name = "demo2"
session_auth = "pw"
proto_type = "unix"
proxy_addr = "/tmp/codis-proxy.sock"
jodis_name = "zookeeper"
jodis_addr = "127.0.0.1:2181"
jodis_timeout = 30
backend_recv_bufsize = "0.5mb"
session_recv_timeout = 0
backend_primary_only = true
unknown_key = "x"
`)
	c, warnings, err := LoadConfig(path)
	if err != nil {
		t.Fatal(err)
	}
	want := NewDefaultConfig()
	want.ProductName = "demo2"
	want.SessionAuth = "pw"
	want.ProtoType = "unix"
	want.ProxyAddr = "/tmp/codis-proxy.sock"
	want.JodisName = "zookeeper"
	want.JodisAddr = "127.0.0.1:2181"
	want.JodisTimeout = timesize.Duration(30 * time.Second)
	want.BackendRecvBufsize = 512 << 10
	want.SessionRecvTimeout = 0
	want.BackendPrimaryOnly = true
	if !reflect.DeepEqual(c, want) {
		t.Fatalf("got\n%+v\nwant\n%+v", c, want)
	}
	if len(warnings) != 1 || !strings.Contains(warnings[0], `"unknown_key"`) {
		t.Fatalf("warnings %q", warnings)
	}
	if err := c.Validate(); err != nil {
		t.Fatal(err)
	}
}

func TestLoadConfigErrors(t *testing.T) {
	tests := []struct {
		name, content, want string
	}{
		{"syntax", "proxy_addr = [\n", "proxy_addr"},
		{"bad size", "session_send_bufsize = \"64 kib\"\n", "64 kib"},
		{"bad duration", "backend_ping_period = \"5 sec\"\n", "5 sec"},
		{"wrong type", "proxy_max_clients = true\n", "proxy_max_clients"},
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
		{"tcp6", func(c *Config) { c.ProtoType = "tcp6"; c.ProxyAddr = "[::]:19000" }, ""},
		{"unix", func(c *Config) { c.ProtoType = "unixpacket"; c.ProxyAddr = "/run/p.sock" }, ""},
		{"jodis etcd", func(c *Config) { c.JodisName = "etcd"; c.JodisAddr = "http://127.0.0.1:2379"; c.JodisAuth = "u:p" }, ""},
		{"jodis zk", func(c *Config) { c.JodisName = "zk"; c.JodisAddr = "127.0.0.1:2181" }, ""},
		{"zeros allowed", func(c *Config) {
			c.ProxyMaxClients, c.ProxyMaxOffheapBytes, c.ProxyHeapPlaceholder = 0, 0, 0
			c.BackendPingPeriod, c.BackendRecvTimeout, c.BackendSendTimeout, c.BackendKeepAlivePeriod = 0, 0, 0, 0
			c.SessionRecvTimeout, c.SessionSendTimeout, c.SessionKeepAlivePeriod = 0, 0, 0
			c.BackendMaxPipeline, c.SessionMaxPipeline = 0, 0
		}, ""},
		{"empty product_name", func(c *Config) { c.ProductName = "" }, "invalid product_name"},
		{"bad product_name", func(c *Config) { c.ProductName = "demo 1" }, "invalid product_name"},
		{"empty admin_addr", func(c *Config) { c.AdminAddr = "" }, "invalid admin_addr"},
		{"bad admin_addr", func(c *Config) { c.AdminAddr = "localhost" }, "invalid admin_addr"},
		{"empty proto_type", func(c *Config) { c.ProtoType = "" }, "invalid proto_type"},
		{"bad proto_type", func(c *Config) { c.ProtoType = "udp" }, "invalid proto_type"},
		{"empty proxy_addr", func(c *Config) { c.ProxyAddr = "" }, "invalid proxy_addr"},
		{"empty unix proxy_addr", func(c *Config) { c.ProtoType = "unix"; c.ProxyAddr = "" }, "invalid proxy_addr"},
		{"bad proxy_addr", func(c *Config) { c.ProxyAddr = "19000" }, "invalid proxy_addr"},
		{"jodis_addr without name", func(c *Config) { c.JodisAddr = "127.0.0.1:2181" }, "invalid jodis_name"},
		{"unknown jodis_name", func(c *Config) { c.JodisName = "consul"; c.JodisAddr = "x" }, "invalid jodis_name"},
		{"jodis_name without addr", func(c *Config) { c.JodisName = "zookeeper" }, "invalid jodis_addr"},
		{"bad jodis_auth", func(c *Config) { c.JodisAuth = "nocolon" }, "invalid jodis_auth"},
		{"zero jodis_timeout", func(c *Config) { c.JodisName = "zk"; c.JodisAddr = "a"; c.JodisTimeout = 0 }, "invalid jodis_timeout"},
		{"negative jodis_timeout", func(c *Config) { c.JodisTimeout = -1 }, "invalid jodis_timeout"},
		{"negative max clients", func(c *Config) { c.ProxyMaxClients = -1 }, "invalid proxy_max_clients"},
		{"negative offheap", func(c *Config) { c.ProxyMaxOffheapBytes = -1 }, "invalid proxy_max_offheap_size"},
		{"negative placeholder", func(c *Config) { c.ProxyHeapPlaceholder = -1 }, "invalid proxy_heap_placeholder"},
		{"negative ping", func(c *Config) { c.BackendPingPeriod = -1 }, "invalid backend_ping_period"},
		{"negative backend recv buf", func(c *Config) { c.BackendRecvBufsize = -1 }, "invalid backend_recv_bufsize"},
		{"huge backend recv buf", func(c *Config) { c.BackendRecvBufsize = 2 << 30 }, "invalid backend_recv_bufsize"},
		{"negative backend recv timeout", func(c *Config) { c.BackendRecvTimeout = -1 }, "invalid backend_recv_timeout"},
		{"negative backend send buf", func(c *Config) { c.BackendSendBufsize = -1 }, "invalid backend_send_bufsize"},
		{"negative backend send timeout", func(c *Config) { c.BackendSendTimeout = -1 }, "invalid backend_send_timeout"},
		{"negative backend pipeline", func(c *Config) { c.BackendMaxPipeline = -1 }, "invalid backend_max_pipeline"},
		{"negative primary parallel", func(c *Config) { c.BackendPrimaryParallel = -1 }, "invalid backend_primary_parallel"},
		{"negative replica parallel", func(c *Config) { c.BackendReplicaParallel = -1 }, "invalid backend_replica_parallel"},
		{"negative backend keepalive", func(c *Config) { c.BackendKeepAlivePeriod = -1 }, "invalid backend_keepalive_period"},
		{"zero databases", func(c *Config) { c.BackendNumberDatabases = 0 }, "invalid backend_number_databases"},
		{"negative session recv buf", func(c *Config) { c.SessionRecvBufsize = -1 }, "invalid session_recv_bufsize"},
		{"negative session recv timeout", func(c *Config) { c.SessionRecvTimeout = -1 }, "invalid session_recv_timeout"},
		{"huge session send buf", func(c *Config) { c.SessionSendBufsize = 1 << 40 }, "invalid session_send_bufsize"},
		{"negative session send timeout", func(c *Config) { c.SessionSendTimeout = -1 }, "invalid session_send_timeout"},
		{"negative session pipeline", func(c *Config) { c.SessionMaxPipeline = -1 }, "invalid session_max_pipeline"},
		{"negative session keepalive", func(c *Config) { c.SessionKeepAlivePeriod = -1 }, "invalid session_keepalive_period"},
		{"negative metrics period", func(c *Config) { c.MetricsReportPeriod = -1 }, "invalid metrics_report_period"},
		{"negative influxdb period", func(c *Config) { c.MetricsReportInfluxdbPeriod = -1 }, "invalid metrics_report_influxdb_period"},
		{"negative statsd period", func(c *Config) { c.MetricsReportStatsdPeriod = -1 }, "invalid metrics_report_statsd_period"},
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
	c.ProductName = ""
	c.JodisAuth = "secretpw"
	c.SessionSendTimeout = timesize.Duration(-5 * time.Second)
	err := c.Validate()
	lines := strings.Split(err.Error(), "\n")
	want := []string{"invalid product_name", "invalid jodis_auth", "invalid session_send_timeout: -5s"}
	if len(lines) != len(want) {
		t.Fatalf("error %q: want %d lines", err, len(want))
	}
	for i := range want {
		if !strings.HasPrefix(lines[i], want[i]) {
			t.Errorf("line %d = %q, want prefix %q", i, lines[i], want[i])
		}
	}
	if strings.Contains(err.Error(), "secretpw") {
		t.Fatal("error leaks jodis_auth")
	}
}

func TestConfigJSON(t *testing.T) {
	c := NewDefaultConfig()
	c.ProductAuth = "p-secret"
	c.SessionAuth = "s-secret"
	c.MetricsReportInfluxdbPassword = "i-secret"
	c.HostProxy = "10.0.0.1:19000"
	data, err := json.Marshal(c)
	if err != nil {
		t.Fatal(err)
	}
	for _, secret := range []string{"secret", "10.0.0.1", "product_auth", "session_auth", "influxdb_password"} {
		if bytes.Contains(data, []byte(secret)) {
			t.Errorf("JSON contains %q: %s", secret, data)
		}
	}
	var m map[string]any
	if err := json.Unmarshal(data, &m); err != nil {
		t.Fatal(err)
	}
	for key, want := range map[string]any{
		"proxy_max_offheap_size": "1gb", "backend_recv_bufsize": "128kb", "session_send_bufsize": "64kb",
		"session_recv_timeout": "30m", "jodis_timeout": "20s", "backend_keepalive_period": "75s",
		"proxy_max_clients": float64(1000), "backend_primary_only": false,
	} {
		if m[key] != want {
			t.Errorf("JSON %s = %v, want %v", key, m[key], want)
		}
	}
	// Every toml key except the secrets is present.
	typ := reflect.TypeFor[Config]()
	n := 0
	for i := range typ.NumField() {
		if tag := typ.Field(i).Tag.Get("json"); tag != "-" {
			n++
			if _, ok := m[tag]; !ok {
				t.Errorf("JSON lacks %s", tag)
			}
		}
	}
	if len(m) != n {
		t.Errorf("JSON has %d keys, want %d", len(m), n)
	}
	c.SessionRecvTimeout = 0
	data, _ = json.Marshal(c)
	if !bytes.Contains(data, []byte(`"session_recv_timeout":"0"`)) {
		t.Errorf("zero duration not \"0\": %s", data)
	}
}
