package server

import (
	"bytes"
	"encoding/binary"
	"hash/crc32"
)

// NumSlots is the number of codis slots.
const NumSlots = 1024

// hashTag returns the hash input of key and whether the key has a tag
// (SPEC-data §A.1–A.2): the bytes between the first '{' and the first '}'
// after it, which may be empty.
func hashTag(key []byte) ([]byte, bool) {
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

// SlotOf returns the codis slot of key: crc32(hash tag or key) & 1023.
func SlotOf(key []byte) int {
	tag, _ := hashTag(key)
	return int(crcIEEE(tag) & (NumSlots - 1))
}

// slotAndTag returns the slot, whether the key has a tag, and the CRC of the
// tag (the tag-index group).
func slotAndTag(key []byte) (slot int, tagged bool, crc uint32) {
	tag, tagged := hashTag(key)
	crc = crcIEEE(tag)
	return int(crc & (NumSlots - 1)), tagged, crc
}

// crcSlicing8 are the slicing-by-8 tables of the IEEE polynomial: entry
// [k][b] is the CRC of byte b followed by k zero bytes.
var crcSlicing8 = func() *[8][256]uint32 {
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

// crcIEEE is crc32.ChecksumIEEE for the short inputs that keys are: every
// command hashes its key, and the library's generic entry point costs more
// than the sum for a few bytes. Long inputs go to the library, which uses
// carry-less multiplication from 64 bytes on.
func crcIEEE(p []byte) uint32 {
	if len(p) >= 64 {
		return crc32.ChecksumIEEE(p)
	}
	t := crcSlicing8
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
