package topom

import (
	"sort"

	"github.com/codisgo/codis/pkg/models"
)

// checkSlotActionTarget validates the target group of a new slot action.
func checkSlotActionTarget(c *snapshot, gid int) error {
	_, err := c.nonEmptyGroup(gid)
	return err
}

// checkSlotActionSlot validates one slot for a new action to gid.
func checkSlotActionSlot(c *snapshot, sid, gid int) (*models.SlotMapping, error) {
	m, err := c.slot(sid)
	if err != nil {
		return nil, err
	}
	if m.Action.State != models.ActionNothing {
		return nil, errorf(ErrExists, "slot-[%d] action already exists", sid)
	}
	if m.GroupID == gid {
		return nil, errorf(ErrRefused, "slot-[%d] already in group-[%d]", sid, gid)
	}
	return m, nil
}

// storePendingActions stores a pending action to gid for each slot, with
// consecutive indexes after the current maximum.
func (s *Topom) storePendingActions(c *snapshot, ms []*models.SlotMapping, target func(*models.SlotMapping) int) error {
	idx := c.maxSlotActionIndex()
	for _, m := range ms {
		idx++
		m = m.Clone()
		m.Action = models.SlotAction{Index: idx, State: models.ActionPending, TargetID: target(m)}
		if err := s.storeSlot(c, m); err != nil {
			return err
		}
	}
	return nil
}

// SlotCreateAction queues the migration of slot sid to group gid.
func (s *Topom) SlotCreateAction(sid, gid int) error {
	s.opMu.Lock()
	defer s.opMu.Unlock()
	c, err := s.begin()
	if err != nil {
		return err
	}
	if err := checkSlotActionTarget(c, gid); err != nil {
		return err
	}
	m, err := checkSlotActionSlot(c, sid, gid)
	if err != nil {
		return err
	}
	return s.storePendingActions(c, []*models.SlotMapping{m}, func(*models.SlotMapping) int { return gid })
}

// SlotCreateActionSome queues the migration of up to num slots of group
// src (0: offline slots) to group dst.
func (s *Topom) SlotCreateActionSome(src, dst, num int) error {
	s.opMu.Lock()
	defer s.opMu.Unlock()
	c, err := s.begin()
	if err != nil {
		return err
	}
	if err := checkSlotActionTarget(c, dst); err != nil {
		return err
	}
	var picked []*models.SlotMapping
	for _, m := range c.slots {
		if len(picked) >= num {
			break
		}
		if m.Action.State == models.ActionNothing && m.GroupID == src && m.GroupID != dst {
			picked = append(picked, m)
		}
	}
	return s.storePendingActions(c, picked, func(*models.SlotMapping) int { return dst })
}

// SlotCreateActionRange queues the migration of slots beg..end (inclusive)
// to group gid; nothing is written unless every slot qualifies.
func (s *Topom) SlotCreateActionRange(beg, end, gid int) error {
	s.opMu.Lock()
	defer s.opMu.Unlock()
	c, err := s.begin()
	if err != nil {
		return err
	}
	if beg < 0 || beg > end || end >= models.MaxSlotNum {
		return errorf(ErrInvalidArgument, "invalid slot range [%d,%d]", beg, end)
	}
	if err := checkSlotActionTarget(c, gid); err != nil {
		return err
	}
	var picked []*models.SlotMapping
	for sid := beg; sid <= end; sid++ {
		m, err := checkSlotActionSlot(c, sid, gid)
		if err != nil {
			return err
		}
		picked = append(picked, m)
	}
	return s.storePendingActions(c, picked, func(*models.SlotMapping) int { return gid })
}

// SlotRemoveAction cancels a pending slot action.
func (s *Topom) SlotRemoveAction(sid int) error {
	s.opMu.Lock()
	defer s.opMu.Unlock()
	c, err := s.begin()
	if err != nil {
		return err
	}
	m, err := c.slot(sid)
	if err != nil {
		return err
	}
	if m.Action.State == models.ActionNothing {
		return errorf(ErrNotFound, "slot-[%d] action doesn't exist", sid)
	}
	if m.Action.State != models.ActionPending {
		return errorf(ErrRefused, "slot-[%d] action isn't pending", sid)
	}
	return s.storeSlot(c, &models.SlotMapping{ID: sid, GroupID: m.GroupID})
}

// SetSlotActionInterval sets the pause between migration steps, in µs,
// clamped to [0, 1000000].
func (s *Topom) SetSlotActionInterval(us int) error {
	if err := s.checkOnline(); err != nil {
		return err
	}
	s.interval.Store(int64(max(0, min(us, 1000000))))
	return nil
}

// SetSlotActionDisabled pauses or resumes slot actions.
func (s *Topom) SetSlotActionDisabled(v bool) error {
	if err := s.checkOnline(); err != nil {
		return err
	}
	s.disabled.Store(v)
	return nil
}

// SlotsAssignGroup assigns slots to groups directly, without moving data
// (§5.12).
func (s *Topom) SlotsAssignGroup(ms []*models.SlotMapping) error {
	s.opMu.Lock()
	defer s.opMu.Unlock()
	c, err := s.begin()
	if err != nil {
		return err
	}
	groups := map[int]bool{}
	for _, m := range ms {
		if _, err := c.slot(m.ID); err != nil {
			return err
		}
		if _, err := c.nonEmptyGroup(m.GroupID); err != nil {
			return err
		}
		if m.Action.State != models.ActionNothing {
			return errorf(ErrInvalidArgument, "invalid slot-[%d] action = %s", m.ID, m.Action.State)
		}
		groups[m.GroupID] = true
	}
	gids := make([]int, 0, len(groups))
	for gid := range groups {
		gids = append(gids, gid)
	}
	sort.Ints(gids)
	for _, gid := range gids {
		g := c.groups[gid]
		if g.OutOfSync {
			continue
		}
		g = g.Clone()
		g.OutOfSync = true
		if err := s.storeGroup(c, g); err != nil {
			return err
		}
	}
	return s.storeAndPush(c, ms, func(m *models.SlotMapping) *models.SlotMapping {
		return &models.SlotMapping{ID: m.ID, GroupID: m.GroupID}
	})
}

// SlotsAssignOffline takes slots offline (group 0), without moving data.
func (s *Topom) SlotsAssignOffline(ms []*models.SlotMapping) error {
	s.opMu.Lock()
	defer s.opMu.Unlock()
	c, err := s.begin()
	if err != nil {
		return err
	}
	for _, m := range ms {
		if _, err := c.slot(m.ID); err != nil {
			return err
		}
		if m.GroupID != 0 {
			return errorf(ErrInvalidArgument, "group of slot-[%d] should be 0", m.ID)
		}
	}
	return s.storeAndPush(c, ms, func(m *models.SlotMapping) *models.SlotMapping {
		return &models.SlotMapping{ID: m.ID}
	})
}

func (s *Topom) storeAndPush(c *snapshot, ms []*models.SlotMapping, conv func(*models.SlotMapping) *models.SlotMapping) error {
	var pushed []*models.SlotMapping
	for _, m := range ms {
		m = conv(m)
		if err := s.storeSlot(c, m); err != nil {
			return err
		}
		pushed = append(pushed, m)
	}
	return s.resyncSlots(c, pushed)
}

// SlotsRebalance computes a plan spreading the slots evenly over the
// non-empty groups (§5.13); with confirm it queues the migrations.
func (s *Topom) SlotsRebalance(confirm bool) (map[int]int, error) {
	s.opMu.Lock()
	defer s.opMu.Unlock()
	c, err := s.begin()
	if err != nil {
		return nil, err
	}
	plan, err := rebalancePlan(c)
	if err != nil {
		return nil, err
	}
	if confirm {
		sids := make([]int, 0, len(plan))
		for sid := range plan {
			sids = append(sids, sid)
		}
		sort.Ints(sids)
		ms := make([]*models.SlotMapping, len(sids))
		for i, sid := range sids {
			ms[i] = c.slots[sid]
		}
		if err := s.storePendingActions(c, ms, func(m *models.SlotMapping) int { return plan[m.ID] }); err != nil {
			return nil, err
		}
	}
	return plan, nil
}

// rebalancePlan implements the algorithm of §5.13.
func rebalancePlan(c *snapshot) (map[int]int, error) {
	var gids []int
	for _, g := range c.sortedGroups() {
		if len(g.Servers) != 0 {
			gids = append(gids, g.ID)
		}
	}
	if len(gids) == 0 {
		return nil, errorf(ErrRefused, "no valid group could be found")
	}
	n := len(gids)
	lower := models.MaxSlotNum / n
	upper := (models.MaxSlotNum + n - 1) / n

	assigned := map[int]int{}
	pendings := map[int][]int{}
	moveout := map[int]int{}
	size := func(g int) int { return assigned[g] + len(pendings[g]) - moveout[g] }

	for _, m := range c.slots {
		if m.Action.State != models.ActionNothing {
			assigned[m.Action.TargetID]++
		}
	}
	for _, m := range c.slots {
		if m.Action.State != models.ActionNothing || m.GroupID == 0 {
			continue
		}
		if size(m.GroupID) < lower {
			assigned[m.GroupID]++
		} else {
			pendings[m.GroupID] = append(pendings[m.GroupID], m.ID)
		}
	}

	// set is the ordered set of candidate groups keyed by (size, id).
	set := append([]int(nil), gids...)
	less := func(a, b int) bool {
		if sa, sb := size(a), size(b); sa != sb {
			return sa < sb
		}
		return a < b
	}
	resort := func() { sort.Slice(set, func(i, j int) bool { return less(set[i], set[j]) }) }

	var docking []int
	for _, m := range c.slots {
		if m.Action.State != models.ActionNothing || m.GroupID != 0 {
			continue
		}
		resort()
		g := set[0]
		docking = append(docking, m.ID)
		moveout[g]--
	}
	for len(set) >= 2 {
		resort()
		from := set[len(set)-1]
		set = set[:len(set)-1]
		if len(pendings[from]) == moveout[from] {
			continue
		}
		dest := set[0]
		set = set[1:]
		if size(from) <= lower || size(dest) >= upper || size(from)-size(dest) <= 1 {
			break
		}
		moveout[from]++
		moveout[dest]--
		set = append(set, from, dest)
	}
	for _, g := range gids {
		k := moveout[g]
		if k <= 0 {
			continue
		}
		p := append([]int(nil), pendings[g]...)
		sort.Sort(sort.Reverse(sort.IntSlice(p)))
		docking = append(docking, p[:k]...)
	}
	sort.Ints(docking)
	plan := map[int]int{}
	for _, g := range gids {
		for k := -moveout[g]; k > 0 && len(docking) != 0; k-- {
			plan[docking[0]] = g
			docking = docking[1:]
		}
	}
	return plan, nil
}
