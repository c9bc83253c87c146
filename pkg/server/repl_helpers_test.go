package server

import (
	"fmt"
	"math/rand/v2"
	"net"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/codisgo/codis/pkg/resp"
)

// Replication test helpers: Debian redis-server with extra arguments,
// INFO parsing, a mixed write load and a logical comparison of two
// servers' data.

// infoField returns one field of INFO (all sections).
func infoField(t testing.TB, addr, name string) string {
	t.Helper()
	c, err := dialOnce(addr)
	if err != nil {
		t.Fatal(err)
	}
	defer c.conn.Close()
	_, _ = c.conn.Write(resp.AppendCommandStrings(nil, "INFO", "everything"))
	_ = c.conn.SetReadDeadline(time.Now().Add(5 * time.Second))
	r, err := c.rr.ReadReply()
	if err != nil {
		t.Fatal(err)
	}
	for _, line := range strings.Split(r.Str, "\r\n") {
		if k, v, ok := strings.Cut(line, ":"); ok && k == name {
			return v
		}
	}
	return ""
}

func infoInt(t testing.TB, addr, name string) int64 {
	t.Helper()
	n, _ := strconv.ParseInt(infoField(t, addr, name), 10, 64)
	return n
}

func hostPortOf(addr string) (string, string) {
	h, p, _ := net.SplitHostPort(addr)
	return h, p
}

// waitLinkUp waits until the replica at addr reports its link up.
func waitLinkUp(t testing.TB, addr string, timeout time.Duration) {
	t.Helper()
	checkFor(t, timeout, func() error {
		if st := infoField(t, addr, "master_link_status"); st != "up" {
			return fmt.Errorf("%s: master_link_status %q", addr, st)
		}
		return nil
	})
}

// waitCaughtUp waits until the replica has processed everything the
// master has written so far.
func waitCaughtUp(t testing.TB, master, replica string, timeout time.Duration) {
	t.Helper()
	checkFor(t, timeout, func() error {
		mo := infoInt(t, master, "master_repl_offset")
		ro := infoInt(t, replica, "slave_repl_offset")
		if infoField(t, replica, "master_link_status") != "up" || ro < mo {
			return fmt.Errorf("replica %s at %d, master %s at %d", replica, ro, master, mo)
		}
		return nil
	})
}

// pipeline sends commands in one write and reads every reply, failing on
// an error reply unless allowErr.
func (c *testConn) pipeline(cmds [][]string, allowErr bool) []resp.Reply {
	c.t.Helper()
	var buf []byte
	for _, a := range cmds {
		buf = resp.AppendCommandStrings(buf, a...)
	}
	if _, err := c.conn.Write(buf); err != nil {
		c.t.Fatalf("write: %v", err)
	}
	out := make([]resp.Reply, len(cmds))
	for i := range cmds {
		out[i] = c.read()
		if out[i].IsError() && !allowErr {
			c.t.Fatalf("%q: %s", cmds[i], out[i])
		}
	}
	return out
}

// mixedLoad writes n operations of every kind replication must carry:
// strings, lists, hashes, sets, sorted sets, TTLs, expiries, SPOP,
// INCRBYFLOAT, MULTI/EXEC, blocking pops served at once.
func mixedLoad(t testing.TB, c *testConn, rng *rand.Rand, n int, prefix string) {
	t.Helper()
	var cmds [][]string
	k := func(kind string) string { return fmt.Sprintf("%s:%s:%d", prefix, kind, rng.IntN(50)) }
	v := func() string { return strconv.Itoa(rng.IntN(1000)) }
	for i := 0; i < n; i++ {
		switch rng.IntN(24) {
		case 0:
			cmds = append(cmds, []string{"SET", k("s"), v()})
		case 1:
			cmds = append(cmds, []string{"SET", k("s"), v(), "EX", "100"})
		case 2:
			cmds = append(cmds, []string{"SETEX", k("s"), "200", v()})
		case 3:
			cmds = append(cmds, []string{"INCRBYFLOAT", k("f"), "1.1"})
		case 4:
			cmds = append(cmds, []string{"RPUSH", k("l"), v(), v()})
		case 5:
			cmds = append(cmds, []string{"LPOP", k("l")})
		case 6:
			cmds = append(cmds, []string{"HSET", k("h"), "f" + v(), v()})
		case 7:
			cmds = append(cmds, []string{"HINCRBYFLOAT", k("h"), "x", "0.25"})
		case 8:
			cmds = append(cmds, []string{"SADD", k("t"), v(), v(), v()})
		case 9:
			cmds = append(cmds, []string{"SPOP", k("t")})
		case 10:
			cmds = append(cmds, []string{"SPOP", k("t"), "2"})
		case 11:
			cmds = append(cmds, []string{"ZADD", k("z"), v(), "m" + v()})
		case 12:
			cmds = append(cmds, []string{"ZINCRBY", k("z"), "1.5", "m" + v()})
		case 13:
			cmds = append(cmds, []string{"EXPIRE", k("l"), "300"})
		case 14:
			cmds = append(cmds, []string{"PEXPIRE", k("s"), strconv.Itoa(1 + rng.IntN(30))})
		case 15:
			cmds = append(cmds, []string{"DEL", k("h")})
		case 16:
			cmds = append(cmds, []string{"MULTI"}, []string{"INCR", k("i")}, []string{"SADD", k("t"), v()},
				[]string{"SPOP", k("t")}, []string{"EXEC"})
		case 17:
			l := k("l")
			cmds = append(cmds, []string{"RPUSH", l, v()}, []string{"BLPOP", k("l"), l, "0"})
		case 18:
			cmds = append(cmds, []string{"GETEX", k("s"), "PX", "150000"})
		case 19:
			cmds = append(cmds, []string{"PERSIST", k("s")})
		case 20:
			cmds = append(cmds, []string{"ZPOPMIN", k("z")})
		case 21:
			cmds = append(cmds, []string{"LMOVE", k("l"), k("l"), "LEFT", "RIGHT"})
		case 22:
			cmds = append(cmds, []string{"SELECT", "1"}, []string{"SET", k("d1"), v()}, []string{"SELECT", "0"})
		case 23:
			cmds = append(cmds, []string{"PSETEX", k("p"), strconv.Itoa(1 + rng.IntN(20)), v()})
		}
		if len(cmds) >= 200 {
			c.pipeline(cmds, true)
			cmds = cmds[:0]
		}
	}
	if len(cmds) > 0 {
		c.pipeline(cmds, true)
	}
}

// keyState is the logical content of one key.
type keyState struct {
	typ   string
	value string
	pttl  int64
}

// dumpData reads every key of DBs 0 and 1 logically.
func dumpData(t testing.TB, addr string) map[string]keyState {
	t.Helper()
	c := dial(t, addr)
	defer c.conn.Close()
	out := map[string]keyState{}
	for _, db := range []string{"0", "1"} {
		c.expect("+OK", "SELECT", db)
		var keys []string
		cursor := "0"
		for {
			r := c.do("SCAN", cursor, "COUNT", "1000")
			cursor = r.Elems[0].Str
			for _, e := range r.Elems[1].Elems {
				keys = append(keys, e.Str)
			}
			if cursor == "0" {
				break
			}
		}
		for len(keys) > 0 {
			batch := keys[:min(len(keys), 200)]
			keys = keys[len(batch):]
			var cmds [][]string
			for _, k := range batch {
				cmds = append(cmds, []string{"TYPE", k}, []string{"PTTL", k})
			}
			rs := c.pipeline(cmds, false)
			cmds = cmds[:0]
			for i, k := range batch {
				switch rs[2*i].Str {
				case "string":
					cmds = append(cmds, []string{"GET", k})
				case "list":
					cmds = append(cmds, []string{"LRANGE", k, "0", "-1"})
				case "hash":
					cmds = append(cmds, []string{"HGETALL", k})
				case "set":
					cmds = append(cmds, []string{"SMEMBERS", k})
				case "zset":
					cmds = append(cmds, []string{"ZRANGE", k, "0", "-1", "WITHSCORES"})
				default:
					cmds = append(cmds, []string{"TYPE", k})
				}
			}
			vs := c.pipeline(cmds, false)
			for i, k := range batch {
				typ := rs[2*i].Str
				if typ == "none" || rs[2*i+1].Int == -2 {
					continue // expired meanwhile (PTTL -2: between TYPE and PTTL)
				}
				val := vs[i]
				var sval string
				switch typ {
				case "hash":
					pairs := make([]string, 0, len(val.Elems)/2)
					for j := 0; j+1 < len(val.Elems); j += 2 {
						pairs = append(pairs, val.Elems[j].Str+"="+val.Elems[j+1].Str)
					}
					slices.Sort(pairs)
					sval = strings.Join(pairs, ",")
				case "set":
					ms := make([]string, len(val.Elems))
					for j, e := range val.Elems {
						ms[j] = e.Str
					}
					slices.Sort(ms)
					sval = strings.Join(ms, ",")
				default:
					sval = val.String()
				}
				out[db+"/"+k] = keyState{typ: typ, value: sval, pttl: rs[2*i+1].Int}
			}
		}
	}
	return out
}

// compareData fails unless both servers hold the same keys, values and
// TTLs (within tolerance). Keys about to expire are ignored.
func compareData(t testing.TB, a, b string) int {
	t.Helper()
	da, db := dumpData(t, a), dumpData(t, b)
	const tol = 2000
	short := func(s keyState) bool { return s.pttl >= 0 && s.pttl < tol }
	bad := 0
	for k, x := range da {
		y, ok := db[k]
		if !ok {
			if !short(x) {
				t.Errorf("key %s missing on %s (on %s: %+v)", k, b, a, x)
				bad++
			}
			continue
		}
		if short(x) || short(y) {
			continue // expiring while we read
		}
		if x.typ != y.typ || x.value != y.value {
			t.Errorf("key %s differs: %s has %+v, %s has %+v", k, a, x, b, y)
			bad++
		} else if (x.pttl < 0) != (y.pttl < 0) || absInt(x.pttl-y.pttl) > tol {
			t.Errorf("key %s TTL differs: %s has %d, %s has %d", k, a, x.pttl, b, y.pttl)
			bad++
		}
		if bad > 10 {
			t.FailNow()
		}
	}
	for k, y := range db {
		if _, ok := da[k]; !ok && !short(y) {
			t.Errorf("key %s only on %s: %+v", k, b, y)
			bad++
		}
	}
	return len(da)
}

func absInt(n int64) int64 {
	if n < 0 {
		return -n
	}
	return n
}

// ourAddr is the address of an in-process server.
func ourAddr(s *Server) string { return s.Addr().String() }
