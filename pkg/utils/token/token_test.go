package token

import (
	"crypto/md5"
	"encoding/hex"
	"net"
	"regexp"
	"slices"
	"testing"
)

var hex32 = regexp.MustCompile(`^[0-9a-f]{32}$`)

func TestFromMACs(t *testing.T) {
	md5hex := func(s string) string {
		sum := md5.Sum([]byte(s))
		return hex.EncodeToString(sum[:])
	}
	tests := []struct {
		name string
		macs []string
		segs []string
		want string
	}{
		{
			name: "spec verified proxy token",
			macs: []string{"02:fc:00:00:00:01", "2e:1f:80:c9:ea:1b", "f2:d5:46:b6:24:d6"},
			segs: []string{"spec-ctl", "127.0.0.1:31019", "127.0.0.1:31081"},
			want: "594432209cf111ae914f721e18ccf1af",
		},
		{
			name: "order of MACs does not matter",
			macs: []string{"f2:d5:46:b6:24:d6", "02:fc:00:00:00:01", "2e:1f:80:c9:ea:1b"},
			segs: []string{"spec-ctl", "127.0.0.1:31019", "127.0.0.1:31081"},
			want: "594432209cf111ae914f721e18ccf1af",
		},
		{
			name: "no MACs, no segments",
			want: md5hex("Codis-Token@[]"),
		},
		{
			name: "dashboard shape",
			macs: []string{"02:42:ac:11:00:02"},
			segs: []string{"codis-demo", "[::]:18080"},
			want: md5hex("Codis-Token@[02:42:ac:11:00:02]-{codis-demo}-{[::]:18080}"),
		},
		{
			name: "empty segment is kept",
			macs: []string{"b", "a"},
			segs: []string{""},
			want: md5hex("Codis-Token@[a b]-{}"),
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			before := slices.Clone(tc.macs)
			if got := FromMACs(tc.macs, tc.segs...); got != tc.want {
				t.Fatalf("FromMACs = %s, want %s", got, tc.want)
			}
			if !slices.Equal(before, tc.macs) {
				t.Fatalf("FromMACs modified its input: %v", tc.macs)
			}
		})
	}
	if FromMACs([]string{"a"}, "x", "y") == FromMACs([]string{"a"}, "y", "x") {
		t.Fatal("segment order must matter")
	}
}

func TestNewXAuth(t *testing.T) {
	tests := []struct {
		segs []string
		want string
	}{
		{[]string{"spec-ctl"}, "9d26b871d75a4d3c733710e8e1e4d4f6"},
		{[]string{"spec-ctl", "", "594432209cf111ae914f721e18ccf1af"}, "3ce939afa0b4f0b80637e3c45edb063c"},
	}
	for _, tc := range tests {
		if got := NewXAuth(tc.segs...); got != tc.want {
			t.Errorf("NewXAuth(%q) = %s, want %s", tc.segs, got, tc.want)
		}
	}
	if NewXAuth("spec-ctl", "secret", "594432209cf111ae914f721e18ccf1af") == "3ce939afa0b4f0b80637e3c45edb063c" {
		t.Fatal("product_auth must change the proxy xauth")
	}
	if !hex32.MatchString(NewXAuth()) {
		t.Fatalf("NewXAuth() = %q", NewXAuth())
	}
}

func TestNewTokenUsesHostMACs(t *testing.T) {
	macs, err := HardwareAddrs()
	if err != nil {
		t.Fatal(err)
	}
	ifs, err := net.Interfaces()
	if err != nil {
		t.Fatal(err)
	}
	var want []string
	for _, ifc := range ifs {
		if len(ifc.HardwareAddr) != 0 {
			want = append(want, ifc.HardwareAddr.String())
		}
	}
	if !slices.Equal(macs, want) {
		t.Fatalf("HardwareAddrs = %v, want %v", macs, want)
	}
	for _, m := range macs {
		if m == "" {
			t.Fatal("empty MAC returned")
		}
	}
	tok := NewToken("codis-demo", "127.0.0.1:19000", "127.0.0.1:11080")
	if !hex32.MatchString(tok) {
		t.Fatalf("NewToken = %q", tok)
	}
	if tok != FromMACs(macs, "codis-demo", "127.0.0.1:19000", "127.0.0.1:11080") {
		t.Fatal("NewToken differs from FromMACs over the host MACs")
	}
	if tok == NewToken("codis-demo", "127.0.0.1:19001", "127.0.0.1:11080") {
		t.Fatal("different addresses must give different tokens")
	}
}
