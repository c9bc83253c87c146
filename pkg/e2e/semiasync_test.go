package e2e

import (
	"fmt"
	"maps"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// TestSemiAsyncMigration is the semi-async twin of scenario 2: the same
// cluster (two groups with a replica each, two proxies, 10,000 keys), then
// slots 0-511 move to group 2 with migration_method "semi-async"
// (SLOTSMGRTTAGSLOT-ASYNC on the servers, SLOTSMGRT-EXEC-WRAPPER in the
// proxies) while clients write through the proxies. Every key is checked
// through every proxy, nothing may be left on the source, and each replica
// must end with its master's slots.
func TestSemiAsyncMigration(t *testing.T) {
	if testing.Short() {
		t.Skip("multi-process end-to-end test")
	}
	b := binaries(t)
	w := &world{
		c:       NewCluster(t, b, Coordinator{Name: "filesystem", Addr: filepath.Join(t.TempDir(), "rootfs")}),
		masters: map[int]string{},
		slaves:  map[int]string{},
		data:    newDataset(),
	}
	t.Cleanup(func() {
		if w.load != nil {
			w.load.Stop()
		}
	})
	scenarioSetup(t, w)
	if t.Failed() {
		return
	}
	// Restart the dashboard with migration_method "semi-async".
	c := w.c
	c.Dashboard.Stop()
	launchDashboardMethod(t, c, "semi-async")
	c.waitFor(c.Dashboard, 60*time.Second, "semi-async dashboard online", func() error {
		_, err := c.Overview()
		return err
	})
	start := time.Now()
	scenarioMigrate(t, w)
	t.Logf("semi-async migration of 512 slots under load in %v", time.Since(start).Round(time.Millisecond))
	// The source really used the semi-async commands (its link to the
	// target is logged).
	c.mu.Lock()
	procs := append([]*Process(nil), c.procs...)
	c.mu.Unlock()
	found := false
	for _, p := range procs {
		if p.Name == "codis-server "+w.masters[1] {
			b, err := os.ReadFile(p.Log)
			found = err == nil && strings.Contains(string(b), "slotsmgrt-async: connected to target")
		}
	}
	if !found {
		t.Errorf("the source's log shows no semi-async link")
	}
	for gid, m := range w.masters {
		r := w.slaves[gid]
		waitUntil(t, 30*time.Second, fmt.Sprintf("replica of group %d in sync", gid), func() error {
			mi, err := slotsInfo(m)
			if err != nil {
				return err
			}
			ri, err := slotsInfo(r)
			if err != nil {
				return err
			}
			if !maps.Equal(mi, ri) {
				return fmt.Errorf("master %s has %d slots, replica %s %d (or counts differ)", m, len(mi), r, len(ri))
			}
			return nil
		})
	}
}

// launchDashboardMethod is LaunchDashboard with another migration method.
func launchDashboardMethod(t *testing.T, c *Cluster, method string) {
	t.Helper()
	conf := filepath.Join(c.Dir, "dashboard-"+method+".toml")
	text := fmt.Sprintf("admin_addr = %q\nproduct_name = %q\nmigration_method = %q\nmigration_timeout = \"30s\"\n",
		c.DashboardAddr, c.Product, method)
	if err := os.WriteFile(conf, []byte(text), 0o644); err != nil {
		t.Fatal(err)
	}
	c.Dashboard = c.start("codis-dashboard", c.Bin.Dashboard, "--config="+conf, c.Coord.Flag(), "--log-level=info")
}
