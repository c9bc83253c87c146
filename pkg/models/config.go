package models

import (
	"fmt"
	"sort"
)

// ConfigV3 is the dump format of codis-admin --config-dump, --config-convert
// and --config-restore (SPEC-control §2.9). The topom lock and the sentinel
// record are not part of it.
type ConfigV3 struct {
	Slots []*SlotMapping `json:"slots,omitempty"`
	Group []*Group       `json:"group,omitempty"` // sorted by id
	Proxy []*Proxy       `json:"proxy,omitempty"` // sorted by id
}

// NewConfigV3 builds a dump: all MaxSlotNum slots in id order (a slot
// missing from slots is offline, {"id": N, "group_id": 0, "action": {}}),
// the groups sorted by id and the proxies sorted by id. Nil entries are
// skipped; a slot id out of range or given twice is an error. The models
// are shared with the arguments, not copied.
func NewConfigV3(slots []*SlotMapping, groups map[int]*Group, proxies map[string]*Proxy) (*ConfigV3, error) {
	all := make([]*SlotMapping, MaxSlotNum)
	for _, m := range slots {
		if m == nil {
			continue
		}
		if err := ValidateSlotID(m.ID); err != nil {
			return nil, err
		}
		if all[m.ID] != nil {
			return nil, fmt.Errorf("slot-%04d already exists", m.ID)
		}
		all[m.ID] = m
	}
	for i := range all {
		if all[i] == nil {
			all[i] = &SlotMapping{ID: i}
		}
	}
	return &ConfigV3{Slots: all, Group: SortGroups(groups), Proxy: SortProxies(proxies)}, nil
}

// SortGroups returns the non-nil groups of m sorted by id (nil if none).
func SortGroups(m map[int]*Group) []*Group {
	var list []*Group
	for _, g := range m {
		if g != nil {
			list = append(list, g)
		}
	}
	sort.Slice(list, func(i, j int) bool { return list[i].ID < list[j].ID })
	return list
}

// SortProxies returns the non-nil proxies of m sorted by id, then token
// (nil if none).
func SortProxies(m map[string]*Proxy) []*Proxy {
	var list []*Proxy
	for _, p := range m {
		if p != nil {
			list = append(list, p)
		}
	}
	sort.Slice(list, func(i, j int) bool {
		if list[i].ID != list[j].ID {
			return list[i].ID < list[j].ID
		}
		return list[i].Token < list[j].Token
	})
	return list
}

// Validate applies the --config-restore rules (SPEC-control §6.4) in the
// original order and with the original messages:
//
//   - proxies: unique tokens ("proxy-{token} already exists");
//   - groups: id in 1..MaxGroupId ("invalid group id = N"), unique
//     ("group-%04d already exists"), not promoting ("gorup-%04d is
//     promoting", sic), server addresses unique across all groups
//     ("server {addr} already exists");
//   - slots: id in 0..MaxSlotNum-1 ("invalid slot id = N"), unique
//     ("slot-%04d already exists"), no action ("slot-%04d action is not
//     empty"), group exists and has servers ("slot-%04d with group-%04d
//     doesn't exist or empty").
//
// Beyond the original it rejects null entries and proxy tokens that cannot
// name a store node, so that a restore never fails half-way. Every error
// wraps ErrInvalidConfig.
func (c *ConfigV3) Validate() error {
	if c == nil {
		return errorf(ErrInvalidConfig, "config is null")
	}
	proxies := make(map[string]bool, len(c.Proxy))
	for i, p := range c.Proxy {
		if p == nil {
			return errorf(ErrInvalidConfig, "proxy[%d] is null", i)
		}
		if proxies[p.Token] {
			return errorf(ErrInvalidConfig, "proxy-%s already exists", p.Token)
		}
		if err := ValidateToken(p.Token); err != nil {
			return errorf(ErrInvalidConfig, "proxy[%d]: %v", i, err)
		}
		proxies[p.Token] = true
	}

	groups := make(map[int]*Group, len(c.Group))
	addrs := make(map[string]bool)
	for i, g := range c.Group {
		if g == nil {
			return errorf(ErrInvalidConfig, "group[%d] is null", i)
		}
		if err := ValidateGroupID(g.ID); err != nil {
			return errorf(ErrInvalidConfig, "%v", err)
		}
		if groups[g.ID] != nil {
			return errorf(ErrInvalidConfig, "group-%04d already exists", g.ID)
		}
		if g.Promoting.State != ActionNothing {
			return errorf(ErrInvalidConfig, "gorup-%04d is promoting", g.ID)
		}
		for j, x := range g.Servers {
			if x == nil {
				return errorf(ErrInvalidConfig, "group-%04d servers[%d] is null", g.ID, j)
			}
			if addrs[x.Addr] {
				return errorf(ErrInvalidConfig, "server %s already exists", x.Addr)
			}
			addrs[x.Addr] = true
		}
		groups[g.ID] = g
	}

	slots := make(map[int]bool, len(c.Slots))
	for i, s := range c.Slots {
		if s == nil {
			return errorf(ErrInvalidConfig, "slots[%d] is null", i)
		}
		if err := ValidateSlotID(s.ID); err != nil {
			return errorf(ErrInvalidConfig, "%v", err)
		}
		if slots[s.ID] {
			return errorf(ErrInvalidConfig, "slot-%04d already exists", s.ID)
		}
		if !s.Action.IsEmpty() {
			return errorf(ErrInvalidConfig, "slot-%04d action is not empty", s.ID)
		}
		if g := groups[s.GroupID]; g == nil || len(g.Servers) == 0 {
			return errorf(ErrInvalidConfig, "slot-%04d with group-%04d doesn't exist or empty", s.ID, s.GroupID)
		}
		slots[s.ID] = true
	}
	return nil
}
