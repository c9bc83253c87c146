package rdb

import (
	"encoding/binary"
	"math"
	"strconv"
)

// Length-prefix encodings (first byte, top two bits).
const (
	len6Bit  = 0x00
	len14Bit = 0x40
	len32Bit = 0x80
	len64Bit = 0x81
	lenEnc   = 0xC0

	encInt8  = 0
	encInt16 = 1
	encInt32 = 2
	encLZF   = 3
)

// lenSize returns how many bytes appendLen uses for n.
func lenSize(n uint64) int {
	switch {
	case n < 1<<6:
		return 1
	case n < 1<<14:
		return 2
	case n <= math.MaxUint32:
		return 5
	}
	return 9
}

// appendLen appends an RDB length. Lengths above 2^32-1 need the 64-bit
// form, which Redis 3.2 cannot read; no realistic value reaches it.
func appendLen(dst []byte, n uint64) []byte {
	switch {
	case n < 1<<6:
		return append(dst, byte(n))
	case n < 1<<14:
		return append(dst, byte(n>>8)|len14Bit, byte(n))
	case n <= math.MaxUint32:
		return binary.BigEndian.AppendUint32(append(dst, len32Bit), uint32(n))
	}
	return binary.BigEndian.AppendUint64(append(dst, len64Bit), n)
}

// int32Text reports whether s is the canonical decimal form of an int32,
// the condition under which Redis stores a string as an integer.
func int32Text(s []byte) (int64, bool) {
	if len(s) == 0 || len(s) > 11 {
		return 0, false
	}
	i, neg := 0, false
	if s[0] == '-' {
		if len(s) == 1 {
			return 0, false
		}
		neg, i = true, 1
	}
	if s[i] == '0' && len(s) > 1 { // "0" is canonical; "01", "-0" are not
		return 0, false
	}
	var v int64
	for ; i < len(s); i++ {
		c := s[i]
		if c < '0' || c > '9' {
			return 0, false
		}
		v = v*10 + int64(c-'0')
		if v > 1<<31 {
			return 0, false
		}
	}
	if neg {
		v = -v
	}
	if v < math.MinInt32 || v > math.MaxInt32 {
		return 0, false
	}
	return v, true
}

// appendIntEnc appends the C0/C1/C2 form of an int32 value.
func appendIntEnc(dst []byte, v int64) []byte {
	switch {
	case v >= math.MinInt8 && v <= math.MaxInt8:
		return append(dst, lenEnc|encInt8, byte(v))
	case v >= math.MinInt16 && v <= math.MaxInt16:
		return append(dst, lenEnc|encInt16, byte(v), byte(v>>8))
	}
	return append(dst, lenEnc|encInt32, byte(v), byte(v>>8), byte(v>>16), byte(v>>24))
}

// appendString appends s using the rules of Redis 3.2: canonical int32
// text as an integer, strings over 20 bytes LZF-compressed when compress is
// set and that saves at least 4 bytes, otherwise plain.
func appendString(dst, s []byte, compress bool) []byte {
	if len(s) <= 11 {
		if v, ok := int32Text(s); ok {
			return appendIntEnc(dst, v)
		}
	}
	if compress && len(s) > 20 {
		if out, ok := appendLZFString(dst, s); ok {
			return out
		}
	}
	return append(appendLen(dst, uint64(len(s))), s...)
}

// appendLZFString appends the C3 form of s if compression saves >= 4 bytes.
func appendLZFString(dst, s []byte) ([]byte, bool) {
	maxOut := len(s) - 4
	start := len(dst)
	hdrMax := 1 + lenSize(uint64(maxOut)) + lenSize(uint64(len(s)))
	for i := 0; i < hdrMax; i++ {
		dst = append(dst, 0)
	}
	out, ok := LZFCompress(dst, s, maxOut)
	if !ok {
		return dst[:start], false
	}
	clen := len(out) - start - hdrMax
	hdr := append(out[start:start], lenEnc|encLZF) // out: LZFCompress may have moved dst
	hdr = appendLen(hdr, uint64(clen))
	hdr = appendLen(hdr, uint64(len(s)))
	if gap := hdrMax - len(hdr); gap > 0 {
		copy(out[start+len(hdr):], out[start+hdrMax:])
		out = out[:len(out)-gap]
	}
	return out, true
}

// appendScore appends a type-3 (string) zset score: 253/254/255 for
// NaN/+inf/-inf, else a length byte and the %.17g text.
func appendScore(dst []byte, f float64) []byte {
	switch {
	case math.IsNaN(f):
		return append(dst, 253)
	case math.IsInf(f, 1):
		return append(dst, 254)
	case math.IsInf(f, -1):
		return append(dst, 255)
	}
	at := len(dst)
	dst = strconv.AppendFloat(append(dst, 0), f, 'g', 17, 64)
	dst[at] = byte(len(dst) - at - 1)
	return dst
}

// objectType returns the classic type byte written for kind.
func objectType(k Kind) (byte, bool) {
	switch k {
	case KindString:
		return TypeString, true
	case KindList:
		return TypeList, true
	case KindSet:
		return TypeSet, true
	case KindZSet:
		return TypeZSet, true
	case KindHash:
		return TypeHash, true
	}
	return 0, false
}

// sizeHint returns an upper bound of the uncompressed encoded size of o's
// body.
func sizeHint(o *Object) int {
	const per = 5
	n := 0
	switch o.Kind {
	case KindString:
		n = len(o.Str) + per
	case KindList:
		n = per
		for _, e := range o.List {
			n += len(e) + per
		}
	case KindSet:
		n = per
		for _, e := range o.Set {
			n += len(e) + per
		}
	case KindZSet:
		n = per
		for _, e := range o.ZSet {
			n += len(e.Member) + per + 25
		}
	case KindHash:
		n = per
		for _, e := range o.Hash {
			n += len(e.Name) + len(e.Value) + 2*per
		}
	}
	return n
}

// appendValue appends the type byte and body of o.
func appendValue(dst []byte, o *Object, compress bool) ([]byte, error) {
	t, ok := objectType(o.Kind)
	if !ok {
		return dst, badf("cannot encode object of %v", o.Kind)
	}
	dst = append(dst, t)
	return appendBody(dst, o, compress), nil
}

func appendBody(dst []byte, o *Object, compress bool) []byte {
	switch o.Kind {
	case KindString:
		dst = appendString(dst, o.Str, compress)
	case KindList:
		dst = appendLen(dst, uint64(len(o.List)))
		for _, e := range o.List {
			dst = appendString(dst, e, compress)
		}
	case KindSet:
		dst = appendLen(dst, uint64(len(o.Set)))
		for _, e := range o.Set {
			dst = appendString(dst, e, compress)
		}
	case KindZSet:
		dst = appendLen(dst, uint64(len(o.ZSet)))
		for _, e := range o.ZSet {
			dst = appendString(dst, e.Member, compress)
			dst = appendScore(dst, e.Score)
		}
	case KindHash:
		dst = appendLen(dst, uint64(len(o.Hash)))
		for _, e := range o.Hash {
			dst = appendString(dst, e.Name, compress)
			dst = appendString(dst, e.Value, compress)
		}
	}
	return dst
}

// EncodeDump returns the DUMP payload of o: the classic object type, its
// body (strings int-encoded or LZF-compressed like Redis 3.2 does), the
// footer version and the CRC64. Use DumpVersion for payloads that both the
// original codis-server and Redis 7 accept. Empty collections are encoded
// as given, although Redis refuses to restore them.
func EncodeDump(o *Object, version uint16) ([]byte, error) {
	return AppendDump(make([]byte, 0, sizeHint(o)+11), o, version)
}

// AppendDump is EncodeDump appending to dst. The checksum covers only the
// appended payload.
func AppendDump(dst []byte, o *Object, version uint16) ([]byte, error) {
	start := len(dst)
	dst, err := appendValue(dst, o, true)
	if err != nil {
		return dst[:start], err
	}
	dst = binary.LittleEndian.AppendUint16(dst, version)
	return binary.LittleEndian.AppendUint64(dst, CRC64(dst[start:])), nil
}
