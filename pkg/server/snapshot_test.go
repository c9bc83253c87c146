package server

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"net"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/codisgo/codis/pkg/rdb"
	"github.com/codisgo/codis/pkg/resp"
)

// snapFill adds n keys of every type to each of DBs 0..ndb-1, in process;
// one key in 7 has an expiry an hour away, one in 10 a hash tag.
func snapFill(t testing.TB, s *Server, ndb, n int) {
	t.Helper()
	s.mu.Lock()
	defer s.mu.Unlock()
	s.updateClock()
	far := s.ks.now + 3600_000
	for db := 0; db < ndb; db++ {
		d := s.ks.dbs[db]
		for i := 0; i < n; i++ {
			key := "k:" + strconv.Itoa(i)
			if i%10 == 3 {
				key = fmt.Sprintf("{t%d}k:%d", i%50, i)
			}
			var o rdb.Object
			si := []byte(strconv.Itoa(i))
			switch i % 10 {
			case 6:
				o = rdb.Object{Kind: rdb.KindList, List: [][]byte{[]byte("a"), si, []byte("c")}}
			case 7:
				o = rdb.Object{Kind: rdb.KindHash, Hash: []rdb.Field{{Name: []byte("f"), Value: si}, {Name: []byte("g"), Value: []byte("v")}}}
			case 8:
				o = rdb.Object{Kind: rdb.KindSet, Set: [][]byte{[]byte("1"), []byte("2"), si}}
				if i < 3 {
					o.Set = o.Set[:2]
				}
			case 9:
				o = rdb.Object{Kind: rdb.KindZSet, ZSet: []rdb.ZMember{{Member: []byte("m"), Score: 1.5}, {Member: si, Score: float64(i)}}}
			default:
				o = rdb.Object{Kind: rdb.KindString, Str: []byte(fmt.Sprintf("value-%d-%d", db, i))}
			}
			e, err := entryFromRDB(&o)
			if err != nil {
				t.Fatal(err)
			}
			if i%7 == 0 {
				e.expireAt = far + int64(i)
			}
			d.Add([]byte(key), e)
		}
	}
	s.ks.dirty = 0
}

// snapRestorePayload is a DUMP payload of the string "restored".
var snapRestorePayload = func() string {
	p, err := rdb.EncodeDump(&rdb.Object{Kind: rdb.KindString, Str: []byte("restored")}, rdb.DumpVersion)
	if err != nil {
		panic(err)
	}
	return string(p)
}()

// snapWriteOps returns a batch of random writes (and reads, for lazy
// expiry) over the keys of snapFill.
func snapWriteOps(rng *rand.Rand, n int, batch int) [][]string {
	key := func() string {
		i := rng.IntN(n)
		if i%10 == 3 {
			return fmt.Sprintf("{t%d}k:%d", i%50, i)
		}
		return "k:" + strconv.Itoa(i)
	}
	out := [][]string{{"SELECT", strconv.Itoa(rng.IntN(3))}}
	for len(out) < batch {
		k := key()
		switch op := rng.IntN(40); op {
		case 0, 1, 2:
			out = append(out, []string{"SET", k, "new"})
		case 3, 4:
			out = append(out, []string{"DEL", k})
		case 5:
			out = append(out, []string{"RENAME", k, key()})
		case 6:
			out = append(out, []string{"PEXPIRE", k, "1"})
		case 7:
			out = append(out, []string{"EXPIRE", k, "100000"})
		case 8:
			out = append(out, []string{"PERSIST", k})
		case 9:
			out = append(out, []string{"LPUSH", k, "x"})
		case 10:
			out = append(out, []string{"HSET", k, "f", "changed"})
		case 11:
			out = append(out, []string{"SADD", k, "new"})
		case 12:
			out = append(out, []string{"ZADD", k, "7", "m"})
		case 13:
			out = append(out, []string{"APPEND", k, "!"})
		case 14:
			out = append(out, []string{"MOVE", k, strconv.Itoa(rng.IntN(3))})
		case 15:
			out = append(out, []string{"COPY", k, key(), "DB", strconv.Itoa(rng.IntN(3)), "REPLACE"})
		case 16:
			out = append(out, []string{"GET", k})
		case 17:
			out = append(out, []string{"MULTI"}, []string{"SET", k, "tx"}, []string{"LPOP", key()}, []string{"EXEC"})
		case 18:
			out = append(out, []string{"SETRANGE", k, "2", "zz"})
		case 19:
			out = append(out, []string{"HINCRBY", k, "f", "3"})
		case 20:
			out = append(out, []string{"SPOP", k})
		case 21:
			out = append(out, []string{"ZINCRBY", k, "2", "m"})
		case 22:
			out = append(out, []string{"GETDEL", k})
		case 23:
			out = append(out, []string{"GETEX", k, "PX", "1"})
		case 24:
			out = append(out, []string{"RPOPLPUSH", k, key()})
		case 25:
			out = append(out, []string{"INCR", k})
		case 26:
			out = append(out, []string{"SETEX", k, "1000", "e"})
		case 27:
			out = append(out, []string{"ZUNIONSTORE", k, "2", key(), key()})
		case 28:
			out = append(out, []string{"SINTERSTORE", k, key(), key()})
		case 29:
			out = append(out, []string{"UNLINK", k, key(), key()})
		case 30:
			if rng.IntN(50) == 0 {
				out = append(out, []string{"SWAPDB", strconv.Itoa(rng.IntN(3)), strconv.Itoa(rng.IntN(3))})
			}
		case 31:
			if rng.IntN(200) == 0 {
				out = append(out, []string{"FLUSHDB"})
			}
		case 32:
			if rng.IntN(20) == 0 {
				out = append(out, []string{"SLOTSDEL", strconv.Itoa(rng.IntN(NumSlots))})
			}
		case 33:
			out = append(out, []string{"RESTORE", k, "0", snapRestorePayload, "REPLACE"})
		default:
			out = append(out, []string{"SET", "fresh:" + strconv.Itoa(rng.IntN(1000)), "v"})
		}
	}
	return out
}

// snapWriter runs random write batches until stop is set.
func snapWriter(addr string, seed uint64, n int, stop *atomic.Bool) error {
	conn, err := net.Dial("tcp", addr)
	if err != nil {
		return err
	}
	defer conn.Close()
	rr := resp.NewReplyReader(bufio.NewReader(conn))
	rng := rand.New(rand.NewPCG(seed, 99))
	for !stop.Load() {
		cmds := snapWriteOps(rng, n, 100)
		var buf []byte
		for _, c := range cmds {
			buf = resp.AppendCommandStrings(buf, c...)
		}
		if _, err := conn.Write(buf); err != nil {
			return err
		}
		_ = conn.SetReadDeadline(time.Now().Add(30 * time.Second))
		for range cmds {
			if _, err := rr.ReadReply(); err != nil {
				return err
			}
		}
	}
	return nil
}

// The file of a BGSAVE equals the data set at the moment BGSAVE ran, while
// clients overwrite, delete, rename, expire, move and flush keys.
func TestSnapshotPointInTime(t *testing.T) {
	dir := t.TempDir()
	s := startPersistServer(t, dir, "hz", "100")
	const n = 70000 // per DB, 3 DBs
	snapFill(t, s, 3, n)
	want := persistProcState(t, s)
	if len(want) < 3*n {
		t.Fatalf("%d keys", len(want))
	}
	c := dial(t, persistAddr(s))
	var stop atomic.Bool
	start := make(chan struct{})
	errs := make(chan error, 4)
	var wg sync.WaitGroup
	for w := 0; w < 4; w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			<-start
			errs <- snapWriter(persistAddr(s), uint64(w), n, &stop)
		}()
	}
	c.expect("+Background saving started", "BGSAVE")
	close(start)
	c.expect(`ERR:"ERR Background save already in progress"`, "BGSAVE")
	c.expect(`ERR:"ERR Background save already in progress"`, "SAVE")
	persistWaitBgsave(t, c)
	stop.Store(true)
	wg.Wait()
	close(errs)
	for err := range errs {
		if err != nil {
			t.Fatalf("writer: %v", err)
		}
	}
	if v := persistInfo(t, c, "rdb_last_bgsave_status"); v != "ok" {
		t.Fatalf("rdb_last_bgsave_status:%s", v)
	}
	cow, _ := strconv.ParseInt(persistInfo(t, c, "rdb_last_cow_size"), 10, 64)
	t.Logf("bytes serialized on behalf of writers: %d", cow)
	if cow == 0 {
		t.Errorf("no write ran during the snapshot: the test proves nothing")
	}
	s.mu.Lock()
	late := s.pst.lateCOW
	s.mu.Unlock()
	if late != 0 {
		t.Errorf("%d mutations escaped the snapshot hooks", late)
	}
	if got := persistProcState(t, s); len(got) == len(want) && fmt.Sprint(got) == fmt.Sprint(want) {
		t.Errorf("the writers changed nothing")
	}
	dir2 := t.TempDir()
	persistCopy(t, filepath.Join(dir, "dump.rdb"), filepath.Join(dir2, "dump.rdb"))
	s2 := startPersistServer(t, dir2)
	persistDiff(t, "BGSAVE point in time", want, persistProcState(t, s2))
}

// Commands run while the snapshot goroutine is stuck on its output: every
// shard they touch is still pending, so each must be copied first.
func TestSnapshotCommandsCopyOnWrite(t *testing.T) {
	dir := t.TempDir()
	s := startPersistServer(t, dir)
	const n = 30000
	snapFill(t, s, 3, n)
	want := persistProcState(t, s)
	pr, pw := io.Pipe()
	done := make(chan error, 1)
	s.mu.Lock()
	_, err := s.beginSnapshot(pw, [][2]string{{"repl-id", "0123456789abcdef0123456789abcdef01234567"}, {"repl-offset", "42"}},
		func(err error) {
			pw.CloseWithError(err)
			done <- err
		})
	if err == nil {
		if _, err2 := s.beginSnapshot(io.Discard, nil, nil); !errors.Is(err2, errSnapshotRunning) {
			t.Errorf("second snapshot: %v", err2)
		}
	}
	s.mu.Unlock()
	if err != nil {
		t.Fatal(err)
	}
	c := dial(t, persistAddr(s))
	c.expect(`ERR:"ERR Another child process is active (AOF?): can't BGSAVE right now. Use BGSAVE SCHEDULE in order to schedule a BGSAVE whenever possible."`, "BGSAVE")
	c.expect("+Background saving scheduled", "BGSAVE", "SCHEDULE")
	// A blocked BLMOVE served by a later push moves into a pending shard.
	blk := dial(t, persistAddr(s))
	blk.send("BLMOVE", "nolist", "k:6", "LEFT", "RIGHT", "0")
	checkFor(t, 5*time.Second, func() error {
		s.mu.Lock()
		defer s.mu.Unlock()
		if s.blockedClients() == 0 {
			return errors.New("not blocked yet")
		}
		return nil
	})
	cmds := [][]string{
		{"SET", "k:0", "changed"}, {"DEL", "k:1"}, {"RENAME", "k:2", "renamed"}, {"LPUSH", "k:16", "x"},
		{"HSET", "k:17", "f", "changed"}, {"SADD", "k:18", "new"}, {"ZADD", "k:19", "9", "m"},
		{"APPEND", "k:4", "!"}, {"SETRANGE", "k:5", "0", "ZZ"}, {"EXPIRE", "k:10", "5"}, {"PERSIST", "k:14"},
		{"PEXPIRE", "k:11", "1"}, {"MOVE", "k:12", "1"}, {"COPY", "k:15", "k:15", "DB", "2", "REPLACE"},
		{"MULTI"}, {"INCR", "k:20"}, {"LPOP", "k:26"}, {"EXEC"}, {"RPUSH", "nolist", "moved"},
		{"SLOTSDEL", strconv.Itoa(SlotOf([]byte("k:21")))}, {"SWAPDB", "0", "1"},
		{"SELECT", "2"}, {"FLUSHDB"}, {"SET", "k:0", "new in db2"}, {"SELECT", "0"},
		{"RESTORE", "k:22", "0", snapRestorePayload, "REPLACE"},
		{"ZUNIONSTORE", "k:29", "2", "k:39", "k:49"}, {"SORT", "k:36", "ALPHA", "STORE", "k:46"},
		{"BITOP", "OR", "k:50", "k:51", "k:52"}, {"SETBIT", "k:53", "3", "1"}, {"PFADD", "k:54", "a"},
	}
	for _, r := range c.persistPipeline(cmds) {
		t.Logf("%s", r.String())
	}
	blk.read()
	time.Sleep(5 * time.Millisecond) // let k:11 expire; then reclaim it lazily
	c.do("GET", "k:11")
	// Now let the snapshot finish.
	var data []byte
	var rerr error
	readDone := make(chan struct{})
	go func() {
		data, rerr = io.ReadAll(pr)
		close(readDone)
	}()
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	<-readDone
	if rerr != nil {
		t.Fatal(rerr)
	}
	s.mu.Lock()
	late := s.pst.lateCOW
	s.mu.Unlock()
	if late != 0 {
		t.Errorf("%d mutations escaped the snapshot hooks", late)
	}
	// The aux fields made it, and so did every key.
	aux := map[string]string{}
	if err := rdb.NewReader(bytes.NewReader(data)).Run(rdb.Handlers{
		Aux: func(k, v []byte) error { aux[string(k)] = string(v); return nil },
		Key: func(*rdb.Entry) error { return nil },
	}); err != nil {
		t.Fatal(err)
	}
	if aux["repl-offset"] != "42" || aux["redis-ver"] != Version {
		t.Errorf("aux fields %v", aux)
	}
	dir2 := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir2, "dump.rdb"), data, 0o644); err != nil {
		t.Fatal(err)
	}
	s2 := startPersistServer(t, dir2)
	persistDiff(t, "snapshot under commands", want, persistProcState(t, s2))
	// The scheduled BGSAVE runs once the snapshot is over.
	checkFor(t, 10*time.Second, func() error {
		_, err := os.Stat(filepath.Join(dir, "dump.rdb"))
		return err
	})
	persistWaitBgsave(t, c)
}

type failWriter struct{ n int }

var errFailWriter = errors.New("test: write failed")

func (w *failWriter) Write(p []byte) (int, error) {
	if w.n <= 0 {
		return 0, errFailWriter
	}
	w.n--
	return len(p), nil
}

// A failing output ends the snapshot with the error and detaches the
// hooks; a BGSAVE that cannot write reports err.
func TestSnapshotWriteError(t *testing.T) {
	dir := t.TempDir()
	s := startPersistServer(t, dir)
	snapFill(t, s, 1, 20000)
	done := make(chan error, 1)
	s.mu.Lock()
	_, err := s.beginSnapshot(&failWriter{n: 2}, nil, func(err error) { done <- err })
	s.mu.Unlock()
	if err != nil {
		t.Fatal(err)
	}
	if err := <-done; !errors.Is(err, errFailWriter) {
		t.Fatalf("done(%v)", err)
	}
	s.mu.Lock()
	attached := s.ks.snap != nil
	s.mu.Unlock()
	if attached {
		t.Fatal("snapshot still attached after its failure")
	}
	c := dial(t, persistAddr(s))
	c.expect("+OK", "SET", "k:0", "after")
	// BGSAVE into a directory that disappeared.
	sub := filepath.Join(dir, "sub")
	if err := os.Mkdir(sub, 0o755); err != nil {
		t.Fatal(err)
	}
	c.expect("+OK", "CONFIG", "SET", "dir", sub)
	if err := os.Remove(sub); err != nil {
		t.Fatal(err)
	}
	c.expect(`ERR:"ERR"`, "BGSAVE")
	if v := persistInfo(t, c, "rdb_last_bgsave_status"); v != "err" {
		t.Errorf("rdb_last_bgsave_status:%s", v)
	}
}

// FLUSHALL during a BGSAVE stops it (Redis kills its child); with save
// rules the empty data set is saved and no temp file is left.
func TestSnapshotFlushallAbortsBgsave(t *testing.T) {
	dir := t.TempDir()
	s := startPersistServer(t, dir)
	snapFill(t, s, 2, 60000)
	c := dial(t, persistAddr(s))
	c.expect("+OK", "CONFIG", "SET", "save", "3600 1")
	c.expect("+Background saving started", "BGSAVE")
	c.expect("+OK", "FLUSHALL")
	if v := persistInfo(t, c, "rdb_bgsave_in_progress"); v != "0" {
		t.Errorf("rdb_bgsave_in_progress:%s after FLUSHALL", v)
	}
	checkFor(t, 10*time.Second, func() error {
		ents, err := os.ReadDir(dir)
		if err != nil {
			return err
		}
		var names []string
		for _, e := range ents {
			names = append(names, e.Name())
		}
		if !slices.Equal(names, []string{"dump.rdb"}) {
			return fmt.Errorf("dir holds %v", names)
		}
		return nil
	})
	s.Close()
	s2 := startPersistServer(t, dir)
	c2 := dial(t, persistAddr(s2))
	c2.expect("0", "DBSIZE")
}
