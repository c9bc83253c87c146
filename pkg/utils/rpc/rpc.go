// Package rpc is the client side of the Codis REST conventions
// (SPEC-control §4.1, §4.2) shared by codis-admin, the dashboard and the
// proxy: GET for reads, PUT for writes, JSON bodies indented like every
// Codis writer, gzip replies decoded transparently by net/http, and the
// {"Cause","Stack"} body of status 800 or 1500 decoded into a RemoteError.
package rpc

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

// Status codes with which Codis REST servers report a RemoteError.
const (
	StatusRemoteError    = 800
	StatusRemoteErrorAlt = 1500
)

// Timeouts of SPEC-control §4.2.
const (
	DialTimeout    = time.Second
	RequestTimeout = time.Minute
	// MaxReplyBytes bounds a reply body; a dashboard overview of 1024
	// slots and many servers is well below it.
	MaxReplyBytes = 64 << 20
)

// RemoteError is the error body of every Codis REST API:
// {"Cause": "...", "Stack": null | [...]}. Stack is informational and kept
// verbatim; a nil Stack encodes as null.
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
// "[{code}] {status text} - {url}".
type StatusError struct {
	Code int
	URL  string
}

func (e *StatusError) Error() string {
	return fmt.Sprintf("[%d] %s - %s", e.Code, http.StatusText(e.Code), e.URL)
}

// Unwrap makes errors.Is(err, ErrHTTPStatus) true.
func (e *StatusError) Unwrap() error { return ErrHTTPStatus }

// BadRemoteError is a status 800/1500 reply whose body is not a
// RemoteError document.
type BadRemoteError struct {
	Code int
	Body []byte // the start of the body (201 bytes at most)
	URL  string
}

func (e *BadRemoteError) Error() string {
	return fmt.Sprintf("[%d] undecodable remote error %q - %s", e.Code, truncate(e.Body, 200), e.URL)
}

// DecodeError is a 200 reply that does not decode into the caller's value.
type DecodeError struct {
	URL string
	Err error // from encoding/json
}

func (e *DecodeError) Error() string { return fmt.Sprintf("decode reply of %s: %v", e.URL, e.Err) }

// Unwrap returns the encoding/json error.
func (e *DecodeError) Unwrap() error { return e.Err }

// Options configure a Client; zero fields take defaults.
type Options struct {
	// Timeout bounds a whole request; <= 0 means RequestTimeout.
	Timeout time.Duration
	// MaxIdleConnsPerHost is the keep-alive pool size; <= 0 means 2.
	MaxIdleConnsPerHost int
}

// Client is safe for concurrent use. The zero value is not usable; use
// New. Close drops idle connections.
type Client struct {
	hc *http.Client
	tr *http.Transport
}

// New returns a client with a 1 s dial timeout. It does no I/O.
func New(o Options) *Client {
	if o.Timeout <= 0 {
		o.Timeout = RequestTimeout
	}
	if o.MaxIdleConnsPerHost <= 0 {
		o.MaxIdleConnsPerHost = 2
	}
	tr := &http.Transport{
		Proxy:               nil, // never route control traffic through an HTTP proxy
		DialContext:         (&net.Dialer{Timeout: DialTimeout, KeepAlive: 30 * time.Second}).DialContext,
		MaxIdleConnsPerHost: o.MaxIdleConnsPerHost,
		IdleConnTimeout:     time.Minute,
	}
	return &Client{hc: &http.Client{Transport: tr, Timeout: o.Timeout}, tr: tr}
}

// Close drops idle connections.
func (c *Client) Close() { c.tr.CloseIdleConnections() }

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
func (c *Client) Get(ctx context.Context, u string, out any) error {
	return c.Do(ctx, http.MethodGet, u, nil, out)
}

// Put sends PUT u with in (if not nil) as JSON body and decodes a 200
// reply into out (ignored when nil).
func (c *Client) Put(ctx context.Context, u string, in, out any) error {
	return c.Do(ctx, http.MethodPut, u, in, out)
}

// Do sends one request. in (if not nil) is sent as an indented JSON body;
// a 200 reply is decoded into out (if not nil). A status 800/1500 reply
// gives a *RemoteError (or *BadRemoteError), any other status a
// *StatusError; transport failures are the *url.Error of net/http.
func (c *Client) Do(ctx context.Context, method, u string, in, out any) error {
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
	data, err := io.ReadAll(io.LimitReader(rsp.Body, MaxReplyBytes+1))
	if err != nil {
		return fmt.Errorf("read reply of %s: %w", u, err)
	}
	if len(data) > MaxReplyBytes {
		return fmt.Errorf("reply of %s exceeds %d bytes", u, MaxReplyBytes)
	}
	switch rsp.StatusCode {
	case http.StatusOK:
		if out == nil {
			return nil
		}
		if err := json.Unmarshal(data, out); err != nil {
			return &DecodeError{URL: u, Err: err}
		}
		return nil
	case StatusRemoteError, StatusRemoteErrorAlt:
		e := &RemoteError{}
		if err := json.Unmarshal(data, e); err != nil {
			if len(data) > 200 {
				data = data[:201] // keep the "..." marker of truncate
			}
			return &BadRemoteError{Code: rsp.StatusCode, Body: data, URL: u}
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
