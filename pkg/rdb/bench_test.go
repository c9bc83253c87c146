package rdb

import (
	"bytes"
	"fmt"
	"io"
	"math/rand"
	"testing"
)

func benchHash() *Object {
	o := &Object{Kind: KindHash}
	for i := 0; i < 10; i++ {
		o.Hash = append(o.Hash, Field{[]byte(fmt.Sprintf("field%d", i)), []byte(fmt.Sprintf("value-%d", i*37))})
	}
	return o
}

func bench1KString() *Object {
	r := rand.New(rand.NewSource(5))
	s := make([]byte, 1024)
	for i := range s { // text-like, compressible
		s[i] = "abcdefghij klmnop"[r.Intn(17)]
	}
	return &Object{Kind: KindString, Str: s}
}

func benchEncode(b *testing.B, o *Object) {
	p, _ := EncodeDump(o, DumpVersion)
	b.SetBytes(int64(len(p)))
	b.ReportAllocs()
	for b.Loop() {
		if _, err := EncodeDump(o, DumpVersion); err != nil {
			b.Fatal(err)
		}
	}
}

func benchDecode(b *testing.B, o *Object) {
	p, _ := EncodeDump(o, DumpVersion)
	b.SetBytes(int64(len(p)))
	b.ReportAllocs()
	for b.Loop() {
		if _, err := DecodeDump(p, MaxVersionCodis); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkEncodeDumpSmallHash(b *testing.B) { benchEncode(b, benchHash()) }
func BenchmarkDecodeDumpSmallHash(b *testing.B) { benchDecode(b, benchHash()) }
func BenchmarkEncodeDump1KString(b *testing.B)  { benchEncode(b, bench1KString()) }
func BenchmarkDecodeDump1KString(b *testing.B)  { benchDecode(b, bench1KString()) }

func BenchmarkCRC64(b *testing.B) {
	p := make([]byte, 64<<10)
	b.SetBytes(int64(len(p)))
	for b.Loop() {
		CRC64(p)
	}
}

func BenchmarkWriterKeys(b *testing.B) {
	h := benchHash()
	s := &Object{Kind: KindString, Str: []byte("some value")}
	w := NewWriter(io.Discard, nil)
	key := []byte("key:0000000")
	b.ReportAllocs()
	for b.Loop() {
		w.WriteKey(key, s, 0)
		w.WriteKey(key, h, 1700000000000)
	}
	if err := w.Close(); err != nil {
		b.Fatal(err)
	}
}

func BenchmarkReaderKeys(b *testing.B) {
	var buf bytes.Buffer
	w := NewWriter(&buf, nil)
	h := benchHash()
	for i := 0; i < 10000; i++ {
		w.WriteKey(fmt.Appendf(nil, "key:%d", i), h, 0)
	}
	w.Close()
	data := buf.Bytes()
	b.SetBytes(int64(len(data)))
	b.ReportAllocs()
	for b.Loop() {
		err := NewReader(bytes.NewReader(data)).Run(Handlers{Key: func(*Entry) error { return nil }})
		if err != nil {
			b.Fatal(err)
		}
	}
}
