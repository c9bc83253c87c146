package admin

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/codisgo/codis/pkg/models"
)

// Status codes with which Codis REST servers report a RemoteError
// (SPEC-control §4.1).
const (
	StatusRemoteError    = 800
	StatusRemoteErrorAlt = 1500
)

// RPC timeouts (SPEC-control §4.2).
const (
	DialTimeout    = time.Second
	RequestTimeout = time.Minute
	// maxReplyBytes bounds a reply body; a dashboard overview of 1024
	// slots and many servers is well below it.
	maxReplyBytes = 64 << 20
)

// RemoteError is the error a Codis REST server returns with status 800 or
// 1500: {"Cause": "...", "Stack": null | [...]}. Stack is informational
// and kept verbatim.
type RemoteError struct {
	Cause string          `json:"Cause"`
	Stack json.RawMessage `json:"Stack"`
}

// Error is "[Remote Error] {Cause}", as the original client reports it.
func (e *RemoteError) Error() string { return "[Remote Error] " + e.Cause }

// ErrHTTPStatus is wrapped when a server answers with a status other than
// 200, 800 or 1500.
var ErrHTTPStatus = errors.New("unexpected http status")

// StatusError is a reply with an unexpected HTTP status. Its message is
// "[{code}] {status text} - {url}" (SPEC-control §4.1).
type StatusError struct {
	Code int
	URL  string
}

func (e *StatusError) Error() string {
	return fmt.Sprintf("[%d] %s - %s", e.Code, http.StatusText(e.Code), e.URL)
}

func (e *StatusError) Unwrap() error { return ErrHTTPStatus }

// RPC is a small client for the Codis REST conventions: GET for reads,
// PUT for writes, JSON bodies indented like every Codis writer, gzip
// accepted (decoded transparently by net/http), remote errors decoded.
// It is safe for concurrent use. The zero value is not usable; use
// NewRPC.
type RPC struct {
	hc *http.Client
	tr *http.Transport
}

// NewRPC returns a client with a 1 s dial timeout and the given
// whole-request timeout (<= 0 means RequestTimeout). It does no I/O.
func NewRPC(timeout time.Duration) *RPC {
	if timeout <= 0 {
		timeout = RequestTimeout
	}
	tr := &http.Transport{
		Proxy:               nil, // never route control traffic through an HTTP proxy
		DialContext:         (&net.Dialer{Timeout: DialTimeout, KeepAlive: 30 * time.Second}).DialContext,
		MaxIdleConnsPerHost: 2,
		IdleConnTimeout:     time.Minute,
	}
	return &RPC{hc: &http.Client{Transport: tr, Timeout: timeout}, tr: tr}
}

// Close drops idle connections.
func (c *RPC) Close() { c.tr.CloseIdleConnections() }

// URL builds http://{addr}/{segs...}; each segment is path-escaped, so a
// server address such as 127.0.0.1:6379 stays readable.
func URL(addr string, segs ...string) string {
	var b strings.Builder
	b.WriteString("http://")
	b.WriteString(addr)
	for _, s := range segs {
		b.WriteByte('/')
		b.WriteString(url.PathEscape(s))
	}
	return b.String()
}

// Get sends GET u and decodes a 200 reply into out (ignored when nil).
func (c *RPC) Get(ctx context.Context, u string, out any) error {
	return c.do(ctx, http.MethodGet, u, nil, out)
}

// Put sends PUT u with in (if not nil) as JSON body and decodes a 200
// reply into out (ignored when nil).
func (c *RPC) Put(ctx context.Context, u string, in, out any) error {
	return c.do(ctx, http.MethodPut, u, in, out)
}

func (c *RPC) do(ctx context.Context, method, u string, in, out any) error {
	var body io.Reader
	if in != nil {
		b, err := models.Marshal(in)
		if err != nil {
			return fmt.Errorf("encode request body of %s: %w", u, err)
		}
		body = bytes.NewReader(b)
	}
	req, err := http.NewRequestWithContext(ctx, method, u, body)
	if err != nil {
		return fmt.Errorf("build request %s %s: %w", method, u, err)
	}
	if in != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	rsp, err := c.hc.Do(req)
	if err != nil {
		return err // a *url.Error, which names the method and URL
	}
	defer rsp.Body.Close()
	data, err := io.ReadAll(io.LimitReader(rsp.Body, maxReplyBytes+1))
	if err != nil {
		return fmt.Errorf("read reply of %s: %w", u, err)
	}
	if len(data) > maxReplyBytes {
		return fmt.Errorf("reply of %s exceeds %d bytes", u, maxReplyBytes)
	}
	switch rsp.StatusCode {
	case http.StatusOK:
		if out == nil {
			return nil
		}
		if err := json.Unmarshal(data, out); err != nil {
			return fmt.Errorf("decode reply of %s: %w", u, err)
		}
		return nil
	case StatusRemoteError, StatusRemoteErrorAlt:
		e := &RemoteError{}
		if err := json.Unmarshal(data, e); err != nil {
			return fmt.Errorf("[%d] undecodable remote error %q - %s", rsp.StatusCode, truncate(data, 200), u)
		}
		return e
	default:
		return &StatusError{Code: rsp.StatusCode, URL: u}
	}
}

func truncate(b []byte, n int) string {
	if len(b) > n {
		return string(b[:n]) + "..."
	}
	return string(b)
}
