package rdb

import (
	"bytes"
	"errors"
	"math/rand"
	"strings"
	"testing"
)

func lzfInputs() [][]byte {
	r := rand.New(rand.NewSource(4))
	rnd := make([]byte, 5000)
	r.Read(rnd)
	words := make([]byte, 0, 20000)
	for len(words) < 20000 {
		words = append(words, []string{"alpha ", "beta ", "gamma ", "delta "}[r.Intn(4)]...)
	}
	return [][]byte{
		{1}, []byte("ab"), []byte("abc"), []byte("abcd"), []byte("aaaa"),
		bytes.Repeat([]byte("a"), 100), bytes.Repeat([]byte("a"), 100000),
		bytes.Repeat([]byte("abcdefgh"), 5000), []byte(strings.Repeat("0123456789", 3)),
		rnd, words, append(append([]byte(nil), rnd[:9000%len(rnd)]...), rnd[:3000]...),
	}
}

func TestLZFRoundTrip(t *testing.T) {
	for _, in := range lzfInputs() {
		c, ok := LZFCompress(nil, in, len(in)+len(in)/16+64)
		if !ok {
			t.Fatalf("len %d: compression failed", len(in))
		}
		out := make([]byte, len(in))
		if err := LZFDecompress(out, c); err != nil || !bytes.Equal(out, in) {
			t.Fatalf("len %d: round trip: %v", len(in), err)
		}
		if len(in) >= 10000 && bytes.Count(in, in[:1]) == len(in) && len(c)*50 > len(in) {
			t.Fatalf("run of %d compressed only to %d", len(in), len(c))
		}
		// The output limit is honoured and leaves dst untouched.
		if len(c) > 1 {
			prefix := []byte("xyz")
			d, ok := LZFCompress(prefix, in, len(c)-1)
			if ok || !bytes.Equal(d, prefix) {
				t.Fatalf("len %d: limit %d not honoured", len(in), len(c)-1)
			}
		}
	}
	// Redis' own LZF output (from DUMP of 100 'a') decodes.
	out := make([]byte, 100)
	if err := LZFDecompress(out, []byte("\x01aa\xe0W\x00\x01aa")); err != nil || !bytes.Equal(out, bytes.Repeat([]byte("a"), 100)) {
		t.Fatal(err)
	}
}

func TestLZFCorrupt(t *testing.T) {
	for _, c := range []struct {
		src  []byte
		ulen int
	}{
		{[]byte{}, 1},                 // nothing
		{[]byte{5, 'a'}, 6},           // literal past input
		{[]byte{0, 'a'}, 2},           // too short output
		{[]byte{1, 'a', 'b'}, 1},      // literal past output
		{[]byte{0x20, 0}, 3},          // reference before start
		{[]byte{0, 'a', 0x20, 1}, 4},  // reference before start
		{[]byte{0, 'a', 0xe0}, 10},    // truncated long reference
		{[]byte{0, 'a', 0xe0, 5}, 20}, // missing offset
		{[]byte{0, 'a', 0x20, 0}, 2},  // reference past output
	} {
		out := make([]byte, c.ulen)
		if err := LZFDecompress(out, c.src); !errors.Is(err, ErrLZF) {
			t.Errorf("% x (ulen %d): %v", c.src, c.ulen, err)
		}
	}
}

func FuzzLZF(f *testing.F) {
	for _, in := range lzfInputs() {
		f.Add(in[:min(len(in), 2000)], uint16(len(in)))
	}
	f.Add([]byte("\x01aa\xe0W\x00\x01aa"), uint16(100))
	f.Fuzz(func(t *testing.T, data []byte, ulen uint16) {
		if len(data) > 1<<14 {
			return
		}
		// Compression round-trips.
		c, ok := LZFCompress(nil, data, len(data)+len(data)/16+64)
		if len(data) > 0 {
			if !ok {
				t.Fatal("compression failed with ample room")
			}
			out := make([]byte, len(data))
			if err := LZFDecompress(out, c); err != nil || !bytes.Equal(out, data) {
				t.Fatalf("round trip: %v", err)
			}
		}
		// Arbitrary input never panics.
		out := make([]byte, int(ulen))
		_ = LZFDecompress(out, data)
	})
}

func FuzzDecodeDump(f *testing.F) {
	for _, c := range redis7Payloads {
		f.Add([]byte(c.payload))
	}
	for _, fx := range fixtures() {
		if fx.obj.Len() > 50 {
			continue
		}
		p, _ := EncodeDump(&fx.obj, DumpVersion)
		f.Add(p)
	}
	for _, body := range [][]byte{
		{10, 0x14, 0x14, 0, 0, 0, 0x10, 0, 0, 0, 4, 0, 0, 0xf2, 2, 0xf3, 2, 0xf4, 2, 1, 'x', 0xff},
		{9, 8, 1, 1, 'a', 1, 0, 'b', 0xff},
		{16, 11, 11, 0, 0, 0, 2, 0, 0x81, 'a', 2, 0x05, 1, 0xff},
		{3, 1, 1, 'a', 3, '1', '.', '5'},
	} {
		f.Add(footer(body, 7))
	}
	f.Fuzz(func(t *testing.T, payload []byte) {
		if len(payload) > 1<<14 {
			return // keep minimization fast; size is not what we are testing
		}
		// Let mutations reach the decoder: fix up the footer.
		var body []byte
		if len(payload) >= 10 {
			body = payload[:len(payload)-10]
		} else {
			body = payload
		}
		fixed := footer(body, 7)
		for _, p := range [][]byte{payload, fixed} {
			obj, err := DecodeDump(p, MaxVersionRedis7)
			if err != nil {
				if !errors.Is(err, ErrBadFormat) && !errors.Is(err, ErrChecksum) {
					t.Fatalf("unexpected error class: %v", err)
				}
				continue
			}
			// Whatever decodes re-encodes and decodes to the same value.
			re, err := EncodeDump(&obj, DumpVersion)
			if err != nil {
				t.Fatal(err)
			}
			obj2, err := DecodeDump(re, MaxVersionCodis)
			if err != nil || !objEqual(obj, obj2) {
				t.Fatalf("re-encode: %v", err)
			}
		}
	})
}
