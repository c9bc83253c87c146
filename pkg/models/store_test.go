package models

import (
	"errors"
	"reflect"
	"strings"
	"sync"
	"testing"
)

func newTestStore(t *testing.T) (*Store, *memClient) {
	t.Helper()
	c := newMemClient()
	s, err := NewStore(c, "demo")
	if err != nil {
		t.Fatal(err)
	}
	return s, c
}

func TestNewStore(t *testing.T) {
	if _, err := NewStore(nil, "demo"); !errors.Is(err, ErrNilClient) {
		t.Errorf("nil client: %v", err)
	}
	if _, err := NewStore(newMemClient(), "a/b"); !errors.Is(err, ErrInvalidProductName) {
		t.Errorf("bad product: %v", err)
	}
	c := newMemClient()
	s, err := NewStore(c, "demo")
	if err != nil {
		t.Fatal(err)
	}
	if s.Product() != "demo" || s.Client() != Client(c) || s.LockPath() != "/codis3/demo/topom" {
		t.Errorf("accessors")
	}
	if c.count() != 0 {
		t.Errorf("constructor did I/O")
	}
	if err := s.Close(); err != nil || !c.closed {
		t.Errorf("close: %v", err)
	}
	if _, err := s.LoadSentinel(); !errors.Is(err, errMemClosed) {
		t.Errorf("after close: %v", err)
	}
}

func TestStoreLock(t *testing.T) {
	s, c := newTestStore(t)
	if tp, err := s.LoadTopom(false); tp != nil || err != nil {
		t.Fatalf("missing lock: %v %v", tp, err)
	}
	if _, err := s.LoadTopom(true); err == nil || !strings.Contains(err.Error(), "/codis3/demo/topom") {
		t.Fatalf("missing lock must: %v", err)
	}
	model := &Topom{Token: "tok", AdminAddr: "127.0.0.1:18080", ProductName: "demo", Pid: 3}
	if err := s.Acquire(model); err != nil {
		t.Fatal(err)
	}
	if got, _ := c.get("/codis3/demo/topom"); got != string(Encode(model)) {
		t.Errorf("lock node = %s", got)
	}
	err := s.Acquire(&Topom{Token: "other"})
	if !errors.Is(err, errMemExists) || !strings.HasPrefix(err.Error(), "store: acquire lock of demo failed: ") {
		t.Errorf("second acquire: %v", err)
	}
	got, err := s.LoadTopom(true)
	if err != nil || !reflect.DeepEqual(got, model) {
		t.Errorf("load: %+v %v", got, err)
	}
	if err := s.Acquire(nil); !errors.Is(err, ErrNilModel) {
		t.Errorf("nil: %v", err)
	}
	if err := s.Release(); err != nil {
		t.Fatal(err)
	}
	if err := s.Release(); err != nil {
		t.Errorf("second release: %v", err)
	}
	if _, ok := c.get("/codis3/demo/topom"); ok {
		t.Errorf("lock still there")
	}
	if err := s.Acquire(model); err != nil {
		t.Errorf("re-acquire: %v", err)
	}
	c.fail["delete /codis3/demo/topom"] = errors.New("boom")
	if err := s.Release(); err == nil || err.Error() != "store: release lock of demo failed: boom" {
		t.Errorf("release failure: %v", err)
	}
	c.put("/codis3/demo/topom", "{bad")
	if _, err := s.LoadTopom(false); err == nil || !strings.Contains(err.Error(), "decode /codis3/demo/topom: invalid character") {
		t.Errorf("bad lock: %v", err)
	}
}

func TestStoreSlots(t *testing.T) {
	s, c := newTestStore(t)
	slots, err := s.SlotMappings()
	if err != nil {
		t.Fatal(err)
	}
	if len(slots) != MaxSlotNum {
		t.Fatalf("%d slots", len(slots))
	}
	for i, m := range slots {
		if *m != (SlotMapping{ID: i}) {
			t.Fatalf("slot %d = %+v", i, m)
		}
	}
	m := &SlotMapping{ID: 3, GroupID: 1, Action: SlotAction{Index: 4, State: ActionPending, TargetID: 2}}
	if err := s.UpdateSlotMapping(m); err != nil {
		t.Fatal(err)
	}
	want := "{\n    \"id\": 3,\n    \"group_id\": 1,\n    \"action\": {\n        \"index\": 4,\n        \"state\": \"pending\",\n        \"target_id\": 2\n    }\n}"
	if got, _ := c.get("/codis3/demo/slots/slot-0003"); got != want {
		t.Errorf("slot node:\n%s", got)
	}
	got, err := s.LoadSlotMapping(3)
	if err != nil || *got != *m {
		t.Errorf("load: %+v %v", got, err)
	}
	slots, err = s.SlotMappings()
	if err != nil || *slots[3] != *m || *slots[4] != (SlotMapping{ID: 4}) {
		t.Errorf("slot mappings after update: %v", err)
	}
	for _, sid := range []int{-1, 1024} {
		if _, err := s.LoadSlotMapping(sid); !errors.Is(err, ErrInvalidSlotID) {
			t.Errorf("load %d: %v", sid, err)
		}
		if err := s.UpdateSlotMapping(&SlotMapping{ID: sid}); !errors.Is(err, ErrInvalidSlotID) {
			t.Errorf("update %d: %v", sid, err)
		}
	}
	if err := s.UpdateSlotMapping(nil); !errors.Is(err, ErrNilModel) {
		t.Errorf("nil: %v", err)
	}
	c.put("/codis3/demo/slots/slot-0005", `{"id": 6, "group_id": 1}`)
	if _, err := s.LoadSlotMapping(5); !errors.Is(err, ErrInconsistentNode) || !strings.Contains(err.Error(), "slot-0005 holds slot-0006") {
		t.Errorf("inconsistent: %v", err)
	}
	if _, err := s.SlotMappings(); !errors.Is(err, ErrInconsistentNode) {
		t.Errorf("slot mappings with a bad node: %v", err)
	}
	c.put("/codis3/demo/slots/slot-0005", `{"id": 5, "group_id": 2}`) // missing action
	if got, err := s.LoadSlotMapping(5); err != nil || *got != (SlotMapping{ID: 5, GroupID: 2}) {
		t.Errorf("partial node: %+v %v", got, err)
	}
	c.fail["update /codis3/demo/slots/slot-0007"] = errors.New("boom")
	if err := s.UpdateSlotMapping(&SlotMapping{ID: 7}); err == nil || err.Error() != "store: update slot-[7] failed: boom" {
		t.Errorf("update failure: %v", err)
	}
	c.fail["read /codis3/demo/slots/slot-0008"] = errors.New("boom")
	if _, err := s.SlotMappings(); err == nil || err.Error() != "store: read /codis3/demo/slots/slot-0008 failed: boom" {
		t.Errorf("read failure: %v", err)
	}
}

func TestStoreGroups(t *testing.T) {
	s, c := newTestStore(t)
	groups, err := s.ListGroup()
	if err != nil || len(groups) != 0 || groups == nil {
		t.Fatalf("empty list: %v %v", groups, err)
	}
	if g, err := s.LoadGroup(1); g != nil || err != nil {
		t.Fatalf("missing group: %v %v", g, err)
	}
	g1, g12 := specGroup(), NewGroup(12)
	for _, g := range []*Group{g1, g12} {
		if err := s.UpdateGroup(g); err != nil {
			t.Fatal(err)
		}
	}
	if got, _ := c.get("/codis3/demo/group/group-0001"); got != specGroupIndented {
		t.Errorf("group node:\n%s", got)
	}
	if _, ok := c.get("/codis3/demo/group/group-0012"); !ok {
		t.Errorf("group-0012 missing")
	}
	groups, err = s.ListGroup()
	if err != nil || len(groups) != 2 || !reflect.DeepEqual(groups[1], g1) || !reflect.DeepEqual(groups[12], g12) {
		t.Fatalf("list: %v %v", groups, err)
	}
	if g, err := s.LoadGroup(12); err != nil || !reflect.DeepEqual(g, g12) {
		t.Errorf("load: %v %v", g, err)
	}
	if err := s.DeleteGroup(12); err != nil {
		t.Fatal(err)
	}
	if err := s.DeleteGroup(12); err != nil {
		t.Errorf("delete missing: %v", err)
	}
	if g, err := s.LoadGroup(12); g != nil || err != nil {
		t.Errorf("deleted group: %v %v", g, err)
	}
	for _, gid := range []int{0, 10000} {
		if _, err := s.LoadGroup(gid); !errors.Is(err, ErrInvalidGroupID) {
			t.Errorf("load %d: %v", gid, err)
		}
		if err := s.UpdateGroup(&Group{ID: gid}); !errors.Is(err, ErrInvalidGroupID) {
			t.Errorf("update %d: %v", gid, err)
		}
		if err := s.DeleteGroup(gid); !errors.Is(err, ErrInvalidGroupID) {
			t.Errorf("delete %d: %v", gid, err)
		}
	}
	if err := s.UpdateGroup(nil); !errors.Is(err, ErrNilModel) {
		t.Errorf("nil: %v", err)
	}

	// Bad nodes.
	c.put("/codis3/demo/group/group-0002", `{"id": 3}`)
	if _, err := s.LoadGroup(2); !errors.Is(err, ErrInconsistentNode) || !strings.Contains(err.Error(), "group-0002 holds group-0003") {
		t.Errorf("inconsistent: %v", err)
	}
	if _, err := s.ListGroup(); !errors.Is(err, ErrInconsistentNode) {
		t.Errorf("list inconsistent: %v", err)
	}
	c.put("/codis3/demo/group/group-0002", `{"id": 2, "servers": [null]}`)
	if _, err := s.LoadGroup(2); !errors.Is(err, ErrInconsistentNode) || !strings.Contains(err.Error(), "servers[0] is null") {
		t.Errorf("null server: %v", err)
	}
	c.put("/codis3/demo/group/group-0002", `{"id": 2, "servers": 5}`)
	err = func() error { _, err := s.ListGroup(); return err }()
	var de *DecodeError
	if !errors.As(err, &de) || de.Path != "/codis3/demo/group/group-0002" ||
		!strings.HasPrefix(err.Error(), "store: decode /codis3/demo/group/group-0002: ") {
		t.Errorf("decode error: %v", err)
	}
	c.put("/codis3/demo/group/stray", `{"id": 1}`)
	c.put("/codis3/demo/group/group-0002", `{"id": 2}`)
	if _, err := s.ListGroup(); !errors.Is(err, ErrInconsistentNode) || !strings.Contains(err.Error(), "/codis3/demo/group/stray holds group-0001") {
		t.Errorf("stray node: %v", err)
	}
	c.fail["list /codis3/demo/group"] = errors.New("boom")
	if _, err := s.ListGroup(); err == nil || err.Error() != "store: list /codis3/demo/group failed: boom" {
		t.Errorf("list failure: %v", err)
	}
	c.fail["update /codis3/demo/group/group-0001"] = errors.New("boom")
	if err := s.UpdateGroup(NewGroup(1)); err == nil || err.Error() != "store: update group-[1] failed: boom" {
		t.Errorf("update failure: %v", err)
	}
}

func TestStoreProxies(t *testing.T) {
	s, c := newTestStore(t)
	const tok = "594432209cf111ae914f721e18ccf1af"
	if p, err := s.LoadProxy(tok); p != nil || err != nil {
		t.Fatalf("missing proxy: %v %v", p, err)
	}
	p1 := &Proxy{ID: 1, Token: tok, ProxyAddr: "127.0.0.1:19000"}
	p2 := &Proxy{ID: 2, Token: "bbbb"}
	for _, p := range []*Proxy{p1, p2} {
		if err := s.UpdateProxy(p); err != nil {
			t.Fatal(err)
		}
	}
	if got, _ := c.get("/codis3/demo/proxy/proxy-" + tok); got != string(Encode(p1)) {
		t.Errorf("proxy node: %s", got)
	}
	proxies, err := s.ListProxy()
	if err != nil || len(proxies) != 2 || !reflect.DeepEqual(proxies[tok], p1) || !reflect.DeepEqual(proxies["bbbb"], p2) {
		t.Fatalf("list: %v %v", proxies, err)
	}
	if p, err := s.LoadProxy("bbbb"); err != nil || !reflect.DeepEqual(p, p2) {
		t.Errorf("load: %v %v", p, err)
	}
	if err := s.DeleteProxy("bbbb"); err != nil {
		t.Fatal(err)
	}
	if err := s.DeleteProxy("bbbb"); err != nil {
		t.Errorf("delete missing: %v", err)
	}
	if p, _ := s.LoadProxy("bbbb"); p != nil {
		t.Errorf("deleted proxy still there")
	}
	for _, bad := range []string{"", "../x", "a/b"} {
		if _, err := s.LoadProxy(bad); !errors.Is(err, ErrInvalidToken) {
			t.Errorf("load %q: %v", bad, err)
		}
		if err := s.UpdateProxy(&Proxy{Token: bad}); !errors.Is(err, ErrInvalidToken) {
			t.Errorf("update %q: %v", bad, err)
		}
		if err := s.DeleteProxy(bad); !errors.Is(err, ErrInvalidToken) {
			t.Errorf("delete %q: %v", bad, err)
		}
	}
	if err := s.UpdateProxy(nil); !errors.Is(err, ErrNilModel) {
		t.Errorf("nil: %v", err)
	}
	c.put("/codis3/demo/proxy/proxy-cccc", `{"token": "dddd"}`)
	if _, err := s.LoadProxy("cccc"); !errors.Is(err, ErrInconsistentNode) || !strings.Contains(err.Error(), "proxy-cccc holds proxy-dddd") {
		t.Errorf("inconsistent: %v", err)
	}
	if _, err := s.ListProxy(); !errors.Is(err, ErrInconsistentNode) {
		t.Errorf("list inconsistent: %v", err)
	}
	c.put("/codis3/demo/proxy/proxy-cccc", `[`)
	if _, err := s.ListProxy(); err == nil || !strings.Contains(err.Error(), "decode /codis3/demo/proxy/proxy-cccc: ") {
		t.Errorf("decode: %v", err)
	}
	c.fail["delete /codis3/demo/proxy/proxy-cccc"] = errors.New("boom")
	if err := s.DeleteProxy("cccc"); err == nil || err.Error() != "store: remove proxy-[cccc] failed: boom" {
		t.Errorf("delete failure: %v", err)
	}
}

func TestStoreSentinel(t *testing.T) {
	s, c := newTestStore(t)
	x, err := s.LoadSentinel()
	if err != nil || x == nil || x.Servers != nil || x.OutOfSync {
		t.Fatalf("missing sentinel: %+v %v", x, err)
	}
	want := &Sentinel{Servers: []string{"127.0.0.1:26379"}, OutOfSync: true}
	if err := s.UpdateSentinel(want); err != nil {
		t.Fatal(err)
	}
	if got, _ := c.get("/codis3/demo/sentinel"); got != string(Encode(want)) {
		t.Errorf("sentinel node: %s", got)
	}
	if x, err := s.LoadSentinel(); err != nil || !reflect.DeepEqual(x, want) {
		t.Errorf("load: %+v %v", x, err)
	}
	if err := s.UpdateSentinel(nil); !errors.Is(err, ErrNilModel) {
		t.Errorf("nil: %v", err)
	}
	c.put("/codis3/demo/sentinel", "nope")
	if _, err := s.LoadSentinel(); err == nil || !strings.Contains(err.Error(), "decode /codis3/demo/sentinel: ") {
		t.Errorf("decode: %v", err)
	}
}

func TestStoreDumpAndRestore(t *testing.T) {
	s, c := newTestStore(t)
	if _, err := s.DumpConfig(); !errors.Is(err, ErrProductNotFound) || err.Error() != "cann't find product = demo [v3]" {
		t.Fatalf("empty dump: %v", err)
	}

	cfg := validConfig()
	if err := s.RestoreConfig(cfg); err != nil {
		t.Fatal(err)
	}
	// 3 slots + 3 groups + 2 proxies, nothing else (no lock, no sentinel).
	if n := c.count(); n != 8 {
		t.Errorf("%d nodes written", n)
	}
	if _, ok := c.get("/codis3/demo/topom"); ok {
		t.Errorf("restore touched the lock")
	}
	if err := s.RestoreConfig(validConfig()); !errors.Is(err, ErrProductNotEmpty) || err.Error() != "product demo is not empty" {
		t.Errorf("second restore: %v", err)
	}

	dump, err := s.DumpConfig()
	if err != nil {
		t.Fatal(err)
	}
	if len(dump.Slots) != MaxSlotNum || *dump.Slots[1] != (SlotMapping{ID: 1, GroupID: 2}) || *dump.Slots[2] != (SlotMapping{ID: 2}) {
		t.Errorf("dump slots")
	}
	if !reflect.DeepEqual(dump.Group, cfg.Group) || !reflect.DeepEqual(dump.Proxy, cfg.Proxy) {
		t.Errorf("dump groups/proxies differ:\n%s", Encode(dump))
	}

	// Proxies alone are enough for a dump.
	s2, c2 := newTestStore(t)
	if err := s2.UpdateProxy(&Proxy{ID: 1, Token: "t"}); err != nil {
		t.Fatal(err)
	}
	if d, err := s2.DumpConfig(); err != nil || len(d.Proxy) != 1 || d.Group != nil {
		t.Errorf("proxy-only dump: %v", err)
	}
	c2.fail["read /codis3/demo/slots/slot-0000"] = errors.New("boom")
	if _, err := s2.DumpConfig(); err == nil || !strings.Contains(err.Error(), "boom") {
		t.Errorf("dump read failure: %v", err)
	}

	// Invalid configs write nothing.
	s3, c3 := newTestStore(t)
	bad := validConfig()
	bad.Group[0].Promoting.State = ActionPrepared
	if err := s3.RestoreConfig(bad); err == nil || err.Error() != "gorup-0001 is promoting" {
		t.Errorf("invalid restore: %v", err)
	}
	if err := s3.RestoreConfig(nil); !errors.Is(err, ErrInvalidConfig) {
		t.Errorf("nil restore: %v", err)
	}
	if c3.count() != 0 {
		t.Errorf("invalid restore wrote %d nodes", c3.count())
	}
	c3.fail["update /codis3/demo/group/group-0002"] = errors.New("boom")
	if err := s3.RestoreConfig(validConfig()); err == nil || err.Error() != "restore group-0002 failed: store: update group-[2] failed: boom" {
		t.Errorf("write failure: %v", err)
	}
}

func TestListDashboards(t *testing.T) {
	c := newMemClient()
	list, err := ListDashboards(c)
	if err != nil || list == nil || len(list) != 0 {
		t.Fatalf("empty: %v %v", list, err)
	}
	wantJSON(t, "empty list", Encode(list), "[]")

	a, _ := NewStore(c, "alpha")
	if err := a.Acquire(&Topom{AdminAddr: "127.0.0.1:18080", ProductName: "alpha"}); err != nil {
		t.Fatal(err)
	}
	b, _ := NewStore(c, "beta")
	if err := b.UpdateGroup(NewGroup(1)); err != nil {
		t.Fatal(err)
	}
	names, err := ListProducts(c)
	if err != nil || strings.Join(names, ",") != "alpha,beta" {
		t.Fatalf("products: %v %v", names, err)
	}
	list, err = ListDashboards(c)
	if err != nil {
		t.Fatal(err)
	}
	wantJSON(t, "dashboard list", Encode(list), `[
    {
        "name": "alpha",
        "dashboard": "127.0.0.1:18080"
    },
    {
        "name": "beta",
        "dashboard": ""
    }
]`)

	c.put("/codis3/beta/topom", "garbage")
	if _, err := ListDashboards(c); err == nil || !strings.HasPrefix(err.Error(), "decode /codis3/beta/topom: ") {
		t.Errorf("decode failure: %v", err)
	}
	c.fail["read /codis3/beta/topom"] = errors.New("boom")
	if _, err := ListDashboards(c); err == nil || err.Error() != "read topom of product beta failed: boom" {
		t.Errorf("read failure: %v", err)
	}
	c.fail["list /codis3"] = errors.New("boom")
	if _, err := ListDashboards(c); err == nil || err.Error() != "list products failed: boom" {
		t.Errorf("list failure: %v", err)
	}
}

func TestDumpV1(t *testing.T) {
	c := newMemClient()
	if _, err := DumpV1(c, "old"); !errors.Is(err, ErrProductNotFound) || err.Error() != "cann't find product = old [v1]" {
		t.Fatalf("missing: %v", err)
	}
	root := "/zk/codis/db_old"
	c.put(root+"/slots/slot_0", `{"product_name":"old","id":0,"group_id":1,"state":{"status":"online","migrate_status":{"from":-1,"to":-1},"last_op_ts":"0"}}`)
	c.put(root+"/slots/slot_1", `{"product_name":"old","id":1,"group_id":1,"state":{"status":"offline"}}`)
	c.put(root+"/servers/group_1/127.0.0.1:6379", `{"type":"master","group_id":1,"addr":"127.0.0.1:6379"}`)
	c.put(root+"/servers/group_1/127.0.0.1:6380", `{"type":"slave","group_id":1,"addr":"127.0.0.1:6380"}`)
	c.put(root+"/LOCK", ``)
	c.put(root+"/ts", `1461825283123456789`)
	v, err := DumpV1(c, "old")
	if err != nil {
		t.Fatal(err)
	}
	if v["LOCK"] != nil {
		t.Errorf("empty leaf = %v", v["LOCK"])
	}
	wantCompactJSON(t, "v1 dump", Encode(v), `{"LOCK":null,"servers":{"group_1":{
		"127.0.0.1:6379":{"addr":"127.0.0.1:6379","group_id":1,"type":"master"},
		"127.0.0.1:6380":{"addr":"127.0.0.1:6380","group_id":1,"type":"slave"}}},
		"slots":{"slot_0":{"group_id":1,"id":0,"product_name":"old","state":{"last_op_ts":"0","migrate_status":{"from":-1,"to":-1},"status":"online"}},
		"slot_1":{"group_id":1,"id":1,"product_name":"old","state":{"status":"offline"}}},
		"ts":1461825283123456789}`)

	// The dump feeds --config-convert.
	cfg, err := ConvertV1(Encode(v))
	if err != nil {
		t.Fatal(err)
	}
	wantCompactJSON(t, "converted dump", Encode(cfg), `{"slots":[{"id":0,"group_id":1,"action":{}}],
		"group":[{"id":1,"servers":[
		{"server":"127.0.0.1:6379","datacenter":"","action":{},"replica_group":false},
		{"server":"127.0.0.1:6380","datacenter":"","action":{},"replica_group":false}],"promoting":{},"out_of_sync":false}]}`)

	c.put(root+"/bad", `{`)
	if _, err := DumpV1(c, "old"); err == nil || !strings.HasPrefix(err.Error(), "decode "+root+"/bad: ") {
		t.Errorf("bad leaf: %v", err)
	}
	c.put(root+"/bad", `{}`)
	c.fail["list "+root+"/servers"] = errors.New("boom")
	if _, err := DumpV1(c, "old"); err == nil || err.Error() != "list path = "+root+"/servers failed: boom" {
		t.Errorf("list failure: %v", err)
	}

	// A product whose root is a leaf is not a v1 product.
	c2 := newMemClient()
	c2.put("/zk/codis/db_x", `5`)
	if _, err := DumpV1(c2, "x"); !errors.Is(err, ErrProductNotFound) {
		t.Errorf("leaf root: %v", err)
	}
	// Depth is bounded.
	c3 := newMemClient()
	c3.put("/zk/codis/db_d"+strings.Repeat("/x", 40), `1`)
	if _, err := DumpV1(c3, "d"); err == nil || !strings.Contains(err.Error(), "deeper than") {
		t.Errorf("deep tree: %v", err)
	}
}

func TestStoreConcurrentUse(t *testing.T) {
	s, _ := newTestStore(t)
	var wg sync.WaitGroup
	for i := 0; i < 8; i++ {
		wg.Add(1)
		go func(i int) {
			defer wg.Done()
			for j := 0; j < 50; j++ {
				gid := i*50 + j + 1
				if err := s.UpdateGroup(NewGroup(gid)); err != nil {
					t.Error(err)
					return
				}
				if err := s.UpdateSlotMapping(&SlotMapping{ID: gid % MaxSlotNum, GroupID: gid}); err != nil {
					t.Error(err)
					return
				}
				if _, err := s.LoadGroup(gid); err != nil {
					t.Error(err)
					return
				}
			}
		}(i)
	}
	wg.Wait()
	groups, err := s.ListGroup()
	if err != nil || len(groups) != 400 {
		t.Errorf("groups: %d %v", len(groups), err)
	}
}
