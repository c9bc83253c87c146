package models

import (
	"bytes"
	"encoding/json"
	"errors"
	"reflect"
	"strings"
	"testing"
)

// Golden examples copied from SPEC-control §2 (verified against the
// original binaries).
const (
	specTopom = `{
    "token": "c20b9d0220af691966d861e8a77ee78e",
    "start_time": "2026-11-22 01:21:39.404901418 +0000 UTC m=+0.008534022",
    "admin_addr": "127.0.0.1:31080",
    "product_name": "spec-ctl",
    "pid": 13237,
    "pwd": "/home/codis",
    "sys": "Linux vm 6.18.44 #1 SMP x86_64 GNU/Linux"
}`
	specProxy = `{
    "id": 1,
    "token": "594432209cf111ae914f721e18ccf1af",
    "start_time": "2026-11-22 01:21:48.035779435 +0000 UTC m=+0.007208280",
    "admin_addr": "127.0.0.1:31081",
    "proto_type": "tcp4",
    "proxy_addr": "127.0.0.1:31019",
    "product_name": "spec-ctl",
    "pid": 13569,
    "pwd": "/home/codis",
    "sys": "Linux vm ...",
    "hostname": "vm",
    "datacenter": "dc1"
}`
	specJodis = `{
    "addr": "127.0.0.1:31119",
    "admin": "127.0.0.1:31181",
    "start": "2026-11-22 01:24:15.861233285 +0000 UTC m=+0.004419178",
    "state": "online",
    "token": "8b8e942fafecac6490cc50604e02ac22"
}`
	// The §2.4 example, written out with the real 4-space indentation.
	specGroupIndented = `{
    "id": 1,
    "servers": [
        {
            "server": "127.0.0.1:31001",
            "datacenter": "dc1",
            "action": {},
            "replica_group": false
        },
        {
            "server": "127.0.0.1:31002",
            "datacenter": "",
            "action": {
                "index": 1,
                "state": "pending"
            },
            "replica_group": false
        }
    ],
    "promoting": {},
    "out_of_sync": false
}`
	// The §2.4 example as printed in the spec (inline objects).
	specGroupInline = `{
    "id": 1,
    "servers": [
        {"server": "127.0.0.1:31001", "datacenter": "dc1", "action": {}, "replica_group": false},
        {"server": "127.0.0.1:31002", "datacenter": "", "action": {"index": 1, "state": "pending"}, "replica_group": false}
    ],
    "promoting": {},
    "out_of_sync": false
}`
)

// compact removes insignificant whitespace so that inline spec examples
// can be compared with indented output; key order and values still count.
func compact(t *testing.T, s string) string {
	t.Helper()
	var buf bytes.Buffer
	if err := json.Compact(&buf, []byte(s)); err != nil {
		t.Fatalf("compact %q: %v", s, err)
	}
	return buf.String()
}

func wantJSON(t *testing.T, name string, got []byte, want string) {
	t.Helper()
	if string(got) != want {
		t.Errorf("%s: encoding mismatch\n got: %s\nwant: %s", name, got, want)
	}
}

func wantCompactJSON(t *testing.T, name string, got []byte, spec string) {
	t.Helper()
	if g, w := compact(t, string(got)), compact(t, spec); g != w {
		t.Errorf("%s: encoding mismatch\n got: %s\nwant: %s", name, g, w)
	}
}

func specGroup() *Group {
	return &Group{
		ID: 1,
		Servers: []*GroupServer{
			{Addr: "127.0.0.1:31001", DataCenter: "dc1"},
			{Addr: "127.0.0.1:31002", Action: ServerAction{Index: 1, State: ActionPending}},
		},
	}
}

func TestGoldenSpecExamples(t *testing.T) {
	topom := &Topom{
		Token:       "c20b9d0220af691966d861e8a77ee78e",
		StartTime:   "2026-11-22 01:21:39.404901418 +0000 UTC m=+0.008534022",
		AdminAddr:   "127.0.0.1:31080",
		ProductName: "spec-ctl",
		Pid:         13237,
		Pwd:         "/home/codis",
		Sys:         "Linux vm 6.18.44 #1 SMP x86_64 GNU/Linux",
	}
	wantJSON(t, "topom", Encode(topom), specTopom)

	proxy := &Proxy{
		ID:          1,
		Token:       "594432209cf111ae914f721e18ccf1af",
		StartTime:   "2026-11-22 01:21:48.035779435 +0000 UTC m=+0.007208280",
		AdminAddr:   "127.0.0.1:31081",
		ProtoType:   "tcp4",
		ProxyAddr:   "127.0.0.1:31019",
		ProductName: "spec-ctl",
		Pid:         13569,
		Pwd:         "/home/codis",
		Sys:         "Linux vm ...",
		Hostname:    "vm",
		DataCenter:  "dc1",
	}
	wantJSON(t, "proxy", Encode(proxy), specProxy)

	jodis := NewJodisNode(&Proxy{
		Token:     "8b8e942fafecac6490cc50604e02ac22",
		StartTime: "2026-11-22 01:24:15.861233285 +0000 UTC m=+0.004419178",
		AdminAddr: "127.0.0.1:31181",
		ProxyAddr: "127.0.0.1:31119",
	})
	wantJSON(t, "jodis", Encode(jodis), specJodis)
	// The original encodes a map; its sorted-key output must be identical.
	m := map[string]string{"token": jodis.Token, "state": "online", "start": jodis.Start, "admin": jodis.Admin, "addr": jodis.Addr}
	wantJSON(t, "jodis map", Encode(m), specJodis)

	wantJSON(t, "group", Encode(specGroup()), specGroupIndented)
	wantCompactJSON(t, "group inline", Encode(specGroup()), specGroupInline)
}

func TestGoldenInlineExamples(t *testing.T) {
	tests := []struct {
		name string
		v    any
		spec string
	}{
		{"slot mapping idle", &SlotMapping{ID: 0, GroupID: 1}, `{"id": 0, "group_id": 1, "action": {}}`},
		{"slot mapping offline", &SlotMapping{ID: 7}, `{"id":7,"group_id":0,"action":{}}`},
		{"slot mapping pending", &SlotMapping{ID: 3, GroupID: 1, Action: SlotAction{Index: 4, State: ActionPending, TargetID: 2}},
			`{"id": 3, "group_id": 1, "action": {"index": 4, "state": "pending", "target_id": 2}}`},
		{"slot", &Slot{ID: 0, BackendAddr: "127.0.0.1:31003", BackendAddrGroupID: 2, MigrateFrom: "127.0.0.1:31001", MigrateFromGroupID: 1, ForwardMethod: ForwardSemiAsync},
			`{"id": 0, "backend_addr": "127.0.0.1:31003", "backend_addr_group_id": 2,
"migrate_from": "127.0.0.1:31001", "migrate_from_group_id": 1, "forward_method": 1}`},
		{"slot zero", &Slot{ID: 5}, `{"id": 5}`},
		{"slot full", &Slot{ID: 1023, Locked: true, BackendAddr: "a:1", BackendAddrGroupID: 1, ReplicaGroups: [][]string{{"a:1", "b:2"}, {"c:3"}}},
			`{"id":1023,"locked":true,"backend_addr":"a:1","backend_addr_group_id":1,"replica_groups":[["a:1","b:2"],["c:3"]]}`},
		{"sentinel empty", &Sentinel{}, `{"out_of_sync": false}`},
		{"sentinel", &Sentinel{Servers: []string{"127.0.0.1:31101", "127.0.0.1:31102"}, OutOfSync: true},
			`{"servers": ["127.0.0.1:31101","127.0.0.1:31102"], "out_of_sync": true}`},
		{"sentinel empty list", &Sentinel{Servers: []string{}}, `{"out_of_sync": false}`},
		{"new group", NewGroup(3), `{"id": 3, "servers": [], "promoting": {}, "out_of_sync": false}`},
		{"promoting preparing", &Group{ID: 1, Servers: []*GroupServer{}, Promoting: Promoting{Index: 1, State: ActionPreparing}},
			`{"id":1,"servers":[],"promoting":{"index": 1, "state": "preparing"},"out_of_sync":false}`},
		{"promoting finished", &Group{ID: 1, Servers: []*GroupServer{}, Promoting: Promoting{State: ActionFinished}},
			`{"id":1,"servers":[],"promoting":{"state":"finished"},"out_of_sync":false}`},
		{"group nil servers", &Group{ID: 2}, `{"id":2,"servers":null,"promoting":{},"out_of_sync":false}`},
		{"server replica", &GroupServer{Addr: "h:1", ReplicaGroup: true, Action: ServerAction{State: ActionSyncedFailed}},
			`{"server":"h:1","datacenter":"","action":{"state":"synced_failed"},"replica_group":true}`},
		{"proxy own model (no id, no jodis)", &Proxy{Token: "t"},
			`{"token":"t","start_time":"","admin_addr":"","proto_type":"","proxy_addr":"","product_name":"","pid":0,"pwd":"","sys":"","hostname":"","datacenter":""}`},
		{"proxy jodis path", &Proxy{ID: 2, Token: "t", JodisPath: "/jodis/p/proxy-t"},
			`{"id":2,"token":"t","start_time":"","admin_addr":"","proto_type":"","proxy_addr":"","jodis_path":"/jodis/p/proxy-t","product_name":"","pid":0,"pwd":"","sys":"","hostname":"","datacenter":""}`},
		{"topom zero", &Topom{}, `{"token":"","start_time":"","admin_addr":"","product_name":"","pid":0,"pwd":"","sys":""}`},
		{"config empty", &ConfigV3{}, `{}`},
		{"config", &ConfigV3{Slots: []*SlotMapping{{ID: 1, GroupID: 1}}, Group: []*Group{NewGroup(1)}, Proxy: []*Proxy{{ID: 1, Token: "t"}}},
			`{"slots":[{"id":1,"group_id":1,"action":{}}],"group":[{"id":1,"servers":[],"promoting":{},"out_of_sync":false}],
"proxy":[{"id":1,"token":"t","start_time":"","admin_addr":"","proto_type":"","proxy_addr":"","product_name":"","pid":0,"pwd":"","sys":"","hostname":"","datacenter":""}]}`},
		{"dashboard list empty", []DashboardEntry{}, `[]`},
		{"dashboard entry", DashboardEntry{Name: "p", Dashboard: ""}, `{"name":"p","dashboard":""}`},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			wantCompactJSON(t, tc.name, Encode(tc.v), tc.spec)
		})
	}
}

func TestEncodeIndentAndEscaping(t *testing.T) {
	got := Encode(&Sentinel{Servers: []string{"a&b<c>"}})
	want := "{\n    \"servers\": [\n        \"a\\u0026b\\u003cc\\u003e\"\n    ],\n    \"out_of_sync\": false\n}"
	wantJSON(t, "escaping", got, want)
	if bytes.HasSuffix(got, []byte("\n")) {
		t.Errorf("Encode must not add a trailing newline")
	}
}

func TestEncodePanicsOnlyOnProgrammingErrors(t *testing.T) {
	if _, err := Marshal(make(chan int)); err == nil {
		t.Fatalf("Marshal(chan) succeeded")
	}
	defer func() {
		if r := recover(); r == nil {
			t.Fatalf("Encode(chan) did not panic")
		} else if !strings.Contains(r.(string), "models: encode chan int") {
			t.Fatalf("panic message = %v", r)
		}
	}()
	Encode(make(chan int))
}

func TestRoundTrip(t *testing.T) {
	values := []any{
		&Topom{Token: "x", StartTime: "s", AdminAddr: "a:1", ProductName: "p", Pid: 9, Pwd: "/", Sys: "Linux"},
		&Proxy{ID: 4, Token: "t", JodisPath: "/jodis/p/proxy-t", Pid: 1, DataCenter: "dc"},
		specGroup(),
		&Group{ID: 9999, Servers: []*GroupServer{{Addr: "a:1", ReplicaGroup: true}}, Promoting: Promoting{Index: 1, State: ActionPrepared}, OutOfSync: true},
		&SlotMapping{ID: 1023, GroupID: 5, Action: SlotAction{Index: 7, State: ActionMigrating, TargetID: 6}},
		&Slot{ID: 3, Locked: true, BackendAddr: "a&b", ReplicaGroups: [][]string{{"x"}}, ForwardMethod: 1},
		&Sentinel{Servers: []string{"s:1"}, OutOfSync: true},
		&JodisNode{Addr: "a", Admin: "b", Start: "c", State: "online", Token: "d"},
		&ConfigV3{Slots: []*SlotMapping{{ID: 1, GroupID: 1}}, Group: []*Group{specGroup()}, Proxy: []*Proxy{{ID: 1, Token: "t"}}},
	}
	for _, v := range values {
		b1 := Encode(v)
		v2 := reflect.New(reflect.TypeOf(v).Elem()).Interface()
		if err := Decode("/x", b1, v2); err != nil {
			t.Fatalf("%T: decode: %v", v, err)
		}
		if !reflect.DeepEqual(v, v2) {
			t.Errorf("%T: decoded value differs:\n got %+v\nwant %+v", v, v2, v)
		}
		if b2 := Encode(v2); !bytes.Equal(b1, b2) {
			t.Errorf("%T: re-encoding differs:\n%s\n%s", v, b1, b2)
		}
	}
}

func TestDecodeAcceptsMissingAndUnknownFields(t *testing.T) {
	g := &Group{}
	if err := Decode("/g", []byte(`{"id": 3, "extra": [1, 2], "servers": [{"server": "a:1"}]}`), g); err != nil {
		t.Fatal(err)
	}
	want := &Group{ID: 3, Servers: []*GroupServer{{Addr: "a:1"}}}
	if !reflect.DeepEqual(g, want) {
		t.Fatalf("got %+v", g)
	}
	m := &SlotMapping{}
	if err := Decode("/s", []byte(`{}`), m); err != nil || *m != (SlotMapping{}) {
		t.Fatalf("empty object: %v %+v", err, m)
	}
	// Re-encoding fills in the always-present objects.
	wantCompactJSON(t, "filled", Encode(m), `{"id":0,"group_id":0,"action":{}}`)
}

func TestDecodeErrorNamesPath(t *testing.T) {
	const path = "/codis3/p/group/group-0001"
	tests := []struct {
		data  string
		cause string
	}{
		{`{"id": x}`, "invalid character 'x'"},
		{`{"id": "1"}`, "cannot unmarshal string"},
		{``, "unexpected end of JSON input"},
		{`{"id": 1} {}`, "invalid character '{' after top-level value"},
		{`[1]`, "cannot unmarshal array"},
	}
	for _, tc := range tests {
		err := Decode(path, []byte(tc.data), &Group{})
		if err == nil {
			t.Errorf("%q: no error", tc.data)
			continue
		}
		msg := err.Error()
		if !strings.HasPrefix(msg, "decode "+path+": ") || !strings.Contains(msg, tc.cause) {
			t.Errorf("%q: error = %q", tc.data, msg)
		}
		var de *DecodeError
		if !errors.As(err, &de) || de.Path != path {
			t.Errorf("%q: not a *DecodeError for %s: %#v", tc.data, path, err)
		}
	}
	var se *json.SyntaxError
	if err := Decode(path, []byte("{x"), &Group{}); !errors.As(err, &se) || se.Offset != 2 {
		t.Errorf("cause not unwrapped: %#v", err)
	}
	if err := Decode("", []byte("?"), &Group{}); err == nil || !strings.HasPrefix(err.Error(), "decode: invalid character") {
		t.Errorf("no path: %v", err)
	}
	if err := Decode("/x", []byte("{}"), nil); err == nil {
		t.Errorf("nil target accepted")
	}
}

func TestDecodeAny(t *testing.T) {
	v, err := decodeAny("/p", []byte(` {"ts": 1461825283123456789, "f": 1.5} `))
	if err != nil {
		t.Fatal(err)
	}
	wantCompactJSON(t, "numbers kept", Encode(v), `{"f":1.5,"ts":1461825283123456789}`)
	for _, bad := range []string{"", " ", "{", "{}}", "{} x", "nul"} {
		if _, err := decodeAny("/p", []byte(bad)); err == nil || !strings.HasPrefix(err.Error(), "decode /p: ") {
			t.Errorf("%q: error = %v", bad, err)
		}
	}
}

func TestClones(t *testing.T) {
	g := specGroup()
	c := g.Clone()
	c.Servers[0].Addr = "changed"
	c.Servers = append(c.Servers, &GroupServer{})
	if g.Servers[0].Addr != "127.0.0.1:31001" || len(g.Servers) != 2 {
		t.Errorf("group clone shares servers")
	}
	if (&Group{ID: 1}).Clone().Servers != nil {
		t.Errorf("nil servers became non-nil")
	}
	s := &Slot{ID: 1, ReplicaGroups: [][]string{{"a"}, nil}}
	sc := s.Clone()
	sc.ReplicaGroups[0][0] = "b"
	if s.ReplicaGroups[0][0] != "a" || sc.ReplicaGroups[1] != nil {
		t.Errorf("slot clone shares replica groups")
	}
	x := &Sentinel{Servers: []string{"a"}}
	xc := x.Clone()
	xc.Servers[0] = "b"
	if x.Servers[0] != "a" {
		t.Errorf("sentinel clone shares servers")
	}
	m := &SlotMapping{ID: 1, Action: SlotAction{State: ActionPending}}
	if mc := m.Clone(); *mc != *m || mc == m {
		t.Errorf("slot mapping clone")
	}
	p := &Proxy{Token: "t"}
	if pc := p.Clone(); *pc != *p || pc == p {
		t.Errorf("proxy clone")
	}
	tp := &Topom{Token: "t"}
	if tc := tp.Clone(); *tc != *tp || tc == tp {
		t.Errorf("topom clone")
	}
	if (*Group)(nil).Clone() != nil || (*Slot)(nil).Clone() != nil || (*Sentinel)(nil).Clone() != nil ||
		(*SlotMapping)(nil).Clone() != nil || (*Proxy)(nil).Clone() != nil || (*Topom)(nil).Clone() != nil || (*GroupServer)(nil).Clone() != nil {
		t.Errorf("nil clone not nil")
	}
}
