package models

import (
	"errors"
	"reflect"
	"strings"
	"testing"
)

func validConfig() *ConfigV3 {
	return &ConfigV3{
		Slots: []*SlotMapping{{ID: 0, GroupID: 1}, {ID: 1, GroupID: 2}, {ID: 1023, GroupID: 1}},
		Group: []*Group{
			{ID: 1, Servers: []*GroupServer{{Addr: "127.0.0.1:6379"}, {Addr: "127.0.0.1:6380"}}},
			{ID: 2, Servers: []*GroupServer{{Addr: "127.0.0.1:6381"}}},
			{ID: 3, Servers: []*GroupServer{}},
		},
		Proxy: []*Proxy{{ID: 1, Token: "aaaa"}, {ID: 2, Token: "bbbb"}},
	}
}

func TestConfigValidateAccepts(t *testing.T) {
	if err := validConfig().Validate(); err != nil {
		t.Fatal(err)
	}
	if err := (&ConfigV3{}).Validate(); err != nil {
		t.Fatalf("empty config: %v", err)
	}
	// A sync action on a server does not block restore (only promoting does).
	c := validConfig()
	c.Group[0].Servers[1].Action = ServerAction{Index: 1, State: ActionPending}
	c.Group[0].OutOfSync = true
	if err := c.Validate(); err != nil {
		t.Fatal(err)
	}
}

func TestConfigValidateRules(t *testing.T) {
	tests := []struct {
		name   string
		mutate func(c *ConfigV3)
		want   string
	}{
		{"null config", nil, "config is null"},
		{"duplicate proxy token", func(c *ConfigV3) { c.Proxy[1].Token = "aaaa" }, "proxy-aaaa already exists"},
		{"null proxy", func(c *ConfigV3) { c.Proxy[1] = nil }, "proxy[1] is null"},
		{"bad proxy token", func(c *ConfigV3) { c.Proxy[0].Token = "../x" }, `proxy[0]: invalid proxy token = "../x"`},
		{"group id 0", func(c *ConfigV3) { c.Group[2].ID = 0 }, "invalid group id = 0"},
		{"group id too big", func(c *ConfigV3) { c.Group[2].ID = 10000 }, "invalid group id = 10000"},
		{"duplicate group", func(c *ConfigV3) { c.Group[2].ID = 2 }, "group-0002 already exists"},
		{"null group", func(c *ConfigV3) { c.Group[1] = nil }, "group[1] is null"},
		{"promoting preparing", func(c *ConfigV3) { c.Group[1].Promoting = Promoting{Index: 1, State: ActionPreparing} }, "gorup-0002 is promoting"},
		{"promoting finished", func(c *ConfigV3) { c.Group[0].Promoting.State = ActionFinished }, "gorup-0001 is promoting"},
		{"server in two groups", func(c *ConfigV3) { c.Group[1].Servers[0].Addr = "127.0.0.1:6380" }, "server 127.0.0.1:6380 already exists"},
		{"server twice in a group", func(c *ConfigV3) { c.Group[0].Servers[1].Addr = "127.0.0.1:6379" }, "server 127.0.0.1:6379 already exists"},
		{"null server", func(c *ConfigV3) { c.Group[0].Servers[1] = nil }, "group-0001 servers[1] is null"},
		{"slot id -1", func(c *ConfigV3) { c.Slots[0].ID = -1 }, "invalid slot id = -1"},
		{"slot id 1024", func(c *ConfigV3) { c.Slots[0].ID = 1024 }, "invalid slot id = 1024"},
		{"duplicate slot", func(c *ConfigV3) { c.Slots[1].ID = 0 }, "slot-0000 already exists"},
		{"null slot", func(c *ConfigV3) { c.Slots[2] = nil }, "slots[2] is null"},
		{"slot action state", func(c *ConfigV3) { c.Slots[1].Action = SlotAction{Index: 1, State: ActionPending, TargetID: 1} }, "slot-0001 action is not empty"},
		{"slot action leftovers", func(c *ConfigV3) { c.Slots[1].Action.TargetID = 1 }, "slot-0001 action is not empty"},
		{"offline slot", func(c *ConfigV3) { c.Slots[2].GroupID = 0 }, "slot-1023 with group-0000 doesn't exist or empty"},
		{"missing group", func(c *ConfigV3) { c.Slots[2].GroupID = 7 }, "slot-1023 with group-0007 doesn't exist or empty"},
		{"empty group", func(c *ConfigV3) { c.Slots[0].GroupID = 3 }, "slot-0000 with group-0003 doesn't exist or empty"},
		// Order: proxies are checked before groups, groups before slots.
		{"proxy error first", func(c *ConfigV3) { c.Proxy[1].Token = "aaaa"; c.Group[2].ID = 0; c.Slots[0].ID = -1 }, "proxy-aaaa already exists"},
		{"group error before slot", func(c *ConfigV3) { c.Group[2].ID = 0; c.Slots[0].ID = -1 }, "invalid group id = 0"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			var c *ConfigV3
			if tc.mutate != nil {
				c = validConfig()
				tc.mutate(c)
			}
			err := c.Validate()
			if err == nil {
				t.Fatalf("accepted")
			}
			if err.Error() != tc.want {
				t.Errorf("error %q, want %q", err, tc.want)
			}
			if !errors.Is(err, ErrInvalidConfig) {
				t.Errorf("error does not wrap ErrInvalidConfig")
			}
		})
	}
}

func TestNewConfigV3(t *testing.T) {
	groups := map[int]*Group{3: NewGroup(3), 1: NewGroup(1), 2: nil}
	proxies := map[string]*Proxy{"b": {ID: 2, Token: "b"}, "a": {ID: 5, Token: "a"}, "c": {ID: 2, Token: "c"}, "z": nil}
	slots := []*SlotMapping{{ID: 5, GroupID: 1}, nil, {ID: 0, GroupID: 3}}
	c, err := NewConfigV3(slots, groups, proxies)
	if err != nil {
		t.Fatal(err)
	}
	if len(c.Slots) != MaxSlotNum {
		t.Fatalf("%d slots", len(c.Slots))
	}
	for i, m := range c.Slots {
		if m.ID != i {
			t.Fatalf("slot %d has id %d", i, m.ID)
		}
		want := 0
		switch i {
		case 0:
			want = 3
		case 5:
			want = 1
		}
		if m.GroupID != want || !m.Action.IsEmpty() {
			t.Fatalf("slot %d = %+v", i, m)
		}
	}
	if len(c.Group) != 2 || c.Group[0].ID != 1 || c.Group[1].ID != 3 {
		t.Errorf("groups not sorted: %+v", c.Group)
	}
	var toks []string
	for _, p := range c.Proxy {
		toks = append(toks, p.Token)
	}
	if strings.Join(toks, ",") != "b,c,a" {
		t.Errorf("proxies not sorted by id then token: %v", toks)
	}
	if _, err := NewConfigV3([]*SlotMapping{{ID: 1024}}, nil, nil); !errors.Is(err, ErrInvalidSlotID) {
		t.Errorf("slot 1024: %v", err)
	}
	if _, err := NewConfigV3([]*SlotMapping{{ID: 1}, {ID: 1}}, nil, nil); err == nil || err.Error() != "slot-0001 already exists" {
		t.Errorf("duplicate: %v", err)
	}
	empty, err := NewConfigV3(nil, nil, nil)
	if err != nil || len(empty.Slots) != MaxSlotNum || empty.Group != nil || empty.Proxy != nil {
		t.Errorf("empty: %v %+v", err, empty)
	}
	// Offline slots are encoded with the always-present action.
	if !strings.Contains(string(Encode(empty)), "{\n            \"id\": 1023,\n            \"group_id\": 0,\n            \"action\": {}\n        }") {
		t.Errorf("offline slot encoding:\n%s", Encode(empty))
	}
}

func TestConfigV3RoundTrip(t *testing.T) {
	c, err := NewConfigV3(validConfig().Slots, map[int]*Group{1: validConfig().Group[0], 2: validConfig().Group[1]}, map[string]*Proxy{"aaaa": {ID: 1, Token: "aaaa"}})
	if err != nil {
		t.Fatal(err)
	}
	b := Encode(c)
	c2 := &ConfigV3{}
	if err := Decode("dump.json", b, c2); err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(c, c2) {
		t.Errorf("round trip differs")
	}
	if string(Encode(c2)) != string(b) {
		t.Errorf("re-encoding differs")
	}
	// A full dump contains offline slots, which restore refuses (§11.15).
	if err := c2.Validate(); err == nil || err.Error() != "slot-0002 with group-0000 doesn't exist or empty" {
		t.Errorf("validate dump with offline slots: %v", err)
	}
}
