package resp

import (
	"bytes"
	"math"
	"strconv"
	"testing"
)

func TestWriters(t *testing.T) {
	var b []byte
	b = AppendSimple(b, "OK")
	b = AppendError(b, "ERR bad\r\nthing")
	b = AppendInt(b, -42)
	b = AppendBulk(b, []byte("a\r\nb"))
	b = AppendBulkString(b, "")
	b = AppendNull(b)
	b = AppendNullArray(b)
	b = AppendArrayLen(b, 2)
	b = AppendBulkInt(b, 7)
	b = AppendOK(b)
	want := "+OK\r\n-ERR bad  thing\r\n:-42\r\n$4\r\na\r\nb\r\n$0\r\n\r\n$-1\r\n*-1\r\n*2\r\n$1\r\n7\r\n+OK\r\n"
	if string(b) != want {
		t.Fatalf("got %q\nwant %q", b, want)
	}
	rr := NewReplyReader(bytes.NewReader(b))
	var got []string
	for i := 0; i < 8; i++ {
		r, err := rr.ReadReply()
		if err != nil {
			t.Fatal(err)
		}
		got = append(got, r.String())
	}
	wantR := []string{"+OK", `ERR:"ERR bad  thing"`, "-42", `"a\r\nb"`, `""`, "(nil)", "(nil-array)", `["7" +OK]`}
	for i := range wantR {
		if got[i] != wantR[i] {
			t.Errorf("reply %d = %s, want %s", i, got[i], wantR[i])
		}
	}
}

func TestReplyReaderRESP3(t *testing.T) {
	in := "%1\r\n+a\r\n#t\r\n_\r\n,1.5\r\n~1\r\n:1\r\n|1\r\n+k\r\n+v\r\n:5\r\n"
	rr := NewReplyReader(bytes.NewReader([]byte(in)))
	want := []string{"[+a 1]", "(nil)", `"1.5"`, "[1]", "5"}
	for _, w := range want {
		r, err := rr.ReadReply()
		if err != nil {
			t.Fatal(err)
		}
		if r.String() != w {
			t.Errorf("got %s want %s", r.String(), w)
		}
	}
	for _, bad := range []string{"?x\r\n", ":x\r\n", "$5\r\nab\r\n", "$2\r\nabcd", "+ok\n"} {
		if _, err := NewReplyReader(bytes.NewReader([]byte(bad))).ReadReply(); err == nil {
			t.Errorf("%q: no error", bad)
		}
	}
}

func TestCommandRoundTrip(t *testing.T) {
	b := AppendCommandStrings(nil, "SET", "k", "v")
	p := NewParser(nil)
	p.Feed(b)
	argv, err := p.Next()
	if err != nil || len(argv) != 3 || string(argv[2]) != "v" {
		t.Fatalf("%q %v", argv, err)
	}
}

// TestAppendDecimal checks the short path against strconv on both sides of
// every boundary.
func TestAppendDecimal(t *testing.T) {
	check := func(n int64) {
		if got, want := string(appendDecimal([]byte("x"), n)), "x"+strconv.FormatInt(n, 10); got != want {
			t.Fatalf("appendDecimal(%d) = %q, want %q", n, got, want)
		}
	}
	for n := int64(-20); n <= 20000; n++ {
		check(n)
	}
	for _, n := range []int64{math.MinInt64, math.MaxInt64, 1 << 32, -1 << 40} {
		check(n)
	}
}

func BenchmarkAppendBulk(b *testing.B) {
	val := make([]byte, 256)
	buf := make([]byte, 0, 4096)
	for i := 0; i < b.N; i++ {
		buf = AppendBulk(buf[:0], val)
	}
}
