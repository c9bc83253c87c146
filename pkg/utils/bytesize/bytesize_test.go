package bytesize

import (
	"encoding/json"
	"errors"
	"math"
	"strings"
	"testing"

	"github.com/BurntSushi/toml"
)

func TestParse(t *testing.T) {
	tests := []struct {
		in   string
		want int64
	}{
		{"0", 0},
		{"1024", 1024},
		{"1b", 1},
		{"1B", 1},
		{"1k", 1024},
		{"1kb", 1024},
		{"1KB", 1024},
		{"1Kb", 1024},
		{"32mb", 32 << 20},
		{"32m", 32 << 20},
		{"128kb", 128 << 10},
		{"1024mb", 1 << 30},
		{"256mb", 256 << 20},
		{"2g", 2 << 30},
		{"2gb", 2 << 30},
		{"3t", 3 << 40},
		{"3tb", 3 << 40},
		{"4p", 4 << 50},
		{"4pb", 4 << 50},
		{"1.5k", 1536},
		{"0.5mb", 512 << 10},
		{".5kb", 512},
		{"1.", 1},
		{"1.0001k", 1024}, // truncated toward zero
		{"0.1", 0},
		{"  64 kb ", 64 << 10},
		{"+2k", 2048},
		{"-1", -1},
		{"-1.5k", -1536},
		{"9223372036854775807", math.MaxInt64},
		{"8191pb", 8191 << 50},
	}
	for _, tc := range tests {
		got, err := Parse(tc.in)
		if err != nil {
			t.Errorf("Parse(%q): unexpected error %v", tc.in, err)
			continue
		}
		if got != tc.want {
			t.Errorf("Parse(%q) = %d, want %d", tc.in, got, tc.want)
		}
	}
}

func TestParseErrors(t *testing.T) {
	for _, in := range []string{
		"", " ", "kb", "mb1", "1x", "1kbb", "1 k b", "1..5k", "1.2.3", "--1", "1e3",
		"0x10", "1/2", "abc", "9223372036854775808", "8192pb", "1e", "- 1", "1mib",
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
		in   int64
		want string
	}{
		{0, "0"},
		{1, "1"},
		{1023, "1023"},
		{1024, "1kb"},
		{1536, "1536"},
		{128 << 10, "128kb"},
		{32 << 20, "32mb"},
		{1 << 30, "1gb"},
		{(1 << 30) + (1 << 20), "1025mb"},
		{5 << 40, "5tb"},
		{7 << 50, "7pb"},
		{-2048, "-2kb"},
		{math.MaxInt64, "9223372036854775807"},
		{math.MinInt64, "-8192pb"},
	}
	for _, tc := range tests {
		if got := Format(tc.in); got != tc.want {
			t.Errorf("Format(%d) = %q, want %q", tc.in, got, tc.want)
		}
		back, err := Parse(tc.want)
		if err != nil || back != tc.in {
			t.Errorf("Parse(Format(%d)) = %d, %v", tc.in, back, err)
		}
	}
}

func TestTOML(t *testing.T) {
	var v struct {
		A Int64 `toml:"a"`
		B Int64 `toml:"b"`
		C Int64 `toml:"c"`
	}
	if _, err := toml.Decode("a = \"32mb\"\nb = 4096\nc = \"1.5kb\"\n", &v); err != nil {
		t.Fatal(err)
	}
	if v.A != 32<<20 || v.B != 4096 || v.C != 1536 {
		t.Fatalf("decoded %+v", v)
	}
	_, err := toml.Decode("a = \"32 zb\"\n", &v)
	if err == nil || !strings.Contains(err.Error(), "32 zb") {
		t.Fatalf("bad value: error %v should name the value", err)
	}
	var sb strings.Builder
	if err := toml.NewEncoder(&sb).Encode(v); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(sb.String(), `a = "32mb"`) || !strings.Contains(sb.String(), `b = "4kb"`) {
		t.Fatalf("encoded %q", sb.String())
	}
}

func TestJSON(t *testing.T) {
	in := struct {
		Size Int64 `json:"size"`
	}{Size: 128 << 10}
	data, err := json.Marshal(in)
	if err != nil {
		t.Fatal(err)
	}
	if string(data) != `{"size":"128kb"}` {
		t.Fatalf("got %s", data)
	}
	in.Size = 0
	if err := json.Unmarshal([]byte(`{"size":"64mb"}`), &in); err != nil || in.Size.Int64() != 64<<20 {
		t.Fatalf("unmarshal: %v %v", in.Size, err)
	}
	if in.Size.String() != "64mb" {
		t.Fatalf("String() = %q", in.Size.String())
	}
}

func TestMustParse(t *testing.T) {
	if MustParse("2kb") != 2048 {
		t.Fatal("MustParse(2kb)")
	}
	defer func() {
		if recover() == nil {
			t.Fatal("MustParse(bad) did not panic")
		}
	}()
	MustParse("bad")
}

func FuzzParse(f *testing.F) {
	for _, s := range []string{"32mb", "1.5k", "-1", "9223372036854775807", "8192pb", "", ".", "1..2", "+.5tb"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		n, err := Parse(s)
		if err != nil {
			if !errors.Is(err, ErrInvalid) {
				t.Fatalf("Parse(%q): error %v does not wrap ErrInvalid", s, err)
			}
			return
		}
		back, err := Parse(Format(n))
		if err != nil || back != n {
			t.Fatalf("Parse(%q) = %d, but Parse(Format) = %d, %v", s, n, back, err)
		}
	})
}
