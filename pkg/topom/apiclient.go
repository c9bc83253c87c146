package topom

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"time"

	"github.com/codisgo/codis/pkg/models"
	"github.com/codisgo/codis/pkg/utils/rpc"
	"github.com/codisgo/codis/pkg/utils/token"
)

// RemoteError is the error body of every Codis REST API (SPEC-control
// §4.1): status 800 (or 1500) and {"Cause": ..., "Stack": null}. The API
// server always sends a null Stack.
type RemoteError = rpc.RemoteError

// Status code of a Codis remote error.
const statusRemoteError = rpc.StatusRemoteError

// apiClient calls the REST APIs of proxies (§4.2 conventions): dial
// timeout 1 s, whole request at most 60 s (callers pass shorter contexts),
// keep-alive connections. Owned by one Topom; close drops idle
// connections.
type apiClient struct {
	c *rpc.Client
}

func newAPIClient() *apiClient {
	return &apiClient{c: rpc.New(rpc.Options{Timeout: 60 * time.Second, MaxIdleConnsPerHost: 4})}
}

func (c *apiClient) close() { c.c.Close() }

// apiURL builds http://{addr}/{segs...} with each segment path-escaped.
func apiURL(addr string, segs ...string) string { return rpc.URL(addr, segs...) }

// do sends one request. in (if not nil) is sent as an indented JSON body;
// a 200 reply is decoded into out (if not nil).
func (c *apiClient) do(ctx context.Context, method, u string, in, out any) error {
	err := c.c.Do(ctx, method, u, in, out)
	var bad *rpc.BadRemoteError
	if errors.As(err, &bad) {
		return fmt.Errorf("[%d] bad remote error body - %s", bad.Code, u)
	}
	return err
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
