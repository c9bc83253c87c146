package server

import (
	"fmt"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/codisgo/codis/pkg/resp"
)

// Differential test of keyspace notifications: a subscriber with
// PSUBSCRIBE __key*__:* on each server records the messages every command
// publishes, and the sequences must be equal to redis-server 7.0's.
//
// Line syntax (besides plain commands, whose replies are compared too):
//
//	kind: CMD            compare only the reply kinds (random replies)
//	wait N: CMD          run CMD, then wait until N messages arrived
//	nosync: CMD          run CMD, its messages are compared with the next
//	                     line's (when they arrive is timing)
//	sleep: MS            sleep
//	active-expire: 0|1   switch active expiry off or on
//	block: CMD           send a blocking CMD from a second connection and
//	                     wait until it is blocked on both servers
//	unblocked:           read and compare the blocked connection's reply
//	restore: SRC DST TTL [opts]
//	                     DUMP SRC and RESTORE the payload as DST on each
//	                     server (payload versions differ, events must not)

type notifyCase struct {
	name   string
	events string // notify-keyspace-events
	lines  []string
}

var notifyCases = []notifyCase{
	{"generic", "KEA", []string{
		"SET a 1", "DEL a b", "DEL a", "SET a 1", "EXPIRE a 100", "PERSIST a", "PERSIST a",
		"EXPIRE a -1", "SET a 1", "PEXPIREAT a 1", "EXPIREAT a 1", "SET a 1", "EXPIRE a 100 XX",
		"EXPIRE a 100 NX", "EXPIRE a 50 GT", "EXPIRE a 500 GT", "EXPIRE a 1000 LT",
		"RENAME a b", "RENAME b b", "RENAMENX b b", "SET c 1", "RENAME b c", "RENAMENX c d", "SET e 1",
		"RENAMENX c e", "RENAME nokey x", "MOVE c 1", "MOVE e 1", "SET e 2", "COPY e f", "COPY e f",
		"COPY e f REPLACE", "COPY e f DB 1", "COPY e e2 DB 1", "SET g 1 EX 100", "RENAME g h", "TTL h",
		"UNLINK e f h nokey", "EXPIRE nokey 10", "PERSIST nokey", "SET t 1", "TOUCH t nokey",
		"EXISTS t nokey", "TYPE t", "FLUSHDB", "SET t 1", "SWAPDB 0 1", "SWAPDB 0 1", "FLUSHALL",
		"SET x 1", "SELECT 1", "SET y 1", "DEL y", "SELECT 0",
		"EVAL \"redis.call('set', KEYS[1], 'v'); return redis.call('del', KEYS[1])\" 1 sc",
		"MULTI", "SET m 1", "INCR m", "DEL m", "EXEC",
	}},
	{"string", "KEA", []string{
		"SET s v", "SET s v2 GET", "SET s v3 KEEPTTL", "SET s v EX 100", "SET s v PX 100000 GET",
		"SET s v NX", "SET s2 v XX", "SET s v KEEPTTL", "TTL s", "SETNX s v", "SETNX s3 v",
		"SETEX s4 100 v", "PSETEX s5 100000 v", "GETSET s6 v", "GETSET s6 w", "MSET m1 1 m2 2",
		"MSETNX m1 1 m3 3", "MSETNX m4 1 m5 2", "APPEND s7 a", "APPEND s7 b", "SETRANGE s8 0 \"\"",
		"SETRANGE s8 2 xx", "SETRANGE s8 0 y", "SETRANGE s8 0 \"\"", "INCR n", "DECR n",
		"INCRBY n 5", "DECRBY n 2", "INCR s7", "INCRBYFLOAT f 1.5", "INCRBYFLOAT f 1",
		"INCRBYFLOAT s7 1", "GETDEL s", "GETDEL nokey", "GETEX s4 EX 200", "GETEX s4 PERSIST",
		"GETEX s4 PERSIST", "GETEX s4", "GETEX s4 PXAT 1", "GETEX s5 PX 100", "GETEX nokey EX 1",
		"SET s9 v PXAT 1", "GET s9", "SET s10 v EXAT 1", "SET s11 v", "SET s11 v PXAT 1 GET",
		"GET s11", "SET s12 v EX 100", "GET s12", "STRLEN s12", "GETRANGE s12 0 1",
	}},
	{"list", "KEA", []string{
		"LPUSH l a b c", "RPUSH l d", "LPUSHX nol a", "RPUSHX l e", "LPUSHX l f",
		"LINSERT l BEFORE a x", "LINSERT l BEFORE zz x", "LSET l 0 y", "LREM l 1 y", "LREM l 1 nope",
		"LTRIM l 0 100", "LTRIM l 1 2", "LRANGE l 0 -1", "LPOP l", "RPOP l 2", "LPOP l 0", "LPOP l 5",
		"LPOP nol", "RPUSH l2 a", "LPOP l2", "RPUSH l3 a b", "LMOVE l3 l4 LEFT RIGHT",
		"LMOVE l3 l4 LEFT LEFT", "RPOPLPUSH l4 l4", "LMOVE l4 l4 LEFT LEFT", "LMPOP 2 nol l4 LEFT COUNT 10",
		"RPUSH l5 a b c", "LTRIM l5 5 10", "RPUSH l6 a a b", "LREM l6 0 a", "LREM l6 0 b",
		"RPUSH l7 a b", "BLPOP nol l7 1", "BRPOP l7 1", "RPUSH l8 a b", "BLMOVE l8 l9 RIGHT LEFT 1",
		"BRPOPLPUSH l8 l9 1", "BLMPOP 1 2 nol l9 RIGHT COUNT 1", "LMPOP 1 l9 LEFT", "SET str v",
		"LPUSH str a", "LMOVE l9 str LEFT LEFT", "RPUSH la a", "LMOVE la str LEFT LEFT", "LINDEX la 0",
	}},
	{"hash", "KEA", []string{
		"HSET h a 1 b 2", "HSET h a 1", "HMSET h c 3", "HSETNX h a 1", "HSETNX h d 4",
		"HSETNX h2 a 1", "HINCRBY h n 1", "HINCRBY h2 n 5", "HINCRBYFLOAT h f 1.5",
		"HINCRBYFLOAT h3 f 1", "HINCRBY h a x", "HDEL h a b", "HDEL h zz", "HDEL nokey a",
		"HDEL h c d n f", "HDEL h2 a n", "HGET h3 f", "HGETALL h3",
	}},
	{"set", "KEA", []string{
		"SADD s a b c", "SADD s a", "SREM s a z", "SREM s z", "kind: SPOP s", "SREM s b c",
		"SADD s2 1 2 3", "SPOP s2 0", "kind: SPOP s2 1", "kind: SPOP s2 10", "SPOP s2", "SPOP s2 3",
		"SADD s3 a", "SMOVE s3 s4 a", "SADD s3 a b", "SMOVE s3 s4 a", "SMOVE s3 s3 b", "SMOVE s3 s5 zz",
		"SMOVE s3 s5 b", "SADD x 1 2 3", "SADD y 2 3 4", "SINTERSTORE d x y", "SUNIONSTORE d x y",
		"SDIFFSTORE d x y", "SINTERSTORE d x nokey", "SINTERSTORE d x nokey", "SDIFFSTORE d y x",
		"SDIFFSTORE d x x", "SUNIONSTORE d nokey", "SUNIONSTORE d x", "SINTERSTORE d nokey x",
		"SADD one a", "SPOP one 1", "SINTERCARD 2 x y", "SMEMBERS x",
	}},
	{"zset", "KEA", []string{
		"ZADD z 1 a 2 b", "ZADD z 1 a", "ZADD z 3 a", "ZADD z NX 5 a", "ZADD z XX 5 zz", "ZADD z2 XX 1 a",
		"ZADD z INCR 1 a", "ZINCRBY z 1 b", "ZINCRBY z3 1 b", "ZADD z CH 1 a 9 q", "ZADD z GT 0 a",
		"ZADD z LT 0 a", "ZREM z q nope", "ZREM z nope", "ZADD z2 1 a 2 b 3 c 4 d 5 e",
		"ZREMRANGEBYSCORE z2 1 1", "ZREMRANGEBYRANK z2 0 0", "ZREMRANGEBYLEX z2 [c [c",
		"ZREMRANGEBYSCORE z2 100 200", "ZREMRANGEBYRANK z2 10 20", "ZREMRANGEBYLEX z2 [x [y",
		"ZPOPMIN z2", "ZPOPMAX z2 5", "ZPOPMIN nokey", "ZPOPMIN z 0", "ZADD z3 1 a", "ZMPOP 1 z3 MIN",
		"ZADD z4 1 a 2 b", "ZADD z5 2 b 3 c", "ZUNIONSTORE d 2 z4 z5", "ZINTERSTORE d 2 z4 z5",
		"ZDIFFSTORE d 2 z4 z5", "ZINTERSTORE d 2 z4 nokey", "ZINTERSTORE d 2 z4 nokey",
		"ZDIFFSTORE d 1 nokey", "ZRANGESTORE d2 z4 0 -1", "ZRANGESTORE d2 z4 5 6",
		"ZRANGESTORE d2 z4 0 0", "ZRANGESTORE d2 nokey 0 -1", "ZRANGESTORE d2 nokey 0 -1",
		"BZPOPMIN z4 1", "BZPOPMAX z4 1", "ZADD z6 1 a 2 b", "BZMPOP 1 1 z6 MAX COUNT 5",
		"ZADD z7 1 a 2 b 3 c", "ZREMRANGEBYSCORE z7 -inf +inf", "ZADD z8 1 a", "ZREM z8 a",
		"ZRANGE z5 0 -1 WITHSCORES", "ZSCORE nokey a", "ZADD zn INCR +inf a", "ZADD zn INCR -inf a",
		"ZADD zn2 GT 1 a", "ZADD zn3 NX INCR 1 a", "ZADD zn3 NX INCR 1 a", "ZADD zn3 GT CH 0 a",
		"ZADD zn3 GT CH 5 a", "ZINCRBY zn3 0 a", "ZADD str 1 a", "ZADD zn4 1 a nan b",
	}},
	{"bits-hll-geo-sort", "KEA", []string{
		"SETBIT b 7 1", "SETBIT b 7 1", "SETBIT b 100 0", "BITFIELD b SET u8 0 255", "BITFIELD b GET u8 0",
		"BITFIELD nb GET u8 0", "BITFIELD b2 OVERFLOW FAIL INCRBY u2 0 5", "EXISTS b2",
		"BITFIELD b3 INCRBY u2 0 1 GET u2 0", "BITFIELD_RO b GET u8 0", "SET x1 a", "SET x2 b",
		"BITOP AND dest x1 x2", "BITOP OR dest nokey nokey2", "BITOP OR dest nokey", "BITOP NOT dest2 x1",
		"PFADD p a b", "PFADD p a", "PFADD p", "PFADD p2", "PFMERGE p3 p p2", "PFMERGE p3", "PFCOUNT p",
		"PFMERGE p4 nokey",
		"GEOADD g 13.361389 38.115556 Palermo 15.087269 37.502669 Catania",
		"GEOADD g 13.361389 38.115556 Palermo", "GEOADD g XX 1 1 Palermo", "GEOADD g NX 1 1 Palermo",
		"GEOSEARCHSTORE gd g FROMLONLAT 15 37 BYRADIUS 200 km", "GEOSEARCHSTORE gd g FROMLONLAT 15 37 BYRADIUS 1 m",
		"GEOSEARCHSTORE gd g FROMLONLAT 15 37 BYRADIUS 1 m", "GEORADIUS g 15 37 200 km STORE gd",
		"GEORADIUS g 15 37 200 km STOREDIST gd", "GEORADIUS nokey 15 37 200 km STORE gd",
		"GEORADIUS nokey 15 37 200 km STORE gd", "GEORADIUSBYMEMBER g Palermo 300 km STORE gd",
		"GEOSEARCHSTORE gd nokey FROMLONLAT 15 37 BYRADIUS 1 m",
		"RPUSH sl 3 1 2", "SORT sl STORE sd", "SORT sl STORE sd", "SORT nokey STORE sd", "SORT nokey STORE sd",
		"SORT sl LIMIT 0 0 STORE sd2", "SORT sl", "SORT_RO sl",
	}},
	{"restore", "KEA", []string{
		"SET r v", "RPUSH rl a b", "restore: r r2 0", "restore: r r2 0", "restore: rl r2 0 REPLACE",
		"restore: r r3 100000", "TTL r3", "restore: r r3 1 REPLACE ABSTTL", "EXISTS r3",
		"restore: r r4 1 ABSTTL", "EXISTS r4",
	}},
	{"lazy-expire", "KEA", []string{
		"active-expire: 0", "SET e1 v PX 1", "RPUSH e2 a", "PEXPIRE e2 1", "SET e3 v PX 1",
		"SET e4 v PX 1", "SADD e5 a", "PEXPIRE e5 1", "sleep: 20", "GET e1", "LPUSH e2 b", "EXISTS e3",
		"DEL e4", "SREM e5 a", "SET e6 v PX 1", "HSET e7 f v", "PEXPIRE e7 1", "ZADD e8 1 a",
		"PEXPIRE e8 1", "SET e9 v PX 1", "SELECT 1", "SET e10 v PX 1", "SELECT 0", "sleep: 10", "SET e6 w",
		"HGET e7 f", "ZADD e8 1 b", "GETEX e9 EX 100", "RENAME e9 x", "SELECT 1", "GET e10", "SELECT 0",
		"active-expire: 1",
	}},
	{"lazy-expire-scan", "KEA", []string{
		"active-expire: 0", "SET a v PX 1", "sleep: 5", "SCAN 0", "SET b v PX 1", "sleep: 5", "RANDOMKEY",
		"SET c v PX 1", "sleep: 5", "KEYS *", "DBSIZE", "TTL c", "SET d v PX 1", "sleep: 5",
		"OBJECT ENCODING d", "SET k1 v", "SET e v PX 1", "sleep: 5", "kind: SCAN 0 COUNT 100", "MGET e k1",
		"active-expire: 1",
	}},
	{"active-expire", "KEA", []string{
		"SET e1 v PX 5", "wait 2: PING", "SADD e2 a", "PEXPIRE e2 5", "wait 2: PING",
	}},
	{"evict", "KEA", []string{
		"CONFIG SET maxmemory-policy allkeys-random", "SET big xxxxxxxxxxxxxxxxxxxxxx",
		"nosync: CONFIG SET maxmemory 1", "wait 2: SET other v", "CONFIG SET maxmemory 0",
		"CONFIG SET maxmemory-policy noeviction", "SET v x",
	}},
	{"blocking", "KEA", []string{
		"block: BLPOP bl 5", "RPUSH bl a b", "unblocked:", "LRANGE bl 0 -1",
		"block: BRPOP bl1 5", "LPUSH bl1 a", "unblocked:",
		"block: BLMOVE bl2 bl3 LEFT RIGHT 5", "LPUSH bl2 x", "unblocked:",
		"block: BRPOPLPUSH bl4 bl4 5", "RPUSH bl4 x", "unblocked:",
		"block: BLMPOP 5 2 nol bl5 LEFT COUNT 2", "RPUSH bl5 a b c", "unblocked:",
		"block: BZPOPMIN bz 5", "ZADD bz 1 a", "unblocked:",
		"block: BZPOPMAX bz2 5", "ZADD bz2 1 a 2 b", "unblocked:",
		"block: BZMPOP 5 1 bz3 MIN COUNT 5", "ZADD bz3 1 a 2 b", "unblocked:",
		"block: BLPOP bl6 5", "MULTI", "RPUSH bl6 a", "RPUSH bl6 b", "EXEC", "unblocked:",
		"block: BLPOP bl7 5", "RPUSH tmp z", "LMOVE tmp bl7 LEFT LEFT", "unblocked:",
		"block: BLPOP bl8 5", "RPUSH src8 a", "SORT src8 ALPHA STORE bl8", "unblocked:",
		"SET bstr x", "block: BLMOVE bl9 bstr LEFT LEFT 1", "RPUSH bl9 a", "unblocked:", "LRANGE bl9 0 -1",
		"block: BLPOP bl10 bl11 5", "EVAL \"redis.call('rpush', KEYS[1], 'a'); redis.call('rpush', KEYS[2], 'b')\" 2 bl11 bl10",
		"unblocked:", "block: BZPOPMIN bz4 5", "SET bz4 x", "DEL bz4", "ZADD bz4 1 a", "unblocked:",
	}},
	{"new", "KEAn", []string{
		"SET a 1", "SET a 2", "RENAME a b", "LPUSH l x", "LPUSH l y", "MOVE b 1", "SET c 1", "COPY c d",
		"restore: c e 0", "SADD s1 a", "SMOVE s1 s2 a", "SINTERSTORE s3 s2 s2", "MSET m1 1 m2 2 m1 3",
		"SETRANGE sr 1 a", "INCR i", "HSET h f v", "ZADD z 1 a", "PFADD p", "SETBIT bit 1 1",
		"BITFIELD bf SET u8 0 1", "BITFIELD bf2 GET u8 0", "active-expire: 0",
		"SET ex v PX 1", "sleep: 5", "SET ex v2", "active-expire: 1",
		// Keys loaded from an RDB are not "new".
		"DEBUG RELOAD", "SET after-reload 1",
	}},
	{"classes", "Kl", []string{
		"SET a 1", "LPUSH l a", "DEL l", "RPUSH l a", "CONFIG SET notify-keyspace-events Eg", "SET a 1",
		"DEL a", "LPUSH l a", "CONFIG SET notify-keyspace-events gl", "DEL l",
		"CONFIG SET notify-keyspace-events E$", "SET a 2", "INCR a",
	}},
	{"keymiss", "KEm", []string{
		"GET nokey", "EXISTS nokey", "TYPE nokey", "TTL nokey", "PTTL nokey", "TOUCH nokey",
		"SET a 1", "GET a", "MGET a b c", "SET nokey v", "DEL nokey", "INCR nokey2", "DEL nokey2",
		"HGET nk f", "HGETALL nk", "HLEN nk", "HMGET nk a b", "HEXISTS nk f", "HSTRLEN nk f", "HRANDFIELD nk",
		"LRANGE nk 0 -1", "LLEN nk", "LINDEX nk 0", "LPOS nk a", "SCARD nk", "SMEMBERS nk", "SISMEMBER nk a",
		"SMISMEMBER nk a", "SRANDMEMBER nk", "SINTER nk a", "SUNION nk a", "SDIFF nk a", "SINTERCARD 2 nk a",
		"ZSCORE nk a", "ZRANGE nk 0 -1", "ZCARD nk", "ZRANK nk a", "ZCOUNT nk 0 1", "ZMSCORE nk a",
		"ZRANDMEMBER nk", "ZUNION 2 nk a", "ZINTER 2 nk a", "ZDIFF 2 nk a", "ZINTERCARD 2 nk a",
		"ZRANGEBYSCORE nk 0 1", "ZLEXCOUNT nk - +", "GETRANGE nk 0 1", "STRLEN nk", "GETBIT nk 1",
		"BITCOUNT nk", "BITPOS nk 1", "BITFIELD_RO nk GET u8 0", "PFCOUNT nk", "DUMP nk", "SORT nk",
		"SORT_RO nk", "GEOPOS nk a", "GEODIST nk a b", "GEOHASH nk a", "GEOSEARCH nk FROMLONLAT 0 0 BYRADIUS 1 km",
		"OBJECT ENCODING nk", "SUBSTR nk 0 1", "GETEX nk", "GETDEL nk", "SSCAN nk 0", "HSCAN nk 0",
		"ZSCAN nk 0", "EXPIRETIME nk", "LPUSH nk2 a", "LRANGE nk2 0 -1", "SETRANGE nk3 0 a", "APPEND nk4 a",
		"LPOP nk", "SPOP nk", "ZPOPMIN nk", "HDEL nk a", "SREM nk a", "ZREM nk a", "LMPOP 1 nk LEFT",
		"COPY nk x", "RENAME nk x", "MOVE nk 1", "PFMERGE nk5 nk", "SINTERSTORE nk6 nk", "BITOP OR nk7 nk",
		"SORT nk STORE nk8", "RPUSH sl 1 2", "SET w_1 5", "SORT sl BY w_* GET h_*->f GET # GET w_*",
		"SORT sl BY nosort GET k_*", "ZUNIONSTORE nk9 1 nk", "GEOSEARCHSTORE nk10 nk FROMLONLAT 0 0 BYRADIUS 1 km",
	}},
}

// notifySide is one server of the comparison.
type notifySide struct {
	data, sub, blocker *testConn
	msgs               []string // received since the last take
}

func newNotifySide(t *testing.T, addr string) *notifySide {
	t.Helper()
	ns := &notifySide{data: dial(t, addr), sub: dial(t, addr), blocker: dial(t, addr)}
	if r := ns.sub.do("PSUBSCRIBE", "__key*__:*"); r.String() != `["psubscribe" "__key*__:*" 1]` {
		t.Fatalf("psubscribe: %s", r)
	}
	return ns
}

// sync reads the subscriber's messages up to the reply of a PING.
func (ns *notifySide) sync() {
	ns.sub.send("PING")
	for {
		r := ns.sub.read()
		if r.Kind != resp.KindArray || len(r.Elems) == 0 {
			ns.sub.t.Fatalf("subscriber got %s", r)
		}
		switch r.Elems[0].Str {
		case "pong":
			return
		case "pmessage":
			ns.msgs = append(ns.msgs, r.Elems[2].Str+" "+r.Elems[3].Str)
		default:
			ns.sub.t.Fatalf("subscriber got %s", r)
		}
	}
}

func (ns *notifySide) take() []string {
	m := ns.msgs
	ns.msgs = nil
	return m
}

func (ns *notifySide) blockedClients() int {
	r := ns.data.do("INFO", "clients")
	for _, l := range strings.Split(r.Str, "\r\n") {
		if v, ok := strings.CutPrefix(l, "blocked_clients:"); ok {
			n, _ := strconv.Atoi(v)
			return n
		}
	}
	return -1
}

func splitLine(t *testing.T, line string) []string {
	t.Helper()
	argv, ok := resp.SplitArgs([]byte(line))
	if !ok || len(argv) == 0 {
		t.Fatalf("bad command %q", line)
	}
	args := make([]string, len(argv))
	for i, a := range argv {
		args[i] = string(a)
	}
	return args
}

func runNotifyCase(t *testing.T, s *Server, theirs string, tc notifyCase) {
	sides := []*notifySide{newNotifySide(t, s.Addr().String()), newNotifySide(t, theirs)}
	for _, ns := range sides {
		ns.data.expect("+OK", "FLUSHALL")
		ns.data.expect("+OK", "CONFIG", "SET", "notify-keyspace-events", tc.events)
		ns.sync()
		ns.take()
	}
	total := 0
	for i, line := range tc.lines {
		lineStart := time.Now()
		mode, cmd := "exact", line
		for _, m := range []string{"kind", "nosync", "sleep", "active-expire", "block", "restore", "unblocked"} {
			if rest, ok := strings.CutPrefix(line, m+":"); ok {
				mode, cmd = m, strings.TrimSpace(rest)
			}
		}
		want := 0
		if rest, ok := strings.CutPrefix(line, "wait "); ok {
			n, c, _ := strings.Cut(rest, ": ")
			want, _ = strconv.Atoi(n)
			cmd = c
		}
		var replies [2]string
		switch mode {
		case "sleep":
			ms, _ := strconv.Atoi(cmd)
			time.Sleep(time.Duration(ms) * time.Millisecond)
			continue
		case "active-expire":
			s.mu.Lock()
			s.cfg.ActiveExpire = cmd == "1"
			s.mu.Unlock()
			sides[1].data.expect("+OK", "DEBUG", "SET-ACTIVE-EXPIRE", cmd)
			continue
		case "block":
			for _, ns := range sides {
				ns.blocker.send(splitLine(t, cmd)...)
				checkFor(t, 5*time.Second, func() error {
					if n := ns.blockedClients(); n != 1 {
						return fmt.Errorf("%d blocked clients", n)
					}
					return nil
				})
			}
		case "unblocked":
			for j, ns := range sides {
				replies[j] = ns.blocker.read().String()
			}
		case "restore":
			args := splitLine(t, cmd)
			for j, ns := range sides {
				payload := ns.data.do("DUMP", args[0])
				rargs := append([]string{"RESTORE", args[1], args[2], payload.Str}, args[3:]...)
				replies[j] = ns.data.do(rargs...).String()
			}
		default:
			args := splitLine(t, cmd)
			for j, ns := range sides {
				r := ns.data.do(args...)
				if mode == "nosync" {
					replies[j] = r.String()
					continue
				}
				replies[j] = r.String()
				if mode == "kind" && !r.IsError() {
					replies[j] = string(r.Kind)
				}
			}
		}
		if replies[0] != replies[1] {
			t.Errorf("line %d %q: reply\n ours:  %s\n redis: %s", i, line, replies[0], replies[1])
		}
		if mode == "nosync" {
			continue
		}
		var got [2][]string
		for j, ns := range sides {
			deadline := time.Now().Add(5 * time.Second)
			for {
				ns.sync()
				if len(ns.msgs) >= want || time.Now().After(deadline) {
					break
				}
				time.Sleep(10 * time.Millisecond)
			}
			got[j] = ns.take()
		}
		total += len(got[1])
		if d := time.Since(lineStart); d > time.Second {
			t.Logf("line %d %q took %v", i, line, d)
		}
		if fmt.Sprint(got[0]) != fmt.Sprint(got[1]) {
			t.Errorf("line %d %q: events\n ours:  %q\n redis: %q", i, line, got[0], got[1])
		}
	}
	if total == 0 {
		t.Errorf("no message received")
	}
	for _, ns := range sides {
		ns.data.expect("+OK", "CONFIG", "SET", "notify-keyspace-events", "")
	}
}

func TestDiffNotify(t *testing.T) {
	addr := startRedisDebug(t)
	s := startServer(t)
	for _, tc := range notifyCases {
		t.Run(tc.name, func(t *testing.T) {
			runNotifyCase(t, s, addr, tc)
		})
	}
}

// startRedisDebug starts redis-server like startRedis, with the DEBUG
// command enabled (DEBUG SET-ACTIVE-EXPIRE), and returns its address.
func startRedisDebug(t *testing.T) string {
	t.Helper()
	return startRedisArgs(t, "--enable-debug-command", "yes").addr
}
