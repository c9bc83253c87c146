package server

import (
	"fmt"
	"math"
	"math/big"
	"strconv"
)

func init() {
	wm := FlagWrite | FlagDenyOOM
	register(
		&Command{Name: "get", Arity: 2, Flags: FlagReadOnly | FlagFast, FirstKey: 1, LastKey: 1, Step: 1, Proc: getCommand},
		&Command{Name: "set", Arity: -3, Flags: wm, FirstKey: 1, LastKey: 1, Step: 1, Proc: setCommand},
		&Command{Name: "setnx", Arity: 3, Flags: wm | FlagFast, FirstKey: 1, LastKey: 1, Step: 1, Proc: setnxCommand},
		&Command{Name: "setex", Arity: 4, Flags: wm, FirstKey: 1, LastKey: 1, Step: 1, Proc: setexCommand},
		&Command{Name: "psetex", Arity: 4, Flags: wm, FirstKey: 1, LastKey: 1, Step: 1, Proc: psetexCommand},
		&Command{Name: "getset", Arity: 3, Flags: wm | FlagFast, FirstKey: 1, LastKey: 1, Step: 1, Proc: getsetCommand},
		&Command{Name: "getex", Arity: -2, Flags: FlagWrite | FlagFast, FirstKey: 1, LastKey: 1, Step: 1, Proc: getexCommand},
		&Command{Name: "getdel", Arity: 2, Flags: FlagWrite | FlagFast, FirstKey: 1, LastKey: 1, Step: 1, Proc: getdelCommand},
		&Command{Name: "mget", Arity: -2, Flags: FlagReadOnly | FlagFast, FirstKey: 1, LastKey: -1, Step: 1, Proc: mgetCommand},
		&Command{Name: "mset", Arity: -3, Flags: wm, FirstKey: 1, LastKey: -1, Step: 2, Proc: msetCommand},
		&Command{Name: "msetnx", Arity: -3, Flags: wm, FirstKey: 1, LastKey: -1, Step: 2, Proc: msetnxCommand},
		&Command{Name: "append", Arity: 3, Flags: wm | FlagFast, FirstKey: 1, LastKey: 1, Step: 1, Proc: appendCommand},
		&Command{Name: "strlen", Arity: 2, Flags: FlagReadOnly | FlagFast, FirstKey: 1, LastKey: 1, Step: 1, Proc: strlenCommand},
		&Command{Name: "getrange", Arity: 4, Flags: FlagReadOnly, FirstKey: 1, LastKey: 1, Step: 1, Proc: getrangeCommand},
		&Command{Name: "substr", Arity: 4, Flags: FlagReadOnly, FirstKey: 1, LastKey: 1, Step: 1, Proc: getrangeCommand},
		&Command{Name: "setrange", Arity: 4, Flags: wm, FirstKey: 1, LastKey: 1, Step: 1, Proc: setrangeCommand},
		&Command{Name: "incr", Arity: 2, Flags: wm | FlagFast, FirstKey: 1, LastKey: 1, Step: 1, Proc: incrCommand},
		&Command{Name: "decr", Arity: 2, Flags: wm | FlagFast, FirstKey: 1, LastKey: 1, Step: 1, Proc: decrCommand},
		&Command{Name: "incrby", Arity: 3, Flags: wm | FlagFast, FirstKey: 1, LastKey: 1, Step: 1, Proc: incrbyCommand},
		&Command{Name: "decrby", Arity: 3, Flags: wm | FlagFast, FirstKey: 1, LastKey: 1, Step: 1, Proc: decrbyCommand},
		&Command{Name: "incrbyfloat", Arity: 3, Flags: wm | FlagFast, FirstKey: 1, LastKey: 1, Step: 1, Proc: incrbyfloatCommand},
	)
}

// lookupTyped is the common lookup of type handlers: it returns the live
// entry of key if it holds type t, nil if the key is absent, and ok=false
// (after replying WRONGTYPE) if it holds another type. read selects
// LookupRead (keyspace hit/miss stats) over Lookup.
func (c *client) lookupTyped(key []byte, t ValueType, read bool) (e *Entry, ok bool) {
	if read {
		e = c.db.LookupRead(key)
	} else {
		e = c.db.Lookup(key)
	}
	if e != nil && e.typ != t {
		c.addError(errWrongType)
		return nil, false
	}
	return e, true
}

// lookupString is lookupTyped for reading strings.
func (c *client) lookupString(key []byte) (*Entry, bool) { return c.lookupTyped(key, TypeString, true) }

// lookupStringWrite is lookupTyped for modifying strings.
func (c *client) lookupStringWrite(key []byte) (*Entry, bool) {
	return c.lookupTyped(key, TypeString, false)
}

func cloneBytes(b []byte) []byte {
	out := make([]byte, len(b))
	copy(out, b)
	return out
}

func getCommand(c *client, argv [][]byte) {
	e, ok := c.lookupString(argv[1])
	if !ok {
		return
	}
	if e == nil {
		c.addNull()
		return
	}
	c.addBulk(e.Str())
}

// Flags of SET / GETEX argument parsing.
const (
	setNX = 1 << iota
	setXX
	setGet
	setKeepTTL
	setEX
	setPX
	setEXAT
	setPXAT
	setPersist
	setExpireMask = setEX | setPX | setEXAT | setPXAT
)

// parseSetArgs parses Redis's extended string arguments (SET and GETEX).
// It returns the flags and the absolute expiry in ms.
func (c *client) parseSetArgs(args [][]byte, isSet bool, cmdName string) (int, int64, bool) {
	flags := 0
	var expire []byte
	for i := 0; i < len(args); i++ {
		a := args[i]
		var next []byte
		if i+1 < len(args) {
			next = args[i+1]
		}
		switch {
		case isSet && eqFold(a, "nx") && flags&(setXX|setNX) == 0:
			flags |= setNX
		case isSet && eqFold(a, "xx") && flags&(setXX|setNX) == 0:
			flags |= setXX
		case isSet && eqFold(a, "get") && flags&setGet == 0:
			flags |= setGet
		case isSet && eqFold(a, "keepttl") && flags&(setPersist|setExpireMask|setKeepTTL) == 0:
			flags |= setKeepTTL
		case !isSet && eqFold(a, "persist") && flags&(setPersist|setExpireMask|setKeepTTL) == 0:
			flags |= setPersist
		case (eqFold(a, "ex") || eqFold(a, "px") || eqFold(a, "exat") || eqFold(a, "pxat")) &&
			flags&(setPersist|setExpireMask|setKeepTTL) == 0 && next != nil:
			switch {
			case eqFold(a, "ex"):
				flags |= setEX
			case eqFold(a, "px"):
				flags |= setPX
			case eqFold(a, "exat"):
				flags |= setEXAT
			default:
				flags |= setPXAT
			}
			expire = next
			i++
		default:
			c.addError(errSyntax)
			return 0, 0, false
		}
	}
	var at int64
	if expire != nil {
		var ok bool
		at, ok = c.expireArg(expire, flags&(setEX|setEXAT) != 0, flags&(setEX|setPX) != 0, cmdName)
		if !ok {
			return 0, 0, false
		}
	}
	return flags, at, true
}

// expireArg parses an expiry argument into absolute unix ms the way Redis's
// getExpireMillisecondsOrReply does.
func (c *client) expireArg(b []byte, seconds, relative bool, cmdName string) (int64, bool) {
	n, ok := parseInt64(b)
	if !ok {
		c.addError(errNotInt)
		return 0, false
	}
	if n <= 0 || (seconds && n > math.MaxInt64/1000) {
		c.addError(fmt.Sprintf("ERR invalid expire time in '%s' command", cmdName))
		return 0, false
	}
	if seconds {
		n *= 1000
	}
	if relative {
		if n > math.MaxInt64-c.s.ks.now {
			c.addError(fmt.Sprintf("ERR invalid expire time in '%s' command", cmdName))
			return 0, false
		}
		n += c.s.ks.now
	}
	return n, true
}

func eqFold(a []byte, s string) bool {
	if len(a) != len(s) {
		return false
	}
	for i := 0; i < len(a); i++ {
		if lower(a[i]) != s[i] {
			return false
		}
	}
	return true
}

func setCommand(c *client, argv [][]byte) {
	flags, at, ok := c.parseSetArgs(argv[3:], true, "set")
	if !ok {
		return
	}
	c.setGeneric(argv[1], argv[2], flags, at)
}

// storeString sets key (found by lookupWrite as e at loc) to a copy of
// val with expiry at (0: none; keepTTL keeps e's).
func (db *DB) storeString(key, val []byte, e *Entry, loc keyLoc, at int64, keepTTL bool) {
	if e == nil {
		ne, k := newStringEntryKeyed(key, val)
		ne.expireAt = at
		db.addAt(key, k, loc, ne)
		return
	}
	// Overwrite in place: reuse the value buffer when it fits.
	v := e.Str()
	if e.typ != TypeString || cap(v) < len(val) || cap(v) > 2*len(val)+64 {
		v = make([]byte, len(val))
	}
	v = v[:len(val)]
	copy(v, val)
	e.SetStr(v, stringEncoding(v))
	if keepTTL {
		at = e.expireAt
	}
	db.setExpireEntry(&db.shards[loc.slot], key, e, at)
	db.Modified(key, e)
}

func (c *client) setGeneric(key, val []byte, flags int, at int64) {
	db := c.db
	e, loc := db.lookupWrite(key)
	if flags&setGet != 0 {
		if e != nil && e.typ != TypeString {
			c.addError(errWrongType)
			return
		}
		if e == nil {
			c.addNull()
		} else {
			c.addBulk(e.Str())
		}
	}
	if (flags&setNX != 0 && e != nil) || (flags&setXX != 0 && e == nil) {
		if flags&setGet == 0 {
			c.addNull()
		}
		return
	}
	db.storeString(key, val, e, loc, at, flags&setKeepTTL != 0)
	c.notify(notifyString, "set", key)
	if at != 0 {
		c.notify(notifyGeneric, "expire", key)
	}
	if flags&setGet == 0 {
		c.addOK()
	}
}

func setnxCommand(c *client, argv [][]byte) {
	if c.db.Lookup(argv[1]) != nil {
		c.addInt(0)
		return
	}
	c.db.Add(argv[1], NewStringEntryCopy(argv[2]))
	c.notify(notifyString, "set", argv[1])
	c.addInt(1)
}

func setexCommand(c *client, argv [][]byte) {
	at, ok := c.expireArg(argv[2], true, true, "setex")
	if !ok {
		return
	}
	c.setGeneric(argv[1], argv[3], 0, at)
}

func psetexCommand(c *client, argv [][]byte) {
	at, ok := c.expireArg(argv[2], false, true, "psetex")
	if !ok {
		return
	}
	c.setGeneric(argv[1], argv[3], 0, at)
}

func getsetCommand(c *client, argv [][]byte) {
	c.setGeneric(argv[1], argv[2], setGet, 0)
}

func getexCommand(c *client, argv [][]byte) {
	flags, at, ok := c.parseSetArgs(argv[2:], false, "getex")
	if !ok {
		return
	}
	e, ok := c.lookupString(argv[1])
	if !ok {
		return
	}
	if e == nil {
		c.addNull()
		return
	}
	c.addBulk(e.Str())
	db := c.db
	switch {
	case flags&(setEXAT|setPXAT) != 0 && at <= c.s.ks.now && c.s.cfg.ReplicaOfHost == "":
		db.Delete(argv[1])
		c.notify(notifyGeneric, "del", argv[1])
	case flags&setExpireMask != 0:
		db.SetExpire(argv[1], e, at)
		c.notify(notifyGeneric, "expire", argv[1])
	case flags&setPersist != 0 && e.expireAt != 0:
		db.SetExpire(argv[1], e, 0)
		c.notify(notifyGeneric, "persist", argv[1])
	}
}

func getdelCommand(c *client, argv [][]byte) {
	e, ok := c.lookupString(argv[1])
	if !ok {
		return
	}
	if e == nil {
		c.addNull()
		return
	}
	c.addBulk(e.Str())
	c.db.Delete(argv[1])
	c.notify(notifyGeneric, "del", argv[1])
}

func mgetCommand(c *client, argv [][]byte) {
	c.addArrayLen(len(argv) - 1)
	for _, k := range argv[1:] {
		e := c.db.LookupRead(k)
		if e == nil || e.typ != TypeString {
			c.addNull()
		} else {
			c.addBulk(e.Str())
		}
	}
}

func msetCommand(c *client, argv [][]byte) {
	if len(argv)%2 == 0 {
		c.addError(errWrongArgs("mset"))
		return
	}
	db := c.db
	for i := 1; i < len(argv); i += 2 {
		e, loc := db.lookupWrite(argv[i])
		db.storeString(argv[i], argv[i+1], e, loc, 0, false)
		c.notify(notifyString, "set", argv[i])
	}
	c.addOK()
}

func msetnxCommand(c *client, argv [][]byte) {
	if len(argv)%2 == 0 {
		c.addError(errWrongArgs("msetnx"))
		return
	}
	for i := 1; i < len(argv); i += 2 {
		if c.db.Lookup(argv[i]) != nil {
			c.addInt(0)
			return
		}
	}
	for i := 1; i < len(argv); i += 2 {
		c.db.Set(argv[i], NewStringEntryCopy(argv[i+1]), false)
		c.notify(notifyString, "set", argv[i])
	}
	c.addInt(1)
}

// checkStringLength refuses a string of size+add bytes above
// proto-max-bulk-len (overflow included), like Redis's checkStringLength.
func (c *client) checkStringLength(size, add int64) bool {
	total := size + add
	if total > c.s.cfg.ProtoMaxBulkLen || total < size || total < add {
		c.addError(errStrTooLong)
		return false
	}
	return true
}

func appendCommand(c *client, argv [][]byte) {
	e, ok := c.lookupStringWrite(argv[1])
	if !ok {
		return
	}
	if e == nil {
		ne := NewStringEntryCopy(argv[2])
		c.db.Add(argv[1], ne)
		c.notify(notifyString, "append", argv[1])
		c.addInt(int64(len(ne.Str())))
		return
	}
	if !c.checkStringLength(int64(len(e.Str())), int64(len(argv[2]))) {
		return
	}
	e.setStr(append(e.Str(), argv[2]...))
	e.enc = encRaw
	c.db.Modified(argv[1], e)
	c.notify(notifyString, "append", argv[1])
	c.addInt(int64(len(e.Str())))
}

func strlenCommand(c *client, argv [][]byte) {
	e, ok := c.lookupString(argv[1])
	if !ok {
		return
	}
	if e == nil {
		c.addInt(0)
		return
	}
	c.addInt(int64(len(e.Str())))
}

func getrangeCommand(c *client, argv [][]byte) {
	start, ok1 := parseInt64(argv[2])
	end, ok2 := parseInt64(argv[3])
	if !ok1 || !ok2 {
		c.addError(errNotInt)
		return
	}
	e, ok := c.lookupString(argv[1])
	if !ok {
		return
	}
	if e == nil {
		c.addBulkString("")
		return
	}
	s := e.Str()
	n := int64(len(s))
	if start < 0 && end < 0 && start > end {
		c.addBulkString("")
		return
	}
	if start < 0 {
		start += n
	}
	if end < 0 {
		end += n
	}
	start, end = max(start, 0), max(end, 0)
	if end >= n {
		end = n - 1
	}
	if start > end || n == 0 {
		c.addBulkString("")
		return
	}
	c.addBulk(s[start : end+1])
}

func setrangeCommand(c *client, argv [][]byte) {
	off, ok := parseInt64(argv[2])
	if !ok {
		c.addError(errNotInt)
		return
	}
	if off < 0 {
		c.addError("ERR offset is out of range")
		return
	}
	val := argv[3]
	e, ok := c.lookupStringWrite(argv[1])
	if !ok {
		return
	}
	if e == nil {
		if len(val) == 0 {
			c.addInt(0)
			return
		}
		if !c.checkStringLength(off, int64(len(val))) {
			return
		}
		b := make([]byte, off+int64(len(val)))
		copy(b[off:], val)
		ne := NewStringEntry(b)
		ne.enc = encRaw
		c.db.Add(argv[1], ne)
		c.notify(notifyString, "setrange", argv[1])
		c.addInt(int64(len(b)))
		return
	}
	if len(val) == 0 {
		c.addInt(int64(len(e.Str())))
		return
	}
	if !c.checkStringLength(off, int64(len(val))) {
		return
	}
	if need := int(off) + len(val); need > len(e.Str()) {
		e.setStr(growZero(e.Str(), need))
	}
	copy(e.Str()[off:], val)
	e.enc = encRaw
	c.db.Modified(argv[1], e)
	c.notify(notifyString, "setrange", argv[1])
	c.addInt(int64(len(e.Str())))
}

// growZero extends b to n bytes, the new bytes zero.
func growZero(b []byte, n int) []byte {
	if n <= cap(b) {
		old := len(b)
		b = b[:n]
		clear(b[old:])
		return b
	}
	nb := make([]byte, n, max(n, 2*cap(b)))
	copy(nb, b)
	return nb
}

func (c *client) incrDecr(key []byte, by int64) {
	e, loc := c.db.lookupWrite(key)
	if e != nil && e.typ != TypeString {
		c.addError(errWrongType)
		return
	}
	var cur int64
	if e != nil {
		v, ok := parseInt64(e.Str())
		if !ok {
			c.addError(errNotInt)
			return
		}
		cur = v
	}
	if (by < 0 && cur < 0 && by < math.MinInt64-cur) || (by > 0 && cur > 0 && by > math.MaxInt64-cur) {
		c.addError(errOverflow)
		return
	}
	cur += by
	if e == nil {
		var tmp [20]byte
		ne, k := newStringEntryKeyed(key, strconv.AppendInt(tmp[:0], cur, 10))
		c.db.addAt(key, k, loc, ne)
	} else {
		e.setStr(strconv.AppendInt(e.Str()[:0], cur, 10))
		e.enc = encInt
		c.db.Modified(key, e)
	}
	c.notify(notifyString, "incrby", key)
	c.addInt(cur)
}

func incrCommand(c *client, argv [][]byte) { c.incrDecr(argv[1], 1) }
func decrCommand(c *client, argv [][]byte) { c.incrDecr(argv[1], -1) }

func incrbyCommand(c *client, argv [][]byte) {
	by, ok := parseInt64(argv[2])
	if !ok {
		c.addError(errNotInt)
		return
	}
	c.incrDecr(argv[1], by)
}

func decrbyCommand(c *client, argv [][]byte) {
	by, ok := parseInt64(argv[2])
	if !ok {
		c.addError(errNotInt)
		return
	}
	if by == math.MinInt64 {
		c.addError("ERR decrement would overflow")
		return
	}
	c.incrDecr(argv[1], -by)
}

func incrbyfloatCommand(c *client, argv [][]byte) {
	e, ok := c.lookupStringWrite(argv[1])
	if !ok {
		return
	}
	cur := new(big.Float).SetPrec(ldPrec)
	curInf := 0
	if e != nil {
		v, inf, ok := parseLongDouble(e.Str())
		if !ok {
			c.addError(errNotFloat)
			return
		}
		if v != nil {
			cur = v
		}
		curInf = inf
	}
	incr, inf, ok := parseLongDouble(argv[2])
	if !ok {
		c.addError(errNotFloat)
		return
	}
	if inf != 0 || curInf != 0 {
		c.addError("ERR increment would produce NaN or Infinity")
		return
	}
	sum := new(big.Float).SetPrec(ldPrec).SetMode(big.ToNearestEven).Add(cur, incr)
	if exp := sum.MantExp(nil); exp > 16384 { // beyond long double range
		c.addError("ERR increment would produce NaN or Infinity")
		return
	}
	out := []byte(formatLongDouble(sum))
	enc := encEmbstr // Redis does not int-encode INCRBYFLOAT results
	if len(out) > embstrMax {
		enc = encRaw
	}
	if e == nil {
		ne := NewStringEntry(out)
		ne.enc = enc
		c.db.Add(argv[1], ne)
	} else {
		e.SetStr(out, enc)
		c.db.Modified(argv[1], e)
	}
	c.notify(notifyString, "incrbyfloat", argv[1])
	c.addBulk(out)
}
