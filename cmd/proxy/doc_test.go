package main

import (
	"os"
	"os/exec"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	"github.com/BurntSushi/toml"

	"github.com/codisgo/codis/pkg/proxy"
	"github.com/codisgo/codis/pkg/testenv"
)

// docConfigPath is the configuration reference kept true by this file.
var docConfigPath = filepath.Join("..", "..", "doc", "configuration.md")

func docDefaults(t *testing.T, heading string) map[string]string {
	return testenv.DocDefaults(t, docConfigPath, heading)
}

// defaultConfigValues returns key → value text of the "key = value" lines
// of a --default-config output, checking that it is valid TOML.
func defaultConfigValues(t *testing.T, out string) (keys []string, values map[string]string) {
	t.Helper()
	var decoded map[string]any
	if _, err := toml.Decode(out, &decoded); err != nil {
		t.Fatalf("--default-config is not valid TOML: %v", err)
	}
	values = map[string]string{}
	for _, line := range strings.Split(out, "\n") {
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		k, v, ok := strings.Cut(line, " = ")
		if !ok {
			t.Fatalf("--default-config line %q is not \"key = value\"", line)
		}
		keys = append(keys, k)
		values[k] = v
	}
	if len(keys) != len(decoded) {
		t.Fatalf("--default-config: %d key lines but %d TOML keys", len(keys), len(decoded))
	}
	return keys, values
}

// tomlTags returns the toml keys of the fields of a config struct.
func tomlTags(v any) map[string]bool {
	tags := map[string]bool{}
	rt := reflect.TypeOf(v)
	for i := 0; i < rt.NumField(); i++ {
		if tag := rt.Field(i).Tag.Get("toml"); tag != "" && tag != "-" {
			tags[tag] = true
		}
	}
	return tags
}

// TestDocConfiguration checks the proxy.toml table of doc/configuration.md
// against `codis-proxy --default-config`: the same keys, the same
// defaults; every key the proxy reads appears in both; and
// config/proxy.toml is that output.
func TestDocConfiguration(t *testing.T) {
	out, err := exec.Command(buildProxy(t), "--default-config").Output()
	if err != nil {
		t.Fatalf("--default-config: %v", err)
	}
	if string(out) != proxy.DefaultConfig {
		t.Fatal("--default-config does not print proxy.DefaultConfig")
	}
	keys, values := defaultConfigValues(t, string(out))
	doc := docDefaults(t, "## proxy.toml")
	for _, k := range keys {
		d, ok := doc[k]
		switch {
		case !ok:
			t.Errorf("%s (default %s) is printed by --default-config but missing in %s", k, values[k], docConfigPath)
		case d != values[k]:
			t.Errorf("%s: %s says the default is %s, --default-config prints %s", k, docConfigPath, d, values[k])
		}
	}
	for k := range doc {
		if _, ok := values[k]; !ok {
			t.Errorf("%s is documented in %s but not printed by --default-config", k, docConfigPath)
		}
	}
	for tag := range tomlTags(proxy.Config{}) {
		if _, ok := values[tag]; !ok {
			t.Errorf("the proxy reads key %s, which --default-config does not print", tag)
		}
	}
	sample, err := os.ReadFile(filepath.Join("..", "..", "config", "proxy.toml"))
	if err != nil {
		t.Fatal(err)
	}
	if string(sample) != string(out) {
		t.Errorf("config/proxy.toml differs from --default-config, which %s says it is", docConfigPath)
	}
}
