package server

import (
	"math/rand/v2"
	"os"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/codisgo/codis/pkg/resp"
)

// TestNoPanics feeds every command random arguments drawn from tricky
// values and checks that each produces a well-formed reply (never a panic).
// Set CODIS_NOPANIC_SEED to replay.
func TestNoPanics(t *testing.T) {
	seed := uint64(time.Now().UnixNano())
	if v := os.Getenv("CODIS_NOPANIC_SEED"); v != "" {
		seed, _ = strconv.ParseUint(v, 10, 64)
	}
	t.Logf("seed %d", seed)
	r := rand.New(rand.NewPCG(seed, 1))
	pool := []string{"", "0", "1", "-1", "2", "10", "100", "-100", "9223372036854775807", "-9223372036854775808",
		"18446744073709551616", "1.5", "inf", "-inf", "nan", "abc", "k", "k2", "{t}k", "#3", "u8", "i64", "u63", "i1",
		"GET", "SET", "INCRBY", "OVERFLOW", "FAIL", "SAT", "NX", "XX", "GT", "LT", "EX", "PX", "EXAT", "PXAT", "KEEPTTL",
		"PERSIST", "MATCH", "COUNT", "TYPE", "*", "[", "\\", "a*b?", "REPLACE", "DB", "ID", "ADDR", "SKIPME", "no",
		"yes", "ASYNC", "SYNC", "AND", "NOT", "BIT", "BYTE", "1023", "1024", "list", "string", "maxmemory", "hz", "save",
		"encoding", "freq", "list", "kill", "info", "get", "set", "help", "count", "docs", "getkeys", "\x00\xff"}
	s := New(nil, nil)
	s.cfg.ActiveExpire = false
	s.cfg.Save, s.cfg.Dir = "", t.TempDir() // FLUSHALL saves with save rules
	c := &client{s: s, db: s.ks.dbs[0], authed: true, p: resp.NewParser(nil)}
	names := make([]string, 0, len(commands))
	for n := range commands {
		switch n {
		case "shutdown", "quit", "config", "replicaof", "slaveof", "swapdb":
			continue // would change the test's own environment
		case "subscribe", "psubscribe", "ssubscribe", "sync", "psync", "monitor":
			continue // need a connection (pubsub_test.go, repl_test.go)
		case "save", "bgsave", "bgrewriteaof", "pfselftest":
			continue // write files or take seconds (persist_test.go, hll tests)
		}
		if strings.HasPrefix(n, "slotsmgrt") {
			continue // would dial the random host argument (migrate_test.go)
		}
		names = append(names, n)
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	n := 20000
	if testing.Short() {
		n = 3000
	}
	for i := 0; i < n; i++ {
		argv := [][]byte{[]byte(names[r.IntN(len(names))])}
		for j := r.IntN(7); j > 0; j-- {
			argv = append(argv, []byte(pool[r.IntN(len(pool))]))
		}
		func() {
			defer func() {
				if p := recover(); p != nil {
					t.Fatalf("panic on %q: %v", argv, p)
				}
			}()
			c.out = c.out[:0]
			c.closeAfterReply = false
			c.process(argv)
			if c.inMulti && r.IntN(4) == 0 {
				c.process([][]byte{[]byte("EXEC")})
			}
		}()
		rr := resp.NewReplyReader(&sliceReader{b: c.out})
		for rr.Buffered() > 0 || len(c.out) > 0 {
			if _, err := rr.ReadReply(); err != nil {
				t.Fatalf("bad reply to %q: %v (%q)", argv, err, c.out)
			}
			if rr.Buffered() == 0 {
				break
			}
		}
	}
	c.process([][]byte{[]byte("SLOTSCHECK")})
	if got := string(c.out[len(c.out)-5:]); got != "+OK\r\n" {
		t.Fatalf("SLOTSCHECK after random commands: %q", c.out)
	}
}

type sliceReader struct{ b []byte }

func (s *sliceReader) Read(p []byte) (int, error) {
	if len(s.b) == 0 {
		return 0, os.ErrClosed
	}
	n := copy(p, s.b)
	s.b = s.b[n:]
	return n, nil
}
