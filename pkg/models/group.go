package models

import "fmt"

// Group is a replication group, stored at
// /codis3/{product}/group/group-{gid:%04d} (SPEC-control §2.4). Servers[0]
// is the master. Promoting is always encoded, as {} when idle.
type Group struct {
	ID        int            `json:"id"`
	Servers   []*GroupServer `json:"servers"`
	Promoting Promoting      `json:"promoting"`
	OutOfSync bool           `json:"out_of_sync"`
}

// Promoting is the promotion state of a group: Index is the server being
// promoted, State one of "", preparing, prepared, finished.
type Promoting struct {
	Index int    `json:"index,omitempty"`
	State string `json:"state,omitempty"`
}

// GroupServer is one codis-server of a group. Action is always encoded.
type GroupServer struct {
	Addr         string       `json:"server"` // host:port
	DataCenter   string       `json:"datacenter"`
	Action       ServerAction `json:"action"`
	ReplicaGroup bool         `json:"replica_group"`
}

// ServerAction is a sync ("SLAVEOF") action: Index orders pending actions,
// State is one of "", pending, syncing, synced, synced_failed.
type ServerAction struct {
	Index int    `json:"index,omitempty"`
	State string `json:"state,omitempty"`
}

// NewGroup returns an empty group as the dashboard creates it:
// {"id": gid, "servers": [], "promoting": {}, "out_of_sync": false}.
func NewGroup(gid int) *Group {
	return &Group{ID: gid, Servers: []*GroupServer{}}
}

// Master returns the address of Servers[0], or "" for an empty group.
func (g *Group) Master() string {
	if g == nil || len(g.Servers) == 0 || g.Servers[0] == nil {
		return ""
	}
	return g.Servers[0].Addr
}

// IndexOf returns the position of addr in Servers, or -1.
func (g *Group) IndexOf(addr string) int {
	if g == nil {
		return -1
	}
	for i, x := range g.Servers {
		if x != nil && x.Addr == addr {
			return i
		}
	}
	return -1
}

// Addrs returns the server addresses in order (master first).
func (g *Group) Addrs() []string {
	if g == nil {
		return nil
	}
	addrs := make([]string, 0, len(g.Servers))
	for _, x := range g.Servers {
		if x != nil {
			addrs = append(addrs, x.Addr)
		}
	}
	return addrs
}

// IsPromoting reports whether a promotion is in progress.
func (g *Group) IsPromoting() bool {
	return g != nil && g.Promoting.State != ActionNothing
}

// Validate checks what the rest of the system relies on: a group id in
// 1..MaxGroupId, no null or empty-address servers, and known promoting and
// sync action states.
func (g *Group) Validate() error {
	if g == nil {
		return fmt.Errorf("%w: group", ErrNilModel)
	}
	if err := ValidateGroupID(g.ID); err != nil {
		return err
	}
	if err := ValidatePromotingState(g.Promoting.State); err != nil {
		return fmt.Errorf("group-%04d: %w", g.ID, err)
	}
	for i, x := range g.Servers {
		if x == nil {
			return fmt.Errorf("group-%04d: %w: servers[%d] is null", g.ID, ErrNilModel, i)
		}
		if x.Addr == "" {
			return fmt.Errorf("group-%04d: servers[%d] has an empty address", g.ID, i)
		}
		if err := ValidateSyncActionState(x.Action.State); err != nil {
			return fmt.Errorf("group-%04d server %s: %w", g.ID, x.Addr, err)
		}
	}
	return nil
}

// Clone returns a deep copy of g (nil for nil). A nil Servers list stays
// nil so that the copy encodes exactly like the original.
func (g *Group) Clone() *Group {
	if g == nil {
		return nil
	}
	c := *g
	if g.Servers != nil {
		c.Servers = make([]*GroupServer, len(g.Servers))
		for i, x := range g.Servers {
			c.Servers[i] = x.Clone()
		}
	}
	return &c
}

// Clone returns a copy of x (nil for nil).
func (x *GroupServer) Clone() *GroupServer {
	if x == nil {
		return nil
	}
	c := *x
	return &c
}
