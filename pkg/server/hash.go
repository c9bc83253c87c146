package server

import "hash/crc32"

// NumSlots is the number of codis slots.
const NumSlots = 1024

// hashTag returns the hash input of key and whether the key has a tag
// (SPEC-data §A.1–A.2): the bytes between the first '{' and the first '}'
// after it, which may be empty.
func hashTag(key []byte) ([]byte, bool) {
	for i, c := range key {
		if c == '{' {
			for j := i + 1; j < len(key); j++ {
				if key[j] == '}' {
					return key[i+1 : j], true
				}
			}
			return key, false
		}
	}
	return key, false
}

// SlotOf returns the codis slot of key: crc32(hash tag or key) & 1023.
func SlotOf(key []byte) int {
	tag, _ := hashTag(key)
	return int(crc32.ChecksumIEEE(tag) & (NumSlots - 1))
}

// slotAndTag returns the slot, whether the key has a tag, and the CRC of the
// tag (the tag-index group).
func slotAndTag(key []byte) (slot int, tagged bool, crc uint32) {
	tag, tagged := hashTag(key)
	crc = crc32.ChecksumIEEE(tag)
	return int(crc & (NumSlots - 1)), tagged, crc
}
