package topom

import (
	"context"
	"time"

	"github.com/codisgo/codis/pkg/models"
)

// CreateGroup creates an empty group gid (1..9999).
func (s *Topom) CreateGroup(gid int) error {
	s.opMu.Lock()
	defer s.opMu.Unlock()
	c, err := s.begin()
	if err != nil {
		return err
	}
	if gid <= 0 || gid > models.MaxGroupId {
		return errorf(ErrInvalidArgument, "invalid group id = %d, out of range", gid)
	}
	if c.groups[gid] != nil {
		return errorf(ErrExists, "group-[%d] already exists", gid)
	}
	return s.storeGroup(c, models.NewGroup(gid))
}

// RemoveGroup deletes an empty group.
func (s *Topom) RemoveGroup(gid int) error {
	s.opMu.Lock()
	defer s.opMu.Unlock()
	c, err := s.begin()
	if err != nil {
		return err
	}
	g, err := c.group(gid)
	if err != nil {
		return err
	}
	if len(g.Servers) != 0 {
		return errorf(ErrRefused, "group-[%d] isn't empty", gid)
	}
	return s.removeGroup(c, gid)
}

// ResyncGroup pushes the group's slots to every proxy and clears its
// out_of_sync flag.
func (s *Topom) ResyncGroup(gid int) error {
	s.opMu.Lock()
	defer s.opMu.Unlock()
	c, err := s.begin()
	if err != nil {
		return err
	}
	return s.resyncGroup(c, gid)
}

func (s *Topom) resyncGroup(c *snapshot, gid int) error {
	g, err := c.group(gid)
	if err != nil {
		return err
	}
	if err := s.resyncSlots(c, c.groupSlots(gid)); err != nil {
		return err
	}
	g = g.Clone()
	g.OutOfSync = false
	return s.storeGroup(c, g)
}

// ResyncGroupAll is ResyncGroup for every group, in id order; it stops at
// the first failure.
func (s *Topom) ResyncGroupAll() error {
	s.opMu.Lock()
	defer s.opMu.Unlock()
	c, err := s.begin()
	if err != nil {
		return err
	}
	for _, g := range c.sortedGroups() {
		if err := s.resyncGroup(c, g.ID); err != nil {
			return err
		}
	}
	return nil
}

// markSentinelOutOfSync stores sentinel out_of_sync=true when sentinels
// are configured.
func (s *Topom) markSentinelOutOfSync(c *snapshot) error {
	if c.sentinel == nil || len(c.sentinel.Servers) == 0 || c.sentinel.OutOfSync {
		return nil
	}
	x := c.sentinel.Clone()
	x.OutOfSync = true
	return s.storeSentinel(c, x)
}

// GroupAddServer appends the codis-server addr (datacenter dc) to group
// gid. The server is probed with SLOTSINFO first.
func (s *Topom) GroupAddServer(gid int, dc, addr string) error {
	if err := s.checkOnline(); err != nil {
		return err
	}
	if addr == "" {
		return errorf(ErrInvalidArgument, "invalid server address")
	}
	if err := s.checkCodisServer(addr); err != nil {
		return wrapf(ErrRemote, err, "server-[%s] is not a codis-server", addr)
	}
	s.opMu.Lock()
	defer s.opMu.Unlock()
	c, err := s.begin()
	if err != nil {
		return err
	}
	if g, _ := c.serverGroup(addr); g != nil {
		return errorf(ErrExists, "server-[%s] already exists", addr)
	}
	g, err := c.group(gid)
	if err != nil {
		return err
	}
	if g.IsPromoting() {
		return errorf(ErrRefused, "group-[%d] is promoting", gid)
	}
	if err := s.markSentinelOutOfSync(c); err != nil {
		return err
	}
	g = g.Clone()
	if g.Servers == nil {
		g.Servers = []*models.GroupServer{}
	}
	g.Servers = append(g.Servers, &models.GroupServer{Addr: addr, DataCenter: dc})
	return s.storeGroup(c, g)
}

// GroupDelServer removes addr from group gid.
func (s *Topom) GroupDelServer(gid int, addr string) error {
	s.opMu.Lock()
	defer s.opMu.Unlock()
	c, err := s.begin()
	if err != nil {
		return err
	}
	g, err := c.group(gid)
	if err != nil {
		return err
	}
	i := g.IndexOf(addr)
	if i < 0 {
		return errorf(ErrNotFound, "group-[%d] doesn't have server-[%s]", gid, addr)
	}
	if g.IsPromoting() {
		return errorf(ErrRefused, "group-[%d] is promoting", gid)
	}
	if i == 0 && (len(g.Servers) != 1 || c.groupInUse(gid)) {
		return errorf(ErrRefused, "group-[%d] can't remove master, still in use", gid)
	}
	if err := s.markSentinelOutOfSync(c); err != nil {
		return err
	}
	g = g.Clone()
	if g.Servers[i].ReplicaGroup {
		g.OutOfSync = true
	}
	g.Servers = append(g.Servers[:i:i], g.Servers[i+1:]...)
	if len(g.Servers) == 0 {
		g.OutOfSync = false
	}
	return s.storeGroup(c, g)
}

// GroupPromoteServer makes addr the master of group gid, running (or
// resuming) the promotion state machine of §5.8.
func (s *Topom) GroupPromoteServer(gid int, addr string) error {
	s.opMu.Lock()
	defer s.opMu.Unlock()
	c, err := s.begin()
	if err != nil {
		return err
	}
	g, err := c.group(gid)
	if err != nil {
		return err
	}
	i := g.IndexOf(addr)
	if i < 0 {
		return errorf(ErrNotFound, "group-[%d] doesn't have server-[%s]", gid, addr)
	}
	if g.IsPromoting() {
		if i != g.Promoting.Index {
			return errorf(ErrRefused, "group-[%d] is promoting index = %d", gid, g.Promoting.Index)
		}
	} else if i == 0 {
		return errorf(ErrRefused, "group-[%d] can't promote master", gid)
	}
	if n := s.executor.Load(); n != 0 {
		return errorf(ErrRefused, "slots-migration is running = %d", n)
	}
	for {
		g := c.groups[gid]
		switch g.Promoting.State {
		case models.ActionNothing:
			g = g.Clone()
			g.Promoting = models.Promoting{Index: i, State: models.ActionPreparing}
			if err := s.storeGroup(c, g); err != nil {
				return err
			}
		case models.ActionPreparing:
			g = g.Clone()
			g.Promoting.State = models.ActionPrepared
			c.groups = withGroup(c.groups, gid, g) // push as prepared (locked)
			if err := s.resyncSlots(c, c.groupSlots(gid)); err != nil {
				prev := g.Clone()
				prev.Promoting.State = models.ActionPreparing
				c.groups = withGroup(c.groups, gid, prev)
				if e := s.resyncSlots(c, c.groupSlots(gid)); e != nil {
					s.log.Warn("unlock slots of group failed", "gid", gid, "err", e)
				}
				return err
			}
			if err := s.storeGroup(c, g); err != nil {
				return err
			}
		case models.ActionPrepared:
			if c.sentinel != nil && len(c.sentinel.Servers) != 0 {
				if err := s.markSentinelOutOfSync(c); err != nil {
					return err
				}
				s.sentinelRemoveGroups(c.sentinel.Servers, []int{gid})
				s.mu.Lock()
				delete(s.masters, gid)
				s.mu.Unlock()
			}
			g = g.Clone()
			idx := g.Promoting.Index
			if idx <= 0 || idx >= len(g.Servers) {
				return errorf(ErrRefused, "group-[%d] promoting index = %d is invalid", gid, idx)
			}
			servers := []*models.GroupServer{g.Servers[idx]}
			for j := 1; j < len(g.Servers); j++ {
				if j != idx {
					servers = append(servers, g.Servers[j])
				}
			}
			servers = append(servers, g.Servers[0])
			for _, x := range servers {
				x.Action = models.ServerAction{}
			}
			g.Servers = servers
			g.Promoting = models.Promoting{State: models.ActionFinished}
			if err := s.storeGroup(c, g); err != nil {
				return err
			}
			ctx, cancel := context.WithTimeout(s.ctx, 5*time.Second)
			if err := s.setMasterAt(ctx, g.Servers[0].Addr, "NO:ONE", time.Second); err != nil {
				s.log.Warn("promote: set master failed", "gid", gid, "addr", g.Servers[0].Addr, "err", err)
			}
			cancel()
		case models.ActionFinished:
			if err := s.resyncSlots(c, c.groupSlots(gid)); err != nil {
				return err
			}
			g = &models.Group{ID: g.ID, Servers: g.Clone().Servers}
			return s.storeGroup(c, g)
		default:
			return errorf(ErrRefused, "group-[%d] promoting state %q is invalid", gid, g.Promoting.State)
		}
	}
}

// EnableReplicaGroups sets the replica_group flag of one server.
func (s *Topom) EnableReplicaGroups(gid int, addr string, value bool) error {
	s.opMu.Lock()
	defer s.opMu.Unlock()
	c, err := s.begin()
	if err != nil {
		return err
	}
	g, err := c.group(gid)
	if err != nil {
		return err
	}
	i := g.IndexOf(addr)
	if i < 0 {
		return errorf(ErrNotFound, "group-[%d] doesn't have server-[%s]", gid, addr)
	}
	if g.IsPromoting() {
		return errorf(ErrRefused, "group-[%d] is promoting", gid)
	}
	g = g.Clone()
	if len(g.Servers) > 1 && c.groupInUse(gid) {
		g.OutOfSync = true
	}
	g.Servers[i].ReplicaGroup = value
	return s.storeGroup(c, g)
}

// EnableReplicaGroupsAll sets the replica_group flag of every server.
func (s *Topom) EnableReplicaGroupsAll(value bool) error {
	s.opMu.Lock()
	defer s.opMu.Unlock()
	c, err := s.begin()
	if err != nil {
		return err
	}
	for _, g := range c.sortedGroups() {
		if g.IsPromoting() {
			return errorf(ErrRefused, "group-[%d] is promoting", g.ID)
		}
		changed := false
		for _, x := range g.Servers {
			if x.ReplicaGroup != value {
				changed = true
			}
		}
		if !changed {
			continue
		}
		g = g.Clone()
		if len(g.Servers) > 1 && c.groupInUse(g.ID) {
			g.OutOfSync = true
		}
		for _, x := range g.Servers {
			x.ReplicaGroup = value
		}
		if err := s.storeGroup(c, g); err != nil {
			return err
		}
	}
	return nil
}

// CreateSyncAction queues a sync ("SLAVEOF") action for server addr.
func (s *Topom) CreateSyncAction(addr string) error {
	s.opMu.Lock()
	defer s.opMu.Unlock()
	c, err := s.begin()
	if err != nil {
		return err
	}
	g, i := c.serverGroup(addr)
	if g == nil {
		return errorf(ErrNotFound, "server-[%s] doesn't exist", addr)
	}
	if g.IsPromoting() {
		return errorf(ErrRefused, "group-[%d] is promoting", g.ID)
	}
	if g.Servers[i].Action.State == models.ActionPending {
		return errorf(ErrExists, "server-[%s] action already exist", addr)
	}
	idx := c.maxSyncActionIndex() + 1
	g = g.Clone()
	g.Servers[i].Action = models.ServerAction{Index: idx, State: models.ActionPending}
	return s.storeGroup(c, g)
}

// RemoveSyncAction clears the sync action of server addr.
func (s *Topom) RemoveSyncAction(addr string) error {
	s.opMu.Lock()
	defer s.opMu.Unlock()
	c, err := s.begin()
	if err != nil {
		return err
	}
	g, i := c.serverGroup(addr)
	if g == nil {
		return errorf(ErrNotFound, "server-[%s] doesn't exist", addr)
	}
	if g.IsPromoting() {
		return errorf(ErrRefused, "group-[%d] is promoting", g.ID)
	}
	if g.Servers[i].Action.State == models.ActionNothing {
		return errorf(ErrNotFound, "server-[%s] action doesn't exist", addr)
	}
	g = g.Clone()
	g.Servers[i].Action = models.ServerAction{}
	return s.storeGroup(c, g)
}

// loopSyncActions processes pending sync actions one at a time (§5.9).
func (s *Topom) loopSyncActions(ctx context.Context) {
	for ctx.Err() == nil {
		did, err := s.processSyncAction(ctx)
		if err != nil {
			s.rl.Error(s.log, "sync action failed", "err", err)
			if !sleepCtx(ctx, 5*time.Second) {
				return
			}
		}
		if did {
			continue
		}
		if !sleepCtx(ctx, time.Second) {
			return
		}
	}
}

// processSyncAction runs the lowest-index pending sync action, if any.
func (s *Topom) processSyncAction(ctx context.Context) (bool, error) {
	addr, master, err := s.prepareSyncAction()
	if err != nil || addr == "" {
		return false, err
	}
	s.log.Info("sync action: set master", "server", addr, "master", master)
	serr := s.setMasterAt(ctx, addr, master, syncActionTimeout)
	if ctx.Err() != nil {
		return false, nil
	}
	if serr != nil {
		s.log.Warn("sync action: set master failed", "server", addr, "master", master, "err", serr)
	}
	state := models.ActionSynced
	if serr != nil {
		state = models.ActionSyncedFailed
	}
	s.opMu.Lock()
	defer s.opMu.Unlock()
	c, err := s.begin()
	if err != nil {
		return true, err
	}
	g, i := c.serverGroup(addr)
	if g == nil || g.IsPromoting() || g.Servers[i].Action.State != models.ActionSyncing {
		return true, nil
	}
	g = g.Clone()
	g.Servers[i].Action = models.ServerAction{State: state}
	return true, s.storeGroup(c, g)
}

// prepareSyncAction picks the next pending action, stores it as syncing
// and returns the server and its desired master ("" when nothing to do).
func (s *Topom) prepareSyncAction() (addr, master string, err error) {
	s.opMu.Lock()
	defer s.opMu.Unlock()
	c, err := s.begin()
	if err != nil {
		return "", "", err
	}
	var pick *models.Group
	idx := -1
	for _, g := range c.sortedGroups() {
		for i, x := range g.Servers {
			if x.Action.State != models.ActionPending {
				continue
			}
			if pick == nil || x.Action.Index < pick.Servers[idx].Action.Index {
				pick, idx = g, i
			}
		}
	}
	if pick == nil || pick.IsPromoting() {
		return "", "", nil
	}
	g := pick.Clone()
	g.Servers[idx].Action = models.ServerAction{State: models.ActionSyncing}
	if err := s.storeGroup(c, g); err != nil {
		return "", "", err
	}
	master = "NO:ONE"
	if idx != 0 {
		master = g.Servers[0].Addr
	}
	return g.Servers[idx].Addr, master, nil
}
