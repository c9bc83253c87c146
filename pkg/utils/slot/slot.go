// Package slot maps keys to codis slots (SPEC-data §A.1–A.2): the CRC-32
// (IEEE) of the key's hash tag, modulo 1024. The proxy routes by it and
// codis-server shards its keyspace by it, so both use this one definition.
package slot

import (
	"bytes"
	"encoding/binary"
	"hash/crc32"
)

// Count is the number of slots.
const Count = 1024

// Tag returns the part of key that is hashed and whether key has a tag:
// the bytes between the first '{' and the first '}' after it (possibly
// empty), else the whole key.
func Tag(key []byte) ([]byte, bool) {
	i := bytes.IndexByte(key, '{')
	if i < 0 {
		return key, false
	}
	j := bytes.IndexByte(key[i+1:], '}')
	if j < 0 {
		return key, false
	}
	return key[i+1 : i+1+j], true
}

// Of returns the slot of key.
func Of(key []byte) int {
	tag, _ := Tag(key)
	return int(CRC32(tag) & (Count - 1))
}

// Lookup returns the slot of key, whether key has a hash tag, and the
// CRC-32 of its tag (which identifies the keys sharing that tag).
func Lookup(key []byte) (slot int, tagged bool, crc uint32) {
	tag, tagged := Tag(key)
	crc = CRC32(tag)
	return int(crc & (Count - 1)), tagged, crc
}

// slicing8 are the slicing-by-8 tables of the IEEE polynomial: entry
// [k][b] is the CRC of byte b followed by k zero bytes.
var slicing8 = func() *[8][256]uint32 {
	t := new([8][256]uint32)
	t[0] = *crc32.IEEETable
	for i := range 256 {
		c := t[0][i]
		for k := 1; k < 8; k++ {
			c = t[0][c&0xff] ^ c>>8
			t[k][i] = c
		}
	}
	return t
}()

// CRC32 is crc32.ChecksumIEEE, faster for the short inputs that keys are:
// every request hashes its key, and the library's generic entry point costs
// more than the sum for a few bytes. Inputs of 64 bytes and more go to the
// library, which uses carry-less multiplication from there on.
func CRC32(p []byte) uint32 {
	if len(p) >= 64 {
		return crc32.ChecksumIEEE(p)
	}
	t := slicing8
	crc := ^uint32(0)
	for ; len(p) >= 8; p = p[8:] {
		crc ^= binary.LittleEndian.Uint32(p)
		crc = t[0][p[7]] ^ t[1][p[6]] ^ t[2][p[5]] ^ t[3][p[4]] ^
			t[4][crc>>24] ^ t[5][crc>>16&0xff] ^ t[6][crc>>8&0xff] ^ t[7][crc&0xff]
	}
	for _, b := range p {
		crc = t[0][byte(crc)^b] ^ crc>>8
	}
	return ^crc
}
