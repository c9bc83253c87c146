package server

import (
	"strings"
	"testing"
	"unsafe"
)

// The point of Entry's layout is its size: 40 bytes (the 48-byte
// allocation class), and 64/80/96 with the buffers of entryWithBuf.
func TestEntryLayout(t *testing.T) {
	if n := unsafe.Sizeof(Entry{}); n != 40 {
		t.Errorf("Entry is %d bytes, want 40", n)
	}
	for _, c := range []struct {
		name string
		size uintptr
		want uintptr
	}{
		{"entryBuf24", unsafe.Sizeof(entryBuf24{}), 64},
		{"entryBuf40", unsafe.Sizeof(entryBuf40{}), 80},
		{"entryBuf56", unsafe.Sizeof(entryBuf56{}), 96},
	} {
		if c.size != c.want {
			t.Errorf("%s is %d bytes, want %d", c.name, c.size, c.want)
		}
	}
	for n := 0; n <= 56; n++ {
		if _, buf := entryWithBuf(n); len(buf) < n {
			t.Fatalf("entryWithBuf(%d) gives %d bytes", n, len(buf))
		}
	}
	if e, _ := entryWithBuf(57); e != nil {
		t.Fatal("entryWithBuf(57) should give nothing")
	}
}

func TestEntryValueKinds(t *testing.T) {
	e := NewStringEntry([]byte("hello"))
	if string(e.Str()) != "hello" || e.Obj() != nil || e.list() != nil {
		t.Fatalf("string entry: %q %v", e.Str(), e.Obj())
	}
	l := &listObj{}
	e.setObj(l)
	if e.typ != TypeList || e.list() != l || e.Obj().(*listObj) != l || e.Str() != nil || e.hash() != nil {
		t.Fatal("list entry does not give its list back")
	}
	e.SetStr(nil, encEmbstr)
	if e.typ != TypeString || e.Str() != nil || e.Obj() != nil {
		t.Fatalf("empty string entry: %q", e.Str())
	}
	e.SetStr([]byte{}, encEmbstr)
	if s := e.Str(); s == nil || len(s) != 0 {
		t.Fatalf("empty non-nil string: %#v", s)
	}
	b := make([]byte, 3, 10)
	copy(b, "abc")
	e.SetStr(b, encEmbstr)
	if s := e.Str(); string(s) != "abc" || cap(s) != 10 || &s[0] != &b[0] {
		t.Fatalf("string keeps its bytes and capacity: %q cap %d", s, cap(s))
	}
}

// Strings whose capacity does not fit 32 bits are kept boxed. Allocating
// 4 GB in a test is out of the question, so the threshold is lowered and
// the string commands that build, grow and read strings in place run with
// every value boxed and then inline; the replies must match.
func TestBoxedStrings(t *testing.T) {
	script := [][]string{
		{"SET", "a", "0123456789abcdef"},
		{"APPEND", "a", "ghij"},
		{"APPEND", "b", "xy"},
		{"APPEND", "b", strings.Repeat("z", 40)},
		{"SETRANGE", "c", "20", "tail"},
		{"SETRANGE", "a", "2", "XY"},
		{"GETRANGE", "a", "0", "-1"},
		{"GET", "c"},
		{"STRLEN", "b"},
		{"SET", "n", "123456789012"},
		{"INCR", "n"},
		{"INCRBY", "n", "-1000000000000"},
		{"INCRBYFLOAT", "n", "0.5"},
		{"SETBIT", "bits", "100", "1"},
		{"SETBIT", "bits", "3", "1"},
		{"BITCOUNT", "bits"},
		{"GETBIT", "bits", "100"},
		{"BITFIELD", "bf", "SET", "u8", "64", "200", "GET", "u8", "64"},
		{"PFADD", "hll", "a", "b", "c", "d", "e", "f", "g", "h"},
		{"PFCOUNT", "hll"},
		{"COPY", "a", "a2"},
		{"APPEND", "a2", "!"},
		{"MGET", "a", "a2", "b", "c", "n"},
		{"GETSET", "a", "short"},
		{"GETDEL", "b"},
		{"SET", "c", "over", "KEEPTTL"},
		{"LCS", "a", "a2"},
		{"STRLEN", "bits"},
		{"GET", "a"},
		{"GET", "c"},
	}
	run := func() []string {
		s := startServer(t)
		c := dial(t, s.Addr().String())
		out := make([]string, len(script))
		for i, cmd := range script {
			out[i] = c.do(cmd...).String()
		}
		s.Close() // its goroutines are done before the threshold changes
		return out
	}
	inline := run()
	saved := maxInlineStrCap
	maxInlineStrCap = 8
	t.Cleanup(func() { maxInlineStrCap = saved })
	boxed := run()
	for i := range script {
		if inline[i] != boxed[i] {
			t.Errorf("%q: inline %s, boxed %s", script[i], inline[i], boxed[i])
		}
	}
	if got := inline[6]; !strings.Contains(got, "01XY456789abcdefghij") {
		t.Errorf("GETRANGE after SETRANGE: %s", got)
	}

	// The values really were boxed.
	s := startServer(t)
	c := dial(t, s.Addr().String())
	c.expect("+OK", "SET", "k", strings.Repeat("v", 20))
	c.do("APPEND", "k", "w")
	s.mu.Lock()
	e := s.ks.dbs[0].LookupNoTouch([]byte("k"))
	boxedNow := e != nil && e.boxed
	s.mu.Unlock()
	if !boxedNow {
		t.Fatal("a 21-byte string is not boxed with the threshold at 8")
	}
}
