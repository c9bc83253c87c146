package rdb

import "encoding/binary"

// crcPoly is the reflected CRC-64/Jones polynomial used by Redis for DUMP
// payloads and RDB file checksums (init 0, no final xor).
const crcPoly = 0x95AC9329AC4BC9B5

// crcTables holds the slicing-by-8 tables; crcTables[0] is the classic
// byte-at-a-time table.
var crcTables = buildCRCTables()

func buildCRCTables() *[8][256]uint64 {
	t := new([8][256]uint64)
	for i := 0; i < 256; i++ {
		crc := uint64(i)
		for j := 0; j < 8; j++ {
			if crc&1 == 1 {
				crc = crc>>1 ^ crcPoly
			} else {
				crc >>= 1
			}
		}
		t[0][i] = crc
	}
	for i := 0; i < 256; i++ {
		crc := t[0][i]
		for k := 1; k < 8; k++ {
			crc = t[0][crc&0xff] ^ crc>>8
			t[k][i] = crc
		}
	}
	return t
}

// CRC64 returns the CRC-64/Jones checksum of p as Redis computes it.
// CRC64([]byte("123456789")) == 0xE9C6D914C4B8D9CA.
func CRC64(p []byte) uint64 { return UpdateCRC64(0, p) }

// UpdateCRC64 continues a CRC-64/Jones computation: UpdateCRC64(CRC64(a), b)
// equals CRC64(a+b).
func UpdateCRC64(crc uint64, p []byte) uint64 {
	t := crcTables
	for len(p) >= 8 {
		crc ^= binary.LittleEndian.Uint64(p)
		crc = t[7][crc&0xff] ^
			t[6][crc>>8&0xff] ^
			t[5][crc>>16&0xff] ^
			t[4][crc>>24&0xff] ^
			t[3][crc>>32&0xff] ^
			t[2][crc>>40&0xff] ^
			t[1][crc>>48&0xff] ^
			t[0][crc>>56]
		p = p[8:]
	}
	for _, b := range p {
		crc = t[0][byte(crc)^b] ^ crc>>8
	}
	return crc
}
