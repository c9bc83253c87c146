package proxy

import (
	"bytes"
	"net"
	"runtime"
	"strconv"
	"testing"
	"time"

	"github.com/codisgo/codis/pkg/resp"
)

// rawClient sends pre-encoded requests and reads whole replies without
// allocating, so allocation counts measure the proxy.
type rawClient struct {
	conn net.Conn
	buf  []byte
	r, w int
}

func newRawClient(tb testing.TB, addr string) *rawClient {
	conn, err := net.Dial("tcp", addr)
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() { conn.Close() })
	return &rawClient{conn: conn, buf: make([]byte, 1<<20)}
}

// roundTrip writes req and reads n replies.
func (c *rawClient) roundTrip(tb testing.TB, req []byte, n int) {
	if _, err := c.conn.Write(req); err != nil {
		tb.Fatal(err)
	}
	for i := 0; i < n; i++ {
		for {
			m, err := resp.ScanReply(c.buf[c.r:c.w])
			if err != nil {
				tb.Fatal(err)
			}
			if m > 0 {
				if c.buf[c.r] == '-' {
					tb.Fatalf("error reply %q", c.buf[c.r:c.r+m])
				}
				c.r += m
				break
			}
			if c.r == c.w {
				c.r, c.w = 0, 0
			} else if c.r > 0 {
				c.w = copy(c.buf, c.buf[c.r:c.w])
				c.r = 0
			}
			k, err := c.conn.Read(c.buf[c.w:])
			if err != nil {
				tb.Fatal(err)
			}
			c.w += k
		}
	}
}

func benchProxy(b *testing.B, depth int) {
	c := testConfig()
	c.BackendPingPeriod = 0
	p, _ := startCluster(b, 2, c)
	cl := newRawClient(b, p.ProxyAddr())
	var req []byte
	for i := 0; i < depth; i++ {
		if i%2 == 0 {
			req = resp.AppendCommandStrings(req, "SET", "bench-key", "some value of moderate size")
		} else {
			req = resp.AppendCommandStrings(req, "GET", "bench-key")
		}
	}
	for i := 0; i < 1000; i++ { // warm up pools and buffers
		cl.roundTrip(b, req, depth)
	}
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		cl.roundTrip(b, req, depth)
	}
	b.StopTimer()
	b.ReportMetric(float64(b.N*depth)/b.Elapsed().Seconds(), "ops/s")
}

// BenchmarkProxyRoundTrip measures one SET or GET through the proxy.
func BenchmarkProxyRoundTrip(b *testing.B) { benchProxy(b, 1) }

// BenchmarkProxyPipeline32 measures pipelines of 32 commands.
func BenchmarkProxyPipeline32(b *testing.B) { benchProxy(b, 32) }

// BenchmarkRequestPath measures parsing and classifying a GET without I/O.
func BenchmarkRequestPath(b *testing.B) {
	in := resp.AppendCommandStrings(nil, "get", "{user:1}name")
	p := resp.NewParser(nil)
	var nameBuf [maxOpNameLen]byte
	var r Request
	b.ReportAllocs()
	for i := 0; i < b.N; i++ {
		p.Feed(in)
		argv, err := p.Next()
		if err != nil || argv == nil {
			b.Fatal(err)
		}
		op, _, ok := lookupOp(argv[0], &nameBuf)
		if !ok || op.Name != "GET" {
			b.Fatal("lookup")
		}
		_ = SlotOf(hashKey(argv, op))
		r.setCommand(argv)
	}
}

// TestSteadyStateAllocs checks that simple GET/SET through the proxy
// allocate (almost) nothing per request once pools are warm.
func TestSteadyStateAllocs(t *testing.T) {
	if raceEnabled {
		t.Skip("allocation counts are meaningless under -race")
	}
	c := testConfig()
	c.BackendPingPeriod = 0
	p, _ := startCluster(t, 1, c)
	cl := newRawClient(t, p.ProxyAddr())
	req := resp.AppendCommandStrings(nil, "SET", "k", "v")
	req = resp.AppendCommandStrings(req, "GET", "k")
	for i := 0; i < 2000; i++ {
		cl.roundTrip(t, req, 2)
	}
	time.Sleep(50 * time.Millisecond)
	const n = 5000
	var before, after runtime.MemStats
	runtime.ReadMemStats(&before)
	for i := 0; i < n; i++ {
		cl.roundTrip(t, req, 2)
	}
	runtime.ReadMemStats(&after)
	per := float64(after.Mallocs-before.Mallocs) / (2 * n)
	t.Logf("GET/SET: %.3f allocations per request", per)
	if per > 0.05 {
		t.Fatalf("%.3f allocations per GET/SET in steady state", per)
	}

	// Split commands over several slots.
	args := []string{"MSET"}
	keys := []string{"MGET"}
	for i := 0; i < 10; i++ {
		k := "key:" + strconv.Itoa(i)
		args = append(args, k, "value")
		keys = append(keys, k)
	}
	req = resp.AppendCommandStrings(nil, args...)
	req = resp.AppendCommandStrings(req, keys...)
	for i := 0; i < 2000; i++ {
		cl.roundTrip(t, req, 2)
	}
	runtime.ReadMemStats(&before)
	for i := 0; i < n; i++ {
		cl.roundTrip(t, req, 2)
	}
	runtime.ReadMemStats(&after)
	per = float64(after.Mallocs-before.Mallocs) / (2 * n)
	t.Logf("MSET/MGET of 10 keys: %.3f allocations per request", per)
	if per > 0.05 {
		t.Fatalf("%.3f allocations per MSET/MGET in steady state", per)
	}
}

// FuzzRequestPath feeds arbitrary bytes, split at an arbitrary point,
// through the parser and the session's classifier and local handlers
// (no backends: dispatched commands meet offline slots). Every reply must
// be exactly one well-formed RESP reply.
func FuzzRequestPath(f *testing.F) {
	for _, s := range []string{
		"*2\r\n$3\r\nGET\r\n$1\r\na\r\n", "PING\r\n", "*3\r\n$4\r\nMGET\r\n$1\r\na\r\n$1\r\nb\r\n",
		"*1\r\n$12\r\nSLOTSMAPPING\r\n", "*2\r\n$6\r\nSELECT\r\n$2\r\n99\r\n", "*2\r\n$5\r\nHELLO\r\n$1\r\n3\r\n",
		"*3\r\n$9\r\nSLOTSSCAN\r\n$2\r\n-1\r\n$1\r\n0\r\n", "*1\r\n$4\r\nkeys\r\n", "*1\r\n$5\r\nK-EYS\r\n",
		"*2\r\n$4\r\nAUTH\r\n$1\r\nx\r\n", "*2\r\n$4\r\nINFO\r\n$6\r\nserver\r\n", "*1\r\n$0\r\n\r\n",
	} {
		f.Add([]byte(s), uint8(3))
	}
	c := testConfig()
	c.SessionAuth = "pw"
	p, err := New(c, nil)
	if err != nil {
		f.Fatal(err)
	}
	p.Online()
	f.Cleanup(func() { p.Close() })
	f.Fuzz(func(t *testing.T, data []byte, split uint8) {
		s := newSession(p, nil)
		parser := resp.NewParser(nil)
		cut := int(split) % (len(data) + 1)
		parser.Feed(data[:cut])
		fed := false
		for {
			argv, err := parser.Next()
			if err != nil {
				return
			}
			if argv == nil {
				if fed {
					return
				}
				parser.Feed(data[cut:])
				fed = true
				continue
			}
			r := s.handle(argv)
			if !r.isDone() {
				t.Fatalf("request %q dispatched without backends", argv)
			}
			if len(r.subs) != 0 && !r.reqFail {
				s.merge(r)
			}
			n, err := resp.ScanReply(r.reply)
			if err != nil || n != len(r.reply) || n == 0 {
				t.Fatalf("request %q: malformed reply %q (%d, %v)", argv, r.reply, n, err)
			}
			if bytes.HasPrefix(r.reply, []byte("-")) && !bytes.HasPrefix(r.reply, []byte("-ERR ")) &&
				!bytes.HasPrefix(r.reply, []byte("-NOAUTH ")) && !bytes.HasPrefix(r.reply, []byte("-NOPROTO ")) &&
				!bytes.HasPrefix(r.reply, []byte("-WRONGPASS ")) {
				t.Fatalf("request %q: unexpected error prefix %q", argv, r.reply)
			}
			p.reqs.put(r)
		}
	})
}
