package server

import "unsafe"

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
type Entry struct {
	str      []byte // the value when typ == TypeString
	obj      Object // the value for every other type
	expireAt int64  // absolute unix time in ms; 0 = no expiry
	mem      int64  // accounted size (see entrySize)
	lru      uint32 // LRU clock (seconds) of the last access
	typ      ValueType
	enc      uint8 // string encoding (encRaw/encEmbstr/encInt)
	freq     uint8 // LFU counter (maintained only under an LFU policy)
}

// Type returns the value type.
func (e *Entry) Type() ValueType { return e.typ }

// Str returns the string value (nil for other types).
func (e *Entry) Str() []byte { return e.str }

// Obj returns the non-string value.
func (e *Entry) Obj() Object { return e.obj }

// ExpireAt returns the absolute expiry in unix ms, or 0.
func (e *Entry) ExpireAt() int64 { return e.expireAt }

// SetStr replaces the string value (the caller then calls DB.Modified).
// The slice is retained.
func (e *Entry) SetStr(v []byte, enc uint8) {
	e.typ, e.obj, e.str, e.enc = TypeString, nil, v, enc
}

// NewStringEntry makes a string entry owning v, with the encoding SET would
// pick for it.
func NewStringEntry(v []byte) *Entry {
	return &Entry{typ: TypeString, str: v, enc: stringEncoding(v)}
}

// NewStringEntryCopy makes a string entry holding a copy of v: short
// values (counters, flags) share the entry's allocation.
func NewStringEntryCopy(v []byte) *Entry {
	if len(v) <= 16 {
		e, buf := entryWithBuf(len(v))
		*e = Entry{typ: TypeString, str: buf[:copy(buf, v)], enc: stringEncoding(v)}
		return e
	}
	return NewStringEntry(cloneBytes(v))
}

// Entries allocated together with a small buffer (newStringEntryKeyed):
// the sizes match allocator size classes, so an entry and its key cost one
// allocation of the size the two separate ones would take.
type (
	entryBuf16 struct {
		e   Entry
		buf [16]byte
	}
	entryBuf32 struct {
		e   Entry
		buf [32]byte
	}
	entryBuf48 struct {
		e   Entry
		buf [48]byte
	}
)

// entryWithBuf returns a new Entry and a buffer of at least n bytes in the
// same allocation, or nil if n is more than 48.
func entryWithBuf(n int) (*Entry, []byte) {
	switch {
	case n <= 16:
		x := &entryBuf16{}
		return &x.e, x.buf[:]
	case n <= 32:
		x := &entryBuf32{}
		return &x.e, x.buf[:]
	case n <= 48:
		x := &entryBuf48{}
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
		*e = Entry{typ: TypeString, str: buf[n : n+copy(buf[n:], v)], enc: stringEncoding(v)}
		return e, unsafe.String(unsafe.SliceData(buf), n)
	}
	if e, buf := entryWithBuf(len(key)); e != nil {
		*e = Entry{typ: TypeString, str: cloneBytes(v), enc: stringEncoding(v)}
		return e, unsafe.String(unsafe.SliceData(buf), copy(buf, key))
	}
	return NewStringEntryCopy(v), string(key)
}

// NewObjectEntry wraps a non-string value.
func NewObjectEntry(o Object) *Entry {
	return &Entry{typ: o.Type(), obj: o}
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
		return e.obj.Encoding()
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
const entryOverhead = 96

func entrySize(key string, e *Entry) int64 {
	n := int64(entryOverhead + len(key))
	if e.typ == TypeString {
		n += int64(cap(e.str))
	} else if e.obj != nil {
		n += e.obj.MemSize()
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
