package rdb

import (
	"bytes"
	"encoding/binary"
	"errors"
	"math/rand"
	"testing"
)

type failWriter struct{ after int }

func (f *failWriter) Write(p []byte) (int, error) {
	if f.after <= 0 {
		return 0, errors.New("disk full")
	}
	f.after--
	return len(p), nil
}

func TestWriterErrors(t *testing.T) {
	if err := NewWriter(&bytes.Buffer{}, &WriterOptions{Version: 99}).Close(); err == nil {
		t.Fatal("version 99 accepted")
	}
	if err := NewWriter(&bytes.Buffer{}, nil).SelectDB(-1); err == nil {
		t.Fatal("negative db accepted")
	}
	// Write errors are sticky and reported by every later call.
	w := NewWriter(&failWriter{}, nil)
	big := &Object{Kind: KindString, Str: make([]byte, writerFlushAt)}
	rand.New(rand.NewSource(7)).Read(big.Str) // incompressible
	if err := w.WriteKey([]byte("k"), big, 0); err == nil {
		t.Fatal("write error not reported")
	}
	if err := w.SelectDB(1); err == nil {
		t.Fatal("error not sticky")
	}
	if err := w.Close(); err == nil {
		t.Fatal("Close after failure succeeded")
	}
	// A bad object is rejected without poisoning the writer.
	var buf bytes.Buffer
	w = NewWriter(&buf, &WriterOptions{NoChecksum: true})
	if err := w.WriteKey([]byte("k"), &Object{}, 5); !errors.Is(err, ErrBadFormat) {
		t.Fatal(err)
	}
	if err := w.WriteKey([]byte("k"), &Object{Kind: KindString, Str: []byte("v")}, 0); err != nil {
		t.Fatal(err)
	}
	if err := w.Close(); err != nil || w.Close() != nil {
		t.Fatal(err)
	}
	b := buf.Bytes()
	if binary.LittleEndian.Uint64(b[len(b)-8:]) != 0 || !bytes.Equal(b, []byte("REDIS0007\x00\x01k\x01v\xff\x00\x00\x00\x00\x00\x00\x00\x00")) {
		t.Fatalf("no-checksum file % x", b)
	}
	n := 0
	if err := NewReader(bytes.NewReader(b)).Run(Handlers{Key: func(*Entry) error { n++; return nil }}); err != nil || n != 1 {
		t.Fatal(err, n)
	}
}

func TestLargeValues(t *testing.T) {
	r := rand.New(rand.NewSource(6))
	rnd := make([]byte, 300000)
	r.Read(rnd)
	text := bytes.Repeat([]byte("0123456789abcdef"), 20000)
	objs := []Object{
		{Kind: KindString, Str: rnd},  // 32-bit length, incompressible
		{Kind: KindString, Str: text}, // large LZF
		{Kind: KindList, List: [][]byte{rnd, text, []byte("x")}},
	}
	var buf bytes.Buffer
	w := NewWriter(&buf, nil)
	for i := range objs {
		p, err := EncodeDump(&objs[i], DumpVersion)
		if err != nil {
			t.Fatal(err)
		}
		got, err := DecodeDump(p, MaxVersionCodis)
		if err != nil || !objEqual(got, objs[i]) {
			t.Fatalf("%d: %v", i, err)
		}
		w.WriteKey([]byte{byte('a' + i)}, &objs[i], 0)
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	i := 0
	err := NewReader(bytes.NewReader(buf.Bytes())).Run(Handlers{Key: func(e *Entry) error {
		if !objEqual(e.Value, objs[i]) {
			t.Fatalf("key %s differs", e.Key)
		}
		i++
		return nil
	}})
	if err != nil || i != len(objs) {
		t.Fatal(err, i)
	}
}
