package rdb

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"math"
	"math/rand"
	"net"
	"os"
	"os/exec"
	"slices"
	"sort"
	"strconv"
	"strings"
	"testing"
	"time"
)

// ---- a tiny RESP client ----

type respErr string

func (e respErr) Error() string { return string(e) }

type respConn struct {
	c net.Conn
	r *bufio.Reader
}

func dialRESP(addr string) (*respConn, error) {
	c, err := net.DialTimeout("tcp", addr, 2*time.Second)
	if err != nil {
		return nil, err
	}
	return &respConn{c: c, r: bufio.NewReader(c)}, nil
}

func (c *respConn) do(args ...any) (any, error) {
	var b []byte
	b = fmt.Appendf(b, "*%d\r\n", len(args))
	for _, a := range args {
		var s []byte
		switch v := a.(type) {
		case string:
			s = []byte(v)
		case []byte:
			s = v
		case int:
			s = strconv.AppendInt(nil, int64(v), 10)
		case int64:
			s = strconv.AppendInt(nil, v, 10)
		default:
			panic(fmt.Sprintf("bad arg %T", a))
		}
		b = fmt.Appendf(b, "$%d\r\n", len(s))
		b = append(append(b, s...), "\r\n"...)
	}
	c.c.SetDeadline(time.Now().Add(30 * time.Second))
	if _, err := c.c.Write(b); err != nil {
		return nil, err
	}
	return c.read()
}

func (c *respConn) read() (any, error) {
	line, err := c.r.ReadString('\n')
	if err != nil {
		return nil, err
	}
	line = strings.TrimSuffix(line, "\r\n")
	if line == "" {
		return nil, errors.New("empty RESP line")
	}
	switch line[0] {
	case '+':
		return line[1:], nil
	case '-':
		return nil, respErr(line[1:])
	case ':':
		return strconv.ParseInt(line[1:], 10, 64)
	case '$':
		n, _ := strconv.Atoi(line[1:])
		if n < 0 {
			return nil, nil
		}
		buf := make([]byte, n+2)
		if _, err := ioReadFull(c.r, buf); err != nil {
			return nil, err
		}
		return buf[:n], nil
	case '*':
		n, _ := strconv.Atoi(line[1:])
		if n < 0 {
			return nil, nil
		}
		out := make([]any, n)
		for i := range out {
			if out[i], err = c.read(); err != nil {
				var re respErr
				if !errors.As(err, &re) {
					return nil, err
				}
				out[i] = re
			}
		}
		return out, nil
	}
	return nil, fmt.Errorf("bad RESP line %q", line)
}

func ioReadFull(r *bufio.Reader, b []byte) (int, error) {
	n := 0
	for n < len(b) {
		m, err := r.Read(b[n:])
		n += m
		if err != nil {
			return n, err
		}
	}
	return n, nil
}

func mustDo(t testing.TB, c *respConn, args ...any) any {
	t.Helper()
	v, err := c.do(args...)
	if err != nil {
		t.Fatalf("%v: %v", args[0], err)
	}
	return v
}

// ---- redis-server process ----

type redisProc struct {
	addr string
	dir  string
	cmd  *exec.Cmd
}

func redisBinary(t testing.TB, name string) string {
	t.Helper()
	p := "/usr/bin/" + name
	if _, err := os.Stat(p); err != nil {
		if os.Getenv("CI") != "" {
			t.Fatalf("%s not found and CI is set", p)
		}
		t.Skipf("%s not installed", p)
	}
	return p
}

func freePort(t testing.TB) int {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port
}

// startRedis runs redis-server in dir (a new temp dir if empty).
func startRedis(t testing.TB, dir string, extra ...string) (*redisProc, *respConn) {
	t.Helper()
	bin := redisBinary(t, "redis-server")
	if dir == "" {
		dir = t.TempDir()
	}
	port := freePort(t)
	args := append([]string{"--port", strconv.Itoa(port), "--bind", "127.0.0.1",
		"--save", "", "--appendonly", "no", "--dir", dir, "--daemonize", "no",
		"--logfile", dir + "/redis.log"}, extra...)
	cmd := exec.Command(bin, args...)
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	exited := make(chan struct{})
	go func() { cmd.Wait(); close(exited) }()
	t.Cleanup(func() {
		cmd.Process.Kill()
		<-exited
	})
	p := &redisProc{addr: fmt.Sprintf("127.0.0.1:%d", port), dir: dir, cmd: cmd}
	deadline := time.Now().Add(15 * time.Second)
	for {
		select {
		case <-exited:
			log, _ := os.ReadFile(dir + "/redis.log")
			t.Fatalf("redis-server exited early:\n%s", log)
		default:
		}
		if c, err := dialRESP(p.addr); err == nil {
			v, err := c.do("PING")
			if err == nil && v == "PONG" {
				t.Cleanup(func() { c.c.Close() })
				return p, c
			}
			c.c.Close()
		}
		if time.Now().After(deadline) {
			t.Fatal("redis-server did not become ready")
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// ---- fixtures ----

func canon(o Object) Object {
	c := o
	switch o.Kind {
	case KindSet:
		c.Set = slices.Clone(o.Set)
		sort.Slice(c.Set, func(i, j int) bool { return bytes.Compare(c.Set[i], c.Set[j]) < 0 })
	case KindHash:
		c.Hash = slices.Clone(o.Hash)
		sort.Slice(c.Hash, func(i, j int) bool { return bytes.Compare(c.Hash[i].Name, c.Hash[j].Name) < 0 })
	case KindZSet:
		c.ZSet = slices.Clone(o.ZSet)
		sort.Slice(c.ZSet, func(i, j int) bool { return bytes.Compare(c.ZSet[i].Member, c.ZSet[j].Member) < 0 })
	}
	return c
}

func objEqual(a, b Object) bool {
	a, b = canon(a), canon(b)
	if a.Kind != b.Kind {
		return false
	}
	eq := func(x, y [][]byte) bool {
		return slices.EqualFunc(x, y, bytes.Equal)
	}
	switch a.Kind {
	case KindString:
		return bytes.Equal(a.Str, b.Str)
	case KindList:
		return eq(a.List, b.List)
	case KindSet:
		return eq(a.Set, b.Set)
	case KindHash:
		return slices.EqualFunc(a.Hash, b.Hash, func(x, y Field) bool {
			return bytes.Equal(x.Name, y.Name) && bytes.Equal(x.Value, y.Value)
		})
	case KindZSet:
		return slices.EqualFunc(a.ZSet, b.ZSet, func(x, y ZMember) bool {
			return bytes.Equal(x.Member, y.Member) && x.Score == y.Score
		})
	}
	return false
}

func describe(o Object) string {
	o = canon(o)
	var sb strings.Builder
	fmt.Fprintf(&sb, "%v[%d]", o.Kind, o.Len())
	n := 0
	add := func(s string) {
		if n < 6 {
			sb.WriteString(" " + s)
		}
		n++
	}
	switch o.Kind {
	case KindString:
		s := string(o.Str)
		if len(s) > 40 {
			s = s[:40] + "..."
		}
		add(strconv.Quote(s))
	case KindList:
		for _, e := range o.List {
			add(strconv.Quote(string(e)))
		}
	case KindSet:
		for _, e := range o.Set {
			add(strconv.Quote(string(e)))
		}
	case KindHash:
		for _, e := range o.Hash {
			add(fmt.Sprintf("%q=%q", e.Name, e.Value))
		}
	case KindZSet:
		for _, e := range o.ZSet {
			add(fmt.Sprintf("%q:%v", e.Member, e.Score))
		}
	}
	return sb.String()
}

type fixture struct {
	name string
	obj  Object
}

func strs(n int, f func(i int) string) [][]byte {
	out := make([][]byte, n)
	for i := range out {
		out[i] = []byte(f(i))
	}
	return out
}

func randText(r *rand.Rand, n int) string {
	b := make([]byte, n)
	for i := range b {
		b[i] = byte(r.Intn(256))
	}
	return string(b)
}

// fixtures covers every type at sizes that make Redis 7 pick each of its
// encodings (listpack/intset and hashtable/skiplist/multi-node quicklist).
func fixtures() []fixture {
	r := rand.New(rand.NewSource(1))
	big := strings.Repeat("compressible text ", 100)
	fx := []fixture{
		{"str-empty", Object{Kind: KindString, Str: []byte{}}},
		{"str-short", Object{Kind: KindString, Str: []byte("hello")}},
		{"str-int", Object{Kind: KindString, Str: []byte("12345")}},
		{"str-negint", Object{Kind: KindString, Str: []byte("-2147483648")}},
		{"str-int64", Object{Kind: KindString, Str: []byte("9223372036854775807")}},
		{"str-leading-zero", Object{Kind: KindString, Str: []byte("012")}},
		{"str-lzf", Object{Kind: KindString, Str: []byte(big)}},
		{"str-random", Object{Kind: KindString, Str: []byte(randText(r, 1000))}},
		{"list-small", Object{Kind: KindList, List: strs(5, func(i int) string { return []string{"1", "2", "3", "x", ""}[i] })}},
		{"list-ints", Object{Kind: KindList, List: strs(300, func(i int) string { return strconv.Itoa(i*7919 - 1000000) })}},
		{"list-large", Object{Kind: KindList, List: strs(3000, func(i int) string { return fmt.Sprintf("element-%d-%s", i, strings.Repeat("z", i%50)) })}},
		{"list-bigelems", Object{Kind: KindList, List: strs(20, func(i int) string { return randText(r, 5000+i) })}},
		{"set-intset", Object{Kind: KindSet, Set: strs(3, func(i int) string { return strconv.Itoa(i + 1) })}},
		{"set-intset-wide", Object{Kind: KindSet, Set: strs(50, func(i int) string { return strconv.FormatInt(int64(i)*1e15-7, 10) })}},
		{"set-small-str", Object{Kind: KindSet, Set: strs(10, func(i int) string { return fmt.Sprintf("m%d", i) })}},
		{"set-large-int", Object{Kind: KindSet, Set: strs(1000, func(i int) string { return strconv.Itoa(i) })}},
		{"set-large-str", Object{Kind: KindSet, Set: strs(1000, func(i int) string { return fmt.Sprintf("member:%d", i) })}},
		{"zset-small", Object{Kind: KindZSet, ZSet: []ZMember{{[]byte("a"), 1}, {[]byte("b"), 0.1}, {[]byte("c"), -2.5e10}, {[]byte("d"), math.Inf(1)}, {[]byte("e"), math.Inf(-1)}, {[]byte("f"), 3}}}},
		{"hash-small", Object{Kind: KindHash, Hash: []Field{{[]byte("name"), []byte("codis")}, {[]byte("n"), []byte("42")}, {[]byte("empty"), []byte{}}}}},
	}
	zl := make([]ZMember, 1000)
	for i := range zl {
		zl[i] = ZMember{[]byte(fmt.Sprintf("zm-%d", i)), float64(i)*1.5 - 300 + r.Float64()}
	}
	fx = append(fx, fixture{"zset-large", Object{Kind: KindZSet, ZSet: zl}})
	hl := make([]Field, 1000)
	for i := range hl {
		hl[i] = Field{[]byte(fmt.Sprintf("field-%d", i)), []byte(strings.Repeat("v", i%100) + strconv.Itoa(i))}
	}
	fx = append(fx, fixture{"hash-large", Object{Kind: KindHash, Hash: hl}})
	fx = append(fx, fixture{"hash-bigvalue", Object{Kind: KindHash, Hash: []Field{{[]byte("f"), []byte(big)}}}})
	return fx
}

// ---- loading objects into Redis and reading them back ----

func scoreArg(f float64) string {
	switch {
	case math.IsInf(f, 1):
		return "+inf"
	case math.IsInf(f, -1):
		return "-inf"
	}
	return strconv.FormatFloat(f, 'g', 17, 64)
}

func storeObject(t testing.TB, c *respConn, key string, o Object) {
	t.Helper()
	mustDo(t, c, "DEL", key)
	batch := func(cmd string, items []any, per int) {
		for len(items) > 0 {
			n := min(len(items), per)
			mustDo(t, c, append([]any{cmd, key}, items[:n]...)...)
			items = items[n:]
		}
	}
	var items []any
	switch o.Kind {
	case KindString:
		mustDo(t, c, "SET", key, o.Str)
	case KindList:
		for _, e := range o.List {
			items = append(items, e)
		}
		batch("RPUSH", items, 100)
	case KindSet:
		for _, e := range o.Set {
			items = append(items, e)
		}
		batch("SADD", items, 100)
	case KindZSet:
		for _, e := range o.ZSet {
			items = append(items, scoreArg(e.Score), e.Member)
		}
		batch("ZADD", items, 200)
	case KindHash:
		for _, e := range o.Hash {
			items = append(items, e.Name, e.Value)
		}
		batch("HSET", items, 200)
	}
}

func bulks(t testing.TB, v any) [][]byte {
	t.Helper()
	arr, ok := v.([]any)
	if !ok {
		t.Fatalf("expected array, got %T", v)
	}
	out := make([][]byte, len(arr))
	for i, e := range arr {
		out[i], _ = e.([]byte)
		if out[i] == nil {
			out[i] = []byte{}
		}
	}
	return out
}

func fetchObject(t testing.TB, c *respConn, key string) Object {
	t.Helper()
	typ := mustDo(t, c, "TYPE", key)
	switch typ {
	case "string":
		v := mustDo(t, c, "GET", key).([]byte)
		return Object{Kind: KindString, Str: v}
	case "list":
		return Object{Kind: KindList, List: bulks(t, mustDo(t, c, "LRANGE", key, 0, -1))}
	case "set":
		return Object{Kind: KindSet, Set: bulks(t, mustDo(t, c, "SMEMBERS", key))}
	case "zset":
		b := bulks(t, mustDo(t, c, "ZRANGE", key, 0, -1, "WITHSCORES"))
		o := Object{Kind: KindZSet}
		for i := 0; i+1 < len(b); i += 2 {
			f, err := parseScore(b[i+1])
			if err != nil {
				t.Fatal(err)
			}
			o.ZSet = append(o.ZSet, ZMember{b[i], f})
		}
		return o
	case "hash":
		b := bulks(t, mustDo(t, c, "HGETALL", key))
		o := Object{Kind: KindHash}
		for i := 0; i+1 < len(b); i += 2 {
			o.Hash = append(o.Hash, Field{b[i], b[i+1]})
		}
		return o
	}
	t.Fatalf("key %s has type %v", key, typ)
	return Object{}
}
