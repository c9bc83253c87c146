package server

import (
	"os"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/codisgo/codis/pkg/resp"
)

// diffCases are command sequences run against our server and redis-server;
// the replies must be identical. Each line is one command in redis-cli
// syntax (quotes as in redis.conf), optionally prefixed by a mode:
//
//	"sort: KEYS *"   compare array replies after sorting the elements
//	"kind: TIME"     compare only the reply type (and error vs not)
//	"skip: DEBUG x"  run on both, ignore the replies
//
// Every case starts on fresh connections after FLUSHALL. Append cases here.
var diffCases = []struct {
	name  string
	lines []string
}{
	{"ping-echo", []string{"PING", "PING hello", "PING a b", "ECHO x", "ECHO", "ping", "PiNg"}},
	{"unknown", []string{"FOO", "FOO bar baz", "\"\"", "GET", "SET a"}},
	{"get-set", []string{"GET a", "SET a 1", "GET a", "SET a hello", "GET a", "SET a x NX", "SET b x XX", "GET b",
		"SET a y XX", "GET a", "SET a z GET", "SET n v GET", "GET n", "SET a v NX XX", "SET a v EX 10 PX 100",
		"SET a v EX 0", "SET a v EX -1", "SET a v PX abc", "SET a v EX", "SET a v KEEPTTL EX 10", "SET a v foo",
		"SET a v EX 9223372036854775807", "SET a v PX 9223372036854775807", "SET a v EXAT 1", "GET a",
		"SET a v EX 100", "TTL a", "SET a w KEEPTTL", "TTL a", "GET a", "SET a w", "TTL a", "SET a v PXAT 99999999999999", "PEXPIRETIME a",
		"SET a v EXAT 99999999999", "EXPIRETIME a", "SET a v get nx", "SET a v get xx", "set A v nx get"}},
	{"setnx-setex", []string{"SETNX a 1", "SETNX a 2", "GET a", "SETEX b 100 v", "TTL b", "SETEX b 0 v", "SETEX b -5 v",
		"SETEX b x v", "PSETEX c 100000 v", "kind: PTTL c", "PSETEX c 0 v", "GET c"}},
	{"getset-getex-getdel", []string{"GETSET a 1", "GETSET a 2", "GET a", "GETEX a", "GETEX a EX 100", "TTL a",
		"GETEX a PERSIST", "TTL a", "GETEX a PX 100000 PERSIST", "GETEX a KEEPTTL", "GETEX a foo", "GETEX nokey EX 10",
		"GETEX a EXAT 1", "EXISTS a", "SET a x", "GETDEL a", "GETDEL a"}},
	{"mget-mset", []string{"MSET a 1 b 2 c 3", "MGET a b c d", "MSET a", "MSET a 1 b", "MSETNX a 1 d 4", "MSETNX d 4 e 5",
		"MGET d e"}},
	{"append-strlen-range", []string{"APPEND a hello", "APPEND a \" world\"", "GET a", "STRLEN a", "STRLEN nokey",
		"GETRANGE a 0 4", "GETRANGE a -5 -1", "GETRANGE a 5 2", "GETRANGE a -1 -5", "GETRANGE a 0 100", "GETRANGE a -100 -90",
		"GETRANGE nokey 0 1", "GETRANGE a x 1", "SUBSTR a 1 3", "SETRANGE a 6 W", "GET a", "SETRANGE a 20 x", "GET a",
		"SETRANGE b 3 abc", "GET b", "SETRANGE c 0 \"\"", "EXISTS c", "SETRANGE a -1 x", "SETRANGE a 1 \"\"",
		"SETRANGE a 536870912 x", "SETRANGE a 536870911 x", "STRLEN a", "DEL a", "SET n 12345", "APPEND n 6", "GET n", "STRLEN n"}},
	{"incr-decr", []string{"INCR a", "INCR a", "DECR a", "INCRBY a 10", "DECRBY a 3", "INCRBY a x", "DECRBY a -9223372036854775808",
		"SET a 9223372036854775807", "INCR a", "SET a -9223372036854775808", "DECR a", "SET a foo", "INCR a", "SET a \" 1\"", "INCR a",
		"SET a 01", "INCR a", "SET a 1.5", "INCR a", "INCRBY b 9223372036854775807", "INCRBY b 1"}},
	{"incrbyfloat", []string{"INCRBYFLOAT a 10.5", "INCRBYFLOAT a 0.1", "INCRBYFLOAT a -5", "INCRBYFLOAT a 1e3", "GET a",
		"SET b 3", "INCRBYFLOAT b 1.1", "INCRBYFLOAT b abc", "INCRBYFLOAT b inf", "SET c abc", "INCRBYFLOAT c 1",
		"INCRBYFLOAT d 5.0e3", "INCRBYFLOAT e -0.0", "SET f 1.23456789012345678", "INCRBYFLOAT f 0",
		"INCRBYFLOAT g \" 1\"", "INCRBYFLOAT g 0x10", "INCRBYFLOAT h 3.0000000000000001", "INCRBYFLOAT i 1.1", "INCRBYFLOAT i 2.2"}},
	{"bits", []string{"SETBIT a 7 1", "GETBIT a 7", "GETBIT a 100", "SETBIT a 7 0", "GET a", "SETBIT a 100 1", "STRLEN a",
		"SETBIT a -1 1", "SETBIT a x 1", "SETBIT a 1 2", "SETBIT a 4294967296 1", "GETBIT nokey 1", "SETBIT b 0 1",
		"SET s foobar", "BITCOUNT s", "BITCOUNT s 0 0", "BITCOUNT s 1 1", "BITCOUNT s 1 -1", "BITCOUNT s -2 -1",
		"BITCOUNT s 5 30 BIT", "BITCOUNT s 0 -1 BIT", "BITCOUNT s 0", "BITCOUNT s 0 1 FOO", "BITCOUNT s a b", "BITCOUNT nokey",
		"BITCOUNT s -1 -2", "SET z \"\\xff\\xf0\\x00\"", "BITPOS z 0", "BITPOS z 1", "BITPOS z 1 2", "BITPOS z 0 0 0",
		"BITPOS z 0 0 -1", "BITPOS z 1 7 15 BIT", "BITPOS z 0 2 8 BIT", "BITPOS z 2", "BITPOS nokey 1", "BITPOS nokey 0",
		"SET ones \"\\xff\\xff\"", "BITPOS ones 0", "BITPOS ones 0 0 -1", "BITPOS ones 0 0", "BITPOS z 1 5 1",
		"BITPOS z 0 1 1 BIT", "BITPOS z 0 0 1 FOO",
		"SET k1 foobar", "SET k2 abcdef", "BITOP AND d k1 k2", "GET d", "BITOP OR d k1 k2", "GET d", "BITOP XOR d k1 k2 nokey",
		"GET d", "BITOP NOT d k1", "GET d", "BITOP NOT d k1 k2", "BITOP FOO d k1", "BITOP AND d nokey", "EXISTS d"}},
	{"bitfield", []string{"BITFIELD a GET u8 0", "EXISTS a", "BITFIELD a SET u8 0 255 GET u8 0 GET i8 0", "GET a",
		"BITFIELD a INCRBY u8 0 10", "BITFIELD a OVERFLOW SAT INCRBY u8 0 300 INCRBY i8 8 -200", "BITFIELD a OVERFLOW FAIL INCRBY u8 0 1",
		"BITFIELD a OVERFLOW WRAP INCRBY i8 8 -200 SET i16 #2 -5 GET i16 #2 GET u16 32", "STRLEN a", "BITFIELD a SET i64 0 -1 GET i64 0 GET u63 1",
		"BITFIELD a INCRBY i64 0 -9223372036854775807", "BITFIELD a OVERFLOW SAT INCRBY i64 0 -9223372036854775807",
		"BITFIELD a GET u64 0", "BITFIELD a GET i65 0", "BITFIELD a GET x8 0", "BITFIELD a GET u8 -1", "BITFIELD a GET u8 #x",
		"BITFIELD a SET u8 0 x", "BITFIELD a OVERFLOW foo", "BITFIELD a FOO", "BITFIELD a GET u8", "BITFIELD a",
		"BITFIELD_RO a GET u8 0 GET u4 4", "BITFIELD_RO a SET u8 0 1", "BITFIELD b OVERFLOW FAIL SET u8 100 256", "STRLEN b",
		"BITFIELD c SET u1 7 1 SET u3 0 9 INCRBY i5 3 100 GET u8 0", "BITFIELD_RO nokey GET i8 0", "BITFIELD d SET u8 4294967296 1",
		"BITFIELD e SET u2 0 -1 INCRBY u2 0 -5 OVERFLOW SAT INCRBY u2 0 -5 INCRBY i3 0 7 INCRBY i3 0 -20"}},
	// Which BITFIELDs invalidate a WATCH: not one that creates or pads the
	// string for operations that all fail or change no bit.
	{"bitfield-watch", []string{"WATCH nk", "BITFIELD nk OVERFLOW FAIL SET i8 0 300", "STRLEN nk", "MULTI", "PING", "EXEC",
		"SET k a", "WATCH k", "BITFIELD k OVERFLOW FAIL SET i8 100 300", "STRLEN k", "MULTI", "PING", "EXEC",
		"WATCH k", "BITFIELD k SET u8 0 97", "MULTI", "PING", "EXEC",
		"WATCH k", "BITFIELD k SET u8 0 98", "MULTI", "PING", "EXEC",
		"WATCH nk2", "BITFIELD nk2 SET u8 0 0", "MULTI", "PING", "EXEC",
		"WATCH k", "SETBIT k 300 0", "MULTI", "PING", "EXEC"}},
	{"del-exists-type", []string{"SET a 1", "SET b 2", "EXISTS a b c a", "TYPE a", "TYPE nokey", "DEL a b c", "UNLINK a",
		"EXISTS a", "SET l x", "TOUCH l a nokey"}},
	{"rename", []string{"RENAME a b", "SET a 1", "RENAME a a", "RENAME a b", "GET b", "EXISTS a", "SET c 3", "RENAMENX b c",
		"RENAMENX b d", "GET d", "RENAMENX d d", "RENAMENX nokey x", "EXPIRE d 100", "RENAME d e", "TTL e",
		"SET {t}1 x", "RENAME {t}1 {t}2", "GET {t}2", "RENAME {t}2 other", "GET other"}},
	{"move-copy", []string{"SET a 1", "MOVE a 1", "EXISTS a", "SELECT 1", "GET a", "MOVE a 1", "MOVE a 0", "SELECT 0",
		"GET a", "MOVE a 99", "MOVE a x", "MOVE nokey 1", "SET b 2", "SELECT 1", "SET b 3", "SELECT 0", "MOVE b 1",
		"COPY a c", "GET c", "COPY a c", "COPY a c REPLACE", "COPY a a", "COPY a c DB 1", "SELECT 1", "GET c", "SELECT 0",
		"COPY a c DB 99", "COPY a c DB", "COPY a c FOO", "COPY nokey x", "EXPIRE a 100", "COPY a d", "TTL d", "SET n 1",
		"COPY n n2", "OBJECT ENCODING n2"}},
	{"expire", []string{"EXPIRE a 100", "SET a 1", "EXPIRE a 100", "TTL a", "PERSIST a", "TTL a", "PERSIST a", "EXPIRE a 100 NX",
		"EXPIRE a 200 NX", "EXPIRE a 50 XX", "TTL a", "EXPIRE a 100 GT", "TTL a", "EXPIRE a 10 GT", "EXPIRE a 10 LT", "TTL a",
		"EXPIRE a 20 LT", "PERSIST a", "EXPIRE a 10 GT", "EXPIRE a 10 LT", "TTL a", "EXPIRE a 10 NX XX", "EXPIRE a 10 GT LT",
		"EXPIRE a 10 FOO", "EXPIRE a x", "EXPIRE a 9223372036854775807", "PEXPIRE a 9223372036854775807", "EXPIRE a -1",
		"EXISTS a", "SET a 1", "EXPIREAT a 1", "EXISTS a", "SET a 1", "EXPIREAT a 99999999999", "EXPIRETIME a", "TTL nokey",
		"PTTL nokey", "EXPIRETIME nokey", "SET b 1", "TTL b", "PTTL b", "EXPIRETIME b", "PEXPIRETIME b", "PEXPIREAT b 99999999999999",
		"PEXPIRETIME b", "PEXPIRE b 0", "EXISTS b", "SET c 1", "EXPIRE c 10 xx", "EXPIRE c 10 gt"}},
	{"keys-scan", []string{"MSET a 1 ab 2 abc 3 b 4 {x}1 5", "sort: KEYS *", "sort: KEYS a*", "sort: KEYS ?b*", "sort: KEYS [ab]",
		"sort: KEYS *[^c]", "KEYS nomatch", "sort: KEYS \\{x\\}*", "SCAN x", "SCAN 0 COUNT 0", "SCAN 0 COUNT x", "SCAN 0 FOO bar",
		"SCAN 0 COUNT", "DBSIZE", "kind: RANDOMKEY", "FLUSHDB", "RANDOMKEY", "SCAN 0"}},
	{"object", []string{"SET a 123", "OBJECT ENCODING a", "OBJECT REFCOUNT a", "SET b 123456", "OBJECT REFCOUNT b", "SET c hello",
		"OBJECT ENCODING c", "SET d 01234567890123456789012345678901234567890123456789", "OBJECT ENCODING d", "APPEND a 4",
		"OBJECT ENCODING a", "OBJECT ENCODING nokey", "OBJECT FOO a", "OBJECT ENCODING", "kind: OBJECT IDLETIME a",
		"OBJECT FREQ a", "INCR n", "OBJECT ENCODING n", "SET m -1", "OBJECT ENCODING m", "SET big 12345678901234567890",
		"OBJECT ENCODING big", "INCRBYFLOAT f 1", "OBJECT ENCODING f", "SETRANGE r 0 x", "OBJECT ENCODING r"}},
	{"select-swapdb", []string{"SELECT 1", "SET a 1", "SELECT 16", "SELECT -1", "SELECT x", "SWAPDB 0 1", "GET a", "SELECT 0",
		"GET a", "SWAPDB 0 16", "SWAPDB x 0", "SWAPDB 0 x", "SWAPDB 0 0", "DBSIZE", "FLUSHDB FOO", "FLUSHDB ASYNC", "DBSIZE",
		"SELECT 1", "SET b 1", "FLUSHALL SYNC", "DBSIZE", "FLUSHALL a b"}},
	{"multi-exec", []string{"MULTI", "SET a 1", "INCR a", "GET a", "EXEC", "EXEC", "DISCARD", "MULTI", "MULTI", "SET a 2",
		"DISCARD", "GET a", "MULTI", "SET a", "GET a", "EXEC", "MULTI", "FOO", "EXEC", "MULTI", "SET s x", "INCR s", "GET s",
		"EXEC", "MULTI", "WATCH a", "EXEC", "WATCH a", "SET a changed", "MULTI", "GET a", "EXEC", "WATCH a", "MULTI",
		"GET a", "EXEC", "WATCH nokey", "MULTI", "PING", "EXEC", "WATCH a", "UNWATCH", "SET a x", "MULTI", "GET a", "EXEC",
		"MULTI", "EXEC", "WATCH", "MULTI", "SELECT 1", "SET a db1", "SELECT 0", "EXEC", "GET a"}},
	{"watch-flush", []string{"SET a 1", "WATCH a", "FLUSHALL", "MULTI", "PING", "EXEC", "WATCH x", "SET x 1", "DEL x", "MULTI",
		"PING", "EXEC", "WATCH a", "SET a 1 NX", "MULTI", "PING", "EXEC", "SET a 1", "WATCH a", "EXPIRE a 100", "MULTI", "PING", "EXEC"}},
	{"auth-hello", []string{"AUTH x", "AUTH default x", "AUTH a b c", "AUTH foo bar", "HELLO 1", "HELLO x",
		"kind: HELLO 2", "HELLO 2 FOO", "HELLO 2 SETNAME \"a b\"", "kind: HELLO 2 SETNAME nm", "CLIENT GETNAME"}},
	{"client", []string{"CLIENT SETNAME foo", "CLIENT GETNAME", "CLIENT SETNAME \"a b\"", "CLIENT SETNAME \"\"", "CLIENT GETNAME",
		"CLIENT FOO", "CLIENT KILL 1.2.3.4:5", "CLIENT KILL ID 999999", "CLIENT KILL FOO bar", "CLIENT KILL ID", "CLIENT KILL TYPE foo",
		"CLIENT KILL TYPE normal SKIPME yes", "kind: CLIENT ID", "kind: CLIENT LIST", "kind: CLIENT INFO", "CLIENT LIST TYPE foo",
		"CLIENT LIST FOO", "CLIENT SETNAME", "CLIENT GETNAME x"}},
	{"config", []string{"CONFIG GET maxmemory", "CONFIG GET maxmemory-policy", "CONFIG GET nosuch", "CONFIG SET maxmemory 100mb",
		"CONFIG GET maxmemory", "CONFIG SET maxmemory 0", "CONFIG SET maxmemory abc", "CONFIG SET nosuch 1", "CONFIG SET maxmemory",
		"CONFIG SET maxmemory-policy foo", "CONFIG SET maxmemory-policy allkeys-lru", "CONFIG GET maxmemory-policy",
		"CONFIG SET maxmemory-policy noeviction", "CONFIG SET timeout 0", "CONFIG GET timeout", "CONFIG GET databases",
		"CONFIG FOO", "CONFIG GET", "CONFIG RESETSTAT", "CONFIG SET hz 10", "CONFIG GET hz",
		"CONFIG GET appendonly", "CONFIG GET requirepass", "CONFIG GET slowlog-max-len", "CONFIG GET proto-max-bulk-len"}},
	// CONFIG SET maxmemory below the used memory evicts at once (inside
	// EXEC, so the cron cannot do it in between).
	{"config-evict", []string{"CONFIG SET maxmemory-policy allkeys-random", "SET a 1", "SET b 2", "RPUSH l x y z",
		"MULTI", "CONFIG SET maxmemory 1", "DBSIZE", "EXEC", "CONFIG SET maxmemory 0", "SET c 3", "DBSIZE",
		"CONFIG SET maxmemory-policy noeviction", "MULTI", "CONFIG SET maxmemory 1", "DBSIZE", "EXEC",
		"CONFIG SET maxmemory 0"}},
	{"misc-server", []string{"kind: TIME", "kind: LASTSAVE", "DBSIZE", "SET a 1", "DBSIZE", "kind: INFO", "kind: INFO keyspace",
		"ROLE", "kind: COMMAND COUNT", "kind: COMMAND INFO get set", "COMMAND INFO nosuch", "SLOWLOG FOO", "SLOWLOG RESET",
		"SLOWLOG LEN", "SLOWLOG GET x", "SHUTDOWN FOO", "SHUTDOWN ABORT", "REPLICAOF a x", "REPLICAOF a 99999",
		"REPLICAOF NO ONE", "COMMAND GETKEYS GET a", "COMMAND GETKEYS MSET a 1 b 2", "COMMAND GETKEYS PING", "COMMAND GETKEYS FOO"}},
	{"subcommands-in-multi", []string{"MULTI", "CONFIG FOO", "EXEC", "MULTI", "CLIENT SETNAME", "EXEC", "MULTI", "OBJECT ENCODING",
		"EXEC", "MULTI", "CONFIG GET", "PING", "EXEC", "CONFIG", "CLIENT", "OBJECT", "SLOWLOG", "COMMAND LIST x", "kind: COMMAND LIST",
		"CLIENT KILL", "CONFIG SET a", "CONFIG SET a b c", "SLOWLOG GET 1 2"}},
	{"multi-nesting", []string{"MULTI", "MULTI", "SET a 1", "EXEC", "GET a", "MULTI", "WATCH x", "SET b 1", "EXEC", "GET b",
		"MULTI", "SHUTDOWN ABORT", "SET c 1", "EXEC", "GET c", "MULTI", "QUIT"}},
	{"dump-restore", []string{"SET a hello", "DUMP nokey", "RESTORE a 0 junk", "RESTORE b 0 junk", "RESTORE b -1 junk",
		"RESTORE b x junk", "RESTORE b 0 junk FOO", "RESTORE b 0 junk IDLETIME -1", "RESTORE b 0 junk IDLETIME x",
		"RESTORE b 0 junk FREQ 256", "RESTORE b 0 junk FREQ -1", "RESTORE b 0 junk IDLETIME 1 FREQ 1",
		"RESTORE b 0 junk FREQ 1 IDLETIME 1", "RESTORE b 0 junk IDLETIME", "RESTORE a 0 junk REPLACE ABSTTL", "RESTORE b 0 \"\"",
		"RESTORE b 0 \"\\x00\\x01a\\x0b\\x00\\x00\\x00\\x00\\x00\\x00\\x00\\x00\\x00\"", "DUMP", "RESTORE a 0"}},
	{"sort", []string{"RPUSH l 3 1 2 10 -5 1.5", "SORT l", "SORT l DESC", "SORT l LIMIT 1 2", "SORT l LIMIT -1 2", "SORT l LIMIT 10 2",
		"SORT l LIMIT 2 -1", "SORT l ALPHA", "SORT l ALPHA DESC LIMIT 0 3", "SORT l LIMIT x 1", "SORT l LIMIT 1", "SORT l FOO",
		"SORT l BY nosort", "SORT l BY nosort DESC", "SORT l BY nosort LIMIT 1 3", "SORT l BY nosort DESC LIMIT 1 3",
		"MSET w_3 30 w_1 10 w_2 20 w_10 -1 w_-5 5 w_1.5 100", "SORT l BY w_*", "SORT l BY w_* DESC LIMIT 0 2",
		"MSET o_3 c o_1 a o_2 b o_10 z o_-5 y", "SORT l BY o_* ALPHA", "SORT l BY o_*", "SORT l GET o_* GET # GET nokey_*",
		"SORT l GET o_*", "SORT l GET fixed", "HSET h_3 f x", "HSET h_1 f y", "SORT l BY w_* GET h_*->f GET # GET h_*->",
		"SORT l BY h_*->f ALPHA", "SORT l STORE dst", "LRANGE dst 0 -1", "TTL dst", "SORT l GET o_* STORE dst", "LRANGE dst 0 -1",
		"SORT nokey", "SORT nokey STORE dst", "EXISTS dst", "SET s x", "SORT s", "SORT_RO l STORE dst", "SORT_RO l DESC",
		"RPUSH bad a b", "SORT bad", "SORT bad ALPHA", "SORT bad BY nosort", "RPUSH e \"\" 2", "SORT e",
		"SADD st 5 3 9 1", "SORT st", "SORT st DESC LIMIT 1 2", "SORT st BY nosort STORE dst", "LRANGE dst 0 -1",
		"SADD st2 b a c", "SORT st2 ALPHA", "SORT st2 BY nosort ALPHA STORE dst2", "LRANGE dst2 0 -1",
		"ZADD z 3 a 1 b 2 c", "SORT z BY nosort", "SORT z BY nosort DESC", "SORT z BY nosort LIMIT 1 1",
		"SORT z BY nosort DESC LIMIT 1 5", "SORT z ALPHA", "SORT z ALPHA DESC GET #", "RPUSH hx 0x10 \" 7\" 1e2", "SORT hx",
		"RPUSH sp \"7 \"", "SORT sp", "RPUSH nanl nan", "SORT nanl", "RPUSH infl inf -inf 1", "SORT infl",
		"DEL l", "RPUSH l b a c", "SET dst x", "EXPIRE dst 100", "SORT l ALPHA STORE dst", "TTL dst", "TYPE dst",
		"SORT l ALPHA STORE l", "LRANGE l 0 -1", "SORT l BY nokey_* ALPHA", "SORT l BY h_*->nofield", "SORT l GET h_*->nofield",
		"SORT l GET * GET # GET *->", "SORT l LIMIT 0 0", "SORT l LIMIT 0 0 STORE dst", "EXISTS dst", "SORT l get # by nosort desc",
		"SORT l BY w_* ALPHA DESC", "SORT l STORE", "SORT l GET", "SORT l BY", "SORT l ALPHA LIMIT 1 1 GET # STORE d2", "LRANGE d2 0 -1",
		"SORT_RO nokey", "SORT_RO l BY nosort"}},
	{"scan-order", []string{"MSET k1 1 k2 2 k3 3", "EXPIRE k1 100", "sort: KEYS *", "DBSIZE", "kind: SCAN 0 COUNT 100"}},
	// Found by TestRandomDiffMixed: a bit write leaves a raw string; a
	// SETBIT or BITFIELD that changes no bit does not touch WATCHed keys.
	{"bit-write-encoding-watch", []string{"SET k hello", "BITFIELD k GET u8 0", "OBJECT ENCODING k",
		"BITFIELD k INCRBY u8 0 0", "OBJECT ENCODING k", "SET n 12", "BITFIELD n OVERFLOW FAIL INCRBY u8 0 1000",
		"OBJECT ENCODING n", "GET n", "SET k hello", "WATCH k", "SETBIT k 0 0", "MULTI", "EXISTS k", "EXEC",
		"WATCH k", "BITFIELD k OVERFLOW FAIL INCRBY u8 0 1000", "MULTI", "EXISTS k", "EXEC",
		"WATCH k", "BITFIELD k INCRBY u2 14 -9223372036854775808 SET u8 0 104", "MULTI", "EXISTS k", "EXEC",
		"WATCH k", "BITFIELD k SET u8 0 105", "MULTI", "EXISTS k", "EXEC", "WATCH k", "SETBIT k 1 0", "MULTI", "EXISTS k", "EXEC",
		"WATCH k", "SETBIT k 100 0", "MULTI", "EXISTS k", "EXEC", "GET k"}},
	// Found by TestRandomDiffMixed: SORT converts a packed sorted set for
	// good; a set sorted BY nosort in a script is sorted (ALPHA).
	{"sort-side-effects", []string{"ZADD z 2 a 1 b", "SORT z BY nosort", "OBJECT ENCODING z", "ZADD z2 1 x",
		"SORT_RO z2 LIMIT 0 1", "OBJECT ENCODING z2", "ZADD z3 1 x", "SORT z3 LIMIT x 1", "OBJECT ENCODING z3",
		"SORT z3 ALPHA STORE d", "OBJECT ENCODING z3", "SADD s 5 1 x 3", "EVAL \"return redis.call('sort',KEYS[1],'by','nosort')\" 1 s",
		"EVAL \"return redis.call('sort',KEYS[1],'by','nosort','desc','limit',1,2)\" 1 s", "SORT s BY nosort STORE d2", "LRANGE d2 0 -1"}},
	// Found by TestRandomDiffMixed: LCS was missing.
	{"lcs", []string{"SET a ohmytext", "SET b mynewtext", "LCS a b", "LCS a b LEN", "LCS a b IDX", "LCS a b IDX MINMATCHLEN 4 WITHMATCHLEN",
		"LCS a b IDX MINMATCHLEN -3 WITHMATCHLEN", "LCS a b LEN IDX", "LCS a b MINMATCHLEN x", "LCS a b FOO", "LCS a b MINMATCHLEN",
		"LCS a nokey IDX", "LCS nokey nokey", "RPUSH l x", "LCS l a FOO", "LCS a l", "LCS a", "SET c aaaa", "SET d aa",
		"LCS c d IDX WITHMATCHLEN", "LCS d c IDX WITHMATCHLEN", "SET e abcabcabc", "SET f cbacbacba", "LCS e f IDX WITHMATCHLEN",
		"LCS f e IDX WITHMATCHLEN", "LCS e f", "SET g xaybzc", "SET h abc", "LCS g h IDX WITHMATCHLEN", "LCS a a IDX WITHMATCHLEN",
		"COMMAND GETKEYS LCS a b", "COMMAND INFO lcs"}},
}

// compareMode splits the mode prefix off a case line.
func compareMode(line string) (string, string) {
	for _, m := range []string{"sort", "kind", "skip"} {
		if strings.HasPrefix(line, m+": ") {
			return m, strings.TrimPrefix(line, m+": ")
		}
	}
	return "exact", line
}

func sortedReply(r resp.Reply) string {
	if r.Kind != resp.KindArray || r.Nil {
		return r.String()
	}
	parts := make([]string, len(r.Elems))
	for i, e := range r.Elems {
		parts[i] = e.String()
	}
	slices.Sort(parts)
	return "[" + strings.Join(parts, " ") + "]"
}

// runDiff runs lines against both servers and reports differences.
// diffSeed returns the seed of a randomized differential test: the one in
// CODIS_DIFF_SEED when set (to replay a run), else a fresh one. It logs it.
func diffSeed(t testing.TB) uint64 {
	t.Helper()
	seed := uint64(time.Now().UnixNano())
	if v := os.Getenv("CODIS_DIFF_SEED"); v != "" {
		n, err := strconv.ParseUint(v, 10, 64)
		if err != nil {
			t.Fatalf("bad CODIS_DIFF_SEED: %v", err)
		}
		seed = n
	}
	t.Logf("seed %d (replay with CODIS_DIFF_SEED=%d)", seed, seed)
	return seed
}

func runDiff(t *testing.T, ours, theirs string, lines []string) {
	t.Helper()
	a, b := dial(t, ours), dial(t, theirs)
	a.expect("+OK", "FLUSHALL")
	b.expect("+OK", "FLUSHALL")
	for i, line := range lines {
		mode, cmd := compareMode(line)
		argv, ok := resp.SplitArgs([]byte(cmd))
		if !ok || len(argv) == 0 {
			t.Fatalf("line %d: bad command %q", i, line)
		}
		args := make([]string, len(argv))
		for j, x := range argv {
			args[j] = string(x)
		}
		ra, rb := a.do(args...), b.do(args...)
		var ga, gb string
		switch mode {
		case "sort":
			ga, gb = sortedReply(ra), sortedReply(rb)
		case "kind":
			ga, gb = string(ra.Kind), string(rb.Kind)
			if ra.IsError() || rb.IsError() {
				ga, gb = ra.String(), rb.String()
			}
		case "skip":
			continue
		default:
			ga, gb = ra.String(), rb.String()
		}
		if ga != gb {
			t.Errorf("line %d %q:\n ours:  %s\n redis: %s", i, line, ga, gb)
		}
	}
}

func TestDiff(t *testing.T) {
	rp := startRedis(t)
	s := startServer(t)
	for _, tc := range diffCases {
		t.Run(tc.name, func(t *testing.T) {
			runDiff(t, s.Addr().String(), rp.addr, tc.lines)
		})
	}
}
