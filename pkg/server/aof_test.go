package server

import (
	"bytes"
	"fmt"
	"log/slog"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/codisgo/codis/pkg/resp"
	"github.com/codisgo/codis/pkg/testenv"
)

// AOF tests: round trips per fsync policy, interoperability with
// redis-server 7.0 in both directions, rewrites under load, SIGKILL with
// appendfsync always, damaged files.

// newAOFServer builds (not starts) a server on dir with opts, logging
// into the returned buffer.
func newAOFServer(t testing.TB, dir string, opts ...string) (*Server, *testenv.SyncBuffer) {
	t.Helper()
	cfg := NewConfig()
	text := "save \"\"\nenable-protected-configs yes\nbind 127.0.0.1\ndir " + quoteArg(dir) + "\n"
	for i := 0; i+1 < len(opts); i += 2 {
		text += opts[i] + " " + quoteArg(opts[i+1]) + "\n"
	}
	if err := cfg.LoadString(text); err != nil {
		t.Fatal(err)
	}
	cfg.Port = 0
	logs := &testenv.SyncBuffer{}
	s := New(cfg, slog.New(slog.NewTextHandler(logs, nil)))
	t.Cleanup(func() { s.Close() })
	return s, logs
}

// startAOFServer starts a server with appendonly yes on dir.
func startAOFServer(t testing.TB, dir string, opts ...string) (*Server, *testConn) {
	t.Helper()
	s, logs := newAOFServer(t, dir, append([]string{"appendonly", "yes"}, opts...)...)
	if err := s.Start(); err != nil {
		t.Fatalf("start: %v\n%s", err, logs.String())
	}
	return s, dial(t, s.Addr().String())
}

// aofMixedLoad writes every type, TTLs, a transaction, a script, keys
// that expire, INCRBYFLOAT, SPOP and several DBs.
func aofMixedLoad(t testing.TB, c *testConn) {
	t.Helper()
	persistPopulate(t, c)
	for _, db := range []string{"0", "3"} {
		c.expect("+OK", "SELECT", db)
		for i := 0; i < 20; i++ {
			c.do("INCR", "counter")
			c.do("INCRBYFLOAT", "float", "0.1")
		}
		c.expect("+OK", "MULTI")
		c.expect("+QUEUED", "LPUSH", "tx:list", "a", "b")
		c.expect("+QUEUED", "HSET", "tx:hash", "f", "v")
		c.expect("+QUEUED", "INCRBY", "counter", "100")
		if r := c.do("EXEC"); len(r.Elems) != 3 {
			t.Fatalf("EXEC: %s", r.String())
		}
		r := c.do("EVAL", "redis.call('SET', KEYS[1], ARGV[1]); redis.call('ZADD', KEYS[2], 3, 'm'); return redis.call('INCR', KEYS[3])",
			"3", "script:s", "script:z", "script:n", "from-lua")
		if r.IsError() {
			t.Fatalf("EVAL: %s", r.String())
		}
		c.expect("+OK", "SET", "gone", "x", "PX", "1")
		c.do("SADD", "pop", "a", "b", "c", "d")
		c.do("SPOP", "pop")
		c.do("EXPIRE", "counter", "1000")
		c.do("DEL", "s:raw")
		c.do("LPOP", "l:small")
	}
	time.Sleep(5 * time.Millisecond) // "gone" expires
	c.do("SELECT", "0")
	c.do("GET", "gone") // reclaimed: propagated as DEL
}

func waitAOFRewrite(t testing.TB, c *testConn) {
	t.Helper()
	checkFor(t, 60*time.Second, func() error {
		info := c.do("INFO", "persistence").Str // one reading of both
		for _, f := range []string{"aof_rewrite_in_progress", "aof_rewrite_scheduled"} {
			if !strings.Contains(info, "\r\n"+f+":0\r\n") {
				return fmt.Errorf("%s not 0", f)
			}
		}
		return nil
	})
}

func TestAOFRoundTrip(t *testing.T) {
	for _, tc := range []struct{ fsync, preamble string }{
		{"always", "yes"}, {"everysec", "yes"}, {"no", "no"},
	} {
		t.Run(tc.fsync, func(t *testing.T) {
			dir := t.TempDir()
			opts := []string{"appendfsync", tc.fsync, "aof-use-rdb-preamble", tc.preamble}
			s, c := startAOFServer(t, dir, opts...)
			aofMixedLoad(t, c)
			c.expect("+Background append only file rewriting started", "BGREWRITEAOF")
			waitAOFRewrite(t, c)
			c.do("SELECT", "5")
			c.do("RPUSH", "after-rewrite", "x")
			c.do("INCR", "s:int")
			want := persistWireState(t, c, 6)
			if persistInfo(t, c, "aof_last_bgrewrite_status") != "ok" {
				t.Fatal("rewrite failed")
			}
			s.Close()
			ext := ".base.rdb"
			if tc.preamble == "no" {
				ext = ".base.aof"
			}
			if _, err := os.Stat(filepath.Join(dir, "appendonlydir", "appendonly.aof.2"+ext)); err != nil {
				t.Fatalf("base file: %v", err)
			}
			_, c2 := startAOFServer(t, dir, opts...)
			persistDiff(t, "after restart", want, persistWireState(t, c2, 6))
		})
	}
}

// startRedisAOF starts redis-server 7.0 with appendonly yes on dir.
func startRedisAOF(t testing.TB, dir string, extra ...string) *redisProc {
	t.Helper()
	return startRedisArgs(t, append([]string{"--appendonly", "yes", "--dir", dir}, extra...)...)
}

// stopRedis shuts redis-server down (fsyncing its AOF) and waits.
func stopRedis(t testing.TB, p *redisProc, c *testConn) {
	t.Helper()
	c.send("SHUTDOWN", "NOSAVE")
	done := make(chan struct{})
	go func() { _ = p.cmd.Wait(); close(done) }()
	select {
	case <-done:
	case <-time.After(20 * time.Second):
		t.Fatal("redis-server did not exit")
	}
}

func TestAOFInteropRedis(t *testing.T) {
	for _, preamble := range []string{"yes", "no"} {
		t.Run("redis-to-ours-preamble-"+preamble, func(t *testing.T) {
			dir := t.TempDir()
			p := startRedisAOF(t, dir, "--aof-use-rdb-preamble", preamble)
			c := dial(t, p.addr)
			persistPopulate(t, c)
			c.expect("+Background append only file rewriting started", "BGREWRITEAOF")
			waitAOFRewrite(t, c)
			aofMixedLoad(t, c) // into the incr file
			want := persistWireState(t, c, 6)
			stopRedis(t, p, c)
			_, c2 := startAOFServer(t, dir)
			persistDiff(t, "redis AOF loaded by ours", want, persistWireState(t, c2, 6))
		})
	}
	for _, preamble := range []string{"yes", "no"} {
		t.Run("ours-to-redis-preamble-"+preamble, func(t *testing.T) { aofOursToRedis(t, preamble) })
	}
}

func aofOursToRedis(t *testing.T, preamble string) {
	{
		dir := t.TempDir()
		s, c := startAOFServer(t, dir, "aof-use-rdb-preamble", preamble)
		persistPopulate(t, c)
		c.expect("+Background append only file rewriting started", "BGREWRITEAOF")
		waitAOFRewrite(t, c)
		aofMixedLoad(t, c)
		want := persistWireState(t, c, 6)
		s.Close()
		out, err := exec.Command("redis-check-aof", filepath.Join(dir, "appendonlydir", "appendonly.aof.manifest")).CombinedOutput()
		if err != nil || !strings.Contains(string(out), "All AOF files and manifest are valid") {
			t.Fatalf("redis-check-aof: %v\n%s", err, out)
		}
		p := startRedisAOF(t, dir)
		c2 := dial(t, p.addr)
		persistDiff(t, "our AOF loaded by redis", want, persistWireState(t, c2, 6))
	}
}

// aofIncrFile returns the path of the (single) incr file of dir.
func aofIncrFile(t testing.TB, dir string) string {
	t.Helper()
	m, err := filepath.Glob(filepath.Join(dir, "appendonlydir", "*.incr.aof"))
	if err != nil || len(m) != 1 {
		t.Fatalf("incr files: %v %v", m, err)
	}
	return m[0]
}

func TestAOFRewriteUnderLoad(t *testing.T) {
	dir := t.TempDir()
	s, logs := newAOFServer(t, dir, "appendfsync", "everysec") // appendonly no
	if err := s.Start(); err != nil {
		t.Fatal(err)
	}
	c := dial(t, s.Addr().String())
	persistPopulate(t, c)
	var cmds [][]string
	for i := 0; i < 20000; i++ {
		cmds = append(cmds, []string{"SET", fmt.Sprintf("bulk:%d", i), strings.Repeat("v", 50)})
	}
	c.persistPipeline(cmds)
	c.expect("+OK", "SET", "before-rewrite-marker", "1")

	stop := make(chan struct{})
	var wg sync.WaitGroup
	for w := 0; w < 3; w++ {
		wg.Add(1)
		go func(w int) {
			defer wg.Done()
			wc := dial(t, s.Addr().String())
			for i := 0; ; i++ {
				select {
				case <-stop:
					return
				default:
				}
				// Touch keys of the snapshot (copy-on-write) and new ones.
				wc.send("INCR", fmt.Sprintf("ctr:%d", w))
				wc.send("APPEND", fmt.Sprintf("bulk:%d", (i*7+w)%20000), "x")
				wc.send("RPUSH", fmt.Sprintf("log:%d", w), strconv.Itoa(i))
				for range 3 {
					if r := wc.read(); r.IsError() {
						t.Errorf("writer: %s", r.String())
						return
					}
				}
			}
		}(w)
	}
	// CONFIG SET appendonly yes (a first rewrite with a temp incr file),
	// then two BGREWRITEAOF, all while the writers run.
	c.expect("+OK", "CONFIG", "SET", "appendonly", "yes")
	waitAOFRewrite(t, c)
	for range 2 {
		time.Sleep(20 * time.Millisecond)
		c.expect("+Background append only file rewriting started", "BGREWRITEAOF")
		waitAOFRewrite(t, c)
	}
	close(stop)
	wg.Wait()
	if v := persistInfo(t, c, "aof_rewrites"); v != "3" {
		t.Fatalf("aof_rewrites:%s", v)
	}
	c.expect("+OK", "SET", "after-rewrite-marker", "1")
	want := persistWireState(t, c, 6)
	s.Close()
	if n := strings.Count(logs.String(), "Background AOF rewrite finished successfully"); n != 3 {
		t.Fatalf("%d successful rewrites:\n%s", n, logs.String())
	}

	incr, err := os.ReadFile(aofIncrFile(t, dir))
	if err != nil {
		t.Fatal(err)
	}
	if bytes.Contains(incr, []byte("before-rewrite-marker")) || !bytes.Contains(incr, []byte("after-rewrite-marker")) {
		t.Fatalf("the incr file after the rewrite holds pre-snapshot writes or misses later ones (%d bytes)", len(incr))
	}
	if bytes.Contains(incr, []byte("bulk:19999\r\n$50")) {
		t.Fatal("the incr file holds the bulk load")
	}
	_, c2 := startAOFServer(t, dir)
	persistDiff(t, "after rewrites under load", want, persistWireState(t, c2, 6))
}

func TestAOFConfigSetAppendonly(t *testing.T) {
	dir := t.TempDir()
	s, logs := newAOFServer(t, dir)
	if err := s.Start(); err != nil {
		t.Fatal(err)
	}
	c := dial(t, s.Addr().String())
	persistPopulate(t, c)
	if _, err := os.Stat(filepath.Join(dir, "appendonlydir")); err == nil {
		t.Fatal("appendonlydir exists with appendonly no")
	}
	c.expect("+OK", "CONFIG", "SET", "appendonly", "yes")
	if persistInfo(t, c, "aof_enabled") != "1" {
		t.Fatal("aof_enabled is not 1")
	}
	waitAOFRewrite(t, c)
	c.do("PUBLISH", "channel", "not-in-aof") // replicas only, as in Redis
	c.do("INCR", "after-enable")
	c.expect("+OK", "CONFIG", "SET", "appendonly", "no")
	if persistInfo(t, c, "aof_enabled") != "0" {
		t.Fatal("aof_enabled is not 0")
	}
	incr := aofIncrFile(t, dir)
	fi, _ := os.Stat(incr)
	c.do("INCR", "not-in-aof")
	if fi2, _ := os.Stat(incr); fi2.Size() != fi.Size() {
		t.Fatalf("incr file grew from %d to %d with appendonly no", fi.Size(), fi2.Size())
	}
	c.do("DEL", "not-in-aof")
	if b, _ := os.ReadFile(incr); !bytes.Contains(b, []byte("after-enable")) || bytes.Contains(b, []byte("not-in-aof")) {
		t.Fatalf("incr file: %q", b)
	}
	want := persistWireState(t, c, 6)
	s.Close()
	if !strings.Contains(logs.String(), "Background AOF rewrite finished successfully") {
		t.Fatalf("log:\n%s", logs.String())
	}
	_, c2 := startAOFServer(t, dir)
	persistDiff(t, "after CONFIG SET appendonly", want, persistWireState(t, c2, 6))
	// Sequence numbers go on from the manifest.
	if _, err := os.Stat(filepath.Join(dir, "appendonlydir", "appendonly.aof.1.incr.aof")); err != nil {
		t.Fatal(err)
	}
}

func TestAOFBgrewriteaofReplies(t *testing.T) {
	_, c := startAOFServer(t, t.TempDir())
	c.expect("+OK", "MULTI")
	c.expect("+QUEUED", "BGREWRITEAOF")
	if r := c.do("EXEC"); len(r.Elems) != 1 || r.Elems[0].Str != "Background append only file rewriting scheduled" {
		t.Fatalf("EXEC: %s", r.String())
	}
	checkFor(t, 10*time.Second, func() error {
		if v := persistInfo(t, c, "aof_rewrites"); v != "1" {
			return fmt.Errorf("aof_rewrites:%s", v)
		}
		return nil
	})
	waitAOFRewrite(t, c)
	for _, f := range []string{"aof_current_size", "aof_base_size", "aof_buffer_length"} {
		persistInfo(t, c, f)
	}
}

// TestAOFFreshStartIgnoresRDB: like redis-server 7.0.15, appendonly yes
// without an AOF starts empty (dump.rdb is not loaded) and creates the
// AOF directory.
func TestAOFFreshStartIgnoresRDB(t *testing.T) {
	dir := t.TempDir()
	s := startPersistServer(t, dir)
	c := dial(t, persistAddr(s))
	c.expect("+OK", "SET", "k", "v")
	c.expect("+OK", "SAVE")
	s.Close()
	_, c2 := startAOFServer(t, dir)
	if r := c2.do("DBSIZE"); r.Int != 0 {
		t.Fatalf("DBSIZE %d", r.Int)
	}
	man, err := os.ReadFile(filepath.Join(dir, "appendonlydir", "appendonly.aof.manifest"))
	if err != nil {
		t.Fatal(err)
	}
	if want := "file appendonly.aof.1.base.rdb seq 1 type b\nfile appendonly.aof.1.incr.aof seq 1 type i\n"; string(man) != want {
		t.Fatalf("manifest %q, want %q", man, want)
	}
}

func TestAOFDamagedFiles(t *testing.T) {
	dir := t.TempDir()
	s, c := startAOFServer(t, dir)
	for i := 0; i < 50; i++ {
		c.do("SET", fmt.Sprintf("k%d", i), strconv.Itoa(i))
	}
	s.Close()
	incr := aofIncrFile(t, dir)
	good, err := os.ReadFile(incr)
	if err != nil {
		t.Fatal(err)
	}
	write := func(b []byte) {
		if err := os.WriteFile(incr, b, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	base := filepath.Base(incr)

	t.Run("truncated-refused", func(t *testing.T) {
		write(append(append([]byte(nil), good...), "*3\r\n$3\r\nSET\r\n$2\r\nzz\r\n$4\r\nab"...))
		s, _ := newAOFServer(t, dir, "appendonly", "yes", "aof-load-truncated", "no")
		err := s.Start()
		if err == nil || !strings.Contains(err.Error(), base) || !strings.Contains(err.Error(), fmt.Sprintf("offset %d", len(good))) {
			t.Fatalf("Start: %v", err)
		}
	})
	t.Run("truncated-loaded", func(t *testing.T) {
		write(append(append([]byte(nil), good...), "*3\r\n$3\r\nSET\r\n$2\r\nzz\r\n$4\r\nab"...))
		s, logs := newAOFServer(t, dir, "appendonly", "yes")
		if err := s.Start(); err != nil {
			t.Fatal(err)
		}
		if !strings.Contains(logs.String(), fmt.Sprintf("offset=%d", len(good))) || !strings.Contains(logs.String(), base) {
			t.Fatalf("log does not name the file and offset:\n%s", logs.String())
		}
		c := dial(t, s.Addr().String())
		if r := c.do("DBSIZE"); r.Int != 50 {
			t.Fatalf("DBSIZE %d", r.Int)
		}
		c.expect("+OK", "SET", "new", "1") // appended after the cut
		s.Close()
		b, _ := os.ReadFile(incr)
		if !bytes.HasPrefix(b, good) || bytes.Contains(b, []byte("zz")) {
			t.Fatalf("file not truncated at %d: %q", len(good), b[len(good):])
		}
		write(good)
	})
	t.Run("incomplete-multi", func(t *testing.T) {
		write(append(append([]byte(nil), good...), "*1\r\n$5\r\nMULTI\r\n*3\r\n$3\r\nSET\r\n$2\r\nzz\r\n$1\r\n1\r\n"...))
		s, _ := newAOFServer(t, dir, "appendonly", "yes")
		if err := s.Start(); err != nil {
			t.Fatal(err)
		}
		c := dial(t, s.Addr().String())
		if r := c.do("EXISTS", "zz"); r.Int != 0 {
			t.Fatal("half a transaction was applied")
		}
		s.Close()
		if b, _ := os.ReadFile(incr); !bytes.Equal(b, good) {
			t.Fatalf("file not cut before MULTI: %d bytes, want %d", len(b), len(good))
		}
	})
	t.Run("garbage-in-the-middle", func(t *testing.T) {
		mid := bytes.Index(good, []byte("*3\r\n$3\r\nSET\r\n$3\r\nk25"))
		if mid < 0 {
			t.Fatalf("no k25 in %q", good)
		}
		bad := append(append(append([]byte(nil), good[:mid]...), "garbage\r\n"...), good[mid:]...)
		write(bad)
		s, _ := newAOFServer(t, dir, "appendonly", "yes", "aof-load-truncated", "yes")
		err := s.Start()
		if err == nil || !strings.Contains(err.Error(), base) || !strings.Contains(err.Error(), fmt.Sprintf("offset %d", mid)) {
			t.Fatalf("Start: %v", err)
		}
		if b, _ := os.ReadFile(incr); !bytes.Equal(b, bad) {
			t.Fatal("a corrupt file was modified")
		}
		write(good)
	})
	t.Run("missing-file", func(t *testing.T) {
		os.Rename(incr, incr+".moved")
		defer os.Rename(incr+".moved", incr)
		s, _ := newAOFServer(t, dir, "appendonly", "yes")
		if err := s.Start(); err == nil || !strings.Contains(err.Error(), base) {
			t.Fatalf("Start: %v", err)
		}
	})
}

// TestAOFKill9Always runs the codis-server binary with appendfsync always,
// kills it with SIGKILL in the middle of a write load and checks that
// every acknowledged write survived.
func TestAOFKill9Always(t *testing.T) {
	if testing.Short() {
		t.Skip("builds the binary")
	}
	bin := filepath.Join(t.TempDir(), "codis-server")
	build := exec.Command("go", "build", "-o", bin, "../../cmd/server")
	if out, err := build.CombinedOutput(); err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}
	dir := t.TempDir()
	port := freePort(t)
	addr := net.JoinHostPort("127.0.0.1", strconv.Itoa(port))
	cmd := exec.Command(bin, "--port", strconv.Itoa(port), "--bind", "127.0.0.1", "--dir", dir,
		"--appendonly", "yes", "--appendfsync", "always", "--save", "")
	var logs testenv.SyncBuffer
	cmd.Stdout, cmd.Stderr = &logs, &logs
	cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	exited := make(chan struct{})
	go func() { _ = cmd.Wait(); close(exited) }()
	t.Cleanup(func() { _ = cmd.Process.Kill(); <-exited })
	checkFor(t, 20*time.Second, func() error {
		c, err := dialOnce(addr)
		if err != nil {
			return err
		}
		c.conn.Close()
		return nil
	})

	const workers = 4
	acked := make([]int64, workers)  // last acknowledged INCR value
	ackedSet := make([]int, workers) // number of acknowledged SETs
	var wg sync.WaitGroup
	for w := 0; w < workers; w++ {
		wg.Add(1)
		go func(w int) {
			defer wg.Done()
			conn, err := net.Dial("tcp", addr)
			if err != nil {
				t.Error(err)
				return
			}
			defer conn.Close()
			rr := resp.NewReplyReader(conn)
			for i := 0; ; i++ {
				var buf []byte
				buf = resp.AppendCommandStrings(buf, "INCR", fmt.Sprintf("ctr:%d", w))
				buf = resp.AppendCommandStrings(buf, "SET", fmt.Sprintf("set:%d:%d", w, i), strconv.Itoa(i))
				if _, err := conn.Write(buf); err != nil {
					return
				}
				r, err := rr.ReadReply()
				if err != nil {
					return
				}
				acked[w] = r.Int
				if r, err = rr.ReadReply(); err != nil || r.Str != "OK" {
					return
				}
				ackedSet[w] = i + 1
			}
		}(w)
	}
	// Rewrites switch files and manifests during the load.
	rc, err := dialOnce(addr)
	if err != nil {
		t.Fatal(err)
	}
	defer rc.conn.Close()
	for range 8 {
		time.Sleep(50 * time.Millisecond)
		_, _ = rc.conn.Write(resp.AppendCommandStrings(nil, "BGREWRITEAOF"))
		if _, err := rc.rr.ReadReply(); err != nil {
			t.Fatal(err)
		}
	}
	if err := cmd.Process.Signal(syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	<-exited
	wg.Wait()
	var total int64
	for _, n := range acked {
		total += n
	}
	if total == 0 {
		t.Fatalf("no write was acknowledged:\n%s", logs.String())
	}

	_, c := startAOFServer(t, dir)
	for w := 0; w < workers; w++ {
		r := c.do("GET", fmt.Sprintf("ctr:%d", w))
		got, _ := strconv.ParseInt(r.Str, 10, 64)
		// The batch in flight may or may not have been written.
		if got < acked[w] || got > acked[w]+1 {
			t.Errorf("ctr:%d = %d after restart, %d acknowledged", w, got, acked[w])
		}
		for i := 0; i < ackedSet[w]; i++ {
			if r := c.do("GET", fmt.Sprintf("set:%d:%d", w, i)); r.Str != strconv.Itoa(i) {
				t.Fatalf("acknowledged SET set:%d:%d lost (%s)", w, i, r.String())
			}
		}
	}
	t.Logf("acknowledged INCRs: %v, SETs: %v", acked, ackedSet)
}

// TestAOFReplica: a replica with appendonly yes rebuilds its AOF after the
// full sync and then appends the master's stream; restarted alone on its
// AOF it has the master's data.
func TestAOFReplica(t *testing.T) {
	master := startPersistServer(t, t.TempDir())
	mc := dial(t, persistAddr(master))
	persistPopulate(t, mc) // part of the full sync
	dir := t.TempDir()
	replica, rc := startAOFServer(t, dir)
	rc.expect("+OK", "SET", "replica-only-before-sync", "1") // dropped by the sync
	host, port := hostPortOf(persistAddr(master))
	rc.expect("+OK", "REPLICAOF", host, port)
	waitCaughtUp(t, persistAddr(master), persistAddr(replica), 30*time.Second)
	waitAOFRewrite(t, rc)
	aofMixedLoad(t, mc) // the stream
	waitCaughtUp(t, persistAddr(master), persistAddr(replica), 30*time.Second)
	want := persistWireState(t, mc, 6)
	replica.Close()
	_, c2 := startAOFServer(t, dir)
	persistDiff(t, "replica restarted on its AOF", want, persistWireState(t, c2, 6))
}

// TestAOFBgJobsDiff compares, with redis-server 7.0, the replies of
// BGSAVE and BGREWRITEAOF while the other is running (pipelined in one
// write, so the first job is still running when the next command runs).
func TestAOFBgJobsDiff(t *testing.T) {
	rp := startRedisAOF(t, t.TempDir())
	_, ours := startAOFServer(t, t.TempDir())
	theirs := dial(t, rp.addr)
	seqs := [][][]string{
		{{"BGSAVE"}, {"BGREWRITEAOF"}, {"BGREWRITEAOF"}},
		{{"BGREWRITEAOF"}, {"BGREWRITEAOF"}, {"BGSAVE"}, {"BGSAVE", "SCHEDULE"}},
	}
	for _, c := range []*testConn{ours, theirs} {
		var cmds [][]string
		for i := 0; i < 5000; i++ {
			cmds = append(cmds, []string{"SET", fmt.Sprintf("k%d", i), "v"})
		}
		c.persistPipeline(cmds)
	}
	for i, seq := range seqs {
		var got [2][]string
		for j, c := range []*testConn{ours, theirs} {
			for _, r := range c.persistPipeline(seq) {
				got[j] = append(got[j], r.String())
			}
			checkFor(t, 30*time.Second, func() error {
				info := c.do("INFO", "persistence").Str // one reading of all three
				for _, f := range []string{"aof_rewrite_in_progress", "aof_rewrite_scheduled", "rdb_bgsave_in_progress"} {
					if !strings.Contains(info, "\r\n"+f+":0\r\n") {
						return fmt.Errorf("%s not 0", f)
					}
				}
				return nil
			})
		}
		if strings.Join(got[0], "|") != strings.Join(got[1], "|") {
			t.Errorf("sequence %d:\n ours   %q\n redis  %q", i, got[0], got[1])
		}
	}
	if v := persistInfo(t, ours, "aof_rewrites"); v != persistInfo(t, theirs, "aof_rewrites") {
		t.Errorf("aof_rewrites: ours %s, redis %s", v, persistInfo(t, theirs, "aof_rewrites"))
	}
}

func TestAOFAutoRewrite(t *testing.T) {
	dir := t.TempDir()
	_, c := startAOFServer(t, dir, "auto-aof-rewrite-min-size", "20kb", "auto-aof-rewrite-percentage", "100")
	for i := 0; i < 100; i++ {
		c.do("SET", "k", strings.Repeat("x", 500)) // the AOF grows, the data does not
	}
	checkFor(t, 20*time.Second, func() error {
		if v := persistInfo(t, c, "aof_rewrites"); v == "0" {
			return fmt.Errorf("aof_rewrites:%s, aof_current_size:%s", v, persistInfo(t, c, "aof_current_size"))
		}
		return nil
	})
	waitAOFRewrite(t, c)
	cur, _ := strconv.Atoi(persistInfo(t, c, "aof_current_size"))
	base, _ := strconv.Atoi(persistInfo(t, c, "aof_base_size"))
	if cur > 20*1024 || base == 0 || base > cur {
		t.Fatalf("after the automatic rewrite: aof_current_size %d, aof_base_size %d", cur, base)
	}
}

// TestAOFUpgradeOldStyle: a Redis 6 single-file AOF in dir becomes the
// base of a manifest, as Redis 7.0 does.
func TestAOFUpgradeOldStyle(t *testing.T) {
	dir := t.TempDir()
	var old []byte
	old = resp.AppendCommandStrings(old, "SELECT", "2")
	old = resp.AppendCommandStrings(old, "SET", "a", "1")
	old = resp.AppendCommandStrings(old, "RPUSH", "l", "x", "y")
	if err := os.WriteFile(filepath.Join(dir, "appendonly.aof"), old, 0o644); err != nil {
		t.Fatal(err)
	}
	_, c := startAOFServer(t, dir)
	c.expect("+OK", "SELECT", "2")
	if r := c.do("LRANGE", "l", "0", "-1"); len(r.Elems) != 2 {
		t.Fatalf("LRANGE: %s", r.String())
	}
	man, err := os.ReadFile(filepath.Join(dir, "appendonlydir", "appendonly.aof.manifest"))
	if err != nil {
		t.Fatal(err)
	}
	if want := "file appendonly.aof seq 1 type b\nfile appendonly.aof.1.incr.aof seq 1 type i\n"; string(man) != want {
		t.Fatalf("manifest %q, want %q", man, want)
	}
}
