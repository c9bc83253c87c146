package rdb

import "encoding/binary"

// DecodeDump verifies the footer of a DUMP payload and decodes its value.
// Payloads whose version is above maxVersion are rejected; pass
// MaxVersionCodis to behave like codis-server 3.2 (SLOTSRESTORE) and
// MaxVersionRedis7 to accept what Redis 7.0 DUMP produces.
//
// Footer problems return ErrChecksum; anything wrong with the value
// returns an error wrapping ErrBadFormat (ErrUnsupportedType for streams
// and modules, ErrEmptyKey for collections without elements). Bytes
// between the value and the footer are ignored, as Redis does.
//
// The returned Object never aliases payload.
func DecodeDump(payload []byte, maxVersion uint16) (Object, error) {
	body, err := VerifyDump(payload, maxVersion)
	if err != nil {
		return Object{}, err
	}
	if len(body) == 0 {
		return Object{}, badf("empty payload")
	}
	d := decoder{buf: body[1:]}
	d.resetArena(len(body))
	obj, err := d.readObject(body[0])
	if err != nil {
		return Object{}, err
	}
	if obj.Kind != KindString && obj.Len() == 0 {
		return Object{}, ErrEmptyKey
	}
	return obj, nil
}

// VerifyDump checks a DUMP payload's footer (length, version, CRC64) and
// returns the type byte and body without the footer.
func VerifyDump(payload []byte, maxVersion uint16) ([]byte, error) {
	if len(payload) < 10 {
		return nil, ErrChecksum
	}
	n := len(payload) - 10
	if binary.LittleEndian.Uint16(payload[n:]) > maxVersion {
		return nil, ErrChecksum
	}
	if CRC64(payload[:n+2]) != binary.LittleEndian.Uint64(payload[n+2:]) {
		return nil, ErrChecksum
	}
	return payload[:n], nil
}

// DumpVersionOf returns the footer version of a payload (0 if too short).
func DumpVersionOf(payload []byte) uint16 {
	if len(payload) < 10 {
		return 0
	}
	return binary.LittleEndian.Uint16(payload[len(payload)-10:])
}
