package admin

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/codisgo/codis/pkg/models"
	"github.com/codisgo/codis/pkg/testenv"
)

// coordinator is one backend under test: the flags that select it and a
// client to prepare and inspect the store.
type coordinator struct {
	flags  Options
	client models.Client
}

func runCoord(t *testing.T, c coordinator, opts Options) (string, error) {
	t.Helper()
	o := Options{}
	for k, v := range c.flags {
		o[k] = v
	}
	for k, v := range opts {
		o[k] = v
	}
	var out bytes.Buffer
	env := &Env{Out: &out, CoordinatorTimeout: 30 * time.Second}
	err := Run(context.Background(), env, o)
	return out.String(), err
}

func newTestCoordinator(t *testing.T, name, addr string, flags Options) coordinator {
	t.Helper()
	client, err := models.NewClient(name, addr, "", 30*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { client.Close() })
	return coordinator{flags: flags, client: client}
}

func fsCoordinator(t *testing.T) coordinator {
	root := filepath.Join(t.TempDir(), "rootfs")
	return newTestCoordinator(t, "filesystem", root, Options{"--filesystem": root})
}

func testGroup(gid int, addrs ...string) *models.Group {
	g := models.NewGroup(gid)
	for _, a := range addrs {
		g.Servers = append(g.Servers, &models.GroupServer{Addr: a})
	}
	return g
}

func testProxy(id int, tok string) *models.Proxy {
	return &models.Proxy{ID: id, Token: tok, AdminAddr: "127.0.0.1:1108" + itoa(id), ProxyAddr: "127.0.0.1:1900" + itoa(id), ProtoType: "tcp4", ProductName: "demo"}
}

// fullConfig is a restorable config: all slots on groups 1 and 2, two
// proxies.
func fullConfig() *models.ConfigV3 {
	groups := map[int]*models.Group{1: testGroup(1, "127.0.0.1:7001", "127.0.0.1:7002"), 2: testGroup(2, "127.0.0.1:7003")}
	groups[2].Servers[0].DataCenter = "dc2"
	var slots []*models.SlotMapping
	for sid := 0; sid < models.MaxSlotNum; sid++ {
		slots = append(slots, &models.SlotMapping{ID: sid, GroupID: 1 + sid%2})
	}
	proxies := map[string]*models.Proxy{
		"0123456789abcdef0123456789abcdef": testProxy(2, "0123456789abcdef0123456789abcdef"),
		"fedcba9876543210fedcba9876543210": testProxy(1, "fedcba9876543210fedcba9876543210"),
	}
	c, err := models.NewConfigV3(slots, groups, proxies)
	if err != nil {
		panic(err)
	}
	return c
}

// coordinatorScenario runs every coordinator mode against c.
func coordinatorScenario(t *testing.T, c coordinator) {
	out, err := runCoord(t, c, Options{"--dashboard-list": true})
	if err != nil || out != "[]\n" {
		t.Fatalf("empty dashboard list: %q %v", out, err)
	}

	// Product "demo": lock, one group, two slots, one proxy.
	demo, err := models.NewStore(c.client, "demo")
	if err != nil {
		t.Fatal(err)
	}
	if err := demo.Acquire(&models.Topom{Token: "t", AdminAddr: "127.0.0.1:18080", ProductName: "demo"}); err != nil {
		t.Fatal(err)
	}
	g1 := testGroup(1, "127.0.0.1:6379")
	p1 := testProxy(1, "594432209cf111ae914f721e18ccf1af")
	s0, s1 := &models.SlotMapping{ID: 0, GroupID: 1}, &models.SlotMapping{ID: 1023, GroupID: 1}
	for _, err := range []error{demo.UpdateGroup(g1), demo.UpdateProxy(p1), demo.UpdateSlotMapping(s0), demo.UpdateSlotMapping(s1)} {
		if err != nil {
			t.Fatal(err)
		}
	}
	// Product "other": a group, no dashboard.
	other, err := models.NewStore(c.client, "other")
	if err != nil {
		t.Fatal(err)
	}
	if err := other.UpdateGroup(testGroup(2, "127.0.0.1:6380")); err != nil {
		t.Fatal(err)
	}

	// --dashboard-list: one entry per product in List order.
	names, err := models.ListProducts(c.client)
	if err != nil {
		t.Fatal(err)
	}
	dashboards := map[string]string{"demo": "127.0.0.1:18080", "other": ""}
	var want []models.DashboardEntry
	for _, n := range names {
		want = append(want, models.DashboardEntry{Name: n, Dashboard: dashboards[n]})
	}
	out, err = runCoord(t, c, Options{"--dashboard-list": true})
	if err != nil {
		t.Fatal(err)
	}
	if len(want) != 2 || out != enc2(want) {
		t.Fatalf("dashboard list:\n%s\nwant %v", out, want)
	}
	if !strings.Contains(out, "{\n        \"name\": \"demo\",\n        \"dashboard\": \"127.0.0.1:18080\"\n    }") {
		t.Fatalf("dashboard list format:\n%s", out)
	}

	// --config-dump: all 1024 slots, groups and proxies.
	out, err = runCoord(t, c, Options{"--config-dump": true, "--product": "demo"})
	if err != nil {
		t.Fatal(err)
	}
	wantDump, err := models.NewConfigV3([]*models.SlotMapping{s0, s1}, map[int]*models.Group{1: g1}, map[string]*models.Proxy{p1.Token: p1})
	if err != nil {
		t.Fatal(err)
	}
	if out != enc2(wantDump) {
		t.Fatalf("config dump differs:\n%.600s", out)
	}
	var dump models.ConfigV3
	if err := json.Unmarshal([]byte(out), &dump); err != nil || len(dump.Slots) != models.MaxSlotNum || dump.Slots[5].GroupID != 0 || dump.Slots[1023].GroupID != 1 {
		t.Fatalf("config dump content: %v", err)
	}
	_, err = runCoord(t, c, Options{"--config-dump": true, "--product": "nope"})
	if !errors.Is(err, models.ErrProductNotFound) || cause(err) != "cann't find product = nope [v3]" {
		t.Fatalf("missing product: %v", err)
	}

	// --remove-lock, twice (a missing lock is fine).
	for i := 0; i < 2; i++ {
		if out, err := runCoord(t, c, Options{"--remove-lock": true, "--product": "demo"}); err != nil || out != "" {
			t.Fatalf("remove lock: %q %v", out, err)
		}
	}
	if b, err := c.client.Read(models.LockPath("demo"), false); err != nil || b != nil {
		t.Fatalf("lock still there: %q %v", b, err)
	}

	// --config-restore: preview writes nothing; confirm writes; a second
	// confirm finds the product not empty.
	full := fullConfig()
	file := writeFile(t, "dump.json", string(models.Encode(full)))
	out, err = runCoord(t, c, Options{"--config-restore": file, "--product": "fresh"})
	if err != nil || out != enc2(full) {
		t.Fatalf("restore preview: %v\n%.300s", err, out)
	}
	if got, _ := c.client.List(models.ProductDir("fresh"), false); len(got) != 0 {
		t.Fatalf("preview wrote %q", got)
	}
	if out, err := runCoord(t, c, Options{"--config-restore": file, "--product": "fresh", "--confirm": true}); err != nil || out != "" {
		t.Fatalf("restore: %q %v", out, err)
	}
	out, err = runCoord(t, c, Options{"--config-dump": true, "--product": "fresh"})
	if err != nil || out != enc2(full) {
		t.Fatalf("dump after restore differs: %v\n%.300s", err, out)
	}
	_, err = runCoord(t, c, Options{"--config-restore": file, "--product": "fresh", "--confirm": true})
	if !errors.Is(err, models.ErrProductNotEmpty) || cause(err) != "product fresh is not empty" {
		t.Fatalf("restore twice: %v", err)
	}
	_, err = runCoord(t, c, Options{"--config-restore": file, "--product": "demo", "--confirm": true})
	if !errors.Is(err, models.ErrProductNotEmpty) {
		t.Fatalf("restore onto demo: %v", err)
	}
}

func TestCoordinatorFilesystem(t *testing.T) {
	c := fsCoordinator(t)
	coordinatorScenario(t, c)

	// Codis 2.x dump of a product that does not exist.
	_, err := runCoord(t, c, Options{"--config-dump": true, "--product": "demo", "-1": true})
	if !errors.Is(err, models.ErrProductNotFound) || cause(err) != "cann't find product = demo [v1]" {
		t.Fatalf("v1 dump: %v", err)
	}
}

func TestCoordinatorZooKeeper(t *testing.T) {
	zk := testenv.StartZooKeeper(t)
	c := newTestCoordinator(t, "zookeeper", zk.Addr, Options{"--zookeeper": zk.Addr})
	coordinatorScenario(t, c)
	v1DumpAndConvert(t, c)
}

func TestCoordinatorEtcd(t *testing.T) {
	etcd := testenv.StartEtcd(t)
	c := newTestCoordinator(t, "etcd", "http://"+etcd.Addr, Options{"--etcd": "http://" + etcd.Addr})
	coordinatorScenario(t, c)
}

// v1DumpAndConvert writes a Codis 2.x tree, dumps it with -1 and converts
// the dump.
func v1DumpAndConvert(t *testing.T, c coordinator) {
	base := models.CodisV1Dir("old")
	nodes := map[string]string{
		base + "/slots/slot_0":                   `{"product_name": "old", "id": 0, "group_id": 1, "state": {"status": "online", "migrate_status": {"from": -1, "to": -1}, "last_op_ts": "0"}}`,
		base + "/slots/slot_1":                   `{"product_name": "old", "id": 1, "group_id": 2, "state": {"status": "offline"}}`,
		base + "/slots/slot_2":                   `{"product_name": "old", "id": 2, "group_id": 2, "state": {"status": "online"}}`,
		base + "/servers/group_1/127.0.0.1:6379": `{"type": "master", "group_id": 1, "addr": "127.0.0.1:6379"}`,
		base + "/servers/group_2/127.0.0.1:6380": `{"type": "slave", "group_id": 2, "addr": "127.0.0.1:6380"}`,
		base + "/servers/group_2/127.0.0.1:6381": `{"type": "master", "group_id": 2, "addr": "127.0.0.1:6381"}`,
	}
	for p, data := range nodes {
		if err := c.client.Create(p, []byte(data)); err != nil {
			t.Fatal(err)
		}
	}
	out, err := runCoord(t, c, Options{"--config-dump": true, "--product": "old", "-1": true})
	if err != nil {
		t.Fatal(err)
	}
	var tree map[string]any
	if err := json.Unmarshal([]byte(out), &tree); err != nil {
		t.Fatalf("v1 dump is not an object: %v\n%s", err, out)
	}
	slot2 := tree["slots"].(map[string]any)["slot_2"].(map[string]any)
	if slot2["group_id"] != float64(2) {
		t.Fatalf("v1 dump: %s", out)
	}
	file := writeFile(t, "v1.json", out)
	out, err = runCoord(t, coordinator{}, Options{"--config-convert": file})
	if err != nil {
		t.Fatal(err)
	}
	if out != enc2(wantConverted()) {
		t.Fatalf("convert:\n%s", out)
	}
}

func wantConverted() *models.ConfigV3 {
	return &models.ConfigV3{
		Slots: []*models.SlotMapping{{ID: 0, GroupID: 1}, {ID: 2, GroupID: 2}},
		Group: []*models.Group{testGroup(1, "127.0.0.1:6379"), testGroup(2, "127.0.0.1:6381", "127.0.0.1:6380")},
	}
}

func TestConfigConvert(t *testing.T) {
	v1 := `{
	  "slots": {
	    "slot_2": {"product_name": "old", "id": 2, "group_id": 2, "state": {"status": "online", "migrate_status": {"from": -1, "to": -1}, "last_op_ts": "0"}},
	    "slot_1": {"product_name": "old", "id": 1, "group_id": 2, "state": {"status": "offline"}},
	    "slot_0": {"product_name": "old", "id": 0, "group_id": 1, "state": {"status": "online"}}
	  },
	  "servers": {
	    "group_2": {
	      "127.0.0.1:6380": {"type": "slave", "group_id": 2, "addr": "127.0.0.1:6380"},
	      "127.0.0.1:6381": {"type": "master", "group_id": 2, "addr": "127.0.0.1:6381"}
	    },
	    "group_1": {"127.0.0.1:6379": {"type": "master", "group_id": 1, "addr": "127.0.0.1:6379"}}
	  },
	  "proxy": {"proxy_1": {"addr": "127.0.0.1:19000"}}
	}`
	out, err := runCoord(t, coordinator{}, Options{"--config-convert": writeFile(t, "v1.json", v1)})
	if err != nil {
		t.Fatal(err)
	}
	want := `{
    "slots": [
        {
            "id": 0,
            "group_id": 1,
            "action": {}
        },
        {
            "id": 2,
            "group_id": 2,
            "action": {}
        }
    ],
    "group": [
        {
            "id": 1,
            "servers": [
                {
                    "server": "127.0.0.1:6379",
                    "datacenter": "",
                    "action": {},
                    "replica_group": false
                }
            ],
            "promoting": {},
            "out_of_sync": false
        },
        {
            "id": 2,
            "servers": [
                {
                    "server": "127.0.0.1:6381",
                    "datacenter": "",
                    "action": {},
                    "replica_group": false
                },
                {
                    "server": "127.0.0.1:6380",
                    "datacenter": "",
                    "action": {},
                    "replica_group": false
                }
            ],
            "promoting": {},
            "out_of_sync": false
        }
    ]
}
`
	if out != want {
		t.Fatalf("got:\n%s\nwant:\n%s", out, want)
	}

	for _, data := range []string{
		`{"slots": {"slot_0": {"id": 0, "group_id": 1, "state": {"status": "migrate"}}}}`,
		`{"slots": {"a": {"id": 1, "group_id": 1, "state": {"status": "online"}}, "b": {"id": 1, "group_id": 1, "state": {"status": "online"}}}}`,
		`{"servers": {"group_0": {"x": {"addr": "127.0.0.1:1", "group_id": 0, "type": "master"}}}}`,
		`not json`,
	} {
		out, err := runCoord(t, coordinator{}, Options{"--config-convert": writeFile(t, "bad.json", data)})
		if err == nil || out != "" || !strings.HasPrefix(err.Error(), "convert config ") {
			t.Errorf("%s: %q %v", data, out, err)
		}
	}
	_, err = runCoord(t, coordinator{}, Options{"--config-convert": filepath.Join(t.TempDir(), "none.json")})
	if !errors.Is(err, ErrInvalidConfigFile) {
		t.Errorf("missing file: %v", err)
	}
}

func TestCoordinatorErrors(t *testing.T) {
	c := fsCoordinator(t)
	bad := fullConfig()
	bad.Group = bad.Group[:1] // slots of group 2 now point at nothing
	file := writeFile(t, "bad.json", string(models.Encode(bad)))
	_, err := runCoord(t, c, Options{"--config-restore": file, "--product": "p"})
	if !errors.Is(err, models.ErrInvalidConfig) || !strings.Contains(err.Error(), "slot-0001 with group-0002 doesn't exist or empty") {
		t.Fatalf("invalid restore: %v", err)
	}
	promoting := fullConfig()
	promoting.Group[0].Promoting = models.Promoting{Index: 1, State: models.ActionPreparing}
	_, err = runCoord(t, c, Options{"--config-restore": writeFile(t, "p.json", string(models.Encode(promoting))), "--product": "p", "--confirm": true})
	if err == nil || !strings.Contains(err.Error(), "gorup-0001 is promoting") {
		t.Fatalf("promoting restore: %v", err)
	}
	for _, data := range []string{"", "null", "[1,2]"} {
		_, err := runCoord(t, c, Options{"--config-restore": writeFile(t, "x.json", data), "--product": "p"})
		if !errors.Is(err, ErrInvalidConfigFile) {
			t.Errorf("restore %q: %v", data, err)
		}
	}
	for _, o := range []Options{
		{"--config-dump": true, "--product": "bad name"},
		{"--config-dump": true},
		{"--remove-lock": true, "--product": ""},
		{},
	} {
		_, err := runCoord(t, c, o)
		if !errors.Is(err, ErrUsage) {
			t.Errorf("%v: got %v, want a usage error", o, err)
		}
	}
	// Coordinator selection.
	_, err = runCoord(t, coordinator{}, Options{"--dashboard-list": true})
	if !errors.Is(err, ErrUsage) {
		t.Errorf("no coordinator: %v", err)
	}
	_, err = runCoord(t, coordinator{}, Options{"--dashboard-list": true, "--filesystem": t.TempDir(), "--etcd": "127.0.0.1:1"})
	if !errors.Is(err, ErrUsage) {
		t.Errorf("two coordinators: %v", err)
	}
	_, err = runCoord(t, coordinator{}, Options{"--dashboard-list": true, "--zookeeper": "127.0.0.1:1", "--zookeeper-auth": "nocolon"})
	if !errors.Is(err, models.ErrInvalidAuth) {
		t.Errorf("bad zk auth: %v", err)
	}
	// A product directory with a corrupt lock makes --dashboard-list fail.
	if err := c.client.Update(models.LockPath("broken"), []byte("{not json")); err != nil {
		t.Fatal(err)
	}
	_, err = runCoord(t, c, Options{"--dashboard-list": true})
	var de *models.DecodeError
	if !errors.As(err, &de) {
		t.Errorf("corrupt lock: %v", err)
	}
}

// cause is the message codis-admin prints after "[error]: ".
func cause(err error) string {
	var se *StepError
	if errors.As(err, &se) {
		return se.Err.Error()
	}
	if err == nil {
		return "<nil>"
	}
	return err.Error()
}
