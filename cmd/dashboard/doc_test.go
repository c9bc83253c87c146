package main

import (
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	"github.com/BurntSushi/toml"

	"github.com/codisgo/codis/pkg/testenv"
	"github.com/codisgo/codis/pkg/topom"
)

// docConfigPath is the configuration reference kept true by this file.
var docConfigPath = filepath.Join("..", "..", "doc", "configuration.md")

func docDefaults(t *testing.T, heading string) map[string]string {
	return testenv.DocDefaults(t, docConfigPath, heading)
}

// TestDocConfiguration checks the dashboard.toml table of
// doc/configuration.md against `codis-dashboard --default-config`: the
// same keys, the same defaults; every key the dashboard reads appears in
// both; and config/dashboard.toml is that output.
func TestDocConfiguration(t *testing.T) {
	out, _, code := runDashboard(t, "--default-config")
	if code != 0 {
		t.Fatalf("--default-config: exit %d", code)
	}
	var decoded map[string]any
	if _, err := toml.Decode(out, &decoded); err != nil {
		t.Fatalf("--default-config is not valid TOML: %v", err)
	}
	var keys []string
	values := map[string]string{}
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

	doc := docDefaults(t, "## dashboard.toml")
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
	rt := reflect.TypeOf(topom.Config{})
	for i := 0; i < rt.NumField(); i++ {
		if tag := rt.Field(i).Tag.Get("toml"); tag != "" && tag != "-" {
			if _, ok := values[tag]; !ok {
				t.Errorf("the dashboard reads key %s, which --default-config does not print", tag)
			}
		}
	}
	sample, err := os.ReadFile(filepath.Join("..", "..", "config", "dashboard.toml"))
	if err != nil {
		t.Fatal(err)
	}
	if string(sample) != out {
		t.Errorf("config/dashboard.toml differs from --default-config, which %s says it is", docConfigPath)
	}
}
