package server

import (
	"encoding/binary"
	"fmt"
	"hash/maphash"
	"math"
	"math/big"
	"math/bits"
	"math/rand/v2"
	"slices"
	"strconv"
	"strings"

	"github.com/codisgo/codis/pkg/rdb"
	"github.com/codisgo/codis/pkg/resp"
)

// Hashes have Redis's two encodings: a packed buffer of field, value
// entries while the hash has at most
// hashMaxListpackEntries fields and every field and value is at most
// hashMaxListpackValue bytes, then a hash table (hashTable). Conversion is
// one-way. In the table each field and its value share one allocation.

const (
	hashMaxListpackEntries = 512 // default hash-max-listpack-entries, as Debian's redis-server 7.0.15 reports
	hashMaxListpackValue   = 64  // default hash-max-listpack-value
	hashObjOverhead        = 32  // hashObj struct
	hashTableOverhead      = 48  // hashTable struct
)

// hashLimits are the listpack conversion thresholds.
type hashLimits struct{ entries, value int }

var defaultHashLimits = hashLimits{hashMaxListpackEntries, hashMaxListpackValue}

// hashLimits reads hash-max-listpack-entries / -value (CONFIG SET applies
// to later writes; mu held).
func (s *Server) hashLimits() hashLimits {
	lim := defaultHashLimits
	if v, ok := s.cfg.extra["hash-max-listpack-entries"]; ok {
		if n, err := strconv.Atoi(v); err == nil && n >= 0 {
			lim.entries = n
		}
	}
	if v, ok := s.cfg.extra["hash-max-listpack-value"]; ok {
		if n, err := strconv.Atoi(v); err == nil && n >= 0 {
			lim.value = n
		}
	}
	return lim
}

// The listpack encoding of hashes only needs forward iteration, so its
// entries are uvarint(len) followed by the bytes.

func hpSize(vlen int) int { return uvarintLen(vlen) + vlen }

func hpAppend(dst, v []byte) []byte {
	dst = binary.AppendUvarint(dst, uint64(len(v)))
	return append(dst, v...)
}

// hpRead decodes the entry at off and returns it and the next offset.
func hpRead(b []byte, off int) ([]byte, int) {
	l, h := binary.Uvarint(b[off:])
	start := off + h
	end := start + int(l)
	return b[start:end:end], end
}

// hashObj is the hash value: lp in the listpack encoding, else ht.
type hashObj struct {
	lp []byte
	ht *hashTable
}

// hashTable is the hashtable encoding: open addressing with linear
// probing over slots that keep 32 bits of the field's hash. Compared with
// a Go map, HSET of a new field probes once (a map needs a lookup, then an
// assignment), and growing rehashes from the stored hashes without reading
// the fields (on a big hash each of those reads is a cache miss). Deletion
// shifts the following entries back (no tombstones) and the table shrinks
// when mostly empty, so memory is given back.
type hashTable struct {
	slots []htSlot // power-of-two length, at most 3/4 used
	shift uint8    // 32 - log2(len(slots)): a slot's home is tag >> shift
	n     int      // fields
	mem   int64    // sum of hashEntryMem of the fields
}

// htSlot is one slot: the field and value in one string, the field's
// length, and its hash tag (0 when the slot is empty).
type htSlot struct {
	fv   string
	flen uint32
	tag  uint32
}

// htSlotSize is the size of an htSlot, for MemSize.
const htSlotSize = 24

// htMinSlots is the smallest table.
const htMinSlots = 8

var htSeed = maphash.MakeSeed()

// htTag hashes a field: the top bits choose the home slot, bit 0 is set so
// that an occupied slot's tag is never 0.
func htTag(f []byte) uint32 { return uint32(maphash.Bytes(htSeed, f)>>32) | 1 }

// newHashTable returns a table with room for n fields without growing.
func newHashTable(n int) *hashTable {
	t := &hashTable{}
	t.alloc(htSlotsFor(n))
	return t
}

// htSlotsFor is the table size that holds n fields at most 3/4 full.
func htSlotsFor(n int) int {
	size := htMinSlots
	for size*3 < n*4 {
		size *= 2
	}
	return size
}

func (t *hashTable) alloc(size int) {
	t.slots = make([]htSlot, size)
	t.shift = uint8(32 - bits.TrailingZeros(uint(size)))
}

func (f *htSlot) field() string { return f.fv[:f.flen] }
func (f *htSlot) value() string { return f.fv[f.flen:] }

// find returns the slot of field and true, or the empty slot that ends its
// probe sequence and false.
func (t *hashTable) find(field []byte, tag uint32) (int, bool) {
	mask := len(t.slots) - 1
	for i := int(tag >> t.shift); ; i = (i + 1) & mask {
		s := &t.slots[i]
		if s.tag == tag && int(s.flen) == len(field) && s.fv[:s.flen] == string(field) {
			return i, true
		}
		if s.tag == 0 {
			return i, false
		}
	}
}

// lookup returns the slot holding field, or nil.
func (t *hashTable) lookup(field []byte) *htSlot {
	if i, ok := t.find(field, htTag(field)); ok {
		return &t.slots[i]
	}
	return nil
}

// resize rehashes into a table of size slots, from the stored tags.
func (t *hashTable) resize(size int) {
	old := t.slots
	t.alloc(size)
	mask := size - 1
	for _, s := range old {
		if s.tag == 0 {
			continue
		}
		i := int(s.tag >> t.shift)
		for t.slots[i].tag != 0 {
			i = (i + 1) & mask
		}
		t.slots[i] = s
	}
}

// m iterates over the fields and values: for f, v := range t.m.
func (t *hashTable) m(yield func(f, v string) bool) {
	for i := range t.slots {
		if s := &t.slots[i]; s.tag != 0 && !yield(s.field(), s.value()) {
			return
		}
	}
}

// random returns a random occupied slot of a non-empty table: the first
// one from a random position (O(1) at the load kept, close to uniform,
// like Redis's fair random key).
func (t *hashTable) random() *htSlot {
	mask := len(t.slots) - 1
	for i := rand.IntN(len(t.slots)); ; i = (i + 1) & mask {
		if t.slots[i].tag != 0 {
			return &t.slots[i]
		}
	}
}

func newHashObj() *hashObj { return &hashObj{} }

// Type implements Object.
func (h *hashObj) Type() ValueType { return TypeHash }

// Encoding implements Object.
func (h *hashObj) Encoding() string {
	if h.ht != nil {
		return "hashtable"
	}
	return "listpack"
}

// MemSize implements Object.
func (h *hashObj) MemSize() int64 {
	if h.ht != nil {
		return hashObjOverhead + hashTableOverhead + h.ht.mem + int64(len(h.ht.slots))*htSlotSize
	}
	return hashObjOverhead + int64(cap(h.lp))
}

// Copy implements Object.
func (h *hashObj) Copy() Object {
	if h.ht != nil {
		t := *h.ht
		t.slots = slices.Clone(t.slots)
		return &hashObj{ht: &t}
	}
	return &hashObj{lp: slices.Clip(slices.Clone(h.lp))}
}

// Len returns the number of fields.
func (h *hashObj) Len() int {
	if h.ht != nil {
		return h.ht.n
	}
	n := 0
	for off := 0; off < len(h.lp); n++ {
		_, off = hpRead(h.lp, off)
		_, off = hpRead(h.lp, off)
	}
	return n
}

// Each calls fn for every field and value until fn returns false. The
// slices are only valid during the call.
func (h *hashObj) Each(fn func(f, v []byte) bool) {
	if h.ht != nil {
		for f, v := range h.ht.m {
			if !fn([]byte(f), []byte(v)) {
				return
			}
		}
		return
	}
	for off := 0; off < len(h.lp); {
		var f, v []byte
		f, off = hpRead(h.lp, off)
		v, off = hpRead(h.lp, off)
		if !fn(f, v) {
			return
		}
	}
}

// allocSize approximates the allocator's size class for n bytes.
func allocSize(n int) int64 {
	switch {
	case n == 0:
		return 0
	case n <= 16:
		return int64(n+7) &^ 7
	case n <= 128:
		return int64(n+15) &^ 15
	case n <= 1024:
		return int64(n+63) &^ 63
	}
	return int64(n+511) &^ 511
}

// hashEntryMem is the memory of a field and its value in the hashtable
// encoding besides the slot.
func hashEntryMem(f, v string) int64 {
	return allocSize(len(f) + len(v))
}

// lpFind returns the offsets of field's entry, its value's entry and the
// end of the value, or ok=false; n is the number of fields before it (all
// fields when not found).
func (h *hashObj) lpFind(field []byte) (fa, va, vb, n int, ok bool) {
	for off := 0; off < len(h.lp); n++ {
		f, next := hpRead(h.lp, off)
		_, end := hpRead(h.lp, next)
		if string(f) == string(field) {
			return off, next, end, n, true
		}
		off = end
	}
	return 0, 0, 0, n, false
}

// get returns the value of field.
func (h *hashObj) get(field []byte) ([]byte, bool) {
	if h.ht != nil {
		s := h.ht.lookup(field)
		if s == nil {
			return nil, false
		}
		return []byte(s.value()), true
	}
	_, va, _, _, ok := h.lpFind(field)
	if !ok {
		return nil, false
	}
	v, _ := hpRead(h.lp, va)
	return v, true
}

func (h *hashObj) convert() {
	h.ht = newHashTable(h.Len())
	for off := 0; off < len(h.lp); {
		var f, v []byte
		f, off = hpRead(h.lp, off)
		v, off = hpRead(h.lp, off)
		h.ht.set(f, v)
	}
	h.lp = nil
}

// set stores field and value in one allocation and reports whether the
// field is new. It probes the table once: on a big hash every probe is a
// cache miss.
func (t *hashTable) set(field, value []byte) bool {
	tag := htTag(field)
	i, exists := t.find(field, tag)
	if exists {
		s := &t.slots[i]
		t.mem -= hashEntryMem(s.field(), s.value())
		s.fv = concat(field, value) // field equals s.field()
		t.mem += hashEntryMem(s.field(), s.value())
		return false
	}
	if (t.n+1)*4 > len(t.slots)*3 {
		t.resize(len(t.slots) * 2)
		i, _ = t.find(field, tag)
	}
	t.slots[i] = htSlot{fv: concat(field, value), flen: uint32(len(field)), tag: tag}
	t.n++
	t.mem += allocSize(len(field) + len(value)) // hashEntryMem
	return true
}

// concat returns a + b as a string in one allocation (string(a) +
// string(b) may cost three).
func concat(a, b []byte) string {
	var sb strings.Builder
	sb.Grow(len(a) + len(b))
	sb.Write(a)
	sb.Write(b)
	return sb.String()
}

// deleteAt empties slot i, moves back the entries after it that would no
// longer be found, and shrinks a table that is 1/8 full or less (to at
// most 3/8 full, so that growing again takes many insertions).
func (t *hashTable) deleteAt(i int) {
	s := &t.slots[i]
	t.mem -= hashEntryMem(s.field(), s.value())
	t.n--
	mask := len(t.slots) - 1
	for j := (i + 1) & mask; t.slots[j].tag != 0; j = (j + 1) & mask {
		// The entry at j stays if its home is cyclically in (i, j].
		k := int(t.slots[j].tag >> t.shift)
		if (i <= j && i < k && k <= j) || (i > j && (i < k || k <= j)) {
			continue
		}
		t.slots[i] = t.slots[j]
		i = j
	}
	t.slots[i] = htSlot{}
	if len(t.slots) > htMinSlots && t.n*8 <= len(t.slots) {
		t.resize(htSlotsFor(2 * t.n))
	}
}

// tryConvert switches to the hashtable encoding if any argument is too
// long for the listpack (Redis's hashTypeTryConversion).
func (h *hashObj) tryConvert(args [][]byte, lim hashLimits) {
	if h.ht != nil {
		return
	}
	for _, a := range args {
		if len(a) > lim.value {
			h.convert()
			return
		}
	}
}

// reserve makes room for extra more bytes of listpack entries.
func (h *hashObj) reserve(extra int) {
	if h.ht == nil && len(h.lp)+extra > cap(h.lp) {
		nb := make([]byte, len(h.lp), len(h.lp)+extra)
		copy(nb, h.lp)
		h.lp = nb
	}
}

// set stores field=value and reports whether the field is new.
func (h *hashObj) set(field, value []byte, lim hashLimits) bool {
	if h.ht == nil && (len(field) > lim.value || len(value) > lim.value) {
		h.convert()
	}
	if h.ht != nil {
		return h.ht.set(field, value)
	}
	_, va, vb, n, ok := h.lpFind(field)
	if ok {
		ent := hpAppend(nil, value)
		if len(ent) == vb-va {
			copy(h.lp[va:], ent)
		} else {
			size := len(h.lp) - (vb - va) + len(ent)
			nb := make([]byte, 0, size+size/8)
			nb = append(append(append(nb, h.lp[:va]...), ent...), h.lp[vb:]...)
			h.lp = nb
		}
		h.convertIfLong(n, va+len(ent), lim)
		return false
	}
	need := len(h.lp) + hpSize(len(field)) + hpSize(len(value))
	if need > cap(h.lp) {
		h.reserve(need - len(h.lp) + need/8)
	}
	h.lp = hpAppend(hpAppend(h.lp, field), value)
	if n+1 > lim.entries {
		h.convert()
	}
	return true
}

// convertIfLong converts a listpack with more than lim.entries fields, as
// Redis does after any write, an update too (the limit may have been
// lowered by CONFIG SET since the hash grew): the fields before the
// updated one are n, the ones after it start at offset off.
func (h *hashObj) convertIfLong(n, off int, lim hashLimits) {
	if len(h.lp)/2 <= lim.entries { // every entry takes 1 byte or more
		return
	}
	n++
	for off < len(h.lp) && n <= lim.entries {
		_, off = hpRead(h.lp, off)
		_, off = hpRead(h.lp, off)
		n++
	}
	if n > lim.entries {
		h.convert()
	}
}

// del removes field and reports whether it existed.
func (h *hashObj) del(field []byte) bool {
	if h.ht != nil {
		i, ok := h.ht.find(field, htTag(field))
		if ok {
			h.ht.deleteAt(i)
		}
		return ok
	}
	fa, _, vb, _, ok := h.lpFind(field)
	if !ok {
		return false
	}
	h.lp = append(h.lp[:fa], h.lp[vb:]...)
	if cap(h.lp) >= 256 && len(h.lp)*3 < cap(h.lp) {
		h.lp = slices.Clip(slices.Clone(h.lp))
	}
	return true
}

// Commands.

func init() {
	wm := FlagWrite | FlagDenyOOM
	w, r := FlagWrite, FlagReadOnly
	k1 := func(name string, arity int, flags CmdFlag, proc func(*client, [][]byte)) *Command {
		return &Command{Name: name, Arity: arity, Flags: flags, FirstKey: 1, LastKey: 1, Step: 1, Proc: proc}
	}
	register(
		k1("hset", -4, wm|FlagFast, hsetCommand),
		k1("hmset", -4, wm|FlagFast, hmsetCommand),
		k1("hsetnx", 4, wm|FlagFast, hsetnxCommand),
		k1("hget", 3, r|FlagFast, hgetCommand),
		k1("hmget", -3, r|FlagFast, hmgetCommand),
		k1("hdel", -3, w|FlagFast, hdelCommand),
		k1("hlen", 2, r|FlagFast, hlenCommand),
		k1("hstrlen", 3, r|FlagFast, hstrlenCommand),
		k1("hexists", 3, r|FlagFast, hexistsCommand),
		k1("hkeys", 2, r, hkeysCommand),
		k1("hvals", 2, r, hvalsCommand),
		k1("hgetall", 2, r, hgetallCommand),
		k1("hincrby", 4, wm|FlagFast, hincrbyCommand),
		k1("hincrbyfloat", 4, wm|FlagFast, hincrbyfloatCommand),
		k1("hrandfield", -2, r|FlagRandom, hrandfieldCommand),
		k1("hscan", -3, r|FlagRandom, hscanCommand),
	)
}

// lookupHash is lookupTyped for hashes.
func (c *client) lookupHash(key []byte, read bool) (*Entry, *hashObj, bool) {
	e, ok := c.lookupTyped(key, TypeHash, read)
	if !ok || e == nil {
		return nil, nil, ok
	}
	return e, e.hash(), true
}

// hashForWrite returns the hash at key, creating (but not yet adding) an
// empty one if absent; created reports the latter.
func (c *client) hashForWrite(key []byte) (e *Entry, h *hashObj, created, ok bool) {
	e, h, ok = c.lookupHash(key, false)
	if !ok {
		return nil, nil, false, false
	}
	if e == nil {
		h = newHashObj()
		return NewObjectEntry(h), h, true, true
	}
	return e, h, false, true
}

// hashStore adds a created hash or accounts the change of an existing one.
func (c *client) hashStore(key []byte, e *Entry, created bool) {
	if created {
		c.db.Add(key, e)
	} else {
		c.db.Modified(key, e)
	}
}

func (c *client) hsetGeneric(argv [][]byte, name string) bool {
	if len(argv)%2 != 0 {
		c.addError(errWrongArgs(name))
		return false
	}
	e, h, created, ok := c.hashForWrite(argv[1])
	if !ok {
		return false
	}
	lim := c.s.hashLimits()
	h.tryConvert(argv[2:], lim)
	if created && h.ht == nil {
		size := 0
		for _, a := range argv[2:] {
			size += hpSize(len(a))
		}
		h.reserve(size)
	}
	n := int64(0)
	for i := 2; i < len(argv); i += 2 {
		if h.set(argv[i], argv[i+1], lim) {
			n++
		}
	}
	c.hashStore(argv[1], e, created)
	c.notify(notifyHash, "hset", argv[1])
	if name == "hset" {
		c.addInt(n)
	} else {
		c.addOK()
	}
	return true
}

func hsetCommand(c *client, argv [][]byte)  { c.hsetGeneric(argv, "hset") }
func hmsetCommand(c *client, argv [][]byte) { c.hsetGeneric(argv, "hmset") }

func hsetnxCommand(c *client, argv [][]byte) {
	e, h, created, ok := c.hashForWrite(argv[1])
	if !ok {
		return
	}
	if _, exists := h.get(argv[2]); exists {
		c.addInt(0)
		return
	}
	lim := c.s.hashLimits()
	h.tryConvert(argv[2:], lim)
	h.set(argv[2], argv[3], lim)
	c.hashStore(argv[1], e, created)
	c.notify(notifyHash, "hset", argv[1])
	c.addInt(1)
}

func hgetCommand(c *client, argv [][]byte) {
	_, h, ok := c.lookupHash(argv[1], true)
	if !ok {
		return
	}
	if h == nil {
		c.addNull()
		return
	}
	if v, ok := h.get(argv[2]); ok {
		c.addBulk(v)
	} else {
		c.addNull()
	}
}

func hmgetCommand(c *client, argv [][]byte) {
	_, h, ok := c.lookupHash(argv[1], true)
	if !ok {
		return
	}
	c.addArrayLen(len(argv) - 2)
	for _, f := range argv[2:] {
		var v []byte
		found := false
		if h != nil {
			v, found = h.get(f)
		}
		if found {
			c.addBulk(v)
		} else {
			c.addNull()
		}
	}
}

func hdelCommand(c *client, argv [][]byte) {
	e, h, ok := c.lookupHash(argv[1], false)
	if !ok {
		return
	}
	if h == nil {
		c.addInt(0)
		return
	}
	n := int64(0)
	for _, f := range argv[2:] {
		if h.del(f) {
			n++
			if h.Len() == 0 {
				break
			}
		}
	}
	if n > 0 {
		c.notify(notifyHash, "hdel", argv[1])
		if h.Len() == 0 {
			c.db.Delete(argv[1])
			c.notify(notifyGeneric, "del", argv[1])
		} else {
			c.db.Modified(argv[1], e)
		}
	}
	c.addInt(n)
}

func hlenCommand(c *client, argv [][]byte) {
	_, h, ok := c.lookupHash(argv[1], true)
	if !ok {
		return
	}
	if h == nil {
		c.addInt(0)
		return
	}
	c.addInt(int64(h.Len()))
}

func hstrlenCommand(c *client, argv [][]byte) {
	_, h, ok := c.lookupHash(argv[1], true)
	if !ok {
		return
	}
	var v []byte
	if h != nil {
		v, _ = h.get(argv[2])
	}
	c.addInt(int64(len(v)))
}

func hexistsCommand(c *client, argv [][]byte) {
	_, h, ok := c.lookupHash(argv[1], true)
	if !ok {
		return
	}
	found := false
	if h != nil {
		_, found = h.get(argv[2])
	}
	c.addBool(found)
}

func (c *client) hgetallGeneric(argv [][]byte, fields, values bool) {
	_, h, ok := c.lookupHash(argv[1], true)
	if !ok {
		return
	}
	if h == nil {
		c.addArrayLen(0)
		return
	}
	n := h.Len()
	if fields && values {
		n *= 2
	}
	c.addArrayLen(n)
	h.Each(func(f, v []byte) bool {
		if fields {
			c.addBulk(f)
		}
		if values {
			c.addBulk(v)
		}
		return true
	})
}

func hkeysCommand(c *client, argv [][]byte)   { c.hgetallGeneric(argv, true, false) }
func hvalsCommand(c *client, argv [][]byte)   { c.hgetallGeneric(argv, false, true) }
func hgetallCommand(c *client, argv [][]byte) { c.hgetallGeneric(argv, true, true) }

func hincrbyCommand(c *client, argv [][]byte) {
	incr, ok := parseInt64(argv[3])
	if !ok {
		c.addError(errNotInt)
		return
	}
	e, h, created, ok := c.hashForWrite(argv[1])
	if !ok {
		return
	}
	var cur int64
	if v, exists := h.get(argv[2]); exists {
		n, ok := parseInt64(v)
		if !ok {
			c.addError("ERR hash value is not an integer")
			return
		}
		cur = n
	}
	if (incr < 0 && cur < 0 && incr < math.MinInt64-cur) || (incr > 0 && cur > 0 && incr > math.MaxInt64-cur) {
		c.addError(errOverflow)
		return
	}
	cur += incr
	h.set(argv[2], strconv.AppendInt(nil, cur, 10), c.s.hashLimits())
	c.hashStore(argv[1], e, created)
	c.notify(notifyHash, "hincrby", argv[1])
	c.addInt(cur)
}

func hincrbyfloatCommand(c *client, argv [][]byte) {
	incr, inf, ok := parseLongDouble(argv[3])
	if ok && incr != nil && incr.MantExp(nil) > 16384 {
		ok = false // beyond long double range: strtold fails with ERANGE
	}
	if !ok {
		c.addError(errNotFloat)
		return
	}
	if inf != 0 {
		c.addError("ERR value is NaN or Infinity")
		return
	}
	e, h, created, ok := c.hashForWrite(argv[1])
	if !ok {
		return
	}
	cur := new(big.Float).SetPrec(ldPrec)
	if v, exists := h.get(argv[2]); exists {
		x, xinf, ok := parseLongDouble(v)
		if !ok {
			c.addError("ERR hash value is not a float")
			return
		}
		if xinf != 0 {
			c.addError("ERR increment would produce NaN or Infinity")
			return
		}
		cur = x
	}
	sum := new(big.Float).SetPrec(ldPrec).SetMode(big.ToNearestEven).Add(cur, incr)
	if exp := sum.MantExp(nil); exp > 16384 {
		c.addError("ERR increment would produce NaN or Infinity")
		return
	}
	out := []byte(formatLongDouble(sum))
	h.set(argv[2], out, c.s.hashLimits())
	c.hashStore(argv[1], e, created)
	c.notify(notifyHash, "hincrbyfloat", argv[1])
	c.propagateInstead(bHSET, argv[1], argv[2], out)
	c.addBulk(out)
}

// maxRandReply bounds the elements of an HRANDFIELD reply with repetitions.
const maxRandReply = 1 << 27

// hashPair is one field and value of a hash.
type hashPair struct{ f, v []byte }

func (h *hashObj) pairs() []hashPair {
	out := make([]hashPair, 0, h.Len())
	h.Each(func(f, v []byte) bool {
		out = append(out, hashPair{f, v})
		return true
	})
	return out
}

// randomPair returns a random field of a non-empty hash: uniform for the
// listpack; for the hashtable, hashTable.random.
func (h *hashObj) randomPair() hashPair {
	if h.ht != nil {
		s := h.ht.random()
		return hashPair{[]byte(s.field()), []byte(s.value())}
	}
	i := rand.IntN(h.Len())
	var out hashPair
	h.Each(func(f, v []byte) bool {
		if i == 0 {
			out = hashPair{f, v}
			return false
		}
		i--
		return true
	})
	return out
}

func hrandfieldCommand(c *client, argv [][]byte) {
	if len(argv) == 2 {
		_, h, ok := c.lookupHash(argv[1], true)
		if !ok {
			return
		}
		if h == nil {
			c.addNull()
			return
		}
		c.addBulk(h.randomPair().f)
		return
	}
	withValues := false
	if len(argv) == 4 && eqFold(argv[3], "withvalues") {
		withValues = true
	} else if len(argv) >= 4 {
		c.addError(errSyntax)
		return
	}
	count, ok := parseInt64(argv[2])
	if !ok {
		c.addError(errNotInt)
		return
	}
	if count == math.MinInt64 {
		c.addError(fmt.Sprintf("ERR value is out of range, value must between %d and %d", -math.MaxInt64, math.MaxInt64))
		return
	}
	if withValues && (count < -math.MaxInt64/2 || count > math.MaxInt64/2) {
		c.addError("ERR value is out of range")
		return
	}
	_, h, ok := c.lookupHash(argv[1], true)
	if !ok {
		return
	}
	if h == nil || count == 0 {
		c.addArrayLen(0)
		return
	}
	emit := func(p hashPair) {
		c.addBulk(p.f)
		if withValues {
			c.addBulk(p.v)
		}
	}
	mult := 1
	if withValues {
		mult = 2
	}
	if count < 0 {
		n := -count
		if n*int64(mult) > maxRandReply {
			// Redis would try to build the reply; refuse rather than hang.
			c.addError("ERR value is out of range")
			return
		}
		c.addArrayLen(int(n) * mult)
		if h.ht != nil {
			for i := int64(0); i < n; i++ {
				emit(h.randomPair())
			}
			return
		}
		ps := h.pairs()
		for i := int64(0); i < n; i++ {
			emit(ps[rand.IntN(len(ps))])
		}
		return
	}
	if h.ht != nil && count*4 < int64(h.ht.n) {
		// Few fields of a big hash: sample without building the whole list.
		seen := make(map[string]struct{}, count)
		c.addArrayLen(int(count) * mult)
		for int64(len(seen)) < count {
			p := h.randomPair()
			if _, dup := seen[string(p.f)]; dup {
				continue
			}
			seen[string(p.f)] = struct{}{}
			emit(p)
		}
		return
	}
	ps := h.pairs()
	if count >= int64(len(ps)) {
		c.addArrayLen(len(ps) * mult)
		for _, p := range ps {
			emit(p)
		}
		return
	}
	// Distinct random fields: a partial Fisher-Yates shuffle.
	n := int(count)
	for i := 0; i < n; i++ {
		j := i + rand.IntN(len(ps)-i)
		ps[i], ps[j] = ps[j], ps[i]
	}
	c.addArrayLen(n * mult)
	for _, p := range ps[:n] {
		emit(p)
	}
}

// HSCAN over the hashtable encoding walks fields in the order of a
// per-process hash of the field, so the cursor (the next hash position)
// stays valid while fields are added and removed: every field present for
// the whole scan is returned at least once. Each call returns at least
// 1/hscanMinFraction of the hash so a full scan costs O(n) calls of O(n).
var hscanSeed = maphash.MakeSeed()

const hscanMinFraction = 256

func hscanPos(f string) uint64 {
	return maphash.String(hscanSeed, f)>>1 | 1 // in [1, 2^63): 0 is the start cursor
}

// parseScanCursor parses a cursor like Redis's parseScanCursorOrReply
// (strtoul: optional sign, a negative value wraps; no leading space).
func parseScanCursor(b []byte) (uint64, bool) {
	neg := false
	if len(b) > 0 && (b[0] == '+' || b[0] == '-') {
		neg = b[0] == '-'
		b = b[1:]
		if len(b) == 0 {
			return 0, false // strtoul parses nothing: eptr stays on the sign
		}
	}
	if len(b) == 0 {
		return 0, true
	}
	n, err := strconv.ParseUint(string(b), 10, 64)
	if err != nil {
		return 0, false
	}
	if neg {
		n = -n
	}
	return n, true
}

func hscanCommand(c *client, argv [][]byte) {
	cur, ok := parseScanCursor(argv[2])
	if !ok {
		c.addError(errInvalidCurs)
		return
	}
	_, h, ok := c.lookupHash(argv[1], true)
	if !ok {
		return
	}
	if h == nil {
		c.addRaw("*2\r\n$1\r\n0\r\n*0\r\n")
		return
	}
	count := int64(10)
	var pat []byte
	for i := 3; i < len(argv); {
		more := i+1 < len(argv)
		switch {
		case eqFold(argv[i], "count") && more:
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
			i += 2
		case eqFold(argv[i], "match") && more:
			pat = argv[i+1]
			if len(pat) == 1 && pat[0] == '*' {
				pat = nil
			}
			i += 2
		default:
			c.addError(errSyntax)
			return
		}
	}
	var ps []hashPair
	var next uint64
	if h.ht == nil {
		ps = h.pairs()
	} else {
		type posPair struct {
			pos  uint64
			f, v string
		}
		budget := int(max(min(count, 1<<20), int64(h.ht.n/hscanMinFraction)))
		var cand []posPair
		for f, v := range h.ht.m {
			if p := hscanPos(f); p >= cur {
				cand = append(cand, posPair{p, f, v})
			}
		}
		slices.SortFunc(cand, func(a, b posPair) int {
			switch {
			case a.pos < b.pos:
				return -1
			case a.pos > b.pos:
				return 1
			}
			return 0
		})
		for i, x := range cand {
			if len(ps) >= budget && x.pos != cand[i-1].pos {
				next = x.pos
				break
			}
			ps = append(ps, hashPair{[]byte(x.f), []byte(x.v)})
		}
	}
	out := ps[:0]
	for _, p := range ps {
		if pat == nil || globMatch(pat, p.f, false) {
			out = append(out, p)
		}
	}
	c.addArrayLen(2)
	c.addBulkString(strconv.FormatUint(next, 10))
	c.out = resp.AppendArrayLen(c.out, 2*len(out))
	for _, p := range out {
		c.addBulk(p.f)
		c.addBulk(p.v)
	}
}

// Serialization (rdbconv.go).

func init() { registerRDBDecoder(rdb.KindHash, hashFromRDB) }

// rdbObject implements rdbValue; the fields alias the hash.
func (h *hashObj) rdbObject() rdb.Object {
	fs := make([]rdb.Field, 0, h.Len())
	h.Each(func(f, v []byte) bool {
		fs = append(fs, rdb.Field{Name: f, Value: v})
		return true
	})
	return rdb.Object{Kind: rdb.KindHash, Hash: fs}
}

// hashFromRDB builds a hash with the default encoding thresholds; Redis 7
// refuses empty hashes and duplicate fields.
func hashFromRDB(o *rdb.Object, lim *encLimits) (Object, error) {
	if len(o.Hash) == 0 {
		return nil, fmt.Errorf("%w: empty hash", rdb.ErrBadFormat)
	}
	h := newHashObj()
	if len(o.Hash) > lim.hash.entries {
		h.ht = newHashTable(len(o.Hash))
	}
	for _, f := range o.Hash {
		if !h.set(f.Name, f.Value, lim.hash) {
			return nil, fmt.Errorf("%w: duplicate hash field", rdb.ErrBadFormat)
		}
	}
	return h, nil
}
