package server

import (
	"fmt"
	"math"
	"math/rand/v2"
	"slices"
	"strings"

	"github.com/codisgo/codis/pkg/resp"
)

// The numkeys commands (ZUNION, ZINTER, ZDIFF, ZINTERCARD, ZMPOP and the
// sources of the STORE forms) have movable keys, which the Command key
// spec cannot express: like Redis's legacy key triple, only fixed key
// positions are declared.
func init() {
	wm := FlagWrite | FlagDenyOOM
	r := FlagReadOnly
	k1 := func(name string, arity int, flags CmdFlag, proc func(*client, [][]byte)) *Command {
		return &Command{Name: name, Arity: arity, Flags: flags, FirstKey: 1, LastKey: 1, Step: 1, Proc: proc}
	}
	register(
		k1("zadd", -4, wm|FlagFast, zaddCommand),
		k1("zincrby", 4, wm|FlagFast, zincrbyCommand),
		k1("zrem", -3, FlagWrite|FlagFast, zremCommand),
		k1("zcard", 2, r|FlagFast, zcardCommand),
		k1("zcount", 4, r|FlagFast, zcountCommand),
		k1("zlexcount", 4, r|FlagFast, zlexcountCommand),
		k1("zscore", 3, r|FlagFast, zscoreCommand),
		k1("zmscore", -3, r|FlagFast, zmscoreCommand),
		k1("zrank", 3, r|FlagFast, zrankCommand),
		k1("zrevrank", 3, r|FlagFast, zrevrankCommand),
		k1("zrange", -4, r, zrangeCommand),
		k1("zrangebyscore", -4, r, zrangebyscoreCommand),
		k1("zrevrangebyscore", -4, r, zrevrangebyscoreCommand),
		k1("zrangebylex", -4, r, zrangebylexCommand),
		k1("zrevrangebylex", -4, r, zrevrangebylexCommand),
		k1("zrevrange", -4, r, zrevrangeCommand),
		&Command{Name: "zrangestore", Arity: -5, Flags: wm, FirstKey: 1, LastKey: 2, Step: 1, Proc: zrangestoreCommand},
		k1("zremrangebyrank", 4, FlagWrite, zremrangebyrankCommand),
		k1("zremrangebyscore", 4, FlagWrite, zremrangebyscoreCommand),
		k1("zremrangebylex", 4, FlagWrite, zremrangebylexCommand),
		k1("zpopmin", -2, FlagWrite|FlagFast, zpopminCommand),
		k1("zpopmax", -2, FlagWrite|FlagFast, zpopmaxCommand),
		&Command{Name: "zmpop", Arity: -4, Flags: FlagWrite, KeysFn: numkeysKeys(0, 1), Proc: zmpopCommand},
		k1("zrandmember", -2, r|FlagRandom, zrandmemberCommand),
		&Command{Name: "zunion", Arity: -3, Flags: r, KeysFn: numkeysKeys(0, 1), Proc: zunionCommand},
		&Command{Name: "zinter", Arity: -3, Flags: r, KeysFn: numkeysKeys(0, 1), Proc: zinterCommand},
		&Command{Name: "zdiff", Arity: -3, Flags: r, KeysFn: numkeysKeys(0, 1), Proc: zdiffCommand},
		&Command{Name: "zunionstore", Arity: -4, Flags: wm, FirstKey: 1, LastKey: 1, Step: 1, KeysFn: numkeysKeys(1, 2), Proc: zunionstoreCommand},
		&Command{Name: "zinterstore", Arity: -4, Flags: wm, FirstKey: 1, LastKey: 1, Step: 1, KeysFn: numkeysKeys(1, 2), Proc: zinterstoreCommand},
		&Command{Name: "zdiffstore", Arity: -4, Flags: wm, FirstKey: 1, LastKey: 1, Step: 1, KeysFn: numkeysKeys(1, 2), Proc: zdiffstoreCommand},
		&Command{Name: "zintercard", Arity: -3, Flags: r, KeysFn: numkeysKeys(0, 1), Proc: zintercardCommand},
		k1("zscan", -3, r|FlagRandom, zscanCommand),
	)
}

const (
	errZNaN      = "ERR resulting score is not a number (NaN)"
	errZMinMax   = "ERR min or max is not a float"
	errZLexRange = "ERR min or max not valid string range item"
	errPositive  = "ERR value is out of range, must be positive"
)

// lookupZset returns the sorted set at key (nil if absent); ok is false
// after a WRONGTYPE reply.
func (c *client) lookupZset(key []byte, read bool) (*zsetObject, *Entry, bool) {
	e, ok := c.lookupTyped(key, TypeZSet, read)
	if !ok || e == nil {
		return nil, nil, ok
	}
	return e.zset(), e, true
}

// zsetAfterRemove deletes key if its zset became empty, else accounts the
// change.
func (db *DB) zsetAfterRemove(key []byte, e *Entry, z *zsetObject) {
	if z.Len() == 0 {
		db.Delete(key)
		db.notify(notifyGeneric, "del", key)
	} else {
		db.Modified(key, e)
	}
}

func (c *client) addScore(f float64) {
	var buf [32]byte
	c.addBulk(appendScore(buf[:0], f))
}

// ZADD flags.
const (
	zaddNX = 1 << iota
	zaddXX
	zaddGT
	zaddLT
	zaddCH
	zaddIncr
)

func zaddCommand(c *client, argv [][]byte)    { c.zaddGeneric(argv, 0) }
func zincrbyCommand(c *client, argv [][]byte) { c.zaddGeneric(argv, zaddIncr) }

func (c *client) zaddGeneric(argv [][]byte, flags int) {
	idx := 2
	for ; idx < len(argv); idx++ {
		a := argv[idx]
		switch {
		case eqFold(a, "nx"):
			flags |= zaddNX
		case eqFold(a, "xx"):
			flags |= zaddXX
		case eqFold(a, "ch"):
			flags |= zaddCH
		case eqFold(a, "incr"):
			flags |= zaddIncr
		case eqFold(a, "gt"):
			flags |= zaddGT
		case eqFold(a, "lt"):
			flags |= zaddLT
		default:
			goto done
		}
	}
done:
	nx, xx, gt, lt, incr := flags&zaddNX != 0, flags&zaddXX != 0, flags&zaddGT != 0, flags&zaddLT != 0, flags&zaddIncr != 0
	elements := len(argv) - idx
	if elements%2 != 0 || elements == 0 {
		c.addError(errSyntax)
		return
	}
	elements /= 2
	if nx && xx {
		c.addError("ERR XX and NX options at the same time are not compatible")
		return
	}
	if (gt && nx) || (lt && nx) || (gt && lt) {
		c.addError("ERR GT, LT, and/or NX options at the same time are not compatible")
		return
	}
	if incr && elements > 1 {
		c.addError("ERR INCR option supports a single increment-element pair")
		return
	}
	scores := make([]float64, elements)
	for i := range scores {
		f, ok := parseScoreStrict(argv[idx+2*i])
		if !ok {
			c.addError(errNotFloat)
			return
		}
		scores[i] = f
	}
	z, e, ok := c.lookupZset(argv[1], false)
	if !ok {
		return
	}
	db := c.db
	created := false
	if z == nil {
		if xx {
			if incr {
				c.addNull()
			} else {
				c.addInt(0)
			}
			return
		}
		z = newZsetObject()
		created = true
	}
	added, updated, processed := 0, 0, 0
	lim := c.s.zsetLimits()
	var score float64
	var nanErr bool
	for i := 0; i < elements; i++ {
		member := argv[idx+2*i+1]
		score = scores[i]
		cur, exists := z.Score(string(member))
		if exists {
			if nx {
				continue
			}
			if incr {
				score += cur
				if math.IsNaN(score) {
					nanErr = true
					break
				}
			}
			if (lt && score >= cur) || (gt && score <= cur) {
				continue
			}
			processed++
			if score != cur {
				z.Update(string(member), cur, score)
				updated++
			}
			continue
		}
		if xx {
			continue
		}
		z.Insert(string(member), score, &lim)
		added++
		processed++
	}
	if created {
		if z.Len() > 0 {
			db.Add(argv[1], NewObjectEntry(z))
		}
	} else if added+updated > 0 {
		db.Modified(argv[1], e)
	}
	if added+updated > 0 {
		c.notify(notifyZSet, zaddEvent(incr), argv[1])
	}
	switch {
	case nanErr:
		c.addError(errZNaN)
	case incr && processed > 0:
		c.addScore(score)
	case incr:
		c.addNull()
	case flags&zaddCH != 0:
		c.addInt(int64(added + updated))
	default:
		c.addInt(int64(added))
	}
}

func zremCommand(c *client, argv [][]byte) {
	z, e, ok := c.lookupZset(argv[1], false)
	if !ok {
		return
	}
	if z == nil {
		c.addInt(0)
		return
	}
	n := 0
	for _, m := range argv[2:] {
		if z.Delete(string(m)) {
			n++
			if z.Len() == 0 {
				break
			}
		}
	}
	if n > 0 {
		c.notify(notifyZSet, "zrem", argv[1])
		c.db.zsetAfterRemove(argv[1], e, z)
	}
	c.addInt(int64(n))
}

func zcardCommand(c *client, argv [][]byte) {
	z, _, ok := c.lookupZset(argv[1], true)
	if !ok {
		return
	}
	if z == nil {
		c.addInt(0)
		return
	}
	c.addInt(int64(z.Len()))
}

func zcountCommand(c *client, argv [][]byte) {
	rng, ok := parseScoreRange(argv[2], argv[3])
	if !ok {
		c.addError(errZMinMax)
		return
	}
	z, _, ok := c.lookupZset(argv[1], true)
	if !ok {
		return
	}
	if z == nil {
		c.addInt(0)
		return
	}
	lo, hi := rng.bounds(z)
	c.addInt(int64(hi - lo))
}

func zlexcountCommand(c *client, argv [][]byte) {
	rng, ok := parseLexRange(argv[2], argv[3])
	if !ok {
		c.addError(errZLexRange)
		return
	}
	z, _, ok := c.lookupZset(argv[1], true)
	if !ok {
		return
	}
	if z == nil {
		c.addInt(0)
		return
	}
	lo, hi := rng.bounds(z)
	c.addInt(int64(hi - lo))
}

func zscoreCommand(c *client, argv [][]byte) {
	z, _, ok := c.lookupZset(argv[1], true)
	if !ok {
		return
	}
	if z == nil {
		c.addNull()
		return
	}
	s, found := z.Score(string(argv[2]))
	if !found {
		c.addNull()
		return
	}
	c.addScore(s)
}

func zmscoreCommand(c *client, argv [][]byte) {
	z, _, ok := c.lookupZset(argv[1], true)
	if !ok {
		return
	}
	c.addArrayLen(len(argv) - 2)
	for _, m := range argv[2:] {
		if z == nil {
			c.addNull()
			continue
		}
		if s, found := z.Score(string(m)); found {
			c.addScore(s)
		} else {
			c.addNull()
		}
	}
}

func (c *client) zrankGeneric(argv [][]byte, rev bool) {
	z, _, ok := c.lookupZset(argv[1], true)
	if !ok {
		return
	}
	if z == nil {
		c.addNull()
		return
	}
	r, found := z.Rank(string(argv[2]))
	if !found {
		c.addNull()
		return
	}
	if rev {
		r = z.Len() - 1 - r
	}
	c.addInt(int64(r))
}

func zrankCommand(c *client, argv [][]byte)    { c.zrankGeneric(argv, false) }
func zrevrankCommand(c *client, argv [][]byte) { c.zrankGeneric(argv, true) }

// Range kinds of zrangeGeneric.
const (
	zrangeAuto = iota
	zrangeRank
	zrangeScore
	zrangeLex
)

// Directions of zrangeGeneric.
const (
	zdirAuto = iota
	zdirForward
	zdirReverse
)

func zrangeCommand(c *client, argv [][]byte) { c.zrangeGeneric(argv, 1, nil, zrangeAuto, zdirAuto) }
func zrevrangeCommand(c *client, argv [][]byte) {
	c.zrangeGeneric(argv, 1, nil, zrangeRank, zdirReverse)
}
func zrangebyscoreCommand(c *client, argv [][]byte) {
	c.zrangeGeneric(argv, 1, nil, zrangeScore, zdirForward)
}
func zrevrangebyscoreCommand(c *client, argv [][]byte) {
	c.zrangeGeneric(argv, 1, nil, zrangeScore, zdirReverse)
}
func zrangebylexCommand(c *client, argv [][]byte) {
	c.zrangeGeneric(argv, 1, nil, zrangeLex, zdirForward)
}
func zrevrangebylexCommand(c *client, argv [][]byte) {
	c.zrangeGeneric(argv, 1, nil, zrangeLex, zdirReverse)
}
func zrangestoreCommand(c *client, argv [][]byte) {
	c.zrangeGeneric(argv, 2, argv[1], zrangeAuto, zdirAuto)
}

// zrangeGeneric implements the ZRANGE family like Redis's
// zrangeGenericCommand: keyIdx is the source key's position, dst the
// ZRANGESTORE destination (nil to reply).
func (c *client) zrangeGeneric(argv [][]byte, keyIdx int, dst []byte, kind, dir int) {
	store := dst != nil
	withScores := false
	offset, limit := int64(0), int64(-1)
	for j := keyIdx + 3; j < len(argv); j++ {
		left := len(argv) - j - 1
		a := argv[j]
		switch {
		case !store && eqFold(a, "withscores"):
			withScores = true
		case eqFold(a, "limit") && left >= 2:
			o, ok1 := parseInt64(argv[j+1])
			if !ok1 {
				c.addError(errNotInt)
				return
			}
			l, ok2 := parseInt64(argv[j+2])
			if !ok2 {
				c.addError(errNotInt)
				return
			}
			offset, limit = o, l
			j += 2
		case dir == zdirAuto && eqFold(a, "rev"):
			dir = zdirReverse
		case kind == zrangeAuto && eqFold(a, "bylex"):
			kind = zrangeLex
		case kind == zrangeAuto && eqFold(a, "byscore"):
			kind = zrangeScore
		default:
			c.addError(errSyntax)
			return
		}
	}
	if dir == zdirAuto {
		dir = zdirForward
	}
	if kind == zrangeAuto {
		kind = zrangeRank
	}
	if limit != -1 && kind == zrangeRank {
		c.addError("ERR syntax error, LIMIT is only supported in combination with either BYSCORE or BYLEX")
		return
	}
	if withScores && kind == zrangeLex {
		c.addError("ERR syntax error, WITHSCORES not supported in combination with BYLEX")
		return
	}
	rev := dir == zdirReverse
	minArg, maxArg := argv[keyIdx+1], argv[keyIdx+2]
	if rev && kind != zrangeRank {
		minArg, maxArg = maxArg, minArg
	}
	var start, end int64
	var srange zScoreRange
	var lrange zLexRange
	switch kind {
	case zrangeRank:
		var ok bool
		if start, ok = parseInt64(minArg); !ok {
			c.addError(errNotInt)
			return
		}
		if end, ok = parseInt64(maxArg); !ok {
			c.addError(errNotInt)
			return
		}
	case zrangeScore:
		var ok bool
		if srange, ok = parseScoreRange(minArg, maxArg); !ok {
			c.addError(errZMinMax)
			return
		}
	case zrangeLex:
		var ok bool
		if lrange, ok = parseLexRange(minArg, maxArg); !ok {
			c.addError(errZLexRange)
			return
		}
	}
	z, _, ok := c.lookupZset(argv[keyIdx], true)
	if !ok {
		return
	}
	// Resolve the range to ascending ranks [from, from+n) walked forward, or
	// descending from `from` when rev.
	from, n := 0, 0
	if z != nil {
		llen := int64(z.Len())
		switch kind {
		case zrangeRank:
			if start < 0 {
				start += llen
			}
			if end < 0 {
				end += llen
			}
			start = max(start, 0)
			if start <= end && start < llen {
				end = min(end, llen-1)
				n = int(end - start + 1)
				from = int(start)
				if rev {
					from = int(llen - 1 - start)
				}
			}
		default:
			var lo, hi int
			if kind == zrangeScore {
				lo, hi = srange.bounds(z)
			} else {
				lo, hi = lrange.bounds(z)
			}
			if offset >= 0 && !(offset > 0 && offset >= llen) && int64(hi-lo) > offset {
				n = hi - lo - int(offset)
				if limit >= 0 {
					n = int(min(int64(n), limit))
				}
				if rev {
					from = hi - 1 - int(offset)
				} else {
					from = lo + int(offset)
				}
			}
		}
	}
	if store {
		res := make([]zent, 0, n)
		if n > 0 {
			z.Range(from, n, rev, func(m string, s float64) bool {
				res = append(res, zent{m, s})
				return true
			})
		}
		// Redis builds the destination as a listpack (for up to
		// zset-max-listpack-entries results by rank; always for score and
		// lex ranges, whose length it does not know in advance), adding in
		// range order, and converts it when a long member arrives or the
		// listpack is full: the zero scores added before that lose their
		// sign, as a listpack stores -0 as 0.
		lim := c.s.zsetLimits()
		if kind != zrangeRank || n <= lim.zsetEntries {
			for i := range min(len(res), lim.zsetEntries) {
				if len(res[i].member) > lim.zsetValue {
					break
				}
				if res[i].score == 0 {
					res[i].score = 0
				}
			}
		}
		if rev {
			slices.Reverse(res)
		}
		c.storeZset(dst, res, "zrangestore")
		return
	}
	if withScores {
		c.addArrayLen(2 * n)
	} else {
		c.addArrayLen(n)
	}
	if n > 0 {
		z.Range(from, n, rev, func(m string, s float64) bool {
			c.addBulkString(m)
			if withScores {
				c.addScore(s)
			}
			return true
		})
	}
}

// storeZset writes a result given in (score, member) order to dst,
// deleting dst when it is empty, and replies its cardinality.
func (c *client) storeZset(dst []byte, ents []zent, event string) {
	if len(ents) == 0 {
		if c.db.Delete(dst) {
			c.notify(notifyGeneric, "del", dst)
		}
		c.addInt(0)
		return
	}
	lim := c.s.zsetLimits()
	c.db.Set(dst, NewObjectEntry(zsetFromSorted(ents, &lim)), false)
	c.notify(notifyZSet, event, dst)
	c.addInt(int64(len(ents)))
}

func (c *client) zremrangeGeneric(argv [][]byte, kind int) {
	var start, end int64
	var srange zScoreRange
	var lrange zLexRange
	switch kind {
	case zrangeRank:
		var ok bool
		if start, ok = parseInt64(argv[2]); !ok {
			c.addError(errNotInt)
			return
		}
		if end, ok = parseInt64(argv[3]); !ok {
			c.addError(errNotInt)
			return
		}
	case zrangeScore:
		var ok bool
		if srange, ok = parseScoreRange(argv[2], argv[3]); !ok {
			c.addError(errZMinMax)
			return
		}
	case zrangeLex:
		var ok bool
		if lrange, ok = parseLexRange(argv[2], argv[3]); !ok {
			c.addError(errZLexRange)
			return
		}
	}
	z, e, ok := c.lookupZset(argv[1], false)
	if !ok {
		return
	}
	if z == nil {
		c.addInt(0)
		return
	}
	var lo, hi int
	switch kind {
	case zrangeRank:
		llen := int64(z.Len())
		if start < 0 {
			start += llen
		}
		if end < 0 {
			end += llen
		}
		start = max(start, 0)
		if start > end || start >= llen {
			c.addInt(0)
			return
		}
		end = min(end, llen-1)
		lo, hi = int(start), int(end+1)
	case zrangeScore:
		lo, hi = srange.bounds(z)
	case zrangeLex:
		lo, hi = lrange.bounds(z)
	}
	if hi > lo {
		z.DeleteRanks(lo, hi)
		c.notify(notifyZSet, zremrangeEvents[kind], argv[1])
		c.db.zsetAfterRemove(argv[1], e, z)
	}
	c.addInt(int64(hi - lo))
}

func zremrangebyrankCommand(c *client, argv [][]byte)  { c.zremrangeGeneric(argv, zrangeRank) }
func zremrangebyscoreCommand(c *client, argv [][]byte) { c.zremrangeGeneric(argv, zrangeScore) }
func zremrangebylexCommand(c *client, argv [][]byte)   { c.zremrangeGeneric(argv, zrangeLex) }

// zsetPop is the non-blocking core of ZPOPMIN/ZPOPMAX/ZMPOP and of their
// blocking forms: it pops up to count members (count >= 1) from the lowest
// (or, with popMax, highest) scores of the sorted set at key, which the
// caller found holding a sorted set, deleting the key once empty. The
// members are returned in pop order.
func (db *DB) zsetPop(key []byte, e *Entry, popMax bool, count int) []zent {
	z := e.zset()
	n := min(count, z.Len())
	out := make([]zent, 0, n)
	from := 0
	if popMax {
		from = z.Len() - 1
	}
	z.Range(from, n, popMax, func(m string, s float64) bool {
		out = append(out, zent{m, s})
		return true
	})
	if popMax {
		z.DeleteRanks(z.Len()-n, z.Len())
	} else {
		z.DeleteRanks(0, n)
	}
	db.notify(notifyZSet, zpopWordEvent(popMax), key)
	db.zsetAfterRemove(key, e, z)
	return out
}

// Reply formats of popped members.
const (
	zpopFlat   = iota // ZPOPMIN/ZPOPMAX: member, score, member, score...
	zpopNested        // ZMPOP/BZMPOP: [key, [[member, score], ...]]
	zpopKeyed         // BZPOPMIN/BZPOPMAX: [key, member, score]
)

// zpopReply writes popped members in one of the zpop* formats.
func (c *client) zpopReply(key []byte, popped []zent, format int) {
	c.out = appendZpopReply(c.out, key, popped, format)
}

// appendZpopReply appends popped members in one of the zpop* formats.
func appendZpopReply(out, key []byte, popped []zent, format int) []byte {
	var buf [32]byte
	if format == zpopKeyed && len(popped) == 1 {
		out = resp.AppendArrayLen(out, 3)
		out = resp.AppendBulk(out, key)
		out = resp.AppendBulkString(out, popped[0].member)
		return resp.AppendBulk(out, appendScore(buf[:0], popped[0].score))
	}
	if format == zpopNested {
		out = resp.AppendArrayLen(out, 2)
		out = resp.AppendBulk(out, key)
		out = resp.AppendArrayLen(out, len(popped))
		for _, p := range popped {
			out = resp.AppendArrayLen(out, 2)
			out = resp.AppendBulkString(out, p.member)
			out = resp.AppendBulk(out, appendScore(buf[:0], p.score))
		}
		return out
	}
	out = resp.AppendArrayLen(out, 2*len(popped))
	for _, p := range popped {
		out = resp.AppendBulkString(out, p.member)
		out = resp.AppendBulk(out, appendScore(buf[:0], p.score))
	}
	return out
}

// zpopGeneric pops from the first existing key of keys, like Redis's
// genericZpopCommand, replying in the given zpop* format. It reports
// whether a key was found; when none was, it replies the empty answer only
// if replyEmpty is set, so that the blocking forms (BZPOPMIN, BZPOPMAX,
// BZMPOP) can call it first and block on false.
func (c *client) zpopGeneric(keys [][]byte, popMax bool, count int64, format int, replyEmpty bool) bool {
	for _, k := range keys {
		e := c.db.Lookup(k)
		if e == nil {
			continue
		}
		if e.typ != TypeZSet {
			c.addError(errWrongType)
			return true
		}
		if count == 0 {
			c.addArrayLen(0)
			return true
		}
		popped := c.db.zsetPop(k, e, popMax, int(min(count, math.MaxInt32)))
		c.zpopReply(k, popped, format)
		return true
	}
	if replyEmpty {
		if format == zpopNested {
			c.addNullArray()
		} else {
			c.addArrayLen(0)
		}
	}
	return false
}

func (c *client) zpopMinMax(argv [][]byte, popMax bool) {
	if len(argv) > 3 {
		c.addError(errSyntax)
		return
	}
	count := int64(1)
	if len(argv) == 3 {
		n, ok := parseInt64(argv[2])
		if !ok || n < 0 {
			c.addError(errPositive)
			return
		}
		count = n
	}
	c.zpopGeneric(argv[1:2], popMax, count, zpopFlat, true)
}

func zpopminCommand(c *client, argv [][]byte) { c.zpopMinMax(argv, false) }
func zpopmaxCommand(c *client, argv [][]byte) { c.zpopMinMax(argv, true) }

// parseZmpopArgs parses "numkeys key... MIN|MAX [COUNT count]" starting at
// argv[numkeysIdx] (ZMPOP and BZMPOP), replying the error itself.
func (c *client) parseZmpopArgs(argv [][]byte, numkeysIdx int) (keys [][]byte, popMax bool, count int64, ok bool) {
	numkeys, ok1 := parseInt64(argv[numkeysIdx])
	if !ok1 || numkeys <= 0 {
		c.addError("ERR numkeys should be greater than 0")
		return nil, false, 0, false
	}
	if numkeys >= int64(len(argv)) {
		c.addError(errSyntax)
		return nil, false, 0, false
	}
	whereIdx := int64(numkeysIdx) + numkeys + 1
	if whereIdx >= int64(len(argv)) {
		c.addError(errSyntax)
		return nil, false, 0, false
	}
	switch {
	case eqFold(argv[whereIdx], "min"):
	case eqFold(argv[whereIdx], "max"):
		popMax = true
	default:
		c.addError(errSyntax)
		return nil, false, 0, false
	}
	count = -1
	for j := int(whereIdx) + 1; j < len(argv); j++ {
		if count == -1 && eqFold(argv[j], "count") && j+1 < len(argv) {
			j++
			n, ok := parseInt64(argv[j])
			if !ok || n <= 0 {
				c.addError("ERR count should be greater than 0")
				return nil, false, 0, false
			}
			count = n
			continue
		}
		c.addError(errSyntax)
		return nil, false, 0, false
	}
	if count == -1 {
		count = 1
	}
	return argv[numkeysIdx+1 : whereIdx], popMax, count, true
}

func zmpopCommand(c *client, argv [][]byte) {
	keys, popMax, count, ok := c.parseZmpopArgs(argv, 1)
	if !ok {
		return
	}
	c.zpopGeneric(keys, popMax, count, zpopNested, true)
}

func zrandmemberCommand(c *client, argv [][]byte) {
	if len(argv) >= 3 {
		l, ok := parseInt64(argv[2])
		if !ok {
			c.addError(errNotInt)
			return
		}
		if l == math.MinInt64 {
			c.addError("ERR value is out of range, value must between -9223372036854775807 and 9223372036854775807")
			return
		}
		withScores := false
		if len(argv) > 4 || (len(argv) == 4 && !eqFold(argv[3], "withscores")) {
			c.addError(errSyntax)
			return
		}
		if len(argv) == 4 {
			withScores = true
			if l < -math.MaxInt64/2 || l > math.MaxInt64/2 {
				c.addError("ERR value is out of range")
				return
			}
		}
		c.zrandmemberCount(argv[1], l, withScores)
		return
	}
	z, _, ok := c.lookupZset(argv[1], true)
	if !ok {
		return
	}
	if z == nil {
		c.addNull()
		return
	}
	var m string
	z.Range(rand.IntN(z.Len()), 1, false, func(member string, _ float64) bool {
		m = member
		return false
	})
	c.addBulkString(m)
}

func (c *client) zrandmemberCount(key []byte, l int64, withScores bool) {
	z, _, ok := c.lookupZset(key, true)
	if !ok {
		return
	}
	if z == nil || l == 0 {
		c.addArrayLen(0)
		return
	}
	size := z.Len()
	emit := func(e zent) {
		c.addBulkString(e.member)
		if withScores {
			c.addScore(e.score)
		}
	}
	width := 1
	if withScores {
		width = 2
	}
	if l < 0 {
		n := -l
		c.addArrayLen(int(n) * width)
		if z.tree != nil {
			for ; n > 0; n-- {
				emit(z.tree.byRank(1 + rand.IntN(size)).entry())
			}
			return
		}
		all := z.All()
		for ; n > 0; n-- {
			emit(all[rand.IntN(len(all))])
		}
		return
	}
	if l >= int64(size) {
		// Redis walks the whole set from the tail here.
		c.addArrayLen(size * width)
		z.Range(size-1, size, true, func(m string, s float64) bool {
			emit(zent{m, s})
			return true
		})
		return
	}
	n := int(l)
	if z.tree != nil && n*3 <= size {
		// Few members of a large zset: distinct random ranks.
		picked := make(map[int]struct{}, n)
		c.addArrayLen(n * width)
		for len(picked) < n {
			r := 1 + rand.IntN(size)
			if _, dup := picked[r]; dup {
				continue
			}
			picked[r] = struct{}{}
			emit(z.tree.byRank(r).entry())
		}
		return
	}
	all := z.All()
	for i := 0; i < n; i++ {
		j := i + rand.IntN(size-i)
		all[i], all[j] = all[j], all[i]
	}
	c.addArrayLen(n * width)
	for _, e := range all[:n] {
		emit(e)
	}
}

// Set operations (ZUNION, ZINTER, ZDIFF, their STORE forms, ZINTERCARD).

const (
	zopUnion = iota
	zopInter
	zopDiff
)

const (
	zaggSum = iota
	zaggMin
	zaggMax
)

// zsrc is one input of a set operation: a sorted set or a plain set
// (members scoring 1).
type zsrc struct {
	z      *zsetObject
	s      *setObject
	weight float64
}

func (s *zsrc) size() int {
	switch {
	case s.z != nil:
		return s.z.Len()
	case s.s != nil:
		return s.s.Len()
	}
	return 0
}

func (s *zsrc) score(m string) (float64, bool) {
	switch {
	case s.z != nil:
		return s.z.Score(m)
	case s.s != nil:
		if s.s.hasString(m) {
			return 1, true
		}
	}
	return 0, false
}

func (s *zsrc) each(fn func(m string, score float64)) {
	switch {
	case s.z != nil:
		s.z.Range(0, s.z.Len(), false, func(m string, sc float64) bool {
			fn(m, sc)
			return true
		})
	case s.s != nil:
		s.s.each(func(m string) bool {
			fn(m, 1)
			return true
		})
	}
}

func zaggregate(target *float64, v float64, agg int) {
	switch agg {
	case zaggSum:
		*target += v
		if math.IsNaN(*target) {
			*target = 0
		}
	case zaggMin:
		if v < *target {
			*target = v
		}
	case zaggMax:
		if v > *target {
			*target = v
		}
	}
}

// zsetopGeneric implements ZUNION/ZINTER/ZDIFF (dst == nil), their STORE
// forms and ZINTERCARD (cardOnly), like Redis's
// zunionInterDiffGenericCommand. numkeysIdx is the numkeys position.
func (c *client) zsetopGeneric(argv [][]byte, numkeysIdx int, dst []byte, op int, cardOnly bool) {
	cmdName := strings.ToLower(string(argv[0]))
	setnum, ok := parseInt64(argv[numkeysIdx])
	if !ok {
		c.addError(errNotInt)
		return
	}
	if setnum < 1 {
		c.addError(fmt.Sprintf("ERR at least 1 input key is needed for '%s' command", cmdName))
		return
	}
	if setnum > int64(len(argv)-numkeysIdx-1) {
		c.addError(errSyntax)
		return
	}
	n := int(setnum)
	srcs := make([]zsrc, n)
	for i := 0; i < n; i++ {
		e := c.db.LookupRead(argv[numkeysIdx+1+i])
		srcs[i].weight = 1
		if e == nil {
			continue
		}
		switch e.typ {
		case TypeZSet:
			srcs[i].z = e.zset()
		case TypeSet:
			srcs[i].s = e.set()
		default:
			c.addError(errWrongType)
			return
		}
	}
	agg := zaggSum
	withScores := false
	limit := int64(0)
	j := numkeysIdx + 1 + n
	for remaining := len(argv) - j; remaining > 0; remaining = len(argv) - j {
		a := argv[j]
		switch {
		case op != zopDiff && !cardOnly && remaining >= n+1 && eqFold(a, "weights"):
			j++
			for i := 0; i < n; i++ {
				w, ok := parseScoreStrict(argv[j])
				if !ok {
					c.addError("ERR weight value is not a float")
					return
				}
				srcs[i].weight = w
				j++
			}
		case op != zopDiff && !cardOnly && remaining >= 2 && eqFold(a, "aggregate"):
			switch b := argv[j+1]; {
			case eqFold(b, "sum"):
				agg = zaggSum
			case eqFold(b, "min"):
				agg = zaggMin
			case eqFold(b, "max"):
				agg = zaggMax
			default:
				c.addError(errSyntax)
				return
			}
			j += 2
		case dst == nil && !cardOnly && eqFold(a, "withscores"):
			withScores = true
			j++
		case cardOnly && remaining >= 2 && eqFold(a, "limit"):
			v, ok := parseInt64(argv[j+1])
			if !ok || v < 0 {
				c.addError("ERR LIMIT can't be negative")
				return
			}
			limit = v
			j += 2
		default:
			c.addError(errSyntax)
			return
		}
	}
	if op != zopDiff {
		// Smallest inputs first, as Redis does (this fixes the order in
		// which scores are summed).
		slices.SortStableFunc(srcs, func(a, b zsrc) int { return a.size() - b.size() })
	}
	var res []zent
	card := int64(0)
	switch op {
	case zopInter:
		if srcs[0].size() == 0 {
			break
		}
		srcs[0].each(func(m string, sc float64) {
			if cardOnly && limit > 0 && card >= limit {
				return
			}
			score := srcs[0].weight * sc
			if math.IsNaN(score) {
				score = 0
			}
			for k := 1; k < n; k++ {
				v, found := srcs[k].score(m)
				if !found {
					return
				}
				zaggregate(&score, v*srcs[k].weight, agg)
			}
			card++
			if !cardOnly {
				res = append(res, zent{m, score})
			}
		})
	case zopUnion:
		acc := map[string]int{}
		for k := range srcs {
			srcs[k].each(func(m string, sc float64) {
				score := srcs[k].weight * sc
				if math.IsNaN(score) {
					score = 0
				}
				if i, ok := acc[m]; ok {
					zaggregate(&res[i].score, score, agg)
					return
				}
				acc[m] = len(res)
				res = append(res, zent{m, score})
			})
		}
	case zopDiff:
		srcs[0].each(func(m string, sc float64) {
			for k := 1; k < n; k++ {
				if _, found := srcs[k].score(m); found {
					return
				}
			}
			res = append(res, zent{m, sc})
		})
	}
	if cardOnly {
		c.addInt(card)
		return
	}
	slices.SortFunc(res, zentCmp)
	if dst != nil {
		c.storeZset(dst, res, zsetopEvents[op])
		return
	}
	if withScores {
		c.addArrayLen(2 * len(res))
	} else {
		c.addArrayLen(len(res))
	}
	for _, e := range res {
		c.addBulkString(e.member)
		if withScores {
			c.addScore(e.score)
		}
	}
}

func zunionCommand(c *client, argv [][]byte) { c.zsetopGeneric(argv, 1, nil, zopUnion, false) }
func zinterCommand(c *client, argv [][]byte) { c.zsetopGeneric(argv, 1, nil, zopInter, false) }
func zdiffCommand(c *client, argv [][]byte)  { c.zsetopGeneric(argv, 1, nil, zopDiff, false) }
func zunionstoreCommand(c *client, argv [][]byte) {
	c.zsetopGeneric(argv, 2, argv[1], zopUnion, false)
}
func zinterstoreCommand(c *client, argv [][]byte) {
	c.zsetopGeneric(argv, 2, argv[1], zopInter, false)
}
func zdiffstoreCommand(c *client, argv [][]byte) {
	c.zsetopGeneric(argv, 2, argv[1], zopDiff, false)
}
func zintercardCommand(c *client, argv [][]byte) {
	c.zsetopGeneric(argv, 1, nil, zopInter, true)
}

func zscanCommand(c *client, argv [][]byte) {
	cur, ok := szParseCursor(argv[2])
	if !ok {
		c.addError(errInvalidCurs)
		return
	}
	z, _, ok := c.lookupZset(argv[1], true)
	if !ok {
		return
	}
	if z == nil {
		c.szEmptyScan()
		return
	}
	opts, ok := c.szParseScanOpts(argv[3:])
	if !ok {
		return
	}
	var out []string
	if z.tree == nil {
		for o := 0; o < len(z.lp.buf); {
			m, sc, next := z.lp.entry(o)
			if opts.match(string(m)) {
				out = append(out, string(m), lpScoreString(sc))
			}
			o = next
		}
		c.szScanReply(0, out)
		return
	}
	members, next := szHashScan(z.dict, cur, opts.count)
	for _, m := range members {
		if opts.match(m) {
			out = append(out, m, formatScore(z.dict[m]))
		}
	}
	if out == nil {
		out = []string{}
	}
	c.szScanReply(next, out)
}

// Keyspace events of the sorted set commands.

func zaddEvent(incr bool) string {
	if incr {
		return "zincr"
	}
	return "zadd"
}

func zpopWordEvent(popMax bool) string {
	if popMax {
		return "zpopmax"
	}
	return "zpopmin"
}

var zremrangeEvents = [...]string{zrangeRank: "zremrangebyrank", zrangeScore: "zremrangebyscore", zrangeLex: "zremrangebylex"}

var zsetopEvents = [...]string{zopUnion: "zunionstore", zopInter: "zinterstore", zopDiff: "zdiffstore"}
