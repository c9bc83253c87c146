package server

import (
	"math"
	"unsafe"
)

// ValueType is the Redis type of a value.
type ValueType uint8

// Value types.
const (
	TypeString ValueType = iota
	TypeList
	TypeSet
	TypeZSet
	TypeHash
	TypeStream
)

// String returns the name TYPE reports.
func (t ValueType) String() string {
	switch t {
	case TypeString:
		return "string"
	case TypeList:
		return "list"
	case TypeSet:
		return "set"
	case TypeZSet:
		return "zset"
	case TypeHash:
		return "hash"
	case TypeStream:
		return "stream"
	}
	return "unknown"
}

// Object is a value of a non-string type (list, hash, set, zset). Type files
// (t_list.go, t_hash.go, ...) implement it.
type Object interface {
	Type() ValueType
	// Encoding is what OBJECT ENCODING reports (e.g. "listpack", "hashtable").
	Encoding() string
	// MemSize estimates the bytes used by the value, for used_memory and
	// eviction. It must be cheap (O(1)); types keep a running total.
	MemSize() int64
	// Copy returns a deep copy (COPY command).
	Copy() Object
}

// String encodings, as OBJECT ENCODING reports them.
const (
	encRaw uint8 = iota
	encEmbstr
	encInt
)

// embstrMax is Redis's OBJ_ENCODING_EMBSTR_SIZE_LIMIT.
const embstrMax = 44

// Entry is one key's value and metadata. Handlers get it from the DB lookup
// functions and may modify the value in place, then call DB.Modified.
//
// The value is one pointer: a string's bytes (with their length and
// capacity beside it) or the object of the entry's type (*listObj,
// *hashObj, *setObject, *zsetObject). A slice and an interface side by
// side made the struct 64 bytes; this is 40, which the allocator serves
// from its 48-byte class, and an entry sharing its allocation with a short
// key (entryWithBuf) fits 64 bytes instead of 80. Go through Str, setStr,
// Obj, setObj and the typed accessors, never the fields.
type Entry struct {
	ptr      unsafe.Pointer // string bytes or the object; see above
	slen     uint32         // string length (typ == TypeString, !boxed)
	scap     uint32         // string capacity
	expireAt int64          // absolute unix time in ms; 0 = no expiry
	mem      int64          // accounted size (see entrySize)
	lru      uint32         // LRU clock (seconds) of the last access
	typ      ValueType
	enc      uint8 // string encoding (encRaw/encEmbstr/encInt)
	freq     uint8 // LFU counter (maintained only under an LFU policy)
	// boxed: a string whose capacity does not fit 32 bits (possible only
	// with proto-max-bulk-len raised past 4 GB); ptr is then a *[]byte.
	boxed bool
}

// Type returns the value type.
func (e *Entry) Type() ValueType { return e.typ }

// Str returns the string value (nil for other types).
func (e *Entry) Str() []byte {
	if e.typ != TypeString {
		return nil
	}
	if e.boxed {
		return *(*[]byte)(e.ptr)
	}
	return unsafe.Slice((*byte)(e.ptr), e.scap)[:e.slen]
}

// maxInlineStrCap is the largest string capacity kept beside the pointer
// (a variable so that tests can exercise boxed strings).
var maxInlineStrCap uint64 = math.MaxUint32

// setStr makes v, which the entry retains, the string's bytes; the type
// and encoding are the caller's to set.
func (e *Entry) setStr(v []byte) {
	if uint64(cap(v)) <= maxInlineStrCap {
		e.ptr, e.slen, e.scap, e.boxed = unsafe.Pointer(unsafe.SliceData(v)), uint32(len(v)), uint32(cap(v)), false
		return
	}
	b := new([]byte)
	*b = v
	e.ptr, e.slen, e.scap, e.boxed = unsafe.Pointer(b), 0, 0, true
}

// Obj returns the non-string value (nil for strings).
func (e *Entry) Obj() Object {
	if e.ptr == nil {
		return nil
	}
	switch e.typ {
	case TypeList:
		return (*listObj)(e.ptr)
	case TypeHash:
		return (*hashObj)(e.ptr)
	case TypeSet:
		return (*setObject)(e.ptr)
	case TypeZSet:
		return (*zsetObject)(e.ptr)
	}
	return nil
}

// setObj makes o the value and its type the entry's type.
func (e *Entry) setObj(o Object) {
	e.slen, e.scap, e.boxed = 0, 0, false
	switch v := o.(type) {
	case *listObj:
		e.ptr = unsafe.Pointer(v)
	case *hashObj:
		e.ptr = unsafe.Pointer(v)
	case *setObject:
		e.ptr = unsafe.Pointer(v)
	case *zsetObject:
		e.ptr = unsafe.Pointer(v)
	default:
		panic("server: no entry representation for " + o.Type().String())
	}
	e.typ = o.Type()
}

// Typed views of the value; nil when the entry holds another type.

func (e *Entry) list() *listObj {
	if e.typ != TypeList {
		return nil
	}
	return (*listObj)(e.ptr)
}

func (e *Entry) hash() *hashObj {
	if e.typ != TypeHash {
		return nil
	}
	return (*hashObj)(e.ptr)
}

func (e *Entry) set() *setObject {
	if e.typ != TypeSet {
		return nil
	}
	return (*setObject)(e.ptr)
}

func (e *Entry) zset() *zsetObject {
	if e.typ != TypeZSet {
		return nil
	}
	return (*zsetObject)(e.ptr)
}

// ExpireAt returns the absolute expiry in unix ms, or 0.
func (e *Entry) ExpireAt() int64 { return e.expireAt }

// SetStr replaces the value with a string (the caller then calls
// DB.Modified). The slice is retained.
func (e *Entry) SetStr(v []byte, enc uint8) {
	e.typ, e.enc = TypeString, enc
	e.setStr(v)
}

// setValue gives e the value of src (type, encoding and the value itself,
// shared).
func (e *Entry) setValue(src *Entry) {
	e.ptr, e.slen, e.scap, e.boxed, e.typ, e.enc = src.ptr, src.slen, src.scap, src.boxed, src.typ, src.enc
}

// NewStringEntry makes a string entry owning v, with the encoding SET would
// pick for it.
func NewStringEntry(v []byte) *Entry {
	e := &Entry{typ: TypeString, enc: stringEncoding(v)}
	e.setStr(v)
	return e
}

// NewStringEntryCopy makes a string entry holding a copy of v: short
// values (counters, flags) share the entry's allocation.
func NewStringEntryCopy(v []byte) *Entry {
	if len(v) <= 24 {
		e, buf := entryWithBuf(len(v))
		*e = Entry{typ: TypeString, enc: stringEncoding(v)}
		e.setStr(buf[:copy(buf, v)])
		return e
	}
	return NewStringEntry(cloneBytes(v))
}

// Entries allocated together with a small buffer (newStringEntryKeyed):
// the sizes fill allocator size classes (64, 80 and 96 bytes with the
// 40-byte Entry), so an entry and its key cost one allocation of the size
// the two separate ones would take, or less.
type (
	entryBuf24 struct {
		e   Entry
		buf [24]byte
	}
	entryBuf40 struct {
		e   Entry
		buf [40]byte
	}
	entryBuf56 struct {
		e   Entry
		buf [56]byte
	}
)

// entryWithBuf returns a new Entry and a buffer of at least n bytes in the
// same allocation, or nil if n is more than 56.
func entryWithBuf(n int) (*Entry, []byte) {
	switch {
	case n <= 24:
		x := &entryBuf24{}
		return &x.e, x.buf[:]
	case n <= 40:
		x := &entryBuf40{}
		return &x.e, x.buf[:]
	case n <= 56:
		x := &entryBuf56{}
		return &x.e, x.buf[:]
	}
	return nil, nil
}

// newStringEntryKeyed makes a string entry holding a copy of v, and the
// key string to store it under (DB.addAt), in as few allocations as
// possible: the key, and the value too when it fits, share the entry's
// allocation. The value comes after the key, so in-place growth of the
// value (INCR, APPEND) never touches the key's bytes.
func newStringEntryKeyed(key, v []byte) (*Entry, string) {
	if e, buf := entryWithBuf(len(key) + len(v)); e != nil {
		n := copy(buf, key)
		*e = Entry{typ: TypeString, enc: stringEncoding(v)}
		e.setStr(buf[n : n+copy(buf[n:], v)])
		return e, unsafe.String(unsafe.SliceData(buf), n)
	}
	if e, buf := entryWithBuf(len(key)); e != nil {
		*e = Entry{typ: TypeString, enc: stringEncoding(v)}
		e.setStr(cloneBytes(v))
		return e, unsafe.String(unsafe.SliceData(buf), copy(buf, key))
	}
	return NewStringEntryCopy(v), string(key)
}

// NewObjectEntry wraps a non-string value.
func NewObjectEntry(o Object) *Entry {
	e := &Entry{}
	e.setObj(o)
	return e
}

// stringEncoding is the encoding Redis's tryObjectEncoding gives a fresh
// string value.
func stringEncoding(v []byte) uint8 {
	if len(v) <= 20 {
		if _, ok := parseInt64(v); ok {
			return encInt
		}
	}
	if len(v) <= embstrMax {
		return encEmbstr
	}
	return encRaw
}

// encodingName is OBJECT ENCODING's answer.
func (e *Entry) encodingName() string {
	if e.typ != TypeString {
		return e.Obj().Encoding()
	}
	switch e.enc {
	case encInt:
		return "int"
	case encEmbstr:
		return "embstr"
	}
	return "raw"
}

// Per-key overhead estimate: map slot, Entry struct, key header, allocator
// rounding. Chosen to approximate Go's real cost so used_memory tracks RSS.
const entryOverhead = 88

func entrySize(key string, e *Entry) int64 {
	n := int64(entryOverhead + len(key))
	if e.typ == TypeString {
		n += int64(cap(e.Str()))
	} else if o := e.Obj(); o != nil {
		n += o.MemSize()
	}
	if e.expireAt != 0 {
		n += 32 // the volatile map slot
	}
	return n
}

// objectHelp is OBJECT HELP's text.
var objectHelp = []string{
	"OBJECT <subcommand> [<arg> [value] [opt] ...]. Subcommands are:",
	"ENCODING <key>",
	"    Return the kind of internal representation used in order to store the value",
	"    associated with a <key>.",
	"FREQ <key>",
	"    Return the access frequency index of the <key>. The returned integer is",
	"    proportional to the logarithm of the recent access frequency of the key.",
	"IDLETIME <key>",
	"    Return the idle time of the <key>, that is the approximated number of",
	"    seconds elapsed since the last access to the key.",
	"REFCOUNT <key>",
	"    Return the number of references of the value associated with the specified",
	"    <key>.",
	"HELP",
	"    Prints this help.",
}
