package proxy

import (
	"bufio"
	"crypto/sha1"
	"fmt"
	"io"
	"net"
	"os/exec"
	"strings"
	"testing"
	"time"

	"github.com/gomodule/redigo/redis"

	"github.com/codisgo/codis/pkg/testenv"
)

func TestBasicCommands(t *testing.T) {
	p, servers := startCluster(t, 2, nil)
	c := dial(t, p.ProxyAddr())

	if v, err := redis.String(c.Do("SET", "a", "1")); err != nil || v != "OK" {
		t.Fatalf("SET: %q %v", v, err)
	}
	if v, err := redis.String(c.Do("GET", "a")); err != nil || v != "1" {
		t.Fatalf("GET: %q %v", v, err)
	}
	// key "a" is slot 579 → second server.
	direct := dial(t, servers[1].Addr)
	if v, err := redis.String(direct.Do("GET", "a")); err != nil || v != "1" {
		t.Fatalf("direct GET on owner: %q %v", v, err)
	}
	if v, err := redis.String(c.Do("PING")); err != nil || v != "PONG" {
		t.Fatalf("PING: %q %v", v, err)
	}
	if v, err := redis.String(c.Do("PING", "hello")); err != nil || v != "hello" {
		t.Fatalf("PING hello: %q %v", v, err)
	}
	if v, err := redis.String(c.Do("ECHO", "x y")); err != nil || v != "x y" {
		t.Fatalf("ECHO: %q %v", v, err)
	}
	info, err := redis.String(c.Do("INFO"))
	if err != nil || !strings.Contains(info, "redis_mode:proxy") {
		t.Fatalf("INFO: %q %v", info, err)
	}
}

func TestMultiKey(t *testing.T) {
	p, _ := startCluster(t, 3, nil)
	c := dial(t, p.ProxyAddr())
	var args []any
	var keys []any
	for i := 0; i < 50; i++ {
		k := fmt.Sprintf("key-%d", i)
		args = append(args, k, fmt.Sprintf("v%d", i))
		keys = append(keys, k)
	}
	if v, err := redis.String(c.Do("MSET", args...)); err != nil || v != "OK" {
		t.Fatalf("MSET: %q %v", v, err)
	}
	vals, err := redis.Strings(c.Do("MGET", append(keys, "missing")...))
	if err != nil || len(vals) != 51 {
		t.Fatalf("MGET: %v %v", vals, err)
	}
	for i := 0; i < 50; i++ {
		if vals[i] != fmt.Sprintf("v%d", i) {
			t.Fatalf("MGET[%d] = %q", i, vals[i])
		}
	}
	if n, err := redis.Int(c.Do("EXISTS", append(keys[:10], "missing", keys[0])...)); err != nil || n != 11 {
		t.Fatalf("EXISTS: %d %v", n, err)
	}
	if n, err := redis.Int(c.Do("DEL", append(keys[:10], "missing")...)); err != nil || n != 10 {
		t.Fatalf("DEL: %d %v", n, err)
	}
	if n, err := redis.Int(c.Do("EXISTS", keys[:10]...)); err != nil || n != 0 {
		t.Fatalf("EXISTS after DEL: %d %v", n, err)
	}
	// TOUCH and UNLINK go whole to the first key's slot.
	if n, err := redis.Int(c.Do("TOUCH", "{t}1", "{t}2")); err != nil || n != 0 {
		t.Fatalf("TOUCH: %d %v", n, err)
	}
	c.Do("SET", "{t}1", "x")
	if n, err := redis.Int(c.Do("UNLINK", "{t}1", "{t}2")); err != nil || n != 1 {
		t.Fatalf("UNLINK: %d %v", n, err)
	}
	// wrong arity
	for _, cmd := range [][]any{{"MGET"}, {"MSET", "a"}, {"MSET", "a", "b", "c"}, {"DEL"}, {"EXISTS"}} {
		_, err := c.Do(cmd[0].(string), cmd[1:]...)
		want := fmt.Sprintf("ERR wrong number of arguments for '%s' command", cmd[0])
		if err == nil || err.Error() != want {
			t.Errorf("%v: err = %v, want %q", cmd, err, want)
		}
	}
	// A sub-reply of the wrong type gives the merge error.
	c.Do("LPUSH", "list", "x")
	if _, err := redis.Values(c.Do("MGET", "list", "key-20")); err != nil {
		t.Fatalf("MGET on list: %v", err)
	}
}

func TestClassification(t *testing.T) {
	p, _ := startCluster(t, 1, nil)
	c := dial(t, p.ProxyAddr())
	for _, tc := range []struct {
		args []any
		want string
	}{
		{[]any{"KEYS", "*"}, "ERR handle request, command 'KEYS' is not allowed"},
		{[]any{"keys", "*"}, "ERR handle request, command 'KEYS' is not allowed"},
		{[]any{"MULTI"}, "ERR handle request, command 'MULTI' is not allowed"},
		{[]any{"FlushAll"}, "ERR handle request, command 'FLUSHALL' is not allowed"},
		{[]any{strings.Repeat("x", 65)}, "ERR handle request, bad command length, too short or too long"},
		{[]any{"SELECT"}, "ERR wrong number of arguments for 'SELECT' command"},
		{[]any{"SELECT", "x"}, "ERR invalid DB index"},
		{[]any{"SELECT", "4"}, "ERR invalid DB index, only accept DB [0,4)"},
		{[]any{"AUTH", "x"}, "ERR Client sent AUTH, but no password is set"},
		{[]any{"AUTH"}, "ERR wrong number of arguments for 'AUTH' command"},
		{[]any{"HELLO", "3"}, "NOPROTO unsupported protocol version"},
		{[]any{"SLOTSSCAN", "x", "0"}, `ERR parse slotnum 'x' failed, strconv.Atoi: parsing "x": invalid syntax`},
		{[]any{"SLOTSSCAN", "1024", "0"}, "ERR parse slotnum '1024' failed, out of range"},
		{[]any{"SLOTSINFO", "1.2.3.4:5"}, "ERR backend server '1.2.3.4:5' not found"},
		{[]any{"SLOTSMAPPING", "1", "2"}, "ERR wrong number of arguments for 'SLOTSMAPPING' command"},
	} {
		_, err := c.Do(tc.args[0].(string), tc.args[1:]...)
		if err == nil || err.Error() != tc.want {
			t.Errorf("%v: err = %v, want %q", tc.args, err, tc.want)
		}
	}
	// An empty command name (redigo cannot send one).
	if got := rawExchange(t, p.ProxyAddr(), "*1\r\n$0\r\n\r\n"); got != "-ERR handle request, bad command length, too short or too long\r\n" {
		t.Errorf("empty name: %q", got)
	}
	// Names with non-letters skip the table: forwarded to the backend.
	if _, err := c.Do("KEYS2"); err == nil || !strings.Contains(err.Error(), "unknown command") {
		t.Errorf("KEYS2: %v", err)
	}
	// Dash-named commands of the not-allowed list do not slip through.
	for _, name := range []string{"SLOTSMGRT-ASYNC-STATUS", "slotsmgrt-exec-wrapper", "SLOTSRESTORE-ASYNC-SELECT"} {
		want := "ERR handle request, command '" + strings.ToUpper(name) + "' is not allowed"
		if _, err := c.Do(name, "x"); err == nil || err.Error() != want {
			t.Errorf("%s: %v", name, err)
		}
	}
	if _, err := c.Do("MY-CMD"); err == nil || !strings.Contains(err.Error(), "unknown command") {
		t.Errorf("unknown dash command: %v", err)
	}
	// Unknown letter-only commands are forwarded (MayWrite).
	if v, err := redis.String(c.Do("GETEX", "nokey")); err != redis.ErrNil {
		t.Errorf("GETEX: %q %v", v, err)
	}
	// HELLO 2 answers a RESP2 map-as-array.
	vals, err := redis.Values(c.Do("HELLO", "2"))
	if err != nil || len(vals) != 14 {
		t.Errorf("HELLO 2: %v %v", vals, err)
	}
	// SLOTSMAPPING shows the routing.
	vals, err = redis.Values(c.Do("SLOTSMAPPING", "7"))
	if err != nil || len(vals) != 4 || vals[0] != "7" || vals[3] != nil {
		t.Errorf("SLOTSMAPPING 7: %v %v", vals, err)
	}
	all, err := redis.Values(c.Do("SLOTSMAPPING"))
	if err != nil || len(all) != MaxSlotNum {
		t.Errorf("SLOTSMAPPING: %d %v", len(all), err)
	}
}

func TestSelectDB(t *testing.T) {
	p, servers := startCluster(t, 1, nil)
	c := dial(t, p.ProxyAddr())
	if _, err := c.Do("SELECT", "2"); err != nil {
		t.Fatal(err)
	}
	c.Do("SET", "dbkey", "two")
	c.Do("SELECT", "0")
	if _, err := redis.String(c.Do("GET", "dbkey")); err != redis.ErrNil {
		t.Fatalf("db0 GET: %v", err)
	}
	d := dial(t, servers[0].Addr)
	d.Do("SELECT", "2")
	if v, _ := redis.String(d.Do("GET", "dbkey")); v != "two" {
		t.Fatalf("backend db2 = %q", v)
	}
}

func TestSessionAuth(t *testing.T) {
	c := testConfig()
	c.SessionAuth = "secret"
	p, _ := startCluster(t, 1, c)
	cl := dial(t, p.ProxyAddr())
	if _, err := cl.Do("GET", "a"); err == nil || err.Error() != "NOAUTH Authentication required" {
		t.Fatalf("GET unauthenticated: %v", err)
	}
	// Disallowed commands are refused before the auth check.
	if _, err := cl.Do("KEYS", "*"); err == nil || !strings.Contains(err.Error(), "not allowed") {
		t.Fatalf("KEYS: %v", err)
	}
	if _, err := cl.Do("AUTH", "wrong"); err == nil || err.Error() != "ERR invalid password" {
		t.Fatalf("AUTH wrong: %v", err)
	}
	if v, err := redis.String(cl.Do("AUTH", "secret")); err != nil || v != "OK" {
		t.Fatalf("AUTH: %v", err)
	}
	if _, err := cl.Do("SET", "a", "1"); err != nil {
		t.Fatal(err)
	}
	cl.Do("AUTH", "wrong")
	if _, err := cl.Do("GET", "a"); err == nil || err.Error() != "NOAUTH Authentication required" {
		t.Fatalf("after failed AUTH: %v", err)
	}
}

func TestProductAuth(t *testing.T) {
	s := startRedisAuth(t, "pa55")
	c := testConfig()
	c.ProductAuth = "pa55"
	p := startProxy(t, c)
	p.FillSlots(spread(s.Addr))
	p.Online()
	cl := dial(t, p.ProxyAddr())
	if _, err := cl.Do("SET", "k", "v"); err != nil {
		t.Fatal(err)
	}
	cl.Do("SELECT", "3")
	if _, err := cl.Do("SET", "k", "v3"); err != nil {
		t.Fatal(err)
	}
}

func TestPipeline10000(t *testing.T) {
	p, _ := startCluster(t, 2, nil)
	c := dial(t, p.ProxyAddr())
	const n = 10000
	for i := 0; i < n; i++ {
		if i%2 == 0 {
			c.Send("SET", fmt.Sprintf("p%d", i), i)
		} else {
			c.Send("GET", fmt.Sprintf("p%d", i-1))
		}
	}
	if err := c.Flush(); err != nil {
		t.Fatal(err)
	}
	for i := 0; i < n; i++ {
		v, err := c.Receive()
		if err != nil {
			t.Fatalf("reply %d: %v", i, err)
		}
		if i%2 == 0 {
			if s, _ := redis.String(v, nil); s != "OK" {
				t.Fatalf("reply %d = %v", i, v)
			}
		} else if s, _ := redis.String(v, nil); s != fmt.Sprint(i-1) {
			t.Fatalf("reply %d = %q, want %d", i, s, i-1)
		}
	}
}

func TestPipelineTooDeep(t *testing.T) {
	c := testConfig()
	c.SessionMaxPipeline = 3
	p, _ := startCluster(t, 1, c)
	cl := dial(t, p.ProxyAddr())
	// Pipelines within the limit work.
	for i := 0; i < 3; i++ {
		cl.Send("PING")
	}
	cl.Flush()
	for i := 0; i < 3; i++ {
		if _, err := cl.Receive(); err != nil {
			t.Fatal(err)
		}
	}
	// A stalled backend keeps requests unanswered: the 5th overflows.
	d := dial(t, backendOf(t, p))
	d.Send("DEBUG", "SLEEP", "1")
	d.Flush()
	for i := 0; i < 10; i++ {
		cl.Send("GET", "k")
	}
	cl.Flush()
	var last error
	for i := 0; i < 10; i++ {
		_, err := cl.Receive()
		if err != nil {
			last = err
			break
		}
	}
	if last == nil || !strings.Contains(last.Error(), "session_max_pipeline = 3") {
		t.Fatalf("overflow: last error %v", last)
	}
	if _, err := cl.Receive(); err == nil {
		t.Fatal("connection still open after overflow")
	}
}

func backendOf(t *testing.T, p *Proxy) string {
	m := p.router.slotModel(0)
	return m.BackendAddr
}

func startRedisAuth(t *testing.T, pw string) *testenv.Server {
	return testenv.StartRedis(t, "--requirepass", pw)
}

// rawExchange sends req on a new connection and returns the first line.
func rawExchange(t *testing.T, addr, req string) string {
	t.Helper()
	conn, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	conn.SetDeadline(time.Now().Add(10 * time.Second))
	if _, err := conn.Write([]byte(req)); err != nil {
		t.Fatal(err)
	}
	line, _ := bufio.NewReader(conn).ReadString('\n')
	return line
}

// TestRedisCLI drives the proxy with /usr/bin/redis-cli, including its
// pipe mode.
func TestRedisCLI(t *testing.T) {
	testenv.Require(t, "redis-cli")
	p, _ := startCluster(t, 2, nil)
	_, port, _ := net.SplitHostPort(p.ProxyAddr())
	cli := func(stdin string, args ...string) string {
		cmd := exec.Command("redis-cli", append([]string{"-h", "127.0.0.1", "-p", port}, args...)...)
		cmd.Stdin = strings.NewReader(stdin)
		out, err := cmd.CombinedOutput()
		if err != nil {
			t.Fatalf("redis-cli %v: %v\n%s", args, err, out)
		}
		return strings.TrimSpace(string(out))
	}
	if out := cli("", "SET", "cli-key", "hello"); out != "OK" {
		t.Fatalf("SET: %q", out)
	}
	if out := cli("", "GET", "cli-key"); out != "hello" {
		t.Fatalf("GET: %q", out)
	}
	if out := cli("", "KEYS", "*"); out != "ERR handle request, command 'KEYS' is not allowed" {
		t.Fatalf("KEYS: %q", out)
	}
	var in strings.Builder
	for i := 0; i < 1000; i++ {
		fmt.Fprintf(&in, "SET pipe-%d %d\n", i, i)
	}
	if out := cli(in.String(), "--pipe"); !strings.Contains(out, "errors: 0, replies: 1000") {
		t.Fatalf("--pipe: %q", out)
	}
	if out := cli("", "MGET", "pipe-1", "pipe-999", "nokey"); out != "1\n999\n" && !strings.HasPrefix(out, "1\n999") {
		t.Fatalf("MGET: %q", out)
	}
}

// TestSessionClose covers QUIT, session_break_on_failure and the idle
// timeout.
func TestSessionClose(t *testing.T) {
	c := testConfig()
	c.SessionBreakOnFailure = true
	c.SessionRecvTimeout.UnmarshalText([]byte("1s"))
	p, _ := startCluster(t, 1, c)

	read := func(conn net.Conn) (string, error) {
		conn.SetDeadline(time.Now().Add(10 * time.Second))
		return bufio.NewReader(conn).ReadString('\n')
	}
	open := func() net.Conn {
		conn, err := net.Dial("tcp", p.ProxyAddr())
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { conn.Close() })
		return conn
	}

	// QUIT answers +OK, then the replies queued before it, then closes.
	conn := open()
	conn.Write([]byte("SET q 1\r\nQUIT\r\nGET q\r\n"))
	conn.SetDeadline(time.Now().Add(10 * time.Second))
	all, _ := io.ReadAll(conn)
	if string(all) != "+OK\r\n+OK\r\n" {
		t.Fatalf("QUIT: %q", all)
	}

	// break_on_failure: a request error is answered, then the session ends.
	conn = open()
	conn.Write([]byte("KEYS *\r\nPING\r\n"))
	conn.SetDeadline(time.Now().Add(10 * time.Second))
	all, _ = io.ReadAll(conn)
	if string(all) != "-ERR handle request, command 'KEYS' is not allowed\r\n" {
		t.Fatalf("break on failure: %q", all)
	}

	// Idle clients are disconnected silently.
	conn = open()
	start := time.Now()
	if line, err := read(conn); err == nil || line != "" {
		t.Fatalf("idle session: %q %v", line, err)
	}
	if el := time.Since(start); el > 5*time.Second {
		t.Fatalf("idle session closed after %v", el)
	}
}

// TestKeyPositions: EVAL/EVALSHA and ZINTERSTORE/ZUNIONSTORE are routed by
// argument 3 (the first key / first source key), others by argument 1.
func TestKeyPositions(t *testing.T) {
	p, servers := startCluster(t, 2, nil)
	// Pick keys owned by different servers.
	owner := func(k string) int { return SlotOf([]byte(k)) * 2 / MaxSlotNum }
	var k0, k1 string
	for i := 0; k0 == "" || k1 == ""; i++ {
		k := fmt.Sprintf("pos-%d", i)
		if owner(k) == 0 && k0 == "" {
			k0 = k
		} else if owner(k) == 1 && k1 == "" {
			k1 = k
		}
	}
	cl := dial(t, p.ProxyAddr())
	cl.Do("SET", k1, "v1")
	// EVAL is routed by its first key, whatever argument 1 (the script) hashes to.
	v, err := redis.String(cl.Do("EVAL", "return redis.call('GET', KEYS[1])", 1, k1))
	if err != nil || v != "v1" {
		t.Fatalf("EVAL: %q %v", v, err)
	}
	// So are the read-only forms of Redis 7 (not in the original table).
	script := "return redis.call('GET', KEYS[1])"
	for _, args := range [][]any{{"EVAL_RO", script, 1, k1}, {"EVALSHA_RO", fmt.Sprintf("%x", sha1.Sum([]byte(script))), 1, k1}} {
		if v, err := redis.String(cl.Do(args[0].(string), args[1:]...)); err != nil || v != "v1" {
			t.Fatalf("%s: %q %v", args[0], v, err)
		}
	}
	sha, err := redis.String(cl.Do("SCRIPT", "LOAD", "x"))
	if err == nil {
		t.Fatalf("SCRIPT allowed: %q", sha)
	}
	// ZUNIONSTORE dest 1 src: routed by src (argument 3), so dest is
	// created on src's server even though dest hashes elsewhere.
	zk := "{" + k1 + "}z" // same slot as k1
	cl.Do("ZADD", zk, 1, "m")
	dest := k0
	if n, err := redis.Int(cl.Do("ZUNIONSTORE", dest, 1, zk)); err != nil || n != 1 {
		t.Fatalf("ZUNIONSTORE: %d %v", n, err)
	}
	d1 := dial(t, servers[1].Addr)
	if n, _ := redis.Int(d1.Do("EXISTS", dest)); n != 1 {
		t.Fatal("ZUNIONSTORE destination not on the source key's server")
	}
	// EVAL with no key argument hashes the empty key (slot 0, server 0).
	if v, err := redis.Int(cl.Do("EVAL", "return 7", 0)); err != nil || v != 7 {
		t.Fatalf("EVAL without keys: %d %v", v, err)
	}
}

// TestPipelineSmallSendBuffer pipelines requests much larger in total than
// backend_send_bufsize, some larger than it on their own: batches are then
// written whenever the next request would not fit, and replies must still
// come back in order with the right values.
func TestPipelineSmallSendBuffer(t *testing.T) {
	c := testConfig()
	c.BackendSendBufsize = 4096
	p, _ := startCluster(t, 2, c)
	cl := dial(t, p.ProxyAddr())
	val := func(i int) string {
		if i%97 == 0 {
			return strings.Repeat(string(rune('a'+i%26)), 20000+i) // over the buffer alone
		}
		return fmt.Sprintf("%d-%s", i, strings.Repeat("v", 100+i%300))
	}
	const n = 3000
	for i := 0; i < n; i++ {
		if i%3 == 0 {
			cl.Send("MSET", fmt.Sprintf("sb%d", i), val(i), fmt.Sprintf("{sb%d}x", i), val(i+1), fmt.Sprintf("sb%d.y", i), val(i+2))
		} else {
			cl.Send("SET", fmt.Sprintf("sb%d", i), val(i))
		}
	}
	for i := 0; i < n; i++ {
		cl.Send("GET", fmt.Sprintf("sb%d", i))
	}
	if err := cl.Flush(); err != nil {
		t.Fatal(err)
	}
	for i := 0; i < n; i++ {
		if s, err := redis.String(cl.Receive()); err != nil || s != "OK" {
			t.Fatalf("write %d: %q, %v", i, s, err)
		}
	}
	for i := 0; i < n; i++ {
		if s, err := redis.String(cl.Receive()); err != nil || s != val(i) {
			t.Fatalf("GET sb%d: %d bytes, %v; want %d bytes", i, len(s), err, len(val(i)))
		}
	}
	if s, err := redis.String(cl.Do("GET", "sb3.y")); err != nil || s != val(5) {
		t.Fatalf("GET sb3.y: %d bytes, %v", len(s), err)
	}
}
