package slot

import (
	"hash/crc32"
	"math/rand/v2"
	"testing"
)

func TestCRC32(t *testing.T) {
	r := rand.New(rand.NewPCG(1, 2))
	buf := make([]byte, 200)
	for i := range buf {
		buf[i] = byte(r.Uint32())
	}
	for n := 0; n <= len(buf); n++ {
		for off := 0; off < 8 && off+n <= len(buf); off++ {
			p := buf[off : off+n]
			if got, want := CRC32(p), crc32.ChecksumIEEE(p); got != want {
				t.Fatalf("CRC32(%x) = %08x, want %08x", p, got, want)
			}
		}
	}
}

func TestTag(t *testing.T) {
	for _, c := range []struct {
		key, tag string
		tagged   bool
	}{
		{"", "", false}, {"abc", "abc", false}, {"{", "{", false}, {"a{b", "a{b", false},
		{"{}", "", true}, {"a{b}c", "b", true}, {"}{a}", "a", true}, {"a{}{b}", "", true},
		{"{a{b}c}", "a{b", true}, {"x}y{z", "x}y{z", false}, {"{user1000}.following", "user1000", true},
	} {
		tag, tagged := Tag([]byte(c.key))
		if string(tag) != c.tag || tagged != c.tagged {
			t.Errorf("Tag(%q) = %q, %v; want %q, %v", c.key, tag, tagged, c.tag, c.tagged)
		}
	}
}

// TestOf pins slots against values computed independently (crc32 of the
// tag, modulo 1024) and checks that keys sharing a tag share a slot.
func TestOf(t *testing.T) {
	for _, c := range []struct {
		key  string
		slot int
	}{
		// SPEC-data §A.1 table
		{"a", 579}, {"b", 1017}, {"c", 879}, {"{a}x", 579}, {"{}b", 0}, {"x{}y", 0},
		{"x{a", 265}, {"a}b{", 488}, {"}{a}", 579}, {"{{a}}", 780}, {"", 0},
		{"foo", int(crc32.ChecksumIEEE([]byte("foo")) % 1024)},
		{"a{foo}b", int(crc32.ChecksumIEEE([]byte("foo")) % 1024)},
		{"{}", 0},
	} {
		if got := Of([]byte(c.key)); got != c.slot {
			t.Errorf("Of(%q) = %d, want %d", c.key, got, c.slot)
		}
	}
	s, tagged, crc := Lookup([]byte("x{user1}y"))
	if !tagged || crc != crc32.ChecksumIEEE([]byte("user1")) || s != Of([]byte("{user1}")) {
		t.Errorf("Lookup = %d, %v, %08x", s, tagged, crc)
	}
}

func BenchmarkOf(b *testing.B) {
	key := []byte("key:000000123456")
	n := 0
	for i := 0; i < b.N; i++ {
		n += Of(key)
	}
	_ = n
}
