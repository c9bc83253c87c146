package models

import "fmt"

// Store is a typed view of one product's nodes under /codis3/{product}
// (SPEC-control §1.1) on top of a coordinator Client. It holds no state of
// its own besides the client and the product name, is safe for concurrent
// use, and does no I/O until a method is called.
//
// Write errors read "store: update group-[1] failed: {cause}" and so on
// (SPEC-control §5.4); read errors name the node.
//
// A Store returned by Fenced writes through a Lock: every write then
// succeeds only while the lock is held (ErrLockLost otherwise).
type Store struct {
	client  Client
	product string
	lock    Lock // nil: plain writes
}

// NewStore returns a Store for product on client. The product name must be
// valid (ValidateProductName). The Store owns client: Close closes it.
func NewStore(client Client, product string) (*Store, error) {
	if client == nil {
		return nil, ErrNilClient
	}
	if err := ValidateProductName(product); err != nil {
		return nil, err
	}
	return &Store{client: client, product: product}, nil
}

// Client returns the underlying coordinator client.
func (s *Store) Client() Client { return s.client }

// Product returns the product name.
func (s *Store) Product() string { return s.product }

// Close closes the underlying client.
func (s *Store) Close() error { return s.client.Close() }

// LockPath is the product's lock node, /codis3/{product}/topom.
func (s *Store) LockPath() string { return LockPath(s.product) }

// Acquire creates the lock node with the dashboard model; it fails if the
// node exists, which is what makes the lock exclusive. The lock is a
// persistent node: only Release (or --remove-lock) removes it. It is the
// original Codis behaviour, kept for tools and tests; the dashboard uses
// AcquireLock.
func (s *Store) Acquire(t *Topom) error {
	if t == nil {
		return fmt.Errorf("store: acquire lock of %s failed: %w: topom", s.product, ErrNilModel)
	}
	if err := s.client.Create(s.LockPath(), Encode(t)); err != nil {
		return fmt.Errorf("store: acquire lock of %s failed: %w", s.product, err)
	}
	return nil
}

// AcquireLock creates the lock node with the dashboard model through the
// client's Locker (see Locker for the per-backend semantics: ephemeral on
// ZooKeeper and etcd, persistent on the filesystem) and returns the Lock.
// It fails if the node exists (the error matches io/fs.ErrExist). Use
// Fenced(lock) to make writes conditional on holding it.
func (s *Store) AcquireLock(t *Topom) (Lock, error) {
	if t == nil {
		return nil, fmt.Errorf("store: acquire lock of %s failed: %w: topom", s.product, ErrNilModel)
	}
	lk, ok := s.client.(Locker)
	if !ok {
		return nil, fmt.Errorf("store: acquire lock of %s failed: %w", s.product, ErrLockNotSupported)
	}
	l, err := lk.AcquireLock(s.LockPath(), Encode(t))
	if err != nil {
		return nil, fmt.Errorf("store: acquire lock of %s failed: %w", s.product, err)
	}
	return l, nil
}

// EphemeralLocks reports whether AcquireLock's lock ends with the client's
// session or lease (ZooKeeper, etcd) rather than persisting after a crash
// (filesystem, or a client that is not a Locker).
func (s *Store) EphemeralLocks() bool {
	lk, ok := s.client.(Locker)
	return ok && lk.EphemeralLocks()
}

// Fenced returns a Store for the same client and product whose writes
// (UpdateSlotMapping, UpdateGroup, DeleteGroup, UpdateProxy, DeleteProxy,
// UpdateSentinel, RestoreConfig) and Release go through l: each succeeds
// only if l is still held, and fails with an error wrapping ErrLockLost
// otherwise. Reads are unchanged. Both Stores share the client, so Close
// on either closes it.
func (s *Store) Fenced(l Lock) *Store {
	return &Store{client: s.client, product: s.product, lock: l}
}

// Lock returns the lock a Fenced store writes through, or nil.
func (s *Store) Lock() Lock { return s.lock }

// update and remove are the write primitives: fenced through the lock
// when there is one.
func (s *Store) update(path string, data []byte) error {
	if s.lock != nil {
		return s.lock.Update(path, data)
	}
	return s.client.Update(path, data)
}

func (s *Store) remove(path string) error {
	if s.lock != nil {
		return s.lock.Delete(path)
	}
	return s.client.Delete(path)
}

// Release deletes the lock node; a missing lock is not an error. On a
// Fenced store it releases the lock (Lock.Release): the node is deleted
// only if it is still ours, and a lost lock gives an error wrapping
// ErrLockLost.
func (s *Store) Release() error {
	if s.lock != nil {
		if err := s.lock.Release(); err != nil {
			return fmt.Errorf("store: release lock of %s failed: %w", s.product, err)
		}
		return nil
	}
	if err := s.client.Delete(s.LockPath()); err != nil {
		return fmt.Errorf("store: release lock of %s failed: %w", s.product, err)
	}
	return nil
}

// LoadTopom reads the lock node. A missing node gives (nil, nil) unless
// must is set, in which case it is an error.
func (s *Store) LoadTopom(must bool) (*Topom, error) {
	t := &Topom{}
	ok, err := s.load(s.LockPath(), must, t)
	if err != nil || !ok {
		return nil, err
	}
	return t, nil
}

// SlotMappings reads all MaxSlotNum slot mappings, in id order; a missing
// node is an offline slot ({id, group_id 0, action {}}).
func (s *Store) SlotMappings() ([]*SlotMapping, error) {
	slots := make([]*SlotMapping, MaxSlotNum)
	for sid := range slots {
		m, err := s.LoadSlotMapping(sid)
		if err != nil {
			return nil, err
		}
		slots[sid] = m
	}
	return slots, nil
}

// LoadSlotMapping reads one slot mapping; a missing node is an offline
// slot. A node holding another slot's id is an error.
func (s *Store) LoadSlotMapping(sid int) (*SlotMapping, error) {
	if err := ValidateSlotID(sid); err != nil {
		return nil, err
	}
	p := SlotPath(s.product, sid)
	m := &SlotMapping{}
	ok, err := s.load(p, false, m)
	if err != nil {
		return nil, err
	}
	if !ok {
		return &SlotMapping{ID: sid}, nil
	}
	if m.ID != sid {
		return nil, fmt.Errorf("store: %w: %s holds slot-%04d", ErrInconsistentNode, p, m.ID)
	}
	return m, nil
}

// UpdateSlotMapping writes m at its slot path.
func (s *Store) UpdateSlotMapping(m *SlotMapping) error {
	if m == nil {
		return fmt.Errorf("store: update slot failed: %w: slot mapping", ErrNilModel)
	}
	if err := ValidateSlotID(m.ID); err != nil {
		return fmt.Errorf("store: update slot-[%d] failed: %w", m.ID, err)
	}
	if err := s.update(SlotPath(s.product, m.ID), Encode(m)); err != nil {
		return fmt.Errorf("store: update slot-[%d] failed: %w", m.ID, err)
	}
	return nil
}

// ListGroup reads every group, keyed by id. A group node whose content
// does not match its name is an error.
func (s *Store) ListGroup() (map[int]*Group, error) {
	paths, err := s.list(GroupDir(s.product))
	if err != nil {
		return nil, err
	}
	groups := make(map[int]*Group, len(paths))
	for _, p := range paths {
		g := &Group{}
		ok, err := s.load(p, false, g)
		if err != nil {
			return nil, err
		}
		if !ok {
			continue // deleted since the list
		}
		if err := s.checkGroup(p, g); err != nil {
			return nil, err
		}
		groups[g.ID] = g
	}
	return groups, nil
}

// LoadGroup reads one group; a missing group gives (nil, nil).
func (s *Store) LoadGroup(gid int) (*Group, error) {
	if err := ValidateGroupID(gid); err != nil {
		return nil, err
	}
	p := GroupPath(s.product, gid)
	g := &Group{}
	ok, err := s.load(p, false, g)
	if err != nil || !ok {
		return nil, err
	}
	if err := s.checkGroup(p, g); err != nil {
		return nil, err
	}
	return g, nil
}

func (s *Store) checkGroup(p string, g *Group) error {
	if GroupPath(s.product, g.ID) != p {
		return fmt.Errorf("store: %w: %s holds group-%04d", ErrInconsistentNode, p, g.ID)
	}
	for i, x := range g.Servers {
		if x == nil {
			return fmt.Errorf("store: %w: %s servers[%d] is null", ErrInconsistentNode, p, i)
		}
	}
	return nil
}

// UpdateGroup writes g at its group path.
func (s *Store) UpdateGroup(g *Group) error {
	if g == nil {
		return fmt.Errorf("store: update group failed: %w: group", ErrNilModel)
	}
	if err := ValidateGroupID(g.ID); err != nil {
		return fmt.Errorf("store: update group-[%d] failed: %w", g.ID, err)
	}
	if err := s.update(GroupPath(s.product, g.ID), Encode(g)); err != nil {
		return fmt.Errorf("store: update group-[%d] failed: %w", g.ID, err)
	}
	return nil
}

// DeleteGroup removes a group node; a missing node is not an error.
func (s *Store) DeleteGroup(gid int) error {
	if err := ValidateGroupID(gid); err != nil {
		return fmt.Errorf("store: remove group-[%d] failed: %w", gid, err)
	}
	if err := s.remove(GroupPath(s.product, gid)); err != nil {
		return fmt.Errorf("store: remove group-[%d] failed: %w", gid, err)
	}
	return nil
}

// ListProxy reads every proxy, keyed by token. A proxy node whose token
// does not match its name is an error.
func (s *Store) ListProxy() (map[string]*Proxy, error) {
	paths, err := s.list(ProxyDir(s.product))
	if err != nil {
		return nil, err
	}
	proxies := make(map[string]*Proxy, len(paths))
	for _, p := range paths {
		x := &Proxy{}
		ok, err := s.load(p, false, x)
		if err != nil {
			return nil, err
		}
		if !ok {
			continue // deleted since the list
		}
		if ProxyPath(s.product, x.Token) != p {
			return nil, fmt.Errorf("store: %w: %s holds proxy-%s", ErrInconsistentNode, p, x.Token)
		}
		proxies[x.Token] = x
	}
	return proxies, nil
}

// LoadProxy reads one proxy; a missing proxy gives (nil, nil).
func (s *Store) LoadProxy(token string) (*Proxy, error) {
	if err := ValidateToken(token); err != nil {
		return nil, err
	}
	p := ProxyPath(s.product, token)
	x := &Proxy{}
	ok, err := s.load(p, false, x)
	if err != nil || !ok {
		return nil, err
	}
	if x.Token != token {
		return nil, fmt.Errorf("store: %w: %s holds proxy-%s", ErrInconsistentNode, p, x.Token)
	}
	return x, nil
}

// UpdateProxy writes p at its proxy path (keyed by token).
func (s *Store) UpdateProxy(p *Proxy) error {
	if p == nil {
		return fmt.Errorf("store: update proxy failed: %w: proxy", ErrNilModel)
	}
	if err := ValidateToken(p.Token); err != nil {
		return fmt.Errorf("store: update proxy-[%s] failed: %w", p.Token, err)
	}
	if err := s.update(ProxyPath(s.product, p.Token), Encode(p)); err != nil {
		return fmt.Errorf("store: update proxy-[%s] failed: %w", p.Token, err)
	}
	return nil
}

// DeleteProxy removes a proxy node; a missing node is not an error.
func (s *Store) DeleteProxy(token string) error {
	if err := ValidateToken(token); err != nil {
		return fmt.Errorf("store: remove proxy-[%s] failed: %w", token, err)
	}
	if err := s.remove(ProxyPath(s.product, token)); err != nil {
		return fmt.Errorf("store: remove proxy-[%s] failed: %w", token, err)
	}
	return nil
}

// LoadSentinel reads the sentinel record; a missing node is an empty
// Sentinel.
func (s *Store) LoadSentinel() (*Sentinel, error) {
	x := &Sentinel{}
	if _, err := s.load(SentinelPath(s.product), false, x); err != nil {
		return nil, err
	}
	return x, nil
}

// UpdateSentinel writes the sentinel record.
func (s *Store) UpdateSentinel(x *Sentinel) error {
	if x == nil {
		return fmt.Errorf("store: update sentinel failed: %w: sentinel", ErrNilModel)
	}
	if err := s.update(SentinelPath(s.product), Encode(x)); err != nil {
		return fmt.Errorf("store: update sentinel failed: %w", err)
	}
	return nil
}

// DumpConfig builds the --config-dump output: all slots, groups and
// proxies. A product with neither groups nor proxies is an error
// "cann't find product = P [v3]" wrapping ErrProductNotFound.
func (s *Store) DumpConfig() (*ConfigV3, error) {
	groups, err := s.ListGroup()
	if err != nil {
		return nil, err
	}
	proxies, err := s.ListProxy()
	if err != nil {
		return nil, err
	}
	if len(groups) == 0 && len(proxies) == 0 {
		return nil, fmt.Errorf("%w = %s [v3]", ErrProductNotFound, s.product)
	}
	slots, err := s.SlotMappings()
	if err != nil {
		return nil, err
	}
	return NewConfigV3(slots, groups, proxies)
}

// RestoreConfig performs --config-restore --confirm: it validates c
// (ConfigV3.Validate), fails with "product P is not empty" (wrapping
// ErrProductNotEmpty) if the product has any group or proxy, then upserts
// every slot, every group and every proxy, in that order. The lock and the
// sentinel record are left alone. Writes are not atomic: on a write error
// the earlier writes stay.
func (s *Store) RestoreConfig(c *ConfigV3) error {
	if err := c.Validate(); err != nil {
		return err
	}
	groups, err := s.ListGroup()
	if err != nil {
		return err
	}
	proxies, err := s.ListProxy()
	if err != nil {
		return err
	}
	if len(groups) != 0 || len(proxies) != 0 {
		return errorf(ErrProductNotEmpty, "product %s is not empty", s.product)
	}
	for _, m := range c.Slots {
		if err := s.UpdateSlotMapping(m); err != nil {
			return fmt.Errorf("restore slot-%04d failed: %w", m.ID, err)
		}
	}
	for _, g := range c.Group {
		if err := s.UpdateGroup(g); err != nil {
			return fmt.Errorf("restore group-%04d failed: %w", g.ID, err)
		}
	}
	for _, p := range c.Proxy {
		if err := s.UpdateProxy(p); err != nil {
			return fmt.Errorf("restore proxy-%s failed: %w", p.Token, err)
		}
	}
	return nil
}

// load reads path into v. It reports whether the node existed.
func (s *Store) load(path string, must bool, v any) (bool, error) {
	b, err := s.client.Read(path, must)
	if err != nil {
		return false, fmt.Errorf("store: read %s failed: %w", path, err)
	}
	if b == nil {
		if must {
			return false, fmt.Errorf("store: read %s failed: node does not exist", path)
		}
		return false, nil
	}
	if err := Decode(path, b, v); err != nil {
		return false, fmt.Errorf("store: %w", err)
	}
	return true, nil
}

func (s *Store) list(dir string) ([]string, error) {
	paths, err := s.client.List(dir, false)
	if err != nil {
		return nil, fmt.Errorf("store: list %s failed: %w", dir, err)
	}
	return paths, nil
}

// DashboardEntry is one element of codis-admin --dashboard-list: a product
// and its dashboard's admin address ("" when no dashboard holds the lock).
// codis-fe reads the same JSON from its --dashboard-list file.
type DashboardEntry struct {
	Name      string `json:"name"`
	Dashboard string `json:"dashboard"`
}

// ListProducts returns the names of the children of /codis3, in the
// client's List order.
func ListProducts(c Client) ([]string, error) {
	paths, err := c.List(CodisDir, false)
	if err != nil {
		return nil, fmt.Errorf("list products failed: %w", err)
	}
	names := make([]string, 0, len(paths))
	for _, p := range paths {
		names = append(names, baseName(p))
	}
	return names, nil
}

// ListDashboards builds the --dashboard-list output: for every product (in
// List order) the admin_addr of its lock node, or "" when there is none.
// Any read or decode error fails the whole call. The result is never nil,
// so it encodes as [] when there are no products.
func ListDashboards(c Client) ([]DashboardEntry, error) {
	names, err := ListProducts(c)
	if err != nil {
		return nil, err
	}
	list := make([]DashboardEntry, 0, len(names))
	for _, name := range names {
		e := DashboardEntry{Name: name}
		p := LockPath(name)
		b, err := c.Read(p, false)
		if err != nil {
			return nil, fmt.Errorf("read topom of product %s failed: %w", name, err)
		}
		if b != nil {
			t := &Topom{}
			if err := Decode(p, b, t); err != nil {
				return nil, err
			}
			e.Dashboard = t.AdminAddr
		}
		list = append(list, e)
	}
	return list, nil
}

// DumpV1 reads a Codis 2.x product tree (/zk/codis/db_{product}) for
// --config-dump -1: a node with children becomes an object keyed by child
// name, a leaf its JSON-decoded data (nil when empty; numbers
// as json.Number). A root that is not
// an object is "cann't find product = P [v1]" (wrapping
// ErrProductNotFound). Backends that fail to List a leaf (fs, etcd) fail
// here too, as in the original.
func DumpV1(c Client, product string) (map[string]any, error) {
	v, err := dumpV1(c, CodisV1Dir(product), 0)
	if err != nil {
		return nil, err
	}
	m, ok := v.(map[string]any)
	if !ok {
		return nil, fmt.Errorf("%w = %s [v1]", ErrProductNotFound, product)
	}
	return m, nil
}

// maxV1Depth bounds the recursion of DumpV1; Codis 2.x trees are 3 deep.
const maxV1Depth = 32

func dumpV1(c Client, p string, depth int) (any, error) {
	if depth > maxV1Depth {
		return nil, fmt.Errorf("dump %s: tree deeper than %d levels", p, maxV1Depth)
	}
	children, err := c.List(p, false)
	if err != nil {
		return nil, fmt.Errorf("list path = %s failed: %w", p, err)
	}
	if len(children) != 0 {
		m := make(map[string]any, len(children))
		for _, child := range children {
			v, err := dumpV1(c, child, depth+1)
			if err != nil {
				return nil, err
			}
			m[baseName(child)] = v
		}
		return m, nil
	}
	b, err := c.Read(p, false)
	if err != nil {
		return nil, fmt.Errorf("read file = %s failed: %w", p, err)
	}
	if len(b) == 0 {
		return nil, nil
	}
	return decodeAny(p, b)
}
