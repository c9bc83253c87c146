package topom

import (
	"errors"
	"fmt"

	"github.com/codisgo/codis/pkg/models"
)

// refresh re-reads the dirty cache entries from the store (everything on
// the first call and after reload). Caller holds opMu.
func (s *Topom) refresh() error {
	s.mu.RLock()
	loaded, d := s.cache.loaded, s.cache.dirty
	s.mu.RUnlock()
	if loaded && d.empty() {
		return nil
	}
	if !loaded || d.all {
		slots, err := s.store.SlotMappings()
		if err != nil {
			return err
		}
		groups, err := s.store.ListGroup()
		if err != nil {
			return err
		}
		proxies, err := s.store.ListProxy()
		if err != nil {
			return err
		}
		sentinel, err := s.store.LoadSentinel()
		if err != nil {
			return err
		}
		s.mu.Lock()
		s.cache = cache{slots: slots, groups: groups, proxies: proxies, sentinel: sentinel, loaded: true}
		s.mu.Unlock()
		return nil
	}
	// Copy the dirty keys: the maps belong to the cache.
	s.mu.RLock()
	var sids, gids []int
	var toks []string
	for sid := range d.slots {
		sids = append(sids, sid)
	}
	for gid := range d.groups {
		gids = append(gids, gid)
	}
	for tok := range d.proxies {
		toks = append(toks, tok)
	}
	s.mu.RUnlock()
	for _, sid := range sids {
		m, err := s.store.LoadSlotMapping(sid)
		if err != nil {
			return err
		}
		s.mu.Lock()
		s.setSlotLocked(m)
		delete(s.cache.dirty.slots, sid)
		s.mu.Unlock()
	}
	for _, gid := range gids {
		g, err := s.store.LoadGroup(gid)
		if err != nil {
			return err
		}
		s.mu.Lock()
		s.setGroupLocked(gid, g)
		delete(s.cache.dirty.groups, gid)
		s.mu.Unlock()
	}
	for _, tok := range toks {
		p, err := s.store.LoadProxy(tok)
		if err != nil {
			return err
		}
		s.mu.Lock()
		s.setProxyLocked(tok, p)
		delete(s.cache.dirty.proxies, tok)
		s.mu.Unlock()
	}
	if d.sentinel {
		x, err := s.store.LoadSentinel()
		if err != nil {
			return err
		}
		s.mu.Lock()
		s.cache.sentinel = x
		s.cache.dirty.sentinel = false
		s.mu.Unlock()
	}
	return nil
}

// The cache maps are replaced, never modified in place, so snapshots can
// share them.
func (s *Topom) setGroupLocked(gid int, g *models.Group) {
	m := make(map[int]*models.Group, len(s.cache.groups)+1)
	for k, v := range s.cache.groups {
		m[k] = v
	}
	if g == nil {
		delete(m, gid)
	} else {
		m[gid] = g
	}
	s.cache.groups = m
}

func (s *Topom) setProxyLocked(tok string, p *models.Proxy) {
	m := make(map[string]*models.Proxy, len(s.cache.proxies)+1)
	for k, v := range s.cache.proxies {
		m[k] = v
	}
	if p == nil {
		delete(m, tok)
	} else {
		m[tok] = p
	}
	s.cache.proxies = m
}

func (s *Topom) setSlotLocked(m *models.SlotMapping) {
	slots := make([]*models.SlotMapping, len(s.cache.slots))
	copy(slots, s.cache.slots)
	slots[m.ID] = m
	s.cache.slots = slots
}

// snap returns a snapshot of the cache (nil slots if never loaded).
func (s *Topom) snap() *snapshot {
	s.mu.RLock()
	defer s.mu.RUnlock()
	return &snapshot{
		slots:    s.cache.slots,
		groups:   s.cache.groups,
		proxies:  s.cache.proxies,
		sentinel: s.cache.sentinel,
		method:   s.method,
	}
}

// begin starts an operation: caller holds opMu. It checks that the
// dashboard is online, refreshes the dirty entries and returns a
// snapshot.
func (s *Topom) begin() (*snapshot, error) {
	if err := s.checkOnline(); err != nil {
		return nil, err
	}
	if err := s.refresh(); err != nil {
		return nil, err
	}
	return s.snap(), nil
}

// The store helpers below write one node, then update both the cache and
// the operation's snapshot c (when not nil). A failed write marks the
// entry dirty: its stored state is unknown until re-read. Writes are
// refused once the dashboard is closed or knows it lost the lock, and
// every write is fenced by the lock in the coordinator itself (see
// models.Store.Fenced), so a dashboard that lost the lock without noticing
// yet cannot overwrite its successor's topology either: its write fails
// with models.ErrLockLost and the dashboard steps down.

func (s *Topom) writable() error {
	if s.closed.Load() {
		return ErrClosed
	}
	if !s.lockHeld.Load() {
		return ErrNotOnline
	}
	return nil
}

// writeFailed makes the dashboard step down when a write failed because
// the lock is lost.
func (s *Topom) writeFailed(err error) {
	if errors.Is(err, models.ErrLockLost) {
		s.lockLost(fmt.Errorf("%w: %w", ErrLockLost, err))
	}
}

func (s *Topom) storeSlot(c *snapshot, m *models.SlotMapping) error {
	if err := s.writable(); err != nil {
		return err
	}
	if err := s.wstore.Load().UpdateSlotMapping(m); err != nil {
		s.writeFailed(err)
		s.mu.Lock()
		s.cache.dirty.slot(m.ID)
		s.mu.Unlock()
		return err
	}
	s.mu.Lock()
	s.setSlotLocked(m)
	s.mu.Unlock()
	if c != nil {
		slots := make([]*models.SlotMapping, len(c.slots))
		copy(slots, c.slots)
		slots[m.ID] = m
		c.slots = slots
	}
	return nil
}

func (s *Topom) storeGroup(c *snapshot, g *models.Group) error {
	if err := s.writable(); err != nil {
		return err
	}
	if err := s.wstore.Load().UpdateGroup(g); err != nil {
		s.writeFailed(err)
		s.mu.Lock()
		s.cache.dirty.group(g.ID)
		s.mu.Unlock()
		return err
	}
	s.mu.Lock()
	s.setGroupLocked(g.ID, g)
	s.mu.Unlock()
	if c != nil {
		c.groups = withGroup(c.groups, g.ID, g)
	}
	return nil
}

func (s *Topom) removeGroup(c *snapshot, gid int) error {
	if err := s.writable(); err != nil {
		return err
	}
	if err := s.wstore.Load().DeleteGroup(gid); err != nil {
		s.writeFailed(err)
		s.mu.Lock()
		s.cache.dirty.group(gid)
		s.mu.Unlock()
		return err
	}
	s.mu.Lock()
	s.setGroupLocked(gid, nil)
	s.mu.Unlock()
	if c != nil {
		c.groups = withGroup(c.groups, gid, nil)
	}
	return nil
}

func withGroup(in map[int]*models.Group, gid int, g *models.Group) map[int]*models.Group {
	m := make(map[int]*models.Group, len(in)+1)
	for k, v := range in {
		m[k] = v
	}
	if g == nil {
		delete(m, gid)
	} else {
		m[gid] = g
	}
	return m
}

func (s *Topom) storeProxy(c *snapshot, p *models.Proxy) error {
	if err := s.writable(); err != nil {
		return err
	}
	if err := s.wstore.Load().UpdateProxy(p); err != nil {
		s.writeFailed(err)
		s.mu.Lock()
		s.cache.dirty.proxy(p.Token)
		s.mu.Unlock()
		return err
	}
	s.mu.Lock()
	s.setProxyLocked(p.Token, p)
	s.mu.Unlock()
	if c != nil {
		c.proxies = withProxy(c.proxies, p.Token, p)
	}
	return nil
}

func (s *Topom) removeProxy(c *snapshot, tok string) error {
	if err := s.writable(); err != nil {
		return err
	}
	if err := s.wstore.Load().DeleteProxy(tok); err != nil {
		s.writeFailed(err)
		s.mu.Lock()
		s.cache.dirty.proxy(tok)
		s.mu.Unlock()
		return err
	}
	s.mu.Lock()
	s.setProxyLocked(tok, nil)
	s.mu.Unlock()
	if c != nil {
		c.proxies = withProxy(c.proxies, tok, nil)
	}
	return nil
}

func withProxy(in map[string]*models.Proxy, tok string, p *models.Proxy) map[string]*models.Proxy {
	m := make(map[string]*models.Proxy, len(in)+1)
	for k, v := range in {
		m[k] = v
	}
	if p == nil {
		delete(m, tok)
	} else {
		m[tok] = p
	}
	return m
}

func (s *Topom) storeSentinel(c *snapshot, x *models.Sentinel) error {
	if err := s.writable(); err != nil {
		return err
	}
	if err := s.wstore.Load().UpdateSentinel(x); err != nil {
		s.writeFailed(err)
		s.mu.Lock()
		s.cache.dirty.sentinel = true
		s.mu.Unlock()
		return err
	}
	s.mu.Lock()
	s.cache.sentinel = x
	s.mu.Unlock()
	if c != nil {
		c.sentinel = x
	}
	return nil
}

// Reload drops the cache: everything is re-read from the store now
// (PUT /api/topom/reload).
func (s *Topom) Reload() error {
	s.opMu.Lock()
	defer s.opMu.Unlock()
	if err := s.checkOnline(); err != nil {
		return err
	}
	s.mu.Lock()
	s.cache.dirty.all = true
	s.mu.Unlock()
	return s.refresh()
}
