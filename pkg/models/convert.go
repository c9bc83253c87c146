package models

import (
	"encoding/json"
	"math"
	"sort"
	"strconv"
)

// ConvertV1 converts a Codis 2.x dump (the output of codis-admin
// --config-dump -1) into a ConfigV3, as --config-convert does
// (SPEC-control §6.4):
//
//   - every value of the top-level "slots" object is a slot with "id",
//     "group_id" and "state.status"; "online" slots become {id, group_id},
//     "offline" ones are skipped, any other status is an error, and so is
//     an id seen twice or out of range;
//   - every value of the top-level "servers" object is a group: an object
//     whose values are servers with "addr", "group_id" (1..MaxGroupId) and
//     "type"; a "master" goes first in its group, anything else is
//     appended;
//   - other top-level keys are ignored; the result has slots and groups
//     sorted by id and no proxies.
//
// Object members are visited in key order, so the output is deterministic
// (the original visited them in Go map order). Every error wraps
// ErrInvalidConfigV1.
func ConvertV1(data []byte) (*ConfigV3, error) {
	root, err := decodeAny("", data)
	if err != nil {
		return nil, errorf(ErrInvalidConfigV1, "v1 config: %v", err)
	}
	top, ok := root.(map[string]any)
	if !ok {
		return nil, errorf(ErrInvalidConfigV1, "v1 config is not an object")
	}
	cfg := &ConfigV3{}

	if v := top["slots"]; v != nil {
		slots, ok := v.(map[string]any)
		if !ok {
			return nil, errorf(ErrInvalidConfigV1, "v1 \"slots\" is not an object")
		}
		all := make([]*SlotMapping, MaxSlotNum)
		for _, key := range sortedKeys(slots) {
			m, err := convertSlotV1(key, slots[key])
			if err != nil {
				return nil, err
			}
			if m == nil {
				continue
			}
			if all[m.ID] != nil {
				return nil, errorf(ErrInvalidConfigV1, "slot-%04d already exists", m.ID)
			}
			all[m.ID] = m
		}
		for _, m := range all {
			if m != nil {
				cfg.Slots = append(cfg.Slots, m)
			}
		}
	}

	if v := top["servers"]; v != nil {
		servers, ok := v.(map[string]any)
		if !ok {
			return nil, errorf(ErrInvalidConfigV1, "v1 \"servers\" is not an object")
		}
		groups := make(map[int]*Group)
		for _, gkey := range sortedKeys(servers) {
			if servers[gkey] == nil {
				continue // a group node without servers and without data
			}
			members, ok := servers[gkey].(map[string]any)
			if !ok {
				return nil, errorf(ErrInvalidConfigV1, "v1 servers[%q] is not an object", gkey)
			}
			for _, skey := range sortedKeys(members) {
				if err := convertServerV1(groups, gkey+"/"+skey, members[skey]); err != nil {
					return nil, err
				}
			}
		}
		cfg.Group = SortGroups(groups)
	}
	return cfg, nil
}

// convertSlotV1 returns the mapping of an online slot, nil for an offline
// one.
func convertSlotV1(key string, v any) (*SlotMapping, error) {
	what := "slots[" + strconv.Quote(key) + "]"
	m, ok := v.(map[string]any)
	if !ok {
		return nil, errorf(ErrInvalidConfigV1, "v1 %s is not an object", what)
	}
	sid, err := v1Int(m, "id", what)
	if err != nil {
		return nil, err
	}
	gid, err := v1Int(m, "group_id", what)
	if err != nil {
		return nil, err
	}
	state, ok := m["state"].(map[string]any)
	if !ok {
		return nil, errorf(ErrInvalidConfigV1, "v1 %s: \"state\" is not an object", what)
	}
	status, ok := state["status"].(string)
	if !ok {
		return nil, errorf(ErrInvalidConfigV1, "v1 %s: \"state.status\" is not a string", what)
	}
	switch status {
	case "online":
	case "offline":
		return nil, nil
	default:
		return nil, errorf(ErrInvalidConfigV1, "invalid slot status = %q (%s)", status, what)
	}
	if err := ValidateSlotID(sid); err != nil {
		return nil, errorf(ErrInvalidConfigV1, "%v (%s)", err, what)
	}
	return &SlotMapping{ID: sid, GroupID: gid}, nil
}

func convertServerV1(groups map[int]*Group, key string, v any) error {
	what := "servers[" + strconv.Quote(key) + "]"
	m, ok := v.(map[string]any)
	if !ok {
		return errorf(ErrInvalidConfigV1, "v1 %s is not an object", what)
	}
	addr, ok := m["addr"].(string)
	if !ok {
		return errorf(ErrInvalidConfigV1, "v1 %s: \"addr\" is not a string", what)
	}
	gid, err := v1Int(m, "group_id", what)
	if err != nil {
		return err
	}
	typ, ok := m["type"].(string)
	if !ok {
		return errorf(ErrInvalidConfigV1, "v1 %s: \"type\" is not a string", what)
	}
	if err := ValidateGroupID(gid); err != nil {
		return errorf(ErrInvalidConfigV1, "%v (%s)", err, what)
	}
	g := groups[gid]
	if g == nil {
		g = NewGroup(gid)
		groups[gid] = g
	}
	x := &GroupServer{Addr: addr}
	if typ == "master" {
		g.Servers = append([]*GroupServer{x}, g.Servers...)
	} else {
		g.Servers = append(g.Servers, x)
	}
	return nil
}

// v1Int reads an integral JSON number (json.Number) member.
func v1Int(m map[string]any, key, what string) (int, error) {
	n, ok := m[key].(json.Number)
	if !ok {
		return 0, errorf(ErrInvalidConfigV1, "v1 %s: %q is not a number", what, key)
	}
	if i, err := strconv.ParseInt(string(n), 10, 64); err == nil && i >= math.MinInt32 && i <= math.MaxInt32 {
		return int(i), nil
	}
	f, err := n.Float64()
	if err != nil || f != math.Trunc(f) || f < math.MinInt32 || f > math.MaxInt32 {
		return 0, errorf(ErrInvalidConfigV1, "v1 %s: %q = %s is not a valid integer", what, key, n)
	}
	return int(f), nil
}

func sortedKeys(m map[string]any) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}
