package rdb

import (
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"math"
)

// Entry is one key read from an RDB file.
type Entry struct {
	DB       int
	Key      []byte
	Value    Object
	ExpireAt int64 // absolute expiry in Unix milliseconds, 0 for none
	Idle     int64 // LRU idle seconds, -1 if absent
	Freq     int   // LFU frequency, -1 if absent
}

// Handlers receives the records of an RDB file. Only Key is required.
type Handlers struct {
	// Key is called once per key. The *Entry is reused by the next call,
	// but e.Key and every slice of e.Value are freshly allocated and may be
	// retained. Empty collections are skipped, as Redis does.
	Key func(e *Entry) error
	// Aux receives auxiliary fields; the slices are valid during the call.
	Aux func(key, value []byte) error
	// ResizeDB receives the size hints of the current database.
	ResizeDB func(db int, keys, expires uint64) error
	// Function receives the code of each function library (Redis 7); when
	// nil, function records are skipped.
	Function func(code []byte) error
}

// Reader parses an RDB file from a stream, holding at most one value (and
// a read buffer) in memory at a time. It accepts versions 1 to
// MaxRDBVersion and every value type DecodeDump accepts.
type Reader struct {
	d       decoder
	version int
}

// NewReader returns a Reader for r; it performs no I/O.
func NewReader(r io.Reader) *Reader {
	return &Reader{d: decoder{src: r}}
}

// Version returns the RDB version from the header, 0 before it is read.
func (r *Reader) Version() int { return r.version }

// Buffered returns the bytes read from the source beyond the end of the
// RDB file (after Run returned nil), e.g. the end mark of a diskless
// replication transfer.
func (r *Reader) Buffered() []byte { return r.d.buf[r.d.pos:] }

// Run reads the whole file, calling h for each record, and verifies the
// checksum (unless it is zero, which means "not computed"). It returns
// the first error from h unchanged.
func (r *Reader) Run(h Handlers) error {
	if h.Key == nil {
		return errors.New("rdb: Handlers.Key is required")
	}
	d := &r.d
	hdr, err := d.readN(9)
	if err != nil {
		return fmt.Errorf("%w: short header", ErrBadRDB)
	}
	if string(hdr[:5]) != "REDIS" {
		return fmt.Errorf("%w: wrong signature", ErrBadRDB)
	}
	v := 0
	for _, c := range hdr[5:] {
		if c < '0' || c > '9' {
			return fmt.Errorf("%w: bad version %q", ErrBadRDB, hdr[5:])
		}
		v = v*10 + int(c-'0')
	}
	if v < 1 || v > MaxRDBVersion {
		return fmt.Errorf("%w: unsupported version %d", ErrBadRDB, v)
	}
	r.version = v

	e := Entry{Idle: -1, Freq: -1}
	for {
		t, err := d.readByte()
		if err != nil {
			return err
		}
		switch t {
		case opEOF:
			return r.finish()
		case opSelectDB:
			n, err := d.readCount(1)
			if err != nil {
				return err
			}
			e.DB = n
		case opResizeDB:
			keys, enc1, err := d.readLen()
			if err != nil {
				return err
			}
			exp, enc2, err := d.readLen()
			if err != nil {
				return err
			}
			if enc1 || enc2 {
				return fmt.Errorf("%w: bad RESIZEDB", ErrBadRDB)
			}
			if h.ResizeDB != nil {
				if err := h.ResizeDB(e.DB, keys, exp); err != nil {
					return err
				}
			}
		case opAux:
			k, err := d.readOwned(true)
			if err != nil {
				return err
			}
			val, err := d.readString()
			if err != nil {
				return err
			}
			if h.Aux != nil {
				if err := h.Aux(k, val); err != nil {
					return err
				}
			}
		case opExpireTime:
			p, err := d.readN(4)
			if err != nil {
				return err
			}
			e.ExpireAt = int64(int32(binary.LittleEndian.Uint32(p))) * 1000
		case opExpireTimeMs:
			p, err := d.readN(8)
			if err != nil {
				return err
			}
			e.ExpireAt = int64(binary.LittleEndian.Uint64(p))
		case opIdle:
			n, enc, err := d.readLen()
			if err != nil {
				return err
			}
			if enc || n > math.MaxInt64 {
				return fmt.Errorf("%w: bad IDLE", ErrBadRDB)
			}
			e.Idle = int64(n)
		case opFreq:
			b, err := d.readByte()
			if err != nil {
				return err
			}
			e.Freq = int(b)
		case opFunction2:
			code, err := d.readString()
			if err != nil {
				return err
			}
			if h.Function != nil {
				if err := h.Function(code); err != nil {
					return err
				}
			}
		case opModuleAux:
			return fmt.Errorf("%w: module auxiliary data is not supported", ErrBadRDB)
		case opFunctionPre:
			return fmt.Errorf("%w: pre-release function records are not supported", ErrBadRDB)
		default:
			if !isObjectType(t) {
				return fmt.Errorf("%w: unknown opcode 0x%02x", ErrBadRDB, t)
			}
			key, err := d.readOwned(true)
			if err != nil {
				return err
			}
			d.resetArena(256)
			obj, err := d.readObject(t)
			if err != nil {
				return fmt.Errorf("rdb: key %q: %w", key, err)
			}
			if obj.Kind == KindString || obj.Len() > 0 {
				e.Key, e.Value = key, obj
				if err := h.Key(&e); err != nil {
					return err
				}
			}
			e = Entry{DB: e.DB, Idle: -1, Freq: -1}
		}
	}
}

func (r *Reader) finish() error {
	d := &r.d
	d.crc = UpdateCRC64(d.crc, d.buf[d.crcPos:d.pos])
	d.crcPos = d.pos
	if r.version < 5 {
		return nil
	}
	p, err := d.readN(8)
	if err != nil {
		return fmt.Errorf("%w: missing checksum", ErrBadRDB)
	}
	d.crcPos = d.pos
	if want := binary.LittleEndian.Uint64(p); want != 0 && want != d.crc {
		return ErrRDBChecksum
	}
	return nil
}

// isObjectType reports whether t is a value type byte (as opposed to an
// opcode), known or not.
func isObjectType(t byte) bool { return t <= 7 || (t >= 9 && t <= 25) }
