package timesize

import (
	"encoding/json"
	"errors"
	"math"
	"strings"
	"testing"
	"time"

	"github.com/BurntSushi/toml"
)

func TestParse(t *testing.T) {
	tests := []struct {
		in   string
		want time.Duration
	}{
		{"0", 0},
		{"30", 30 * time.Second},
		{"0.5", 500 * time.Millisecond},
		{".25", 250 * time.Millisecond},
		{"1.", time.Second},
		{"+2", 2 * time.Second},
		{"-3", -3 * time.Second},
		{"30s", 30 * time.Second},
		{"30S", 30 * time.Second},
		{"5m", 5 * time.Minute},
		{"30m", 30 * time.Minute},
		{"75s", 75 * time.Second},
		{"2h", 2 * time.Hour},
		{"1h30m", 90 * time.Minute},
		{"1.5h", 90 * time.Minute},
		{"100ms", 100 * time.Millisecond},
		{"100MS", 100 * time.Millisecond},
		{"10us", 10 * time.Microsecond},
		{"10µs", 10 * time.Microsecond},
		{"7ns", 7},
		{" 20s ", 20 * time.Second},
		{"0.000000001", 1},
		{"0.0000000001", 0},
		{"9223372036", 9223372036 * time.Second},
	}
	for _, tc := range tests {
		got, err := Parse(tc.in)
		if err != nil {
			t.Errorf("Parse(%q): unexpected error %v", tc.in, err)
			continue
		}
		if got != tc.want {
			t.Errorf("Parse(%q) = %v, want %v", tc.in, got, tc.want)
		}
	}
}

func TestParseErrors(t *testing.T) {
	for _, in := range []string{
		"", "  ", "s", "30x", "30 s", "1d", "1.2.3", "--1", "1e3", "abc", "9223372037", "1mb",
		"3000000h",
	} {
		_, err := Parse(in)
		if err == nil {
			t.Errorf("Parse(%q): expected an error", in)
			continue
		}
		if !errors.Is(err, ErrInvalid) {
			t.Errorf("Parse(%q): error %v does not wrap ErrInvalid", in, err)
		}
		if !strings.Contains(err.Error(), "\""+in+"\"") {
			t.Errorf("Parse(%q): error %q does not name the value", in, err)
		}
	}
}

func TestFormat(t *testing.T) {
	tests := []struct {
		in   time.Duration
		want string
	}{
		{0, "0"},
		{30 * time.Second, "30s"},
		{5 * time.Minute, "5m"},
		{30 * time.Minute, "30m"},
		{75 * time.Second, "75s"},
		{2 * time.Hour, "2h"},
		{90 * time.Minute, "90m"},
		{1500 * time.Millisecond, "1500ms"},
		{10 * time.Microsecond, "10us"},
		{7, "7ns"},
		{-20 * time.Second, "-20s"},
		{math.MaxInt64, "9223372036854775807ns"},
	}
	for _, tc := range tests {
		if got := Format(tc.in); got != tc.want {
			t.Errorf("Format(%v) = %q, want %q", tc.in, got, tc.want)
		}
		back, err := Parse(tc.want)
		if err != nil || back != tc.in {
			t.Errorf("Parse(Format(%v)) = %v, %v", tc.in, back, err)
		}
	}
}

func TestTOML(t *testing.T) {
	var v struct {
		A Duration `toml:"a"`
		B Duration `toml:"b"`
		C Duration `toml:"c"`
	}
	if _, err := toml.Decode("a = \"5m\"\nb = 20\nc = 1.5\n", &v); err != nil {
		t.Fatal(err)
	}
	if v.A.Duration() != 5*time.Minute || v.B.Duration() != 20*time.Second || v.C.Duration() != 1500*time.Millisecond {
		t.Fatalf("decoded %+v", v)
	}
	_, err := toml.Decode("a = \"10 days\"\n", &v)
	if err == nil || !strings.Contains(err.Error(), "10 days") {
		t.Fatalf("bad value: error %v should name the value", err)
	}
	var sb strings.Builder
	if err := toml.NewEncoder(&sb).Encode(v); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(sb.String(), `a = "5m"`) || !strings.Contains(sb.String(), `c = "1500ms"`) {
		t.Fatalf("encoded %q", sb.String())
	}
}

func TestJSON(t *testing.T) {
	in := struct {
		D Duration `json:"d"`
	}{D: Duration(30 * time.Minute)}
	data, err := json.Marshal(in)
	if err != nil {
		t.Fatal(err)
	}
	if string(data) != `{"d":"30m"}` {
		t.Fatalf("got %s", data)
	}
	if err := json.Unmarshal([]byte(`{"d":"10s"}`), &in); err != nil || in.D.Duration() != 10*time.Second {
		t.Fatalf("unmarshal: %v %v", in.D, err)
	}
	if in.D.String() != "10s" {
		t.Fatalf("String() = %q", in.D.String())
	}
}

func TestMustParse(t *testing.T) {
	if MustParse("2") != 2*time.Second {
		t.Fatal("MustParse(2)")
	}
	defer func() {
		if recover() == nil {
			t.Fatal("MustParse(bad) did not panic")
		}
	}()
	MustParse("bad")
}

func FuzzParse(f *testing.F) {
	for _, s := range []string{"30s", "1h30m", "0.5", "-3", "9223372036", "", ".", "1..2", "10µs", "2562047h"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		d, err := Parse(s)
		if err != nil {
			if !errors.Is(err, ErrInvalid) {
				t.Fatalf("Parse(%q): error %v does not wrap ErrInvalid", s, err)
			}
			return
		}
		back, err := Parse(Format(d))
		if err != nil || back != d {
			t.Fatalf("Parse(%q) = %v, but Parse(Format) = %v, %v", s, d, back, err)
		}
	})
}
