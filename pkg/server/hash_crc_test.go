package server

import (
	"hash/crc32"
	"math/rand/v2"
	"testing"
)

func TestCrcIEEE(t *testing.T) {
	r := rand.New(rand.NewPCG(1, 2))
	buf := make([]byte, 200)
	for i := range buf {
		buf[i] = byte(r.Uint32())
	}
	for n := 0; n <= len(buf); n++ {
		for off := 0; off < 8 && off+n <= len(buf); off++ {
			p := buf[off : off+n]
			if got, want := crcIEEE(p), crc32.ChecksumIEEE(p); got != want {
				t.Fatalf("crcIEEE(%x) = %08x, want %08x", p, got, want)
			}
		}
	}
}

func BenchmarkSlotOf(b *testing.B) {
	key := []byte("key:000000123456")
	n := 0
	for i := 0; i < b.N; i++ {
		n += SlotOf(key)
	}
	_ = n
}

func TestHashTagCases(t *testing.T) {
	for _, c := range []struct {
		key, tag string
		tagged   bool
	}{
		{"", "", false}, {"abc", "abc", false}, {"{", "{", false}, {"a{b", "a{b", false},
		{"{}", "", true}, {"a{b}c", "b", true}, {"}{a}", "a", true}, {"a{}{b}", "", true},
		{"{a{b}c}", "a{b", true}, {"x}y{z", "x}y{z", false},
	} {
		tag, tagged := hashTag([]byte(c.key))
		if string(tag) != c.tag || tagged != c.tagged {
			t.Errorf("hashTag(%q) = %q, %v; want %q, %v", c.key, tag, tagged, c.tag, c.tagged)
		}
	}
}
