// Package rdb serializes Redis values the way Redis does: DUMP/RESTORE
// payloads (also used by Codis SLOTSRESTORE migration) and RDB snapshot
// files (SAVE, replication full sync).
//
// The package knows nothing about the data server. Values are exchanged as
// the neutral Object type, which the server converts to and from its own
// representation.
//
// Writers emit only the classic object types (string, list, set, zset with
// string scores, hash), version 7 DUMP footers and, by default, version 7
// RDB files, which the original codis-server (Redis 3.2) and stock Redis
// 7.x both load. Readers accept everything Redis 7.0 writes (and the 7.2
// set listpack) except streams and module values.
//
// Ownership: decoders always copy; every byte slice in a returned Object
// is freshly allocated (several elements may share one backing array, each
// capped so that append on one cannot overwrite another) and never aliases
// the input. Encoders only read the Object.
//
// Decoders do not check for duplicate set members or hash fields (Redis 7
// refuses them, Redis 3.2 does not); a caller that cares checks while
// converting. EncodeDump, AppendDump and DecodeDump are safe for
// concurrent use; a Writer or Reader belongs to one goroutine.
//
// Error texts on the wire are the caller's business: Redis answers
// ErrChecksum with "ERR DUMP payload version or checksum are wrong" and
// ErrBadFormat with "ERR Bad data format"; codis-server 3.2 SLOTSRESTORE
// uses the lower-case forms listed in SPEC-data §B.5.
package rdb

import (
	"errors"
	"fmt"
)

// Kind is the logical type of an Object.
type Kind uint8

const (
	KindString Kind = iota + 1
	KindList
	KindSet
	KindZSet
	KindHash
)

var kindNames = [...]string{"none", "string", "list", "set", "zset", "hash"}

func (k Kind) String() string {
	if int(k) < len(kindNames) {
		return kindNames[k]
	}
	return fmt.Sprintf("kind(%d)", uint8(k))
}

// Field is one hash entry.
type Field struct {
	Name  []byte
	Value []byte
}

// ZMember is one sorted-set entry.
type ZMember struct {
	Member []byte
	Score  float64
}

// Object is a Redis value in a representation-neutral form. Only the field
// matching Kind is used.
type Object struct {
	Kind Kind
	Str  []byte    // KindString
	List [][]byte  // KindList, head to tail
	Set  [][]byte  // KindSet, any order
	Hash []Field   // KindHash, any order
	ZSet []ZMember // KindZSet, any order
}

// Len returns the number of elements (1 for a string).
func (o *Object) Len() int {
	switch o.Kind {
	case KindString:
		return 1
	case KindList:
		return len(o.List)
	case KindSet:
		return len(o.Set)
	case KindZSet:
		return len(o.ZSet)
	case KindHash:
		return len(o.Hash)
	}
	return 0
}

var (
	// ErrChecksum reports a DUMP payload whose footer is wrong: too short,
	// a version newer than accepted, or a CRC mismatch. Redis answers it
	// with "ERR DUMP payload version or checksum are wrong".
	ErrChecksum = errors.New("rdb: DUMP payload version or checksum are wrong")
	// ErrBadFormat reports a malformed or unsupported serialized value.
	// Redis answers it with "ERR Bad data format".
	ErrBadFormat = errors.New("rdb: bad data format")
	// ErrUnsupportedType reports a valid but unsupported object type
	// (streams, modules, hashes with field expiry). It wraps ErrBadFormat.
	ErrUnsupportedType = fmt.Errorf("%w: unsupported object type", ErrBadFormat)
	// ErrEmptyKey reports a collection without elements, which Redis
	// refuses to restore. It wraps ErrBadFormat.
	ErrEmptyKey = fmt.Errorf("%w: empty collection", ErrBadFormat)
	// ErrBadRDB reports a malformed RDB file (header, opcode or checksum).
	ErrBadRDB = errors.New("rdb: bad RDB file")
	// ErrRDBChecksum reports an RDB file whose trailing CRC64 is wrong.
	ErrRDBChecksum = fmt.Errorf("%w: checksum mismatch", ErrBadRDB)
)

// badf returns an error wrapping ErrBadFormat.
func badf(format string, args ...any) error {
	return fmt.Errorf("%w: "+format, append([]any{ErrBadFormat}, args...)...)
}

// Object type bytes.
const (
	TypeString          = 0
	TypeList            = 1
	TypeSet             = 2
	TypeZSet            = 3
	TypeHash            = 4
	TypeZSet2           = 5
	TypeModulePreGA     = 6
	TypeModule2         = 7
	TypeHashZipmap      = 9
	TypeListZiplist     = 10
	TypeSetIntset       = 11
	TypeZSetZiplist     = 12
	TypeHashZiplist     = 13
	TypeListQuicklist   = 14
	TypeStreamListpack  = 15
	TypeHashListpack    = 16
	TypeZSetListpack    = 17
	TypeListQuicklist2  = 18
	TypeStreamListpack2 = 19
	TypeSetListpack     = 20
	TypeStreamListpack3 = 21
)

// Versions.
const (
	// DumpVersion is the footer version EncodeDump should be given for
	// payloads the original codis-server (Redis 3.2) accepts.
	DumpVersion = 7
	// MaxVersionCodis is the highest payload version codis-server 3.2
	// accepts (SLOTSRESTORE, RESTORE on the original server).
	MaxVersionCodis = 7
	// MaxVersionRedis7 is the highest payload version Redis 7.0 accepts
	// (RESTORE, and what its DUMP writes).
	MaxVersionRedis7 = 10
	// RDBVersion is the version NewWriter writes by default: the newest
	// one Redis 3.2 loads, and every later Redis loads it too.
	RDBVersion = 7
	// MaxRDBVersion is the newest RDB file version Reader accepts
	// (Redis 7.2; Redis 7.0 writes 10).
	MaxRDBVersion = 11
)
