package proxy

import (
	"bytes"
	"errors"
	"fmt"
	"math/rand/v2"
	"net"
	"sync"
	"sync/atomic"
	"time"

	"github.com/codisgo/codis/pkg/models"
	"github.com/codisgo/codis/pkg/resp"
)

// Router errors (SPEC-data §E.2 fillslots).
var (
	ErrClosedRouter         = errors.New("use of closed router")
	ErrInvalidSlotID        = errors.New("use of invalid slot id")
	ErrInvalidForwardMethod = errors.New("use of invalid forwarder method")
)

// Request-handling error texts (SPEC-data §D.7).
const (
	errTextSlotNotReady = "ERR handle request, slot is not ready, may be offline"
	errTextReqBroken    = "ERR handle request, request is broken"
)

// slot is one entry of the routing table. Requests hold mu for reading
// while they are dispatched and a reference on refs until their reply
// arrives; a fill takes mu for writing and waits for refs to drain, so a
// slot never switches backends under an in-flight request. A locked slot
// keeps mu write-locked between fills, which holds new requests.
type slot struct {
	id   int
	mu   sync.RWMutex
	refs sync.WaitGroup
	held bool // mu is write-locked by a fill with Locked set; guarded by Router.fillMu

	// guarded by mu
	backend       *sharedBackendConn
	migrateFrom   *sharedBackendConn
	replicaGroups [][]*sharedBackendConn
	method        int
	backendHost   []byte // host of backend_addr, for SLOTSMGRTTAGONE
	backendPort   []byte
}

// Router owns the slot table and the backend connections.
type Router struct {
	fillMu sync.Mutex // serialises fills and Close; guards slot.held

	slots [MaxSlotNum]slot

	modelMu sync.RWMutex // protects models
	models  [MaxSlotNum]models.Slot

	primary     *backendPool
	replica     *backendPool
	primaryOnly bool
	dbs         int
	reqs        *requestPool

	online   atomic.Bool
	closed   atomic.Bool
	switched atomic.Bool // a slot was changed by a sentinel switch

	pingPeriod time.Duration
	quit       chan struct{}
	wg         sync.WaitGroup
}

// newRouter builds a router; the keepalive loop starts with start.
func newRouter(c *Config, opt *backendOptions, reqs *requestPool) *Router {
	rt := &Router{
		primary:     newBackendPool(c.BackendPrimaryParallel, c.BackendNumberDatabases, opt, reqs),
		replica:     newBackendPool(c.BackendReplicaParallel, c.BackendNumberDatabases, opt, reqs),
		primaryOnly: c.BackendPrimaryOnly,
		dbs:         max(c.BackendNumberDatabases, 1),
		reqs:        reqs,
		pingPeriod:  c.BackendPingPeriod.Duration(),
		quit:        make(chan struct{}),
	}
	for i := range rt.slots {
		rt.slots[i].id = i
		rt.models[i].ID = i
	}
	if rt.pingPeriod > 0 {
		rt.pingPeriod = max(rt.pingPeriod, time.Second)
		rt.wg.Add(1)
		go rt.loopKeepAlive()
	}
	return rt
}

func (rt *Router) loopKeepAlive() {
	defer rt.wg.Done()
	t := time.NewTicker(rt.pingPeriod)
	defer t.Stop()
	for {
		select {
		case <-rt.quit:
			return
		case <-t.C:
			rt.primary.keepAlive()
			rt.replica.keepAlive()
		}
	}
}

// Start marks the router online.
func (rt *Router) Start() {
	if !rt.closed.Load() {
		rt.online.Store(true)
	}
}

// IsOnline reports whether sessions are accepted.
func (rt *Router) IsOnline() bool { return rt.online.Load() && !rt.closed.Load() }

// Close releases every slot and backend connection. In-flight requests
// fail promptly; later requests get "slot is not ready".
func (rt *Router) Close() {
	rt.fillMu.Lock()
	defer rt.fillMu.Unlock()
	if rt.closed.Swap(true) {
		return
	}
	rt.online.Store(false)
	close(rt.quit)
	rt.wg.Wait()
	// Fail everything in flight first so draining the slots is quick.
	rt.primary.closeAll()
	rt.replica.closeAll()
	for i := range rt.slots {
		s := &rt.slots[i]
		if !s.held {
			s.mu.Lock()
		}
		s.refs.Wait()
		rt.resetSlotLocked(s)
		s.held = false
		s.mu.Unlock()
	}
	rt.modelMu.Lock()
	for i := range rt.models {
		rt.models[i] = models.Slot{ID: i}
	}
	rt.modelMu.Unlock()
}

func (rt *Router) resetSlotLocked(s *slot) {
	rt.primary.release(s.backend)
	rt.primary.release(s.migrateFrom)
	for _, g := range s.replicaGroups {
		for _, sc := range g {
			rt.replica.release(sc)
		}
	}
	s.backend, s.migrateFrom, s.replicaGroups = nil, nil, nil
	s.backendHost, s.backendPort = nil, nil
	s.method = models.ForwardSync
}

// FillSlots applies slots in order; the first invalid one aborts the rest.
func (rt *Router) FillSlots(list []*models.Slot) error {
	for _, m := range list {
		if err := rt.FillSlot(m); err != nil {
			return err
		}
	}
	return nil
}

// FillSlot replaces one slot's routing, waiting for its in-flight
// requests first.
func (rt *Router) FillSlot(m *models.Slot) error {
	if m == nil {
		return nil
	}
	if m.ID < 0 || m.ID >= MaxSlotNum {
		return ErrInvalidSlotID
	}
	if m.ForwardMethod != models.ForwardSync && m.ForwardMethod != models.ForwardSemiAsync {
		return ErrInvalidForwardMethod
	}
	rt.fillMu.Lock()
	defer rt.fillMu.Unlock()
	if rt.closed.Load() {
		return ErrClosedRouter
	}
	rt.fillSlotLocked(m, false)
	return nil
}

// fillSlotLocked installs m; the caller holds fillMu.
func (rt *Router) fillSlotLocked(m *models.Slot, switched bool) {
	s := &rt.slots[m.ID]
	if !s.held {
		s.mu.Lock()
	}
	s.refs.Wait()

	oldBackend, oldMigrate, oldReplicas := s.backend, s.migrateFrom, s.replicaGroups
	s.backend, s.migrateFrom, s.replicaGroups = nil, nil, nil
	s.backendHost, s.backendPort = nil, nil
	if m.BackendAddr != "" {
		s.backend = rt.primary.retain(m.BackendAddr)
		if h, p, err := net.SplitHostPort(m.BackendAddr); err == nil {
			s.backendHost, s.backendPort = []byte(h), []byte(p)
		} else {
			s.backendHost, s.backendPort = []byte(m.BackendAddr), nil
		}
	}
	if m.MigrateFrom != "" {
		s.migrateFrom = rt.primary.retain(m.MigrateFrom)
	}
	if !rt.primaryOnly {
		for _, g := range m.ReplicaGroups {
			var group []*sharedBackendConn
			for _, addr := range g {
				if addr != "" {
					group = append(group, rt.replica.retain(addr))
				}
			}
			if len(group) != 0 {
				s.replicaGroups = append(s.replicaGroups, group)
			}
		}
	}
	s.method = m.ForwardMethod
	// Release after retaining so connections shared by old and new
	// routing survive.
	rt.primary.release(oldBackend)
	rt.primary.release(oldMigrate)
	for _, g := range oldReplicas {
		for _, sc := range g {
			rt.replica.release(sc)
		}
	}

	c := m.Clone()
	rt.modelMu.Lock()
	rt.models[m.ID] = *c
	rt.modelMu.Unlock()
	if switched {
		rt.switched.Store(true)
	}

	if m.Locked {
		s.held = true
	} else {
		s.held = false
		s.mu.Unlock()
	}
}

// Slots returns a copy of the live slot table.
func (rt *Router) Slots() []*models.Slot {
	rt.modelMu.RLock()
	defer rt.modelMu.RUnlock()
	out := make([]*models.Slot, MaxSlotNum)
	for i := range rt.models {
		out[i] = rt.models[i].Clone()
	}
	return out
}

func (rt *Router) slotModel(id int) models.Slot {
	rt.modelMu.RLock()
	defer rt.modelMu.RUnlock()
	return *rt.models[id].Clone()
}

// SwitchMasters replaces backend_addr / migrate_from of every slot whose
// group has a new master (SPEC-data §G.4). same reports whether two
// addresses are the same server.
func (rt *Router) SwitchMasters(masters map[int]string, same func(a, b string) bool) error {
	rt.fillMu.Lock()
	defer rt.fillMu.Unlock()
	if rt.closed.Load() {
		return ErrClosedRouter
	}
	for i := range rt.models {
		rt.modelMu.RLock()
		m := rt.models[i].Clone()
		rt.modelMu.RUnlock()
		changed := false
		if addr, ok := masters[m.BackendAddrGroupID]; ok && m.BackendAddr != "" && addr != m.BackendAddr && !same(addr, m.BackendAddr) {
			m.BackendAddr = addr
			changed = true
		}
		if addr, ok := masters[m.MigrateFromGroupID]; ok && m.MigrateFrom != "" && addr != m.MigrateFrom && !same(addr, m.MigrateFrom) {
			m.MigrateFrom = addr
			changed = true
		}
		if changed {
			rt.fillSlotLocked(m, true)
		}
	}
	return nil
}

// dispatch routes r by hash key (SPEC-data §D.4, §D.11). It returns a
// request-handling error text, or "" when r was dispatched or completed.
// argv is needed only for the semi-async wrapper.
func (rt *Router) dispatch(r *Request, hkey []byte, argv [][]byte) string {
	s := &rt.slots[SlotOf(hkey)]
	s.mu.RLock()
	defer s.mu.RUnlock()
	if s.backend == nil {
		return errTextSlotNotReady
	}
	if s.migrateFrom != nil && len(hkey) != 0 {
		if s.method == models.ForwardSemiAsync {
			done, errText := rt.execWrapper(s, r, hkey, argv)
			if errText != "" || done {
				return errText
			}
		} else if errText := rt.migrateKey(s, r, hkey); errText != "" {
			return errText
		}
	}
	bc := rt.pick(s, r)
	s.refs.Add(1)
	r.slot = s
	bc.push(r)
	return ""
}

// reserve takes a reference on the slot of key and returns the master
// connection for db, if the slot can serve key without any special step:
// it has a backend, is not migrating, not locked or being filled, and (for
// reads) has no replica groups. Otherwise it returns nil and the caller
// dispatches normally. It never blocks, so a caller may hold several
// reservations while it builds a batched request.
func (rt *Router) reserve(key []byte, db int, readOnly bool) (*slot, *backendConn) {
	s := &rt.slots[SlotOf(key)]
	if !s.mu.TryRLock() {
		return nil, nil
	}
	defer s.mu.RUnlock()
	if s.backend == nil || s.migrateFrom != nil || (readOnly && len(s.replicaGroups) != 0) {
		return nil, nil
	}
	bc := s.backend.get(db, true)
	if bc == nil {
		return nil, nil
	}
	s.refs.Add(1)
	return s, bc
}

// dispatchSlot sends r unchanged to the backend of slot id, without a
// migration step (SLOTSSCAN).
func (rt *Router) dispatchSlot(r *Request, id int) string {
	s := &rt.slots[id]
	s.mu.RLock()
	defer s.mu.RUnlock()
	if s.backend == nil {
		return errTextSlotNotReady
	}
	bc := s.backend.get(r.db, true)
	s.refs.Add(1)
	r.slot = s
	bc.push(r)
	return ""
}

// dispatchAddr sends r to the server addr (a primary or replica that some
// slot references). It reports false if the address is unknown.
func (rt *Router) dispatchAddr(r *Request, addr string) bool {
	sc := rt.primary.lookup(addr)
	if sc == nil {
		sc = rt.replica.lookup(addr)
	}
	if sc == nil {
		return false
	}
	bc := sc.get(r.db, true)
	if bc == nil {
		return false
	}
	bc.push(r)
	return true
}

// pick chooses the connection for r: a replica for read-only requests when
// replica groups are configured and the slot is not migrating, else the
// master.
func (rt *Router) pick(s *slot, r *Request) *backendConn {
	if r.readOnly && s.migrateFrom == nil && len(s.replicaGroups) != 0 {
		for _, g := range s.replicaGroups {
			start := rand.IntN(len(g))
			for i := range g {
				if bc := g[(start+i+1)%len(g)].get(r.db, false); bc != nil {
					return bc
				}
			}
		}
	}
	return s.backend.get(r.db, true)
}

// call sends an internal command to sc for db and waits for the reply.
// The returned request must be released with rt.reqs.put.
func (rt *Router) call(sc *sharedBackendConn, db int, build func([]byte) []byte) *Request {
	m := rt.reqs.get()
	m.db = db
	m.cmd = build(m.cmd[:0])
	sc.get(db, true).push(m)
	m.wait()
	return m
}

var (
	cmdSlotsMgrtTagOne = []byte("SLOTSMGRTTAGONE")
	cmdExecWrapper     = []byte("SLOTSMGRT-EXEC-WRAPPER")
	mgrtTimeout        = []byte("3000")
)

// migrateKey runs SLOTSMGRTTAGONE on the source for a sync-migrating slot.
func (rt *Router) migrateKey(s *slot, r *Request, hkey []byte) string {
	m := rt.call(s.migrateFrom, r.db, func(b []byte) []byte {
		return resp.AppendCommand(b, cmdSlotsMgrtTagOne, s.backendHost, s.backendPort, mgrtTimeout, hkey)
	})
	defer rt.reqs.put(m)
	rep := m.reply
	switch {
	case m.respFail:
		return string(trimLine(rep[1:]))
	case len(rep) > 0 && rep[0] == ':':
		return ""
	case len(rep) > 0 && rep[0] == '-':
		return "ERR handle request, bad slotsmgrt resp: " + string(trimLine(rep[1:]))
	default:
		return "ERR handle request, bad slotsmgrt resp: should be integer, but got " + replyTypeName(rep)
	}
}

// wrapperDelay is the pause before semi-async retry n (SPEC-data §D.11).
func wrapperDelay(n int) time.Duration {
	switch {
	case n < 5:
		return 0
	case n < 20:
		return time.Duration(n) * time.Millisecond
	default:
		return 20 * time.Millisecond
	}
}

// execWrapper runs the request through SLOTSMGRT-EXEC-WRAPPER on the source
// of a semi-async migrating slot. done reports that r was answered by the
// source (its reply is set and it is not dispatched).
func (rt *Router) execWrapper(s *slot, r *Request, hkey []byte, argv [][]byte) (done bool, errText string) {
	const prefix = "ERR handle request, bad slotsmgrt-exec-wrapper resp: "
	for attempt := 0; ; attempt++ {
		if r.isBroken() {
			return false, errTextReqBroken
		}
		if d := wrapperDelay(attempt); d > 0 {
			time.Sleep(d)
		}
		m := rt.call(s.migrateFrom, r.db, func(b []byte) []byte {
			b = resp.AppendArrayLen(b, len(argv)+2)
			b = resp.AppendBulk(b, cmdExecWrapper)
			b = resp.AppendBulk(b, hkey)
			for _, a := range argv {
				b = resp.AppendBulk(b, a)
			}
			return b
		})
		rep := m.reply
		if m.respFail {
			errText = string(trimLine(rep[1:]))
			rt.reqs.put(m)
			return false, errText
		}
		var elemBuf [4][]byte
		elems, ok := splitArray(rep, elemBuf[:0])
		if !ok || len(elems) != 2 {
			errText = fmt.Sprintf("%stype(resp) = %s, len(array) = %d", prefix, replyTypeName(rep), len(elems))
			rt.reqs.put(m)
			return false, errText
		}
		code := elems[0]
		if len(code) != 4 || code[0] != ':' || code[1] < '0' || code[1] > '2' {
			val := trimLine(code[1:])
			errText = fmt.Sprintf("%stype(array[0]) = %s, len(array[0].value) = %d", prefix, replyTypeName(code), len(val))
			rt.reqs.put(m)
			return false, errText
		}
		switch code[1] {
		case '0':
			rt.reqs.put(m)
			return false, ""
		case '1':
			rt.reqs.put(m)
			continue
		default:
			r.reply = append(r.reply[:0], elems[1]...)
			rt.reqs.put(m)
			return true, ""
		}
	}
}

// trimLine drops a trailing CRLF.
func trimLine(b []byte) []byte {
	return bytes.TrimSuffix(b, []byte("\r\n"))
}

// replyTypeName names a raw reply's type as the original's messages do.
func replyTypeName(rep []byte) string {
	if len(rep) == 0 {
		return "<nil>"
	}
	switch rep[0] {
	case '+':
		return "<string>"
	case '-':
		return "<error>"
	case ':':
		return "<int>"
	case '$':
		return "<bulkbytes>"
	case '*':
		return "<array>"
	default:
		return "<unknown>"
	}
}

// splitArray returns the raw elements of a RESP array reply.
func splitArray(rep []byte, dst [][]byte) ([][]byte, bool) {
	if len(rep) < 4 || rep[0] != '*' {
		return dst, false
	}
	nl := bytes.IndexByte(rep, '\n')
	if nl < 2 {
		return dst, false
	}
	n, ok := resp.ParseInt(rep[1 : nl-1])
	if !ok || n < 0 {
		return dst, false
	}
	pos := nl + 1
	for i := int64(0); i < n; i++ {
		m, err := resp.ScanReply(rep[pos:])
		if err != nil || m == 0 {
			return dst, false
		}
		dst = append(dst, rep[pos:pos+m])
		pos += m
	}
	return dst, pos == len(rep)
}
