package server

import (
	"fmt"
	"io"
	"net"
	"runtime"
	"slices"
	"strings"
	"testing"
	"time"
)

func TestSlotHashing(t *testing.T) {
	s := startServer(t)
	c := dial(t, s.Addr().String())
	// SPEC-data §A.1 table.
	c.expect("[579 1017 879 579 0 0 265 488 579 780 0]", "SLOTSHASHKEY", "a", "b", "c", "{a}x", "{}b", "x{}y", "x{a", "a}b{", "}{a}", "{{a}}", "")
	c.expect("[]", "SLOTSHASHKEY")
	for _, k := range []string{"a", "{a}x", "x{a", "{}b", "hello{world}"} {
		if got, want := c.do("SLOTSHASHKEY", k).Elems[0].Int, int64(SlotOf([]byte(k))); got != want {
			t.Errorf("slot of %q = %d, want %d", k, got, want)
		}
	}
}

func TestSlotCommands(t *testing.T) {
	s := startServer(t)
	c := dial(t, s.Addr().String())
	c.expect("[]", "SLOTSINFO")
	c.expect("+OK", "MSET", "a", "1", "{a}x", "2", "b", "3", "{}b", "4")
	c.expect("[[0 1] [579 2] [1017 1]]", "SLOTSINFO")
	c.expect("[[579 2] [1017 1]]", "SLOTSINFO", "1")
	c.expect("[[579 2]]", "SLOTSINFO", "579", "1")
	c.expect("[]", "SLOTSINFO", "580", "0")
	c.expect(`ERR:"ERR invalid slot number = 1024"`, "SLOTSINFO", "1024")
	c.expect(`ERR:"ERR invalid slot number = -1"`, "SLOTSINFO", "-1")
	c.expect(`ERR:"ERR value is not an integer or out of range"`, "SLOTSINFO", "x")
	c.expect(`ERR:"ERR value is out of range"`, "SLOTSINFO", "4294967296")
	c.expect(`ERR:"ERR invalid slot count = -1"`, "SLOTSINFO", "0", "-1")
	c.expect(`ERR:"ERR wrong number of arguments for 'slotsinfo' command"`, "SLOTSINFO", "0", "1", "2")
	c.expect(`ERR:"ERR invalid slot count = -1"`, "SLOTSINFO", "0", "-1", "2") // count parsed before argc check

	// SLOTSSCAN: order of validation and reply shape.
	c.expect(`ERR:"ERR invalid slot number = 2000"`, "SLOTSSCAN", "2000", "x")
	c.expect(`ERR:"ERR invalid cursor"`, "SLOTSSCAN", "579", "x")
	c.expect(`ERR:"ERR wrong number of arguments for 'slotsscan' command"`, "SLOTSSCAN", "579", "0", "count")
	c.expect(`ERR:"ERR syntax error"`, "SLOTSSCAN", "579", "0", "match", "*")
	c.expect(`ERR:"ERR syntax error"`, "SLOTSSCAN", "579", "0", "COUNT", "0")
	r := c.do("SLOTSSCAN", "579", "0", "COUNT", "100")
	if r.Elems[0].Str != "0" || sortedReply(r.Elems[1]) != `["a" "{a}x"]` {
		t.Errorf("SLOTSSCAN = %s", r)
	}
	// A slot scanned in small steps returns every key exactly once.
	for i := 0; i < 50; i++ {
		c.expect("+OK", "SET", fmt.Sprintf("{z}%d", i), "v")
	}
	slot := SlotOf([]byte("{z}"))
	seen := map[string]int{}
	cur := "0"
	for steps := 0; ; steps++ {
		r := c.do("SLOTSSCAN", fmt.Sprint(slot), cur, "COUNT", "7")
		for _, e := range r.Elems[1].Elems {
			seen[e.Str]++
		}
		cur = r.Elems[0].Str
		if cur == "0" {
			break
		}
		if steps > 100 {
			t.Fatal("SLOTSSCAN does not terminate")
		}
	}
	if len(seen) != 50 {
		t.Errorf("SLOTSSCAN saw %d keys, want 50", len(seen))
	}
	for k, n := range seen {
		if n != 1 {
			t.Errorf("key %s seen %d times", k, n)
		}
	}
	// Logically expired keys still count until reclaimed (active expire off).
	s.mu.Lock()
	s.cfg.ActiveExpire = false
	s.mu.Unlock()
	c.expect("1", "PEXPIRE", "b", "1")
	time.Sleep(5 * time.Millisecond)
	c.expect("[[1017 1]]", "SLOTSINFO", "1017", "1")

	// SLOTSDEL.
	c.expect(`ERR:"ERR invalid slot number = 5000"`, "SLOTSDEL", "579", "5000")
	c.expect("2", "EXISTS", "a", "{a}x") // nothing deleted by the failed call
	c.expect("[[579 0] [579 0] [0 0]]", "SLOTSDEL", "579", "579", "0")
	c.expect("0", "EXISTS", "a", "{a}x", "{}b")
	c.expect("+OK", "SLOTSCHECK", "any", "args")

	// The tag index follows renames, moves and deletes.
	c.expect("+OK", "SET", "{t}1", "x")
	c.expect("+OK", "SET", "{t}2", "y")
	c.expect("+OK", "RENAME", "{t}1", "{t}3")
	c.expect("1", "MOVE", "{t}2", "1")
	s.mu.Lock()
	keys, tagged := s.ks.dbs[0].tagKeys([]byte("{t}"))
	keys1, _ := s.ks.dbs[1].tagKeys([]byte("{t}zzz"))
	s.mu.Unlock()
	if !tagged || strings.Join(keys, ",") != "{t}3" || strings.Join(keys1, ",") != "{t}2" {
		t.Errorf("tag index: db0 %v db1 %v", keys, keys1)
	}
	c.expect("+OK", "SLOTSCHECK")
	c.expect("1", "DEL", "{t}3")
	s.mu.Lock()
	keys, _ = s.ks.dbs[0].tagKeys([]byte("{t}"))
	s.mu.Unlock()
	if len(keys) != 0 {
		t.Errorf("tag index after DEL: %v", keys)
	}
	// Slot commands act on the selected DB.
	c.expect("+OK", "SELECT", "1")
	c.expect(fmt.Sprintf("[[%d 1]]", SlotOf([]byte("{t}"))), "SLOTSINFO")
}

func TestProtocolErrors(t *testing.T) {
	rp := startRedis(t)
	s := startServer(t)
	cases := []string{
		"*x\r\n",
		"*1\r\n$x\r\n",
		"*1\r\n:1\r\n",
		"*2\r\n$3\r\nGET\r\n$-5\r\n",
		"SET a \"b\r\n",
		"SET a 'b'c\r\n",
		"*1\r\n$536870913\r\n",
		"PING\r\n*1\r\n$-1\r\n",
	}
	for _, in := range cases {
		got, want := rawExchange(t, s.Addr().String(), in), rawExchange(t, rp.addr, in)
		if got != want {
			t.Errorf("%q:\n ours:  %q\n redis: %q", in, got, want)
		}
	}
	big := strings.Repeat("x", 70*1024)
	for _, in := range []string{big, "*" + big, "*1\r\n$" + big} {
		got := rawExchange(t, s.Addr().String(), in)
		want := rawExchange(t, rp.addr, in)
		if got != want {
			t.Errorf("%.20q...:\n ours:  %q\n redis: %q", in, got, want)
		}
	}
	// Deliberate limit (shared with the proxy, SPEC-data §D.2): Redis 7.0
	// would accept up to INT_MAX arguments and wait for them.
	if got := rawExchange(t, s.Addr().String(), "*1048577\r\n"); got != "-ERR Protocol error: invalid multibulk length\r\n" {
		t.Errorf("mbulk limit: %q", got)
	}
	// A client that sends garbage does not affect others.
	good := dial(t, s.Addr().String())
	good.expect("+OK", "SET", "k", "v")
	_ = rawExchange(t, s.Addr().String(), "*1\r\n$x\r\n")
	good.expect(`"v"`, "GET", "k")
}

// rawExchange sends raw bytes and returns everything read until the server
// closes the connection (or a short idle timeout).
func rawExchange(t *testing.T, addr, in string) string {
	t.Helper()
	c, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	go func() { _, _ = c.Write([]byte(in)) }()
	_ = c.SetReadDeadline(time.Now().Add(2 * time.Second))
	out, _ := io.ReadAll(c)
	return string(out)
}

func TestWrongType(t *testing.T) {
	s := startServer(t)
	s.mu.Lock()
	l := newListObj()
	l.push([]byte("x"), false)
	s.ks.dbs[0].Add([]byte("l"), NewObjectEntry(l))
	s.mu.Unlock()
	c := dial(t, s.Addr().String())
	wt := `ERR:"WRONGTYPE Operation against a key holding the wrong kind of value"`
	for _, args := range [][]string{
		{"GET", "l"}, {"APPEND", "l", "x"}, {"STRLEN", "l"}, {"GETRANGE", "l", "0", "1"}, {"SETRANGE", "l", "0", "x"},
		{"INCR", "l"}, {"INCRBYFLOAT", "l", "1"}, {"GETEX", "l"}, {"GETDEL", "l"}, {"GETSET", "l", "x"}, {"SETBIT", "l", "0", "1"},
		{"GETBIT", "l", "0"}, {"BITCOUNT", "l"}, {"BITPOS", "l", "1"}, {"BITOP", "AND", "d", "l"}, {"SET", "l", "x", "GET"},
		{"BITFIELD", "l", "GET", "u8", "0"}, {"BITFIELD", "l", "SET", "u8", "0", "1"}, {"BITFIELD_RO", "l", "GET", "u8", "0"},
	} {
		c.expect(wt, args...)
	}
	c.expect("+list", "TYPE", "l")
	c.expect("[(nil)]", "MGET", "l")
	c.expect(`"quicklist"`, "OBJECT", "ENCODING", "l")
	c.expect("1", "COPY", "l", "l2")
	c.expect("+list", "TYPE", "l2")
	c.expect("0", "SETNX", "l", "x")
	c.expect("+OK", "SET", "l", "x")
	c.expect("+string", "TYPE", "l")
}

func TestActiveExpire(t *testing.T) {
	s := startServer(t, "hz", "50")
	c := dial(t, s.Addr().String())
	for i := 0; i < 500; i++ {
		c.send("SET", fmt.Sprintf("k%d", i), "v", "PX", "50")
	}
	c.send("SET", "keep", "v")
	for i := 0; i < 501; i++ {
		c.read()
	}
	// No access to the keys: the active cycle alone must reclaim them.
	checkFor(t, 5*time.Second, func() error {
		s.mu.Lock()
		n, vol := s.ks.dbs[0].nkeys, s.ks.dbs[0].nvol
		s.mu.Unlock()
		if n != 1 || vol != 0 {
			return fmt.Errorf("keys=%d volatile=%d", n, vol)
		}
		return nil
	})
	c.expect("1", "DBSIZE")
	c.expect("+OK", "SLOTSCHECK")
}

func TestAuth(t *testing.T) {
	s := startServer(t, "requirepass", "secret")
	c := dial(t, s.Addr().String())
	c.expect(`ERR:"NOAUTH Authentication required."`, "GET", "a")
	c.expect(`ERR:"WRONGPASS invalid username-password pair or user is disabled."`, "AUTH", "bad")
	c.expect(`ERR:"WRONGPASS invalid username-password pair or user is disabled."`, "AUTH", "bob", "secret")
	c.expect(`ERR:"NOAUTH HELLO must be called with the client already authenticated, otherwise the HELLO <proto> AUTH <user> <pass> option can be used to authenticate the client and select the RESP protocol version at the same time"`, "HELLO", "2")
	c.expect("+OK", "AUTH", "secret")
	c.expect("(nil)", "GET", "a")
	d := dial(t, s.Addr().String())
	r := d.do("HELLO", "2", "AUTH", "default", "secret", "SETNAME", "cli")
	if len(r.Elems) != 14 || r.Elems[5].Int != 2 {
		t.Errorf("HELLO = %s", r)
	}
	d.expect(`"cli"`, "CLIENT", "GETNAME")
	d.expect(`ERR:"NOPROTO unsupported protocol version"`, "HELLO", "3")
	// Before AUTH, big multibulk requests are refused like Redis does.
	e := dial(t, s.Addr().String())
	got := rawExchange(t, s.Addr().String(), "*20\r\n")
	if got != "-ERR Protocol error: unauthenticated multibulk length\r\n" {
		t.Errorf("unauthenticated mbulk: %q", got)
	}
	e.expect("+OK", "QUIT")
	if _, err := e.rr.ReadReply(); err == nil {
		t.Error("connection still open after QUIT")
	}
}

func TestMaxClientsAndTimeout(t *testing.T) {
	s := startServer(t, "maxclients", "2", "timeout", "1")
	a := dial(t, s.Addr().String())
	b := dial(t, s.Addr().String())
	a.expect("+PONG", "PING")
	b.expect("+PONG", "PING")
	got := rawExchange(t, s.Addr().String(), "PING\r\n")
	if got != "-ERR max number of clients reached\r\n" {
		t.Errorf("third client got %q", got)
	}
	// Idle clients are closed after timeout seconds.
	checkFor(t, 5*time.Second, func() error {
		if n := s.nclients.Load(); n != 0 {
			return fmt.Errorf("%d clients still connected", n)
		}
		return nil
	})
}

func TestMaxMemory(t *testing.T) {
	s := startServer(t)
	c := dial(t, s.Addr().String())
	val := strings.Repeat("v", 1000)
	for i := 0; i < 100; i++ {
		c.expect("+OK", "SET", fmt.Sprintf("k%d", i), val)
	}
	r := c.do("INFO", "memory")
	if !strings.Contains(r.Str, "used_memory:") || !strings.Contains(r.Str, "maxmemory_policy:noeviction") {
		t.Fatalf("INFO memory: %s", r.Str)
	}
	s.mu.Lock()
	used := s.usedMemory()
	s.mu.Unlock()
	if used < 100*1000 {
		t.Fatalf("used_memory %d too small", used)
	}
	c.expect("+OK", "CONFIG", "SET", "maxmemory", fmt.Sprint(used-20000))
	c.expect(`ERR:"OOM command not allowed when used memory > 'maxmemory'."`, "SET", "x", "y")
	c.expect(`"`+val+`"`, "GET", "k1") // reads still work
	c.expect("1", "DEL", "k1")         // so do non-denyoom writes
	c.expect("+OK", "MULTI")
	c.expect(`ERR:"OOM command not allowed when used memory > 'maxmemory'."`, "GET", "k2")
	c.expect(`ERR:"EXECABORT Transaction discarded because of previous errors."`, "EXEC")
	for _, policy := range []string{"allkeys-lru", "allkeys-random"} {
		c.expect("+OK", "CONFIG", "SET", "maxmemory-policy", policy)
		c.expect("+OK", "SET", "x"+policy, "y")
		s.mu.Lock()
		used, limit := s.usedMemory(), s.cfg.MaxMemory
		s.mu.Unlock()
		if used > limit {
			t.Errorf("%s: used %d > maxmemory %d", policy, used, limit)
		}
	}
	if !strings.Contains(c.do("INFO", "stats").Str, "evicted_keys:") {
		t.Error("no evicted_keys in INFO")
	}
	c.expect("+OK", "CONFIG", "SET", "maxmemory-policy", "volatile-ttl")
	c.expect("+OK", "FLUSHALL")
	c.expect("+OK", "CONFIG", "SET", "maxmemory", "1")
	c.expect(`ERR:"OOM command not allowed when used memory > 'maxmemory'."`, "SET", "x", "y")
}

func TestReplicaOfReadOnly(t *testing.T) {
	s := startServer(t)
	c := dial(t, s.Addr().String())
	c.expect("+OK", "REPLICAOF", "127.0.0.1", "1")
	c.expect("+OK Already connected to specified master", "REPLICAOF", "127.0.0.1", "1")
	// The link state depends on timing: connect, or connecting while dialing.
	if r := c.do("ROLE").String(); r != `["slave" "127.0.0.1" 1 "connect" -1]` && r != `["slave" "127.0.0.1" 1 "connecting" -1]` {
		t.Errorf("ROLE = %s", r)
	}
	if r := c.do("INFO", "replication"); !strings.Contains(r.Str, "role:slave") || !strings.Contains(r.Str, "master_port:1") {
		t.Errorf("INFO replication: %s", r.Str)
	}
	c.expect(`ERR:"READONLY You can't write against a read only replica."`, "SET", "a", "b")
	c.expect("(nil)", "GET", "a")
	c.expect("+OK", "SLAVEOF", "NO", "ONE")
	c.expect(`["master" 0 []]`, "ROLE")
	c.expect("+OK", "SET", "a", "b")
}

func TestInfoKeyspaceAndClients(t *testing.T) {
	s := startServer(t)
	c := dial(t, s.Addr().String())
	c.expect("+OK", "SET", "a", "1")
	c.expect("+OK", "SET", "b", "1", "EX", "100")
	c.expect("+OK", "SELECT", "3")
	c.expect("+OK", "SET", "c", "1")
	info := c.do("INFO", "keyspace").Str
	if !strings.Contains(info, "db0:keys=2,expires=1,avg_ttl=") || !strings.Contains(info, "db3:keys=1,expires=0,avg_ttl=0") {
		t.Errorf("INFO keyspace: %q", info)
	}
	all := c.do("INFO").Str
	for _, f := range []string{"redis_version:", "connected_clients:1", "used_memory:", "maxmemory:0", "role:master",
		"total_commands_processed:", "used_cpu_sys:", "# Keyspace"} {
		if !strings.Contains(all, f) {
			t.Errorf("INFO lacks %q", f)
		}
	}
	c.expect("+OK", "CLIENT", "SETNAME", "me")
	list := c.do("CLIENT", "LIST").Str
	if !strings.Contains(list, "name=me") || !strings.Contains(list, "db=3") || !strings.Contains(list, "cmd=client|list") {
		t.Errorf("CLIENT LIST: %q", list)
	}
	other := dial(t, s.Addr().String())
	other.expect("+PONG", "PING")
	c.expect("1", "CLIENT", "KILL", "TYPE", "normal")
	if _, err := other.rr.ReadReply(); err == nil {
		t.Error("killed client still connected")
	}
	c.expect("+PONG", "PING")
	c.expect("+OK", "CONFIG", "SET", "slowlog-log-slower-than", "0")
	c.expect("+PONG", "PING")
	if r := c.do("SLOWLOG", "GET", "1"); len(r.Elems) != 1 || r.Elems[0].Elems[3].Elems[0].Str != "PING" {
		t.Errorf("SLOWLOG GET = %s", r)
	}
}

func TestShutdownCommand(t *testing.T) {
	s := startServer(t)
	c := dial(t, s.Addr().String())
	c.send("SHUTDOWN", "NOSAVE")
	select {
	case <-s.Done():
	case <-time.After(5 * time.Second):
		t.Fatal("SHUTDOWN did not signal Done")
	}
}

func TestObjectFreqLFU(t *testing.T) {
	s := startServer(t)
	c := dial(t, s.Addr().String())
	c.expect("+OK", "SET", "a", "1")
	c.expect(`ERR:"ERR An LFU maxmemory policy is not selected, access frequency not tracked. Please note that when switching between policies at runtime LRU and LFU data will take some time to adjust."`, "OBJECT", "FREQ", "a")
	c.expect("+OK", "CONFIG", "SET", "maxmemory-policy", "allkeys-lfu")
	c.expect("+OK", "SET", "b", "1")
	c.expect("5", "OBJECT", "FREQ", "b")
	for i := 0; i < 2000; i++ {
		c.send("GET", "b")
	}
	for i := 0; i < 2000; i++ {
		c.read()
	}
	if n := c.do("OBJECT", "FREQ", "b").Int; n <= 5 || n > 255 {
		t.Errorf("freq after 2000 reads = %d", n)
	}
	c.expect(`ERR:"ERR An LFU maxmemory policy is selected, idle time not tracked. Please note that when switching between policies at runtime LRU and LFU data will take some time to adjust."`, "OBJECT", "IDLETIME", "b")
}

// scanAll iterates SCAN to the end and returns the sorted keys.
func scanAll(t *testing.T, c *testConn, args ...string) []string {
	t.Helper()
	cur := "0"
	seen := map[string]bool{}
	for i := 0; ; i++ {
		r := c.do(append([]string{"SCAN", cur}, args...)...)
		if r.IsError() || len(r.Elems) != 2 {
			t.Fatalf("SCAN: %s", r)
		}
		for _, e := range r.Elems[1].Elems {
			seen[e.Str] = true
		}
		cur = r.Elems[0].Str
		if cur == "0" {
			break
		}
		if i > 100000 {
			t.Fatal("SCAN does not terminate")
		}
	}
	out := make([]string, 0, len(seen))
	for k := range seen {
		out = append(out, k)
	}
	slices.Sort(out)
	return out
}

func TestScanDiff(t *testing.T) {
	rp := startRedis(t)
	s := startServer(t)
	a, b := dial(t, s.Addr().String()), dial(t, rp.addr)
	for _, c := range []*testConn{a, b} {
		c.expect("+OK", "FLUSHALL")
		for i := 0; i < 3000; i++ {
			c.send("SET", fmt.Sprintf("key:%d", i), "v")
		}
		for i := 0; i < 3000; i++ {
			c.read()
		}
	}
	a.expect("1", "RPUSH", "key:list", "x")
	b.expect("1", "RPUSH", "key:list", "x")
	for _, args := range [][]string{{}, {"COUNT", "1"}, {"COUNT", "1000"}, {"MATCH", "key:1*"}, {"MATCH", "*9", "COUNT", "50"},
		{"TYPE", "list"}, {"TYPE", "string", "MATCH", "key:2??"}} {
		ga, gb := scanAll(t, a, args...), scanAll(t, b, args...)
		if !slices.Equal(ga, gb) {
			t.Errorf("SCAN %q: ours %d keys, redis %d keys", args, len(ga), len(gb))
		}
	}
	// Keys added and removed during a scan: every key present throughout is
	// returned.
	cur, seen := "0", map[string]bool{}
	for i := 0; ; i++ {
		r := a.do("SCAN", cur, "COUNT", "20")
		for _, e := range r.Elems[1].Elems {
			seen[e.Str] = true
		}
		a.expect("+OK", "SET", fmt.Sprintf("new:%d", i), "v")
		a.do("DEL", fmt.Sprintf("key:%d", 2000+i))
		if cur = r.Elems[0].Str; cur == "0" {
			break
		}
	}
	for i := 0; i < 1000; i++ {
		if !seen[fmt.Sprintf("key:%d", i)] {
			t.Fatalf("key:%d missed by SCAN under concurrent changes", i)
		}
	}
}

func TestInlineAndPipeline(t *testing.T) {
	rp := startRedis(t)
	s := startServer(t)
	for _, in := range []string{
		"SET a \"x y\"\r\nGET a\r\nget 'a'\nQUIT\r\n",
		"*3\r\n$3\r\nSET\r\n$1\r\nb\r\n$1\r\n1\r\nINCR b\r\n*2\r\n$4\r\nINCR\r\n$1\r\nb\r\n\r\n*0\r\nQUIT\r\n",
		"MULTI\r\nINCR c\r\nINCR c\r\nEXEC\r\nQUIT\r\n",
	} {
		if got, want := rawExchange(t, s.Addr().String(), in), rawExchange(t, rp.addr, in); got != want {
			t.Errorf("%q:\n ours:  %q\n redis: %q", in, got, want)
		}
	}
}

func TestCommandIntrospection(t *testing.T) {
	s := startServer(t)
	c := dial(t, s.Addr().String())
	n := c.do("COMMAND", "COUNT").Int
	if n < 80 {
		t.Errorf("COMMAND COUNT = %d", n)
	}
	if r := c.do("COMMAND"); int64(len(r.Elems)) != n {
		t.Errorf("COMMAND returned %d entries, COUNT %d", len(r.Elems), n)
	}
	r := c.do("COMMAND", "INFO", "slotsdel", "mset")
	if got := r.String(); !strings.HasPrefix(got, `[["slotsdel" -2 [+write @`) && !strings.HasPrefix(got, `[["slotsdel" -2 [+write] 1 -1 1`) {
		t.Errorf("COMMAND INFO slotsdel = %s", got)
	}
	if r.Elems[1].Elems[3].Int != 1 || r.Elems[1].Elems[4].Int != -1 || r.Elems[1].Elems[5].Int != 2 {
		t.Errorf("mset key spec = %s", r.Elems[1])
	}
	d := c.do("COMMAND", "DOCS", "get")
	if len(d.Elems) != 2 || d.Elems[0].Str != "get" {
		t.Errorf("COMMAND DOCS get = %s", d)
	}
	c.expect("0", "CLIENT", "KILL", "ID", "123456")
	c.expect(`ERR:"ERR unknown subcommand 'FOO'. Try COMMAND HELP."`, "COMMAND", "FOO")
}

func TestEvictVolatile(t *testing.T) {
	for _, policy := range []string{"volatile-lru", "volatile-ttl", "volatile-random", "volatile-lfu", "allkeys-lfu"} {
		t.Run(policy, func(t *testing.T) {
			s := startServer(t)
			c := dial(t, s.Addr().String())
			val := strings.Repeat("v", 1000)
			for i := 0; i < 50; i++ {
				c.expect("+OK", "SET", fmt.Sprintf("keep%d", i), val)
				c.expect("+OK", "SET", fmt.Sprintf("vol%d", i), val, "EX", fmt.Sprint(1000+i))
			}
			s.mu.Lock()
			used := s.usedMemory()
			s.mu.Unlock()
			c.expect("+OK", "CONFIG", "SET", "maxmemory-policy", policy)
			c.expect("+OK", "CONFIG", "SET", "maxmemory", fmt.Sprint(used-10000))
			c.expect("+OK", "SET", "new", "x")
			s.mu.Lock()
			used, limit := s.usedMemory(), s.cfg.MaxMemory
			nkeys, nvol := s.ks.dbs[0].nkeys, s.ks.dbs[0].nvol
			evicted := s.st.evictedKeys
			s.mu.Unlock()
			// Eviction runs before the command, which may then add its own
			// (small) entry, as in Redis.
			if used > limit+200 || evicted == 0 {
				t.Fatalf("used %d limit %d evicted %d", used, limit, evicted)
			}
			if strings.HasPrefix(policy, "volatile") {
				if nkeys-nvol != 51 {
					t.Errorf("non-volatile keys evicted: keys %d volatile %d", nkeys, nvol)
				}
				if policy == "volatile-ttl" {
					// Keys closer to expiry are preferred (sampled, so
					// compare halves rather than single keys).
					early, late := []string{"EXISTS"}, []string{"EXISTS"}
					for i := 0; i < 25; i++ {
						early = append(early, fmt.Sprintf("vol%d", i))
						late = append(late, fmt.Sprintf("vol%d", 25+i))
					}
					if e, l := c.do(early...).Int, c.do(late...).Int; e > l {
						t.Errorf("volatile-ttl kept %d early-expiring keys and %d late ones", e, l)
					}
				}
			}
		})
	}
}

func TestCloseStopsEverything(t *testing.T) {
	before := runtime.NumGoroutine()
	cfg := NewConfig()
	cfg.Port, cfg.Bind, cfg.Dir = 0, []string{"127.0.0.1"}, t.TempDir()
	s := New(cfg, nil)
	if err := s.Start(); err != nil {
		t.Fatal(err)
	}
	var conns []*testConn
	for i := 0; i < 5; i++ {
		c := dial(t, s.Addr().String())
		c.expect("+PONG", "PING")
		conns = append(conns, c)
	}
	conns[0].send("MULTI") // a client mid-transaction
	conns[0].read()
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	s.Close() // idempotent
	for _, c := range conns {
		if _, err := c.rr.ReadReply(); err == nil {
			t.Error("client connection still open after Close")
		}
	}
	checkFor(t, 5*time.Second, func() error {
		if n := runtime.NumGoroutine(); n > before {
			return fmt.Errorf("%d goroutines, %d before", n, before)
		}
		return nil
	})
	if err := s.Start(); err == nil {
		t.Error("Start after Close succeeded")
	}
}
