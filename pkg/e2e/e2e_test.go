package e2e

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/gomodule/redigo/redis"

	"github.com/codisgo/codis/pkg/models"
	"github.com/codisgo/codis/pkg/testenv"
	"github.com/codisgo/codis/pkg/topom"
)

// numKeys is the number of keys written in scenario 1 and checked after
// every later scenario.
const numKeys = 10000

var (
	binDir    string
	buildOnce sync.Once
	bins      *Binaries
	buildErr  error
)

func TestMain(m *testing.M) {
	dir, err := os.MkdirTemp("", "codis-e2e-")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	binDir = dir
	code := m.Run()
	os.RemoveAll(dir)
	os.Exit(code)
}

// binaries builds every codis binary once per test binary; with the
// environment variable CODIS_E2E_RACE set they are built with -race and a
// race reported by any process fails the test.
func binaries(t *testing.T) *Binaries {
	t.Helper()
	buildOnce.Do(func() { bins, buildErr = Build(binDir, os.Getenv("CODIS_E2E_RACE") != "") })
	if buildErr != nil {
		t.Fatal(buildErr)
	}
	return bins
}

// TestScenarios runs the multi-process scenarios once per coordinator.
// The coordinators run in parallel: most of the wall time is spent
// waiting (ZooKeeper/etcd lock expiry after the dashboard crash).
func TestScenarios(t *testing.T) {
	if testing.Short() {
		t.Skip("multi-process end-to-end test")
	}
	b := binaries(t)
	t.Run("filesystem", func(t *testing.T) {
		t.Parallel()
		runScenarios(t, b, Coordinator{Name: "filesystem", Addr: filepath.Join(t.TempDir(), "rootfs")})
	})
	t.Run("zookeeper", func(t *testing.T) {
		t.Parallel()
		zk := testenv.StartZooKeeper(t)
		runScenarios(t, b, Coordinator{Name: "zookeeper", Addr: zk.Addr})
	})
	t.Run("etcd", func(t *testing.T) {
		t.Parallel()
		etcd := testenv.StartEtcd(t)
		runScenarios(t, b, Coordinator{Name: "etcd", Addr: "http://" + etcd.Addr})
	})
}

// world is the state the scenarios share.
type world struct {
	c       *Cluster
	masters map[int]string // gid -> master address
	slaves  map[int]string // gid -> replica address
	proxies []*Proxy
	data    *dataset
	load    *load
}

func runScenarios(t *testing.T, b *Binaries, coord Coordinator) {
	w := &world{
		c:       NewCluster(t, b, coord),
		masters: map[int]string{},
		slaves:  map[int]string{},
		data:    newDataset(),
	}
	t.Cleanup(func() {
		if w.load != nil {
			w.load.Stop()
		}
	})
	runSteps(t, w.c, coord.Name, w, []step[*world]{
		{"1-setup", scenarioSetup},
		{"2-migrate", scenarioMigrate},
		{"3-rebalance", scenarioRebalance},
		{"4-dashboard-crash", scenarioDashboardCrash},
		{"5-proxy-crash", scenarioProxyCrash},
	})
}

// step is one named step of a scenario run over a shared world W.
type step[W any] struct {
	name string
	f    func(t *testing.T, w W)
}

// runSteps runs each step as a subtest (for its name and duration); the
// processes belong to t and outlive the steps. A failed step ends the run
// (the cluster's cleanup prints the logs).
func runSteps[W any](t *testing.T, c *Cluster, label string, w W, steps []step[W]) {
	for _, s := range steps {
		start := time.Now()
		ok := t.Run(s.name, func(t *testing.T) {
			c.SetT(t)
			defer c.SetT(nil)
			s.f(t, w)
		})
		t.Logf("%s %s: ok=%v in %v", label, s.name, ok, time.Since(start).Round(time.Millisecond))
		if !ok {
			break
		}
	}
	c.SetT(t)
}

// ---------------------------------------------------------------------
// Scenario 1: two groups with a replica each, all slots in group 1, two
// proxies, 10,000 keys.

func scenarioSetup(t *testing.T, w *world) {
	c := w.c
	servers := make([]string, 4)
	for i := range servers {
		servers[i], _ = c.StartServer()
	}
	w.masters[1], w.slaves[1] = servers[0], servers[1]
	w.masters[2], w.slaves[2] = servers[2], servers[3]

	c.StartDashboard(false, 60*time.Second)
	for gid := 1; gid <= 2; gid++ {
		c.MustAdmin("--create-group", fmt.Sprintf("--gid=%d", gid))
		c.MustAdmin("--group-add", fmt.Sprintf("--gid=%d", gid), "--addr="+w.masters[gid])
		c.MustAdmin("--group-add", fmt.Sprintf("--gid=%d", gid), "--addr="+w.slaves[gid])
		c.MustAdmin("--sync-action", "--create", "--addr="+w.slaves[gid])
	}

	// The dashboard runs the sync actions (SLAVEOF + CONFIG REWRITE, which
	// works because the servers run with a config file) and then sees the
	// replicas point at their masters in its INFO probes.
	waitUntil(t, 30*time.Second, "sync actions", func() error {
		o, err := c.Overview()
		if err != nil {
			return err
		}
		for _, g := range o.Stats.Group.Models {
			if len(g.Servers) != 2 || g.Servers[0].Addr != w.masters[g.ID] || g.Servers[1].Addr != w.slaves[g.ID] {
				return fmt.Errorf("group %d: %s", g.ID, models.Encode(g))
			}
			if st := g.Servers[1].Action.State; st != "synced" {
				return fmt.Errorf("group %d replica action %q", g.ID, st)
			}
			s := o.Stats.Group.Stats[w.slaves[g.ID]]
			if s == nil || s.Stats["master_addr"] != w.masters[g.ID] {
				return fmt.Errorf("group %d replica stats %+v", g.ID, s)
			}
			if m := o.Stats.Group.Stats[w.masters[g.ID]]; m == nil || m.Stats["role"] != "master" {
				return fmt.Errorf("group %d master stats %+v", g.ID, m)
			}
		}
		if len(o.Stats.Group.Models) != 2 {
			return fmt.Errorf("%d groups", len(o.Stats.Group.Models))
		}
		return nil
	})
	// A probe may time out on a busy machine: poll.
	waitUntil(t, 30*time.Second, "group status", func() error {
		status := c.MustAdmin("--group-status")
		for gid := 1; gid <= 2; gid++ {
			if !strings.Contains(status, fmt.Sprintf("[ ] group-%d [0] %s      ==> NO:ONE\n", gid, w.masters[gid])) ||
				!strings.Contains(status, fmt.Sprintf("] group-%d [1] %s      ==> %s:", gid, w.slaves[gid], w.masters[gid])) {
				return fmt.Errorf("group status:\n%s", status)
			}
		}
		return nil
	})

	c.MustAdmin("--slots-assign", "--beg=0", "--end=1023", "--gid=1", "--confirm")
	c.MustAdmin("--resync-group", "--all")
	for _, g := range c.MustOverview().Stats.Group.Models {
		if g.OutOfSync {
			t.Fatalf("group %d still out of sync after resync", g.ID)
		}
	}

	// One proxy is added with codis-admin, the other registers itself.
	pa := c.StartProxy(false)
	c.MustAdmin("--create-proxy", "--addr="+pa.AdminAddr)
	pb := c.StartProxy(true)
	w.proxies = []*Proxy{pa, pb}
	waitUntil(t, 40*time.Second, "both proxies online and healthy", func() error {
		out := c.MustAdmin("--proxy-status")
		lines := strings.Split(strings.TrimSpace(out), "\n")
		if len(lines) != 2 {
			return fmt.Errorf("proxy status %q", out)
		}
		for _, l := range lines {
			if !strings.HasPrefix(l, "[ ] ") {
				return fmt.Errorf("proxy status %q", out)
			}
		}
		return nil
	})

	// 10,000 keys, half through each proxy.
	for i, px := range w.proxies {
		var keys []string
		for n := i; n < numKeys; n += len(w.proxies) {
			keys = append(keys, keyName(n))
		}
		if err := w.data.writeInitial(px.ProxyAddr, keys); err != nil {
			t.Fatal(err)
		}
	}
	w.verifyAll(t)
	w.checkPlacement(t)
}

// ---------------------------------------------------------------------
// Scenario 2: sync migration of slots 0-511 under load.

func scenarioMigrate(t *testing.T, w *world) {
	c := w.c
	w.load = startLoad(w.data, w.proxies, 4)
	w.load.waitOps(t, 200)
	out := c.MustAdmin("--slot-action", "--create-range", "--beg=0", "--end=511", "--gid=2", "--wait")
	if !strings.HasSuffix(out, "slots remaining: 0\n") {
		t.Fatalf("--wait output %q", out)
	}
	w.load.waitOps(t, 200)
	w.stopLoad(t)

	owner := w.owners(t)
	for sid, gid := range owner {
		if want := map[bool]int{true: 2, false: 1}[sid < 512]; gid != want {
			t.Fatalf("slot %d in group %d, want %d", sid, gid, want)
		}
	}
	w.verifyAll(t)
	w.checkPlacement(t)
}

// ---------------------------------------------------------------------
// Scenario 3: a third group and a rebalance under load.

func scenarioRebalance(t *testing.T, w *world) {
	c := w.c
	w.masters[3], _ = c.StartServer()
	c.MustAdmin("--create-group", "--gid=3")
	c.MustAdmin("--group-add", "--gid=3", "--addr="+w.masters[3])

	w.load = startLoad(w.data, w.proxies, 4)
	w.load.waitOps(t, 200)
	out := c.MustAdmin("--rebalance", "--confirm", "--wait")
	if !strings.HasSuffix(out, "slots remaining: 0\n") || !strings.Contains(out, "=> 3\n") {
		t.Fatalf("rebalance output %q", out)
	}
	w.stopLoad(t)

	// SPEC-control §5.13: with 3 groups every group ends with
	// 1024/3 = 341 or ceil(1024/3) = 342 slots.
	counts := map[int]int{}
	for _, gid := range w.owners(t) {
		counts[gid]++
	}
	if len(counts) != 3 {
		t.Fatalf("slot counts %v", counts)
	}
	for gid, n := range counts {
		if n != 341 && n != 342 {
			t.Fatalf("group %d owns %d slots (counts %v), want 341 or 342", gid, n, counts)
		}
	}
	w.verifyAll(t)
	w.checkPlacement(t)
}

// ---------------------------------------------------------------------
// Scenario 4: the dashboard is killed in the middle of a migration; a new
// dashboard finishes it.

func scenarioDashboardCrash(t *testing.T, w *world) {
	c := w.c
	// The longest run of group 3's slots moves to group 1 (at most 96 of
	// them), slowed down a little so that the crash hits the middle.
	owner := w.owners(t)
	beg, end := longestRun(owner, 3)
	if end-beg+1 > 96 {
		end = beg + 95
	}
	if end-beg+1 < 16 {
		t.Fatalf("group 3 owns no run of 16 slots: [%d,%d]", beg, end)
	}
	w.load = startLoad(w.data, w.proxies, 4)
	w.load.waitOps(t, 200)
	c.MustAdmin("--slot-action", "--interval=5000")
	c.MustAdmin("--slot-action", "--create-range", fmt.Sprintf("--beg=%d", beg), fmt.Sprintf("--end=%d", end), "--gid=1")

	total := end - beg + 1
	done := func(slots []*models.SlotMapping) int {
		n := 0
		for _, m := range slots[beg : end+1] {
			if m.GroupID == 1 && m.Action.IsEmpty() {
				n++
			}
		}
		return n
	}
	waitUntil(t, 60*time.Second, "some slots migrated", func() error {
		o, err := c.Overview()
		if err != nil {
			return err
		}
		if n := done(o.Stats.Slots); n < 3 {
			return fmt.Errorf("%d of %d slots done", n, total)
		}
		return nil
	})
	c.Dashboard.Kill()

	// The store (read with codis-admin --config-dump, no dashboard
	// needed) shows the migration half done.
	dump := w.configDump(t)
	slots := make([]*models.SlotMapping, 1024)
	for _, m := range dump.Slots {
		slots[m.ID] = m
	}
	if n := done(slots); n < 3 || n == total {
		t.Fatalf("after the crash %d of %d slots are done; want a migration in the middle", n, total)
	}
	t.Logf("dashboard killed with %d of %d slots migrated", done(slots), total)

	// On the filesystem the crashed dashboard's lock stays behind: a new
	// dashboard cannot take it until the operator removes it.
	if c.Coord.Name == "filesystem" {
		lockHeld := func(when string) {
			t.Helper()
			stdout, stderr, code := c.Admin("--dashboard-list", c.Coord.Flag())
			if code != 0 || !strings.Contains(stdout, `"dashboard": "`+c.DashboardAddr+`"`) {
				t.Fatalf("dashboard list %s: exit %d %q %s", when, code, stdout, stderr)
			}
		}
		lockHeld("after the crash")
		p := c.LaunchDashboard(false)
		waitUntil(t, 30*time.Second, "dashboard without --remove-lock fails to lock", func() error {
			b, err := os.ReadFile(p.Log)
			if err != nil {
				return err
			}
			if !strings.Contains(string(b), "store: acquire lock of "+c.Product+" failed") {
				return fmt.Errorf("log:\n%s", p.LogTail(5))
			}
			return nil
		})
		if _, err := c.Overview(); err == nil {
			t.Fatal("a dashboard without the lock serves as online")
		}
		p.Stop()
		lockHeld("after stopping a dashboard that did not hold the lock")
	}

	// Proxies keep serving while there is no dashboard.
	w.load.waitOps(t, w.load.ops.Load()+200)

	// ZooKeeper/etcd: the lock dies with the session/lease, the new
	// dashboard takes over by itself. Filesystem: the operator removes
	// the stale lock.
	started := time.Now()
	c.StartDashboard(c.Coord.Name == "filesystem", 90*time.Second)
	t.Logf("new dashboard online after %v", time.Since(started).Round(time.Millisecond))

	waitUntil(t, 120*time.Second, "migration finished by the new dashboard", func() error {
		o, err := c.Overview()
		if err != nil {
			return err
		}
		for _, m := range o.Stats.Slots {
			if !m.Action.IsEmpty() {
				return fmt.Errorf("slot %d action %+v (%d of %d done)", m.ID, m.Action, done(o.Stats.Slots), total)
			}
		}
		return nil
	})
	w.stopLoad(t)
	owner = w.owners(t)
	for sid := beg; sid <= end; sid++ {
		if owner[sid] != 1 {
			t.Fatalf("slot %d in group %d, want 1", sid, owner[sid])
		}
	}
	w.verifyAll(t)
	w.checkPlacement(t)
}

// ---------------------------------------------------------------------
// Scenario 5: a proxy is killed; the dashboard notices, the operator
// removes it with --force, the other proxy keeps serving.

func scenarioProxyCrash(t *testing.T, w *world) {
	c := w.c
	alive, dead := w.proxies[0], w.proxies[1]
	tokens := map[string]string{}
	for _, p := range c.MustOverview().Stats.Proxy.Models {
		tokens[p.AdminAddr] = p.Token
	}
	if tokens[dead.AdminAddr] == "" || tokens[alive.AdminAddr] == "" {
		t.Fatalf("proxy tokens %v", tokens)
	}
	// Clients of the other proxy run through the whole scenario.
	w.load = startLoad(w.data, []*Proxy{alive}, 2)
	w.load.waitOps(t, 200)
	dead.Kill()

	waitUntil(t, 30*time.Second, "dashboard reports the dead proxy", func() error {
		o, err := c.Overview()
		if err != nil {
			return err
		}
		s := o.Stats.Proxy.Stats[tokens[dead.AdminAddr]]
		if s == nil || (s.Error == nil && !s.Timeout) {
			return fmt.Errorf("stats of the dead proxy: %+v", s)
		}
		if a := o.Stats.Proxy.Stats[tokens[alive.AdminAddr]]; a == nil || a.Error != nil || a.Timeout {
			return fmt.Errorf("stats of the live proxy: %+v", a)
		}
		return nil
	})
	waitUntil(t, 30*time.Second, "codis-admin --proxy-status flags the dead proxy", func() error {
		status := c.MustAdmin("--proxy-status")
		lines := strings.Split(strings.TrimSpace(status), "\n")
		if len(lines) != 2 {
			return fmt.Errorf("proxy status %q", status)
		}
		for _, l := range lines {
			switch {
			case strings.Contains(l, "[A] "+dead.AdminAddr):
				if !strings.HasPrefix(l, "[E] ") && !strings.HasPrefix(l, "[T] ") {
					return fmt.Errorf("dead proxy status line %q", l)
				}
			case strings.Contains(l, "[A] "+alive.AdminAddr):
				if !strings.HasPrefix(l, "[ ] ") {
					return fmt.Errorf("live proxy status line %q", l)
				}
			default:
				return fmt.Errorf("unexpected status line %q", l)
			}
		}
		return nil
	})

	// Without --force the removal fails (the proxy cannot be shut down).
	if _, stderr, code := c.Admin("--dashboard="+c.DashboardAddr, "--remove-proxy", "--addr="+dead.AdminAddr); code != 1 || !strings.Contains(stderr, "[Remote Error]") {
		t.Fatalf("remove without --force: exit %d\n%s", code, stderr)
	}
	c.MustAdmin("--remove-proxy", "--addr="+dead.AdminAddr, "--force")
	var list []*models.Proxy
	if err := json.Unmarshal([]byte(c.MustAdmin("--list-proxy")), &list); err != nil {
		t.Fatal(err)
	}
	if len(list) != 1 || list[0].AdminAddr != alive.AdminAddr {
		t.Fatalf("proxies after removal: %s", models.Encode(list))
	}
	// Operations pushing slots to every proxy work again.
	c.MustAdmin("--resync-group", "--all")

	w.proxies = []*Proxy{alive}
	w.load.waitOps(t, w.load.ops.Load()+200)
	w.stopLoad(t)
	w.verifyAll(t)
	w.checkPlacement(t)
}

// ---------------------------------------------------------------------
// Checks.

// owners returns the group of every slot as the dashboard reports it; no
// slot may have an action.
func (w *world) owners(t *testing.T) []int {
	t.Helper()
	o := w.c.MustOverview()
	owner := make([]int, 1024)
	for _, m := range o.Stats.Slots {
		if !m.Action.IsEmpty() {
			t.Fatalf("slot %d still has action %+v", m.ID, m.Action)
		}
		owner[m.ID] = m.GroupID
	}
	return owner
}

// verifyAll reads every key through every proxy and compares it with the
// last acknowledged write.
func (w *world) verifyAll(t *testing.T) {
	t.Helper()
	want := w.data.snapshot()
	if len(want) != numKeys {
		t.Fatalf("%d keys known, want %d", len(want), numKeys)
	}
	keys := make([]string, 0, len(want))
	for k := range want {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, px := range w.proxies {
		got, err := readKeys(px.ProxyAddr, keys)
		if err != nil {
			t.Fatalf("read through %s: %v", px.ProxyAddr, err)
		}
		bad := 0
		for i, k := range keys {
			if got[i] != want[k] {
				if bad < 5 {
					t.Errorf("proxy %s: %s = %q, want %q", px.ProxyAddr, k, got[i], want[k])
				}
				bad++
			}
		}
		if bad > 0 {
			t.Fatalf("proxy %s: %d of %d keys wrong", px.ProxyAddr, bad, len(keys))
		}
	}
}

// checkPlacement asks every master for SLOTSINFO: each holds keys only in
// the slots its group owns, every owned slot of this key set is non-empty
// somewhere, and the keys add up to numKeys (nothing left behind on a
// source).
func (w *world) checkPlacement(t *testing.T) {
	t.Helper()
	owner := w.owners(t)
	total := 0
	for gid, addr := range w.masters {
		info, err := slotsInfo(addr)
		if err != nil {
			t.Fatalf("SLOTSINFO on %s: %v", addr, err)
		}
		owned := 0
		for _, o := range owner {
			if o == gid {
				owned++
			}
		}
		if owned > 0 && len(info) == 0 {
			t.Fatalf("group %d owns %d slots but its master %s is empty", gid, owned, addr)
		}
		for sid, n := range info {
			if owner[sid] != gid {
				t.Fatalf("master %s of group %d has %d keys in slot %d, owned by group %d", addr, gid, n, sid, owner[sid])
			}
			total += n
		}
	}
	if total != numKeys {
		t.Fatalf("masters hold %d keys in total, want %d", total, numKeys)
	}
}

func (w *world) configDump(t *testing.T) *models.ConfigV3 {
	t.Helper()
	stdout, stderr, code := w.c.Admin("--config-dump", "--product="+w.c.Product, w.c.Coord.Flag())
	if code != 0 {
		t.Fatalf("config dump: exit %d\n%s", code, stderr)
	}
	var dump models.ConfigV3
	if err := json.Unmarshal([]byte(stdout), &dump); err != nil {
		t.Fatalf("config dump: %v", err)
	}
	return &dump
}

func (w *world) stopLoad(t *testing.T) {
	t.Helper()
	ops, errs := w.load.Stop()
	w.load = nil
	t.Logf("load: %d operations", ops)
	if len(errs) > 0 {
		t.Fatalf("clients saw %d errors, first: %s", len(errs), strings.Join(errs[:min(len(errs), 5)], "\n"))
	}
}

// longestRun returns the longest run of consecutive slots owned by gid.
func longestRun(owner []int, gid int) (beg, end int) {
	beg, end = -1, -2
	for i := 0; i < len(owner); {
		if owner[i] != gid {
			i++
			continue
		}
		j := i
		for j+1 < len(owner) && owner[j+1] == gid {
			j++
		}
		if j-i > end-beg {
			beg, end = i, j
		}
		i = j + 1
	}
	return beg, end
}

func waitUntil(t *testing.T, timeout time.Duration, what string, f func() error) {
	t.Helper()
	deadline := time.Now().Add(timeout)
	for {
		err := f()
		if err == nil {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("%s: not done after %v: %v", what, timeout, err)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// ---------------------------------------------------------------------
// Data and clients.

// keyName names key n; every fifth key carries a hash tag shared by ten
// keys, so tag groups move together (SLOTSMGRTTAGSLOT).
func keyName(n int) string {
	if n%5 == 0 {
		return fmt.Sprintf("{tag%03d}key:%05d", n/5%200, n)
	}
	return fmt.Sprintf("key:%05d", n)
}

// dataset is the last acknowledged value of every key.
type dataset struct {
	mu   sync.Mutex
	want map[string]string
}

func newDataset() *dataset { return &dataset{want: map[string]string{}} }

func (d *dataset) set(k, v string) {
	d.mu.Lock()
	d.want[k] = v
	d.mu.Unlock()
}

func (d *dataset) get(k string) (string, bool) {
	d.mu.Lock()
	defer d.mu.Unlock()
	v, ok := d.want[k]
	return v, ok
}

func (d *dataset) snapshot() map[string]string {
	d.mu.Lock()
	defer d.mu.Unlock()
	m := make(map[string]string, len(d.want))
	for k, v := range d.want {
		m[k] = v
	}
	return m
}

func dial(addr string) (redis.Conn, error) {
	return dialTimeout(addr, 15*time.Second)
}

func dialTimeout(addr string, rw time.Duration) (redis.Conn, error) {
	return redis.Dial("tcp", addr,
		redis.DialConnectTimeout(2*time.Second),
		redis.DialReadTimeout(rw),
		redis.DialWriteTimeout(rw))
}

// loadTimeout is the load clients' read and write timeout. A dashboard
// killed between pushing a slot's "prepared" state (locked: proxies hold
// its requests) and "migrating" leaves the slot locked until a new
// dashboard takes over, which on ZooKeeper and etcd waits for the dead
// one's session or lease (topom.CoordinatorTimeout, 30 s) to expire, as
// in Codis: the proxies cannot unlock it on their own without risking a
// key served by both groups. Requests on that slot wait that long.
const loadTimeout = topom.CoordinatorTimeout + 45*time.Second

// writeInitial pipelines SET key init-key for keys through addr.
func (d *dataset) writeInitial(addr string, keys []string) error {
	conn, err := dial(addr)
	if err != nil {
		return err
	}
	defer conn.Close()
	for len(keys) > 0 {
		batch := keys[:min(len(keys), 500)]
		keys = keys[len(batch):]
		for _, k := range batch {
			if err := conn.Send("SET", k, "init-"+k); err != nil {
				return err
			}
		}
		if err := conn.Flush(); err != nil {
			return err
		}
		for _, k := range batch {
			if s, err := redis.String(conn.Receive()); err != nil || s != "OK" {
				return fmt.Errorf("SET %s through %s: %q %v", k, addr, s, err)
			}
			d.set(k, "init-"+k)
		}
	}
	return nil
}

// readKeys pipelines GET for keys through addr; missing keys read as "".
func readKeys(addr string, keys []string) ([]string, error) {
	conn, err := dial(addr)
	if err != nil {
		return nil, err
	}
	defer conn.Close()
	out := make([]string, 0, len(keys))
	for rest := keys; len(rest) > 0; {
		batch := rest[:min(len(rest), 500)]
		rest = rest[len(batch):]
		for _, k := range batch {
			if err := conn.Send("GET", k); err != nil {
				return nil, err
			}
		}
		if err := conn.Flush(); err != nil {
			return nil, err
		}
		for _, k := range batch {
			v, err := redis.String(conn.Receive())
			if err != nil && err != redis.ErrNil {
				return nil, fmt.Errorf("GET %s: %w", k, err)
			}
			out = append(out, v)
		}
	}
	return out, nil
}

// slotsInfo returns slot -> key count from SLOTSINFO on a codis-server.
func slotsInfo(addr string) (map[int]int, error) {
	conn, err := dial(addr)
	if err != nil {
		return nil, err
	}
	defer conn.Close()
	rows, err := redis.Values(conn.Do("SLOTSINFO"))
	if err != nil {
		return nil, err
	}
	m := map[int]int{}
	for _, r := range rows {
		pair, err := redis.Ints(r, nil)
		if err != nil || len(pair) != 2 {
			return nil, fmt.Errorf("SLOTSINFO row %v: %v", r, err)
		}
		m[pair[0]] = pair[1]
	}
	return m, nil
}

// load is a set of clients, each owning a share of the keys: it
// overwrites them with new values and reads them back through the
// proxies, recording acknowledged writes in the dataset and every error
// or stale read it sees.
type load struct {
	data *dataset
	stop chan struct{}
	wg   sync.WaitGroup
	ops  atomic.Int64

	mu   sync.Mutex
	errs []string
}

func startLoad(data *dataset, proxies []*Proxy, clients int) *load {
	l := &load{data: data, stop: make(chan struct{})}
	for i := 0; i < clients; i++ {
		addr := proxies[i%len(proxies)].ProxyAddr
		l.wg.Add(1)
		go l.client(i, clients, addr)
	}
	return l
}

func (l *load) fail(format string, args ...any) {
	l.mu.Lock()
	l.errs = append(l.errs, fmt.Sprintf(format, args...))
	l.mu.Unlock()
}

func (l *load) client(id, clients int, addr string) {
	defer l.wg.Done()
	var keys []string
	for n := id; n < numKeys; n += clients {
		keys = append(keys, keyName(n))
	}
	var conn redis.Conn
	defer func() {
		if conn != nil {
			conn.Close()
		}
	}()
	stamp := time.Now().UnixNano()
	for seq := 0; ; seq++ {
		select {
		case <-l.stop:
			return
		default:
		}
		if conn == nil {
			c, err := dialTimeout(addr, loadTimeout)
			if err != nil {
				l.fail("client %d: dial %s: %v", id, addr, err)
				time.Sleep(100 * time.Millisecond)
				continue
			}
			conn = c
		}
		k := keys[seq%len(keys)]
		v := fmt.Sprintf("c%d-%d-%d", id, stamp, seq)
		if s, err := redis.String(conn.Do("SET", k, v)); err != nil || s != "OK" {
			// The write may or may not have happened: the check
			// afterwards would be meaningless for k, but the error
			// fails the test anyway.
			l.fail("client %d: SET %s through %s: %q %v", id, k, addr, s, err)
			conn.Close()
			conn = nil
			continue
		}
		l.data.set(k, v)
		// Read back an earlier key of this client.
		r := keys[(seq*7)%len(keys)]
		want, _ := l.data.get(r)
		got, err := redis.String(conn.Do("GET", r))
		if err != nil {
			l.fail("client %d: GET %s through %s: %v", id, r, addr, err)
			conn.Close()
			conn = nil
			continue
		}
		if got != want {
			l.fail("client %d: GET %s through %s = %q, want %q", id, r, addr, got, want)
		}
		l.ops.Add(2)
		if seq%8 == 0 {
			// A multi-key read spanning several slots.
			mk := []any{keys[(seq+1)%len(keys)], keys[(seq+97)%len(keys)], keys[(seq+501)%len(keys)]}
			wants := make([]string, len(mk))
			for i, k := range mk {
				wants[i], _ = l.data.get(k.(string))
			}
			vals, err := redis.Strings(conn.Do("MGET", mk...))
			if err != nil {
				l.fail("client %d: MGET %v through %s: %v", id, mk, addr, err)
				conn.Close()
				conn = nil
				continue
			}
			if fmt.Sprint(vals) != fmt.Sprint(wants) {
				l.fail("client %d: MGET %v through %s = %q, want %q", id, mk, addr, vals, wants)
			}
			l.ops.Add(1)
		}
		time.Sleep(2 * time.Millisecond)
	}
}

// waitOps waits until the clients have done at least n operations.
func (l *load) waitOps(t *testing.T, n int64) {
	t.Helper()
	waitUntil(t, 30*time.Second, "client operations", func() error {
		if got := l.ops.Load(); got < n {
			return fmt.Errorf("%d operations, want %d", got, n)
		}
		return nil
	})
}

// Stop stops the clients and returns the operation count and the errors.
func (l *load) Stop() (int64, []string) {
	select {
	case <-l.stop:
	default:
		close(l.stop)
	}
	l.wg.Wait()
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.ops.Load(), append([]string(nil), l.errs...)
}
