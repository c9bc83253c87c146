package admin

import (
	"bytes"
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/codisgo/codis/pkg/models"
)

func runProxy(t *testing.T, f *fakeProxy, opts Options) (string, error) {
	t.Helper()
	o := Options{"--proxy": f.addr()}
	for k, v := range opts {
		o[k] = v
	}
	var out bytes.Buffer
	env := testEnv(&out)
	defer env.RPC.Close()
	err := Run(context.Background(), env, o)
	return out.String(), err
}

const (
	getProxyModel = "GET /api/proxy/model"
	getProxyXPing = "GET /api/proxy/xping/X"
)

func writeFile(t *testing.T, name, data string) string {
	t.Helper()
	p := filepath.Join(t.TempDir(), name)
	if err := os.WriteFile(p, []byte(data), 0o644); err != nil {
		t.Fatal(err)
	}
	return p
}

func TestProxyCommands(t *testing.T) {
	f := newFakeProxy(t, "demo", "secret")
	tests := []struct {
		name  string
		opts  Options
		calls []string
	}{
		{"start", Options{"--start": true}, []string{"PUT /api/proxy/start/X"}},
		{"shutdown", Options{"--shutdown": true}, []string{"PUT /api/proxy/shutdown/X"}},
		{"loglevel", Options{"--log-level": "debug"}, []string{"PUT /api/proxy/loglevel/X/DEBUG"}},
		{"reset-stats", Options{"--reset-stats": true}, []string{"PUT /api/proxy/stats/reset/X"}},
		{"forcegc", Options{"--forcegc": true}, []string{"PUT /api/proxy/forcegc/X"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			tc.opts["--auth"] = "secret"
			out, err := runProxy(t, f, tc.opts)
			if err != nil || out != "" {
				t.Fatalf("%q %v", out, err)
			}
			want := expand(f.xauth, append([]string{getProxyModel, getProxyXPing}, tc.calls...))
			if got := callStrings(f.takeCalls()); !equalStrings(got, want) {
				t.Fatalf("requests:\n got %q\nwant %q", got, want)
			}
		})
	}

	// The wrong --auth gives a different xauth, which the proxy rejects.
	_, err := runProxy(t, f, Options{"--start": true})
	var re *RemoteError
	if !errors.As(err, &re) || !strings.Contains(re.Cause, "invalid xauth") {
		t.Fatalf("wrong auth: %v", err)
	}
	if got := callStrings(f.takeCalls()); len(got) != 2 {
		t.Fatalf("requests after failed xping: %q", got)
	}
}

func TestProxyFillSlots(t *testing.T) {
	f := newFakeProxy(t, "demo", "")
	file := writeFile(t, "slots.json", `[
	  {"id": 0, "backend_addr": "127.0.0.1:6379", "backend_addr_group_id": 1, "unknown": 1},
	  {"id": 1023, "locked": false, "replica_groups": [["127.0.0.1:6380"]]}
	]`)
	for _, locked := range []bool{false, true} {
		_, err := runProxy(t, f, Options{"--fillslots": file, "--locked": locked})
		if err != nil {
			t.Fatal(err)
		}
		calls := f.takeCalls()
		want := expand(f.xauth, []string{getProxyModel, getProxyXPing, "PUT /api/proxy/fillslots/X"})
		if got := callStrings(calls); !equalStrings(got, want) {
			t.Fatalf("requests %q", got)
		}
		slots := []*models.Slot{
			{ID: 0, Locked: locked, BackendAddr: "127.0.0.1:6379", BackendAddrGroupID: 1},
			{ID: 1023, Locked: locked, ReplicaGroups: [][]string{{"127.0.0.1:6380"}}},
		}
		if body := calls[2].Body; body != string(models.Encode(slots)) || calls[2].ContentType != "application/json" {
			t.Fatalf("locked=%v body:\n%s", locked, body)
		}
	}

	bad := map[string]string{
		"invalid slot id = 1024": `[{"id": 0}, {"id": 1024}]`,
		"invalid slot id = -1":   `[{"id": -1}]`,
		"slot[0] is null":        `[null]`,
		"decode":                 `{"id": 1}`,
		"is empty":               ``,
	}
	for msg, data := range bad {
		_, err := runProxy(t, f, Options{"--fillslots": writeFile(t, "bad.json", data)})
		if !errors.Is(err, ErrInvalidSlotsFile) || !strings.Contains(err.Error(), msg) {
			t.Errorf("%q: got %v, want %q", data, err, msg)
		}
	}
	_, err := runProxy(t, f, Options{"--fillslots": filepath.Join(t.TempDir(), "missing.json")})
	if !errors.Is(err, ErrInvalidSlotsFile) || !errors.Is(err, os.ErrNotExist) {
		t.Errorf("missing file: %v", err)
	}
	_, err = runProxy(t, f, Options{"--log-level": "verbose"})
	if !errors.Is(err, ErrUsage) {
		t.Errorf("bad level: %v", err)
	}
	if got := f.takeCalls(); len(got) != 0 {
		t.Fatalf("bad input sent requests: %q", callStrings(got))
	}
}

func TestProxyViews(t *testing.T) {
	f := newFakeProxy(t, "demo", "")
	f.setOverview(`{"version": "3.2.2-go", "compile": "go1.26", "extra": 1,
	  "config": {"proto_type": "tcp4", "proxy_addr": "127.0.0.1:19000", "backend_ping_period": "5s"},
	  "model": {"token": "594432209cf111ae914f721e18ccf1af", "admin_addr": "127.0.0.1:11080", "product_name": "demo", "junk": true},
	  "stats": {"online": true, "closed": false, "ops": {"total": 3, "fails": 0, "redis": {"errors": 0}, "qps": 0}},
	  "slots": [{"id": 0, "backend_addr": "127.0.0.1:6379"}, {"id": 1}]}`)
	model := &models.Proxy{Token: "594432209cf111ae914f721e18ccf1af", AdminAddr: "127.0.0.1:11080", ProductName: "demo"}
	tests := map[string]string{
		"config": "{\n    \"proto_type\": \"tcp4\",\n    \"proxy_addr\": \"127.0.0.1:19000\",\n    \"backend_ping_period\": \"5s\"\n}\n",
		"model":  enc2(model),
		"stats":  "{\n    \"online\": true,\n    \"closed\": false,\n    \"ops\": {\n        \"total\": 3,\n        \"fails\": 0,\n        \"redis\": {\n            \"errors\": 0\n        },\n        \"qps\": 0\n    }\n}\n",
		"slots":  enc2([]*models.Slot{{ID: 0, BackendAddr: "127.0.0.1:6379"}, {ID: 1}}),
	}
	for view, want := range tests {
		out, err := runProxy(t, f, Options{view: true})
		if err != nil {
			t.Fatal(err)
		}
		if out != want {
			t.Errorf("%s: got\n%s\nwant\n%s", view, out, want)
		}
		// The overview needs no auth: one GET /proxy, no model/xping.
		if got := callStrings(f.takeCalls()); !equalStrings(got, []string{"GET /proxy"}) {
			t.Fatalf("%s: requests %q", view, got)
		}
	}
	out, err := runProxy(t, f, Options{})
	if err != nil {
		t.Fatal(err)
	}
	if strings.Contains(out, "extra") || strings.Contains(out, "junk") || !strings.HasPrefix(out, "{\n    \"version\": \"3.2.2-go\",") || !strings.HasSuffix(out, "}\n") {
		t.Fatalf("overview:\n%s", out)
	}

	f.setStatus("/proxy", 404)
	_, err = runProxy(t, f, Options{})
	var st *StatusError
	if !errors.As(err, &st) || st.Code != 404 || !errors.Is(err, ErrHTTPStatus) {
		t.Fatalf("404: %v", err)
	}
}
