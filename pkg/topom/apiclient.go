package topom

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
	"github.com/codisgo/codis/pkg/utils/token"
)

// RemoteError is the error body of every Codis REST API (SPEC-control
// §4.1): status 800 (or 1500) and {"Cause": ..., "Stack": null}.
type RemoteError struct {
	Cause string `json:"Cause"`
	Stack []any  `json:"Stack"` // always null when we send it
}

func (e *RemoteError) Error() string { return "[Remote Error] " + e.Cause }

// Status codes of a Codis remote error.
const (
	statusRemoteError    = 800
	statusRemoteErrorAlt = 1500
)

// apiClient calls the REST APIs of proxies (§4.2 conventions): dial
// timeout 1 s, whole request at most 60 s (callers pass shorter contexts),
// keep-alive connections. Owned by one Topom; close drops idle
// connections.
type apiClient struct {
	tr *http.Transport
	hc *http.Client
}

func newAPIClient() *apiClient {
	tr := &http.Transport{
		DialContext:         (&net.Dialer{Timeout: time.Second, KeepAlive: 30 * time.Second}).DialContext,
		MaxIdleConnsPerHost: 4,
		IdleConnTimeout:     time.Minute,
	}
	return &apiClient{tr: tr, hc: &http.Client{Transport: tr, Timeout: 60 * time.Second}}
}

func (c *apiClient) close() { c.tr.CloseIdleConnections() }

// apiURL builds http://{addr}/{segs...} with each segment path-escaped.
func apiURL(addr string, segs ...string) string {
	var b strings.Builder
	b.WriteString("http://")
	b.WriteString(addr)
	for _, s := range segs {
		b.WriteByte('/')
		b.WriteString(url.PathEscape(s))
	}
	return b.String()
}

// do sends one request. in (if not nil) is sent as an indented JSON body;
// a 200 reply is decoded into out (if not nil).
func (c *apiClient) do(ctx context.Context, method, u string, in, out any) error {
	var body io.Reader
	if in != nil {
		b, err := models.Marshal(in)
		if err != nil {
			return err
		}
		body = bytes.NewReader(b)
	}
	req, err := http.NewRequestWithContext(ctx, method, u, body)
	if err != nil {
		return err
	}
	if in != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	rsp, err := c.hc.Do(req)
	if err != nil {
		return err
	}
	defer rsp.Body.Close()
	data, err := io.ReadAll(io.LimitReader(rsp.Body, 64<<20))
	if err != nil {
		return err
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
	case statusRemoteError, statusRemoteErrorAlt:
		e := &RemoteError{}
		if err := json.Unmarshal(data, e); err != nil {
			return fmt.Errorf("[%d] bad remote error body - %s", rsp.StatusCode, u)
		}
		return e
	default:
		return fmt.Errorf("[%d] %s - %s", rsp.StatusCode, http.StatusText(rsp.StatusCode), u)
	}
}

// proxyXAuth is the xauth a proxy checks: product name, product auth and
// the proxy's token.
func (s *Topom) proxyXAuth(tok string) string {
	return proxyXAuth(s.config.ProductName, s.config.ProductAuth, tok)
}

// The proxy calls of §4.5.

func (c *apiClient) proxyModel(ctx context.Context, addr string) (*models.Proxy, error) {
	p := &models.Proxy{}
	if err := c.do(ctx, http.MethodGet, apiURL(addr, "api", "proxy", "model"), nil, p); err != nil {
		return nil, err
	}
	return p, nil
}

func (c *apiClient) proxyXPing(ctx context.Context, addr, xauth string) error {
	return c.do(ctx, http.MethodGet, apiURL(addr, "api", "proxy", "xping", xauth), nil, nil)
}

// proxyStats returns the raw stats JSON.
func (c *apiClient) proxyStats(ctx context.Context, addr, xauth string) (json.RawMessage, error) {
	var raw json.RawMessage
	if err := c.do(ctx, http.MethodGet, apiURL(addr, "api", "proxy", "stats", xauth), nil, &raw); err != nil {
		return nil, err
	}
	if len(raw) == 0 || raw[0] != '{' {
		return nil, errors.New("proxy stats is not a JSON object")
	}
	return raw, nil
}

func (c *apiClient) proxyFillSlots(ctx context.Context, addr, xauth string, slots []*models.Slot) error {
	if slots == nil {
		slots = []*models.Slot{}
	}
	return c.do(ctx, http.MethodPut, apiURL(addr, "api", "proxy", "fillslots", xauth), slots, nil)
}

func (c *apiClient) proxyStart(ctx context.Context, addr, xauth string) error {
	return c.do(ctx, http.MethodPut, apiURL(addr, "api", "proxy", "start", xauth), nil, nil)
}

func (c *apiClient) proxySentinels(ctx context.Context, addr, xauth string, x *models.Sentinel) error {
	return c.do(ctx, http.MethodPut, apiURL(addr, "api", "proxy", "sentinels", xauth), x, nil)
}

func (c *apiClient) proxyShutdown(ctx context.Context, addr, xauth string) error {
	return c.do(ctx, http.MethodPut, apiURL(addr, "api", "proxy", "shutdown", xauth), nil, nil)
}

func proxyXAuth(product, auth, tok string) string { return token.NewXAuth(product, auth, tok) }
