package resp

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"strings"
	"testing"
)

// parseAll feeds data in the given chunks and returns every command (joined
// for comparison) and the final protocol error, if any.
func parseAll(chunks ...[]byte) ([]string, error) {
	p := NewParser(nil)
	var out []string
	for _, c := range chunks {
		p.Feed(c)
		for {
			argv, err := p.Next()
			if err != nil {
				return out, err
			}
			if argv == nil {
				break
			}
			parts := make([]string, len(argv))
			for i, a := range argv {
				parts[i] = fmt.Sprintf("%q", a)
			}
			out = append(out, strings.Join(parts, ","))
		}
	}
	return out, nil
}

func TestParse(t *testing.T) {
	big := strings.Repeat("x", MaxInlineSize+1)
	tests := []struct {
		name string
		in   string
		want []string
		err  string
	}{
		{"ping", "*1\r\n$4\r\nPING\r\n", []string{`"PING"`}, ""},
		{"set", "*3\r\n$3\r\nSET\r\n$1\r\nk\r\n$0\r\n\r\n", []string{`"SET","k",""`}, ""},
		{"pipeline", "*1\r\n$4\r\nPING\r\n*2\r\n$4\r\nECHO\r\n$2\r\nhi\r\n", []string{`"PING"`, `"ECHO","hi"`}, ""},
		{"empty multibulk", "*0\r\n*-1\r\n*1\r\n$1\r\na\r\n", []string{`"a"`}, ""},
		{"binary", "*1\r\n$4\r\na\r\nb\r\n", []string{`"a\r\nb"`}, ""},
		{"incomplete", "*2\r\n$3\r\nGET\r\n$1\r\n", nil, ""},
		{"inline", "PING\r\nset a 'b c'\nget \"\\x41\\n\"\r\n", []string{`"PING"`, `"set","a","b c"`, `"get","A\n"`}, ""},
		{"inline empty lines", "\r\n\n   \r\nPING\n", []string{`"PING"`}, ""},
		{"inline incomplete", "PING", nil, ""},
		{"inline mixed quotes", `a"b c" d` + "\n", []string{`"ab c","d"`}, ""},
		{"bad mbulk", "*x\r\n", nil, "Protocol error: invalid multibulk length"},
		{"mbulk leading zero", "*01\r\n", nil, "Protocol error: invalid multibulk length"},
		{"mbulk too long", fmt.Sprintf("*%d\r\n", MaxMultiBulkLen+1), nil, "Protocol error: invalid multibulk length"},
		{"bad bulk", "*1\r\n$x\r\n", nil, "Protocol error: invalid bulk length"},
		{"negative bulk", "*1\r\n$-1\r\n", nil, "Protocol error: invalid bulk length"},
		{"bulk too long", "*1\r\n$536870913\r\n", nil, "Protocol error: invalid bulk length"},
		{"expected dollar", "*1\r\n:1\r\n", nil, "Protocol error: expected '$', got ':'"},
		{"too big inline", big, nil, "Protocol error: too big inline request"},
		{"too big inline with newline", big + "\n", nil, "Protocol error: too big inline request"},
		{"too big mbulk count", "*" + big, nil, "Protocol error: too big mbulk count string"},
		{"too big bulk count", "*1\r\n$" + big, nil, "Protocol error: too big bulk count string"},
		{"unbalanced", "set a \"b\n", nil, "Protocol error: unbalanced quotes in request"},
		{"quote then char", "set a \"b\"c\n", nil, "Protocol error: unbalanced quotes in request"},
		{"single unbalanced", "set a 'b\n", nil, "Protocol error: unbalanced quotes in request"},
		{"commands before error", "PING\r\n*1\r\n$x\r\n", []string{`"PING"`}, "Protocol error: invalid bulk length"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got, err := parseAll([]byte(tc.in))
			if fmt.Sprint(got) != fmt.Sprint(tc.want) {
				t.Errorf("commands = %v, want %v", got, tc.want)
			}
			switch {
			case tc.err == "" && err != nil:
				t.Errorf("unexpected error %v", err)
			case tc.err != "" && (err == nil || err.Error() != tc.err):
				t.Errorf("error = %v, want %q", err, tc.err)
			}
			var pe *ProtocolError
			if err != nil && !errors.As(err, &pe) {
				t.Errorf("error %v is not a *ProtocolError", err)
			}
			// Byte-at-a-time feeding gives the same result.
			chunks := make([][]byte, len(tc.in))
			for i := range tc.in {
				chunks[i] = []byte{tc.in[i]}
			}
			got2, err2 := parseAll(chunks...)
			if fmt.Sprint(got2) != fmt.Sprint(got) || fmt.Sprint(err2) != fmt.Sprint(err) {
				t.Errorf("byte-wise: %v %v, whole: %v %v", got2, err2, got, err)
			}
		})
	}
}

func TestParseLimits(t *testing.T) {
	p := NewParser(nil)
	p.MaxBulkLen = 10
	p.Feed([]byte("*1\r\n$11\r\n"))
	if _, err := p.Next(); !errors.Is(err, ErrInvalidBulkLength) {
		t.Fatalf("err = %v", err)
	}
	// The error is sticky.
	if _, err := p.Next(); !errors.Is(err, ErrInvalidBulkLength) {
		t.Fatalf("second err = %v", err)
	}
	p = NewParser(nil)
	p.Unauthenticated = true
	p.Feed([]byte("*11\r\n"))
	if _, err := p.Next(); err == nil || err.Error() != "Protocol error: unauthenticated multibulk length" {
		t.Fatalf("err = %v", err)
	}
	p = NewParser(nil)
	p.Unauthenticated = true
	p.Feed([]byte("*1\r\n$16385\r\n"))
	if _, err := p.Next(); err == nil || err.Error() != "Protocol error: unauthenticated bulk length" {
		t.Fatalf("err = %v", err)
	}
}

type chunkReader struct {
	data []byte
	n    int
}

func (c *chunkReader) Read(b []byte) (int, error) {
	if len(c.data) == 0 {
		return 0, io.EOF
	}
	n := min(len(b), c.n, len(c.data))
	copy(b, c.data[:n])
	c.data = c.data[n:]
	return n, nil
}

func TestReadCommandLargeFrame(t *testing.T) {
	val := bytes.Repeat([]byte("v"), 3*DefaultBufSize+7)
	var in []byte
	for i := 0; i < 3; i++ {
		in = AppendCommand(in, []byte("SET"), []byte("key"), val)
		in = AppendCommandStrings(in, "GET", "key")
	}
	p := NewParser(&chunkReader{data: in, n: 1000})
	for i := 0; i < 3; i++ {
		argv, err := p.ReadCommand()
		if err != nil || len(argv) != 3 || !bytes.Equal(argv[2], val) {
			t.Fatalf("set %d: %v %d", i, err, len(argv))
		}
		argv, err = p.ReadCommand()
		if err != nil || len(argv) != 2 || string(argv[1]) != "key" {
			t.Fatalf("get %d: %v %q", i, err, argv)
		}
	}
	if _, err := p.ReadCommand(); err != io.EOF {
		t.Fatalf("end: %v", err)
	}
	if len(p.buf) > maxIdleBuf {
		// After an empty read the oversized buffer must have been dropped.
		t.Fatalf("buffer not shrunk: %d", len(p.buf))
	}
}

func TestSplitArgs(t *testing.T) {
	tests := []struct {
		in   string
		want string
		ok   bool
	}{
		{`a b  c`, `["a" "b" "c"]`, true},
		{`"a\tb" 'c\'d'`, `["a\tb" "c'd"]`, true},
		{`"\x4a\x4B\xzz"`, `["JKxzz"]`, true},
		{`""`, `[""]`, true},
		{`"a`, ``, false},
		{`'a'b`, ``, false},
		{"", `[]`, true},
		{"a\x00 b", `["a"]`, true},
	}
	for _, tc := range tests {
		argv, ok := SplitArgs([]byte(tc.in))
		if ok != tc.ok {
			t.Errorf("%q: ok=%v", tc.in, ok)
			continue
		}
		if !ok {
			continue
		}
		parts := make([]string, len(argv))
		for i, a := range argv {
			parts[i] = fmt.Sprintf("%q", a)
		}
		if got := "[" + strings.Join(parts, " ") + "]"; got != tc.want {
			t.Errorf("%q: got %s want %s", tc.in, got, tc.want)
		}
	}
}

func FuzzParser(f *testing.F) {
	seeds := []string{
		"*1\r\n$4\r\nPING\r\n",
		"*3\r\n$3\r\nSET\r\n$1\r\nk\r\n$5\r\nhello\r\n*0\r\n",
		"PING\r\nset a \"b\\x41\" 'c'\n",
		"*2\r\n$3\r\nGET\r\n:1\r\n",
		"*-5\r\n*1\r\n$-3\r\n",
		"set a \"b\n",
		"*1\r\n$1\r\n\r\n\r\n",
	}
	for _, s := range seeds {
		f.Add([]byte(s), uint16(3))
	}
	f.Fuzz(func(t *testing.T, data []byte, split uint16) {
		whole, werr := parseAll(data)
		at := int(split)
		if len(data) > 0 {
			at %= len(data) + 1
		} else {
			at = 0
		}
		parts, perr := parseAll(data[:at], data[at:])
		if fmt.Sprint(whole) != fmt.Sprint(parts) || fmt.Sprint(werr) != fmt.Sprint(perr) {
			t.Fatalf("split at %d: %v %v; whole: %v %v", at, parts, perr, whole, werr)
		}
	})
}

// loopReader replays the same data forever.
type loopReader struct {
	data []byte
	off  int
}

func (l *loopReader) Read(b []byte) (int, error) {
	n := copy(b, l.data[l.off:])
	l.off = (l.off + n) % len(l.data)
	return n, nil
}

func BenchmarkParse(b *testing.B) {
	var in []byte
	for i := 0; i < 64; i++ {
		in = AppendCommandStrings(in, "SET", fmt.Sprintf("key:%06d", i), strings.Repeat("v", 256))
		in = AppendCommandStrings(in, "GET", fmt.Sprintf("key:%06d", i))
	}
	p := NewParser(&loopReader{data: in})
	b.ReportAllocs()
	b.SetBytes(int64(len(in) / 128))
	for i := 0; i < b.N; i++ {
		if _, err := p.ReadCommand(); err != nil {
			b.Fatal(err)
		}
	}
}

func TestQueryBufferLimit(t *testing.T) {
	big := AppendCommand(nil, []byte("SET"), []byte("k"), bytes.Repeat([]byte("x"), 100000))
	p := NewParser(&chunkReader{data: big, n: 4096})
	p.MaxBuffer = 50000
	if _, err := p.ReadCommand(); !errors.Is(err, ErrQueryBufferLimit) {
		t.Fatalf("err = %v", err)
	}
	p = NewParser(&chunkReader{data: big, n: 4096})
	p.MaxBuffer = 200000
	if argv, err := p.ReadCommand(); err != nil || len(argv[2]) != 100000 {
		t.Fatalf("err = %v", err)
	}
}
