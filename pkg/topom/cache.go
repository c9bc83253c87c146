package topom

import (
	"fmt"
	"sort"

	"github.com/codisgo/codis/pkg/models"
)

// cache is the dashboard's in-memory copy of the topology (SPEC-control
// §5.4). Entries are immutable once in the cache: an update stores a new
// value (a clone), so a snapshot can share them without copying. Guarded
// by Topom.mu; only operations holding Topom.opMu change it.
type cache struct {
	slots    []*models.SlotMapping    // MaxSlotNum entries once loaded
	groups   map[int]*models.Group    // by id
	proxies  map[string]*models.Proxy // by token
	sentinel *models.Sentinel         // never nil once loaded
	loaded   bool                     // a full load succeeded
	dirty    dirtySet                 // entries to re-read before use
}

// dirtySet names cache entries whose stored value is unknown (a write
// failed, or reload was requested).
type dirtySet struct {
	all      bool
	slots    map[int]bool
	groups   map[int]bool
	proxies  map[string]bool
	sentinel bool
}

func (d *dirtySet) empty() bool {
	return !d.all && len(d.slots) == 0 && len(d.groups) == 0 && len(d.proxies) == 0 && !d.sentinel
}

func (d *dirtySet) reset() { *d = dirtySet{} }

func (d *dirtySet) slot(sid int) {
	if d.slots == nil {
		d.slots = map[int]bool{}
	}
	d.slots[sid] = true
}

func (d *dirtySet) group(gid int) {
	if d.groups == nil {
		d.groups = map[int]bool{}
	}
	d.groups[gid] = true
}

func (d *dirtySet) proxy(token string) {
	if d.proxies == nil {
		d.proxies = map[string]bool{}
	}
	d.proxies[token] = true
}

// snapshot is a consistent view of the cache taken for one operation (the
// "context" of the original). It must not be modified: clone an entry
// before changing it.
type snapshot struct {
	slots    []*models.SlotMapping
	groups   map[int]*models.Group
	proxies  map[string]*models.Proxy
	sentinel *models.Sentinel
	method   int // forward method pushed with every slot
}

func (c *snapshot) slot(sid int) (*models.SlotMapping, error) {
	if sid < 0 || sid >= len(c.slots) {
		return nil, errorf(ErrNotFound, "slot-[%d] doesn't exist", sid)
	}
	return c.slots[sid], nil
}

func (c *snapshot) group(gid int) (*models.Group, error) {
	g := c.groups[gid]
	if g == nil {
		return nil, errorf(ErrNotFound, "group-[%d] doesn't exist", gid)
	}
	return g, nil
}

// nonEmptyGroup is group plus the "group-[gid] is empty" check.
func (c *snapshot) nonEmptyGroup(gid int) (*models.Group, error) {
	g, err := c.group(gid)
	if err != nil {
		return nil, err
	}
	if len(g.Servers) == 0 {
		return nil, errorf(ErrRefused, "group-[%d] is empty", gid)
	}
	return g, nil
}

func (c *snapshot) proxy(token string) (*models.Proxy, error) {
	p := c.proxies[token]
	if p == nil {
		return nil, errorf(ErrNotFound, "proxy-[%s] doesn't exist", token)
	}
	return p, nil
}

// master returns the master of group gid or "".
func (c *snapshot) master(gid int) string {
	return c.groups[gid].Master()
}

// locked reports whether group gid is in the prepared promotion step.
func (c *snapshot) locked(gid int) bool {
	g := c.groups[gid]
	return g != nil && g.Promoting.State == models.ActionPrepared
}

func (c *snapshot) promoting(gid int) bool {
	return c.groups[gid].IsPromoting()
}

// serverGroup finds the group holding addr: (group, index) or (nil, -1).
func (c *snapshot) serverGroup(addr string) (*models.Group, int) {
	for _, g := range c.groups {
		if i := g.IndexOf(addr); i >= 0 {
			return g, i
		}
	}
	return nil, -1
}

// groupInUse reports whether a slot belongs to gid or migrates into it.
func (c *snapshot) groupInUse(gid int) bool {
	for _, m := range c.slots {
		if m.GroupID == gid || m.Action.TargetID == gid {
			return true
		}
	}
	return false
}

// groupSlots returns the slots that belong to or migrate into gid.
func (c *snapshot) groupSlots(gid int) []*models.SlotMapping {
	var out []*models.SlotMapping
	for _, m := range c.slots {
		if m.GroupID == gid || m.Action.TargetID == gid {
			out = append(out, m)
		}
	}
	return out
}

// maxSlotActionIndex is the largest index among slots with an action.
func (c *snapshot) maxSlotActionIndex() int {
	n := 0
	for _, m := range c.slots {
		if m.Action.State != models.ActionNothing && m.Action.Index > n {
			n = m.Action.Index
		}
	}
	return n
}

// maxSyncActionIndex is the largest index among pending server actions.
func (c *snapshot) maxSyncActionIndex() int {
	n := 0
	for _, g := range c.groups {
		for _, x := range g.Servers {
			if x.Action.State == models.ActionPending && x.Action.Index > n {
				n = x.Action.Index
			}
		}
	}
	return n
}

func (c *snapshot) maxProxyID() int {
	n := 0
	for _, p := range c.proxies {
		if p.ID > n {
			n = p.ID
		}
	}
	return n
}

func (c *snapshot) sortedGroups() []*models.Group {
	out := make([]*models.Group, 0, len(c.groups))
	for _, g := range c.groups {
		out = append(out, g)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].ID < out[j].ID })
	return out
}

func (c *snapshot) sortedProxies() []*models.Proxy {
	out := make([]*models.Proxy, 0, len(c.proxies))
	for _, p := range c.proxies {
		out = append(out, p)
	}
	sort.Slice(out, func(i, j int) bool {
		if out[i].ID != out[j].ID {
			return out[i].ID < out[j].ID
		}
		return out[i].Token < out[j].Token
	})
	return out
}

// toSlot computes the Slot pushed to proxy p (nil: the dashboard's own
// view) for mapping m (SPEC-control §5.11 table, §5.10). res resolves
// addresses for replica-group priorities; it caches per push.
func (c *snapshot) toSlot(m *models.SlotMapping, p *models.Proxy, res *resolver) (*models.Slot, error) {
	s := &models.Slot{ID: m.ID, ForwardMethod: c.method}
	g, t := m.GroupID, m.Action.TargetID
	switch m.Action.State {
	case models.ActionNothing, models.ActionPending:
		s.BackendAddr, s.BackendAddrGroupID = c.master(g), g
		s.Locked = c.locked(g)
		s.ReplicaGroups = c.replicaGroups(g, p, res)
	case models.ActionPreparing:
		s.BackendAddr, s.BackendAddrGroupID = c.master(g), g
		s.Locked = c.locked(g)
	case models.ActionPrepared:
		s.BackendAddr, s.BackendAddrGroupID = c.master(t), t
		s.MigrateFrom, s.MigrateFromGroupID = c.master(g), g
		s.Locked = true
	case models.ActionMigrating:
		s.BackendAddr, s.BackendAddrGroupID = c.master(t), t
		s.MigrateFrom, s.MigrateFromGroupID = c.master(g), g
		s.Locked = c.locked(g) || c.locked(t)
	case models.ActionFinished:
		s.BackendAddr, s.BackendAddrGroupID = c.master(t), t
		s.Locked = c.locked(t)
	default:
		return nil, fmt.Errorf("slot-[%d] action state %q is invalid: %w", m.ID, m.Action.State, models.ErrInvalidState)
	}
	return s, nil
}

// toSlots is toSlot over a list.
func (c *snapshot) toSlots(ms []*models.SlotMapping, p *models.Proxy, res *resolver) ([]*models.Slot, error) {
	out := make([]*models.Slot, 0, len(ms))
	for _, m := range ms {
		s, err := c.toSlot(m, p, res)
		if err != nil {
			return nil, err
		}
		out = append(out, s)
	}
	return out, nil
}

// replicaGroups implements §5.10 for group gid as seen by proxy p.
func (c *snapshot) replicaGroups(gid int, p *models.Proxy, res *resolver) [][]string {
	g := c.groups[gid]
	if g == nil || g.IsPromoting() || len(g.Servers) < 2 {
		return nil
	}
	var prio [3][]string
	for _, x := range g.Servers {
		if !x.ReplicaGroup {
			continue
		}
		i := 2
		if p != nil && p.DataCenter == x.DataCenter {
			if pip := res.hostIP(p.AdminAddr); pip != "" {
				if pip == res.hostIP(x.Addr) {
					i = 0
				} else {
					i = 1
				}
			}
		}
		prio[i] = append(prio[i], x.Addr)
	}
	var out [][]string
	for _, l := range prio {
		if len(l) != 0 {
			out = append(out, l)
		}
	}
	return out
}
