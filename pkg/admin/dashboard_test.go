package admin

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/codisgo/codis/pkg/models"
)

const testStats = `{
  "closed": false,
  "slots": [
    {"id": 0, "group_id": 1, "action": {}},
    {"id": 1, "group_id": 1, "action": {"index": 2, "state": "pending", "target_id": 12}}
  ],
  "group": {
    "models": [
      {"id": 1, "servers": [
        {"server": "127.0.0.1:31001", "datacenter": "", "action": {}, "replica_group": false},
        {"server": "127.0.0.1:31002", "datacenter": "dc1", "action": {}, "replica_group": true}
      ], "promoting": {}, "out_of_sync": false},
      {"id": 12, "servers": [
        {"server": "127.0.0.1:31003", "datacenter": "", "action": {}, "replica_group": false},
        {"server": "127.0.0.1:31004", "datacenter": "", "action": {}, "replica_group": false},
        {"server": "127.0.0.1:31005", "datacenter": "", "action": {}, "replica_group": false},
        {"server": "127.0.0.1:31006", "datacenter": "", "action": {}, "replica_group": false},
        {"server": "127.0.0.1:4", "datacenter": "", "action": {}, "replica_group": false}
      ], "promoting": {}, "out_of_sync": true}
    ],
    "stats": {
      "127.0.0.1:31001": {"stats": {"role": "master"}, "unixtime": 1},
      "127.0.0.1:31002": {"stats": {"master_addr": "127.0.0.1:31001", "master_link_status": "up"}, "unixtime": 1},
      "127.0.0.1:31003": {"error": {"Cause": "dial tcp: connection refused", "Stack": null}, "unixtime": 1},
      "127.0.0.1:31004": {"stats": {"master_addr": "127.0.0.1:31003", "master_link_status": "down"}, "unixtime": 1},
      "127.0.0.1:31005": {"timeout": true, "unixtime": 1},
      "127.0.0.1:4": {"stats": {"master_addr": "127.0.0.1:31003", "master_link_status": "up"}, "unixtime": 1}
    }
  },
  "proxy": {
    "models": [
      {"id": 1, "token": "aaaa", "start_time": "t", "admin_addr": "127.0.0.1:31081", "proto_type": "tcp4", "proxy_addr": "127.0.0.1:31019", "product_name": "demo", "pid": 1, "pwd": "/", "sys": "Linux", "hostname": "h", "datacenter": "", "extra": 1},
      {"id": 12, "token": "bbbb", "admin_addr": "127.0.0.1:1", "proxy_addr": "127.0.0.1:19000"},
      {"id": 3, "token": "cccc", "admin_addr": "127.0.0.1:31083", "proxy_addr": "127.0.0.1:31021"},
      {"id": 4, "token": "dddd", "admin_addr": "127.0.0.1:31084", "proxy_addr": "127.0.0.1:31022"},
      {"id": 5, "token": "eeee", "admin_addr": "127.0.0.1:31085", "proxy_addr": "127.0.0.1:31023"},
      {"id": 6, "token": "ffff", "admin_addr": "127.0.0.1:31086", "proxy_addr": "127.0.0.1:9"}
    ],
    "stats": {
      "aaaa": {"stats": {"online": true, "closed": false}, "unixtime": 1},
      "bbbb": {"stats": {"online": true}, "unixtime": 1},
      "cccc": {"error": {"Cause": "proxy is closed", "Stack": null}, "unixtime": 1},
      "dddd": {"timeout": true, "unixtime": 1},
      "ffff": {"unixtime": 1}
    }
  },
  "slot_action": {"interval": 0, "disabled": false, "progress": {"status": ""}, "executor": 0},
  "sentinels": {"model": {"out_of_sync": false}, "stats": {}, "masters": {}}
}`

const wantGroupStatus = "" +
	"[ ] group-01 [0] 127.0.0.1:31001      ==> NO:ONE\n" +
	"[ ] group-01 [1] 127.0.0.1:31002      ==> 127.0.0.1:31001:up\n" +
	"[E] group-12 [0] 127.0.0.1:31003\n" +
	"[X] group-12 [1] 127.0.0.1:31004      ==> 127.0.0.1:31003:down\n" +
	"[T] group-12 [2] 127.0.0.1:31005\n" +
	"[?] group-12 [3] 127.0.0.1:31006\n" +
	"[ ] group-12 [4] 127.0.0.1:4          ==> 127.0.0.1:31003:up\n"

const wantProxyStatus = "" +
	"[ ] proxy-01 [T] aaaa [A] 127.0.0.1:31081 [P] 127.0.0.1:31019\n" +
	"[ ] proxy-12 [T] bbbb [A] 127.0.0.1:1     [P] 127.0.0.1:19000\n" +
	"[E] proxy-03 [T] cccc [A] 127.0.0.1:31083 [P] 127.0.0.1:31021\n" +
	"[T] proxy-04 [T] dddd [A] 127.0.0.1:31084 [P] 127.0.0.1:31022\n" +
	"[?] proxy-05 [T] eeee [A] 127.0.0.1:31085 [P] 127.0.0.1:31023\n" +
	"[T] proxy-06 [T] ffff [A] 127.0.0.1:31086 [P] 127.0.0.1:9    \n"

func testEnv(out *bytes.Buffer) *Env {
	return &Env{Out: out, RPC: NewRPC(10 * time.Second), WaitInterval: 5 * time.Millisecond}
}

// runDashboard runs the dashboard mode with opts against f.
func runDashboard(t *testing.T, f *fakeDashboard, opts Options) (string, error) {
	t.Helper()
	o := Options{"--dashboard": f.addr()}
	for k, v := range opts {
		o[k] = v
	}
	var out bytes.Buffer
	env := testEnv(&out)
	defer env.RPC.Close()
	err := Run(context.Background(), env, o)
	return out.String(), err
}

// expand replaces X in "METHOD /path/X/..." with the xauth.
func expand(xauth string, specs []string) []string {
	r := make([]string, len(specs))
	for i, s := range specs {
		r[i] = strings.ReplaceAll(s, "/X", "/"+xauth)
	}
	return r
}

func callStrings(calls []call) []string {
	r := make([]string, len(calls))
	for i, c := range calls {
		r[i] = c.Method + " " + c.Path
	}
	return r
}

func equalStrings(a, b []string) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}

const (
	getModel = "GET /api/topom/model"
	getXPing = "GET /api/topom/xping/X"
	getStats = "GET /api/topom/stats/X"
)

func TestDashboardCommands(t *testing.T) {
	f := newFakeDashboard(t, "demo")
	f.setStats(testStats)
	tests := []struct {
		name  string
		opts  Options
		calls []string // after model + xping
		out   string   // exact output, when set
	}{
		{"shutdown", Options{"--shutdown": true}, []string{"PUT /api/topom/shutdown/X"}, ""},
		{"reload", Options{"--reload": true}, []string{"PUT /api/topom/reload/X"}, ""},
		{"loglevel", Options{"--log-level": "warning"}, []string{"PUT /api/topom/loglevel/X/WARN"}, ""},
		{"loglevel-none", Options{"--log-level": "none"}, []string{"PUT /api/topom/loglevel/X/NONE"}, ""},
		{"create-proxy", Options{"--create-proxy": true, "--addr": "127.0.0.1:11080"}, []string{"PUT /api/topom/proxy/create/X/127.0.0.1:11080"}, ""},
		{"online-proxy", Options{"--online-proxy": true, "--addr": "127.0.0.1:11080"}, []string{"PUT /api/topom/proxy/online/X/127.0.0.1:11080"}, ""},
		{"remove-proxy-token", Options{"--remove-proxy": true, "--token": "aaaa"}, []string{"PUT /api/topom/proxy/remove/X/aaaa/0"}, ""},
		{"remove-proxy-pid-force", Options{"--remove-proxy": true, "--pid": "12", "--force": true}, []string{getStats, "PUT /api/topom/proxy/remove/X/bbbb/1"}, ""},
		{"remove-proxy-addr", Options{"--remove-proxy": true, "--addr": "127.0.0.1:31083"}, []string{getStats, "PUT /api/topom/proxy/remove/X/cccc/0"}, ""},
		{"remove-proxy-none-force", Options{"--remove-proxy": true, "--addr": "127.0.0.1:2", "--force": true}, []string{getStats}, ""},
		{"reinit-proxy-token", Options{"--reinit-proxy": true, "--token": "zzzz"}, []string{"PUT /api/topom/proxy/reinit/X/zzzz"}, ""},
		{"reinit-proxy-pid", Options{"--reinit-proxy": true, "--pid": "4"}, []string{getStats, "PUT /api/topom/proxy/reinit/X/dddd"}, ""},
		{"proxy-status", Options{"--proxy-status": true}, []string{getStats}, wantProxyStatus},
		{"create-group", Options{"--create-group": true, "--gid": "3"}, []string{"PUT /api/topom/group/create/X/3"}, ""},
		{"remove-group", Options{"--remove-group": true, "--gid": "3"}, []string{"PUT /api/topom/group/remove/X/3"}, ""},
		{"resync-group", Options{"--resync-group": true, "--gid": "3"}, []string{"PUT /api/topom/group/resync/X/3"}, ""},
		{"resync-group-all", Options{"--resync-group": true, "--all": true}, []string{getStats, "PUT /api/topom/group/resync/X/1", "PUT /api/topom/group/resync/X/12"}, ""},
		{"group-add", Options{"--group-add": true, "--gid": "1", "--addr": "127.0.0.1:6379"}, []string{"PUT /api/topom/group/add/X/1/127.0.0.1:6379"}, ""},
		{"group-add-dc", Options{"--group-add": true, "--gid": "1", "--addr": "127.0.0.1:6379", "--datacenter": "dc1"}, []string{"PUT /api/topom/group/add/X/1/127.0.0.1:6379/dc1"}, ""},
		{"group-del", Options{"--group-del": true, "--gid": "1", "--addr": "127.0.0.1:6379"}, []string{"PUT /api/topom/group/del/X/1/127.0.0.1:6379"}, ""},
		{"replica-enable", Options{"--replica-groups": true, "--gid": "1", "--addr": "127.0.0.1:6379", "--enable": true}, []string{"PUT /api/topom/group/replica-groups/X/1/127.0.0.1:6379/1"}, ""},
		{"replica-disable", Options{"--replica-groups": true, "--gid": "1", "--addr": "127.0.0.1:6379", "--disable": true}, []string{"PUT /api/topom/group/replica-groups/X/1/127.0.0.1:6379/0"}, ""},
		{"promote", Options{"--promote-server": true, "--gid": "1", "--addr": "127.0.0.1:31002"}, []string{"PUT /api/topom/group/promote/X/1/127.0.0.1:31002", getStats}, wantGroupStatus},
		{"group-status", Options{"--group-status": true}, []string{getStats}, wantGroupStatus},
		{"sync-create", Options{"--sync-action": true, "--create": true, "--addr": "127.0.0.1:31002"}, []string{"PUT /api/topom/group/action/create/X/127.0.0.1:31002"}, ""},
		{"sync-remove", Options{"--sync-action": true, "--remove": true, "--addr": "127.0.0.1:31002"}, []string{"PUT /api/topom/group/action/remove/X/127.0.0.1:31002"}, ""},
		{"slot-create", Options{"--slot-action": true, "--create": true, "--sid": "5", "--gid": "2"}, []string{"PUT /api/topom/slots/action/create/X/5/2"}, ""},
		{"slot-remove", Options{"--slot-action": true, "--remove": true, "--sid": "5"}, []string{"PUT /api/topom/slots/action/remove/X/5"}, ""},
		{"slot-create-some", Options{"--slot-action": true, "--create-some": true, "--gid-from": "1", "--gid-to": "2", "--num-slots": "100"}, []string{"PUT /api/topom/slots/action/create-some/X/1/2/100"}, ""},
		{"slot-create-range", Options{"--slot-action": true, "--create-range": true, "--beg": "0", "--end": "511", "--gid": "2"}, []string{"PUT /api/topom/slots/action/create-range/X/0/511/2"}, ""},
		{"slot-interval", Options{"--slot-action": true, "--interval": "100"}, []string{"PUT /api/topom/slots/action/interval/X/100"}, ""},
		{"slot-disabled", Options{"--slot-action": true, "--disabled": "5"}, []string{"PUT /api/topom/slots/action/disabled/X/1"}, ""},
		{"slot-enabled", Options{"--slot-action": true, "--disabled": "0"}, []string{"PUT /api/topom/slots/action/disabled/X/0"}, ""},
		{"sentinel-add", Options{"--sentinel-add": true, "--addr": "127.0.0.1:26379"}, []string{"PUT /api/topom/sentinels/add/X/127.0.0.1:26379"}, ""},
		{"sentinel-del", Options{"--sentinel-del": true, "--addr": "127.0.0.1:26379"}, []string{"PUT /api/topom/sentinels/del/X/127.0.0.1:26379/0"}, ""},
		{"sentinel-del-force", Options{"--sentinel-del": true, "--addr": "127.0.0.1:26379", "--force": true}, []string{"PUT /api/topom/sentinels/del/X/127.0.0.1:26379/1"}, ""},
		{"sentinel-resync", Options{"--sentinel-resync": true}, []string{"PUT /api/topom/sentinels/resync-all/X"}, ""},
		{"rebalance-nothing", Options{"--rebalance": true, "--confirm": true}, []string{"PUT /api/topom/slots/rebalance/X/1"}, "nothing changes\n"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			f.takeCalls()
			out, err := runDashboard(t, f, tc.opts)
			if err != nil {
				t.Fatalf("error: %v", err)
			}
			want := expand(f.xauth, append([]string{getModel, getXPing}, tc.calls...))
			calls := f.takeCalls()
			if got := callStrings(calls); !equalStrings(got, want) {
				t.Fatalf("requests:\n got %q\nwant %q", got, want)
			}
			for _, c := range calls {
				if c.Body != "" || c.ContentType != "" {
					t.Errorf("%s %s: unexpected body %q / content type %q", c.Method, c.Path, c.Body, c.ContentType)
				}
			}
			if tc.out != "" || !strings.HasPrefix(tc.name, "reinit") {
				if out != tc.out {
					t.Fatalf("output:\n got %q\nwant %q", out, tc.out)
				}
			}
		})
	}
}

func TestDashboardProxyStatusSpecExample(t *testing.T) {
	f := newFakeDashboard(t, "spec-ctl")
	f.setStats(`{"proxy": {"models": [{"id": 1, "token": "594432209cf111ae914f721e18ccf1af", "admin_addr": "127.0.0.1:31081", "proxy_addr": "127.0.0.1:31019"}],
	  "stats": {"594432209cf111ae914f721e18ccf1af": {"stats": {"online": true}, "unixtime": 5}}}}`)
	out, err := runDashboard(t, f, Options{"--proxy-status": true})
	if err != nil {
		t.Fatal(err)
	}
	want := "[ ] proxy-1 [T] 594432209cf111ae914f721e18ccf1af [A] 127.0.0.1:31081 [P] 127.0.0.1:31019\n"
	if out != want {
		t.Fatalf("got %q\nwant %q", out, want)
	}
	// The spec's group example: a slave that reports no master is [X].
	f.setStats(`{"group": {"models": [{"id": 1, "servers": [{"server": "127.0.0.1:31002"}, {"server": "127.0.0.1:31001"}]}],
	  "stats": {"127.0.0.1:31002": {"stats": {}, "unixtime": 1}, "127.0.0.1:31001": {"stats": {"role": "master"}, "unixtime": 1}}}}`)
	out, err = runDashboard(t, f, Options{"--group-status": true})
	if err != nil {
		t.Fatal(err)
	}
	want = "[ ] group-1 [0] 127.0.0.1:31002      ==> NO:ONE\n[X] group-1 [1] 127.0.0.1:31001      ==> NO:ONE\n"
	if out != want {
		t.Fatalf("got %q\nwant %q", out, want)
	}
}

func TestDashboardReinitAll(t *testing.T) {
	f := newFakeDashboard(t, "demo")
	f.setStats(testStats)
	out, err := runDashboard(t, f, Options{"--reinit-proxy": true, "--all": true})
	if err != nil {
		t.Fatal(err)
	}
	want := []string{getModel, getXPing, getStats}
	var wantOut strings.Builder
	var s DashboardStats
	if err := json.Unmarshal([]byte(testStats), &s); err != nil {
		t.Fatal(err)
	}
	for _, p := range s.Proxy.Models {
		want = append(want, "PUT /api/topom/proxy/reinit/X/"+p.Token)
		wantOut.WriteString("reinit proxy: " + string(models.Encode(p)) + "\n")
	}
	if got := callStrings(f.takeCalls()); !equalStrings(got, expand(f.xauth, want)) {
		t.Fatalf("requests: got %q", got)
	}
	if out != wantOut.String() {
		t.Fatalf("output:\n%s\nwant:\n%s", out, wantOut.String())
	}
	// Unknown fields of the proxy model are dropped; omitempty applies.
	if strings.Contains(out, "extra") || !strings.Contains(out, "reinit proxy: {\n    \"id\": 1,\n    \"token\": \"aaaa\",") {
		t.Fatalf("proxy models not re-encoded:\n%s", out)
	}
}

func TestDashboardSlotsAssign(t *testing.T) {
	f := newFakeDashboard(t, "demo")
	wantList := "[\n    {\n        \"id\": 3,\n        \"group_id\": 2,\n        \"action\": {}\n    },\n" +
		"    {\n        \"id\": 4,\n        \"group_id\": 2,\n        \"action\": {}\n    }\n]"

	// Preview: prints the list, sends nothing but model and xping.
	out, err := runDashboard(t, f, Options{"--slots-assign": true, "--beg": "3", "--end": "4", "--gid": "2"})
	if err != nil {
		t.Fatal(err)
	}
	if out != wantList+"\n" {
		t.Fatalf("preview output %q", out)
	}
	if got := callStrings(f.takeCalls()); !equalStrings(got, expand(f.xauth, []string{getModel, getXPing})) {
		t.Fatalf("preview sent %q", got)
	}

	out, err = runDashboard(t, f, Options{"--slots-assign": true, "--beg": "3", "--end": "4", "--gid": "2", "--confirm": true})
	if err != nil || out != "" {
		t.Fatalf("confirm: %q %v", out, err)
	}
	calls := f.takeCalls()
	if len(calls) != 3 || calls[2].Method != "PUT" || calls[2].Path != "/api/topom/slots/assign/"+f.xauth {
		t.Fatalf("confirm sent %q", callStrings(calls))
	}
	if calls[2].Body != wantList || calls[2].ContentType != "application/json" {
		t.Fatalf("body %q content type %q", calls[2].Body, calls[2].ContentType)
	}

	_, err = runDashboard(t, f, Options{"--slots-assign": true, "--beg": "1023", "--end": "1023", "--offline": true, "--confirm": true})
	if err != nil {
		t.Fatal(err)
	}
	calls = f.takeCalls()
	wantBody := "[\n    {\n        \"id\": 1023,\n        \"group_id\": 0,\n        \"action\": {}\n    }\n]"
	if len(calls) != 3 || calls[2].Path != "/api/topom/slots/assign/"+f.xauth+"/offline" || calls[2].Body != wantBody {
		t.Fatalf("offline sent %q body %q", callStrings(calls), calls[len(calls)-1].Body)
	}
}

func TestDashboardRebalancePlan(t *testing.T) {
	f := newFakeDashboard(t, "demo")
	f.set(&f.rebalance, `{"7": 2, "0": 2, "1": 2, "2": 2, "5": 3, "6": 2, "1023": 4}`)
	out, err := runDashboard(t, f, Options{"--rebalance": true})
	if err != nil {
		t.Fatal(err)
	}
	want := "[0000,0002] => 2\n[0005,0005] => 3\n[0006,0007] => 2\n[1023,1023] => 4\ndone\n"
	if out != want {
		t.Fatalf("got %q\nwant %q", out, want)
	}
	if got := callStrings(f.takeCalls()); !equalStrings(got, expand(f.xauth, []string{getModel, getXPing, "PUT /api/topom/slots/rebalance/X/0"})) {
		t.Fatalf("requests %q", got)
	}
	f.set(&f.rebalance, `{"x": 1}`)
	if _, err := runDashboard(t, f, Options{"--rebalance": true}); err == nil || !strings.Contains(err.Error(), "invalid rebalance plan") {
		t.Fatalf("bad plan: %v", err)
	}
}

func TestDashboardViews(t *testing.T) {
	f := newFakeDashboard(t, "demo")
	f.set(&f.overview, `{"version": "3.2.2-go", "compile": "go1.26", "unknown": true,
	  "config": {"coordinator_name": "filesystem", "admin_addr": "127.0.0.1:18080", "migration_timeout": "30s"},
	  "model": {"token": "t", "start_time": "s", "admin_addr": "127.0.0.1:18080", "product_name": "demo", "pid": 7, "pwd": "/", "sys": "Linux", "bogus": 1},
	  "stats": `+testStats+`}`)
	var s DashboardStats
	if err := json.Unmarshal([]byte(testStats), &s); err != nil {
		t.Fatal(err)
	}
	enc := func(v any) string { return string(models.Encode(v)) + "\n" }
	model := &models.Topom{Token: "t", StartTime: "s", AdminAddr: "127.0.0.1:18080", ProductName: "demo", Pid: 7, Pwd: "/", Sys: "Linux"}
	tests := []struct {
		view string
		want string
	}{
		{"config", "{\n    \"coordinator_name\": \"filesystem\",\n    \"admin_addr\": \"127.0.0.1:18080\",\n    \"migration_timeout\": \"30s\"\n}\n"},
		{"model", enc(model)},
		{"stats", enc(&s)},
		{"slots", enc(s.Slots)},
		{"group", enc(s.Group)},
		{"proxy", enc(s.Proxy)},
		{"--list-group", enc(s.Group.Models)},
		{"--list-proxy", enc(s.Proxy.Models)},
	}
	for _, tc := range tests {
		t.Run(tc.view, func(t *testing.T) {
			out, err := runDashboard(t, f, Options{tc.view: true})
			if err != nil {
				t.Fatal(err)
			}
			if out != tc.want {
				t.Fatalf("got:\n%s\nwant:\n%s", out, tc.want)
			}
			route := "GET /topom"
			if got := callStrings(f.takeCalls()); !equalStrings(got, expand(f.xauth, []string{getModel, getXPing, route})) {
				t.Fatalf("requests %q", got)
			}
		})
	}
	out, err := runDashboard(t, f, Options{})
	if err != nil {
		t.Fatal(err)
	}
	if strings.Contains(out, "unknown") || strings.Contains(out, "bogus") || !strings.HasPrefix(out, "{\n    \"version\": \"3.2.2-go\",\n    \"compile\": \"go1.26\",\n    \"config\": {") {
		t.Fatalf("overview:\n%s", out)
	}
	var back DashboardOverview
	if err := json.Unmarshal([]byte(out), &back); err != nil || back.Stats == nil || len(back.Stats.Proxy.Models) != 6 {
		t.Fatalf("overview does not decode: %v", err)
	}
	if got := f.takeCalls(); len(got) != 3 || got[2].Path != "/topom" {
		t.Fatalf("requests %q", callStrings(got))
	}
	if f.gzippedReplies() == 0 {
		t.Fatal("client did not accept gzip")
	}
}

func TestDashboardSlotsStatus(t *testing.T) {
	f := newFakeDashboard(t, "demo")
	f.set(&f.slots, `[{"id": 0, "backend_addr": "127.0.0.1:31003", "backend_addr_group_id": 2, "migrate_from": "127.0.0.1:31001", "migrate_from_group_id": 1, "forward_method": 1, "x": 1}, {"id": 1}]`)
	out, err := runDashboard(t, f, Options{"--slots-status": true})
	if err != nil {
		t.Fatal(err)
	}
	want := enc2([]*models.Slot{{ID: 0, BackendAddr: "127.0.0.1:31003", BackendAddrGroupID: 2, MigrateFrom: "127.0.0.1:31001", MigrateFromGroupID: 1, ForwardMethod: 1}, {ID: 1}})
	if out != want {
		t.Fatalf("got:\n%s\nwant:\n%s", out, want)
	}
	if got := callStrings(f.takeCalls()); !equalStrings(got, expand(f.xauth, []string{getModel, getXPing, "GET /api/topom/slots/X"})) {
		t.Fatalf("requests %q", got)
	}
}

func enc2(v any) string { return string(models.Encode(v)) + "\n" }

func TestDashboardErrors(t *testing.T) {
	f := newFakeDashboard(t, "demo")
	f.setStats(testStats)

	// A remote error (status 800) is reported with its Cause.
	f.setFail("/api/topom/group/create/"+f.xauth+"/3", "group-0003 already exists")
	_, err := runDashboard(t, f, Options{"--create-group": true, "--gid": "3"})
	var re *RemoteError
	var se *StepError
	if !errors.As(err, &re) || re.Cause != "group-0003 already exists" || !errors.As(err, &se) {
		t.Fatalf("remote error: %#v", err)
	}
	if se.Err.Error() != "[Remote Error] group-0003 already exists" || !strings.Contains(se.Step, "create-group") {
		t.Fatalf("step error: %q / %q", se.Step, se.Err)
	}

	// A failing xping stops before the command.
	f.takeCalls()
	f.setFail("/api/topom/xping/"+f.xauth, "invalid xauth, please check product name & auth")
	_, err = runDashboard(t, f, Options{"--shutdown": true})
	if !errors.As(err, &re) || re.Cause != "invalid xauth, please check product name & auth" {
		t.Fatalf("xping error: %v", err)
	}
	if got := callStrings(f.takeCalls()); len(got) != 2 {
		t.Fatalf("requests after failed xping: %q", got)
	}
	f.clearFail("/api/topom/xping/" + f.xauth)

	// Other statuses.
	f.setStatus("/api/topom/reload/"+f.xauth, 500)
	_, err = runDashboard(t, f, Options{"--reload": true})
	var st *StatusError
	if !errors.As(err, &st) || st.Code != 500 || !strings.Contains(err.Error(), "[500] Internal Server Error - http://") {
		t.Fatalf("status error: %v", err)
	}

	// Proxy lookups that find nothing.
	_, err = runDashboard(t, f, Options{"--remove-proxy": true, "--pid": "99"})
	if !errors.Is(err, ErrProxyNotFound) || err.Error() != "can't find specific proxy with id = 99" {
		t.Fatalf("pid lookup: %v", err)
	}
	_, err = runDashboard(t, f, Options{"--reinit-proxy": true, "--addr": "127.0.0.1:2"})
	if err == nil || err.Error() != "can't find specific proxy with addr = 127.0.0.1:2" {
		t.Fatalf("addr lookup: %v", err)
	}

	// Local argument errors are reported before anything is sent.
	f.takeCalls()
	bad := []Options{
		{"--log-level": "LOUD"},
		{"--create-group": true, "--gid": "abc"},
		{"--create-group": true},
		{"--slots-assign": true, "--beg": "5", "--end": "4", "--gid": "1"},
		{"--slots-assign": true, "--beg": "0", "--end": "1024", "--gid": "1"},
		{"--slots-assign": true, "--beg": "0", "--end": "1", "--gid": "0"},
		{"--slot-action": true, "--create-range": true, "--beg": "-1", "--end": "4", "--gid": "1"},
		{"--slot-action": true, "--interval": "fast"},
		{"--slot-action": true},
		{"--remove-proxy": true, "--pid": "x"},
		{"--remove-proxy": true},
		{"--replica-groups": true, "--gid": "1", "--addr": "a"},
		{"--sync-action": true, "--addr": "a"},
	}
	for _, o := range bad {
		_, err := runDashboard(t, f, o)
		if !errors.Is(err, ErrUsage) {
			t.Errorf("%v: got %v, want a usage error", o, err)
		}
	}
	if got := f.takeCalls(); len(got) != 0 {
		t.Fatalf("bad arguments sent requests: %q", callStrings(got))
	}

	// An unreachable dashboard.
	var out bytes.Buffer
	env := testEnv(&out)
	err = Run(context.Background(), env, Options{"--dashboard": "127.0.0.1:1", "--reload": true})
	if err == nil || !errors.As(err, &se) || !strings.Contains(se.Step, "call rpc model to dashboard 127.0.0.1:1 failed") {
		t.Fatalf("unreachable: %v", err)
	}
}

// slotsDoc is a stats document whose slots 0..n-1 have actions.
func slotsDoc(n int, status string) string {
	var b strings.Builder
	b.WriteString(`{"slots": [`)
	for i := 0; i < 4; i++ {
		if i > 0 {
			b.WriteString(",")
		}
		if i < n {
			b.WriteString(`{"id": ` + itoa(i) + `, "group_id": 1, "action": {"index": 1, "state": "pending", "target_id": 2}}`)
		} else {
			b.WriteString(`{"id": ` + itoa(i) + `, "group_id": 2, "action": {}}`)
		}
	}
	b.WriteString(`], "slot_action": {"progress": {"status": "` + status + `"}}}`)
	return b.String()
}

func TestDashboardWait(t *testing.T) {
	f := newFakeDashboard(t, "demo")
	f.setStats(slotsDoc(3, "[OK] Slot[0000]@DB[0]=10"), slotsDoc(1, ""), slotsDoc(0, "[OK] Slot[0002]@DB[0]=0"))
	out, err := runDashboard(t, f, Options{"--slot-action": true, "--create-range": true, "--beg": "0", "--end": "2", "--gid": "2", "--wait": true})
	if err != nil {
		t.Fatal(err)
	}
	want := "slots remaining: 3 ([OK] Slot[0000]@DB[0]=10)\nslots remaining: 1\nslots remaining: 0\n"
	if out != want {
		t.Fatalf("got %q\nwant %q", out, want)
	}
	wantCalls := []string{getModel, getXPing, "PUT /api/topom/slots/action/create-range/X/0/2/2", getStats, getStats, getStats}
	if got := callStrings(f.takeCalls()); !equalStrings(got, expand(f.xauth, wantCalls)) {
		t.Fatalf("requests %q", got)
	}

	// Rebalance with --confirm --wait waits after printing the plan;
	// without --confirm nothing is applied and it does not wait.
	f.set(&f.rebalance, `{"0": 2}`)
	f.setStats(slotsDoc(1, ""), slotsDoc(0, ""))
	out, err = runDashboard(t, f, Options{"--rebalance": true, "--confirm": true, "--wait": true})
	if err != nil || out != "[0000,0000] => 2\ndone\nslots remaining: 1\nslots remaining: 0\n" {
		t.Fatalf("rebalance wait: %q %v", out, err)
	}
	f.takeCalls()
	out, err = runDashboard(t, f, Options{"--rebalance": true, "--wait": true})
	if err != nil || out != "[0000,0000] => 2\ndone\n" {
		t.Fatalf("rebalance preview: %q %v", out, err)
	}
	if got := f.takeCalls(); len(got) != 3 {
		t.Fatalf("preview polled: %q", callStrings(got))
	}

	// create-some with --wait; slot actions disabled are reported once.
	f.setStats(`{"slots": [{"id": 0, "group_id": 1, "action": {"state": "pending", "target_id": 2}}], "slot_action": {"disabled": true}}`,
		`{"slots": [{"id": 0, "group_id": 1, "action": {"state": "pending", "target_id": 2}}], "slot_action": {"disabled": true}}`,
		`{"slots": [{"id": 0, "group_id": 2, "action": {}}]}`)
	out, err = runDashboard(t, f, Options{"--slot-action": true, "--create-some": true, "--gid-from": "1", "--gid-to": "2", "--num-slots": "1", "--wait": true})
	if err != nil || strings.Count(out, "disabled") != 1 || !strings.HasSuffix(out, "slots remaining: 0\n") {
		t.Fatalf("create-some wait: %q %v", out, err)
	}
}

func TestDashboardWaitCancel(t *testing.T) {
	f := newFakeDashboard(t, "demo")
	f.setStats(slotsDoc(2, ""))
	ctx, cancel := context.WithCancel(context.Background())
	var out bytes.Buffer
	env := testEnv(&out)
	env.WaitInterval = time.Hour // only ctx can end the wait
	done := make(chan error, 1)
	go func() {
		done <- Run(ctx, env, Options{"--dashboard": f.addr(), "--slot-action": true, "--create-range": true, "--beg": "0", "--end": "1", "--gid": "2", "--wait": true})
	}()
	deadline := time.Now().Add(10 * time.Second)
	for !strings.Contains(f.callsSnapshot(), "stats") {
		if time.Now().After(deadline) {
			t.Fatal("no stats poll")
		}
		time.Sleep(5 * time.Millisecond)
	}
	cancel()
	select {
	case err := <-done:
		if !errors.Is(err, context.Canceled) {
			t.Fatalf("got %v", err)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("wait did not stop on cancel")
	}
}

func (f *fakeServer) callsSnapshot() string {
	f.mu.Lock()
	defer f.mu.Unlock()
	return strings.Join(callStrings(f.calls), "\n")
}
