// Package netpoll serves accepted sockets from an epoll instance of its own
// instead of Go's runtime poller.
//
// Why: a net.Conn Read always tries the read(2) first and parks only when
// it returns EAGAIN. A request/response client (redis-benchmark -P 1, most
// application clients) sends its next request only after it has the
// previous reply, so every request costs a read that finds nothing before
// the one that finds it. Conn (Linux) learns readiness from edge-triggered
// epoll events instead: a Read that found less than its buffer drained the
// socket, so the next Read waits for an event and then reads exactly once.
// The epoll descriptor itself is parked on Go's poller, so no thread
// blocks in epoll_wait and GOMAXPROCS=1 keeps working.
//
// Wrap hands a net.Conn to the shared poller; on other systems, or if
// anything fails, it returns the conn unchanged. Conn implements net.Conn
// (deadlines included) and syscall.Conn.
package netpoll

import (
	"net"
	"os"
)

// Disabled, when set before the first Wrap, makes Wrap return its argument
// unchanged (CODIS_NETPOLL=go in the environment does the same), to compare
// with Go's poller or to rule this package out.
var Disabled = os.Getenv("CODIS_NETPOLL") == "go"

// Wrap returns a Conn reading and writing conn's socket through the shared
// poller, or conn itself when that is not possible. The original conn must
// not be used afterwards.
func Wrap(conn net.Conn) net.Conn {
	if Disabled {
		return conn
	}
	return wrap(conn)
}
