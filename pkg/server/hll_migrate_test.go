package server

import (
	"fmt"
	"testing"
)

// TestHLLMigrate moves sparse and dense HLLs between two of our servers
// with SLOTSMGRTONE / SLOTSMGRTTAGONE: the values arrive byte for byte and
// keep counting like the originals.
func TestHLLMigrate(t *testing.T) {
	src, dst := startServer(t), startServer(t)
	c, d := dial(t, src.Addr().String()), dial(t, dst.Addr().String())
	h, p := hostPort(dst)
	args := []string{"PFADD", "{h}dense"}
	for i := 0; i < 3000; i++ {
		args = append(args, fmt.Sprint("e", i))
	}
	c.expect("1", args...)
	c.expect("1", "PFADD", "{h}sparse", "a", "b", "c")
	c.expect("1", "PFADD", "plain", "x")
	c.expect("+dense", "PFDEBUG", "ENCODING", "{h}dense")
	c.expect("+sparse", "PFDEBUG", "ENCODING", "{h}sparse")
	c.do("PFCOUNT", "{h}dense") // caches the cardinality in the value
	want := map[string]string{}
	for _, k := range []string{"{h}dense", "{h}sparse", "plain"} {
		want[k] = c.do("GET", k).String()
	}
	count := c.do("PFCOUNT", "{h}dense", "{h}sparse").String()
	c.expect("1", "SLOTSMGRTONE", h, p, "1000", "plain")
	c.expect("2", "SLOTSMGRTTAGONE", h, p, "1000", "{h}dense")
	for k, v := range want {
		if got := d.do("GET", k).String(); got != v {
			t.Errorf("%s changed by migration", k)
		}
	}
	d.expect(count, "PFCOUNT", "{h}dense", "{h}sparse")
	d.expect("+OK", "PFMERGE", "{h}sparse", "{h}dense")
	d.expect("+dense", "PFDEBUG", "ENCODING", "{h}sparse")
	d.expect(count, "PFCOUNT", "{h}sparse")
	d.expect("1", "PFADD", "plain", "y")
	d.expect("2", "PFCOUNT", "plain")
}
