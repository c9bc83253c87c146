package server

import (
	"encoding/binary"
	"errors"
	"math"
	"math/bits"
)

// HyperLogLog values in Redis's own string format, so they move between
// this server and Redis byte for byte:
//
//	+------+---+-----+----------+
//	| HYLL | E | N/U | Cardin.  |  16-byte header
//	+------+---+-----+----------+
//
// E is the encoding (0 dense, 1 sparse), then 3 unused bytes and the
// cached cardinality, 8 bytes little endian whose most significant bit
// marks the cache invalid. The dense form follows with 16384 6-bit
// registers packed least significant bit first (12288 bytes). The sparse
// form is a run-length sequence of opcodes:
//
//	00xxxxxx           ZERO:  xxxxxx+1 registers set to 0 (1..64)
//	01xxxxxx yyyyyyyy  XZERO: 14-bit run+1 of zero registers (1..16384)
//	1vvvvvxx           VAL:   xx+1 registers set to vvvvv+1 (1..32)
//
// An element sets register hash&16383 to the position of the first 1 bit
// in the remaining 50 hash bits (at most 51), if larger; the hash is
// MurmurHash64A with Redis's seed. The cardinality estimate is Ertl's
// improved estimator over the register histogram, as in Redis 7.

const (
	hllP         = 14
	hllQ         = 64 - hllP
	hllRegisters = 1 << hllP
	hllPMask     = hllRegisters - 1
	hllBits      = 6
	hllRegMax    = 1<<hllBits - 1
	hllHdrSize   = 16
	hllDenseSize = hllHdrSize + (hllRegisters*hllBits+7)/8

	hllDense  = 0
	hllSparse = 1

	hllSparseValMaxValue = 32
	hllSparseValMaxLen   = 4
	hllSparseZeroMaxLen  = 64
	hllSparseXZeroMaxLen = 16384

	hllAlphaInf = 0.721347520444481703680 // 0.5/ln(2)

	hllSeed = 0xadc83b19
)

// errHLLCorrupt reports a sparse HLL whose opcodes do not cover exactly
// the 16384 registers.
var errHLLCorrupt = errors.New("corrupted HLL object")

// murmurHash64A is Austin Appleby's MurmurHash64A as Redis uses it (on a
// little-endian machine).
func murmurHash64A(key []byte, seed uint64) uint64 {
	const m = 0xc6a4a7935bd1e995
	const r = 47
	h := seed ^ (uint64(len(key)) * m)
	for len(key) >= 8 {
		k := binary.LittleEndian.Uint64(key)
		k *= m
		k ^= k >> r
		k *= m
		h ^= k
		h *= m
		key = key[8:]
	}
	if len(key) > 0 {
		for i := len(key) - 1; i >= 0; i-- {
			h ^= uint64(key[i]) << (8 * uint(i))
		}
		h *= m
	}
	h ^= h >> r
	h *= m
	h ^= h >> r
	return h
}

// murmurHash64AUint64 is murmurHash64A of the 8 little-endian bytes of x.
func murmurHash64AUint64(x, seed uint64) uint64 {
	const m = 0xc6a4a7935bd1e995
	const r = 47
	n := uint64(8)
	h := seed ^ (n * m)
	k := x * m
	k ^= k >> r
	k *= m
	h ^= k
	h *= m
	h ^= h >> r
	h *= m
	h ^= h >> r
	return h
}

// hllPatLen returns the register an element maps to and the length of
// its run of zeros plus one.
func hllPatLen(ele []byte) (int, uint8) {
	return hllRegisterOf(murmurHash64A(ele, hllSeed))
}

// hllRegisterOf splits a hash into register index and count.
func hllRegisterOf(h uint64) (int, uint8) {
	index := int(h & hllPMask)
	h >>= hllP
	h |= 1 << hllQ // bounds the count to hllQ+1
	return index, uint8(bits.TrailingZeros64(h) + 1)
}

// newHLL returns an empty sparse HLL: the header and XZERO opcodes
// covering every register.
func newHLL() []byte {
	n := hllHdrSize + (hllRegisters+hllSparseXZeroMaxLen-1)/hllSparseXZeroMaxLen*2
	b := make([]byte, n, 64)
	copy(b, "HYLL")
	b[4] = hllSparse
	p := hllHdrSize
	for left := hllRegisters; left > 0; {
		run := min(left, hllSparseXZeroMaxLen)
		setXZero(b[p:], run)
		p += 2
		left -= run
	}
	return b
}

// isHLL reports whether a string value is a well-formed HLL header (the
// sparse opcodes are checked when used).
func isHLL(v []byte) bool {
	if len(v) < hllHdrSize || string(v[:4]) != "HYLL" || v[4] > hllSparse {
		return false
	}
	return v[4] != hllDense || len(v) == hllDenseSize
}

func hllCacheValid(v []byte) bool { return v[15]&0x80 == 0 }
func hllInvalidateCache(v []byte) { v[15] |= 0x80 }

func hllCachedCard(v []byte) uint64 { return binary.LittleEndian.Uint64(v[8:16]) }
func hllSetCachedCard(v []byte, card uint64) {
	binary.LittleEndian.PutUint64(v[8:16], card)
}

// Dense registers.

func denseGet(regs []byte, i int) uint8 {
	byt := i * hllBits / 8
	fb := uint(i * hllBits & 7)
	b0 := uint(regs[byt])
	var b1 uint
	if byt+1 < len(regs) {
		b1 = uint(regs[byt+1])
	}
	return uint8((b0>>fb | b1<<(8-fb)) & hllRegMax)
}

func denseSet(regs []byte, i int, val uint8) {
	byt := i * hllBits / 8
	fb := uint(i * hllBits & 7)
	v := uint(val)
	regs[byt] &^= byte(hllRegMax << fb)
	regs[byt] |= byte(v << fb)
	if byt+1 < len(regs) {
		regs[byt+1] &^= byte(hllRegMax >> (8 - fb))
		regs[byt+1] |= byte(v >> (8 - fb))
	}
}

// denseSetMax raises register i to count; it reports whether it changed.
func denseSetMax(regs []byte, i int, count uint8) bool {
	if count > denseGet(regs, i) {
		denseSet(regs, i, count)
		return true
	}
	return false
}

// Sparse opcodes.

func isZero(op byte) bool  { return op&0xc0 == 0 }
func isXZero(op byte) bool { return op&0xc0 == 0x40 }
func isVal(op byte) bool   { return op&0x80 != 0 }

func zeroLen(op byte) int  { return int(op&0x3f) + 1 }
func valValue(op byte) int { return int(op>>2&0x1f) + 1 }
func valLen(op byte) int   { return int(op&0x3) + 1 }

// xzeroLen decodes the XZERO at p[0]; a truncated opcode reads its second
// byte as 0 (Redis reads the string's terminator).
func xzeroLen(p []byte) int {
	var lo byte
	if len(p) > 1 {
		lo = p[1]
	}
	return (int(p[0]&0x3f)<<8 | int(lo)) + 1
}

func valOp(val, n int) byte { return byte((val-1)<<2|(n-1)) | 0x80 }
func zeroOp(n int) byte     { return byte(n - 1) }
func setXZero(p []byte, n int) {
	p[0] = byte((n-1)>>8) | 0x40
	p[1] = byte((n - 1) & 0xff)
}

// sparseToDense converts a sparse HLL to the dense form, keeping the
// header (the cached cardinality included).
func sparseToDense(v []byte) ([]byte, error) {
	if v[4] == hllDense {
		return v, nil
	}
	d := make([]byte, hllDenseSize)
	copy(d, v[:hllHdrSize])
	d[4] = hllDense
	regs := d[hllHdrSize:]
	idx := 0
	for p := hllHdrSize; p < len(v); {
		op := v[p]
		switch {
		case isZero(op):
			idx += zeroLen(op)
			p++
		case isXZero(op):
			idx += xzeroLen(v[p:])
			p += 2
		default:
			n, val := valLen(op), valValue(op)
			if idx+n > hllRegisters {
				return nil, errHLLCorrupt
			}
			for ; n > 0; n-- {
				denseSet(regs, idx, uint8(val))
				idx++
			}
			p++
		}
	}
	if idx != hllRegisters {
		return nil, errHLLCorrupt
	}
	return d, nil
}

// hll is a HLL string value being modified; v may be reallocated.
type hll struct {
	v        []byte
	maxBytes int64 // hll-sparse-max-bytes
}

// add adds an element: 1 if a register changed, 0 if not.
func (h *hll) add(ele []byte) (int, error) {
	idx, count := hllPatLen(ele)
	return h.set(idx, count)
}

// set raises register idx to count.
func (h *hll) set(idx int, count uint8) (int, error) {
	if h.v[4] == hllDense {
		if denseSetMax(h.v[hllHdrSize:], idx, count) {
			return 1, nil
		}
		return 0, nil
	}
	return h.sparseSet(idx, count)
}

// promote converts to dense and sets the register.
func (h *hll) promote(idx int, count uint8) (int, error) {
	d, err := sparseToDense(h.v)
	if err != nil {
		return 0, err
	}
	h.v = d
	if denseSetMax(d[hllHdrSize:], idx, count) {
		return 1, nil
	}
	return 0, nil
}

// sparseSet updates register idx of a sparse HLL in place, splitting the
// opcode that covers it, merging equal neighbours afterwards, and moving
// to the dense form when the value does not fit a VAL opcode or the
// string would exceed hll-sparse-max-bytes. It follows Redis's steps
// exactly so the bytes produced are the same.
func (h *hll) sparseSet(idx int, count uint8) (int, error) {
	if count > hllSparseValMaxValue {
		return h.promote(idx, count)
	}
	// buf holds the opcodes and, past end, the terminating zero byte a
	// Redis string has: a truncated XZERO reads it as its second byte,
	// and we must do the same to produce the same bytes.
	end := len(h.v)
	buf := append(h.v, 0)
	// Step 1: find the opcode covering idx.
	p, first, span := hllHdrSize, 0, 0
	prev := -1
	for p < end {
		oplen := 1
		op := buf[p]
		switch {
		case isZero(op):
			span = zeroLen(op)
		case isVal(op):
			span = valLen(op)
		default:
			span = xzeroLen(buf[p:])
			oplen = 2
		}
		if idx <= first+span-1 {
			break
		}
		prev = p
		p += oplen
		first += span
	}
	if span == 0 || p >= end {
		return 0, errHLLCorrupt
	}
	op := buf[p]
	oldLen, runlen := 1, 0
	switch {
	case isZero(op):
		runlen = zeroLen(op)
	case isXZero(op):
		runlen = xzeroLen(buf[p:])
		oldLen = 2
	default:
		runlen = valLen(op)
	}

	// Step 2: the trivial in-place cases.
	updated := false
	if isVal(op) {
		if valValue(op) >= int(count) {
			return 0, nil
		}
		if runlen == 1 {
			buf[p] = valOp(int(count), 1)
			updated = true
		}
	}
	if !updated && isZero(op) && runlen == 1 {
		buf[p] = valOp(int(count), 1)
		updated = true
	}

	if !updated {
		// The general case: split the opcode into up to three.
		var seq [5]byte
		n := 0
		last := first + span - 1
		if isZero(op) || isXZero(op) {
			if idx != first {
				n += putZeroRun(seq[n:], idx-first)
			}
			seq[n] = valOp(int(count), 1)
			n++
			if idx != last {
				n += putZeroRun(seq[n:], last-idx)
			}
		} else {
			cur := valValue(op)
			if idx != first {
				seq[n] = valOp(cur, idx-first)
				n++
			}
			seq[n] = valOp(int(count), 1)
			n++
			if idx != last {
				seq[n] = valOp(cur, last-idx)
				n++
			}
		}
		// Step 3: substitute the sequence for the old opcode, moving
		// what follows.
		delta := n - oldLen
		if delta > 0 && int64(end+delta) > h.maxBytes {
			return h.promote(idx, count)
		}
		if need := max(end+delta+1, p+n); need > len(buf) {
			buf = append(buf, make([]byte, need-len(buf))...)
		}
		if next := p + oldLen; next < end {
			copy(buf[next+delta:], buf[next:end])
		}
		end += delta
		buf[end] = 0
		copy(buf[p:], seq[:n])
	}

	// Step 4: merge adjacent VAL opcodes of equal value, scanning up to
	// five opcodes from the one before the change.
	q := hllHdrSize
	if prev >= 0 {
		q = prev
	}
	for scan := 5; q < end && scan > 0; scan-- {
		op := buf[q]
		if isXZero(op) {
			q += 2
			continue
		}
		if isZero(op) {
			q++
			continue
		}
		if q+1 < end && isVal(buf[q+1]) {
			v1, v2 := valValue(op), valValue(buf[q+1])
			if v1 == v2 {
				if l := valLen(op) + valLen(buf[q+1]); l <= hllSparseValMaxLen {
					buf[q+1] = valOp(v1, l)
					copy(buf[q:], buf[q+1:end+1])
					end--
					continue
				}
			}
		}
		q++
	}
	h.v = buf[:end]
	hllInvalidateCache(h.v)
	return 1, nil
}

// putZeroRun writes a ZERO or XZERO opcode for n registers.
func putZeroRun(p []byte, n int) int {
	if n > hllSparseZeroMaxLen {
		setXZero(p, n)
		return 2
	}
	p[0] = zeroOp(n)
	return 1
}

// hllRegHisto counts the registers by value; for the sparse form valid is
// false when the opcodes do not cover exactly all registers.
func hllRegHisto(v []byte) (histo [64]int, valid bool) {
	if v[4] == hllDense {
		regs := v[hllHdrSize:]
		for i := 0; i < hllRegisters; i++ {
			histo[denseGet(regs, i)]++
		}
		return histo, true
	}
	idx := 0
	for p := hllHdrSize; p < len(v); {
		op := v[p]
		switch {
		case isZero(op):
			n := zeroLen(op)
			idx += n
			histo[0] += n
			p++
		case isXZero(op):
			n := xzeroLen(v[p:])
			idx += n
			histo[0] += n
			p += 2
		default:
			n := valLen(op)
			idx += n
			histo[valValue(op)] += n
			p++
		}
	}
	return histo, idx == hllRegisters
}

// rawRegHisto counts 8-bit registers (the merged form of PFCOUNT).
func rawRegHisto(regs []uint8) (histo [64]int) {
	for _, r := range regs {
		histo[r&63]++
	}
	return histo
}

func hllSigma(x float64) float64 {
	if x == 1 {
		return math.Inf(1)
	}
	y := 1.0
	z := x
	for {
		x = float64(x * x)
		zPrime := z
		z += float64(x * y)
		y += y
		if zPrime == z {
			return z
		}
	}
}

func hllTau(x float64) float64 {
	if x == 0 || x == 1 {
		return 0
	}
	y := 1.0
	z := 1 - x
	for {
		x = math.Sqrt(x)
		zPrime := z
		y *= 0.5
		d := 1 - x
		z -= float64(float64(d*d) * y)
		if zPrime == z {
			return z / 3
		}
	}
}

// hllEstimate is Ertl's improved raw estimator ("New cardinality
// estimation algorithms for HyperLogLog sketches", 2017) as Redis
// computes it.
func hllEstimate(histo *[64]int) uint64 {
	m := float64(hllRegisters)
	z := m * hllTau((m-float64(histo[hllQ+1]))/m)
	for j := hllQ; j >= 1; j-- {
		z += float64(histo[j])
		z *= 0.5
	}
	z += m * hllSigma(float64(histo[0])/m)
	e := math.Round(float64(hllAlphaInf*m*m) / z)
	return uint64(e)
}

// hllMergeInto raises max[i] to the registers of the HLL v.
func hllMergeInto(max *[hllRegisters]uint8, v []byte) error {
	if v[4] == hllDense {
		regs := v[hllHdrSize:]
		for i := 0; i < hllRegisters; i++ {
			if r := denseGet(regs, i); r > max[i] {
				max[i] = r
			}
		}
		return nil
	}
	i := 0
	for p := hllHdrSize; p < len(v); {
		op := v[p]
		switch {
		case isZero(op):
			i += zeroLen(op)
			p++
		case isXZero(op):
			i += xzeroLen(v[p:])
			p += 2
		default:
			n, val := valLen(op), uint8(valValue(op))
			if i+n > hllRegisters {
				return errHLLCorrupt
			}
			for ; n > 0; n-- {
				if val > max[i] {
					max[i] = val
				}
				i++
			}
			p++
		}
	}
	if i != hllRegisters {
		return errHLLCorrupt
	}
	return nil
}
