package topom

import (
	"fmt"
	"hash/crc32"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/gomodule/redigo/redis"

	"github.com/codisgo/codis/pkg/models"
	"github.com/codisgo/codis/pkg/models/conformance"
	"github.com/codisgo/codis/pkg/testenv"
)

func TestMigrationStateMachineOfflineSlot(t *testing.T) {
	e := newEnv(t)
	e.seedGroup(2, "127.0.0.1:7002")
	p := newFakeProxy(t, "test", "", "")
	e.ok(put, e.api("proxy/create", p.addr()))
	e.ok(put, e.api("slots/action/create", 5, 2))
	checkFor(t, 15*time.Second, "slot 5 migrated", func() bool {
		m := e.slot(5)
		return m.GroupID == 2 && m.Action.IsEmpty()
	})
	// The proxy saw prepared (locked, backend = target), migrating
	// (unlocked) and finished, in that order (§5.11).
	h := p.history(5)
	var seq []string
	for _, s := range h[1:] { // h[0] is the proxy/create push
		seq = append(seq, fmt.Sprintf("%v/%s/%d", s.Locked, s.BackendAddr, s.BackendAddrGroupID))
	}
	want := []string{"true/127.0.0.1:7002/2", "false/127.0.0.1:7002/2", "false/127.0.0.1:7002/2"}
	if strings.Join(seq, " ") != strings.Join(want, " ") {
		t.Fatalf("pushes %v, want %v", seq, want)
	}
	if st := e.stats(); st.SlotAction.Progress.Status != "" || st.SlotAction.Executor != 0 {
		t.Fatalf("slot action %+v", st.SlotAction)
	}
}

func TestMigrationDisabledAndResumeAfterRestart(t *testing.T) {
	e := newEnv(t)
	e.ok(put, e.api("slots/action/disabled", 1))
	e.seedGroup(2, "127.0.0.1:7002")
	e.ok(put, e.api("slots/action/create", 8, 2))
	time.Sleep(1500 * time.Millisecond) // more than one scheduler round
	if m := e.slot(8); m.Action.State != models.ActionPending {
		t.Fatalf("disabled actions advanced: %+v", m)
	}
	e.top.Close()
	if lock, _ := e.store.LoadTopom(false); lock != nil {
		t.Fatal("lock kept after Close")
	}
	// A dashboard stopped mid-migration: the stored state is prepared.
	e.store.UpdateSlotMapping(&models.SlotMapping{ID: 8, Action: models.SlotAction{Index: 1, State: models.ActionPrepared, TargetID: 2}})
	e.start(true)
	checkFor(t, 15*time.Second, "slot 8 migrated after restart", func() bool {
		m := e.slot(8)
		return m.GroupID == 2 && m.Action.IsEmpty()
	})
}

func TestMigrationErrorIsReported(t *testing.T) {
	for _, method := range []string{"sync", "semi-async"} {
		t.Run(method, func(t *testing.T) {
			a := testenv.StartRedis(t)
			b := testenv.StartRedis(t)
			e := newEnv(t, func(c *Config) { c.MigrationMethod = method })
			e.seedGroup(1, a.Addr)
			e.seedGroup(2, b.Addr)
			e.ok(put, e.api("slots/assign"), []*models.SlotMapping{{ID: 3, GroupID: 1}})
			e.ok(put, e.api("slots/action/create", 3, 2))
			// A plain redis-server has no SLOTSMGRT* command: the error
			// shows in the progress and the slot stays migrating.
			cmd := "SLOTSMGRTTAGSLOT"
			if method == "semi-async" {
				cmd = "SLOTSMGRTTAGSLOT-ASYNC"
			}
			checkFor(t, 15*time.Second, "migration error", func() bool {
				st := e.stats().SlotAction.Progress.Status
				return strings.HasPrefix(st, "[ERROR] Slot[0003]: ") && strings.Contains(strings.ToUpper(st), "'"+cmd+"'")
			})
			if m := e.slot(3); m.Action.State != models.ActionMigrating || m.GroupID != 1 {
				t.Fatalf("slot 3 %+v", m)
			}
			// Promotion is refused while... nothing runs now; removing a
			// migrating action is refused.
			e.fail(put, e.api("slots/action/remove", 3), "slot-[3] action isn't pending")
		})
	}
}

// codisServer is cmd/server built once per test binary, in dir (removed
// by TestMain).
var codisServer struct {
	once sync.Once
	dir  string
	path string
	err  error
}

func TestMain(m *testing.M) {
	maybeRunDashboardHelper()
	conformance.MaybeRunHelper()
	code := m.Run()
	if codisServer.dir != "" {
		os.RemoveAll(codisServer.dir)
	}
	os.Exit(code)
}

func buildCodisServer(t *testing.T) string {
	t.Helper()
	codisServer.once.Do(func() {
		dir, err := os.MkdirTemp("", "codis-server-bin")
		if err != nil {
			codisServer.err = err
			return
		}
		codisServer.dir = dir
		_, file, _, _ := runtime.Caller(0)
		repo := filepath.Join(filepath.Dir(file), "..", "..")
		path := filepath.Join(dir, "codis-server")
		cmd := exec.Command("go", "build", "-o", path, "./cmd/server")
		cmd.Dir = repo
		if out, err := cmd.CombinedOutput(); err != nil {
			codisServer.err = fmt.Errorf("go build ./cmd/server: %v\n%s", err, out)
			return
		}
		codisServer.path = path
	})
	if codisServer.err != nil {
		testenv.Missing(t, "codis-server: %v", codisServer.err)
	}
	return codisServer.path
}

// startCodisServer runs a codis-server process on a free port.
func startCodisServer(t *testing.T) string {
	t.Helper()
	bin := buildCodisServer(t)
	for attempt := 0; attempt < 3; attempt++ {
		addr := "127.0.0.1:" + strconv.Itoa(testenv.FreePort(t))
		_, port, _ := net.SplitHostPort(addr)
		cmd := exec.Command(bin, "--port", port, "--bind", "127.0.0.1", "--dir", t.TempDir(), "--save", "")
		cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL}
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		exited := make(chan struct{})
		go func() { cmd.Wait(); close(exited) }()
		t.Cleanup(func() {
			cmd.Process.Signal(syscall.SIGTERM)
			select {
			case <-exited:
			case <-time.After(10 * time.Second):
				cmd.Process.Kill()
				<-exited
			}
		})
		deadline := time.Now().Add(10 * time.Second)
		for time.Now().Before(deadline) {
			select {
			case <-exited:
				deadline = time.Time{}
				continue
			default:
			}
			if c, err := redis.Dial("tcp", addr, redis.DialConnectTimeout(time.Second)); err == nil {
				_, err = c.Do("PING")
				c.Close()
				if err == nil {
					return addr
				}
			}
			time.Sleep(20 * time.Millisecond)
		}
	}
	t.Fatal("codis-server did not start")
	return ""
}

// slotOf is the codis slot of a key: crc32 of its hash tag mod 1024.
func slotOf(key string) int {
	tag := key
	if i := strings.IndexByte(key, '{'); i >= 0 {
		if j := strings.IndexByte(key[i+1:], '}'); j > 0 {
			tag = key[i+1 : i+1+j]
		}
	}
	return int(crc32.ChecksumIEEE([]byte(tag)) % 1024)
}

func TestMigrationSyncCodisServer(t *testing.T) {
	src := startCodisServer(t)
	dst := startCodisServer(t)
	c, err := redis.Dial("tcp", src)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	// The migration commands are added to codis-server separately.
	if _, err := c.Do("SLOTSMGRTTAGSLOT", "127.0.0.1", "1", "1000", "0"); err != nil &&
		strings.Contains(strings.ToLower(err.Error()), "unknown command") {
		t.Skipf("codis-server has no SLOTSMGRTTAGSLOT yet: %v", err)
	}

	const sid = 42
	var keys []string
	for i := 0; len(keys) < 200; i++ {
		k := "key:" + strconv.Itoa(i)
		if slotOf(k) == sid {
			keys = append(keys, k)
		}
	}
	for _, k := range keys {
		if _, err := c.Do("SET", k, "v-"+k); err != nil {
			t.Fatal(err)
		}
	}
	c.Do("SELECT", 2)
	c.Do("SET", keys[0], "db2")
	c.Do("SELECT", 0)

	e := newEnv(t)
	e.ok(put, e.api("group/create", 1))
	e.ok(put, e.api("group/create", 2))
	e.ok(put, e.api("group/add", 1, src))
	e.ok(put, e.api("group/add", 2, dst))
	e.ok(put, e.api("slots/assign"), []*models.SlotMapping{{ID: sid, GroupID: 1}})
	e.ok(put, e.api("slots/action/create", sid, 2))
	checkFor(t, 30*time.Second, "slot migrated", func() bool {
		m := e.slot(sid)
		return m.GroupID == 2 && m.Action.IsEmpty()
	})
	d, err := redis.Dial("tcp", dst)
	if err != nil {
		t.Fatal(err)
	}
	defer d.Close()
	for _, k := range keys {
		v, err := redis.String(d.Do("GET", k))
		if err != nil || v != "v-"+k {
			t.Fatalf("key %s on target: %q %v", k, v, err)
		}
		if n, _ := redis.Int(c.Do("EXISTS", k)); n != 0 {
			t.Fatalf("key %s still on source", k)
		}
	}
	d.Do("SELECT", 2)
	if v, _ := redis.String(d.Do("GET", keys[0])); v != "db2" {
		t.Fatalf("db 2 key on target: %q", v)
	}
}

func TestGroupAddCodisServer(t *testing.T) {
	a := startCodisServer(t)
	b := startCodisServer(t)
	e := newEnv(t)
	e.fail(put, e.api("group/add", 1, a), "group-[1] doesn't exist")
	e.ok(put, e.api("group/create", 1))
	e.ok(put, e.api("group/add", 1, a))
	e.ok(put, e.api("group/add", 1, b, "dc2"))
	e.fail(put, e.api("group/add", 1, b), "server-["+b+"] already exists")
	want := "{\n    \"id\": 1,\n    \"servers\": [\n        {\n            \"server\": \"" + a +
		"\",\n            \"datacenter\": \"\",\n            \"action\": {},\n            \"replica_group\": false\n        },\n" +
		"        {\n            \"server\": \"" + b + "\",\n            \"datacenter\": \"dc2\",\n            \"action\": {},\n" +
		"            \"replica_group\": false\n        }\n    ],\n    \"promoting\": {},\n    \"out_of_sync\": false\n}"
	if got := string(e.readNode(models.GroupPath("test", 1))); got != want {
		t.Fatalf("group node\n%s\nwant\n%s", got, want)
	}
	e.ok(put, e.api("group/del", 1, b))
	e.ok(put, e.api("group/del", 1, a)) // master of an unused group
	if g := e.group(1); len(g.Servers) != 0 {
		t.Fatalf("servers left %+v", g.Servers)
	}
}
