package server

import (
	"encoding/binary"
	"fmt"
	"math"
	"strconv"

	"github.com/codisgo/codis/pkg/resp"
)

// Semi-async migration, target side (SPEC-data §B.7.4): every message gets
// exactly one SLOTSRESTORE-ASYNC-ACK reply; after an error ACK the
// connection is closed. Successful writes are propagated verbatim.

func init() {
	register(
		&Command{Name: "slotsrestore-async", Arity: -2, Flags: FlagWrite | FlagDenyOOM, Proc: slotsrestoreAsyncCommand},
		&Command{Name: "slotsrestore-async-auth", Arity: 2, Flags: FlagNoScript | FlagLoading | FlagStale | FlagFast | FlagNoAuth, Proc: slotsrestoreAsyncAuthCommand},
		&Command{Name: "slotsrestore-async-select", Arity: 2, Flags: FlagLoading | FlagFast, Proc: slotsrestoreAsyncSelectCommand},
	)
}

// asyncAck replies an ACK; an error ACK (code -1) closes the connection
// (except for the replication master, whose stream must go on).
func (c *client) asyncAck(code int, msg string) {
	c.out = resp.AppendArrayLen(c.out, 3)
	c.out = resp.AppendBulkString(c.out, "SLOTSRESTORE-ASYNC-ACK")
	c.out = resp.AppendBulkString(c.out, strconv.Itoa(code))
	c.out = resp.AppendBulkString(c.out, msg)
	if code != 0 && !c.isMaster() {
		c.closeAfterReply = true
	}
}

func (c *client) asyncAckErr(format string, args ...any) {
	c.asyncAck(-1, fmt.Sprintf(format, args...))
}

func slotsrestoreAsyncAuthCommand(c *client, argv [][]byte) {
	pw := c.s.cfg.RequirePass
	switch {
	case pw == "":
		c.asyncAckErr("Client sent AUTH, but no password is set")
	case string(argv[1]) != pw:
		c.authed = false
		c.p.Unauthenticated = true
		c.asyncAckErr("invalid password")
	default:
		c.setAuthed()
		c.asyncAck(0, "OK")
	}
}

func slotsrestoreAsyncSelectCommand(c *client, argv [][]byte) {
	n, ok := parseInt64(argv[1])
	if !ok || n < 0 || n > math.MaxInt32 || n >= int64(len(c.s.ks.dbs)) {
		c.asyncAckErr("invalid DB index (%s)", argv[1])
		return
	}
	c.db = c.s.ks.dbs[n]
	c.asyncAck(0, "OK")
}

// asyncExpectType is the "expect=" part of the wrong-type message.
var asyncExpectType = map[ValueType]string{TypeList: "1/9", TypeHash: "4/2", TypeSet: "2/2", TypeZSet: "3/7"}

// asyncEncCode is the Redis 3.2 encoding number of a value.
func asyncEncCode(e *Entry) int {
	if e.typ == TypeString {
		switch e.enc {
		case encInt:
			return 1
		case encEmbstr:
			return 8
		}
		return 0
	}
	switch e.Obj().Encoding() {
	case "hashtable":
		return 2
	case "listpack", "ziplist":
		return 5
	case "intset":
		return 6
	case "skiplist":
		return 7
	case "quicklist":
		return 9
	}
	return -1
}

func slotsrestoreAsyncCommand(c *client, argv [][]byte) {
	s := c.s
	sub := string(lowerASCII(argv[1]))
	argc := len(argv)
	wrongArgs := func() { c.asyncAckErr("wrong number of arguments (argc=%d,cmd=%s)", argc, argv[1]) }
	if s.asyncBatchOf(c.db.id) != nil {
		c.asyncAckErr("the specified DB is being migrated")
		return
	}
	db := c.db
	switch sub {
	case "delete":
		if argc != 3 {
			wrongArgs()
			return
		}
		if db.Delete(argv[2]) {
			c.asyncAck(0, "1")
		} else {
			c.asyncAck(0, "0")
		}
		return
	case "expire":
		if argc != 4 {
			wrongArgs()
			return
		}
	case "string", "object":
		if argc != 5 {
			wrongArgs()
			return
		}
	case "list", "hash", "dict", "zset":
		if argc < 5 {
			wrongArgs()
			return
		}
	default:
		if argc < 5 {
			wrongArgs()
		} else {
			c.asyncAckErr("unknown command (argc=%d,cmd=%s)", argc, argv[1])
		}
		return
	}
	key := argv[2]
	ttl, ok := parseInt64(argv[3])
	if !ok || ttl < 0 {
		c.asyncAckErr("invalid TTL value (TTL=%s)", argv[3])
		return
	}
	var e *Entry
	msg := "1"
	switch sub {
	case "expire":
		if e = db.Lookup(key); e == nil {
			c.asyncAckErr("the specified key doesn't exist (%s)", key)
			return
		}
	case "string", "object":
		if db.Lookup(key) != nil {
			c.asyncAckErr("the specified key already exists (%s)", key)
			return
		}
		if sub == "string" {
			e = NewStringEntry(cloneBytes(argv[4]))
		} else {
			var err error
			lim := c.s.encLimits() // as RESTORE: this server's encoding thresholds
			if e, err = decodePayloadLim(argv[4], slotsrestoreMaxVersion, &lim); err != nil {
				c.asyncAckErr("%s", errAsyncPayload(err))
				return
			}
		}
		db.Add(key, e)
	default:
		hint, ok := parseInt64(argv[4])
		if !ok || hint < 0 {
			c.asyncAckErr("invalid Hint value (Hint=%s)", argv[4])
			return
		}
		elems := argv[5:]
		if (sub == "hash" || sub == "zset") && len(elems)%2 != 0 {
			wrongArgs()
			return
		}
		var n int
		if e, n, ok = c.asyncChunk(sub, key, elems); !ok {
			return
		}
		msg = strconv.Itoa(n)
	}
	at := int64(0)
	if ttl > 0 {
		at = s.ks.now + min(ttl, math.MaxInt64-s.ks.now)
	}
	db.SetExpire(key, e, at)
	c.asyncAck(0, msg)
}

// asyncChunk applies a list/hash/dict/zset chunk and returns the entry and
// the value's new size; on failure it has replied the error ACK.
func (c *client) asyncChunk(sub string, key []byte, elems [][]byte) (*Entry, int, bool) {
	db := c.db
	want := map[string]ValueType{"list": TypeList, "hash": TypeHash, "dict": TypeSet, "zset": TypeZSet}[sub]
	var scores []float64
	if sub == "zset" {
		for i := 1; i < len(elems); i += 2 {
			if len(elems[i]) != 8 {
				c.asyncAckErr("invalid zset score ([%d]), bad raw bits", i/2)
				return nil, 0, false
			}
			f := math.Float64frombits(binary.LittleEndian.Uint64(elems[i]))
			if math.IsNaN(f) {
				c.asyncAckErr("invalid zset score ([%d]), bad raw bits", i/2)
				return nil, 0, false
			}
			scores = append(scores, f)
		}
	}
	e := db.Lookup(key)
	created := false
	if e == nil {
		if len(elems) == 0 {
			c.asyncAckErr("the specified key doesn't exist (%s)", key)
			return nil, 0, false
		}
		switch want {
		case TypeList:
			e = NewObjectEntry(newListObj())
		case TypeHash:
			e = NewObjectEntry(newHashObj())
		case TypeSet:
			e = NewObjectEntry(newSetObject())
		case TypeZSet:
			e = NewObjectEntry(newZsetObject())
		}
		created = true
	} else if e.typ != want {
		c.asyncAckErr("wrong type (expect=%s,got=%d/%d)", asyncExpectType[want], asyncTypeCode(e.typ), asyncEncCode(e))
		return nil, 0, false
	}
	var n int
	enc := c.s.encLimits()
	switch o := e.Obj().(type) {
	case *listObj:
		for _, v := range elems {
			o.pushBack(v)
		}
		n = o.Len()
	case *hashObj:
		lim := c.s.hashLimits()
		for i := 0; i < len(elems); i += 2 {
			o.set(elems[i], elems[i+1], lim)
		}
		n = o.Len()
	case *setObject:
		for _, m := range elems {
			o.Add(m, enc.setInts)
		}
		n = o.Len()
	case *zsetObject:
		for i := 0; i < len(elems); i += 2 {
			m := string(elems[i])
			if old, ok := o.Score(m); ok {
				o.Update(m, old, scores[i/2])
			} else {
				o.Insert(m, scores[i/2], &enc)
			}
		}
		n = o.Len()
	}
	if created {
		db.Add(key, e)
	} else {
		db.Modified(key, e)
	}
	return e, n, true
}
