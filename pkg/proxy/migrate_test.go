package proxy

import (
	"net"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/codisgo/codis/pkg/models"
	"github.com/codisgo/codis/pkg/resp"
	"github.com/gomodule/redigo/redis"
)

// sourceServer stands in for a migrating codis-server (stock redis has no
// SLOTSMGRT* commands and our codis-server does not implement them yet).
// It keeps string keys per db; SLOTSMGRTTAGONE really moves a key to the
// target redis; SLOTSMGRT-EXEC-WRAPPER answers per the codis-server
// contract: 0 key absent, 1 key being migrated (for `busy` more calls),
// 2 executed here (GET/SET only).
type sourceServer struct {
	l  net.Listener
	mu sync.Mutex
	db map[int]map[string]string
	// busy[key] = number of wrapper calls still answering "being migrated"
	busy  map[string]int
	calls []string // "db:command args..."
	conns map[net.Conn]struct{}
	wg    sync.WaitGroup
}

func startSourceServer(t *testing.T) *sourceServer {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	s := &sourceServer{l: l, db: map[int]map[string]string{}, busy: map[string]int{}, conns: map[net.Conn]struct{}{}}
	s.wg.Add(1)
	go func() {
		defer s.wg.Done()
		for {
			c, err := l.Accept()
			if err != nil {
				return
			}
			s.mu.Lock()
			s.conns[c] = struct{}{}
			s.mu.Unlock()
			s.wg.Add(1)
			go func() { defer s.wg.Done(); s.serve(c) }()
		}
	}()
	t.Cleanup(func() {
		l.Close()
		s.mu.Lock()
		for c := range s.conns {
			c.Close()
		}
		s.mu.Unlock()
		s.wg.Wait()
	})
	return s
}

func (s *sourceServer) addr() string { return s.l.Addr().String() }

func (s *sourceServer) set(db int, k, v string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.db[db] == nil {
		s.db[db] = map[string]string{}
	}
	s.db[db][k] = v
}

func (s *sourceServer) serve(c net.Conn) {
	defer c.Close()
	p := resp.NewParser(c)
	db := 0
	for {
		argv, err := p.ReadCommand()
		if err != nil {
			return
		}
		cmd := strings.ToUpper(string(argv[0]))
		var out []byte
		s.mu.Lock()
		if cmd != "PING" && cmd != "SELECT" {
			parts := []string{strconv.Itoa(db)}
			for _, a := range argv {
				parts = append(parts, string(a))
			}
			s.calls = append(s.calls, strings.Join(parts, " "))
		}
		kv := s.db[db]
		if kv == nil {
			kv = map[string]string{}
			s.db[db] = kv
		}
		switch cmd {
		case "PING":
			out = []byte("+PONG\r\n")
		case "SELECT":
			db, _ = strconv.Atoi(string(argv[1]))
			out = resp.AppendOK(nil)
		case "SLOTSMGRTTAGONE":
			key := string(argv[4])
			v, ok := kv[key]
			if !ok {
				out = resp.AppendInt(nil, 0)
				break
			}
			tc, err := redis.Dial("tcp", net.JoinHostPort(string(argv[1]), string(argv[2])), redis.DialDatabase(db))
			if err == nil {
				_, err = tc.Do("SET", key, v)
				tc.Close()
			}
			if err != nil {
				out = resp.AppendError(nil, "ERR migrate failed: "+err.Error())
				break
			}
			delete(kv, key)
			out = resp.AppendInt(nil, 1)
		case "SLOTSMGRT-EXEC-WRAPPER":
			key := string(argv[1])
			if n := s.busy[key]; n > 0 {
				s.busy[key] = n - 1
				out = resp.AppendArrayLen(nil, 2)
				out = resp.AppendInt(out, 1)
				out = resp.AppendError(out, "ERR being migrated")
				break
			}
			v, ok := kv[key]
			if !ok {
				out = resp.AppendArrayLen(nil, 2)
				out = resp.AppendInt(out, 0)
				out = resp.AppendError(out, "ERR not found")
				break
			}
			out = resp.AppendArrayLen(nil, 2)
			out = resp.AppendInt(out, 2)
			switch strings.ToUpper(string(argv[2])) {
			case "GET":
				out = resp.AppendBulkString(out, v)
			case "SET":
				kv[key] = string(argv[4])
				out = resp.AppendOK(out)
			default:
				out = resp.AppendError(out, "ERR unsupported by test source")
			}
		default:
			out = resp.AppendError(nil, "ERR unknown command '"+string(argv[0])+"'")
		}
		s.mu.Unlock()
		if _, err := c.Write(out); err != nil {
			return
		}
	}
}

func (s *sourceServer) callLog() []string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]string(nil), s.calls...)
}

func TestMigrateSync(t *testing.T) {
	p, servers := startCluster(t, 1, nil)
	src := startSourceServer(t)
	target := servers[0].Addr
	src.set(2, "mk", "from-source")
	sid := SlotOf([]byte("mk"))
	if err := p.router.FillSlot(&models.Slot{ID: sid, BackendAddr: target, MigrateFrom: src.addr(), ForwardMethod: models.ForwardSync}); err != nil {
		t.Fatal(err)
	}
	cl := dial(t, p.ProxyAddr())
	cl.Do("SELECT", "2")
	if v, err := redis.String(cl.Do("GET", "mk")); err != nil || v != "from-source" {
		t.Fatalf("GET during sync migration: %q %v", v, err)
	}
	host, port, _ := net.SplitHostPort(target)
	want := "2 SLOTSMGRTTAGONE " + host + " " + port + " 3000 mk"
	if calls := src.callLog(); len(calls) == 0 || calls[len(calls)-1] != want {
		t.Fatalf("source calls %q, want last %q", calls, want)
	}
	// Every request migrates first, even when the key has moved.
	cl.Do("GET", "mk")
	if n := len(src.callLog()); n != 2 {
		t.Fatalf("%d SLOTSMGRTTAGONE calls, want 2", n)
	}
	// A split command mixes batched keys and the migrating one.
	cl.Do("SET", "other-key", "o")
	src.set(2, "mk2", "m2")
	p.router.FillSlot(&models.Slot{ID: SlotOf([]byte("mk2")), BackendAddr: target, MigrateFrom: src.addr()})
	vals, err := redis.Strings(cl.Do("MGET", "other-key", "mk2", "mk", "nokey"))
	if err != nil || strings.Join(vals, ",") != "o,m2,from-source," {
		t.Fatalf("MGET across a migrating slot: %q %v", vals, err)
	}
	if n, err := redis.Int(cl.Do("DEL", "mk2", "other-key", "nokey")); err != nil || n != 2 {
		t.Fatalf("DEL across a migrating slot: %d %v", n, err)
	}
	// A source error is reported.
	p.router.FillSlot(&models.Slot{ID: sid, BackendAddr: target, MigrateFrom: servers[0].Addr})
	_, err = cl.Do("GET", "mk")
	if err == nil || !strings.HasPrefix(err.Error(), "ERR handle request, bad slotsmgrt resp: ERR unknown command") {
		t.Fatalf("stock redis as source: %v", err)
	}
}

func TestMigrateSemiAsync(t *testing.T) {
	p, servers := startCluster(t, 1, nil)
	src := startSourceServer(t)
	target := servers[0].Addr
	src.set(0, "on-source", "S")
	src.set(0, "busy", "B")
	src.busy["busy"] = 7
	direct := dial(t, target)
	direct.Do("SET", "moved", "T")
	for _, k := range []string{"on-source", "busy", "moved"} {
		p.router.FillSlot(&models.Slot{ID: SlotOf([]byte(k)), BackendAddr: target, MigrateFrom: src.addr(), ForwardMethod: models.ForwardSemiAsync})
	}
	cl := dial(t, p.ProxyAddr())
	// Code 2: executed on the source.
	if v, err := redis.String(cl.Do("GET", "on-source")); err != nil || v != "S" {
		t.Fatalf("GET on-source: %q %v", v, err)
	}
	if _, err := cl.Do("SET", "on-source", "S2"); err != nil {
		t.Fatal(err)
	}
	if v, _ := redis.String(cl.Do("GET", "on-source")); v != "S2" {
		t.Fatalf("SET through wrapper lost: %q", v)
	}
	// Code 0: forwarded to the target.
	if v, err := redis.String(cl.Do("GET", "moved")); err != nil || v != "T" {
		t.Fatalf("GET moved: %q %v", v, err)
	}
	// Code 1: retried until the source answers otherwise.
	start := time.Now()
	if v, err := redis.String(cl.Do("GET", "busy")); err != nil || v != "B" {
		t.Fatalf("GET busy: %q %v", v, err)
	}
	if el := time.Since(start); el < 5*time.Millisecond {
		t.Fatalf("retries did not back off (%v)", el)
	}
	n := 0
	for _, c := range src.callLog() {
		if strings.HasPrefix(c, "0 SLOTSMGRT-EXEC-WRAPPER busy GET busy") {
			n++
		}
	}
	if n != 8 {
		t.Fatalf("%d wrapper calls for busy, want 8", n)
	}
	// An unusable wrapper reply is an error.
	p.router.FillSlot(&models.Slot{ID: SlotOf([]byte("moved")), BackendAddr: target, MigrateFrom: target, ForwardMethod: models.ForwardSemiAsync})
	if _, err := cl.Do("GET", "moved"); err == nil || !strings.HasPrefix(err.Error(), "ERR handle request, bad slotsmgrt-exec-wrapper resp") {
		t.Fatalf("stock redis as semi-async source: %v", err)
	}
}

func TestReplicaReads(t *testing.T) {
	p, servers := startCluster(t, 2, nil)
	master, replica := servers[0].Addr, servers[1].Addr
	md := dial(t, master)
	rd := dial(t, replica)
	md.Do("SET", "rk", "master")
	rd.Do("SET", "rk", "replica")
	sid := SlotOf([]byte("rk"))
	p.router.FillSlot(&models.Slot{ID: sid, BackendAddr: master, ReplicaGroups: [][]string{{replica}}})
	cl := dial(t, p.ProxyAddr())
	checkFor(t, 10*time.Second, func() error {
		v, err := redis.String(cl.Do("GET", "rk"))
		if err != nil || v != "replica" {
			return &testErr{"read not served by replica: " + v}
		}
		return nil
	})
	// Writes go to the master.
	cl.Do("SET", "rk", "new")
	if v, _ := redis.String(md.Do("GET", "rk")); v != "new" {
		t.Fatalf("write went elsewhere: master has %q", v)
	}
	// backend_primary_only ignores replicas.
	c := testConfig()
	c.BackendPrimaryOnly = true
	p2 := startProxy(t, c)
	p2.router.FillSlot(&models.Slot{ID: sid, BackendAddr: master, ReplicaGroups: [][]string{{replica}}})
	p2.Online()
	cl2 := dial(t, p2.ProxyAddr())
	if v, _ := redis.String(cl2.Do("GET", "rk")); v != "new" {
		t.Fatalf("primary_only read %q", v)
	}
}

type testErr struct{ s string }

func (e *testErr) Error() string { return e.s }
