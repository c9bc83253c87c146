package e2e

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/gomodule/redigo/redis"

	"github.com/codisgo/codis/pkg/models"
	"github.com/codisgo/codis/pkg/testenv"
)

// haKeys is the number of keys written before the failover and read
// back after it.
const haKeys = 2000

// haWorld is the state the codis-ha steps share.
type haWorld struct {
	c                *Cluster
	master, slave, x string // group 1: master, its replica; x joins later without replicating
	xProc, mProc     *Process
	pa, pb           *Proxy // pb is killed
	pbToken          string
	pbID             int
	keys             []string
	data             *dataset
	ha               *Process // the maintaining codis-ha of steps 2-4
}

// TestHA runs codis-ha (SPEC-control §8) against a real cluster on the
// filesystem coordinator: one group (master + synced replica), two
// proxies, haKeys keys. The steps share the cluster:
//
//  1. no-maintains: a proxy is killed and a server that does not
//     replicate joins the group; codis-ha --no-maintains logs them as
//     [E] and [X] and changes nothing.
//  2. maintains: codis-ha force-removes the dead proxy, then removes the
//     stray server from the group and shuts it down (its process exits).
//  3. failover: the master is killed; codis-ha promotes the replica (it
//     becomes servers[0]), then drops the dead master from the group;
//     the keys are still readable, and writable, through the proxy.
//  4. dashboard-gone: the dashboard stops; codis-ha exits with status 1.
func TestHA(t *testing.T) {
	if testing.Short() {
		t.Skip("multi-process end-to-end test")
	}
	w := &haWorld{
		c:    NewCluster(t, binaries(t), Coordinator{Name: "filesystem", Addr: filepath.Join(t.TempDir(), "rootfs")}),
		data: newDataset(),
	}
	runSteps(t, w.c, "ha", w, []step[*haWorld]{
		{"0-setup", haSetup},
		{"1-no-maintains", haNoMaintains},
		{"2-maintains", haMaintains},
		{"3-failover", haFailover},
		{"4-dashboard-gone", haDashboardGone},
	})
}

func haSetup(t *testing.T, w *haWorld) {
	c := w.c
	w.master, w.mProc = c.StartServer()
	w.slave, _ = c.StartServer()
	w.x, w.xProc = c.StartServer()
	c.StartDashboard(false, 60*time.Second)
	c.MustAdmin("--create-group", "--gid=1")
	c.MustAdmin("--group-add", "--gid=1", "--addr="+w.master)
	c.MustAdmin("--group-add", "--gid=1", "--addr="+w.slave)
	c.MustAdmin("--sync-action", "--create", "--addr="+w.slave)
	// The dashboard's own probes must see the replica linked up before
	// codis-ha starts, or it would be a SYNC_ERROR slave to remove.
	waitUntil(t, 30*time.Second, "replica synced", func() error {
		status := c.MustAdmin("--group-status")
		if !strings.Contains(status, fmt.Sprintf("[ ] group-1 [1] %s      ==> %s:up\n", w.slave, w.master)) {
			return fmt.Errorf("group status:\n%s", status)
		}
		return nil
	})
	c.MustAdmin("--slots-assign", "--beg=0", "--end=1023", "--gid=1", "--confirm")
	c.MustAdmin("--resync-group", "--all")

	w.pa, w.pb = c.StartProxy(true), c.StartProxy(true)
	waitUntil(t, 40*time.Second, "both proxies healthy", func() error {
		out := c.MustAdmin("--proxy-status")
		if strings.Count(out, "[ ] proxy-") != 2 {
			return fmt.Errorf("proxy status %q", out)
		}
		return nil
	})
	for _, p := range c.MustOverview().Stats.Proxy.Models {
		if p.AdminAddr == w.pb.AdminAddr {
			w.pbToken, w.pbID = p.Token, p.ID
		}
	}
	if w.pbToken == "" {
		t.Fatal("no proxy model for the second proxy")
	}
	for n := range haKeys {
		w.keys = append(w.keys, keyName(n))
	}
	if err := w.data.writeInitial(w.pa.ProxyAddr, w.keys); err != nil {
		t.Fatal(err)
	}
	// The replica has every key before the master can die.
	waitUntil(t, 30*time.Second, "keys replicated", func() error {
		conn, err := dial(w.slave)
		if err != nil {
			return err
		}
		defer conn.Close()
		n, err := redis.Int(conn.Do("DBSIZE"))
		if err != nil {
			return err
		}
		if n != haKeys {
			return fmt.Errorf("replica has %d keys", n)
		}
		return nil
	})
}

// topology is the part of the dashboard state codis-ha may change.
func (w *haWorld) topology(t *testing.T) (groups string, proxies []string) {
	t.Helper()
	o := w.c.MustOverview()
	for _, p := range o.Stats.Proxy.Models {
		proxies = append(proxies, p.Token)
	}
	return string(models.Encode(o.Stats.Group.Models)), proxies
}

func haNoMaintains(t *testing.T, w *haWorld) {
	c := w.c
	c.MustAdmin("--group-add", "--gid=1", "--addr="+w.x) // joins, does not replicate
	w.pb.Kill()
	// Let the dashboard probe both before looking at the topology.
	waitUntil(t, 30*time.Second, "dashboard sees the dead proxy and the stray server", func() error {
		o := c.MustOverview()
		if s := o.Stats.Proxy.Stats[w.pbToken]; s == nil || s.Error == nil {
			return fmt.Errorf("dead proxy stats %+v", s)
		}
		if s := o.Stats.Group.Stats[w.x]; s == nil || s.Stats == nil {
			return fmt.Errorf("stray server stats %+v", s)
		}
		return nil
	})
	groups, proxies := w.topology(t)

	ha := c.StartHa("--interval=1", "--no-maintains")
	proxyLine := fmt.Sprintf("[E] proxy-%d [T] %s [A] %s", w.pbID, w.pbToken, w.pb.AdminAddr)
	strayLine := fmt.Sprintf("[X] group-1 [2] %s\n", w.x)
	waitUntil(t, 20*time.Second, "codis-ha logs three rounds", func() error {
		if !ha.Running() {
			t.Fatalf("codis-ha exited:\n%s", ha.LogTail(30))
		}
		log := ha.ReadLog()
		for _, l := range []string{
			proxyLine,
			fmt.Sprintf("[ ] group-1 [0] %s\n", w.master),
			fmt.Sprintf("[ ] group-1 [1] %s\n", w.slave),
			strayLine,
		} {
			if !strings.Contains(log, l) {
				return fmt.Errorf("no %q in the log", l)
			}
		}
		if n := strings.Count(log, strayLine); n < 3 {
			return fmt.Errorf("%d rounds", n)
		}
		return nil
	})
	ha.Stop()
	if code, _ := ha.ExitCode(); code != 0 {
		t.Errorf("codis-ha exit status %d after SIGTERM", code)
	}
	if log := ha.ReadLog(); strings.Contains(log, "remove") || strings.Contains(log, "promote") {
		t.Errorf("codis-ha --no-maintains acted:\n%s", log)
	}
	g2, p2 := w.topology(t)
	if g2 != groups || strings.Join(p2, ",") != strings.Join(proxies, ",") {
		t.Errorf("topology changed under --no-maintains:\n%s %v\n%s %v", groups, proxies, g2, p2)
	}
	if !w.xProc.Running() {
		t.Error("the stray server was shut down under --no-maintains")
	}
}

func haMaintains(t *testing.T, w *haWorld) {
	c := w.c
	ha := c.StartHa("--interval=1")
	waitUntil(t, 20*time.Second, "codis-ha removes the dead proxy", func() error {
		_, proxies := w.topology(t)
		for _, tok := range proxies {
			if tok == w.pbToken {
				return errors.New("dead proxy still registered")
			}
		}
		if len(proxies) != 1 {
			return fmt.Errorf("proxies %v", proxies)
		}
		return nil
	})
	waitUntil(t, 20*time.Second, "codis-ha removes the stray server and shuts it down", func() error {
		if g := w.group(t); len(g.Servers) != 2 || g.Master() != w.master || g.Servers[1].Addr != w.slave {
			return fmt.Errorf("group %s", models.Encode(g))
		}
		if w.xProc.Running() {
			return errors.New("stray server still running")
		}
		return nil
	})
	log := ha.ReadLog()
	for _, s := range []string{"remove proxy done", "remove server from group done", "shutdown server done"} {
		if !strings.Contains(log, s) {
			t.Errorf("no %q in the log:\n%s", s, log)
		}
	}
	w.ha = ha // left running: it handles the failover of the next step
}

func (w *haWorld) group(t *testing.T) *models.Group {
	t.Helper()
	gs := w.c.MustOverview().Stats.Group.Models
	if len(gs) != 1 {
		t.Fatalf("groups %s", models.Encode(gs))
	}
	return gs[0]
}

func haFailover(t *testing.T, w *haWorld) {
	c := w.c
	ha := w.ha
	killed := time.Now()
	w.mProc.Kill()
	waitUntil(t, 30*time.Second, "codis-ha promotes the replica", func() error {
		if !ha.Running() {
			t.Fatalf("codis-ha exited:\n%s", ha.LogTail(30))
		}
		if g := w.group(t); g.Master() != w.slave || g.IsPromoting() {
			return fmt.Errorf("group %s", models.Encode(g))
		}
		return nil
	})
	t.Logf("replica promoted %v after the master was killed", time.Since(killed).Round(time.Millisecond))
	waitUntil(t, 20*time.Second, "codis-ha drops the dead master", func() error {
		if g := w.group(t); len(g.Servers) != 1 || g.Master() != w.slave {
			return fmt.Errorf("group %s", models.Encode(g))
		}
		return nil
	})
	log := ha.ReadLog()
	// The promotion's CLIENT KILL TYPE normal closes the dashboard's
	// pooled probe connections to the new master; the dashboard must not
	// report that as a probe error (codis-ha would see a dead master).
	if bad := fmt.Sprintf("[E] group-1 [0] %s\n", w.slave); strings.Contains(log, bad) {
		t.Errorf("the new master was reported dead after the promotion:\n%s", ha.LogTail(40))
	}
	for _, s := range []string{
		fmt.Sprintf("[E] group-1 [0] %s\n", w.master),
		fmt.Sprintf("[X] group-1 [1] %s\n", w.slave),
		"promote slave done",
	} {
		if !strings.Contains(log, s) {
			t.Errorf("no %q in the log:\n%s", s, ha.LogTail(40))
		}
	}

	// Every key is still there, through the surviving proxy, and the new
	// master takes writes.
	got, err := readKeys(w.pa.ProxyAddr, w.keys)
	if err != nil {
		t.Fatal(err)
	}
	for i, k := range w.keys {
		if want, _ := w.data.get(k); got[i] != want {
			t.Fatalf("%s = %q after the failover, want %q", k, got[i], want)
		}
	}
	conn, err := dial(w.pa.ProxyAddr)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	if s, err := redis.String(conn.Do("SET", "after-failover", "yes")); err != nil || s != "OK" {
		t.Fatalf("SET after the failover: %q %v", s, err)
	}
	waitUntil(t, 10*time.Second, "group status after the failover", func() error {
		status := c.MustAdmin("--group-status")
		if status != fmt.Sprintf("[ ] group-1 [0] %s      ==> NO:ONE\n", w.slave) {
			return fmt.Errorf("group status %q", status)
		}
		return nil
	})
}

func haDashboardGone(t *testing.T, w *haWorld) {
	ha := w.ha
	w.c.Dashboard.Stop()
	select {
	case <-ha.Exited():
	case <-time.After(20 * time.Second):
		t.Fatalf("codis-ha still running 20 s after the dashboard stopped:\n%s", ha.LogTail(20))
	}
	if code, _ := ha.ExitCode(); code != 1 {
		t.Errorf("codis-ha exit status %d, want 1", code)
	}
	if tail := ha.LogTail(5); !strings.Contains(tail, "[PANIC] codis-ha failed") || !strings.Contains(tail, "call rpc stats to dashboard "+w.c.DashboardAddr) {
		t.Errorf("codis-ha log tail:\n%s", tail)
	}
}

// TestHACommandLine runs codis-ha with bad command lines: each must exit
// non-zero, without a crash, and say why.
func TestHACommandLine(t *testing.T) {
	if testing.Short() {
		t.Skip("runs the built binary")
	}
	bin := binaries(t).Ha
	closed := testenv.ClosedPort(t)
	for _, tc := range []struct {
		name   string
		args   []string
		code   int
		stdout string
		stderr []string
	}{
		{"version", []string{"--version"}, 0, "version: ", nil},
		{"help", []string{"--help"}, 0, "--no-maintains", nil},
		{"interval 0", []string{"--interval=0", "--dashboard=" + closed}, 1, "", []string{"[PANIC] invalid --interval", "value=0"}},
		{"negative interval", []string{"--interval=-5", "--dashboard=" + closed}, 1, "", []string{"invalid --interval", "value=-5"}},
		{"interval not a number", []string{"--interval=1.5", "--dashboard=" + closed}, 1, "", []string{"invalid --interval", "value=1.5"}},
		{"missing dashboard", []string{"--interval=1"}, 1, "", []string{"Usage:", "missing --dashboard=ADDR"}},
		{"unknown flag", []string{"--dashboard=" + closed, "--bogus"}, 1, "", []string{"Usage:", "parse arguments failed"}},
		{"bad log level", []string{"--dashboard=" + closed, "--log-level=LOUD"}, 1, "", []string{"invalid --log-level"}},
		{"unreachable dashboard", []string{"--dashboard=" + closed, "--interval=1"}, 1, "",
			[]string{"[PANIC] codis-ha failed", "call rpc model to dashboard " + closed, "connection refused"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
			defer cancel()
			cmd := exec.CommandContext(ctx, bin, tc.args...)
			var o, e bytes.Buffer
			cmd.Stdout, cmd.Stderr = &o, &e
			err := cmd.Run()
			if ctx.Err() != nil {
				t.Fatalf("no exit after 20 s; stderr:\n%s", e.String())
			}
			code := 0
			var x *exec.ExitError
			if errors.As(err, &x) {
				code = x.ExitCode()
			} else if err != nil {
				t.Fatal(err)
			}
			if code != tc.code {
				t.Errorf("exit status %d, want %d\nstdout: %s\nstderr: %s", code, tc.code, o.String(), e.String())
			}
			if !strings.Contains(o.String(), tc.stdout) {
				t.Errorf("stdout %q, want %q in it", o.String(), tc.stdout)
			}
			for _, s := range tc.stderr {
				if !strings.Contains(e.String(), s) {
					t.Errorf("stderr %q, want %q in it", e.String(), s)
				}
			}
			if strings.Contains(e.String(), "goroutine ") {
				t.Errorf("crash:\n%s", e.String())
			}
		})
	}
}
