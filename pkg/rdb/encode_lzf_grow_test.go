package rdb

import (
	"bytes"
	"testing"
)

// TestAppendLZFStringGrows: when the destination has no spare capacity,
// LZFCompress reallocates it; the C3 header must land in the new buffer
// (it used to be written into the old one, leaving zeros in the output).
func TestAppendLZFStringGrows(t *testing.T) {
	s := bytes.Repeat([]byte("elem-644-x"), 8)
	for _, prefix := range []int{0, 1, 7, 100} {
		dst := make([]byte, prefix, prefix) // len == cap: any append moves it
		out := appendString(dst, s, true)
		if out[prefix] != lenEnc|encLZF {
			t.Fatalf("prefix %d: no C3 header: % x", prefix, out[prefix:prefix+4])
		}
		d := decoder{buf: out[prefix:]}
		got, err := d.readString()
		if err != nil || !bytes.Equal(got, s) {
			t.Fatalf("prefix %d: decoded %q, %v", prefix, got, err)
		}
	}
}
