package topom

import (
	"fmt"
	"net"
	"sort"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/codisgo/codis/pkg/models"
	"github.com/codisgo/codis/pkg/resp"
)

// migrationSource is a minimal RESP server standing in for the source
// codis-server of a migration while pkg/server lacks the SLOTSMGRT*
// commands. It holds per db a number of keys of one slot and moves
// `batch` of them per SLOTSMGRTTAGSLOT(-ASYNC) call, replying
// [moved, remains] as codis-server does; INFO keyspace lists the dbs that
// have keys (including dbs with keys in other slots only). Every command
// is recorded.
type migrationSource struct {
	l     net.Listener
	batch int64
	delay time.Duration // added to each SLOTSMGRT* reply

	mu     sync.Mutex
	slot   map[int]int64 // db → keys left in the migrated slot
	others map[int]bool  // dbs with keys in other slots
	cmds   []string      // "db:COMMAND arg..." in arrival order
	wg     sync.WaitGroup
}

func newMigrationSource(t *testing.T, batch int64, slot map[int]int64, others ...int) *migrationSource {
	return newSlowMigrationSource(t, 0, batch, slot, others...)
}

func newSlowMigrationSource(t *testing.T, delay time.Duration, batch int64, slot map[int]int64, others ...int) *migrationSource {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	m := &migrationSource{l: l, batch: batch, delay: delay, slot: slot, others: map[int]bool{}}
	for _, db := range others {
		m.others[db] = true
	}
	m.wg.Add(1)
	go m.accept()
	t.Cleanup(func() { l.Close(); m.wg.Wait() })
	return m
}

func (m *migrationSource) addr() string { return m.l.Addr().String() }

func (m *migrationSource) accept() {
	defer m.wg.Done()
	var conns sync.WaitGroup
	defer conns.Wait()
	for {
		c, err := m.l.Accept()
		if err != nil {
			return
		}
		conns.Add(1)
		go func() {
			defer conns.Done()
			m.serve(c)
		}()
	}
}

func (m *migrationSource) serve(c net.Conn) {
	defer c.Close()
	p := resp.NewParser(c)
	db := 0
	for {
		c.SetDeadline(time.Now().Add(10 * time.Second))
		argv, err := p.ReadCommand()
		if err != nil {
			return
		}
		args := make([]string, len(argv))
		for i, a := range argv {
			args[i] = string(a)
		}
		cmd := strings.ToUpper(args[0])
		m.mu.Lock()
		m.cmds = append(m.cmds, fmt.Sprintf("%d:%s", db, strings.Join(append([]string{cmd}, args[1:]...), " ")))
		var out []byte
		switch cmd {
		case "PING":
			out = resp.AppendSimple(nil, "PONG")
		case "SELECT":
			db, _ = strconv.Atoi(args[1])
			out = resp.AppendOK(nil)
		case "SLOTSMGRTTAGSLOT", "SLOTSMGRTTAGSLOT-ASYNC":
			if m.delay > 0 {
				m.mu.Unlock()
				time.Sleep(m.delay)
				m.mu.Lock()
			}
			moved := min(m.batch, m.slot[db])
			m.slot[db] -= moved
			out = resp.AppendArrayLen(nil, 2)
			out = resp.AppendInt(out, moved)
			out = resp.AppendInt(out, m.slot[db])
		case "INFO":
			var dbs []int
			for d := range m.others {
				dbs = append(dbs, d)
			}
			for d, n := range m.slot {
				if n > 0 && !m.others[d] {
					dbs = append(dbs, d)
				}
			}
			sort.Ints(dbs)
			text := "# Keyspace\r\n"
			for _, d := range dbs {
				text += fmt.Sprintf("db%d:keys=%d,expires=0,avg_ttl=0\r\n", d, m.slot[d]+1)
			}
			out = resp.AppendBulkString(nil, text)
		default:
			out = resp.AppendError(nil, "ERR unknown command '"+args[0]+"'")
		}
		m.mu.Unlock()
		if _, err := c.Write(out); err != nil {
			return
		}
	}
}

// commands returns the recorded migration commands, leaving out the
// stats loop's probes (INFO, CONFIG GET maxmemory, and the PING checking
// a pooled connection).
func (m *migrationSource) commands() []string {
	m.mu.Lock()
	defer m.mu.Unlock()
	var out []string
	for _, c := range m.cmds {
		_, cmd, _ := strings.Cut(c, ":")
		if cmd != "INFO" && cmd != "CONFIG GET maxmemory" && cmd != "PING" {
			out = append(out, c)
		}
	}
	return out
}

func TestMigrationLoopAcrossDBs(t *testing.T) {
	for _, method := range []string{"sync", "semi-async"} {
		t.Run(method, func(t *testing.T) {
			// db0: 3 keys, db2: none of this slot, db3: 2 keys.
			src := newMigrationSource(t, 1, map[int]int64{0: 3, 3: 2}, 2)
			e := newEnv(t, func(c *Config) { c.MigrationMethod = method })
			e.seedGroup(1, src.addr())
			e.seedGroup(2, "127.0.0.1:7002")
			e.ok(put, e.api("slots/assign"), []*models.SlotMapping{{ID: 17, GroupID: 1}})
			e.ok(put, e.api("slots/action/create", 17, 2))
			checkFor(t, 20*time.Second, "slot 17 migrated", func() bool {
				m := e.slot(17)
				return m.GroupID == 2 && m.Action.IsEmpty()
			})
			mgrt := "0:SLOTSMGRTTAGSLOT 127.0.0.1 7002 30000 17"
			if method == "semi-async" {
				// Verified arguments: timeout min(5s, 30s), maxbulks,
				// maxbytes (32mb), slot, numkeys.
				mgrt = "0:SLOTSMGRTTAGSLOT-ASYNC 127.0.0.1 7002 5000 200 33554432 17 500"
			}
			var want []string
			for i := 0; i < 3; i++ {
				want = append(want, mgrt)
			}
			want = append(want, "0:INFO keyspace", "0:SELECT 2")
			want = append(want, "2"+mgrt[1:], "2:INFO keyspace", "2:SELECT 3")
			for i := 0; i < 2; i++ {
				want = append(want, "3"+mgrt[1:])
			}
			want = append(want, "3:INFO keyspace")
			if got := src.commands(); strings.Join(got, "\n") != strings.Join(want, "\n") {
				t.Fatalf("commands:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
			}
			if st := e.stats(); st.SlotAction.Progress.Status != "" || st.SlotAction.Executor != 0 {
				t.Fatalf("progress %+v", st.SlotAction)
			}
		})
	}
}

func TestMigrationProgressAndDisable(t *testing.T) {
	src := newMigrationSource(t, 1, map[int]int64{0: 1000000})
	e := newEnv(t)
	e.seedGroup(1, src.addr())
	e.seedGroup(2, "127.0.0.1:7002")
	e.ok(put, e.api("slots/action/interval", 20000)) // 20 ms between steps
	e.ok(put, e.api("slots/assign"), []*models.SlotMapping{{ID: 4, GroupID: 1}})
	e.ok(put, e.api("slots/action/create", 4, 2))
	checkFor(t, 10*time.Second, "progress", func() bool {
		return strings.HasPrefix(e.stats().SlotAction.Progress.Status, "[OK] Slot[0004]@DB[0]=")
	})
	// Disabling pauses a migrating slot (SPEC-control §11.8).
	e.ok(put, e.api("slots/action/disabled", 1))
	time.Sleep(200 * time.Millisecond)
	n := len(src.commands())
	time.Sleep(1500 * time.Millisecond)
	if got := len(src.commands()); got != n {
		t.Fatalf("migration went on while disabled: %d → %d commands", n, got)
	}
	if m := e.slot(4); m.Action.State != models.ActionMigrating {
		t.Fatalf("slot 4 %+v", m)
	}
	e.ok(put, e.api("slots/action/disabled", 0))
	checkFor(t, 10*time.Second, "migration resumed", func() bool { return len(src.commands()) > n+2 })
}

func TestPromoteRefusedWhileMigrating(t *testing.T) {
	src := newSlowMigrationSource(t, time.Second, 1, map[int]int64{0: 1000})
	e := newEnv(t)
	e.seedGroup(1, src.addr(), "127.0.0.1:7003")
	e.seedGroup(2, "127.0.0.1:7002")
	e.ok(put, e.api("slots/assign"), []*models.SlotMapping{{ID: 4, GroupID: 1}})
	e.ok(put, e.api("slots/action/create", 4, 2))
	checkFor(t, 10*time.Second, "migration call in flight", func() bool { return e.stats().SlotAction.Executor == 1 })
	e.fail(put, e.api("group/promote", 1, "127.0.0.1:7003"), "slots-migration is running = 1")
	if g := e.group(1); g.IsPromoting() {
		t.Fatal("promotion started")
	}
}

func TestSchedulerOneSlotPerGroup(t *testing.T) {
	src1 := newSlowMigrationSource(t, 500*time.Millisecond, 1, map[int]int64{0: 3})
	src3 := newSlowMigrationSource(t, 500*time.Millisecond, 1, map[int]int64{0: 3})
	e := newEnv(t)
	e.ok(put, e.api("slots/action/disabled", 1))
	e.seedGroup(1, src1.addr())
	e.seedGroup(2, "127.0.0.1:7002")
	e.seedGroup(3, src3.addr())
	e.seedGroup(4, "127.0.0.1:7004")
	var assign []*models.SlotMapping
	for sid := 0; sid < 3; sid++ {
		assign = append(assign, &models.SlotMapping{ID: sid, GroupID: 1}, &models.SlotMapping{ID: 10 + sid, GroupID: 3})
	}
	e.ok(put, e.api("slots/assign"), assign)
	e.ok(put, e.api("slots/action/create-range", 0, 2, 2))
	e.ok(put, e.api("slots/action/create-range", 10, 12, 4))
	e.ok(put, e.api("slots/action/disabled", 0))
	// Two disjoint group pairs migrate in parallel, one slot each.
	checkFor(t, 10*time.Second, "two migrations in flight", func() bool { return e.stats().SlotAction.Executor == 2 })
	active := 0
	for _, m := range e.stats().Slots {
		if m.Action.State != "" && m.Action.State != models.ActionPending {
			active++
		}
	}
	if active != 2 {
		t.Fatalf("%d slots past pending", active)
	}
	checkFor(t, 60*time.Second, "all migrated", func() bool {
		for _, m := range e.stats().Slots {
			if !m.Action.IsEmpty() {
				return false
			}
		}
		return true
	})
	st := e.stats()
	for sid := 0; sid < 3; sid++ {
		if st.Slots[sid].GroupID != 2 || st.Slots[10+sid].GroupID != 4 {
			t.Fatalf("slots %+v %+v", st.Slots[sid], st.Slots[10+sid])
		}
	}
}
