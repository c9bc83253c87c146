package e2e

import (
	"encoding/json"
	"fmt"
	"hash/fnv"
	"math"
	"math/rand/v2"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/anishathalye/porcupine"
	"github.com/gomodule/redigo/redis"

	"github.com/codisgo/codis/pkg/utils/slot"
)

// TestLinearizable checks the product promise ("lose no acknowledged
// write during migration or failover") as linearizability: clients spread
// over three proxies run SET/GET/INCR on sixteen shared keys while the
// slots of those keys move back and forth between two groups, first with
// migration_method "sync", then with "semi-async", and one proxy is
// crashed and restarted in between. Every call and return is recorded and
// porcupine checks that the whole history is linearizable, key by key.
//
// A write whose outcome is unknown (timeout, broken connection, error
// reply) may or may not have happened: it is recorded as never returning
// (porcupine's convention), so the checker may place it anywhere after
// its call, or nowhere. A failed GET tells nothing and is dropped.
func TestLinearizable(t *testing.T) {
	if testing.Short() {
		t.Skip("multi-process end-to-end test")
	}
	started := time.Now()
	c := NewCluster(t, binaries(t), Coordinator{Name: "filesystem", Addr: filepath.Join(t.TempDir(), "rootfs")})
	t.Logf("binaries ready in %v", time.Since(started).Round(time.Millisecond))
	masters := map[int]string{}
	for gid := 1; gid <= 2; gid++ {
		masters[gid], _ = c.StartServer()
	}
	c.StartDashboard(false, 60*time.Second)
	for gid := 1; gid <= 2; gid++ {
		c.MustAdmin("--create-group", fmt.Sprintf("--gid=%d", gid))
		c.MustAdmin("--group-add", fmt.Sprintf("--gid=%d", gid), "--addr="+masters[gid])
	}
	c.MustAdmin("--slots-assign", "--beg=0", "--end=511", "--gid=1", "--confirm")
	c.MustAdmin("--slots-assign", "--beg=512", "--end=1023", "--gid=2", "--confirm")
	proxies := make([]*Proxy, linProxies)
	for i := range proxies {
		proxies[i] = c.StartProxy(true)
	}
	linProxiesOnline(t, c, len(proxies))

	keys := linKeys()
	l := startLinLoad(keys, proxies)
	t.Cleanup(func() { l.stop() }) // on a failure before the end
	l.waitOps(t, 300)
	t.Logf("setup done, clients running, after %v", time.Since(started).Round(time.Millisecond))

	// Sync migrations: every round moves both ranges to the other group
	// (one range 1 -> 2 and the other 2 -> 1 at the same time). After the
	// second round a proxy crashes and comes back on the same address.
	owner := [2]int{linRanges[0].gid, linRanges[1].gid}
	for round := 1; round <= linRounds; round++ {
		l.migrate(t, c, &owner, fmt.Sprintf("sync round %d", round))
		if round == 2 {
			l.restartProxy(t, c, proxies, len(proxies)-1)
		}
	}

	// The same with a semi-async dashboard; the proxies keep serving
	// while the dashboard is away.
	beg := l.now()
	c.Dashboard.Stop()
	launchDashboardMethod(t, c, "semi-async")
	c.waitFor(c.Dashboard, 60*time.Second, "semi-async dashboard online", func() error {
		_, err := c.Overview()
		return err
	})
	l.window("dashboard restart (semi-async)", beg)
	for round := 1; round <= linRounds; round++ {
		l.migrate(t, c, &owner, fmt.Sprintf("semi-async round %d", round))
	}
	l.waitOps(t, l.ops.Load()+200)
	l.stop()

	// The sources really used the semi-async commands.
	c.mu.Lock()
	procs := append([]*Process(nil), c.procs...)
	c.mu.Unlock()
	for gid, addr := range masters {
		for _, p := range procs {
			if p.Name == "codis-server "+addr && !strings.Contains(p.ReadLog(), "slotsmgrt-async: connected to target") {
				t.Errorf("the log of group %d's master %s shows no semi-async link", gid, addr)
			}
		}
	}

	// Every key read through every proxy once the writers are done: the
	// last acknowledged writes must be there.
	for _, px := range proxies {
		if err := l.finalReads(px.ProxyAddr); err != nil {
			t.Fatalf("final reads through %s: %v", px.ProxyAddr, err)
		}
	}
	history := l.history()
	l.report(t)
	linCheck(t, history)
	t.Logf("whole test in %v", time.Since(started).Round(time.Millisecond))
}

const (
	linProxies = 3
	linClients = 9
	linRounds  = 3
	// linOpTimeout is the clients' read and write timeout; an operation
	// that takes longer has an unknown outcome.
	linOpTimeout = 10 * time.Second
	// linPause is each client's pause between operations (the machine
	// may be small and the binaries built with -race).
	linPause = time.Millisecond
	// linBackoff is a client's pause after an error.
	linBackoff = 200 * time.Millisecond
	// linCheckTimeout bounds each porcupine run.
	linCheckTimeout = 2 * time.Minute
)

// linRanges are the two slot ranges holding the test keys, with the
// group each starts in; every migration round swaps their groups.
var linRanges = [2]struct{ beg, end, gid int }{{96, 111, 1}, {608, 623, 2}}

// linKey is a test key: a register (SET/GET) or a counter (INCR/GET).
type linKey struct {
	name    string
	counter bool
}

// linKeys returns sixteen keys, eight in each range over six distinct
// slots: a hash tag with two registers and a counter (one slot, moved
// together by SLOTSMGRTTAGSLOT), then four untagged registers and one
// untagged counter, each in a slot of its own.
func linKeys() []linKey {
	used := map[int]bool{}
	// find returns the first fmt.Sprintf(format, n) whose slot is in
	// [beg, end] and not used yet.
	find := func(format string, beg, end int) string {
		for n := 0; ; n++ {
			name := fmt.Sprintf(format, n)
			if s := slot.Of([]byte(name)); s >= beg && s <= end && !used[s] {
				used[s] = true
				return name
			}
		}
	}
	var keys []linKey
	for i, r := range linRanges {
		c := 'a' + rune(i)
		tag := find(fmt.Sprintf("lin%c-%%d", c), r.beg, r.end)
		keys = append(keys,
			linKey{name: "{" + tag + "}:r1"},
			linKey{name: "{" + tag + "}:r2"},
			linKey{name: "{" + tag + "}:ctr", counter: true})
		for j := 0; j < 4; j++ {
			keys = append(keys, linKey{name: find(fmt.Sprintf("lin:%c%d:r%%d", c, j), r.beg, r.end)})
		}
		keys = append(keys, linKey{name: find(fmt.Sprintf("lin:%c:ctr%%d", c), r.beg, r.end), counter: true})
	}
	return keys
}

// linProxiesOnline waits until the dashboard shows n proxies, each
// answering its stats probe and online.
func linProxiesOnline(t *testing.T, c *Cluster, n int) {
	t.Helper()
	waitUntil(t, 40*time.Second, fmt.Sprintf("%d proxies online and healthy", n), func() error {
		o, err := c.Overview()
		if err != nil {
			return err
		}
		if len(o.Stats.Proxy.Models) != n {
			return fmt.Errorf("%d proxies", len(o.Stats.Proxy.Models))
		}
		for _, p := range o.Stats.Proxy.Models {
			st := o.Stats.Proxy.Stats[p.Token]
			if st == nil || st.Error != nil || st.Timeout || st.Stats == nil {
				return fmt.Errorf("proxy %s: stats %+v", p.AdminAddr, st)
			}
			var flags struct {
				Online bool `json:"online"`
			}
			if err := json.Unmarshal(st.Stats, &flags); err != nil || !flags.Online {
				return fmt.Errorf("proxy %s not online (%v)", p.AdminAddr, err)
			}
		}
		return nil
	})
}

// ---------------------------------------------------------------------
// The model: one partition per key, whose state is the key's value.

type linInput struct {
	Op  string // "set", "get" or "incr"
	Key string
	Val string // the value of a set
}

type linOutput struct {
	Val     string // get: the value read (if Exists); incr: the new value
	Exists  bool   // get: the key existed
	Unknown bool   // a write whose outcome is unknown
}

type linState struct {
	Val    string
	Exists bool
}

func linModel() porcupine.Model {
	return porcupine.Model{
		Partition: func(history []porcupine.Operation) [][]porcupine.Operation {
			byKey := map[string][]porcupine.Operation{}
			for _, op := range history {
				k := op.Input.(linInput).Key
				byKey[k] = append(byKey[k], op)
			}
			keys := make([]string, 0, len(byKey))
			for k := range byKey {
				keys = append(keys, k)
			}
			sort.Strings(keys)
			out := make([][]porcupine.Operation, 0, len(keys))
			for _, k := range keys {
				out = append(out, byKey[k])
			}
			return out
		},
		Init: func() any { return linState{} },
		Step: func(state, input, output any) (bool, any) {
			st, in, out := state.(linState), input.(linInput), output.(linOutput)
			switch in.Op {
			case "set":
				return true, linState{Val: in.Val, Exists: true}
			case "get":
				return out.Exists == st.Exists && out.Val == st.Val, st
			case "incr":
				var n int64
				if st.Exists {
					v, err := strconv.ParseInt(st.Val, 10, 64)
					if err != nil {
						return false, st
					}
					n = v
				}
				next := strconv.FormatInt(n+1, 10)
				return out.Unknown || out.Val == next, linState{Val: next, Exists: true}
			}
			return false, st
		},
		Hash: func(state any) uint64 {
			st := state.(linState)
			h := fnv.New64a()
			h.Write([]byte(st.Val))
			if st.Exists {
				h.Write([]byte{1})
			}
			return h.Sum64()
		},
		DescribeOperation: func(input, output any) string {
			in, out := input.(linInput), output.(linOutput)
			res := out.Val
			switch {
			case out.Unknown:
				res = "unknown"
			case in.Op == "set":
				res = "OK"
			case in.Op == "get" && !out.Exists:
				res = "nil"
			}
			if in.Op == "set" {
				return fmt.Sprintf("set(%s) -> %s", in.Val, res)
			}
			return fmt.Sprintf("%s() -> %s", in.Op, res)
		},
		DescribeState: func(state any) string {
			st := state.(linState)
			if !st.Exists {
				return "nil"
			}
			return st.Val
		},
		DescribeOperationMetadata: func(info any) string {
			if s, ok := info.(string); ok {
				return s
			}
			return ""
		},
	}
}

// ---------------------------------------------------------------------
// The clients.

// linLoad is the set of clients and their recorded history.
type linLoad struct {
	keys    []linKey
	t0      time.Time
	lanes   atomic.Int64 // client ids of the history (a new one after an unknown outcome)
	ops     atomic.Int64
	done    chan struct{}
	stopped sync.Once
	wg      sync.WaitGroup
	clients []*linClient

	mu      sync.Mutex
	final   []porcupine.Operation // the final reads
	windows []linWindow           // when the topology changed
}

// linWindow is a period during which the topology changed.
type linWindow struct {
	what     string
	beg, end int64
}

// linClient is one client, always connected to the same proxy address.
type linClient struct {
	id   int
	addr string
	rng  *rand.Rand
	ops  []porcupine.Operation // owned by the client until it stops

	unknown, getErrs, dialErrs int
	errs                       []string // the first few errors
}

func startLinLoad(keys []linKey, proxies []*Proxy) *linLoad {
	l := &linLoad{keys: keys, t0: time.Now(), done: make(chan struct{})}
	for i := 0; i < linClients; i++ {
		cl := &linClient{id: i, addr: proxies[i%len(proxies)].ProxyAddr, rng: rand.New(rand.NewPCG(uint64(time.Now().UnixNano()), uint64(i)))}
		l.clients = append(l.clients, cl)
		l.wg.Add(1)
		go l.run(cl)
	}
	return l
}

// now is the time since the start of the load, in nanoseconds (from the
// monotonic clock).
func (l *linLoad) now() int64 { return int64(time.Since(l.t0)) }

func (l *linLoad) stop() {
	l.stopped.Do(func() { close(l.done) })
	l.wg.Wait()
}

func (l *linLoad) waitOps(t *testing.T, n int64) {
	t.Helper()
	waitUntil(t, 60*time.Second, "client operations", func() error {
		if got := l.ops.Load(); got < n {
			return fmt.Errorf("%d operations, want %d", got, n)
		}
		return nil
	})
}

func (cl *linClient) fail(l *linLoad, format string, args ...any) {
	if len(cl.errs) < 5 {
		cl.errs = append(cl.errs, fmt.Sprintf("%.3fs client %d via %s: ", float64(l.now())/1e9, cl.id, cl.addr)+fmt.Sprintf(format, args...))
	}
}

func (l *linLoad) run(cl *linClient) {
	defer l.wg.Done()
	var conn redis.Conn
	defer func() {
		if conn != nil {
			conn.Close()
		}
	}()
	lane := int(l.lanes.Add(1) - 1)
	for seq := 0; ; seq++ {
		select {
		case <-l.done:
			return
		default:
		}
		if conn == nil {
			c, err := dialTimeout(cl.addr, linOpTimeout)
			if err != nil {
				cl.dialErrs++
				time.Sleep(linBackoff)
				continue
			}
			conn = c
		}
		k := l.keys[cl.rng.IntN(len(l.keys))]
		in := linInput{Op: "get", Key: k.name}
		args := []any{k.name}
		switch {
		case k.counter && cl.rng.IntN(10) < 6:
			in.Op = "incr"
		case !k.counter && cl.rng.IntN(2) == 0:
			in.Op = "set"
			in.Val = fmt.Sprintf("c%d-%d", cl.id, seq)
			args = append(args, in.Val)
		}
		call := l.now()
		reply, err := conn.Do(strings.ToUpper(in.Op), args...)
		ret := l.now()
		out, err := linOutcome(in, reply, err)
		l.ops.Add(1)
		if err != nil {
			conn.Close()
			conn = nil
			// Not too many unknown outcomes while a proxy is down
			// or not online yet: each one makes the check harder.
			time.Sleep(linBackoff)
			if in.Op == "get" {
				// A failed read tells nothing.
				cl.getErrs++
				cl.fail(l, "GET %s: %v", k.name, err)
				continue
			}
			// The write may or may not have happened, now or later:
			// it never returns. Its lane stays busy forever, so the
			// client moves to a new one.
			cl.unknown++
			cl.fail(l, "%s %s: %v", strings.ToUpper(in.Op), k.name, err)
			cl.ops = append(cl.ops, porcupine.Operation{ClientId: lane, Input: in, Call: call,
				Output: linOutput{Unknown: true}, Return: math.MaxInt64, Metadata: fmt.Sprintf("via %s: %v", cl.addr, err)})
			lane = int(l.lanes.Add(1) - 1)
			continue
		}
		cl.ops = append(cl.ops, porcupine.Operation{ClientId: lane, Input: in, Call: call, Output: out, Return: ret, Metadata: "via " + cl.addr})
		time.Sleep(linPause)
	}
}

// linOutcome turns a reply into the operation's output; an error means
// the outcome is unknown.
func linOutcome(in linInput, reply any, err error) (linOutput, error) {
	if err != nil {
		return linOutput{}, err
	}
	switch in.Op {
	case "set":
		if s, ok := reply.(string); ok && s == "OK" {
			return linOutput{}, nil
		}
	case "incr":
		if n, ok := reply.(int64); ok {
			return linOutput{Val: strconv.FormatInt(n, 10)}, nil
		}
	case "get":
		switch v := reply.(type) {
		case nil:
			return linOutput{}, nil
		case []byte:
			return linOutput{Val: string(v), Exists: true}, nil
		}
	}
	return linOutput{}, fmt.Errorf("unexpected reply %#v", reply)
}

// finalReads reads every key through addr, one after the other, once
// the clients have stopped, and adds the reads to the history.
func (l *linLoad) finalReads(addr string) error {
	conn, err := dialTimeout(addr, linOpTimeout)
	if err != nil {
		return err
	}
	defer conn.Close()
	lane := int(l.lanes.Add(1) - 1)
	var ops []porcupine.Operation
	for _, k := range l.keys {
		in := linInput{Op: "get", Key: k.name}
		call := l.now()
		reply, err := conn.Do("GET", k.name)
		ret := l.now()
		out, err := linOutcome(in, reply, err)
		if err != nil {
			return fmt.Errorf("GET %s: %w", k.name, err)
		}
		ops = append(ops, porcupine.Operation{ClientId: lane, Input: in, Call: call, Output: out, Return: ret, Metadata: "final read via " + addr})
	}
	l.mu.Lock()
	l.final = append(l.final, ops...)
	l.mu.Unlock()
	return nil
}

// history returns every recorded operation; the clients must have
// stopped.
func (l *linLoad) history() []porcupine.Operation {
	var h []porcupine.Operation
	for _, cl := range l.clients {
		h = append(h, cl.ops...)
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	return append(h, l.final...)
}

// window records that the topology changed during [beg, now].
func (l *linLoad) window(what string, beg int64) {
	l.mu.Lock()
	l.windows = append(l.windows, linWindow{what: what, beg: beg, end: l.now()})
	l.mu.Unlock()
}

// report logs what the clients did: operations by kind, unknown
// outcomes, errors, and how many operations overlapped each topology
// change.
func (l *linLoad) report(t *testing.T) {
	t.Helper()
	kinds := map[string]int{}
	unknown, getErrs, dialErrs := 0, 0, 0
	var errs []string
	for _, cl := range l.clients {
		for _, op := range cl.ops {
			kinds[op.Input.(linInput).Op]++
		}
		unknown += cl.unknown
		getErrs += cl.getErrs
		dialErrs += cl.dialErrs
		errs = append(errs, cl.errs...)
	}
	t.Logf("history: %d set, %d get, %d incr by %d clients; %d writes with unknown outcome, %d failed gets (dropped), %d failed dials",
		kinds["set"], kinds["get"], kinds["incr"], len(l.clients), unknown, getErrs, dialErrs)
	sort.Strings(errs)
	for i, e := range errs {
		if i == 10 {
			t.Logf("  ... %d more errors", len(errs)-i)
			break
		}
		t.Logf("  %s", e)
	}
	l.mu.Lock()
	windows := append([]linWindow(nil), l.windows...)
	l.mu.Unlock()
	for _, w := range windows {
		n := 0
		for _, cl := range l.clients {
			for _, op := range cl.ops {
				if op.Call <= w.end && op.Return >= w.beg {
					n++
				}
			}
		}
		t.Logf("%s: %v, %d operations overlapped it", w.what, time.Duration(w.end-w.beg).Round(time.Millisecond), n)
	}
}

// ---------------------------------------------------------------------
// Topology changes.

// migrate moves both ranges to their other group at once and waits until
// the dashboard reports every slot of them in place with no action.
func (l *linLoad) migrate(t *testing.T, c *Cluster, owner *[2]int, what string) {
	t.Helper()
	beg := l.now()
	for i, r := range linRanges {
		owner[i] = 3 - owner[i]
		c.MustAdmin("--slot-action", "--create-range", fmt.Sprintf("--beg=%d", r.beg), fmt.Sprintf("--end=%d", r.end), fmt.Sprintf("--gid=%d", owner[i]))
	}
	waitUntil(t, 60*time.Second, what, func() error {
		o, err := c.Overview()
		if err != nil {
			return err
		}
		for i, r := range linRanges {
			for _, m := range o.Stats.Slots[r.beg : r.end+1] {
				if m.GroupID != owner[i] || !m.Action.IsEmpty() {
					return fmt.Errorf("slot %d: group %d, action %+v; want group %d", m.ID, m.GroupID, m.Action, owner[i])
				}
			}
		}
		return nil
	})
	l.window(what, beg)
	// Some traffic in the new steady state before the next change.
	l.waitOps(t, l.ops.Load()+150)
}

// restartProxy crashes proxies[i], removes it from the dashboard, starts
// a new proxy on the same addresses (its clients reconnect there) and
// waits until it is online.
func (l *linLoad) restartProxy(t *testing.T, c *Cluster, proxies []*Proxy, i int) {
	t.Helper()
	beg := l.now()
	px := proxies[i]
	px.Kill()
	c.MustAdmin("--remove-proxy", "--addr="+px.AdminAddr, "--force")
	proxies[i] = c.StartProxyAt(px.AdminAddr, px.ProxyAddr, true)
	linProxiesOnline(t, c, len(proxies))
	l.window("proxy "+px.ProxyAddr+" crash and restart", beg)
	l.waitOps(t, l.ops.Load()+150)
}

// ---------------------------------------------------------------------
// The check.

// linCheck fails t unless history is linearizable. For each key whose
// history is not, it writes porcupine's visualization to a file that
// outlives the test and logs its path and the operations around the
// point where every linearization got stuck.
func linCheck(t *testing.T, history []porcupine.Operation) {
	t.Helper()
	model := linModel()
	start := time.Now()
	res := porcupine.CheckOperationsTimeout(model, history, linCheckTimeout)
	t.Logf("porcupine: %d operations on %d keys: %s in %v", len(history), len(model.Partition(history)), res, time.Since(start).Round(time.Millisecond))
	if res == porcupine.Ok {
		return
	}
	bad := 0
	for _, part := range model.Partition(history) {
		r, info := porcupine.CheckOperationsVerbose(model, part, linCheckTimeout)
		if r == porcupine.Ok {
			continue
		}
		bad++
		key := part[0].Input.(linInput).Key
		path := "(none)"
		if f, err := os.CreateTemp("", "codis-linearizable-*.html"); err != nil {
			t.Logf("visualization: %v", err)
		} else {
			if err := porcupine.Visualize(model, info, f); err != nil {
				t.Logf("visualization: %v", err)
			}
			f.Close()
			path = f.Name()
		}
		t.Errorf("key %s: history of %d operations is %s; visualization: %s\n%s", key, len(part), r, path, linExcerpt(model, part, info))
	}
	if bad == 0 {
		t.Errorf("porcupine: whole history %s but every key alone is Ok", res)
	}
}

// linExcerpt describes where the longest partial linearization of the
// one-key history part stopped: its last steps, then the operations
// around the first one it could not take (the unlinearized operation
// that returned first).
func linExcerpt(model porcupine.Model, part []porcupine.Operation, info porcupine.LinearizationInfo) string {
	var longest []int
	for _, p := range info.PartialLinearizations() {
		for _, lin := range p {
			if len(lin) > len(longest) {
				longest = lin
			}
		}
	}
	done := map[int]bool{}
	for _, id := range longest {
		done[id] = true
	}
	stuck := -1
	for i, op := range part {
		if !done[i] && (stuck < 0 || op.Return < part[stuck].Return) {
			stuck = i
		}
	}
	desc := func(i int) string {
		op := part[i]
		ret := "never"
		if op.Return != math.MaxInt64 {
			ret = fmt.Sprintf("%.6fs", float64(op.Return)/1e9)
		}
		return fmt.Sprintf("op %d client %d [%.6fs, %s] %s (%v)", i, op.ClientId, float64(op.Call)/1e9, ret,
			model.DescribeOperation(op.Input, op.Output), op.Metadata)
	}
	var b strings.Builder
	fmt.Fprintf(&b, "longest linearization takes %d of %d operations; its last steps:\n", len(longest), len(part))
	for _, id := range longest[max(0, len(longest)-5):] {
		fmt.Fprintf(&b, "  %s\n", desc(id))
	}
	if stuck < 0 {
		return b.String()
	}
	fmt.Fprintf(&b, "first operation it cannot take: %s\noperations around it by call time (* = in the linearization):\n", desc(stuck))
	order := make([]int, len(part))
	for i := range order {
		order[i] = i
	}
	sort.SliceStable(order, func(a, b int) bool { return part[order[a]].Call < part[order[b]].Call })
	at := 0
	for j, i := range order {
		if i == stuck {
			at = j
		}
	}
	for _, i := range order[max(0, at-8):min(len(order), at+4)] {
		mark := " "
		if done[i] {
			mark = "*"
		}
		fmt.Fprintf(&b, " %s %s\n", mark, desc(i))
	}
	return b.String()
}

// TestLinearizableModel checks the model and the checker on small
// histories: stale reads and lost writes are caught, and a write with an
// unknown outcome may count as done or not, but not both.
func TestLinearizableModel(t *testing.T) {
	const never = math.MaxInt64
	set := func(client int, key, val string, call, ret int64) porcupine.Operation {
		out := linOutput{Unknown: ret == never}
		return porcupine.Operation{ClientId: client, Input: linInput{Op: "set", Key: key, Val: val}, Call: call, Output: out, Return: ret}
	}
	get := func(client int, key, val string, call, ret int64) porcupine.Operation {
		return porcupine.Operation{ClientId: client, Input: linInput{Op: "get", Key: key}, Call: call, Output: linOutput{Val: val, Exists: val != ""}, Return: ret}
	}
	incr := func(client int, key string, n, call, ret int64) porcupine.Operation {
		out := linOutput{Val: strconv.FormatInt(n, 10)}
		if ret == never {
			out = linOutput{Unknown: true}
		}
		return porcupine.Operation{ClientId: client, Input: linInput{Op: "incr", Key: key}, Call: call, Output: out, Return: ret}
	}
	for _, tc := range []struct {
		name    string
		history []porcupine.Operation
		want    porcupine.CheckResult
	}{
		{"read-your-write", []porcupine.Operation{set(0, "k", "a", 0, 10), get(1, "k", "a", 20, 30)}, porcupine.Ok},
		{"missing-key", []porcupine.Operation{get(0, "k", "", 0, 10), set(1, "k", "a", 20, 30)}, porcupine.Ok},
		{"stale-read", []porcupine.Operation{set(0, "k", "a", 0, 10), set(1, "k", "b", 20, 30), get(2, "k", "a", 40, 50)}, porcupine.Illegal},
		{"lost-write", []porcupine.Operation{set(0, "k", "a", 0, 10), get(1, "k", "", 20, 30)}, porcupine.Illegal},
		{"concurrent", []porcupine.Operation{set(0, "k", "a", 0, 30), set(1, "k", "b", 10, 40), get(2, "k", "a", 35, 50), get(3, "k", "a", 60, 70)}, porcupine.Ok},
		{"unknown-done", []porcupine.Operation{set(0, "k", "a", 0, 10), set(1, "k", "b", 20, never), get(2, "k", "b", 40, 50)}, porcupine.Ok},
		{"unknown-not-done", []porcupine.Operation{set(0, "k", "a", 0, 10), set(1, "k", "b", 20, never), get(2, "k", "a", 40, 50)}, porcupine.Ok},
		{"unknown-both", []porcupine.Operation{set(0, "k", "a", 0, 10), set(1, "k", "b", 20, never), get(2, "k", "b", 40, 50), get(2, "k", "a", 60, 70)}, porcupine.Illegal},
		{"unknown-before-call", []porcupine.Operation{get(0, "k", "b", 0, 10), set(1, "k", "b", 20, never)}, porcupine.Illegal},
		{"keys-apart", []porcupine.Operation{set(0, "k", "a", 0, 10), set(1, "j", "b", 20, 30), get(2, "k", "a", 40, 50), get(2, "j", "b", 40, 50)}, porcupine.Ok},
		{"counter", []porcupine.Operation{incr(0, "n", 1, 0, 10), incr(1, "n", 0, 20, never), incr(0, "n", 3, 40, 50), get(2, "n", "3", 60, 70)}, porcupine.Ok},
		{"counter-unknown-skipped", []porcupine.Operation{incr(0, "n", 1, 0, 10), incr(1, "n", 0, 20, never), incr(0, "n", 2, 40, 50)}, porcupine.Ok},
		{"counter-lost-incr", []porcupine.Operation{incr(0, "n", 1, 0, 10), incr(1, "n", 2, 20, 30), get(2, "n", "1", 40, 50)}, porcupine.Illegal},
		{"counter-duplicate", []porcupine.Operation{incr(0, "n", 1, 0, 10), incr(1, "n", 1, 20, 30)}, porcupine.Illegal},
	} {
		if got := porcupine.CheckOperationsTimeout(linModel(), tc.history, 10*time.Second); got != tc.want {
			t.Errorf("%s: %s, want %s", tc.name, got, tc.want)
		}
	}
}
