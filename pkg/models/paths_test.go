package models

import (
	"errors"
	"strings"
	"testing"
)

func TestPaths(t *testing.T) {
	const tok = "594432209cf111ae914f721e18ccf1af"
	tests := []struct{ got, want string }{
		{CodisDir, "/codis3"},
		{ProductDir("demo"), "/codis3/demo"},
		{LockPath("demo"), "/codis3/demo/topom"},
		{SlotDir("demo"), "/codis3/demo/slots"},
		{SlotPath("demo", 0), "/codis3/demo/slots/slot-0000"},
		{SlotPath("demo", 17), "/codis3/demo/slots/slot-0017"},
		{SlotPath("demo", 1023), "/codis3/demo/slots/slot-1023"},
		{GroupDir("demo"), "/codis3/demo/group"},
		{GroupPath("demo", 1), "/codis3/demo/group/group-0001"},
		{GroupPath("demo", 9999), "/codis3/demo/group/group-9999"},
		{GroupPath("demo", 12345), "/codis3/demo/group/group-12345"},
		{ProxyDir("demo"), "/codis3/demo/proxy"},
		{ProxyPath("demo", tok), "/codis3/demo/proxy/proxy-" + tok},
		{SentinelPath("demo"), "/codis3/demo/sentinel"},
		{JodisDir("demo"), "/jodis/demo"},
		{JodisPath("demo", tok), "/jodis/demo/proxy-" + tok},
		{CodisV1Dir("demo"), "/zk/codis/db_demo"},
		{JodisCompatDir("demo"), "/zk/codis/db_demo/proxy"},
		{JodisCompatPath("demo", tok), "/zk/codis/db_demo/proxy/" + tok},
		// Product names may contain dots; nothing is cleaned or resolved.
		{LockPath("a.b-c_d"), "/codis3/a.b-c_d/topom"},
	}
	for _, tc := range tests {
		if tc.got != tc.want {
			t.Errorf("got %q, want %q", tc.got, tc.want)
		}
	}
	if baseName(ProxyPath("p", tok)) != "proxy-"+tok || baseName("/codis3/demo") != "demo" {
		t.Errorf("baseName")
	}
}

func TestValidateProductName(t *testing.T) {
	good := []string{"a", "codis-demo", "spec-ctl", "A_1", "_x", "9", "a.b", "a..b", "a-", "x.y.z-1_2"}
	bad := []string{"", "-a", ".a", "a b", "a/b", "a:b", "é", "a\n", "a*", "..", "a$"}
	for _, name := range good {
		if err := ValidateProductName(name); err != nil {
			t.Errorf("%q rejected: %v", name, err)
		}
	}
	for _, name := range bad {
		err := ValidateProductName(name)
		if !errors.Is(err, ErrInvalidProductName) {
			t.Errorf("%q accepted or wrong error: %v", name, err)
			continue
		}
		if !strings.HasPrefix(err.Error(), "invalid product name = ") {
			t.Errorf("%q: message %q", name, err)
		}
	}
	if err := ValidateProductName(""); err.Error() != `invalid product name = ""` {
		t.Errorf("empty: %q", err)
	}
}

func TestValidateIDs(t *testing.T) {
	for _, sid := range []int{0, 1, 512, 1023} {
		if err := ValidateSlotID(sid); err != nil {
			t.Errorf("slot %d: %v", sid, err)
		}
	}
	for _, sid := range []int{-1, 1024, 1 << 40} {
		err := ValidateSlotID(sid)
		if !errors.Is(err, ErrInvalidSlotID) || !strings.HasPrefix(err.Error(), "invalid slot id = ") {
			t.Errorf("slot %d: %v", sid, err)
		}
	}
	if err := ValidateSlotID(1024); err.Error() != "invalid slot id = 1024" {
		t.Errorf("message %q", err)
	}
	for _, gid := range []int{1, 2, 9999} {
		if err := ValidateGroupID(gid); err != nil {
			t.Errorf("group %d: %v", gid, err)
		}
	}
	for _, gid := range []int{0, -1, 10000} {
		if err := ValidateGroupID(gid); !errors.Is(err, ErrInvalidGroupID) {
			t.Errorf("group %d: %v", gid, err)
		}
	}
	if err := ValidateGroupID(0); err.Error() != "invalid group id = 0" {
		t.Errorf("message %q", err)
	}
	for _, tok := range []string{"594432209cf111ae914f721e18ccf1af", "t", "a-b.c"} {
		if err := ValidateToken(tok); err != nil {
			t.Errorf("token %q: %v", tok, err)
		}
	}
	for _, tok := range []string{"", "../x", "a/b", ".", ".."} {
		if err := ValidateToken(tok); !errors.Is(err, ErrInvalidToken) {
			t.Errorf("token %q: %v", tok, err)
		}
	}
}

func TestValidateStates(t *testing.T) {
	type check struct {
		fn    func(string) error
		good  []string
		bad   []string
		label string
	}
	checks := []check{
		{ValidateSlotActionState, []string{"", "pending", "preparing", "prepared", "migrating", "finished"}, []string{"syncing", "synced", "PENDING", "x"}, "slot action"},
		{ValidateSyncActionState, []string{"", "pending", "syncing", "synced", "synced_failed"}, []string{"preparing", "migrating", "finished", "x"}, "sync action"},
		{ValidatePromotingState, []string{"", "preparing", "prepared", "finished"}, []string{"pending", "migrating", "synced", "x"}, "promoting"},
	}
	for _, c := range checks {
		for _, s := range c.good {
			if err := c.fn(s); err != nil {
				t.Errorf("%s %q: %v", c.label, s, err)
			}
		}
		for _, s := range c.bad {
			err := c.fn(s)
			if !errors.Is(err, ErrInvalidState) || !strings.Contains(err.Error(), c.label) || !strings.Contains(err.Error(), `"`+s+`"`) {
				t.Errorf("%s %q: %v", c.label, s, err)
			}
		}
	}
}

func TestModelValidate(t *testing.T) {
	okGroups := []*Group{NewGroup(1), specGroup(), {ID: 9999, Promoting: Promoting{Index: 1, State: ActionPrepared}}}
	for _, g := range okGroups {
		if err := g.Validate(); err != nil {
			t.Errorf("group %+v: %v", g, err)
		}
	}
	badGroups := []struct {
		g    *Group
		want string
	}{
		{nil, "nil model"},
		{&Group{ID: 0}, "invalid group id = 0"},
		{&Group{ID: 1, Promoting: Promoting{State: "x"}}, `group-0001: invalid promoting state = "x"`},
		{&Group{ID: 1, Servers: []*GroupServer{nil}}, "servers[0] is null"},
		{&Group{ID: 1, Servers: []*GroupServer{{}}}, "servers[0] has an empty address"},
		{&Group{ID: 1, Servers: []*GroupServer{{Addr: "a:1", Action: ServerAction{State: "migrating"}}}}, `group-0001 server a:1: invalid sync action state = "migrating"`},
	}
	for _, tc := range badGroups {
		if err := tc.g.Validate(); err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("group %+v: %v, want %q", tc.g, err, tc.want)
		}
	}

	okSlots := []*SlotMapping{{ID: 0}, {ID: 1023, GroupID: 9999}, {ID: 5, GroupID: 1, Action: SlotAction{Index: 1, State: ActionPending, TargetID: 2}}}
	for _, m := range okSlots {
		if err := m.Validate(); err != nil {
			t.Errorf("slot %+v: %v", m, err)
		}
	}
	badSlots := []struct {
		m    *SlotMapping
		want string
	}{
		{nil, "nil model"},
		{&SlotMapping{ID: 1024}, "invalid slot id = 1024"},
		{&SlotMapping{ID: 1, GroupID: 10000}, "slot-0001: invalid group id = 10000"},
		{&SlotMapping{ID: 1, Action: SlotAction{State: "synced"}}, `slot-0001: invalid slot action state = "synced"`},
		{&SlotMapping{ID: 1, Action: SlotAction{State: ActionPending}}, "slot-0001 action target: invalid group id = 0"},
	}
	for _, tc := range badSlots {
		if err := tc.m.Validate(); err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("slot %+v: %v, want %q", tc.m, err, tc.want)
		}
	}

	for _, s := range []*Slot{{ID: 0}, {ID: 1023, ForwardMethod: ForwardSemiAsync}} {
		if err := s.Validate(); err != nil {
			t.Errorf("slot %+v: %v", s, err)
		}
	}
	if err := (&Slot{ID: 1024}).Validate(); !errors.Is(err, ErrInvalidSlotID) {
		t.Errorf("slot 1024: %v", err)
	}
	if err := (&Slot{ID: 1, ForwardMethod: 2}).Validate(); !errors.Is(err, ErrInvalidForwardMethod) || err.Error() != "slot-0001: invalid forward method = 2" {
		t.Errorf("forward method: %v", err)
	}
	if err := (*Slot)(nil).Validate(); !errors.Is(err, ErrNilModel) {
		t.Errorf("nil slot: %v", err)
	}
}

func TestGroupHelpers(t *testing.T) {
	g := specGroup()
	if g.Master() != "127.0.0.1:31001" {
		t.Errorf("master %q", g.Master())
	}
	if g.IndexOf("127.0.0.1:31002") != 1 || g.IndexOf("nope") != -1 {
		t.Errorf("IndexOf")
	}
	if a := g.Addrs(); len(a) != 2 || a[0] != "127.0.0.1:31001" || a[1] != "127.0.0.1:31002" {
		t.Errorf("Addrs %v", a)
	}
	if g.IsPromoting() {
		t.Errorf("idle group promoting")
	}
	g.Promoting.State = ActionPreparing
	if !g.IsPromoting() {
		t.Errorf("promoting group not promoting")
	}
	var nilg *Group
	if nilg.Master() != "" || nilg.IndexOf("a") != -1 || nilg.Addrs() != nil || nilg.IsPromoting() {
		t.Errorf("nil group helpers")
	}
	if NewGroup(1).Master() != "" || (&Group{Servers: []*GroupServer{nil}}).Master() != "" {
		t.Errorf("empty group master")
	}
	if !(SlotAction{}).IsEmpty() || (SlotAction{TargetID: 1}).IsEmpty() {
		t.Errorf("SlotAction.IsEmpty")
	}
}
