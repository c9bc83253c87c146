package proxy

import keyslot "github.com/codisgo/codis/pkg/utils/slot"

// OpFlag classifies a command (SPEC-data §D.3).
type OpFlag uint32

const (
	// FlagWrite marks commands that modify data.
	FlagWrite OpFlag = 1 << iota
	// FlagMasterOnly marks reads that must be served by the master.
	FlagMasterOnly
	// FlagMayWrite marks commands the proxy does not know: forwarded to
	// the master.
	FlagMayWrite
	// FlagNotAllowed marks commands the proxy refuses.
	FlagNotAllowed
)

// IsReadOnly reports whether a replica may serve the command.
func (f OpFlag) IsReadOnly() bool { return f&(FlagWrite|FlagMayWrite|FlagMasterOnly) == 0 }

// IsNotAllowed reports whether the proxy refuses the command.
func (f OpFlag) IsNotAllowed() bool { return f&FlagNotAllowed != 0 }

// opKind says how the session handles a command.
type opKind uint8

const (
	kindForward      opKind = iota // dispatched by hash key
	kindQuit                       // QUIT
	kindAuth                       // AUTH
	kindSelect                     // SELECT
	kindPing                       // PING, answered locally
	kindInfo                       // INFO, answered locally
	kindEcho                       // ECHO, answered locally
	kindHello                      // HELLO, answered locally (RESP2 only)
	kindMGet                       // split
	kindMSet                       // split
	kindDel                        // split (DEL)
	kindExists                     // split (EXISTS)
	kindSlotsInfo                  // SLOTSINFO addr
	kindSlotsScan                  // SLOTSSCAN slot cursor ...
	kindSlotsMapping               // SLOTSMAPPING [slot]
)

// opInfo is one command table entry.
type opInfo struct {
	Name   string
	Flag   OpFlag
	kind   opKind
	keyPos int // argument index of the hash key
	id     int // index into the per-proxy stats table
}

// unknownOp is the entry for commands that are not in the table; its Name
// is replaced by the upper-cased command name for statistics.
var unknownOp = opInfo{Flag: FlagMayWrite, kind: kindForward, keyPos: 1, id: -1}

// The command table. Built once at package initialisation; never modified.
var (
	opTable = map[string]*opInfo{}
	opList  []*opInfo // by id
)

func defineOps(flag OpFlag, names ...string) {
	for _, name := range names {
		op := &opInfo{Name: name, Flag: flag, keyPos: 1, id: len(opList)}
		opTable[name] = op
		opList = append(opList, op)
	}
}

func init() {
	defineOps(0, "AUTH", "BITCOUNT", "BITPOS", "COMMAND", "DUMP", "ECHO", "EXISTS",
		"GEODIST", "GEOHASH", "GEOPOS", "GET", "GETBIT", "GETRANGE", "HEXISTS", "HGET",
		"HGETALL", "HKEYS", "HLEN", "HMGET", "HSTRLEN", "HVALS", "INFO", "LINDEX", "LLEN",
		"LRANGE", "MGET", "PFCOUNT", "PFSELFTEST", "PING", "PTTL", "PUBSUB", "QUIT", "ROLE",
		"SCARD", "SDIFF", "SELECT", "SINTER", "SISMEMBER", "SLOTSHASHKEY", "SLOTSMAPPING",
		"SMEMBERS", "SRANDMEMBER", "STRLEN", "SUBSTR", "SUNION", "TTL", "TYPE", "ZCARD",
		"ZCOUNT", "ZLEXCOUNT", "ZRANGE", "ZRANGEBYLEX", "ZRANGEBYSCORE", "ZRANK",
		"ZREVRANGE", "ZREVRANGEBYLEX", "ZREVRANGEBYSCORE", "ZREVRANK", "ZSCORE")
	defineOps(FlagMasterOnly, "HSCAN", "SSCAN", "ZSCAN", "SLOTSINFO", "SLOTSSCAN")
	defineOps(FlagWrite, "APPEND", "BITFIELD", "DECR", "DECRBY", "DEL", "EVAL", "EVALSHA",
		"EXPIRE", "EXPIREAT", "GEOADD", "GEORADIUS", "GEORADIUSBYMEMBER", "GETSET", "HDEL",
		"HINCRBY", "HINCRBYFLOAT", "HMSET", "HSET", "HSETNX", "INCR", "INCRBY",
		"INCRBYFLOAT", "LINSERT", "LPOP", "LPUSH", "LPUSHX", "LREM", "LSET", "LTRIM", "MSET",
		"PERSIST", "PEXPIRE", "PEXPIREAT", "PFADD", "PFDEBUG", "PFMERGE", "PSETEX", "RPOP",
		"RPOPLPUSH", "RPUSH", "RPUSHX", "SADD", "SDIFFSTORE", "SET", "SETBIT", "SETEX",
		"SETNX", "SETRANGE", "SINTERSTORE", "SLOTSRESTORE", "SMOVE", "SORT", "SPOP", "SREM",
		"SUNIONSTORE", "TOUCH", "ZADD", "ZINCRBY", "ZINTERSTORE", "ZREM", "ZREMRANGEBYLEX",
		"ZREMRANGEBYRANK", "ZREMRANGEBYSCORE", "ZUNIONSTORE")
	defineOps(FlagNotAllowed, "ASKING", "BGREWRITEAOF", "BGSAVE", "BITOP", "BLPOP", "BRPOP",
		"BRPOPLPUSH", "CLIENT", "CLUSTER", "CONFIG", "DBSIZE", "DEBUG", "DISCARD", "EXEC",
		"FLUSHALL", "FLUSHDB", "HOST:", "KEYS", "LASTSAVE", "LATENCY", "MIGRATE", "MONITOR",
		"MOVE", "MSETNX", "MULTI", "OBJECT", "POST", "PSUBSCRIBE", "PSYNC", "PUBLISH",
		"PUNSUBSCRIBE", "RANDOMKEY", "READONLY", "READWRITE", "RENAME", "RENAMENX",
		"REPLCONF", "RESTORE", "SAVE", "SCAN", "SCRIPT", "SHUTDOWN", "SLAVEOF",
		"SLOTSCHECK", "SLOTSDEL", "SLOTSMGRTONE", "SLOTSMGRTSLOT", "SLOTSMGRTTAGONE",
		"SLOTSMGRTTAGSLOT", "SLOWLOG", "SUBSCRIBE", "SYNC", "TIME", "UNSUBSCRIBE",
		"UNWATCH", "WAIT", "WATCH",
		// Listed as not allowed by the original but unreachable there
		// (dash in the name); refused here.
		"RESTORE-ASKING", "SLOTSMGRTONE-ASYNC", "SLOTSMGRTSLOT-ASYNC",
		"SLOTSMGRTTAGONE-ASYNC", "SLOTSMGRTTAGSLOT-ASYNC", "SLOTSMGRT-ASYNC-FENCE",
		"SLOTSMGRT-ASYNC-CANCEL", "SLOTSMGRT-ASYNC-STATUS", "SLOTSMGRT-EXEC-WRAPPER",
		"SLOTSRESTORE-ASYNC", "SLOTSRESTORE-ASYNC-AUTH", "SLOTSRESTORE-ASYNC-ACK",
		"SLOTSRESTORE-ASYNC-SELECT")
	// HELLO is not in the original table (it would be forwarded); this
	// proxy answers it itself so RESP3 can never be negotiated with a
	// shared backend connection.
	defineOps(0, "HELLO")
	// Redis 7's read-only script forms are not in the original table
	// either; unknown, they would be routed by the script text.
	defineOps(0, "EVAL_RO", "EVALSHA_RO")

	for name, kind := range map[string]opKind{
		"QUIT": kindQuit, "AUTH": kindAuth, "SELECT": kindSelect, "PING": kindPing,
		"INFO": kindInfo, "ECHO": kindEcho, "HELLO": kindHello, "MGET": kindMGet,
		"MSET": kindMSet, "DEL": kindDel, "EXISTS": kindExists, "SLOTSINFO": kindSlotsInfo,
		"SLOTSSCAN": kindSlotsScan, "SLOTSMAPPING": kindSlotsMapping,
	} {
		opTable[name].kind = kind
	}
	for _, name := range []string{"ZINTERSTORE", "ZUNIONSTORE", "EVAL", "EVALSHA", "EVAL_RO", "EVALSHA_RO"} {
		opTable[name].keyPos = 3
	}
}

// maxOpNameLen bounds command names (SPEC-data §D.2).
const maxOpNameLen = 64

// lookupOp classifies a command name without allocating: the name is
// upper-cased into buf and looked up in the table; names not in the table
// are unknown (may-write) commands. It returns the entry, the upper-cased
// name (a sub-slice of buf) and false when the name length is out of range.
//
// The original looked up only names made of letters and ':', so every
// name containing a dash or digit slipped past the not-allowed list (e.g.
// SLOTSMGRT-EXEC-WRAPPER from a client reached the servers; SPEC-data
// appendix 4). Here every name is looked up.
func lookupOp(name []byte, buf *[maxOpNameLen]byte) (*opInfo, []byte, bool) {
	if len(name) == 0 || len(name) > maxOpNameLen {
		return nil, nil, false
	}
	for i, c := range name {
		if c >= 'a' && c <= 'z' {
			c -= 'a' - 'A'
		}
		buf[i] = c
	}
	upper := buf[:len(name)]
	if op, ok := opTable[string(upper)]; ok {
		return op, upper, true
	}
	return &unknownOp, upper, true
}

// MaxSlotNum is the number of slots.
const MaxSlotNum = keyslot.Count

// SlotOf returns the slot of key (SPEC-data §A.1).
func SlotOf(key []byte) int { return keyslot.Of(key) }

// hashKey returns the argument hashed for routing (SPEC-data §D.4), or nil
// (slot 0) when it is missing.
func hashKey(argv [][]byte, op *opInfo) []byte {
	if op.keyPos < len(argv) {
		return argv[op.keyPos]
	}
	return nil
}
