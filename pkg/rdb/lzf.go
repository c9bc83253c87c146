package rdb

import (
	"errors"
	"sync"
)

// LZF format (as produced by liblzf and read by Redis):
//
//	000LLLLL <L+1 literal bytes>          literal run of 1..32 bytes
//	LLLooooo oooooooo                     back reference, length L+2 (L = 1..6)
//	111ooooo LLLLLLLL oooooooo            back reference, length L+9
//
// A back reference copies length bytes starting (o+1) bytes behind the
// current output position; source and destination may overlap.
const (
	lzfMaxLit = 1 << 5        // longest literal run
	lzfMaxOff = 1 << 13       // farthest back reference distance
	lzfMaxRef = 1<<8 + 1<<3   // longest back reference (264)
	lzfRatio  = lzfMaxRef / 3 // maximal expansion factor of compressed data
	lzfHBits  = 14            // largest hash table: 1<<14 entries
	lzfMinLen = 4             // inputs shorter than this never compress
)

// ErrLZF reports corrupt LZF data.
var ErrLZF = errors.New("rdb: corrupt LZF data")

type lzfTable struct{ h [1 << lzfHBits]uint32 }

var lzfPool = sync.Pool{New: func() any { return new(lzfTable) }}

// LZFCompress appends the LZF compression of src to dst. It gives up and
// returns (dst, false) when the compressed form would be longer than maxOut
// bytes; dst is then returned unchanged.
func LZFCompress(dst, src []byte, maxOut int) ([]byte, bool) {
	n := len(src)
	if n == 0 || maxOut <= 0 {
		return dst, false
	}
	start := len(dst)
	limit := start + maxOut
	if n < lzfMinLen {
		if 1+n > maxOut {
			return dst, false
		}
		dst = append(dst, byte(n-1))
		return append(dst, src...), true
	}
	// Size the hash table to the input so short strings stay cheap.
	bits := uint(8)
	for bits < lzfHBits && 1<<bits < n {
		bits++
	}
	tab := lzfPool.Get().(*lzfTable)
	defer lzfPool.Put(tab)
	h := tab.h[:1<<bits]
	clear(h)
	shift := 32 - bits

	lit := 0 // start of pending literals
	ip := 0
	for ip+2 < n {
		v := uint32(src[ip])<<16 | uint32(src[ip+1])<<8 | uint32(src[ip+2])
		slot := (v * 2654435761) >> shift
		ref := int(h[slot]) - 1
		h[slot] = uint32(ip + 1)
		if ref < 0 || ip-ref > lzfMaxOff ||
			src[ref] != src[ip] || src[ref+1] != src[ip+1] || src[ref+2] != src[ip+2] {
			ip++
			continue
		}
		// Extend the match.
		maxl := n - ip
		if maxl > lzfMaxRef {
			maxl = lzfMaxRef
		}
		l := 3
		for l < maxl && src[ref+l] == src[ip+l] {
			l++
		}
		// Flush pending literals, then the reference.
		if dst = lzfLiterals(dst, src[lit:ip]); len(dst)+3 > limit {
			return dst[:start], false
		}
		off := ip - ref - 1
		if l-2 < 7 {
			dst = append(dst, byte((l-2)<<5|off>>8), byte(off))
		} else {
			dst = append(dst, byte(7<<5|off>>8), byte(l-9), byte(off))
		}
		// Index the positions covered by the match (the first was done).
		end := ip + l
		for i := ip + 1; i < end && i+2 < n; i++ {
			v := uint32(src[i])<<16 | uint32(src[i+1])<<8 | uint32(src[i+2])
			h[(v*2654435761)>>shift] = uint32(i + 1)
		}
		ip = end
		lit = ip
	}
	dst = lzfLiterals(dst, src[lit:])
	if len(dst) > limit {
		return dst[:start], false
	}
	return dst, true
}

func lzfLiterals(dst, lit []byte) []byte {
	for len(lit) > 0 {
		k := len(lit)
		if k > lzfMaxLit {
			k = lzfMaxLit
		}
		dst = append(dst, byte(k-1))
		dst = append(dst, lit[:k]...)
		lit = lit[k:]
	}
	return dst
}

// LZFDecompress decompresses src into dst, which must have exactly the
// uncompressed length. It returns ErrLZF unless src decodes to exactly
// len(dst) bytes; it never reads or writes out of bounds.
func LZFDecompress(dst, src []byte) error {
	op, ip := 0, 0
	for ip < len(src) {
		ctrl := int(src[ip])
		ip++
		if ctrl < lzfMaxLit {
			k := ctrl + 1
			if ip+k > len(src) || op+k > len(dst) {
				return ErrLZF
			}
			copy(dst[op:], src[ip:ip+k])
			op += k
			ip += k
			continue
		}
		l := ctrl >> 5
		if l == 7 {
			if ip >= len(src) {
				return ErrLZF
			}
			l += int(src[ip])
			ip++
		}
		l += 2
		if ip >= len(src) {
			return ErrLZF
		}
		ref := op - (ctrl&0x1f)<<8 - int(src[ip]) - 1
		ip++
		if ref < 0 || op+l > len(dst) {
			return ErrLZF
		}
		if op-ref >= l {
			copy(dst[op:op+l], dst[ref:ref+l])
		} else {
			for i := 0; i < l; i++ { // overlapping: byte-wise forward copy
				dst[op+i] = dst[ref+i]
			}
		}
		op += l
	}
	if op != len(dst) {
		return ErrLZF
	}
	return nil
}
