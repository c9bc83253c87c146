package ha

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/gomodule/redigo/redis"

	"github.com/codisgo/codis/pkg/admin"
	"github.com/codisgo/codis/pkg/models"
)

// The fixtures in testdata are GET /api/topom/stats/{xauth} documents
// captured from real processes (codis-dashboard on the filesystem
// coordinator, one group of two codis-servers with the replica synced by a
// sync action, one codis-proxy), trimmed: slots cut to the first four,
// INFO fields cut to the replication ones, proxy ops reduced.
//
//	healthy.json     everything up
//	masterdown.json  the master (127.0.0.1:26401) killed with SIGKILL
//	proxydown.json   then the proxy killed with SIGKILL too
const (
	fixMaster = "127.0.0.1:26401"
	fixSlave  = "127.0.0.1:26402"
	fixToken  = "e3b377f9282f7dac23793bd757a7bfd6"
)

func load(t *testing.T, name string) *admin.DashboardStats {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("testdata", name))
	if err != nil {
		t.Fatal(err)
	}
	s := &admin.DashboardStats{}
	if err := json.Unmarshal(b, s); err != nil {
		t.Fatalf("%s: %v", name, err)
	}
	return s
}

func TestFixtures(t *testing.T) {
	for _, tc := range []struct {
		file    string
		proxy   Code
		servers [2]Code
		lines   []string
		action  Action
	}{
		{
			file: "healthy.json", proxy: Alive, servers: [2]Code{Ready, Ready},
			lines: []string{
				"[ ] proxy-1 [T] " + fixToken + " [A] 127.0.0.1:26481 [P] 127.0.0.1:26490",
				"[ ] group-1 [0] " + fixMaster,
				"[ ] group-1 [1] " + fixSlave,
			},
		},
		{
			file: "masterdown.json", proxy: Alive, servers: [2]Code{Error, Broken},
			lines: []string{
				"[ ] proxy-1 [T] " + fixToken + " [A] 127.0.0.1:26481 [P] 127.0.0.1:26490",
				"[E] group-1 [0] " + fixMaster,
				"[X] group-1 [1] " + fixSlave,
			},
			action: Action{Kind: ActionPromote, GroupID: 1, Addr: fixSlave, Code: Error},
		},
		{
			file: "proxydown.json", proxy: Error, servers: [2]Code{Error, Broken},
			lines: []string{
				"[E] proxy-1 [T] " + fixToken + " [A] 127.0.0.1:26481 [P] 127.0.0.1:26490",
				"[E] group-1 [0] " + fixMaster,
				"[X] group-1 [1] " + fixSlave,
			},
			action: Action{Kind: ActionRemoveProxy, Token: fixToken, Code: Error},
		},
	} {
		t.Run(tc.file, func(t *testing.T) {
			s := load(t, tc.file)
			st := Classify(s)
			if got := st.Proxies[fixToken]; got != tc.proxy {
				t.Errorf("proxy: %v, want %v", got, tc.proxy)
			}
			if got := [2]Code{st.Servers[fixMaster], st.Servers[fixSlave]}; got != tc.servers {
				t.Errorf("servers: %v, want %v", got, tc.servers)
			}
			lines := append(ProxyLines(s, st), GroupLines(s, st)...)
			if !reflect.DeepEqual(lines, tc.lines) {
				t.Errorf("lines:\n%s\nwant:\n%s", strings.Join(lines, "\n"), strings.Join(tc.lines, "\n"))
			}
			d := Plan(s, st, 10)
			if d.Action != tc.action || len(d.Skipped) != 0 {
				t.Errorf("plan: %+v, want %+v", d, tc.action)
			}
		})
	}
}

func TestProxyCode(t *testing.T) {
	for _, tc := range []struct {
		name string
		st   *admin.ProxyStats
		want Code
	}{
		{"missing", nil, Missing},
		{"error", &admin.ProxyStats{Error: &admin.RemoteError{Cause: "refused"}, UnixTime: 1}, Error},
		{"error wins over timeout", &admin.ProxyStats{Error: &admin.RemoteError{}, Timeout: true}, Error},
		{"timeout", &admin.ProxyStats{Timeout: true}, Timeout},
		{"no stats", &admin.ProxyStats{UnixTime: 1}, Timeout},
		{"null stats", &admin.ProxyStats{Stats: json.RawMessage("null")}, Timeout},
		{"alive", &admin.ProxyStats{Stats: json.RawMessage(`{"online":true}`)}, Alive},
		{"alive even offline", &admin.ProxyStats{Stats: json.RawMessage(`{"online":false}`)}, Alive},
	} {
		if got := ProxyCode(tc.st); got != tc.want {
			t.Errorf("%s: %v, want %v", tc.name, got, tc.want)
		}
	}
}

func TestServerCode(t *testing.T) {
	g := &models.Group{ID: 1, Servers: []*models.GroupServer{{Addr: "m:1"}, {Addr: "s:2"}}}
	info := func(kv ...string) *admin.RedisStats {
		m := map[string]string{"role": "master"}
		for i := 0; i+1 < len(kv); i += 2 {
			m[kv[i]] = kv[i+1]
		}
		return &admin.RedisStats{Stats: m, UnixTime: 1}
	}
	for _, tc := range []struct {
		name string
		i    int
		st   *admin.RedisStats
		want Code
	}{
		{"missing", 0, nil, Missing},
		{"error", 1, &admin.RedisStats{Error: &admin.RemoteError{Cause: "refused"}}, Error},
		{"timeout", 0, &admin.RedisStats{Timeout: true}, Timeout},
		{"no stats", 1, &admin.RedisStats{UnixTime: 1}, Timeout},
		{"master ready", 0, info(), Ready},
		{"master replicating", 0, info("master_addr", "x:3", "master_link_status", "up"), SyncError},
		{"master empty master_addr", 0, info("master_addr", ""), Ready},
		{"slave up", 1, info("master_addr", "m:1", "master_link_status", "up"), Ready},
		{"slave down", 1, info("master_addr", "m:1", "master_link_status", "down"), Broken},
		{"slave link unknown", 1, info("master_addr", "m:1", "master_link_status", "syncing"), SyncError},
		{"slave no link status", 1, info("master_addr", "m:1"), SyncError},
		{"slave of another", 1, info("master_addr", "x:3", "master_link_status", "up"), SyncError},
		{"slave of nobody", 1, info(), SyncError},
		{"string compare", 1, info("master_addr", "localhost:1", "master_link_status", "up"), SyncError},
	} {
		if got := ServerCode(g, tc.i, tc.st); got != tc.want {
			t.Errorf("%s: %v, want %v", tc.name, got, tc.want)
		}
	}
}

func TestCodeNames(t *testing.T) {
	want := map[Code][2]string{
		Missing: {"MISSING", "[?]"}, Error: {"ERROR", "[E]"}, Timeout: {"TIMEOUT", "[T]"},
		Alive: {"ALIVE", "[ ]"}, Ready: {"READY", "[ ]"}, SyncError: {"SYNC_ERROR", "[X]"}, Broken: {"BROKEN", "[X]"},
	}
	for c, w := range want {
		if c.String() != w[0] || c.Flag() != w[1] {
			t.Errorf("code %d: %s %s, want %v", int(c), c, c.Flag(), w)
		}
	}
}

// cluster builds stats documents shaped like the dashboard's: groups of
// servers with INFO fields, proxies with stats.
type cluster struct{ s *admin.DashboardStats }

func newCluster() *cluster {
	s := &admin.DashboardStats{}
	s.Group.Stats = map[string]*admin.RedisStats{}
	s.Proxy.Stats = map[string]*admin.ProxyStats{}
	return &cluster{s: s}
}

func (c *cluster) group(gid int, addrs ...string) *models.Group {
	g := models.NewGroup(gid)
	for _, a := range addrs {
		g.Servers = append(g.Servers, &models.GroupServer{Addr: a})
	}
	c.s.Group.Models = append(c.s.Group.Models, g)
	return g
}

// master makes addr a healthy master.
func (c *cluster) master(addr string) {
	c.s.Group.Stats[addr] = &admin.RedisStats{Stats: map[string]string{"role": "master"}, UnixTime: 1}
}

// slave makes addr a replica of master; down < 0 means link up, else the
// link is down since down seconds.
func (c *cluster) slave(addr, master string, down int) {
	m := map[string]string{"role": "slave", "master_addr": master, "master_link_status": "up"}
	if down >= 0 {
		m["master_link_status"] = "down"
		m["master_link_down_since_seconds"] = fmt.Sprint(down)
	}
	c.s.Group.Stats[addr] = &admin.RedisStats{Stats: m, UnixTime: 1}
}

func (c *cluster) dead(addr string) {
	c.s.Group.Stats[addr] = &admin.RedisStats{Error: &admin.RemoteError{Cause: "connection refused"}, UnixTime: 1}
}

func (c *cluster) proxy(id int, alive bool) {
	tok := fmt.Sprintf("%032x", id)
	c.s.Proxy.Models = append(c.s.Proxy.Models, &models.Proxy{ID: id, Token: tok, AdminAddr: fmt.Sprintf("p:%d", id)})
	if alive {
		c.s.Proxy.Stats[tok] = &admin.ProxyStats{Stats: json.RawMessage(`{"online":true}`), UnixTime: 1}
	} else {
		c.s.Proxy.Stats[tok] = &admin.ProxyStats{Timeout: true, UnixTime: 1}
	}
}

func (c *cluster) plan(maxdown int) Decision { return Plan(c.s, Classify(c.s), maxdown) }

func TestPlan(t *testing.T) {
	for _, tc := range []struct {
		name  string
		build func(c *cluster)
		want  Action
		skip  []Skip
	}{
		{"healthy", func(c *cluster) {
			c.proxy(1, true)
			c.group(1, "a", "b")
			c.master("a")
			c.slave("b", "a", -1)
		}, Action{}, nil},
		{"first dead proxy before any server", func(c *cluster) {
			c.proxy(1, true)
			c.proxy(2, false)
			c.proxy(3, false)
			c.group(1, "a", "b")
			c.dead("a")
			c.slave("b", "a", 1)
		}, Action{Kind: ActionRemoveProxy, Token: fmt.Sprintf("%032x", 2), Code: Timeout}, nil},
		{"proxy missing from stats", func(c *cluster) {
			c.proxy(1, true)
			c.s.Proxy.Models = append(c.s.Proxy.Models, &models.Proxy{ID: 2, Token: "new"})
		}, Action{Kind: ActionRemoveProxy, Token: "new", Code: Missing}, nil},
		{"slave replicating elsewhere is removed", func(c *cluster) {
			c.group(1, "a", "b", "c")
			c.master("a")
			c.slave("b", "a", -1)
			c.slave("c", "x", -1)
		}, Action{Kind: ActionRemoveServer, GroupID: 1, Addr: "c", Code: SyncError}, nil},
		{"missing slave is removed", func(c *cluster) {
			c.group(1, "a", "b")
			c.master("a")
		}, Action{Kind: ActionRemoveServer, GroupID: 1, Addr: "b", Code: Missing}, nil},
		{"broken slave is left alone", func(c *cluster) {
			c.group(1, "a", "b")
			c.master("a")
			c.slave("b", "a", 100)
		}, Action{}, nil},
		{"dead master of a one-server group is removed", func(c *cluster) {
			c.group(1, "a", "b")
			c.master("a")
			c.slave("b", "a", -1)
			c.group(2, "c")
			c.dead("c")
		}, Action{Kind: ActionRemoveServer, GroupID: 2, Addr: "c", Code: Error}, nil},
		{"failed master stops the server scan", func(c *cluster) {
			c.group(1, "a", "b")
			c.master("a")
			c.s.Group.Stats["a"].Stats["master_addr"] = "z:1" // SYNC_ERROR
			c.slave("b", "a", -1)
			c.group(2, "c", "d")
			c.master("c")
			c.dead("d") // not reached
		}, Action{}, nil},
		{"dead master is promoted away", func(c *cluster) {
			c.group(1, "a", "b")
			c.dead("a")
			c.slave("b", "a", 3)
		}, Action{Kind: ActionPromote, GroupID: 1, Addr: "b", Code: Error}, nil},
		{"timed out master is promoted away", func(c *cluster) {
			c.group(1, "a", "b")
			c.s.Group.Stats["a"] = &admin.RedisStats{Timeout: true, UnixTime: 1}
			c.slave("b", "a", 3)
		}, Action{Kind: ActionPromote, GroupID: 1, Addr: "b", Code: Timeout}, nil},
		{"dead master, dead slave: giveup", func(c *cluster) {
			c.group(1, "a", "b")
			c.dead("a")
			c.dead("b")
		}, Action{}, []Skip{{GroupID: 1, Master: "a", Reason: SkipGiveUp}}},
		{"dead master, promoting: fix manually", func(c *cluster) {
			g := c.group(1, "a", "b")
			g.Promoting = models.Promoting{Index: 1, State: "preparing"}
			c.dead("a")
			c.slave("b", "a", 3)
		}, Action{}, []Skip{{GroupID: 1, Master: "a", Reason: SkipPromoting}}},
		{"first promotable group ends the round", func(c *cluster) {
			c.group(1, "a")
			c.s.Group.Models[0].Servers = append(c.s.Group.Models[0].Servers, &models.GroupServer{Addr: "b"})
			c.dead("a")
			c.dead("b")
			c.group(2, "c", "d")
			c.dead("c")
			c.slave("d", "c", 1)
			c.group(3, "e", "f")
			c.dead("e")
			c.slave("f", "e", 1)
		}, Action{Kind: ActionPromote, GroupID: 2, Addr: "d", Code: Error}, []Skip{{GroupID: 1, Master: "a", Reason: SkipGiveUp}}},
		{"SYNC_ERROR master is not promoted away", func(c *cluster) {
			c.group(1, "a", "b")
			c.master("a")
			c.s.Group.Stats["a"].Stats["master_addr"] = "z:1"
			c.slave("b", "a", 3)
		}, Action{}, nil},
		{"empty group", func(c *cluster) {
			c.group(1)
		}, Action{}, nil},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c := newCluster()
			tc.build(c)
			d := c.plan(10)
			if d.Action != tc.want || !reflect.DeepEqual(d.Skipped, tc.skip) {
				t.Errorf("plan %+v, want %+v skipped %+v", d, tc.want, tc.skip)
			}
		})
	}
}

func TestPickSlave(t *testing.T) {
	const maxdown = 10
	type slave struct {
		addr string
		down int    // link down since; -1 link up
		kind string // "", "dead", "sync" (replicates elsewhere), "raw:<value>"
	}
	for _, tc := range []struct {
		name   string
		slaves []slave
		want   string
	}{
		{"smallest down time", []slave{{"b", 7, ""}, {"c", 3, ""}, {"d", 5, ""}}, "c"},
		{"tie goes to the first", []slave{{"b", 4, ""}, {"c", 4, ""}}, "b"},
		{"maxdown is inclusive", []slave{{"b", 10, ""}, {"c", 11, ""}}, "b"},
		{"fresh beats stale", []slave{{"b", 20, ""}, {"c", 9, ""}}, "c"},
		{"stale fallback, smallest", []slave{{"b", 300, ""}, {"c", 20, ""}, {"d", 11, ""}}, "d"},
		{"too stale", []slave{{"b", 65535, ""}}, ""},
		{"just below the limit", []slave{{"b", 65534, ""}}, "b"},
		{"broken beats sync error", []slave{{"b", 0, "sync"}, {"c", 500, ""}}, "c"},
		{"first sync error", []slave{{"b", 0, "sync"}, {"c", 0, "sync"}}, "b"},
		{"too stale broken, then sync error", []slave{{"b", 70000, ""}, {"c", 0, "sync"}}, "c"},
		{"up slaves are not candidates", []slave{{"b", -1, ""}}, ""},
		{"dead slaves are not candidates", []slave{{"b", 0, "dead"}}, ""},
		{"never linked (-1) is not a candidate", []slave{{"b", 0, "raw:-1"}, {"c", 0, "raw:abc"}}, ""},
		{"never linked, then stale", []slave{{"b", 0, "raw:-1"}, {"c", 40, ""}}, "c"},
		{"no slaves", nil, ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c := newCluster()
			addrs := []string{"a"}
			for _, s := range tc.slaves {
				addrs = append(addrs, s.addr)
			}
			g := c.group(1, addrs...)
			c.dead("a")
			for _, s := range tc.slaves {
				switch {
				case s.kind == "dead":
					c.dead(s.addr)
				case s.kind == "sync":
					c.slave(s.addr, "elsewhere:1", -1)
				case strings.HasPrefix(s.kind, "raw:"):
					c.slave(s.addr, "a", 0)
					c.s.Group.Stats[s.addr].Stats["master_link_down_since_seconds"] = strings.TrimPrefix(s.kind, "raw:")
				default:
					c.slave(s.addr, "a", s.down)
				}
			}
			if got := PickSlave(g, c.s.Group.Stats, Classify(c.s), maxdown); got != tc.want {
				t.Errorf("picked %q, want %q", got, tc.want)
			}
			// Plan promotes the same slave (nobody else needs fixing). A
			// master alone in its group is removed instead (see TestPlan).
			d := c.plan(maxdown)
			if len(tc.slaves) == 0 {
				return
			}
			if tc.want == "" {
				if d.Action.Kind != ActionNone || len(d.Skipped) != 1 || d.Skipped[0].Reason != SkipGiveUp {
					t.Errorf("plan %+v, want giveup", d)
				}
			} else if d.Action.Kind != ActionPromote || d.Action.Addr != tc.want {
				t.Errorf("plan %+v, want promote %q", d, tc.want)
			}
		})
	}
}

func TestNew(t *testing.T) {
	for _, o := range []Options{
		{Interval: time.Second},
		{Dashboard: "127.0.0.1:1"},
		{Dashboard: "127.0.0.1:1", Interval: -time.Second},
	} {
		if _, err := New(o); !errors.Is(err, ErrInvalidOptions) {
			t.Errorf("New(%+v): %v, want ErrInvalidOptions", o, err)
		}
	}
	for _, tc := range []struct {
		interval time.Duration
		maxdown  int
	}{{time.Second, 10}, {5 * time.Second, 50}, {50 * time.Millisecond, 1}} {
		h, err := New(Options{Dashboard: "127.0.0.1:1", Interval: tc.interval})
		if err != nil {
			t.Fatal(err)
		}
		if got := h.maxdown(); got != tc.maxdown {
			t.Errorf("interval %v: maxdown %d, want %d", tc.interval, got, tc.maxdown)
		}
		if _, err := h.Round(context.Background()); !errors.Is(err, ErrNotInitialized) {
			t.Errorf("Round before Init: %v", err)
		}
		h.Close()
	}
}

func TestShutdownErrors(t *testing.T) {
	if err := shutdownServer(context.Background(), "127.0.0.1:1", ""); err == nil {
		t.Error("SHUTDOWN to a closed port succeeded")
	}
	for _, tc := range []struct {
		err  error
		want bool
	}{
		{io.EOF, true},
		{fmt.Errorf("read: %w", syscall.ECONNRESET), true},
		{redis.Error("ERR Errors trying to SHUTDOWN"), false},
		{errors.New("i/o timeout"), false},
	} {
		if got := connClosed(tc.err); got != tc.want {
			t.Errorf("connClosed(%v) = %v", tc.err, got)
		}
	}
}
