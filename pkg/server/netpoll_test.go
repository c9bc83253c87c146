package server

import (
	"runtime"
	"testing"

	"github.com/codisgo/codis/pkg/utils/netpoll"
)

// Accepted connections are served by pkg/utils/netpoll on Linux (one read
// per request, doc/benchmarks.md), unless CODIS_NETPOLL=go.
func TestClientConnUsesNetpoll(t *testing.T) {
	if runtime.GOOS != "linux" || netpoll.Disabled {
		t.Skip("netpoll is Linux only and disabled by CODIS_NETPOLL=go")
	}
	s := startServer(t)
	c := dial(t, s.Addr().String())
	c.do("PING")
	s.clientsMu.Lock()
	defer s.clientsMu.Unlock()
	if len(s.clients) != 1 {
		t.Fatalf("%d clients", len(s.clients))
	}
	for _, cl := range s.clients {
		if _, ok := cl.conn.(*netpoll.Conn); !ok {
			t.Fatalf("client conn is %T", cl.conn)
		}
	}
}
