package rdb

import (
	"bytes"
	"encoding/binary"
	"errors"
	"os"
	"path/filepath"
	"slices"
	"testing"
	"testing/iotest"
	"time"
)

// rdbBuilder hand-assembles RDB files.
type rdbBuilder struct{ b []byte }

func (r *rdbBuilder) add(parts ...any) *rdbBuilder {
	for _, p := range parts {
		switch v := p.(type) {
		case int:
			r.b = append(r.b, byte(v))
		case string:
			r.b = append(appendLen(r.b, uint64(len(v))), v...)
		case []byte:
			r.b = append(r.b, v...)
		}
	}
	return r
}

func (r *rdbBuilder) done(withCRC bool) []byte {
	r.b = append(r.b, opEOF)
	if withCRC {
		r.b = binary.LittleEndian.AppendUint64(r.b, CRC64(r.b))
	}
	return r.b
}

func TestReaderOpcodes(t *testing.T) {
	rb := &rdbBuilder{b: []byte("REDIS0009")}
	rb.add(opAux, "redis-ver", "3.2.11", opAux, "ctime", []byte{0xc2, 1, 2, 3, 4})
	rb.add(opSelectDB, 2, opResizeDB, 3, 1)
	rb.add(opExpireTime, binary.LittleEndian.AppendUint32(nil, 1000), opFreq, 9, TypeString, "k1", "v1")
	rb.add(opIdle, []byte{0x40, 0xff}, TypeString, "k2", "v2")
	rb.add(opFunction2, "#!lua name=x\n", TypeList, "empty", 0) // empty list: skipped
	rb.add(opSelectDB, 0x40, 0x80)                              // db 128, 14-bit length
	rb.add(opExpireTimeMs, binary.LittleEndian.AppendUint64(nil, 1700000000123), TypeSet, "s", 1, "m")
	data := rb.done(true)

	var keys []Entry
	aux := map[string]string{}
	var resized [3]uint64
	err := NewReader(bytes.NewReader(data)).Run(Handlers{
		Key:      func(e *Entry) error { keys = append(keys, *e); return nil },
		Aux:      func(k, v []byte) error { aux[string(k)] = string(v); return nil },
		ResizeDB: func(db int, n, e uint64) error { resized = [3]uint64{uint64(db), n, e}; return nil },
	})
	if err != nil {
		t.Fatal(err)
	}
	if aux["redis-ver"] != "3.2.11" || aux["ctime"] != "67305985" || resized != [3]uint64{2, 3, 1} {
		t.Fatalf("aux %v resize %v", aux, resized)
	}
	if len(keys) != 3 {
		t.Fatalf("keys %+v", keys)
	}
	k1, k2, s := keys[0], keys[1], keys[2]
	if k1.DB != 2 || string(k1.Key) != "k1" || k1.ExpireAt != 1000000 || k1.Freq != 9 || k1.Idle != -1 {
		t.Fatalf("k1 %+v", k1)
	}
	if k2.DB != 2 || k2.ExpireAt != 0 || k2.Freq != -1 || k2.Idle != 255 || string(k2.Value.Str) != "v2" {
		t.Fatalf("k2 %+v", k2)
	}
	if s.DB != 128 || s.ExpireAt != 1700000000123 || s.Value.Kind != KindSet || string(s.Value.Set[0]) != "m" {
		t.Fatalf("s %+v", s)
	}

	// Old files (version < 5) have no checksum.
	old := (&rdbBuilder{b: []byte("REDIS0004")}).add(TypeString, "a", "b").done(false)
	n := 0
	if err := NewReader(bytes.NewReader(old)).Run(Handlers{Key: func(*Entry) error { n++; return nil }}); err != nil || n != 1 {
		t.Fatalf("v4: %v %d", err, n)
	}

	nop := Handlers{Key: func(*Entry) error { return nil }}
	for name, c := range map[string][]byte{
		"signature":  []byte("RADIS0009\xff"),
		"version":    []byte("REDIS0012\xff"),
		"version0":   []byte("REDIS0000\xff"),
		"short":      []byte("REDIS"),
		"module-aux": (&rdbBuilder{b: []byte("REDIS0009")}).add(opModuleAux, 0).done(true),
		"opcode":     (&rdbBuilder{b: []byte("REDIS0009")}).add(0xf4, 0).done(true),
		"stream":     (&rdbBuilder{b: []byte("REDIS0010")}).add(TypeStreamListpack2, "s", 0).done(true),
		"no-eof":     []byte("REDIS0009"),
		"no-crc":     append([]byte("REDIS0009"), opEOF, 1, 2),
	} {
		if err := NewReader(bytes.NewReader(c)).Run(nop); err == nil {
			t.Errorf("%s: accepted", name)
		}
	}
	err = NewReader(bytes.NewReader((&rdbBuilder{b: []byte("REDIS0010")}).add(TypeStreamListpack2, "s", 0).done(true))).Run(nop)
	if !errors.Is(err, ErrUnsupportedType) {
		t.Fatalf("stream: %v", err)
	}
	if err := NewReader(bytes.NewReader(data)).Run(Handlers{}); err == nil {
		t.Fatal("nil Key handler accepted")
	}
}

// TestReaderRedisLFU reads the FREQ records Redis writes under an LFU
// policy.
func TestReaderRedisLFU(t *testing.T) {
	p, c := startRedis(t, "", "--maxmemory-policy", "allkeys-lfu")
	for i := 0; i < 10; i++ {
		mustDo(t, c, "SET", "hot", "x")
		mustDo(t, c, "GET", "hot")
	}
	mustDo(t, c, "SAVE")
	f, err := os.Open(filepath.Join(p.dir, "dump.rdb"))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	var got *Entry
	if err := NewReader(f).Run(Handlers{Key: func(e *Entry) error { c := *e; got = &c; return nil }}); err != nil {
		t.Fatal(err)
	}
	if got == nil || string(got.Key) != "hot" || got.Freq < 1 {
		t.Fatalf("entry %+v", got)
	}
}

func FuzzReader(f *testing.F) {
	var buf bytes.Buffer
	w := NewWriter(&buf, nil)
	w.WriteStandardAux("7.0.0", time.Unix(0, 0), 1)
	for _, fx := range fixtures() {
		if fx.obj.Len() <= 20 {
			w.WriteKey([]byte(fx.name), &fx.obj, 1)
		}
	}
	w.Close()
	f.Add(buf.Bytes())
	for _, c := range redis7Payloads {
		rb := &rdbBuilder{b: []byte("REDIS0010")}
		rb.add(opSelectDB, 1, []byte(c.payload[:1]), "key", []byte(c.payload[1:len(c.payload)-10]))
		f.Add(rb.done(true))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		if len(data) > 1<<14 {
			return
		}
		var whole, bytewise []string
		collect := func(out *[]string) Handlers {
			return Handlers{Key: func(e *Entry) error {
				*out = append(*out, describe(e.Value))
				return nil
			}}
		}
		err1 := NewReader(bytes.NewReader(data)).Run(collect(&whole))
		// One byte per Read exercises every buffer refill boundary.
		err2 := NewReader(iotest.OneByteReader(bytes.NewReader(data))).Run(collect(&bytewise))
		if (err1 == nil) != (err2 == nil) || !slices.Equal(whole, bytewise) {
			t.Fatalf("chunking changed the result: %v / %v", err1, err2)
		}
	})
}
