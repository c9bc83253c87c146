package server

import (
	"fmt"
	"strings"
	"testing"

	"github.com/codisgo/codis/pkg/resp"
)

// BenchmarkExecGetSet measures command dispatch and execution of SET and
// GET on existing keys without the network (the steady-state hot path).
func BenchmarkExecGetSet(b *testing.B) {
	s := New(nil, nil)
	c := &client{s: s, db: s.ks.dbs[0], authed: true, p: resp.NewParser(nil)}
	val := []byte(strings.Repeat("v", 256))
	const nkeys = 1024
	keys := make([][]byte, nkeys)
	for i := range keys {
		keys[i] = []byte(fmt.Sprintf("key:%06d", i))
	}
	set, get := []byte("SET"), []byte("get")
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, k := range keys {
		c.process([][]byte{set, k, val})
	}
	argvS := [][]byte{set, nil, val}
	argvG := [][]byte{get, nil}
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		k := keys[i%nkeys]
		argvS[1] = k
		c.process(argvS)
		argvG[1] = k
		c.process(argvG)
		c.out = c.out[:0]
	}
}

// BenchmarkPipelineGetSet measures the whole path over a loopback socket
// with 16 pipelined requests per round trip.
func BenchmarkPipelineGetSet(b *testing.B) {
	s := startServer(b)
	c := dial(b, s.Addr().String())
	val := strings.Repeat("v", 256)
	var batch []byte
	for i := 0; i < 8; i++ {
		batch = resp.AppendCommandStrings(batch, "SET", fmt.Sprintf("key:%d", i), val)
		batch = resp.AppendCommandStrings(batch, "GET", fmt.Sprintf("key:%d", i))
	}
	b.ReportAllocs()
	b.SetBytes(int64(len(batch)))
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		if _, err := c.conn.Write(batch); err != nil {
			b.Fatal(err)
		}
		for j := 0; j < 16; j++ {
			if _, err := c.rr.ReadReply(); err != nil {
				b.Fatal(err)
			}
		}
	}
}

// BenchmarkListPushFront measures LPUSH-style growth of one long list
// (what redis-benchmark's LPUSH test does) and its LPOP-style drain.
func BenchmarkListPushFront(b *testing.B) {
	v := []byte(strings.Repeat("v", 256))
	b.ReportAllocs()
	for i := 0; i < b.N; i++ {
		l := newListObj()
		for j := 0; j < 200000; j++ {
			l.pushFront(v)
		}
		for l.count > 0 {
			l.popFront()
		}
	}
}
