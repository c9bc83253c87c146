package server

import (
	"strconv"
	"testing"

	"github.com/codisgo/codis/pkg/resp"
)

// BenchmarkEvalSet measures a small write script, pipelined 16 deep.
func BenchmarkEvalSet(b *testing.B) {
	s := startServer(b)
	c := dial(b, s.Addr().String())
	const depth = 16
	script := "return redis.call('set',KEYS[1],ARGV[1])"
	var batch []byte
	for i := 0; i < depth; i++ {
		batch = resp.AppendCommandStrings(batch, "EVAL", script, "1", "key:"+strconv.Itoa(i), "val")
	}
	b.ResetTimer()
	for i := 0; i < b.N; i += depth {
		if _, err := c.conn.Write(batch); err != nil {
			b.Fatal(err)
		}
		for j := 0; j < depth; j++ {
			if r := c.read(); r.String() != "+OK" {
				b.Fatalf("reply %s", r.String())
			}
		}
	}
}
