package models

import "fmt"

// SlotMapping is the stored state of one slot, at
// /codis3/{product}/slots/slot-{sid:%04d} (SPEC-control §2.5). GroupID 0
// means offline. Action is always encoded, as {} when idle.
type SlotMapping struct {
	ID      int        `json:"id"`
	GroupID int        `json:"group_id"`
	Action  SlotAction `json:"action"`
}

// SlotAction is a pending or running migration of a slot to TargetID.
// Index orders pending actions; State is one of "", pending, preparing,
// prepared, migrating, finished.
type SlotAction struct {
	Index    int    `json:"index,omitempty"`
	State    string `json:"state,omitempty"`
	TargetID int    `json:"target_id,omitempty"`
}

// IsEmpty reports whether the action is entirely zero.
func (a SlotAction) IsEmpty() bool { return a == SlotAction{} }

// Clone returns a copy of m (nil for nil).
func (m *SlotMapping) Clone() *SlotMapping {
	if m == nil {
		return nil
	}
	c := *m
	return &c
}

// Validate checks the slot id, the group id (0 or 1..MaxGroupId), the
// action state, and, when an action is set, its target group id.
func (m *SlotMapping) Validate() error {
	if m == nil {
		return fmt.Errorf("%w: slot mapping", ErrNilModel)
	}
	if err := ValidateSlotID(m.ID); err != nil {
		return err
	}
	if m.GroupID != 0 {
		if err := ValidateGroupID(m.GroupID); err != nil {
			return fmt.Errorf("slot-%04d: %w", m.ID, err)
		}
	}
	if err := ValidateSlotActionState(m.Action.State); err != nil {
		return fmt.Errorf("slot-%04d: %w", m.ID, err)
	}
	if m.Action.State != ActionNothing {
		if err := ValidateGroupID(m.Action.TargetID); err != nil {
			return fmt.Errorf("slot-%04d action target: %w", m.ID, err)
		}
	}
	return nil
}

// Forward methods of a Slot (the dashboard's migration_method).
const (
	ForwardSync      = 0 // "sync"
	ForwardSemiAsync = 1 // "semi-async"
)

// Slot is the routing entry the dashboard pushes to proxies (fillslots),
// returned by /api/topom/slots and the proxy's /slots (SPEC-control §2.6).
// Zero fields are omitted except id.
type Slot struct {
	ID     int  `json:"id"`
	Locked bool `json:"locked,omitempty"` // hold requests for this slot

	BackendAddr        string `json:"backend_addr,omitempty"` // group master to forward to
	BackendAddrGroupID int    `json:"backend_addr_group_id,omitempty"`
	MigrateFrom        string `json:"migrate_from,omitempty"` // old master while migrating
	MigrateFromGroupID int    `json:"migrate_from_group_id,omitempty"`

	ForwardMethod int `json:"forward_method,omitempty"` // ForwardSync or ForwardSemiAsync

	ReplicaGroups [][]string `json:"replica_groups,omitempty"` // read replicas by priority
}

// Validate checks what a proxy checks before accepting a slot: the id is in
// range and ForwardMethod is ForwardSync or ForwardSemiAsync.
func (s *Slot) Validate() error {
	if s == nil {
		return fmt.Errorf("%w: slot", ErrNilModel)
	}
	if err := ValidateSlotID(s.ID); err != nil {
		return err
	}
	switch s.ForwardMethod {
	case ForwardSync, ForwardSemiAsync:
		return nil
	}
	return fmt.Errorf("slot-%04d: %w = %d", s.ID, ErrInvalidForwardMethod, s.ForwardMethod)
}

// Clone returns a deep copy of s (nil for nil).
func (s *Slot) Clone() *Slot {
	if s == nil {
		return nil
	}
	c := *s
	if s.ReplicaGroups != nil {
		c.ReplicaGroups = make([][]string, len(s.ReplicaGroups))
		for i, g := range s.ReplicaGroups {
			if g != nil {
				c.ReplicaGroups[i] = append([]string{}, g...)
			}
		}
	}
	return &c
}
