package rdb

import (
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"math"
	"strconv"
)

// decoder reads RDB-encoded values either from an in-memory payload
// (src == nil: buf is the whole input) or from a stream (buf is a window
// refilled from src).
type decoder struct {
	buf []byte
	pos int
	src io.Reader

	// Stream mode only: CRC of the bytes consumed before buf[crcPos].
	crc    uint64
	crcPos int

	arena     []byte // current allocation chunk for owned strings
	arenaNext int    // size of the next chunk
	scratch   []byte // reusable buffer for decompressed blobs
	intBuf    [24]byte
}

const (
	minStreamBuf   = 64 << 10
	maxArenaChunk  = 64 << 10
	bigString      = 1 << 10 // strings at least this long get their own allocation
	streamPrealloc = 1 << 12 // cap on element preallocation in stream mode
)

var errTruncated = badf("unexpected end of input")

// in stream mode.
func (d *decoder) remaining() int {
	if d.src != nil {
		return -1
	}
	return len(d.buf) - d.pos
}

func (d *decoder) fill(n int) error {
	if len(d.buf)-d.pos >= n {
		return nil
	}
	if d.src == nil || n < 0 {
		return errTruncated
	}
	// Account the consumed bytes in the CRC, then drop them.
	d.crc = UpdateCRC64(d.crc, d.buf[d.crcPos:d.pos])
	if cap(d.buf) > 16*minStreamBuf && n <= minStreamBuf {
		// Shrink after a huge value went through.
		nb := make([]byte, len(d.buf)-d.pos, minStreamBuf)
		copy(nb, d.buf[d.pos:])
		d.buf = nb
	} else {
		k := copy(d.buf, d.buf[d.pos:])
		d.buf = d.buf[:k]
	}
	d.pos, d.crcPos = 0, 0
	empty := 0
	for len(d.buf) < n {
		if len(d.buf) == cap(d.buf) {
			// Grow geometrically so a bogus length in a truncated file
			// cannot make us allocate much more than what was read.
			c := 2 * cap(d.buf)
			if c < minStreamBuf {
				c = minStreamBuf
			}
			nb := make([]byte, len(d.buf), c)
			copy(nb, d.buf)
			d.buf = nb
		}
		m, err := d.src.Read(d.buf[len(d.buf):cap(d.buf)])
		d.buf = d.buf[:len(d.buf)+m]
		if len(d.buf) >= n {
			break
		}
		if m == 0 && err == nil {
			if empty++; empty >= 100 {
				return io.ErrNoProgress
			}
		}
		if err != nil {
			if errors.Is(err, io.EOF) {
				return fmt.Errorf("%w: %w", ErrBadRDB, io.ErrUnexpectedEOF)
			}
			return err
		}
	}
	return nil
}

func (d *decoder) readByte() (byte, error) {
	if d.pos >= len(d.buf) {
		if err := d.fill(1); err != nil {
			return 0, err
		}
	}
	b := d.buf[d.pos]
	d.pos++
	return b, nil
}

// readN returns the next n bytes; the slice is valid until the next read.
func (d *decoder) readN(n int) ([]byte, error) {
	if err := d.fill(n); err != nil {
		return nil, err
	}
	b := d.buf[d.pos : d.pos+n : d.pos+n]
	d.pos += n
	return b, nil
}

// readLen reads a length or, when enc is true, a special string encoding
// number.
func (d *decoder) readLen() (n uint64, enc bool, err error) {
	b, err := d.readByte()
	if err != nil {
		return 0, false, err
	}
	switch b >> 6 {
	case 0:
		return uint64(b & 0x3f), false, nil
	case 1:
		c, err := d.readByte()
		if err != nil {
			return 0, false, err
		}
		return uint64(b&0x3f)<<8 | uint64(c), false, nil
	case 3:
		return uint64(b & 0x3f), true, nil
	}
	switch b {
	case len32Bit:
		p, err := d.readN(4)
		if err != nil {
			return 0, false, err
		}
		return uint64(binary.BigEndian.Uint32(p)), false, nil
	case len64Bit:
		p, err := d.readN(8)
		if err != nil {
			return 0, false, err
		}
		return binary.BigEndian.Uint64(p), false, nil
	}
	return 0, false, badf("invalid length prefix 0x%02x", b)
}

// readCount reads a plain length used as an element count or byte count
// and checks it against the available input (each unit needs at least
// minBytes bytes).
func (d *decoder) readCount(minBytes int) (int, error) {
	n, enc, err := d.readLen()
	if err != nil {
		return 0, err
	}
	if enc {
		return 0, badf("encoded value where a length was expected")
	}
	if n > math.MaxInt32 {
		return 0, badf("length %d too large", n)
	}
	if r := d.remaining(); r >= 0 && int(n) > r/minBytes {
		return 0, errTruncated
	}
	return int(n), nil
}

// prealloc bounds a slice preallocation for n elements.
func (d *decoder) prealloc(n int) int {
	if d.src != nil && n > streamPrealloc {
		return streamPrealloc
	}
	return n
}

// readString reads one string in any form. The result is valid until the
// next read (it may point into the input buffer or into scratch space).
func (d *decoder) readString() ([]byte, error) {
	n, enc, err := d.readLen()
	if err != nil {
		return nil, err
	}
	if !enc {
		if n > math.MaxInt32 {
			return nil, badf("string length %d too large", n)
		}
		return d.readN(int(n))
	}
	switch n {
	case encInt8, encInt16, encInt32:
		v, err := d.readIntEnc(int(n))
		if err != nil {
			return nil, err
		}
		return strconv.AppendInt(d.intBuf[:0], v, 10), nil
	case encLZF:
		clen, ulen, err := d.readLZFHeader()
		if err != nil {
			return nil, err
		}
		if cap(d.scratch) < ulen {
			d.scratch = make([]byte, ulen)
		}
		out := d.scratch[:ulen]
		if err := d.readLZFBody(out, clen); err != nil {
			return nil, err
		}
		return out, nil
	}
	return nil, badf("unknown string encoding %d", n)
}

// readOwned reads one string and returns a copy owned by the caller.
// exact asks for a dedicated allocation instead of the arena.
func (d *decoder) readOwned(exact bool) ([]byte, error) {
	n, enc, err := d.readLen()
	if err != nil {
		return nil, err
	}
	if enc && n == encLZF {
		clen, ulen, err := d.readLZFHeader()
		if err != nil {
			return nil, err
		}
		var out []byte
		if exact {
			out = make([]byte, ulen)
		} else {
			out = d.alloc(ulen)
		}
		if err := d.readLZFBody(out, clen); err != nil {
			return nil, err
		}
		return out, nil
	}
	var s []byte
	switch {
	case !enc:
		if n > math.MaxInt32 {
			return nil, badf("string length %d too large", n)
		}
		s, err = d.readN(int(n))
	case n <= encInt32:
		var v int64
		v, err = d.readIntEnc(int(n))
		s = strconv.AppendInt(d.intBuf[:0], v, 10)
	default:
		err = badf("unknown string encoding %d", n)
	}
	if err != nil {
		return nil, err
	}
	if exact {
		return append(make([]byte, 0, len(s)), s...), nil
	}
	return d.own(s), nil
}

func (d *decoder) readIntEnc(kind int) (int64, error) {
	p, err := d.readN(1 << kind)
	if err != nil {
		return 0, err
	}
	switch kind {
	case encInt8:
		return int64(int8(p[0])), nil
	case encInt16:
		return int64(int16(binary.LittleEndian.Uint16(p))), nil
	}
	return int64(int32(binary.LittleEndian.Uint32(p))), nil
}

func (d *decoder) readLZFHeader() (clen, ulen int, err error) {
	if clen, err = d.readCount(1); err != nil {
		return 0, 0, err
	}
	u, enc, err := d.readLen()
	if err != nil {
		return 0, 0, err
	}
	// An LZF stream cannot expand more than lzfRatio times, which bounds
	// the allocation by the input size.
	if enc || clen == 0 || u == 0 || u > uint64(clen)*lzfRatio {
		return 0, 0, badf("invalid LZF lengths")
	}
	return clen, int(u), nil
}

func (d *decoder) readLZFBody(out []byte, clen int) error {
	src, err := d.readN(clen)
	if err != nil {
		return err
	}
	if err := LZFDecompress(out, src); err != nil {
		return fmt.Errorf("%w: %w", ErrBadFormat, err)
	}
	return nil
}

// alloc returns an owned, capped slice of length n.
func (d *decoder) alloc(n int) []byte {
	if n >= bigString {
		return make([]byte, n)
	}
	if cap(d.arena)-len(d.arena) < n {
		size := d.arenaNext
		if size < 256 {
			size = 256
		}
		if size > maxArenaChunk {
			size = maxArenaChunk
		}
		if size < n {
			size = n
		}
		d.arenaNext = 2 * size
		d.arena = make([]byte, 0, size)
	}
	at := len(d.arena)
	d.arena = d.arena[:at+n]
	return d.arena[at : at+n : at+n]
}

func (d *decoder) own(s []byte) []byte {
	out := d.alloc(len(s))
	copy(out, s)
	return out
}

func (d *decoder) ownInt(v int64) []byte {
	return d.own(strconv.AppendInt(d.intBuf[:0], v, 10))
}

// resetArena makes the next owned strings use fresh memory, with a first
// chunk of about hint bytes.
func (d *decoder) resetArena(hint int) {
	d.arena = nil
	d.arenaNext = hint
}

// readObject reads the body of an object of type t.
func (d *decoder) readObject(t byte) (Object, error) {
	switch t {
	case TypeString:
		s, err := d.readOwned(true)
		return Object{Kind: KindString, Str: s}, err
	case TypeList, TypeSet:
		n, err := d.readCount(1)
		if err != nil {
			return Object{}, err
		}
		elems := make([][]byte, 0, d.prealloc(n))
		for i := 0; i < n; i++ {
			s, err := d.readOwned(false)
			if err != nil {
				return Object{}, err
			}
			elems = append(elems, s)
		}
		if t == TypeList {
			return Object{Kind: KindList, List: elems}, nil
		}
		return Object{Kind: KindSet, Set: elems}, nil
	case TypeZSet, TypeZSet2:
		n, err := d.readCount(2)
		if err != nil {
			return Object{}, err
		}
		zs := make([]ZMember, 0, d.prealloc(n))
		for i := 0; i < n; i++ {
			m, err := d.readOwned(false)
			if err != nil {
				return Object{}, err
			}
			var f float64
			if t == TypeZSet {
				f, err = d.readStringScore()
			} else {
				var p []byte
				if p, err = d.readN(8); err == nil {
					f = math.Float64frombits(binary.LittleEndian.Uint64(p))
				}
			}
			if err != nil {
				return Object{}, err
			}
			if math.IsNaN(f) {
				return Object{}, badf("zset score is NaN")
			}
			zs = append(zs, ZMember{Member: m, Score: f})
		}
		return Object{Kind: KindZSet, ZSet: zs}, nil
	case TypeHash:
		n, err := d.readCount(2)
		if err != nil {
			return Object{}, err
		}
		fs := make([]Field, 0, d.prealloc(n))
		for i := 0; i < n; i++ {
			k, err := d.readOwned(false)
			if err != nil {
				return Object{}, err
			}
			v, err := d.readOwned(false)
			if err != nil {
				return Object{}, err
			}
			fs = append(fs, Field{Name: k, Value: v})
		}
		return Object{Kind: KindHash, Hash: fs}, nil
	case TypeListQuicklist, TypeListQuicklist2:
		return d.readQuicklist(t)
	case TypeHashZipmap, TypeListZiplist, TypeSetIntset, TypeZSetZiplist,
		TypeHashZiplist, TypeHashListpack, TypeZSetListpack, TypeSetListpack:
		blob, err := d.readString()
		if err != nil {
			return Object{}, err
		}
		return d.decodeBlob(t, blob)
	case TypeModulePreGA, TypeModule2, TypeStreamListpack, TypeStreamListpack2,
		TypeStreamListpack3:
		return Object{}, fmt.Errorf("%w %d", ErrUnsupportedType, t)
	}
	if t >= 22 && t <= 25 {
		return Object{}, fmt.Errorf("%w %d (hash with field expiry)", ErrUnsupportedType, t)
	}
	return Object{}, badf("unknown object type %d", t)
}

// readStringScore reads a type-3 zset score.
func (d *decoder) readStringScore() (float64, error) {
	n, err := d.readByte()
	if err != nil {
		return 0, err
	}
	switch n {
	case 253:
		return math.NaN(), nil
	case 254:
		return math.Inf(1), nil
	case 255:
		return math.Inf(-1), nil
	}
	p, err := d.readN(int(n))
	if err != nil {
		return 0, err
	}
	return parseScore(p)
}

// parseScore parses a score written as text (strtod semantics).
func parseScore(p []byte) (float64, error) {
	f, err := strconv.ParseFloat(string(p), 64)
	if err != nil {
		var ne *strconv.NumError
		if errors.As(err, &ne) && errors.Is(ne.Err, strconv.ErrRange) {
			return f, nil // strtod saturates to ±inf / 0 as well
		}
		return 0, badf("invalid zset score %q", p)
	}
	return f, nil
}

// readQuicklist reads a type 14 (ziplist nodes) or 18 (listpack or plain
// nodes) list.
func (d *decoder) readQuicklist(t byte) (Object, error) {
	nodes, err := d.readCount(2)
	if err != nil {
		return Object{}, err
	}
	var elems [][]byte
	for i := 0; i < nodes; i++ {
		container := uint64(2)
		if t == TypeListQuicklist2 {
			var enc bool
			if container, enc, err = d.readLen(); err != nil {
				return Object{}, err
			}
			if enc || (container != 1 && container != 2) {
				return Object{}, badf("invalid quicklist container %d", container)
			}
		}
		if container == 1 { // plain node: one element
			s, err := d.readOwned(false)
			if err != nil {
				return Object{}, err
			}
			elems = append(elems, s)
			continue
		}
		blob, err := d.readString()
		if err != nil {
			return Object{}, err
		}
		if t == TypeListQuicklist {
			elems, err = d.appendZiplist(elems, blob)
		} else {
			elems, err = d.appendListpack(elems, blob)
		}
		if err != nil {
			return Object{}, err
		}
	}
	return Object{Kind: KindList, List: elems}, nil
}

// decodeBlob decodes the string-wrapped encodings.
func (d *decoder) decodeBlob(t byte, blob []byte) (Object, error) {
	var (
		flat [][]byte
		err  error
	)
	switch t {
	case TypeSetIntset:
		set, err := d.decodeIntset(blob)
		return Object{Kind: KindSet, Set: set}, err
	case TypeHashZipmap:
		fs, err := d.decodeZipmap(blob)
		return Object{Kind: KindHash, Hash: fs}, err
	case TypeListZiplist, TypeZSetZiplist, TypeHashZiplist:
		flat, err = d.appendZiplist(nil, blob)
	default:
		flat, err = d.appendListpack(nil, blob)
	}
	if err != nil {
		return Object{}, err
	}
	switch t {
	case TypeListZiplist:
		return Object{Kind: KindList, List: flat}, nil
	case TypeSetListpack:
		return Object{Kind: KindSet, Set: flat}, nil
	case TypeHashZiplist, TypeHashListpack:
		if len(flat)%2 != 0 {
			return Object{}, badf("odd number of hash entries")
		}
		fs := make([]Field, len(flat)/2)
		for i := range fs {
			fs[i] = Field{Name: flat[2*i], Value: flat[2*i+1]}
		}
		return Object{Kind: KindHash, Hash: fs}, nil
	}
	// zset ziplist/listpack: member, score, member, score...
	if len(flat)%2 != 0 {
		return Object{}, badf("odd number of zset entries")
	}
	zs := make([]ZMember, len(flat)/2)
	for i := range zs {
		f, err := parseScore(flat[2*i+1])
		if err != nil {
			return Object{}, err
		}
		if math.IsNaN(f) {
			return Object{}, badf("zset score is NaN")
		}
		zs[i] = ZMember{Member: flat[2*i], Score: f}
	}
	return Object{Kind: KindZSet, ZSet: zs}, nil
}

// appendZiplist appends the entries of a ziplist blob.
func (d *decoder) appendZiplist(dst [][]byte, b []byte) ([][]byte, error) {
	const hdr = 10
	if len(b) < hdr+1 || int(binary.LittleEndian.Uint32(b)) != len(b) || b[len(b)-1] != 0xff {
		return nil, badf("invalid ziplist header")
	}
	if tail := binary.LittleEndian.Uint32(b[4:]); int(tail) >= len(b) {
		return nil, badf("invalid ziplist tail")
	}
	if declared := int(binary.LittleEndian.Uint16(b[8:])); declared < 0xffff && declared <= len(b) {
		dst = growElems(dst, declared)
	}
	p := hdr
	for {
		if p >= len(b) {
			return nil, badf("ziplist without terminator")
		}
		if b[p] == 0xff {
			if p != len(b)-1 {
				return nil, badf("ziplist terminator before end")
			}
			return dst, nil
		}
		// prevlen
		if b[p] == 0xfe {
			p += 5
		} else {
			p++
		}
		if p >= len(b) {
			return nil, badf("truncated ziplist entry")
		}
		e := b[p]
		p++
		var (
			slen  int
			v     int64
			isInt = true
			w     int // width of integer payload
		)
		switch {
		case e>>6 == 0:
			slen, isInt = int(e&0x3f), false
		case e>>6 == 1:
			if p >= len(b) {
				return nil, badf("truncated ziplist entry")
			}
			slen, isInt = int(e&0x3f)<<8|int(b[p]), false
			p++
		case e == 0x80:
			if p+4 > len(b) {
				return nil, badf("truncated ziplist entry")
			}
			slen, isInt = int(binary.BigEndian.Uint32(b[p:])), false
			p += 4
		case e == 0xc0:
			w = 2
		case e == 0xd0:
			w = 4
		case e == 0xe0:
			w = 8
		case e == 0xf0:
			w = 3
		case e == 0xfe:
			w = 1
		case e >= 0xf1 && e <= 0xfd:
			v = int64(e&0x0f) - 1
		default:
			return nil, badf("invalid ziplist encoding 0x%02x", e)
		}
		if !isInt {
			if slen < 0 || slen > len(b)-p {
				return nil, badf("truncated ziplist string")
			}
			dst = append(dst, d.own(b[p:p+slen]))
			p += slen
			continue
		}
		if w > 0 {
			if p+w > len(b) {
				return nil, badf("truncated ziplist integer")
			}
			v = leInt(b[p:], w)
			p += w
		}
		dst = append(dst, d.ownInt(v))
	}
}

// leInt reads a w-byte little-endian two's complement integer.
func leInt(p []byte, w int) int64 {
	var u uint64
	for i := w - 1; i >= 0; i-- {
		u = u<<8 | uint64(p[i])
	}
	shift := uint(64 - 8*w)
	return int64(u<<shift) >> shift
}

func growElems(dst [][]byte, n int) [][]byte {
	if cap(dst)-len(dst) < n {
		nd := make([][]byte, len(dst), len(dst)+n)
		copy(nd, dst)
		return nd
	}
	return dst
}

// appendListpack appends the entries of a listpack blob.
func (d *decoder) appendListpack(dst [][]byte, b []byte) ([][]byte, error) {
	const hdr = 6
	if len(b) < hdr+1 || int(binary.LittleEndian.Uint32(b)) != len(b) || b[len(b)-1] != 0xff {
		return nil, badf("invalid listpack header")
	}
	if declared := int(binary.LittleEndian.Uint16(b[4:])); declared < 0xffff && declared <= len(b) {
		dst = growElems(dst, declared)
	}
	p := hdr
	for {
		if p >= len(b) {
			return nil, badf("listpack without terminator")
		}
		c := b[p]
		if c == 0xff {
			if p != len(b)-1 {
				return nil, badf("listpack terminator before end")
			}
			return dst, nil
		}
		var (
			size  int // encoding + data
			str   []byte
			v     int64
			isInt = true
		)
		avail := len(b) - p
		switch {
		case c&0x80 == 0:
			v, size = int64(c), 1
		case c&0xc0 == 0x80:
			n := int(c & 0x3f)
			if 1+n > avail {
				return nil, badf("truncated listpack string")
			}
			str, size, isInt = b[p+1:p+1+n], 1+n, false
		case c&0xe0 == 0xc0:
			if avail < 2 {
				return nil, badf("truncated listpack integer")
			}
			u := int64(c&0x1f)<<8 | int64(b[p+1])
			if u >= 1<<12 {
				u -= 1 << 13
			}
			v, size = u, 2
		case c&0xf0 == 0xe0:
			if avail < 2 {
				return nil, badf("truncated listpack string")
			}
			n := int(c&0x0f)<<8 | int(b[p+1])
			if 2+n > avail {
				return nil, badf("truncated listpack string")
			}
			str, size, isInt = b[p+2:p+2+n], 2+n, false
		case c == 0xf0:
			if avail < 5 {
				return nil, badf("truncated listpack string")
			}
			n := int(binary.LittleEndian.Uint32(b[p+1:]))
			if n < 0 || n > avail-5 {
				return nil, badf("truncated listpack string")
			}
			str, size, isInt = b[p+5:p+5+n], 5+n, false
		case c >= 0xf1 && c <= 0xf4:
			w := [...]int{2, 3, 4, 8}[c-0xf1]
			if 1+w > avail {
				return nil, badf("truncated listpack integer")
			}
			v, size = leInt(b[p+1:], w), 1+w
		default:
			return nil, badf("invalid listpack encoding 0x%02x", c)
		}
		bl := backlenSize(size)
		if size+bl > avail {
			return nil, badf("truncated listpack entry")
		}
		p += size + bl
		if isInt {
			dst = append(dst, d.ownInt(v))
		} else {
			dst = append(dst, d.own(str))
		}
	}
}

// backlenSize returns the size of a listpack entry's back-length field.
func backlenSize(l int) int {
	switch {
	case l < 1<<7:
		return 1
	case l < 1<<14:
		return 2
	case l < 1<<21:
		return 3
	case l < 1<<28:
		return 4
	}
	return 5
}

func (d *decoder) decodeIntset(b []byte) ([][]byte, error) {
	if len(b) < 8 {
		return nil, badf("truncated intset")
	}
	w := int(binary.LittleEndian.Uint32(b))
	n := int(binary.LittleEndian.Uint32(b[4:]))
	if w != 2 && w != 4 && w != 8 {
		return nil, badf("invalid intset encoding %d", w)
	}
	if n < 0 || n > (len(b)-8)/w || 8+n*w != len(b) {
		return nil, badf("intset length mismatch")
	}
	set := make([][]byte, n)
	for i := range set {
		set[i] = d.ownInt(leInt(b[8+i*w:], w))
	}
	return set, nil
}

func (d *decoder) decodeZipmap(b []byte) ([]Field, error) {
	if len(b) < 2 {
		return nil, badf("truncated zipmap")
	}
	p := 1 // skip zmlen
	zmLen := func() (int, error) {
		if p >= len(b) {
			return 0, badf("truncated zipmap")
		}
		c := b[p]
		if c < 254 {
			p++
			return int(c), nil
		}
		if c == 255 || p+5 > len(b) {
			return 0, badf("invalid zipmap length")
		}
		n := int(binary.LittleEndian.Uint32(b[p+1:]))
		p += 5
		return n, nil
	}
	var fs []Field
	for {
		if p >= len(b) {
			return nil, badf("zipmap without terminator")
		}
		if b[p] == 0xff {
			if p != len(b)-1 {
				return nil, badf("zipmap terminator before end")
			}
			return fs, nil
		}
		kl, err := zmLen()
		if err != nil {
			return nil, err
		}
		if kl < 0 || kl > len(b)-p {
			return nil, badf("truncated zipmap key")
		}
		k := d.own(b[p : p+kl])
		p += kl
		vl, err := zmLen()
		if err != nil {
			return nil, err
		}
		if p >= len(b) {
			return nil, badf("truncated zipmap")
		}
		free := int(b[p])
		p++
		if vl < 0 || vl > len(b)-p || free > len(b)-p-vl {
			return nil, badf("truncated zipmap value")
		}
		v := d.own(b[p : p+vl])
		p += vl + free
		fs = append(fs, Field{Name: k, Value: v})
	}
}
