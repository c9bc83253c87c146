package server

import (
	"cmp"
	"math"
	"math/rand/v2"
	"slices"
	"strconv"
)

// Sets. Like Redis 7.0, a set is an intset (sorted integers) while every
// member is an integer and there are at most set-max-intset-entries of
// them, and a hash table afterwards; the conversion is one-way.

// encLimits are the encoding thresholds of sets, sorted sets and lists
// (config.go), and of hashes (t_hash.go). Commands read them once per
// command (Server.encLimits, or setMaxInts for sets; mu held) and pass them
// down, so a CONFIG SET applies to later writes as in Redis; RESTORE and
// RDB loading pick encodings by them too (rdbconv.go).
type encLimits struct {
	setInts     int // set-max-intset-entries
	zsetEntries int // zset-max-listpack-entries
	zsetValue   int // zset-max-listpack-value
	listFill    int // list-max-listpack-size
	hash        hashLimits
}

// defaultEncLimits are Redis 7.0's defaults.
var defaultEncLimits = encLimits{setInts: setMaxIntsetEntries, zsetEntries: zsetMaxListpackEntries,
	zsetValue: zsetMaxListpackValue, listFill: -2, hash: defaultHashLimits}

// clampInt converts a configured int64 threshold to int.
func clampInt(v int64) int { return int(min(v, math.MaxInt)) }

// encLimits reads the thresholds from the configuration (mu held).
func (s *Server) encLimits() encLimits {
	cfg := s.cfg
	return encLimits{
		setInts:     clampInt(cfg.SetMaxIntsetEntries),
		zsetEntries: clampInt(cfg.ZsetMaxListpackEntries),
		zsetValue:   clampInt(cfg.ZsetMaxListpackValue),
		listFill:    int(cfg.ListMaxListpackSize),
		hash:        s.hashLimits(),
	}
}

// zsetLimits is encLimits for sorted set commands: only the zset fields
// are read from the configuration (no map lookups for the hash ones).
func (s *Server) zsetLimits() encLimits {
	l := defaultEncLimits
	l.zsetEntries = clampInt(s.cfg.ZsetMaxListpackEntries)
	l.zsetValue = clampInt(s.cfg.ZsetMaxListpackValue)
	return l
}

// setMaxIntsetEntries is Redis's set-max-intset-entries default.
const setMaxIntsetEntries = 512

// setMaxInts is set-max-intset-entries (mu held).
func (s *Server) setMaxInts() int { return clampInt(s.cfg.SetMaxIntsetEntries) }

func init() {
	wm := FlagWrite | FlagDenyOOM
	r := FlagReadOnly
	register(
		&Command{Name: "sadd", Arity: -3, Flags: wm | FlagFast, FirstKey: 1, LastKey: 1, Step: 1, Proc: saddCommand},
		&Command{Name: "srem", Arity: -3, Flags: FlagWrite | FlagFast, FirstKey: 1, LastKey: 1, Step: 1, Proc: sremCommand},
		&Command{Name: "scard", Arity: 2, Flags: r | FlagFast, FirstKey: 1, LastKey: 1, Step: 1, Proc: scardCommand},
		&Command{Name: "sismember", Arity: 3, Flags: r | FlagFast, FirstKey: 1, LastKey: 1, Step: 1, Proc: sismemberCommand},
		&Command{Name: "smismember", Arity: -3, Flags: r | FlagFast, FirstKey: 1, LastKey: 1, Step: 1, Proc: smismemberCommand},
		&Command{Name: "smembers", Arity: 2, Flags: r, FirstKey: 1, LastKey: 1, Step: 1, Proc: smembersCommand},
		&Command{Name: "srandmember", Arity: -2, Flags: r | FlagRandom, FirstKey: 1, LastKey: 1, Step: 1, Proc: srandmemberCommand},
		&Command{Name: "spop", Arity: -2, Flags: FlagWrite | FlagRandom | FlagFast, FirstKey: 1, LastKey: 1, Step: 1, Proc: spopCommand},
		&Command{Name: "smove", Arity: 4, Flags: FlagWrite | FlagFast, FirstKey: 1, LastKey: 2, Step: 1, Proc: smoveCommand},
		&Command{Name: "sinter", Arity: -2, Flags: r, FirstKey: 1, LastKey: -1, Step: 1, Proc: sinterCommand},
		&Command{Name: "sintercard", Arity: -3, Flags: r, KeysFn: numkeysKeys(0, 1), Proc: sintercardCommand},
		&Command{Name: "sinterstore", Arity: -3, Flags: wm, FirstKey: 1, LastKey: -1, Step: 1, Proc: sinterstoreCommand},
		&Command{Name: "sunion", Arity: -2, Flags: r, FirstKey: 1, LastKey: -1, Step: 1, Proc: sunionCommand},
		&Command{Name: "sunionstore", Arity: -3, Flags: wm, FirstKey: 1, LastKey: -1, Step: 1, Proc: sunionstoreCommand},
		&Command{Name: "sdiff", Arity: -2, Flags: r, FirstKey: 1, LastKey: -1, Step: 1, Proc: sdiffCommand},
		&Command{Name: "sdiffstore", Arity: -3, Flags: wm, FirstKey: 1, LastKey: -1, Step: 1, Proc: sdiffstoreCommand},
		&Command{Name: "sscan", Arity: -3, Flags: r | FlagRandom, FirstKey: 1, LastKey: 1, Step: 1, Proc: sscanCommand},
	)
}

// setObject is a set value: ints holds the intset encoding while m is nil.
type setObject struct {
	ints intset              // intset encoding (when m == nil)
	m    map[string]struct{} // hashtable encoding
	mem  int64               // running estimate of the members' cost in m
	peak int                 // largest len(m) since m was built (Go maps never shrink)
}

// Memory estimates: an object header, the intset buffer, and per hash
// table member the map slot (16-byte key at 7/8 load plus control
// bytes) and the string's allocation.
// mapShrinkMin is the size from which a hash table that lost three
// quarters of its peak membership is rebuilt.
const mapShrinkMin = 1024

const (
	setObjOverhead    = 64
	setMemberOverhead = 35
)

func strAlloc(n int) int64 { return int64((n + 7) &^ 7) }

func newSetObject() *setObject { return &setObject{} }

func (s *setObject) Type() ValueType { return TypeSet }

func (s *setObject) Encoding() string {
	if s.m == nil {
		return "intset"
	}
	return "hashtable"
}

func (s *setObject) MemSize() int64 {
	if s.m == nil {
		return setObjOverhead + int64(cap(s.ints.data))
	}
	return setObjOverhead + s.mem
}

func (s *setObject) Copy() Object {
	n := &setObject{mem: s.mem}
	if s.m == nil {
		n.ints = s.ints.clone()
		return n
	}
	n.m = make(map[string]struct{}, len(s.m))
	for k := range s.m {
		n.m[k] = struct{}{}
	}
	return n
}

// Len returns the number of members.
func (s *setObject) Len() int {
	if s.m == nil {
		return s.ints.len()
	}
	return len(s.m)
}

// convert switches to the hash table encoding.
func (s *setObject) convert() {
	s.m = make(map[string]struct{}, s.ints.len()+1)
	s.mem = 0
	for _, v := range s.ints.values() {
		k := strconv.FormatInt(v, 10)
		s.m[k] = struct{}{}
		s.mem += setMemberOverhead + strAlloc(len(k))
	}
	s.ints = intset{}
}

// Add inserts member and reports whether it was new; an intset holds at
// most maxInts members (set-max-intset-entries, Server.encLimits).
func (s *setObject) Add(member []byte, maxInts int) bool {
	if s.m == nil {
		if v, ok := parseInt64(member); ok {
			if _, found := s.ints.search(v); found {
				return false
			}
			if s.ints.len() < maxInts {
				return s.ints.insert(v)
			}
		}
		s.convert()
	}
	// One map operation: on a big set each is a cache miss. (Assigning a
	// present member only replaces its key with an equal string.)
	n := len(s.m)
	s.m[string(member)] = struct{}{}
	if len(s.m) == n {
		return false
	}
	s.mem += setMemberOverhead + strAlloc(len(member))
	s.peak = max(s.peak, len(s.m))
	return true
}

// addString is Add for a member already held as a string.
func (s *setObject) addString(member string, maxInts int) bool {
	if s.m != nil {
		if _, ok := s.m[member]; ok {
			return false
		}
		s.m[member] = struct{}{}
		s.mem += setMemberOverhead + strAlloc(len(member))
		s.peak = max(s.peak, len(s.m))
		return true
	}
	return s.Add([]byte(member), maxInts)
}

// Remove deletes member and reports whether it was present.
func (s *setObject) Remove(member []byte) bool {
	if s.m == nil {
		v, ok := parseInt64(member)
		if !ok {
			return false
		}
		return s.ints.remove(v)
	}
	if _, ok := s.m[string(member)]; !ok {
		return false
	}
	delete(s.m, string(member))
	s.mem -= setMemberOverhead + strAlloc(len(member))
	if s.peak >= mapShrinkMin && len(s.m) < s.peak/4 {
		// Rebuild to release the table of a set that shrank a lot.
		m := make(map[string]struct{}, len(s.m))
		for k := range s.m {
			m[k] = struct{}{}
		}
		s.m, s.peak = m, len(m)
	}
	return true
}

// Has reports membership.
func (s *setObject) Has(member []byte) bool {
	if s.m == nil {
		v, ok := parseInt64(member)
		if !ok {
			return false
		}
		_, found := s.ints.search(v)
		return found
	}
	_, ok := s.m[string(member)]
	return ok
}

func (s *setObject) hasString(member string) bool {
	if s.m != nil {
		_, ok := s.m[member]
		return ok
	}
	return s.Has([]byte(member))
}

// Members returns every member, in intset order for intsets.
func (s *setObject) Members() []string {
	out := make([]string, 0, s.Len())
	s.each(func(m string) bool {
		out = append(out, m)
		return true
	})
	return out
}

// each calls fn for every member until it returns false.
func (s *setObject) each(fn func(string) bool) {
	if s.m == nil {
		for i, n := 0, s.ints.len(); i < n; i++ {
			if !fn(strconv.FormatInt(s.ints.get(i), 10)) {
				return
			}
		}
		return
	}
	for k := range s.m {
		if !fn(k) {
			return
		}
	}
}

// random returns a random member (the set must not be empty).
func (s *setObject) random() string {
	if s.m == nil {
		return strconv.FormatInt(s.ints.get(rand.IntN(s.ints.len())), 10)
	}
	// Go randomises the starting point of every map iteration.
	for k := range s.m {
		return k
	}
	return ""
}

// lookupSet returns the set at key (nil if absent); ok is false after a
// WRONGTYPE reply.
func (c *client) lookupSet(key []byte, read bool) (*setObject, *Entry, bool) {
	e, ok := c.lookupTyped(key, TypeSet, read)
	if !ok || e == nil {
		return nil, nil, ok
	}
	return e.set(), e, true
}

// setAfterRemove deletes key if its set became empty, else accounts the
// change.
func (db *DB) setAfterRemove(key []byte, e *Entry, s *setObject) {
	if s.Len() == 0 {
		db.Delete(key)
		db.notify(notifyGeneric, "del", key)
	} else {
		db.Modified(key, e)
	}
}

func saddCommand(c *client, argv [][]byte) {
	s, e, ok := c.lookupSet(argv[1], false)
	if !ok {
		return
	}
	created := false
	if s == nil {
		s = newSetObject()
		created = true
	}
	added := 0
	maxInts := c.s.setMaxInts()
	for _, m := range argv[2:] {
		if s.Add(m, maxInts) {
			added++
		}
	}
	if created {
		c.db.Add(argv[1], NewObjectEntry(s))
	} else if added > 0 {
		c.db.Modified(argv[1], e)
	}
	if added > 0 {
		c.notify(notifySet, "sadd", argv[1])
	}
	c.addInt(int64(added))
}

func sremCommand(c *client, argv [][]byte) {
	s, e, ok := c.lookupSet(argv[1], false)
	if !ok {
		return
	}
	if s == nil {
		c.addInt(0)
		return
	}
	n := 0
	for _, m := range argv[2:] {
		if s.Remove(m) {
			n++
			if s.Len() == 0 {
				break
			}
		}
	}
	if n > 0 {
		c.notify(notifySet, "srem", argv[1])
		c.db.setAfterRemove(argv[1], e, s)
	}
	c.addInt(int64(n))
}

func scardCommand(c *client, argv [][]byte) {
	s, _, ok := c.lookupSet(argv[1], true)
	if !ok {
		return
	}
	if s == nil {
		c.addInt(0)
		return
	}
	c.addInt(int64(s.Len()))
}

func sismemberCommand(c *client, argv [][]byte) {
	s, _, ok := c.lookupSet(argv[1], true)
	if !ok {
		return
	}
	c.addBool(s != nil && s.Has(argv[2]))
}

func smismemberCommand(c *client, argv [][]byte) {
	s, _, ok := c.lookupSet(argv[1], true)
	if !ok {
		return
	}
	c.addArrayLen(len(argv) - 2)
	for _, m := range argv[2:] {
		c.addBool(s != nil && s.Has(m))
	}
}

func smembersCommand(c *client, argv [][]byte) {
	s, _, ok := c.lookupSet(argv[1], true)
	if !ok {
		return
	}
	if s == nil {
		c.addArrayLen(0)
		return
	}
	c.addSetMembers(s)
}

func (c *client) addSetMembers(s *setObject) {
	c.addArrayLen(s.Len())
	if s.m == nil {
		for i, n := 0, s.ints.len(); i < n; i++ {
			c.addBulkInt(s.ints.get(i))
		}
		return
	}
	for k := range s.m {
		c.addBulkString(k)
	}
}

func srandmemberCommand(c *client, argv [][]byte) {
	if len(argv) > 3 {
		c.addError(errSyntax)
		return
	}
	if len(argv) == 3 {
		count, ok := parseInt64(argv[2])
		if !ok {
			c.addError(errNotInt)
			return
		}
		if count == math.MinInt64 {
			c.addError("ERR value is out of range, value must between -9223372036854775807 and 9223372036854775807")
			return
		}
		s, _, ok := c.lookupSet(argv[1], true)
		if !ok {
			return
		}
		if s == nil || count == 0 {
			c.addArrayLen(0)
			return
		}
		c.srandmemberCount(s, count)
		return
	}
	s, _, ok := c.lookupSet(argv[1], true)
	if !ok {
		return
	}
	if s == nil {
		c.addNull()
		return
	}
	c.addBulkString(s.random())
}

func (c *client) srandmemberCount(s *setObject, count int64) {
	size := int64(s.Len())
	if count < 0 {
		// Repetitions allowed.
		n := -count
		if s.m == nil {
			c.addArrayLen(int(n))
			for ; n > 0; n-- {
				c.addBulkInt(s.ints.get(rand.IntN(s.ints.len())))
			}
			return
		}
		c.addArrayLen(int(n))
		for ; n > 0; n-- {
			c.addBulkString(s.random())
		}
		return
	}
	if count >= size {
		c.addSetMembers(s)
		return
	}
	c.addBulkStrings(s.sample(int(count)))
}

// sample returns n distinct random members, n < Len().
func (s *setObject) sample(n int) []string {
	size := s.Len()
	if n*3 > size {
		all := s.Members()
		for i := 0; i < n; i++ {
			j := i + rand.IntN(size-i)
			all[i], all[j] = all[j], all[i]
		}
		return all[:n]
	}
	seen := make(map[string]struct{}, n)
	out := make([]string, 0, n)
	for len(out) < n {
		m := s.random()
		if _, dup := seen[m]; dup {
			continue
		}
		seen[m] = struct{}{}
		out = append(out, m)
	}
	return out
}

func spopCommand(c *client, argv [][]byte) {
	if len(argv) > 3 {
		c.addError(errSyntax)
		return
	}
	db := c.db
	if len(argv) == 3 {
		count, ok := parseInt64(argv[2])
		if !ok || count < 0 {
			c.addError("ERR value is out of range, must be positive")
			return
		}
		s, e, ok := c.lookupSet(argv[1], false)
		if !ok {
			return
		}
		if s == nil || count == 0 {
			c.addArrayLen(0)
			return
		}
		if count >= int64(s.Len()) {
			c.addSetMembers(s)
			db.Delete(argv[1])
			c.notify(notifySet, "spop", argv[1])
			c.notify(notifyGeneric, "del", argv[1])
			c.propagateInstead(bDEL, argv[1])
			return
		}
		picked := s.sample(int(count))
		for _, m := range picked {
			s.Remove([]byte(m))
		}
		c.propagateSrem(argv[1], picked)
		c.notify(notifySet, "spop", argv[1])
		db.setAfterRemove(argv[1], e, s)
		c.addBulkStrings(picked)
		return
	}
	s, e, ok := c.lookupSet(argv[1], false)
	if !ok {
		return
	}
	if s == nil {
		c.addNull()
		return
	}
	m := s.random()
	s.Remove([]byte(m))
	c.propagateInstead(bSREM, argv[1], []byte(m))
	c.notify(notifySet, "spop", argv[1])
	db.setAfterRemove(argv[1], e, s)
	c.addBulkString(m)
}

func smoveCommand(c *client, argv [][]byte) {
	db := c.db
	srcKey, dstKey, member := argv[1], argv[2], argv[3]
	se := db.Lookup(srcKey)
	de := db.Lookup(dstKey)
	if se == nil {
		c.addInt(0)
		return
	}
	if se.typ != TypeSet || (de != nil && de.typ != TypeSet) {
		c.addError(errWrongType)
		return
	}
	src := se.set()
	if se == de {
		c.addBool(src.Has(member))
		return
	}
	if !src.Remove(member) {
		c.addInt(0)
		return
	}
	c.notify(notifySet, "srem", srcKey)
	db.setAfterRemove(srcKey, se, src)
	if de == nil {
		d := newSetObject()
		d.Add(member, c.s.setMaxInts())
		db.Add(dstKey, NewObjectEntry(d))
		c.notify(notifySet, "sadd", dstKey)
	} else if de.set().Add(member, c.s.setMaxInts()) {
		db.Modified(dstKey, de)
		c.notify(notifySet, "sadd", dstKey)
	}
	c.addInt(1)
}

// storeSet writes a computed set to dst (deleting dst when it is empty)
// and replies its cardinality.
func (c *client) storeSet(dst []byte, s *setObject, event string) {
	if s.Len() == 0 {
		if c.db.Delete(dst) {
			c.notify(notifyGeneric, "del", dst)
		}
		c.addInt(0)
		return
	}
	c.db.Set(dst, NewObjectEntry(s), false)
	c.notify(notifySet, event, dst)
	c.addInt(int64(s.Len()))
}

// sinterGeneric implements SINTER, SINTERSTORE and SINTERCARD.
func (c *client) sinterGeneric(keys [][]byte, dst []byte, cardOnly bool, limit int64) {
	sets := make([]*setObject, 0, len(keys))
	missing := false
	for _, k := range keys {
		e := c.db.LookupRead(k)
		if e == nil {
			missing = true
			continue
		}
		if e.typ != TypeSet {
			c.addError(errWrongType)
			return
		}
		sets = append(sets, e.set())
	}
	if missing {
		switch {
		case dst != nil:
			if c.db.Delete(dst) {
				c.notify(notifyGeneric, "del", dst)
			}
			c.addInt(0)
		case cardOnly:
			c.addInt(0)
		default:
			c.addArrayLen(0)
		}
		return
	}
	slices.SortStableFunc(sets, func(a, b *setObject) int { return a.Len() - b.Len() })
	var out []string
	card := int64(0)
	sets[0].each(func(m string) bool {
		for _, o := range sets[1:] {
			if o != sets[0] && !o.hasString(m) {
				return true
			}
		}
		card++
		if !cardOnly {
			out = append(out, m)
		}
		return !(cardOnly && limit > 0 && card >= limit)
	})
	switch {
	case cardOnly:
		c.addInt(card)
	case dst != nil:
		res := newSetObject()
		maxInts := c.s.setMaxInts()
		for _, m := range out {
			res.addString(m, maxInts)
		}
		c.storeSet(dst, res, "sinterstore")
	default:
		c.addBulkStrings(out)
	}
}

func sinterCommand(c *client, argv [][]byte) { c.sinterGeneric(argv[1:], nil, false, 0) }

func sinterstoreCommand(c *client, argv [][]byte) { c.sinterGeneric(argv[2:], argv[1], false, 0) }

// parseNumKeys parses the numkeys argument of SINTERCARD-style commands.
func (c *client) setNumKeys(argv [][]byte) (int, bool) {
	n, ok := parseInt64(argv[1])
	if !ok || n <= 0 {
		c.addError("ERR numkeys should be greater than 0")
		return 0, false
	}
	if n > int64(len(argv)-2) {
		c.addError("ERR Number of keys can't be greater than number of args")
		return 0, false
	}
	return int(n), true
}

func sintercardCommand(c *client, argv [][]byte) {
	n, ok := c.setNumKeys(argv)
	if !ok {
		return
	}
	limit := int64(0)
	for j := 2 + n; j < len(argv); j++ {
		if eqFold(argv[j], "limit") && j+1 < len(argv) {
			v, ok := parseInt64(argv[j+1])
			if !ok || v < 0 {
				c.addError("ERR LIMIT can't be negative")
				return
			}
			limit = v
			j++
			continue
		}
		c.addError(errSyntax)
		return
	}
	c.sinterGeneric(argv[2:2+n], nil, true, limit)
}

// sunionDiffGeneric implements SUNION, SDIFF and their STORE forms.
func (c *client) sunionDiffGeneric(keys [][]byte, dst []byte, diff bool) {
	sets := make([]*setObject, len(keys))
	for i, k := range keys {
		e := c.db.LookupRead(k)
		if e == nil {
			continue
		}
		if e.typ != TypeSet {
			c.addError(errWrongType)
			return
		}
		sets[i] = e.set()
	}
	res := newSetObject()
	maxInts := c.s.setMaxInts()
	if diff {
		if sets[0] != nil {
			sets[0].each(func(m string) bool {
				for _, o := range sets[1:] {
					if o != nil && o.hasString(m) {
						return true
					}
				}
				res.addString(m, maxInts)
				return true
			})
		}
	} else {
		for _, s := range sets {
			if s == nil {
				continue
			}
			if s.m == nil && res.m == nil {
				res.unionInts(s.ints.values(), maxInts)
				continue
			}
			s.each(func(m string) bool {
				res.addString(m, maxInts)
				return true
			})
		}
	}
	if dst != nil {
		event := "sunionstore"
		if diff {
			event = "sdiffstore"
		}
		c.storeSet(dst, res, event)
		return
	}
	c.addSetMembers(res)
}

// unionInts merges a sorted integer list into an intset, converting when
// the result is too large.
func (s *setObject) unionInts(vs []int64, maxInts int) {
	cur := s.ints.values()
	merged := make([]int64, 0, len(cur)+len(vs))
	i, j := 0, 0
	for i < len(cur) || j < len(vs) {
		switch {
		case j == len(vs) || (i < len(cur) && cur[i] < vs[j]):
			merged = append(merged, cur[i])
			i++
		case i == len(cur) || vs[j] < cur[i]:
			merged = append(merged, vs[j])
			j++
		default:
			merged = append(merged, vs[j])
			i++
			j++
		}
	}
	s.ints = intsetFromSorted(merged)
	if len(merged) > maxInts {
		s.convert()
	}
}

func sunionCommand(c *client, argv [][]byte)      { c.sunionDiffGeneric(argv[1:], nil, false) }
func sunionstoreCommand(c *client, argv [][]byte) { c.sunionDiffGeneric(argv[2:], argv[1], false) }
func sdiffCommand(c *client, argv [][]byte)       { c.sunionDiffGeneric(argv[1:], nil, true) }
func sdiffstoreCommand(c *client, argv [][]byte)  { c.sunionDiffGeneric(argv[2:], argv[1], true) }

func sscanCommand(c *client, argv [][]byte) {
	cur, ok := szParseCursor(argv[2])
	if !ok {
		c.addError(errInvalidCurs)
		return
	}
	s, _, ok := c.lookupSet(argv[1], true)
	if !ok {
		return
	}
	if s == nil {
		c.szEmptyScan()
		return
	}
	opts, ok := c.szParseScanOpts(argv[3:])
	if !ok {
		return
	}
	if s.m == nil {
		// Small encodings are returned whole, as Redis does.
		out := make([]string, 0, s.ints.len())
		for _, v := range s.ints.values() {
			m := strconv.FormatInt(v, 10)
			if opts.match(m) {
				out = append(out, m)
			}
		}
		c.szScanReply(0, out)
		return
	}
	members, next := szHashScan(s.m, cur, opts.count)
	out := members[:0]
	for _, m := range members {
		if opts.match(m) {
			out = append(out, m)
		}
	}
	c.szScanReply(next, out)
}

// Collection scans (SSCAN, ZSCAN). Small encodings reply everything at
// once with cursor 0, like Redis. Hash tables are walked in the order of a
// 54-bit hash of the members: the cursor is the hash to continue from, so
// every member present for the whole scan is returned at least once even
// while the collection changes. Each call returns at least COUNT members
// and at least 1/64 of the collection, bounding a full scan to 64 passes.

type szScanOpts struct {
	count int64
	pat   []byte
}

func (o *szScanOpts) match(m string) bool {
	return o.pat == nil || globMatch(o.pat, []byte(m), false)
}

// szParseScanOpts parses MATCH and COUNT (TYPE is only for SCAN).
func (c *client) szParseScanOpts(args [][]byte) (szScanOpts, bool) {
	o := szScanOpts{count: 10}
	for i := 0; i < len(args); i += 2 {
		if i+1 >= len(args) {
			c.addError(errSyntax)
			return o, false
		}
		switch {
		case eqFold(args[i], "count"):
			n, ok := parseInt64(args[i+1])
			if !ok {
				c.addError(errNotInt)
				return o, false
			}
			if n < 1 {
				c.addError(errSyntax)
				return o, false
			}
			o.count = n
		case eqFold(args[i], "match"):
			o.pat = args[i+1]
			if len(o.pat) == 1 && o.pat[0] == '*' {
				o.pat = nil
			}
		default:
			c.addError(errSyntax)
			return o, false
		}
	}
	return o, true
}

func (c *client) szEmptyScan() { c.addRaw("*2\r\n$1\r\n0\r\n*0\r\n") }

func (c *client) szScanReply(next uint64, items []string) {
	c.addArrayLen(2)
	c.addBulkString(strconv.FormatUint(next, 10))
	c.addBulkStrings(items)
}

// szHash is FNV-1a reduced to 54 bits.
func szHash(s string) uint64 {
	h := uint64(14695981039346656037)
	for i := 0; i < len(s); i++ {
		h ^= uint64(s[i])
		h *= 1099511628211
	}
	return h >> 10
}

// szHashScan returns the members of m whose hash is >= cur, in hash order,
// and the cursor to continue from (0 when done). It walks the map once,
// keeping only hashes below a threshold estimated (hashes are uniform) to
// admit about twice the batch, widened if that was too few; the batch is
// then found by selection and sorted.
func szHashScan[V any](m map[string]V, cur uint64, count int64) ([]string, uint64) {
	const top = uint64(1) << 54 // hashes are below top
	if cur >= top || len(m) == 0 {
		return nil, 0
	}
	budget := int(min(max(count, int64(len(m)/64)), 1<<20))
	span := top - cur
	limit := top
	if est := float64(len(m)) * float64(span) / float64(top); est > float64(4*budget) {
		limit = cur + uint64(float64(span)*float64(2*budget)/est)
	}
	var cand []szHK
	more := false // some member has a hash >= limit
	for {
		cand, more = cand[:0], false
		for k := range m {
			switch h := szHash(k); {
			case h < cur:
			case h < limit:
				cand = append(cand, szHK{h, k})
			default:
				more = true
			}
		}
		if len(cand) >= budget || !more {
			break
		}
		limit = cur + min(span, 4*(limit-cur))
	}
	next := uint64(0)
	if more {
		next = limit
	}
	if len(cand) > budget {
		// The budget smallest hashes, then every member sharing the
		// largest of them (a cursor cannot split equal hashes).
		szSelect(cand, budget)
		last := cand[0].h
		for _, x := range cand[:budget] {
			last = max(last, x.h)
		}
		keep := budget
		rest := ^uint64(0)
		for i := budget; i < len(cand); i++ {
			switch x := cand[i]; {
			case x.h == last:
				cand[keep], cand[i] = cand[i], cand[keep]
				keep++
			case x.h < rest:
				rest = x.h
			}
		}
		if rest != ^uint64(0) {
			next = rest
		}
		cand = cand[:keep]
	}
	slices.SortFunc(cand, func(a, b szHK) int { return cmp.Compare(a.h, b.h) })
	out := make([]string, len(cand))
	for i, x := range cand {
		out[i] = x.k
	}
	return out, next
}

// szHK is a member and its scan hash.
type szHK struct {
	h uint64
	k string
}

// szSelect reorders a so that its k smallest hashes come first
// (quickselect; 0 < k < len(a)).
func szSelect(a []szHK, k int) {
	lo, hi := 0, len(a)-1
	for lo < hi {
		p := a[lo+rand.IntN(hi-lo+1)].h
		i, j := lo, hi
		for i <= j {
			for a[i].h < p {
				i++
			}
			for a[j].h > p {
				j--
			}
			if i <= j {
				a[i], a[j] = a[j], a[i]
				i++
				j--
			}
		}
		switch {
		case k-1 <= j:
			hi = j
		case k-1 >= i:
			lo = i
		default:
			return
		}
	}
}

// szParseCursor parses a collection scan cursor like Redis's
// parseScanCursorOrReply (strtoul: "-1" wraps, "" is 0).
func szParseCursor(b []byte) (uint64, bool) { return parseScanCursor(b) }
