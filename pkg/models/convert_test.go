package models

import (
	"errors"
	"strings"
	"testing"
)

const v1Dump = `{
    "slots": {
        "slot_2": {"product_name": "p", "id": 2, "group_id": 2, "state": {"status": "online", "migrate_status": {"from": -1, "to": -1}, "last_op_ts": "0"}},
        "slot_0": {"product_name": "p", "id": 0, "group_id": 1, "state": {"status": "online"}},
        "slot_1": {"product_name": "p", "id": 1, "group_id": 1, "state": {"status": "offline"}},
        "slot_10": {"id": 10.0, "group_id": 2, "state": {"status": "online"}}
    },
    "servers": {
        "group_2": {
            "127.0.0.1:6381": {"type": "slave", "group_id": 2, "addr": "127.0.0.1:6381"},
            "127.0.0.1:6382": {"type": "master", "group_id": 2, "addr": "127.0.0.1:6382"},
            "127.0.0.1:6383": {"type": "offline", "group_id": 2, "addr": "127.0.0.1:6383"}
        },
        "group_1": {
            "127.0.0.1:6379": {"type": "master", "group_id": 1, "addr": "127.0.0.1:6379"}
        },
        "group_empty": null
    },
    "proxy": {"proxy_1": {"id": "proxy_1", "addr": "x:19000"}},
    "ActionResponse": {},
    "LOCK": null
}`

const v1Converted = `{
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
        },
        {
            "id": 10,
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
                    "server": "127.0.0.1:6382",
                    "datacenter": "",
                    "action": {},
                    "replica_group": false
                },
                {
                    "server": "127.0.0.1:6381",
                    "datacenter": "",
                    "action": {},
                    "replica_group": false
                },
                {
                    "server": "127.0.0.1:6383",
                    "datacenter": "",
                    "action": {},
                    "replica_group": false
                }
            ],
            "promoting": {},
            "out_of_sync": false
        }
    ]
}`

func TestConvertV1(t *testing.T) {
	c, err := ConvertV1([]byte(v1Dump))
	if err != nil {
		t.Fatal(err)
	}
	wantJSON(t, "converted", Encode(c), v1Converted)
	if c.Proxy != nil {
		t.Errorf("proxies converted: %+v", c.Proxy)
	}
	// The result is a restorable config.
	if err := c.Validate(); err != nil {
		t.Errorf("converted config invalid: %v", err)
	}
}

func TestConvertV1MasterFirst(t *testing.T) {
	// Whatever the key order, the master ends up first and slaves keep
	// their (key) order.
	c, err := ConvertV1([]byte(`{"servers": {"g": {
		"a": {"addr": "a:1", "group_id": 7, "type": "slave"},
		"b": {"addr": "b:1", "group_id": 7, "type": "slave"},
		"z": {"addr": "z:1", "group_id": 7, "type": "master"}}}}`))
	if err != nil {
		t.Fatal(err)
	}
	if len(c.Group) != 1 || strings.Join(c.Group[0].Addrs(), ",") != "z:1,a:1,b:1" || c.Group[0].ID != 7 {
		t.Fatalf("got %s", Encode(c))
	}
	if c.Slots != nil {
		t.Errorf("slots invented: %+v", c.Slots)
	}
}

func TestConvertV1Empty(t *testing.T) {
	for _, in := range []string{`{}`, `{"slots": null, "servers": null}`, `{"slots": {}, "servers": {}}`, `{"other": 1}`} {
		c, err := ConvertV1([]byte(in))
		if err != nil {
			t.Errorf("%s: %v", in, err)
			continue
		}
		wantJSON(t, in, Encode(c), "{}")
	}
}

func TestConvertV1Errors(t *testing.T) {
	slot := func(body string) string { return `{"slots": {"slot_3": ` + body + `}}` }
	server := func(body string) string { return `{"servers": {"group_1": {"a:1": ` + body + `}}}` }
	tests := []struct {
		in, want string
	}{
		{`{"slots": `, "v1 config: decode: unexpected EOF"},
		{``, "v1 config: decode: unexpected EOF"},
		{`{} {}`, "v1 config: decode: invalid data after top-level value"},
		{`[]`, "v1 config is not an object"},
		{`{"slots": []}`, `v1 "slots" is not an object`},
		{`{"servers": 1}`, `v1 "servers" is not an object`},
		{slot(`1`), `v1 slots["slot_3"] is not an object`},
		{slot(`{"id": 3, "group_id": 1, "state": {"status": "migrate"}}`), `invalid slot status = "migrate" (slots["slot_3"])`},
		{slot(`{"id": 3, "group_id": 1, "state": {"status": ""}}`), `invalid slot status = "" (slots["slot_3"])`},
		{slot(`{"id": 3, "group_id": 1, "state": {}}`), `v1 slots["slot_3"]: "state.status" is not a string`},
		{slot(`{"id": 3, "group_id": 1}`), `v1 slots["slot_3"]: "state" is not an object`},
		{slot(`{"group_id": 1, "state": {"status": "online"}}`), `v1 slots["slot_3"]: "id" is not a number`},
		{slot(`{"id": "3", "group_id": 1, "state": {"status": "online"}}`), `v1 slots["slot_3"]: "id" is not a number`},
		{slot(`{"id": 3.5, "group_id": 1, "state": {"status": "online"}}`), `v1 slots["slot_3"]: "id" = 3.5 is not a valid integer`},
		{slot(`{"id": 1e30, "group_id": 1, "state": {"status": "online"}}`), `v1 slots["slot_3"]: "id" = 1e30 is not a valid integer`},
		{slot(`{"id": 3, "state": {"status": "online"}}`), `v1 slots["slot_3"]: "group_id" is not a number`},
		{slot(`{"id": 1024, "group_id": 1, "state": {"status": "online"}}`), `invalid slot id = 1024 (slots["slot_3"])`},
		{`{"slots": {"a": {"id": 3, "group_id": 1, "state": {"status": "online"}}, "b": {"id": 3, "group_id": 2, "state": {"status": "online"}}}}`, "slot-0003 already exists"},
		{`{"servers": {"group_1": 5}}`, `v1 servers["group_1"] is not an object`},
		{server(`"x"`), `v1 servers["group_1/a:1"] is not an object`},
		{server(`{"group_id": 1, "type": "master"}`), `v1 servers["group_1/a:1"]: "addr" is not a string`},
		{server(`{"addr": "a:1", "type": "master"}`), `v1 servers["group_1/a:1"]: "group_id" is not a number`},
		{server(`{"addr": "a:1", "group_id": 1}`), `v1 servers["group_1/a:1"]: "type" is not a string`},
		{server(`{"addr": "a:1", "group_id": 0, "type": "master"}`), `invalid group id = 0 (servers["group_1/a:1"])`},
		{server(`{"addr": "a:1", "group_id": 10000, "type": "master"}`), `invalid group id = 10000 (servers["group_1/a:1"])`},
	}
	for _, tc := range tests {
		c, err := ConvertV1([]byte(tc.in))
		if err == nil {
			t.Errorf("%s: accepted: %s", tc.in, Encode(c))
			continue
		}
		if err.Error() != tc.want {
			t.Errorf("%s:\n got %q\nwant %q", tc.in, err, tc.want)
		}
		if !errors.Is(err, ErrInvalidConfigV1) {
			t.Errorf("%s: does not wrap ErrInvalidConfigV1", tc.in)
		}
	}
	// Duplicates only matter between online slots.
	if _, err := ConvertV1([]byte(`{"slots": {"a": {"id": 3, "group_id": 1, "state": {"status": "offline"}}, "b": {"id": 3, "group_id": 2, "state": {"status": "online"}}}}`)); err != nil {
		t.Errorf("offline duplicate: %v", err)
	}
}
