package server

import (
	"encoding/binary"
	"math"
)

// intset is Redis's intset layout: sorted distinct integers stored with
// the smallest width (2, 4 or 8 bytes, little-endian) that fits them all;
// adding a wider value upgrades the whole set.
type intset struct {
	enc  uint8  // bytes per value (0 while empty)
	data []byte // len = count*enc
}

func intsetWidth(v int64) uint8 {
	switch {
	case v >= math.MinInt16 && v <= math.MaxInt16:
		return 2
	case v >= math.MinInt32 && v <= math.MaxInt32:
		return 4
	}
	return 8
}

func (is *intset) len() int {
	if is.enc == 0 {
		return 0
	}
	return len(is.data) / int(is.enc)
}

func (is *intset) get(i int) int64 {
	switch is.enc {
	case 2:
		return int64(int16(binary.LittleEndian.Uint16(is.data[2*i:])))
	case 4:
		return int64(int32(binary.LittleEndian.Uint32(is.data[4*i:])))
	}
	return int64(binary.LittleEndian.Uint64(is.data[8*i:]))
}

func putWidth(b []byte, enc uint8, v int64) {
	switch enc {
	case 2:
		binary.LittleEndian.PutUint16(b, uint16(v))
	case 4:
		binary.LittleEndian.PutUint32(b, uint32(v))
	default:
		binary.LittleEndian.PutUint64(b, uint64(v))
	}
}

// search returns the index of v, or where it would be inserted.
func (is *intset) search(v int64) (int, bool) {
	lo, hi := 0, is.len()
	for lo < hi {
		mid := int(uint(lo+hi) >> 1)
		x := is.get(mid)
		switch {
		case x == v:
			return mid, true
		case x < v:
			lo = mid + 1
		default:
			hi = mid
		}
	}
	return lo, false
}

// insert adds v and reports whether it was new.
func (is *intset) insert(v int64) bool {
	i, found := is.search(v)
	if found {
		return false
	}
	n := is.len()
	enc := max(is.enc, intsetWidth(v))
	w := int(enc)
	need := (n + 1) * w
	var nb []byte
	if enc != is.enc || need > cap(is.data) {
		nb = make([]byte, need, need+need/8)
	} else {
		nb = is.data[:need]
	}
	if enc != is.enc {
		for j := 0; j < n; j++ {
			k := j
			if j >= i {
				k = j + 1
			}
			putWidth(nb[k*w:], enc, is.get(j))
		}
	} else {
		copy(nb[:i*w], is.data[:i*w])
		copy(nb[(i+1)*w:], is.data[i*w:n*w])
	}
	putWidth(nb[i*w:], enc, v)
	is.data, is.enc = nb, enc
	return true
}

// remove deletes v and reports whether it was present.
func (is *intset) remove(v int64) bool {
	i, found := is.search(v)
	if !found {
		return false
	}
	w := int(is.enc)
	is.data = append(is.data[:i*w], is.data[(i+1)*w:]...)
	if cap(is.data) > 64 && len(is.data) < cap(is.data)/2 {
		nb := make([]byte, len(is.data), len(is.data)+len(is.data)/8)
		copy(nb, is.data)
		is.data = nb
	}
	return true
}

// values returns the integers in order.
func (is *intset) values() []int64 {
	out := make([]int64, is.len())
	for i := range out {
		out[i] = is.get(i)
	}
	return out
}

// intsetFromSorted builds an intset from sorted distinct values.
func intsetFromSorted(vs []int64) intset {
	var enc uint8 = 2
	for _, v := range vs {
		enc = max(enc, intsetWidth(v))
	}
	is := intset{enc: enc, data: make([]byte, len(vs)*int(enc))}
	for i, v := range vs {
		putWidth(is.data[i*int(enc):], enc, v)
	}
	return is
}

func (is *intset) clone() intset {
	nb := make([]byte, len(is.data))
	copy(nb, is.data)
	return intset{enc: is.enc, data: nb}
}
