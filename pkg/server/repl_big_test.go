package server

import (
	"fmt"
	"strconv"
	"testing"
	"time"
)

// fillKeys adds n string keys to DB 0 directly (a tenth with a TTL), which
// is much faster than sending n SETs.
func fillKeys(s *Server, n int) {
	s.mu.Lock()
	defer s.mu.Unlock()
	db := s.ks.dbs[0]
	exp := time.Now().Add(time.Hour).UnixMilli()
	for i := 0; i < n; i++ {
		key := []byte("key:" + strconv.Itoa(i))
		e := NewStringEntry([]byte("value:" + strconv.Itoa(i)))
		if i%10 == 0 {
			e.expireAt = exp + int64(i)
		}
		db.Add(key, e)
	}
}

// sameKeyspace compares two in-process servers key by key: type, value
// (strings) and the absolute expiry.
func sameKeyspace(t *testing.T, a, b *Server) int {
	t.Helper()
	a.mu.Lock()
	defer a.mu.Unlock()
	b.mu.Lock()
	defer b.mu.Unlock()
	n := 0
	for i, da := range a.ks.dbs {
		db := b.ks.dbs[i]
		if da.nkeys != db.nkeys {
			t.Fatalf("db%d: %d keys vs %d", i, da.nkeys, db.nkeys)
		}
		for slot := range da.shards {
			for k, ea := range da.shards[slot].keys {
				eb := db.shards[slot].keys[k]
				if eb == nil {
					t.Fatalf("key %q missing on the replica", k)
				}
				if ea.typ != eb.typ || ea.expireAt != eb.expireAt || (ea.typ == TypeString && string(ea.Str()) != string(eb.Str())) {
					t.Fatalf("key %q differs", k)
				}
				n++
			}
		}
	}
	return n
}

// TestReplFullSync1M: a full sync of 1,000,000 keys (200,000 under the race
// detector) from our master to our replica and to Debian's redis-server,
// timed against redis-server → redis-server in the same run.
func TestReplFullSync1M(t *testing.T) {
	if testing.Short() {
		t.Skip("long")
	}
	n := 1000000
	if replRaceEnabled {
		n = 200000
	}
	m := startServer(t)
	fillKeys(m, n)

	start := time.Now()
	r := startReplicaOf(t, ourAddr(m))
	waitLinkUp(t, ourAddr(r), 60*time.Second)
	ours := time.Since(start)
	if got := sameKeyspace(t, m, r); got != n {
		t.Fatalf("compared %d keys, want %d", got, n)
	}

	h, p := hostPortOf(ourAddr(m))
	start = time.Now()
	rr := startRedisArgs(t, "--replicaof", h, p)
	waitLinkUp(t, rr.addr, 60*time.Second)
	toRedis := time.Since(start)
	if k := infoField(t, rr.addr, "db0"); k == "" || !containsKeys(k, n) {
		t.Errorf("redis replica db0: %q", k)
	}

	// Reference: redis-server → redis-server, and redis-server → ours.
	rm := startRedisArgs(t, "--enable-debug-command", "yes")
	rc := dial(t, rm.addr)
	rc.expect("+OK", "DEBUG", "POPULATE", strconv.Itoa(n))
	rh, rp := hostPortOf(rm.addr)
	start = time.Now()
	r2 := startRedisArgs(t, "--replicaof", rh, rp)
	waitLinkUp(t, r2.addr, 60*time.Second)
	redisRedis := time.Since(start)
	start = time.Now()
	o2 := startReplicaOf(t, rm.addr)
	waitLinkUp(t, ourAddr(o2), 60*time.Second)
	redisOurs := time.Since(start)
	o2c := dial(t, ourAddr(o2))
	if k := o2c.do("DBSIZE"); k.Int != int64(n) {
		t.Errorf("our replica of redis-server: DBSIZE %s", k)
	}
	t.Logf("full sync of %d keys (race=%v): ours->ours %v, ours->redis %v, redis->redis %v, redis->ours %v",
		n, replRaceEnabled, ours, toRedis, redisRedis, redisOurs)
}

func containsKeys(info string, n int) bool {
	return len(info) > 0 && info[:len(fmt.Sprintf("keys=%d,", n))] == fmt.Sprintf("keys=%d,", n)
}
