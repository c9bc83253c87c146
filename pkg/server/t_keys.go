package server

import (
	"fmt"
	"hash/fnv"
	"math"
	"slices"
	"strconv"
	"strings"
)

func init() {
	w, r := FlagWrite, FlagReadOnly
	register(
		&Command{Name: "del", Arity: -2, Flags: w, FirstKey: 1, LastKey: -1, Step: 1, Proc: delCommand},
		&Command{Name: "unlink", Arity: -2, Flags: w | FlagFast, FirstKey: 1, LastKey: -1, Step: 1, Proc: delCommand},
		&Command{Name: "exists", Arity: -2, Flags: r | FlagFast, FirstKey: 1, LastKey: -1, Step: 1, Proc: existsCommand},
		&Command{Name: "type", Arity: 2, Flags: r | FlagFast, FirstKey: 1, LastKey: 1, Step: 1, Proc: typeCommand},
		&Command{Name: "rename", Arity: 3, Flags: w, FirstKey: 1, LastKey: 2, Step: 1, Proc: renameCommand},
		&Command{Name: "renamenx", Arity: 3, Flags: w | FlagFast, FirstKey: 1, LastKey: 2, Step: 1, Proc: renamenxCommand},
		&Command{Name: "move", Arity: 3, Flags: w | FlagFast, FirstKey: 1, LastKey: 1, Step: 1, Proc: moveCommand},
		&Command{Name: "copy", Arity: -3, Flags: w | FlagDenyOOM, FirstKey: 1, LastKey: 2, Step: 1, Proc: copyCommand},
		&Command{Name: "expire", Arity: -3, Flags: w | FlagFast, FirstKey: 1, LastKey: 1, Step: 1, Proc: expireCommand},
		&Command{Name: "pexpire", Arity: -3, Flags: w | FlagFast, FirstKey: 1, LastKey: 1, Step: 1, Proc: pexpireCommand},
		&Command{Name: "expireat", Arity: -3, Flags: w | FlagFast, FirstKey: 1, LastKey: 1, Step: 1, Proc: expireatCommand},
		&Command{Name: "pexpireat", Arity: -3, Flags: w | FlagFast, FirstKey: 1, LastKey: 1, Step: 1, Proc: pexpireatCommand},
		&Command{Name: "ttl", Arity: 2, Flags: r | FlagFast | FlagRandom, FirstKey: 1, LastKey: 1, Step: 1, Proc: ttlCommand},
		&Command{Name: "pttl", Arity: 2, Flags: r | FlagFast | FlagRandom, FirstKey: 1, LastKey: 1, Step: 1, Proc: pttlCommand},
		&Command{Name: "expiretime", Arity: 2, Flags: r | FlagFast, FirstKey: 1, LastKey: 1, Step: 1, Proc: expiretimeCommand},
		&Command{Name: "pexpiretime", Arity: 2, Flags: r | FlagFast, FirstKey: 1, LastKey: 1, Step: 1, Proc: pexpiretimeCommand},
		&Command{Name: "persist", Arity: 2, Flags: w | FlagFast, FirstKey: 1, LastKey: 1, Step: 1, Proc: persistCommand},
		&Command{Name: "keys", Arity: 2, Flags: r, Proc: keysCommand},
		&Command{Name: "scan", Arity: -2, Flags: r | FlagRandom, Proc: scanCommand},
		&Command{Name: "randomkey", Arity: 1, Flags: r | FlagRandom, Proc: randomkeyCommand},
		&Command{Name: "touch", Arity: -2, Flags: r | FlagFast, FirstKey: 1, LastKey: -1, Step: 1, Proc: touchCommand},
		&Command{Name: "object", Arity: -2, Flags: r | FlagRandom, FirstKey: 2, LastKey: 2, Step: 1, Proc: objectCommand,
			Subs: map[string]int{"encoding": 3, "freq": 3, "idletime": 3, "refcount": 3, "help": 2}},
	)
}

func delCommand(c *client, argv [][]byte) {
	n := int64(0)
	for _, k := range argv[1:] {
		if c.db.Delete(k) {
			c.notify(notifyGeneric, "del", k)
			n++
		}
	}
	c.addInt(n)
}

func existsCommand(c *client, argv [][]byte) {
	n := int64(0)
	for _, k := range argv[1:] {
		if c.db.LookupNoTouch(k) != nil {
			n++
		} else {
			c.notify(notifyKeyMiss, "keymiss", k)
		}
	}
	c.addInt(n)
}

func touchCommand(c *client, argv [][]byte) {
	n := int64(0)
	for _, k := range argv[1:] {
		if c.db.Lookup(k) != nil {
			n++
		} else {
			c.notify(notifyKeyMiss, "keymiss", k)
		}
	}
	c.addInt(n)
}

func typeCommand(c *client, argv [][]byte) {
	e := c.db.LookupNoTouch(argv[1])
	if e == nil {
		c.notify(notifyKeyMiss, "keymiss", argv[1])
		c.addSimple("none")
		return
	}
	c.addSimple(e.typ.String())
}

// copyEntry deep-copies a value (COPY); the expiry is not copied.
func copyEntry(e *Entry) *Entry {
	n := &Entry{typ: e.typ, enc: e.enc}
	if e.typ == TypeString {
		n.setStr(cloneBytes(e.Str()))
	} else {
		n.setObj(e.Obj().Copy())
	}
	return n
}

func (c *client) rename(argv [][]byte, nx bool) {
	db := c.db
	src, dst := argv[1], argv[2]
	e := db.Lookup(src)
	if e == nil {
		c.addError(errNoSuchKey)
		return
	}
	if string(src) == string(dst) {
		if nx {
			c.addInt(0)
		} else {
			c.addOK()
		}
		return
	}
	if db.Lookup(dst) != nil {
		if nx {
			c.addInt(0)
			return
		}
		db.Delete(dst)
	}
	db.Delete(src)
	db.Add(dst, e)
	c.notify(notifyGeneric, "rename_from", src)
	c.notify(notifyGeneric, "rename_to", dst)
	if nx {
		c.addInt(1)
	} else {
		c.addOK()
	}
}

func renameCommand(c *client, argv [][]byte)   { c.rename(argv, false) }
func renamenxCommand(c *client, argv [][]byte) { c.rename(argv, true) }

// parseDBArg parses a DB index argument (int range) for MOVE and COPY.
func (c *client) parseDBArg(b []byte) (*DB, bool) {
	n, ok := parseInt64(b)
	if !ok || n < math.MinInt32 || n > math.MaxInt32 {
		c.addError(errNotInt)
		return nil, false
	}
	if n < 0 || n >= int64(len(c.s.ks.dbs)) {
		c.addError(errDBRange)
		return nil, false
	}
	return c.s.ks.dbs[n], true
}

const errSameObject = "ERR source and destination objects are the same"

func moveCommand(c *client, argv [][]byte) {
	dst, ok := c.parseDBArg(argv[2])
	if !ok {
		return
	}
	src := c.db
	if src == dst {
		c.addError(errSameObject)
		return
	}
	e := src.Lookup(argv[1])
	if e == nil || dst.Lookup(argv[1]) != nil {
		c.addInt(0)
		return
	}
	src.Delete(argv[1])
	dst.Add(argv[1], e)
	src.notify(notifyGeneric, "move_from", argv[1])
	dst.notify(notifyGeneric, "move_to", argv[1])
	c.addInt(1)
}

func copyCommand(c *client, argv [][]byte) {
	src, dst := c.db, c.db
	replace := false
	for j := 3; j < len(argv); j++ {
		switch {
		case eqFold(argv[j], "replace"):
			replace = true
		case eqFold(argv[j], "db") && j+1 < len(argv):
			d, ok := c.parseDBArg(argv[j+1])
			if !ok {
				return
			}
			dst = d
			j++
		default:
			c.addError(errSyntax)
			return
		}
	}
	if src == dst && string(argv[1]) == string(argv[2]) {
		c.addError(errSameObject)
		return
	}
	e := src.Lookup(argv[1])
	if e == nil {
		src.notify(notifyKeyMiss, "keymiss", argv[1])
		c.addInt(0)
		return
	}
	if dst.Lookup(argv[2]) != nil {
		if !replace {
			c.addInt(0)
			return
		}
		dst.Delete(argv[2])
	}
	n := copyEntry(e)
	n.expireAt = e.expireAt
	dst.Add(argv[2], n)
	dst.notify(notifyGeneric, "copy_to", argv[2])
	c.addInt(1)
}

// expireGeneric implements EXPIRE/PEXPIRE/EXPIREAT/PEXPIREAT.
func (c *client) expireGeneric(argv [][]byte, base int64, seconds bool) {
	const (
		fNX = 1 << iota
		fXX
		fGT
		fLT
	)
	flag := 0
	for _, a := range argv[3:] {
		switch {
		case eqFold(a, "nx"):
			flag |= fNX
		case eqFold(a, "xx"):
			flag |= fXX
		case eqFold(a, "gt"):
			flag |= fGT
		case eqFold(a, "lt"):
			flag |= fLT
		default:
			c.addError(fmt.Sprintf("ERR Unsupported option %s", a))
			return
		}
	}
	if flag&fNX != 0 && flag&(fXX|fGT|fLT) != 0 {
		c.addError("ERR NX and XX, GT or LT options at the same time are not compatible")
		return
	}
	if flag&fGT != 0 && flag&fLT != 0 {
		c.addError("ERR GT and LT options at the same time are not compatible")
		return
	}
	when, ok := parseInt64(argv[2])
	if !ok {
		c.addError(errNotInt)
		return
	}
	name := strings.ToLower(string(argv[0]))
	if seconds {
		if when > math.MaxInt64/1000 || when < math.MinInt64/1000 {
			c.addError(fmt.Sprintf("ERR invalid expire time in '%s' command", name))
			return
		}
		when *= 1000
	}
	if when > math.MaxInt64-base {
		c.addError(fmt.Sprintf("ERR invalid expire time in '%s' command", name))
		return
	}
	when += base
	db := c.db
	e := db.Lookup(argv[1])
	if e == nil {
		c.addInt(0)
		return
	}
	cur := e.expireAt
	if (flag&fNX != 0 && cur != 0) || (flag&fXX != 0 && cur == 0) ||
		(flag&fGT != 0 && (cur == 0 || when <= cur)) || (flag&fLT != 0 && cur != 0 && when >= cur) {
		c.addInt(0)
		return
	}
	if when <= c.s.ks.now && c.s.cfg.ReplicaOfHost == "" {
		db.Delete(argv[1])
		c.notify(notifyGeneric, "del", argv[1])
	} else {
		if when == 0 { // 0 means "no expiry" internally; an epoch expiry is in the past anyway
			when = 1
		}
		db.SetExpire(argv[1], e, when)
		c.notify(notifyGeneric, "expire", argv[1])
	}
	c.addInt(1)
}

func expireCommand(c *client, argv [][]byte)    { c.expireGeneric(argv, c.s.ks.now, true) }
func pexpireCommand(c *client, argv [][]byte)   { c.expireGeneric(argv, c.s.ks.now, false) }
func expireatCommand(c *client, argv [][]byte)  { c.expireGeneric(argv, 0, true) }
func pexpireatCommand(c *client, argv [][]byte) { c.expireGeneric(argv, 0, false) }

func (c *client) ttlGeneric(key []byte, ms, abs bool) {
	e := c.db.LookupNoTouch(key)
	if e == nil {
		c.notify(notifyKeyMiss, "keymiss", key)
		c.addInt(-2)
		return
	}
	if e.expireAt == 0 {
		c.addInt(-1)
		return
	}
	ttl := e.expireAt
	if !abs {
		ttl -= c.s.ks.now
	}
	ttl = max(ttl, 0)
	if !ms {
		ttl = (ttl + 500) / 1000
	}
	c.addInt(ttl)
}

func ttlCommand(c *client, argv [][]byte)         { c.ttlGeneric(argv[1], false, false) }
func pttlCommand(c *client, argv [][]byte)        { c.ttlGeneric(argv[1], true, false) }
func expiretimeCommand(c *client, argv [][]byte)  { c.ttlGeneric(argv[1], false, true) }
func pexpiretimeCommand(c *client, argv [][]byte) { c.ttlGeneric(argv[1], true, true) }

func persistCommand(c *client, argv [][]byte) {
	e := c.db.Lookup(argv[1])
	if e == nil || e.expireAt == 0 {
		c.addInt(0)
		return
	}
	c.db.SetExpire(argv[1], e, 0)
	c.notify(notifyGeneric, "persist", argv[1])
	c.addInt(1)
}

func keysCommand(c *client, argv [][]byte) {
	pat := argv[1]
	all := len(pat) == 1 && pat[0] == '*'
	db := c.db
	var out []string
	for i := range db.shards {
		for k, e := range db.shards[i].keys {
			if db.isExpired(e) {
				continue
			}
			if all || globMatch(pat, []byte(k), false) {
				out = append(out, k)
			}
		}
	}
	c.addBulkStrings(out)
}

// Scanning. A slot is walked in the order of a 54-bit hash of the keys, so
// a cursor (slot in the low 10 bits, hash position above) stays valid while
// keys are added and removed: every key present for the whole scan is
// returned at least once.

const scanHashBits = 54

func scanHash(k string) uint64 {
	h := fnv.New64a()
	h.Write([]byte(k))
	return h.Sum64() >> (64 - scanHashBits)
}

// scanSlot returns up to about budget keys of the shard whose hash is >= pos,
// plus the position to continue from (0 = slot finished).
func (sh *shard) scanSlot(pos uint64, budget int) ([]string, uint64) {
	if pos == 0 && len(sh.keys) <= budget {
		out := make([]string, 0, len(sh.keys))
		for k := range sh.keys {
			out = append(out, k)
		}
		return out, 0
	}
	type hk struct {
		h uint64
		k string
	}
	cand := make([]hk, 0, len(sh.keys))
	for k := range sh.keys {
		if h := scanHash(k); h >= pos {
			cand = append(cand, hk{h, k})
		}
	}
	slices.SortFunc(cand, func(a, b hk) int {
		switch {
		case a.h < b.h:
			return -1
		case a.h > b.h:
			return 1
		}
		return strings.Compare(a.k, b.k)
	})
	var out []string
	for i, x := range cand {
		if len(out) >= budget && x.h != cand[i-1].h {
			return out, x.h
		}
		out = append(out, x.k)
	}
	return out, 0
}

// parseCursor parses the SCAN and SLOTSSCAN cursor like the collection
// scans (Redis's parseScanCursorOrReply).
func parseCursor(b []byte) (uint64, bool) { return parseScanCursor(b) }

func scanCommand(c *client, argv [][]byte) {
	cur, ok := parseCursor(argv[1])
	if !ok {
		c.addError(errInvalidCurs)
		return
	}
	count := int64(10)
	var pat []byte
	typ := ""
	for i := 2; i < len(argv); i += 2 {
		if i+1 >= len(argv) {
			c.addError(errSyntax)
			return
		}
		switch {
		case eqFold(argv[i], "count"):
			n, ok := parseInt64(argv[i+1])
			if !ok {
				c.addError(errNotInt)
				return
			}
			if n < 1 {
				c.addError(errSyntax)
				return
			}
			count = n
		case eqFold(argv[i], "match"):
			pat = argv[i+1]
		case eqFold(argv[i], "type"):
			typ = strings.ToLower(string(argv[i+1]))
		default:
			c.addError(errSyntax)
			return
		}
	}
	db := c.db
	slot := int(cur & (NumSlots - 1))
	pos := cur >> 10
	var keys []string
	budget := int(min(count, 1<<20))
	for len(keys) < budget {
		got, next := db.shards[slot].scanSlot(pos, budget-len(keys))
		keys = append(keys, got...)
		if next != 0 {
			pos = next
			break
		}
		pos = 0
		slot++
		if slot == NumSlots {
			break
		}
	}
	var next uint64
	if slot < NumSlots {
		next = pos<<10 | uint64(slot)
	}
	out := keys[:0]
	for _, k := range keys {
		e := db.Lookup([]byte(k))
		if e == nil {
			continue
		}
		if pat != nil && !globMatch(pat, []byte(k), false) {
			continue
		}
		if typ != "" && e.typ.String() != typ {
			continue
		}
		out = append(out, k)
	}
	c.addArrayLen(2)
	c.addBulkString(strconv.FormatUint(next, 10))
	c.addBulkStrings(out)
}

func randomkeyCommand(c *client, argv [][]byte) {
	db := c.db
	for tries := 0; tries < 100 && db.nkeys > 0; tries++ {
		k, ok := db.randomKey()
		if !ok {
			break
		}
		if db.Lookup([]byte(k)) != nil {
			c.addBulkString(k)
			return
		}
	}
	c.addNull()
}

const sharedRefcount = 2147483647

func objectCommand(c *client, argv [][]byte) {
	sub := strings.ToLower(string(argv[1]))
	if sub == "help" && len(argv) == 2 {
		c.addHelp(objectHelp)
		return
	}
	switch sub {
	case "encoding", "refcount", "idletime", "freq":
	default:
		unknownSubcommand(c, argv)
		return
	}
	if len(argv) != 3 {
		c.addError(errWrongArgs("object|" + sub))
		return
	}
	e := c.db.LookupNoTouch(argv[2])
	if e == nil {
		c.addNull()
		return
	}
	policy := c.s.cfg.MaxMemoryPolicy
	lfu := strings.HasSuffix(policy, "lfu")
	switch sub {
	case "encoding":
		c.addBulkString(e.encodingName())
	case "refcount":
		if e.typ == TypeString && e.enc == encInt && !strings.HasSuffix(policy, "lru") && !lfu {
			if v, ok := parseInt64(e.Str()); ok && v >= 0 && v < 10000 {
				c.addInt(sharedRefcount)
				return
			}
		}
		c.addInt(1)
	case "idletime":
		if lfu {
			c.addError("ERR An LFU maxmemory policy is selected, idle time not tracked. Please note that when switching between policies at runtime LRU and LFU data will take some time to adjust.")
			return
		}
		c.addInt(int64(c.s.ks.lruClock - e.lru))
	case "freq":
		if !lfu {
			c.addError("ERR An LFU maxmemory policy is not selected, access frequency not tracked. Please note that when switching between policies at runtime LRU and LFU data will take some time to adjust.")
			return
		}
		c.addInt(int64(lfuDecay(e.freq, c.s.ks.lruClock-e.lru)))
	}
}
