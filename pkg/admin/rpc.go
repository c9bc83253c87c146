package admin

import (
	"time"

	"github.com/codisgo/codis/pkg/utils/rpc"
)

// Status codes with which Codis REST servers report a RemoteError
// (SPEC-control §4.1).
const (
	StatusRemoteError    = rpc.StatusRemoteError
	StatusRemoteErrorAlt = rpc.StatusRemoteErrorAlt
)

// RPC timeouts (SPEC-control §4.2).
const (
	DialTimeout    = rpc.DialTimeout
	RequestTimeout = rpc.RequestTimeout
)

// RemoteError is the error a Codis REST server returns with status 800 or
// 1500; its message is "[Remote Error] {Cause}".
type RemoteError = rpc.RemoteError

// ErrHTTPStatus is wrapped when a server answers with a status other than
// 200, 800 or 1500.
var ErrHTTPStatus = rpc.ErrHTTPStatus

// StatusError is a reply with an unexpected HTTP status. Its message is
// "[{code}] {status text} - {url}" (SPEC-control §4.1).
type StatusError = rpc.StatusError

// RPC is the shared Codis REST client (see package rpc).
type RPC = rpc.Client

// NewRPC returns a client with a 1 s dial timeout and the given
// whole-request timeout (<= 0 means RequestTimeout). It does no I/O.
func NewRPC(timeout time.Duration) *RPC {
	return rpc.New(rpc.Options{Timeout: timeout})
}

// URL builds http://{addr}/{segs...}; each segment is path-escaped.
func URL(addr string, segs ...string) string { return rpc.URL(addr, segs...) }
