package topom

import (
	"bytes"
	"compress/gzip"
	"encoding/json"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"reflect"
	"sort"
	"strings"
	"testing"

	"github.com/codisgo/codis/pkg/models"
)

const (
	get = http.MethodGet
	put = http.MethodPut
)

func TestModelRoutes(t *testing.T) {
	e := newEnv(t)
	for _, path := range []string{"/api/topom/model", "/topom/model"} {
		status, data := e.call(get, path, nil)
		if status != 200 {
			t.Fatalf("%s: %d", path, status)
		}
		var m map[string]any
		if err := json.Unmarshal(data, &m); err != nil {
			t.Fatal(err)
		}
		var keys []string
		for k := range m {
			keys = append(keys, k)
		}
		sort.Strings(keys)
		want := []string{"admin_addr", "pid", "product_name", "pwd", "start_time", "sys", "token"}
		if !reflect.DeepEqual(keys, want) {
			t.Fatalf("model keys %v, want %v", keys, want)
		}
		if m["product_name"] != "test" || m["admin_addr"] != e.top.AdminAddr() || len(m["token"].(string)) != 32 {
			t.Fatalf("bad model %s", data)
		}
		if !bytes.HasPrefix(data, []byte("{\n    \"token\": ")) {
			t.Fatalf("model not 4-space indented in field order: %s", data)
		}
	}
	// The lock node holds the same model.
	lock := &models.Topom{}
	if err := json.Unmarshal(e.readNode(models.LockPath("test")), lock); err != nil {
		t.Fatal(err)
	}
	if *lock != *e.top.Model() {
		t.Fatalf("lock node %+v != model %+v", lock, e.top.Model())
	}
}

func TestXAuthAndRouting(t *testing.T) {
	e := newEnv(t)
	e.ok(get, "/api/topom/xping/"+e.xauth)
	e.fail(get, "/api/topom/xping/0123456789abcdef0123456789abcdef", "invalid xauth, please check product name & auth")
	e.fail(put, "/api/topom/group/create/bad/1", "invalid xauth")
	e.fail(put, "/api/topom/group/create/bad/notanumber", "invalid xauth") // xauth first
	if _, err := e.store.LoadGroup(1); err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct{ method, path string }{
		{get, "/nothing"},
		{get, "/api/topom/group/create/" + e.xauth + "/1"}, // wrong method
		{put, "/api/topom/model"},
		{get, "/api/topom/xping/"},
	} {
		rsp, err := http.DefaultClient.Do(mustReq(t, c.method, e.base+c.path))
		if err != nil {
			t.Fatal(err)
		}
		body, _ := io.ReadAll(rsp.Body)
		rsp.Body.Close()
		if rsp.StatusCode != 404 || strings.TrimSpace(string(body)) != "404 page not found" ||
			!strings.HasPrefix(rsp.Header.Get("Content-Type"), "text/plain") {
			t.Fatalf("%s %s: %d %q %s", c.method, c.path, rsp.StatusCode, body, rsp.Header.Get("Content-Type"))
		}
	}
	// GET / redirects to /topom.
	client := &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	rsp, err := client.Get(e.base + "/")
	if err != nil {
		t.Fatal(err)
	}
	rsp.Body.Close()
	if rsp.StatusCode != 302 || rsp.Header.Get("Location") != "/topom" {
		t.Fatalf("GET /: %d %s", rsp.StatusCode, rsp.Header.Get("Location"))
	}
	// The forward parameter of codis-fe is ignored.
	e.ok(get, "/api/topom/xping/"+e.xauth+"?forward=test")
}

func mustReq(t *testing.T, method, url string) *http.Request {
	req, err := http.NewRequest(method, url, nil)
	if err != nil {
		t.Fatal(err)
	}
	return req
}

func TestErrorStatusLine(t *testing.T) {
	e := newEnv(t)
	rsp, err := http.Get(e.base + "/api/topom/xping/bad")
	if err != nil {
		t.Fatal(err)
	}
	defer rsp.Body.Close()
	body, _ := io.ReadAll(rsp.Body)
	if rsp.StatusCode != 800 || rsp.Header.Get("Content-Type") != "application/json; charset=utf-8" {
		t.Fatalf("got %d %s", rsp.StatusCode, rsp.Header.Get("Content-Type"))
	}
	want := "{\n    \"Cause\": \"invalid xauth, please check product name \\u0026 auth\",\n    \"Stack\": null\n}"
	if string(body) != want {
		t.Fatalf("body %q, want %q", body, want)
	}
}

func TestGzip(t *testing.T) {
	e := newEnv(t)
	req := mustReq(t, get, e.base+"/api/topom/model")
	req.Header.Set("Accept-Encoding", "gzip")
	// Setting the header ourselves disables the transport's transparent
	// decompression.
	rsp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer rsp.Body.Close()
	if rsp.Header.Get("Content-Encoding") != "gzip" || rsp.Header.Get("Vary") != "Accept-Encoding" {
		t.Fatalf("headers %v", rsp.Header)
	}
	zr, err := gzip.NewReader(rsp.Body)
	if err != nil {
		t.Fatal(err)
	}
	data, err := io.ReadAll(zr)
	if err != nil {
		t.Fatal(err)
	}
	want, _ := models.Marshal(e.top.Model())
	if !bytes.Equal(data, want) {
		t.Fatalf("gunzipped %s, want %s", data, want)
	}
}

func TestGroupCreateRemove(t *testing.T) {
	e := newEnv(t)
	e.ok(put, e.api("group/create", 1))
	want := "{\n    \"id\": 1,\n    \"servers\": [],\n    \"promoting\": {},\n    \"out_of_sync\": false\n}"
	if got := string(e.readNode(models.GroupPath("test", 1))); got != want {
		t.Fatalf("group node %q, want %q", got, want)
	}
	e.fail(put, e.api("group/create", 1), "group-[1] already exists")
	e.fail(put, e.api("group/create", 0), "invalid group id = 0, out of range")
	e.fail(put, e.api("group/create", 10000), "invalid group id = 10000, out of range")
	e.fail(put, e.api("group/create", "x1"), "invalid gid")
	e.fail(put, e.api("group/remove", 2), "group-[2] doesn't exist")
	e.fail(put, e.api("group/resync", 2), "group-[2] doesn't exist")

	e.seedGroup(2, "127.0.0.1:1")
	e.fail(put, e.api("group/remove", 2), "group-[2] isn't empty")
	e.ok(put, e.api("group/remove", 1))
	if g := e.group(1); g != nil {
		t.Fatalf("group 1 still stored: %+v", g)
	}
	st := e.stats()
	if len(st.Group.Models) != 1 || st.Group.Models[0].ID != 2 {
		t.Fatalf("stats groups %+v", st.Group.Models)
	}
}

func TestGroupServerRules(t *testing.T) {
	e := newEnv(t)
	e.seedGroup(1, "127.0.0.1:1", "127.0.0.1:2")
	e.ok(put, e.api("slots/action/disabled", 1))
	e.ok(put, e.api("slots/assign"), []*models.SlotMapping{{ID: 0, GroupID: 1}})

	e.fail(put, e.api("group/del", 1, "127.0.0.1:9"), "group-[1] doesn't have server-[127.0.0.1:9]")
	e.fail(put, e.api("group/del", 1, "127.0.0.1:1"), "group-[1] can't remove master, still in use")
	e.fail(put, e.api("group/promote", 1, "127.0.0.1:1"), "group-[1] can't promote master")
	e.fail(put, e.api("group/promote", 1, "127.0.0.1:9"), "group-[1] doesn't have server-[127.0.0.1:9]")
	e.fail(put, e.api("group/promote", 3, "127.0.0.1:9"), "group-[3] doesn't exist")
	// A server already in a group, or a plain address nobody listens on.
	e.fail(put, e.api("group/add", 1, "127.0.0.1:2"), "server-[127.0.0.1:2] is not a codis-server")

	// Replica groups: in use and more than one server → out of sync.
	e.ok(put, e.api("group/replica-groups", 1, "127.0.0.1:2", 1))
	g := e.group(1)
	if !g.Servers[1].ReplicaGroup || !g.OutOfSync {
		t.Fatalf("replica group not set: %+v", g)
	}
	// Deleting a replica-group slave keeps out of sync; the slave goes.
	e.ok(put, e.api("group/del", 1, "127.0.0.1:2"))
	g = e.group(1)
	if len(g.Servers) != 1 || !g.OutOfSync {
		t.Fatalf("after del %+v", g)
	}
	e.ok(put, e.api("group/resync", 1))
	if g := e.group(1); g.OutOfSync {
		t.Fatal("resync did not clear out_of_sync")
	}
	e.fail(put, e.api("group/promote", 1, "127.0.0.1:1"), "group-[1] can't promote master")
	e.ok(put, e.api("group/replica-groups-all", 1))
	if g := e.group(1); !g.Servers[0].ReplicaGroup {
		t.Fatal("replica-groups-all did not set the flag")
	}
}

func TestSyncActionRules(t *testing.T) {
	e := newEnv(t)
	e.seedGroup(1, "127.0.0.1:1", "127.0.0.1:2")
	// Block the background processing: a promoting group stops it.
	g := e.group(1)
	g.Promoting = models.Promoting{Index: 1, State: models.ActionPreparing}
	e.store.UpdateGroup(g)
	e.ok(put, e.api("reload"))
	e.fail(put, e.api("group/action/create", "127.0.0.1:2"), "group-[1] is promoting")
	g.Promoting = models.Promoting{}
	e.store.UpdateGroup(g)
	e.seedGroup(2, "127.0.0.1:3")
	g2 := e.group(2)
	g2.Promoting = models.Promoting{Index: 0, State: models.ActionPreparing}
	e.store.UpdateGroup(g2)
	e.ok(put, e.api("reload"))

	e.fail(put, e.api("group/action/create", "127.0.0.1:9"), "server-[127.0.0.1:9] doesn't exist")
	e.fail(put, e.api("group/action/remove", "127.0.0.1:2"), "server-[127.0.0.1:2] action doesn't exist")
	e.fail(put, e.api("group/action/create", "127.0.0.1:3"), "group-[2] is promoting")
}

func TestSlotActionRules(t *testing.T) {
	e := newEnv(t)
	e.ok(put, e.api("slots/action/disabled", 1))
	e.ok(put, e.api("group/create", 2))
	e.seedGroup(1, "127.0.0.1:1")
	e.fail(put, e.api("slots/action/create", 0, 2), "group-[2] is empty")
	e.fail(put, e.api("slots/action/create", 0, 3), "group-[3] doesn't exist")
	e.fail(put, e.api("slots/action/create", 1024, 1), "slot-[1024] doesn't exist")
	e.fail(put, e.api("slots/action/create", -1, 1), "slot-[-1] doesn't exist")
	e.fail(put, e.api("slots/action/create", "x", 1), "invalid sid")
	e.ok(put, e.api("slots/action/create", 0, 1))
	if m := e.slot(0); m.Action != (models.SlotAction{Index: 1, State: "pending", TargetID: 1}) {
		t.Fatalf("slot 0 %+v", m)
	}
	want := "{\n    \"id\": 0,\n    \"group_id\": 0,\n    \"action\": {\n        \"index\": 1,\n        \"state\": \"pending\",\n        \"target_id\": 1\n    }\n}"
	if got := string(e.readNode(models.SlotPath("test", 0))); got != want {
		t.Fatalf("slot node %q", got)
	}
	e.fail(put, e.api("slots/action/create", 0, 1), "slot-[0] action already exists")

	e.fail(put, e.api("slots/action/create-range", 5, 3, 1), "invalid slot range [5,3]")
	e.fail(put, e.api("slots/action/create-range", 1020, 1024, 1), "invalid slot range [1020,1024]")
	e.fail(put, e.api("slots/action/create-range", 0, 3, 1), "slot-[0] action already exists")
	if m := e.slot(1); m.Action.State != "" {
		t.Fatal("failed create-range wrote slot 1")
	}
	e.ok(put, e.api("slots/action/create-range", 10, 12, 1))
	for sid, idx := range map[int]int{10: 2, 11: 3, 12: 4} {
		if m := e.slot(sid); m.Action.Index != idx || m.Action.TargetID != 1 {
			t.Fatalf("slot %d: %+v", sid, m)
		}
	}
	e.ok(put, e.api("slots/action/create-some", 0, 1, 3))
	for sid, idx := range map[int]int{1: 5, 2: 6, 3: 7} {
		if m := e.slot(sid); m.Action.Index != idx {
			t.Fatalf("slot %d: %+v", sid, m)
		}
	}
	e.ok(put, e.api("slots/action/create-some", 5, 1, 3)) // no slot of group 5: nothing, success
	e.fail(put, e.api("slots/action/create-some", 0, 2, 3), "group-[2] is empty")

	e.ok(put, e.api("slots/action/remove", 0))
	if m := e.slot(0); m.Action.State != "" || m.GroupID != 0 {
		t.Fatalf("slot 0 after remove %+v", m)
	}
	e.fail(put, e.api("slots/action/remove", 0), "slot-[0] action doesn't exist")
	m := e.slot(1)
	m.Action.State = models.ActionMigrating
	e.store.UpdateSlotMapping(m)
	e.ok(put, e.api("reload"))
	e.fail(put, e.api("slots/action/remove", 1), "slot-[1] action isn't pending")

	e.ok(put, e.api("slots/action/interval", 2000000))
	if st := e.stats(); st.SlotAction.Interval != 1000000 || !st.SlotAction.Disabled {
		t.Fatalf("slot action %+v", st.SlotAction)
	}
	e.ok(put, e.api("slots/action/interval", -5))
	e.fail(put, e.api("slots/action/interval", "1.5"), "invalid value")
	if st := e.stats(); st.SlotAction.Interval != 0 {
		t.Fatalf("interval %d", st.SlotAction.Interval)
	}
}

func TestSlotsAssign(t *testing.T) {
	e := newEnv(t)
	p := newFakeProxy(t, "test", "", "")
	e.ok(put, e.api("proxy/create", p.addr()))
	e.seedGroup(1, "127.0.0.1:1")
	e.ok(put, e.api("group/create", 2))

	e.fail(put, e.api("slots/assign"), "slot-[1024] doesn't exist", `[{"id":1024,"group_id":1}]`)
	e.fail(put, e.api("slots/assign"), "group-[3] doesn't exist", `[{"id":1,"group_id":3}]`)
	e.fail(put, e.api("slots/assign"), "group-[2] is empty", `[{"id":1,"group_id":2}]`)
	e.fail(put, e.api("slots/assign"), "group-[0] doesn't exist", `[{"id":1}]`)
	e.fail(put, e.api("slots/assign"), "invalid slot-[1] action = pending",
		`[{"id":1,"group_id":1,"action":{"state":"pending"}}]`)
	e.ok(put, e.api("slots/assign"), "garbage")
	if g := e.group(1); g.OutOfSync {
		t.Fatal("rejected assign changed the group")
	}
	e.ok(put, e.api("slots/assign"), `[{"id":1,"group_id":1},{"id":2,"group_id":1,"action":{"index":3}}]`)
	if m := e.slot(1); m.GroupID != 1 || !m.Action.IsEmpty() {
		t.Fatalf("slot 1 %+v", m)
	}
	if g := e.group(1); !g.OutOfSync {
		t.Fatal("assign did not mark the group out of sync")
	}
	if s := p.slot(2); s == nil || s.BackendAddr != "127.0.0.1:1" || s.BackendAddrGroupID != 1 {
		t.Fatalf("proxy slot 2 %+v", s)
	}

	e.fail(put, e.api("slots/assign")+"/offline", "group of slot-[1] should be 0", `[{"id":1,"group_id":1}]`)
	e.ok(put, e.api("slots/assign")+"/offline", `[{"id":1}]`)
	if m := e.slot(1); m.GroupID != 0 {
		t.Fatalf("slot 1 %+v", m)
	}
	if s := p.slot(1); s == nil || s.BackendAddr != "" || s.BackendAddrGroupID != 0 {
		t.Fatalf("proxy slot 1 %+v", s)
	}

	// A failing proxy makes the push fail (the store is already changed).
	p.set(func(p *fakeProxy) { p.failFill = true })
	cause := e.fail(put, e.api("slots/assign"), "proxy-[", `[{"id":5,"group_id":1}]`)
	if !strings.HasSuffix(cause, "] resync slots failed") {
		t.Fatalf("cause %q", cause)
	}
	if m := e.slot(5); m.GroupID != 1 {
		t.Fatalf("slot 5 %+v", m)
	}
}

func TestRebalanceAPI(t *testing.T) {
	e := newEnv(t)
	e.ok(put, e.api("slots/action/disabled", 1))
	e.fail(put, e.api("slots/rebalance", 0), "no valid group could be found")
	e.fail(put, e.api("slots/rebalance", "yes"), "invalid confirm")
	e.seedGroup(1, "127.0.0.1:1")
	e.seedGroup(2, "127.0.0.1:2")
	var plan map[string]int
	status, data := e.call(put, e.api("slots/rebalance", 0), nil)
	if status != 200 {
		t.Fatalf("%d %s", status, data)
	}
	json.Unmarshal(data, &plan)
	if len(plan) != 1024 || plan["0"] != 1 || plan["511"] != 1 || plan["512"] != 2 || plan["1023"] != 2 {
		t.Fatalf("plan of %d entries: 0→%d 511→%d 512→%d", len(plan), plan["0"], plan["511"], plan["512"])
	}
	if m := e.slot(0); m.Action.State != "" {
		t.Fatal("rebalance without confirm wrote actions")
	}
	status, data = e.call(put, e.api("slots/rebalance", 1), nil)
	if status != 200 {
		t.Fatalf("%d %s", status, data)
	}
	if m := e.slot(1023); m.Action != (models.SlotAction{Index: 1024, State: "pending", TargetID: 2}) {
		t.Fatalf("slot 1023 %+v", m)
	}
	// Everything is now assigned (pending): a new plan is empty, {}.
	status, data = e.call(put, e.api("slots/rebalance", 0), nil)
	if status != 200 || string(data) != "{}" {
		t.Fatalf("%d %s", status, data)
	}
}

func TestRebalancePlanVerifiedExample(t *testing.T) {
	// SPEC-control §5.13: groups 1 (502 slots) and 2 (522) → 1014..1023 → 1.
	c := &snapshot{groups: map[int]*models.Group{
		1: {ID: 1, Servers: []*models.GroupServer{{Addr: "a:1"}}},
		2: {ID: 2, Servers: []*models.GroupServer{{Addr: "b:1"}}},
	}}
	for sid := 0; sid < 1024; sid++ {
		gid := 1
		if sid >= 502 {
			gid = 2
		}
		c.slots = append(c.slots, &models.SlotMapping{ID: sid, GroupID: gid})
	}
	plan, err := rebalancePlan(c)
	if err != nil {
		t.Fatal(err)
	}
	want := map[int]int{}
	for sid := 1014; sid <= 1023; sid++ {
		want[sid] = 1
	}
	if !reflect.DeepEqual(plan, want) {
		t.Fatalf("plan %v", plan)
	}
	// Three groups, all slots in group 1, one slot already migrating.
	c.groups[3] = &models.Group{ID: 3, Servers: []*models.GroupServer{{Addr: "c:1"}}}
	for _, m := range c.slots {
		m.GroupID = 1
	}
	c.slots[7].Action = models.SlotAction{Index: 1, State: "migrating", TargetID: 2}
	plan, err = rebalancePlan(c)
	if err != nil {
		t.Fatal(err)
	}
	count := map[int]int{1: 1023}
	count[2]++ // the migrating slot
	for sid, gid := range plan {
		if c.slots[sid].GroupID != 1 || sid == 7 {
			t.Fatalf("slot %d planned", sid)
		}
		count[1]--
		count[gid]++
	}
	for gid, n := range count {
		if n < 341 || n > 342 {
			t.Fatalf("unbalanced: %v", count)
		}
		_ = gid
	}
}

func TestStatsAndOverviewShape(t *testing.T) {
	e := newEnv(t)
	_, data := e.call(get, "/api/topom/stats/"+e.xauth, nil)
	var st map[string]json.RawMessage
	if err := json.Unmarshal(data, &st); err != nil {
		t.Fatal(err)
	}
	keys := func(raw json.RawMessage) []string {
		var m map[string]json.RawMessage
		if err := json.Unmarshal(raw, &m); err != nil {
			t.Fatalf("%s: %v", raw, err)
		}
		var out []string
		for k := range m {
			out = append(out, k)
		}
		sort.Strings(out)
		return out
	}
	check := func(what string, got, want []string) {
		t.Helper()
		if !reflect.DeepEqual(got, want) {
			t.Fatalf("%s keys %v, want %v", what, got, want)
		}
	}
	check("stats", keys(data), []string{"closed", "group", "proxy", "sentinels", "slot_action", "slots"})
	check("group", keys(st["group"]), []string{"models", "stats"})
	check("proxy", keys(st["proxy"]), []string{"models", "stats"})
	check("slot_action", keys(st["slot_action"]), []string{"disabled", "executor", "interval", "progress"})
	check("sentinels", keys(st["sentinels"]), []string{"masters", "model", "stats"})
	if string(st["closed"]) != "false" {
		t.Fatalf("closed %s", st["closed"])
	}
	var slots []map[string]any
	json.Unmarshal(st["slots"], &slots)
	if len(slots) != 1024 || slots[1023]["id"].(float64) != 1023 {
		t.Fatalf("%d slots", len(slots))
	}
	var sentinels struct {
		Model   json.RawMessage `json:"model"`
		Masters json.RawMessage `json:"masters"`
	}
	json.Unmarshal(st["sentinels"], &sentinels)
	if compact(sentinels.Model) != `{"out_of_sync":false}` || compact(sentinels.Masters) != `{}` {
		t.Fatalf("sentinels %s", st["sentinels"])
	}
	var sa map[string]json.RawMessage
	json.Unmarshal(st["slot_action"], &sa)
	if compact(sa["progress"]) != `{"status":""}` {
		t.Fatalf("progress %s", sa["progress"])
	}

	_, data = e.call(get, "/topom", nil)
	check("overview", keys(data), []string{"compile", "config", "model", "stats", "version"})
	var ov struct {
		Version string
		Compile string
		Config  map[string]any
	}
	json.Unmarshal(data, &ov)
	if ov.Version != "test-version" || ov.Compile != "test-compile" {
		t.Fatalf("overview %+v", ov)
	}
	if _, ok := ov.Config["product_auth"]; ok {
		t.Fatal("config exposes product_auth")
	}
	for k, v := range map[string]any{"migration_async_maxbytes": "32mb", "migration_timeout": "30s",
		"sentinel_failover_timeout": "5m", "coordinator_name": "filesystem", "migration_parallel_slots": 100.0} {
		if ov.Config[k] != v {
			t.Fatalf("config[%s] = %v, want %v", k, ov.Config[k], v)
		}
	}
	if len(ov.Config) != 18 {
		t.Fatalf("config has %d keys: %v", len(ov.Config), ov.Config)
	}
	var st2 Stats
	e.getJSON("/topom/stats", &st2)
	if len(st2.Slots) != 1024 {
		t.Fatal("/topom/stats")
	}
}

func compact(raw json.RawMessage) string {
	var b bytes.Buffer
	json.Compact(&b, raw)
	return b.String()
}

func TestSlotsRoute(t *testing.T) {
	e := newEnv(t, func(c *Config) { c.MigrationMethod = "semi-async" })
	e.seedGroup(1, "127.0.0.1:1", "127.0.0.1:2")
	g := e.group(1)
	g.Servers[0].ReplicaGroup = true
	g.Servers[1].ReplicaGroup = true
	g.Servers[0].DataCenter = "dc1"
	e.store.UpdateGroup(g)
	e.store.UpdateSlotMapping(&models.SlotMapping{ID: 3, GroupID: 1})
	e.ok(put, e.api("reload"))
	var slots []json.RawMessage
	e.getJSON("/api/topom/slots/"+e.xauth, &slots)
	if len(slots) != 1024 {
		t.Fatalf("%d slots", len(slots))
	}
	if got := compact(slots[0]); got != `{"id":0,"forward_method":1}` {
		t.Fatalf("slot 0: %s", got)
	}
	want := `{"id":3,"backend_addr":"127.0.0.1:1","backend_addr_group_id":1,"forward_method":1,"replica_groups":[["127.0.0.1:1","127.0.0.1:2"]]}`
	if got := compact(slots[3]); got != want {
		t.Fatalf("slot 3: %s\nwant    %s", got, want)
	}
	var same []json.RawMessage
	e.getJSON("/topom/slots", &same)
	if compact(same[3]) != want {
		t.Fatal("/topom/slots differs")
	}
}

func TestReplicaGroupsPriority(t *testing.T) {
	// SPEC-control §5.10 verified example: proxy in dc1 on 127.0.0.1,
	// master in dc1, slave in "" → [[master], [slave]].
	c := &snapshot{groups: map[int]*models.Group{1: {ID: 1, Servers: []*models.GroupServer{
		{Addr: "127.0.0.1:31001", DataCenter: "dc1", ReplicaGroup: true},
		{Addr: "127.0.0.1:31002", ReplicaGroup: true},
		{Addr: "127.0.0.2:31003", DataCenter: "dc1", ReplicaGroup: true},
		{Addr: "127.0.0.1:31004", DataCenter: "dc1"},
	}}}}
	p := &models.Proxy{AdminAddr: "127.0.0.1:31081", DataCenter: "dc1"}
	got := c.replicaGroups(1, p, newResolver())
	want := [][]string{{"127.0.0.1:31001"}, {"127.0.0.2:31003"}, {"127.0.0.1:31002"}}
	if !reflect.DeepEqual(got, want) {
		t.Fatalf("got %v, want %v", got, want)
	}
	if got := c.replicaGroups(1, nil, newResolver()); len(got) != 1 || len(got[0]) != 3 {
		t.Fatalf("dashboard view %v", got)
	}
	c.groups[1].Promoting.State = models.ActionPreparing
	if got := c.replicaGroups(1, p, newResolver()); got != nil {
		t.Fatalf("promoting group has replica groups %v", got)
	}
}

func TestLogLevelAndReload(t *testing.T) {
	e := newEnv(t)
	e.ok(put, e.api("loglevel", "debug"))
	e.ok(put, e.api("loglevel", "WARNING"))
	e.fail(put, e.api("loglevel", "loud"), "invalid loglevel")

	// External edits are only seen after reload.
	e.store.UpdateGroup(models.NewGroup(7))
	if st := e.stats(); len(st.Group.Models) != 0 {
		t.Fatal("external edit seen without reload")
	}
	e.ok(put, e.api("reload"))
	if st := e.stats(); len(st.Group.Models) != 1 || st.Group.Models[0].ID != 7 {
		t.Fatalf("after reload %+v", st.Group.Models)
	}
}

func TestMetrics(t *testing.T) {
	e := newEnv(t)
	e.seedGroup(3, "127.0.0.1:1")
	status, data := e.call(get, "/metrics", nil)
	if status != 200 {
		t.Fatal(status)
	}
	for _, want := range []string{
		"codis_dashboard_online 1",
		"codis_dashboard_groups 1",
		`codis_dashboard_group_servers{gid="3"} 1`,
		`codis_dashboard_slots_offline 1024`,
		`codis_dashboard_slots{state="none"} 1024`,
		`codis_dashboard_proxies 0`,
	} {
		if !strings.Contains(string(data), want) {
			t.Fatalf("metrics lack %q:\n%s", want, data)
		}
	}
}

func TestStoreWriteFailureMarksDirty(t *testing.T) {
	e := newEnv(t)
	// A directory where group-0005's file belongs makes its write fail.
	blocker := filepath.Join(e.root, "data", "codis3", "test", "group", "group-0005", "x")
	if err := os.MkdirAll(blocker, 0o755); err != nil {
		t.Fatal(err)
	}
	e.fail(put, e.api("group/create", 5), "store: update group-[5] failed")
	if err := os.RemoveAll(filepath.Dir(blocker)); err != nil {
		t.Fatal(err)
	}
	// The next operation re-reads group 5 (missing) before running.
	e.ok(put, e.api("group/create", 6))
	st := e.stats()
	if len(st.Group.Models) != 1 || st.Group.Models[0].ID != 6 {
		t.Fatalf("groups %+v", st.Group.Models)
	}
	e.ok(put, e.api("group/create", 5))
}
