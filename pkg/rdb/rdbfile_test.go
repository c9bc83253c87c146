package rdb

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"testing"
	"time"
)

type fileKey struct {
	db       int
	name     string
	obj      Object
	expireAt int64
}

func fileKeys() []fileKey {
	future := time.Now().Add(time.Hour).UnixMilli()
	var ks []fileKey
	for i, f := range fixtures() {
		ks = append(ks, fileKey{0, f.name, f.obj, 0})
		if i%3 == 0 {
			ks = append(ks, fileKey{5, "exp:" + f.name, f.obj, future + int64(i)})
		}
	}
	return ks
}

func writeFile(t *testing.T, path string, opts *WriterOptions, ks []fileKey) {
	t.Helper()
	f, err := os.Create(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	w := NewWriter(f, opts)
	w.WriteStandardAux("7.0.15", time.Now(), 1<<20)
	w.WriteAux("repl-id", strings.Repeat("ab", 20))
	w.WriteAuxInt("repl-offset", 0)
	db := -1
	for _, k := range ks {
		if k.db != db {
			db = k.db
			w.SelectDB(db)
			w.ResizeDB(uint64(len(ks)), 0)
		}
		if err := w.WriteKey([]byte(k.name), &k.obj, k.expireAt); err != nil {
			t.Fatal(err)
		}
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
}

// readAll reads a file with Reader into a map keyed by "db/key".
func readAll(t *testing.T, r io.Reader) (map[string]*Entry, map[string]string, []string) {
	t.Helper()
	out := map[string]*Entry{}
	aux := map[string]string{}
	var funcs []string
	rd := NewReader(r)
	err := rd.Run(Handlers{
		Key: func(e *Entry) error {
			c := *e
			out[fmt.Sprintf("%d/%s", e.DB, e.Key)] = &c
			return nil
		},
		Aux:      func(k, v []byte) error { aux[string(k)] = string(v); return nil },
		Function: func(code []byte) error { funcs = append(funcs, string(code)); return nil },
	})
	if err != nil {
		t.Fatal(err)
	}
	return out, aux, funcs
}

func TestWriterRedisLoads(t *testing.T) {
	check := redisBinary(t, "redis-check-rdb")
	ks := fileKeys()
	for _, opts := range []*WriterOptions{nil, {Version: 9, NoCompress: true}, {Version: 10}} {
		dir := t.TempDir()
		path := filepath.Join(dir, "dump.rdb")
		writeFile(t, path, opts, ks)
		out, err := exec.Command(check, path).CombinedOutput()
		if err != nil || !strings.Contains(string(out), "RDB looks OK") {
			t.Fatalf("redis-check-rdb %+v: %v\n%s", opts, err, out)
		}

		// Our own reader sees the same keys.
		f, err := os.Open(path)
		if err != nil {
			t.Fatal(err)
		}
		got, aux, _ := readAll(t, f)
		f.Close()
		if aux["redis-ver"] != "7.0.15" || aux["redis-bits"] != "64" {
			t.Fatalf("aux %v", aux)
		}
		if len(got) != len(ks) {
			t.Fatalf("read %d keys, wrote %d", len(got), len(ks))
		}
		for _, k := range ks {
			e := got[fmt.Sprintf("%d/%s", k.db, k.name)]
			if e == nil || !objEqual(e.Value, k.obj) || e.ExpireAt != k.expireAt {
				t.Fatalf("key %d/%s: %+v", k.db, k.name, e)
			}
		}

		// Redis loads every key with its expiry.
		_, c := startRedis(t, dir, "--dbfilename", "dump.rdb")
		for _, k := range ks {
			mustDo(t, c, "SELECT", k.db)
			if got := fetchObject(t, c, k.name); !objEqual(got, k.obj) {
				t.Fatalf("redis key %d/%s: %s", k.db, k.name, describe(got))
			}
			ttl := mustDo(t, c, "PEXPIRETIME", k.name).(int64)
			if (k.expireAt == 0 && ttl != -1) || (k.expireAt != 0 && ttl != k.expireAt) {
				t.Fatalf("redis key %d/%s: expire %d want %d", k.db, k.name, ttl, k.expireAt)
			}
		}
	}
}

func TestReaderRedisSave(t *testing.T) {
	p, c := startTestRedis(t, "")
	ks := fileKeys()
	for _, k := range ks {
		mustDo(t, c, "SELECT", k.db)
		storeObject(t, c, k.name, k.obj)
		if k.expireAt != 0 {
			mustDo(t, c, "PEXPIREAT", k.name, k.expireAt)
		}
	}
	lib := "#!lua name=rdbtest\nredis.register_function('rdbtest_f', function() return 1 end)"
	mustDo(t, c, "FUNCTION", "LOAD", lib)
	mustDo(t, c, "SAVE")
	data, err := os.ReadFile(filepath.Join(p.dir, "dump.rdb"))
	if err != nil {
		t.Fatal(err)
	}
	if string(data[:9]) != "REDIS0010" {
		t.Fatalf("unexpected header %q", data[:9])
	}
	got, aux, funcs := readAll(t, bytes.NewReader(data))
	if !strings.HasPrefix(aux["redis-ver"], "7.") {
		t.Fatalf("aux %v", aux)
	}
	if len(funcs) != 1 || funcs[0] != lib {
		t.Fatalf("functions %q", funcs)
	}
	if len(got) != len(ks) {
		t.Fatalf("read %d keys, want %d", len(got), len(ks))
	}
	for _, k := range ks {
		e := got[fmt.Sprintf("%d/%s", k.db, k.name)]
		if e == nil || !objEqual(e.Value, k.obj) || e.ExpireAt != k.expireAt {
			t.Fatalf("key %d/%s: %+v", k.db, k.name, e)
		}
	}

	// Corruptions: every truncation fails cleanly, a flipped byte fails,
	// and a zeroed checksum is accepted.
	for n := 0; n < len(data); n += 1 + n/50 {
		err := NewReader(bytes.NewReader(data[:n])).Run(Handlers{Key: func(*Entry) error { return nil }})
		if err == nil {
			t.Fatalf("truncated at %d accepted", n)
		}
	}
	bad := append([]byte(nil), data...)
	bad[len(bad)-20] ^= 0x40
	if err := NewReader(bytes.NewReader(bad)).Run(Handlers{Key: func(*Entry) error { return nil }}); err == nil {
		t.Fatal("corrupt file accepted")
	}
	bad = append([]byte(nil), data...)
	bad[len(bad)-1] ^= 1
	if err := NewReader(bytes.NewReader(bad)).Run(Handlers{Key: func(*Entry) error { return nil }}); !errors.Is(err, ErrRDBChecksum) {
		t.Fatalf("bad checksum: %v", err)
	}
	copy(bad[len(bad)-8:], make([]byte, 8))
	if err := NewReader(bytes.NewReader(bad)).Run(Handlers{Key: func(*Entry) error { return nil }}); err != nil {
		t.Fatalf("zero checksum: %v", err)
	}
}

func TestReaderBuffered(t *testing.T) {
	var buf bytes.Buffer
	w := NewWriter(&buf, nil)
	w.WriteKey([]byte("k"), &Object{Kind: KindString, Str: []byte("v")}, 0)
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	if int64(buf.Len()) != w.Written() {
		t.Fatal("Written")
	}
	buf.WriteString("TRAILER")
	r := NewReader(&buf)
	n := 0
	if err := r.Run(Handlers{Key: func(*Entry) error { n++; return nil }}); err != nil || n != 1 {
		t.Fatal(err, n)
	}
	if string(r.Buffered())+buf.String() != "TRAILER" || r.Version() != RDBVersion {
		t.Fatalf("buffered %q", r.Buffered())
	}
	if err := w.WriteKey([]byte("x"), &Object{Kind: KindString}, 0); !errors.Is(err, ErrWriterClosed) {
		t.Fatal(err)
	}
	stop := errors.New("stop")
	w2 := NewWriter(&buf, nil)
	w2.WriteKey([]byte("k"), &Object{Kind: KindString, Str: []byte("v")}, 0)
	w2.Close()
	if err := NewReader(&buf).Run(Handlers{Key: func(*Entry) error { return stop }}); err != stop {
		t.Fatalf("handler error not returned: %v", err)
	}
}

// TestReaderStreamsMillionKeys pipes a 1,000,000-key file from Writer to
// Reader and checks that memory stays bounded.
func TestReaderStreamsMillionKeys(t *testing.T) {
	n := 1_000_000
	if testing.Short() || raceEnabled {
		n = 100_000
	}
	pr, pw := io.Pipe()
	errc := make(chan error, 1)
	go func() {
		w := NewWriter(pw, nil)
		w.SelectDB(0)
		h := &Object{Kind: KindHash, Hash: []Field{{[]byte("a"), []byte("1")}, {[]byte("b"), []byte("two")}}}
		s := &Object{Kind: KindString}
		var key []byte
		for i := 0; i < n; i++ {
			key = fmt.Appendf(key[:0], "key:%d", i)
			o := s
			if i%2 == 1 {
				o = h
			} else {
				s.Str = key
			}
			if err := w.WriteKey(key, o, 0); err != nil {
				pw.CloseWithError(err)
				errc <- err
				return
			}
		}
		err := w.Close()
		pw.CloseWithError(err)
		errc <- err
	}()
	var ms runtime.MemStats
	count, maxHeap := 0, uint64(0)
	err := NewReader(pr).Run(Handlers{Key: func(e *Entry) error {
		count++
		if count%100_000 == 0 {
			runtime.ReadMemStats(&ms)
			maxHeap = max(maxHeap, ms.HeapInuse)
		}
		return nil
	}})
	if err != nil {
		t.Fatal(err)
	}
	if err := <-errc; err != nil {
		t.Fatal(err)
	}
	if count != n {
		t.Fatalf("read %d of %d keys", count, n)
	}
	if maxHeap > 64<<20 {
		t.Fatalf("heap grew to %d MiB while streaming", maxHeap>>20)
	}
}
