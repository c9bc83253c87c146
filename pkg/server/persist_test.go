package server

import (
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/codisgo/codis/pkg/rdb"
)

const redisCheckRDBPath = "/usr/bin/redis-check-rdb"

func TestPersistSaveBgsaveRestart(t *testing.T) {
	dir := t.TempDir()
	s1 := startPersistServer(t, dir)
	c := dial(t, persistAddr(s1))
	persistPopulate(t, c)
	want := persistProcState(t, s1)
	if len(want) < 60 {
		t.Fatalf("populated only %d keys", len(want))
	}
	c.expect("+OK", "SAVE")
	s1.Close()

	s2 := startPersistServer(t, dir)
	persistDiff(t, "after SAVE and restart", want, persistProcState(t, s2))
	c2 := dial(t, persistAddr(s2))
	if got := persistInfo(t, c2, "rdb_last_load_keys_loaded"); got != strconv.Itoa(len(want)) {
		t.Errorf("rdb_last_load_keys_loaded:%s, want %d", got, len(want))
	}
	// Change things, BGSAVE, restart again.
	c2.expect("+OK", "SELECT", "1")
	c2.expect("1", "DEL", "s:int")
	c2.expect("1", "RPUSH", "newlist", "z")
	c2.expect("7", "RPUSH", "l:small", "tail")
	c2.expect("1", "EXPIRE", "h:small", "5000")
	want = persistProcState(t, s2)
	c2.expect("+Background saving started", "BGSAVE")
	persistWaitBgsave(t, c2)
	if got := persistInfo(t, c2, "rdb_last_bgsave_status"); got != "ok" {
		t.Fatalf("rdb_last_bgsave_status:%s", got)
	}
	s2.Close()
	s3 := startPersistServer(t, dir)
	persistDiff(t, "after BGSAVE and restart", want, persistProcState(t, s3))
	if s2.pst.lateCOW != 0 {
		t.Errorf("%d mutations escaped the snapshot hooks", s2.pst.lateCOW)
	}
	// No temp file is left behind.
	ents, _ := os.ReadDir(dir)
	for _, e := range ents {
		if strings.HasPrefix(e.Name(), "temp-") {
			t.Errorf("temp file %s left in dir", e.Name())
		}
	}
}

// Files we write pass redis-check-rdb and load into redis-server 7.0 with
// the same data.
func TestPersistOurFileIntoRedis(t *testing.T) {
	if _, err := os.Stat(redisCheckRDBPath); err != nil {
		t.Skipf("redis-check-rdb not installed: %v", err)
	}
	for _, compress := range []string{"yes", "no"} {
		t.Run("rdbcompression-"+compress, func(t *testing.T) {
			dir := t.TempDir()
			s := startPersistServer(t, dir, "rdbcompression", compress)
			c := dial(t, persistAddr(s))
			persistPopulate(t, c)
			c.expect("+Background saving started", "BGSAVE")
			persistWaitBgsave(t, c)
			path := filepath.Join(dir, "dump.rdb")
			out, err := exec.Command(redisCheckRDBPath, path).CombinedOutput()
			if err != nil || !strings.Contains(string(out), "RDB looks OK") {
				t.Fatalf("redis-check-rdb: %v\n%s", err, out)
			}
			want := persistWireState(t, c, 6)
			r := startRedisPersist(t, dir, "dump.rdb")
			rc := dial(t, r.addr)
			persistDiff(t, "redis-server loading our file", want, persistWireState(t, rc, 6))
		})
	}
}

// Files written by redis-server 7.0 load into ours with identical data.
func TestPersistRedisFileIntoOurs(t *testing.T) {
	rdir := t.TempDir()
	r := startRedisPersist(t, rdir, "dump.rdb")
	rc := dial(t, r.addr)
	persistPopulate(t, rc)
	rc.expect("+OK", "SAVE")
	want := persistWireState(t, rc, 6)
	// Check that the interesting encodings were exercised.
	for key, enc := range map[string]string{"l:small": "quicklist", "set:int": "intset", "set:big": "hashtable",
		"z:small": "listpack", "h:small": "listpack", "h:big": "hashtable", "l:big": "quicklist"} {
		rc.expect("+OK", "SELECT", "0")
		if got := rc.do("OBJECT", "ENCODING", key).Str; got != enc {
			t.Errorf("redis encoding of %s = %s, want %s", key, got, enc)
		}
	}
	dir := t.TempDir()
	persistCopy(t, filepath.Join(rdir, "dump.rdb"), filepath.Join(dir, "dump.rdb"))
	s := startPersistServer(t, dir)
	c := dial(t, persistAddr(s))
	persistDiff(t, "our server loading redis's file", want, persistWireState(t, c, 6))
}

func TestPersistSaveRules(t *testing.T) {
	dir := t.TempDir()
	s := startPersistServer(t, dir)
	c := dial(t, persistAddr(s))
	c.expect("+OK", "CONFIG", "SET", "save", "1 1")
	c.expect(`["save" "1 1"]`, "CONFIG", "GET", "save")
	c.expect("+OK", "SET", "k", "v")
	c.expect("1", "RPUSH", "l", "a")
	path := filepath.Join(dir, "dump.rdb")
	checkFor(t, 15*time.Second, func() error {
		if _, err := os.Stat(path); err != nil {
			return err
		}
		if v := persistInfo(t, c, "rdb_changes_since_last_save"); v != "0" {
			return errors.New("rdb_changes_since_last_save:" + v)
		}
		return nil
	})
	if v := persistInfo(t, c, "rdb_saves"); v == "0" {
		t.Errorf("rdb_saves:%s after a save rule fired", v)
	}
	// No rule fires without changes.
	c.expect("+OK", "CONFIG", "SET", "save", "")
	st, _ := os.Stat(path)
	c.expect("+OK", "CONFIG", "SET", "save", "1 1000")
	c.expect("+OK", "SET", "k2", "v")
	time.Sleep(1500 * time.Millisecond) // a rule that must not fire: nothing to poll for
	st2, _ := os.Stat(path)
	if !st.ModTime().Equal(st2.ModTime()) {
		t.Errorf("dump rewritten although the rule's change count was not reached")
	}
}

func TestPersistCorruptFile(t *testing.T) {
	dir := t.TempDir()
	s := startPersistServer(t, dir)
	c := dial(t, persistAddr(s))
	persistPopulate(t, c)
	c.expect("+OK", "SAVE")
	s.Close()
	path := filepath.Join(dir, "dump.rdb")
	good, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	start := func() error {
		cfg := NewConfig()
		cfg.Port, cfg.Bind, cfg.Dir, cfg.Save = 0, []string{"127.0.0.1"}, dir, ""
		s := New(cfg, nil)
		defer s.Close()
		return s.Start()
	}
	cases := []struct {
		name string
		data []byte
		want string
	}{
		{"truncated", good[:len(good)/2], "offset"},
		{"bad checksum", append(append([]byte(nil), good[:len(good)-1]...), good[len(good)-1]^0xff), "checksum"},
		{"bad signature", append([]byte("REDIX"), good[5:]...), "signature"},
		{"bad opcode", append(append([]byte(nil), good[:9]...), 0xF0, 0, 0), "offset 10"},
	}
	for _, tc := range cases {
		if err := os.WriteFile(path, tc.data, 0o644); err != nil {
			t.Fatal(err)
		}
		err := start()
		if err == nil {
			t.Errorf("%s: start-up succeeded", tc.name)
			continue
		}
		if !errors.Is(err, ErrLoad) || !errors.Is(err, rdb.ErrBadRDB) && tc.name != "truncated" ||
			!strings.Contains(err.Error(), tc.want) || !strings.Contains(err.Error(), "dump.rdb") {
			t.Errorf("%s: error %q", tc.name, err)
		}
		t.Logf("%s: %v", tc.name, err)
	}
	// A missing directory stops the start as well.
	cfg := NewConfig()
	cfg.Port, cfg.Bind, cfg.Dir = 0, []string{"127.0.0.1"}, filepath.Join(dir, "nope")
	s2 := New(cfg, nil)
	if err := s2.Start(); err == nil || !strings.Contains(err.Error(), "nope") {
		t.Errorf("start with a missing dir: %v", err)
	}
	s2.Close()
}

func TestPersistExpiredAtLoad(t *testing.T) {
	dir := t.TempDir()
	s := startPersistServer(t, dir)
	c := dial(t, persistAddr(s))
	c.expect("+OK", "SET", "short", "v", "PX", "300")
	c.expect("+OK", "SET", "long", "v", "EX", "1000")
	c.expect("+OK", "SET", "plain", "v")
	c.expect("+OK", "SAVE")
	s.Close()
	deadline := time.Now().Add(300 * time.Millisecond)
	time.Sleep(time.Until(deadline) + 50*time.Millisecond) // "short" must be expired at load
	s2 := startPersistServer(t, dir)
	c2 := dial(t, persistAddr(s2))
	if v := persistInfo(t, c2, "rdb_last_load_keys_expired"); v != "1" {
		t.Errorf("rdb_last_load_keys_expired:%s", v)
	}
	if v := persistInfo(t, c2, "rdb_last_load_keys_loaded"); v != "2" {
		t.Errorf("rdb_last_load_keys_loaded:%s", v)
	}
	c2.expect("2", "DBSIZE")
	c2.expect("-1", "TTL", "plain")
	if ttl := c2.do("TTL", "long").Int; ttl < 990 || ttl > 1000 {
		t.Errorf("TTL long = %d", ttl)
	}
}

func TestPersistInfoAndCommands(t *testing.T) {
	dir := t.TempDir()
	s := startPersistServer(t, dir)
	c := dial(t, persistAddr(s))
	for _, f := range []string{"loading", "async_loading", "current_cow_peak", "rdb_changes_since_last_save",
		"rdb_bgsave_in_progress", "rdb_last_save_time", "rdb_last_bgsave_status", "rdb_last_bgsave_time_sec",
		"rdb_current_bgsave_time_sec", "rdb_saves", "rdb_last_cow_size", "rdb_last_load_keys_expired",
		"rdb_last_load_keys_loaded", "aof_enabled", "aof_rewrite_in_progress", "aof_last_bgrewrite_status",
		"aof_last_write_status"} {
		persistInfo(t, c, f)
	}
	if v := persistInfo(t, c, "rdb_last_bgsave_time_sec"); v != "-1" {
		t.Errorf("rdb_last_bgsave_time_sec:%s before any BGSAVE", v)
	}
	if v := persistInfo(t, c, "rdb_current_bgsave_time_sec"); v != "-1" {
		t.Errorf("rdb_current_bgsave_time_sec:%s", v)
	}
	c.expect("+OK", "SET", "a", "1")
	c.expect("+OK", "SET", "b", "1")
	c.expect("1", "DEL", "a")
	if v := persistInfo(t, c, "rdb_changes_since_last_save"); v != "3" {
		t.Errorf("rdb_changes_since_last_save:%s, want 3", v)
	}
	last := c.do("LASTSAVE").Int
	time.Sleep(1100 * time.Millisecond) // LASTSAVE has a one-second resolution
	c.expect("+OK", "SAVE")
	if v := persistInfo(t, c, "rdb_changes_since_last_save"); v != "0" {
		t.Errorf("rdb_changes_since_last_save:%s after SAVE", v)
	}
	if now := c.do("LASTSAVE").Int; now <= last {
		t.Errorf("LASTSAVE %d not after %d", now, last)
	}
	if v := persistInfo(t, c, "rdb_last_save_time"); v != strconv.FormatInt(c.do("LASTSAVE").Int, 10) {
		t.Errorf("rdb_last_save_time:%s differs from LASTSAVE", v)
	}
	c.expect("1", "DBSIZE")
	c.expect("+Background saving started", "BGSAVE")
	persistWaitBgsave(t, c)
	if v := persistInfo(t, c, "rdb_saves"); v != "2" {
		t.Errorf("rdb_saves:%s, want 2", v)
	}
	if v := persistInfo(t, c, "rdb_last_bgsave_time_sec"); v != "0" {
		t.Errorf("rdb_last_bgsave_time_sec:%s", v)
	}
	c.expect(`ERR:"ERR syntax error"`, "BGSAVE", "now")
	c.expect(`ERR:"ERR syntax error"`, "BGSAVE", "schedule", "x")
	c.expect(`ERR:"ERR wrong number of arguments for 'save' command"`, "SAVE", "x")
	// BGSAVE inside MULTI is scheduled, then run by the cron.
	c.expect("+OK", "SET", "c", "3")
	c.expect("+OK", "MULTI")
	c.expect("+QUEUED", "BGSAVE")
	c.expect("[+Background saving scheduled]", "EXEC")
	checkFor(t, 10*time.Second, func() error {
		if v := persistInfo(t, c, "rdb_saves"); v != "3" {
			return errors.New("rdb_saves:" + v)
		}
		return nil
	})
	persistWaitBgsave(t, c)
}

func TestPersistConfig(t *testing.T) {
	dir := t.TempDir()
	// Protected by default, as in Redis 7.0.
	s0 := startServer(t, "dir", dir)
	c0 := dial(t, persistAddr(s0))
	c0.expect(`ERR:"ERR CONFIG SET failed (possibly related to argument 'dir') - can't set protected config"`, "CONFIG", "SET", "dir", dir)
	c0.expect(`ERR:"ERR CONFIG SET failed (possibly related to argument 'dbfilename') - can't set protected config"`, "CONFIG", "SET", "dbfilename", "x.rdb")
	c0.expect(`ERR:"ERR CONFIG SET failed (possibly related to argument 'rdbchecksum') - can't set immutable config"`, "CONFIG", "SET", "rdbchecksum", "no")

	s := startPersistServer(t, dir)
	c := dial(t, persistAddr(s))
	c.expect(`ERR:"ERR CONFIG SET failed (possibly related to argument 'dir') - No such file or directory"`, "CONFIG", "SET", "dir", filepath.Join(dir, "missing"))
	file := filepath.Join(dir, "plainfile")
	if err := os.WriteFile(file, nil, 0o644); err != nil {
		t.Fatal(err)
	}
	c.expect(`ERR:"ERR CONFIG SET failed (possibly related to argument 'dir') - Not a directory"`, "CONFIG", "SET", "dir", file)
	c.expect(`ERR:"ERR CONFIG SET failed (possibly related to argument 'dbfilename') - dbfilename can't be a path, just a filename"`, "CONFIG", "SET", "dbfilename", "a/b.rdb")
	sub := filepath.Join(dir, "sub")
	if err := os.Mkdir(sub, 0o755); err != nil {
		t.Fatal(err)
	}
	c.expect("+OK", "CONFIG", "SET", "dir", sub, "dbfilename", "other.rdb")
	c.expect("+OK", "SET", "k", "v")
	c.expect("+OK", "SAVE")
	if _, err := os.Stat(filepath.Join(sub, "other.rdb")); err != nil {
		t.Fatal(err)
	}
	// Without checksum the file ends with 8 zero bytes and still loads.
	s2 := startPersistServer(t, dir, "rdbchecksum", "no")
	c2 := dial(t, persistAddr(s2))
	c2.expect("+OK", "SET", "k", "v")
	c2.expect("+OK", "SAVE")
	b, err := os.ReadFile(filepath.Join(dir, "dump.rdb"))
	if err != nil {
		t.Fatal(err)
	}
	if tail := b[len(b)-8:]; string(tail) != "\x00\x00\x00\x00\x00\x00\x00\x00" {
		t.Errorf("rdbchecksum no: trailer %x", tail)
	}
	s2.Close()
	s3 := startPersistServer(t, dir)
	c3 := dial(t, persistAddr(s3))
	c3.expect(`"v"`, "GET", "k")
}

func TestPersistShutdown(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "dump.rdb")
	// With save rules SHUTDOWN saves.
	s := startPersistServer(t, dir)
	c := dial(t, persistAddr(s))
	c.expect("+OK", "CONFIG", "SET", "save", "3600 1")
	c.expect("+OK", "SET", "k", "v1")
	c.expect(`ERR:"ERR syntax error"`, "SHUTDOWN", "NOSAVE", "SAVE")
	c.expect(`ERR:"ERR syntax error"`, "SHUTDOWN", "ABORT", "NOW")
	c.expect(`ERR:"ERR No shutdown in progress."`, "SHUTDOWN", "ABORT")
	c.send("SHUTDOWN")
	<-s.Done()
	s.Close()
	if _, err := os.Stat(path); err != nil {
		t.Fatalf("SHUTDOWN with save rules did not save: %v", err)
	}
	// NOSAVE does not.
	s = startPersistServer(t, dir)
	c = dial(t, persistAddr(s))
	c.expect("+OK", "CONFIG", "SET", "save", "3600 1")
	c.expect(`"v1"`, "GET", "k")
	c.expect("+OK", "SET", "k", "v2")
	c.send("SHUTDOWN", "NOSAVE")
	<-s.Done()
	s.Close()
	// Without rules only SAVE saves.
	s = startPersistServer(t, dir)
	c = dial(t, persistAddr(s))
	c.expect(`"v1"`, "GET", "k")
	c.expect("+OK", "SET", "k", "v3")
	c.send("SHUTDOWN")
	<-s.Done()
	s.Close()
	s = startPersistServer(t, dir)
	c = dial(t, persistAddr(s))
	c.expect(`"v1"`, "GET", "k")
	c.expect("+OK", "SET", "k", "v4")
	c.send("SHUTDOWN", "SAVE")
	<-s.Done()
	s.Close()
	s = startPersistServer(t, dir)
	c = dial(t, persistAddr(s))
	c.expect(`"v4"`, "GET", "k")
	// A failing save refuses the shutdown, unless FORCE.
	sub := filepath.Join(dir, "sub")
	if err := os.Mkdir(sub, 0o755); err != nil {
		t.Fatal(err)
	}
	c.expect("+OK", "CONFIG", "SET", "dir", sub)
	if err := os.Remove(sub); err != nil {
		t.Fatal(err)
	}
	c.expect(`ERR:"ERR Errors trying to SHUTDOWN. Check logs."`, "SHUTDOWN", "SAVE")
	c.expect("+PONG", "PING")
	c.send("SHUTDOWN", "SAVE", "FORCE")
	<-s.Done()
}

func TestPersistFlushall(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "dump.rdb")
	s := startPersistServer(t, dir)
	c := dial(t, persistAddr(s))
	c.expect("+OK", "SET", "a", "1")
	c.expect("+OK", "SET", "b", "1")
	c.expect("+OK", "FLUSHALL")
	// Without save rules: no file, changes counted per removed key.
	if _, err := os.Stat(path); err == nil {
		t.Errorf("FLUSHALL without save rules wrote %s", path)
	}
	if v := persistInfo(t, c, "rdb_changes_since_last_save"); v != "4" {
		t.Errorf("rdb_changes_since_last_save:%s, want 4 (as Redis 7.0)", v)
	}
	// With save rules the empty data set is saved at once.
	c.expect("+OK", "CONFIG", "SET", "save", "3600 1")
	c.expect("+OK", "SET", "a", "1")
	c.expect("+OK", "FLUSHALL")
	if _, err := os.Stat(path); err != nil {
		t.Errorf("FLUSHALL with save rules did not save: %v", err)
	}
	if v := persistInfo(t, c, "rdb_changes_since_last_save"); v != "0" {
		t.Errorf("rdb_changes_since_last_save:%s, want 0", v)
	}
	if v := persistInfo(t, c, "rdb_saves"); v != "0" {
		t.Errorf("rdb_saves:%s, want 0 (FLUSHALL's save is not counted by Redis 7.0)", v)
	}
}
