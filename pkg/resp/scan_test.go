package resp

import (
	"errors"
	"strings"
	"testing"
)

func TestScanReply(t *testing.T) {
	tests := []struct {
		in  string
		n   int
		err error
	}{
		{"+OK\r\n", 5, nil},
		{"+OK\r\n+NEXT\r\n", 5, nil},
		{"-ERR x\r\n", 8, nil},
		{":12\r\n", 5, nil},
		{"$3\r\nabc\r\n", 9, nil},
		{"$-1\r\n", 5, nil},
		{"*-1\r\n", 5, nil},
		{"*0\r\n", 4, nil},
		{"*2\r\n$1\r\na\r\n:1\r\n", 15, nil},
		{"*2\r\n*1\r\n:1\r\n$-1\r\n", 17, nil},
		{"%1\r\n+a\r\n:1\r\n", 12, nil},
		{"|1\r\n+a\r\n:1\r\n+OK\r\n", 17, nil},
		{"_\r\n", 3, nil},
		{"+OK", 0, nil},
		{"$3\r\nab", 0, nil},
		{"*2\r\n$1\r\na\r\n", 0, nil},
		{"", 0, nil},
		{"?x\r\n", 0, ErrScanBadType},
		{"+OK\n", 0, ErrScanBadLine},
		{"$3\r\nabcd\r\n", 0, ErrScanBadLine},
		{"$x\r\n", 0, ErrScanBadInt},
		{"$-2\r\n", 0, ErrScanBadInt},
		{"$536870913\r\n", 0, ErrScanBulkTooLong},
		{"*1048577\r\n", 0, ErrScanArrayTooLong},
	}
	for _, tt := range tests {
		n, err := ScanReply([]byte(tt.in))
		if n != tt.n || !errors.Is(err, tt.err) {
			t.Errorf("ScanReply(%q) = %d, %v; want %d, %v", tt.in, n, err, tt.n, tt.err)
		}
	}
}

func TestScanReplyDeep(t *testing.T) {
	in := strings.Repeat("*1\r\n", scanMaxDepth+1) + ":1\r\n"
	if _, err := ScanReply([]byte(in)); !errors.Is(err, ErrScanTooDeep) {
		t.Fatalf("deep nesting: err = %v", err)
	}
	in = strings.Repeat("*1\r\n", 100) + ":1\r\n"
	if n, err := ScanReply([]byte(in)); err != nil || n != len(in) {
		t.Fatalf("depth 100: %d, %v", n, err)
	}
}

// FuzzScanReply checks that every prefix of a complete reply is reported
// as incomplete or as the same error, and that the scanner never panics.
func FuzzScanReply(f *testing.F) {
	for _, s := range []string{"+OK\r\n", "*2\r\n$1\r\na\r\n:1\r\n", "%1\r\n+a\r\n:1\r\n", "$-1\r\n"} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		n, err := ScanReply(b)
		if err != nil || n == 0 {
			return
		}
		if n > len(b) {
			t.Fatalf("n %d > len %d", n, len(b))
		}
		for i := 0; i < n; i++ {
			m, err := ScanReply(b[:i])
			if err == nil && m != 0 {
				t.Fatalf("prefix %d of complete reply %q scanned as complete (%d)", i, b[:n], m)
			}
		}
	})
}
