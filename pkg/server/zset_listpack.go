package server

import (
	"encoding/binary"
	"math"
	"unsafe"
)

// zlp is the compact "listpack" encoding of a small sorted set: entries
// stored back to back in one byte slice, in (score, member) order, each
//
//	uvarint(len(member)<<1 | intFlag) | member | score
//
// where the score is a zigzag varint when intFlag is set (integral scores
// of magnitude below 2^53, the common case, as Redis's listpack stores
// them as integers) and 8 little-endian bytes of the float64 otherwise.
//
// A small zset thus costs about its payload (like Redis's listpack) rather
// than a slice header and a string allocation per member. Every operation
// is a linear walk, which is what Redis does too and is cheap at the
// at most zset-max-listpack-entries entries this encoding holds.
type zlp struct {
	buf []byte
	n   int // number of entries
}

// entry decodes the entry at off and returns its member (aliasing buf),
// score and the offset of the next entry.
func (l *zlp) entry(off int) ([]byte, float64, int) {
	hdr, k := binary.Uvarint(l.buf[off:])
	start := off + k
	end := start + int(hdr>>1)
	if hdr&1 != 0 {
		v, k := binary.Varint(l.buf[end:])
		return l.buf[start:end], float64(v), end + k
	}
	return l.buf[start:end], math.Float64frombits(binary.LittleEndian.Uint64(l.buf[end:])), end + 8
}

// zlpIntScore reports whether a score is stored as an integer.
func zlpIntScore(score float64) bool {
	return score == math.Trunc(score) && math.Abs(score) < 1<<53
}

func zlpEntrySize(member string, score float64) int {
	var tmp [binary.MaxVarintLen64]byte
	n := binary.PutUvarint(tmp[:], uint64(len(member))<<1) + len(member)
	if zlpIntScore(score) {
		return n + binary.PutVarint(tmp[:], int64(score))
	}
	return n + 8
}

// find returns the offset, index and score of member, or off -1.
func (l *zlp) find(member string) (off, idx int, score float64) {
	for o, i := 0, 0; o < len(l.buf); i++ {
		m, s, next := l.entry(o)
		if string(m) == member {
			return o, i, s
		}
		o = next
	}
	return -1, -1, 0
}

// offsetOf returns the offset of the entry of index i (len(buf) for n).
func (l *zlp) offsetOf(i int) int {
	o := 0
	for ; i > 0 && o < len(l.buf); i-- {
		_, _, o = l.entry(o)
	}
	return o
}

// insertPos returns the offset where (score, member) belongs.
func (l *zlp) insertPos(score float64, member string) int {
	o := 0
	for o < len(l.buf) {
		m, s, next := l.entry(o)
		if !zslLess(s, zlpView(m), score, member) {
			return o
		}
		o = next
	}
	return o
}

// insert adds an entry at off (which must keep the order).
func (l *zlp) insert(off int, member string, score float64) {
	if score == 0 {
		score = 0 // a listpack stores -0 as the integer 0
	}
	sz := zlpEntrySize(member, score)
	need := len(l.buf) + sz
	if need > cap(l.buf) {
		nb := make([]byte, len(l.buf), need+need/8)
		copy(nb, l.buf)
		l.buf = nb
	}
	l.buf = l.buf[:need]
	copy(l.buf[off+sz:], l.buf[off:need-sz])
	isInt := zlpIntScore(score)
	hdr := uint64(len(member)) << 1
	if isInt {
		hdr |= 1
	}
	p := off + binary.PutUvarint(l.buf[off:], hdr)
	p += copy(l.buf[p:], member)
	if isInt {
		binary.PutVarint(l.buf[p:], int64(score))
	} else {
		binary.LittleEndian.PutUint64(l.buf[p:], math.Float64bits(score))
	}
	l.n++
}

// appendSorted adds an entry at the end (the caller keeps the order).
func (l *zlp) appendSorted(member string, score float64) {
	l.insert(len(l.buf), member, score)
}

// deleteRange removes the count entries in bytes [from, to).
func (l *zlp) deleteRange(from, to, count int) {
	l.buf = append(l.buf[:from], l.buf[to:]...)
	l.n -= count
	if cap(l.buf) > 64 && len(l.buf) < cap(l.buf)/2 {
		nb := make([]byte, len(l.buf), len(l.buf)+len(l.buf)/8)
		copy(nb, l.buf)
		l.buf = nb
	}
}

// clone returns an independent copy with a tight buffer.
func (l *zlp) clone() zlp {
	nb := make([]byte, len(l.buf))
	copy(nb, l.buf)
	return zlp{buf: nb, n: l.n}
}

// zlpView returns a string aliasing b without copying, for comparisons and
// predicates that do not retain it (the buffer may change afterwards).
func zlpView(b []byte) string {
	return unsafe.String(unsafe.SliceData(b), len(b))
}
