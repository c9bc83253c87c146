package proxy

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"os"
	"strings"
	"time"

	"github.com/codisgo/codis/pkg/models"
	"github.com/codisgo/codis/pkg/utils/rpc"
	"github.com/codisgo/codis/pkg/utils/token"
)

// ErrProductMismatch is returned when the dashboard serves another product;
// the caller must exit (SPEC-data §F.2).
var ErrProductMismatch = errors.New("product name mismatch")

// Onlining retry policy (SPEC-data §F.2).
const (
	DashboardAttempts   = 10
	CoordinatorAttempts = 30
	onlineRetryPause    = 3 * time.Second
	onlineHTTPTimeout   = 30 * time.Second
)

// httpCall sends one request with the shared REST client and keeps the
// errors of the onlining path: a remote error is reported by its Cause
// alone, a body that does not decode by the encoding/json error.
func (p *Proxy) httpCall(ctx context.Context, method, u string, out any) error {
	ctx, cancel := context.WithTimeout(ctx, onlineHTTPTimeout)
	defer cancel()
	c := rpc.New(rpc.Options{})
	defer c.Close()
	err := c.Do(ctx, method, u, nil, out)
	var (
		re  *rpc.RemoteError
		bad *rpc.BadRemoteError
		de  *rpc.DecodeError
	)
	switch {
	case errors.As(err, &re):
		if re.Cause != "" {
			return errors.New(re.Cause)
		}
		return &rpc.StatusError{Code: rpc.StatusRemoteError, URL: u}
	case errors.As(err, &bad):
		return &rpc.StatusError{Code: bad.Code, URL: u}
	case errors.As(err, &de):
		return de.Err
	}
	return err
}

// onlineOnce asks the dashboard at addr to add this proxy.
func (p *Proxy) onlineOnce(ctx context.Context, addr string) error {
	var topom struct {
		ProductName string `json:"product_name"`
	}
	if err := p.httpCall(ctx, http.MethodGet, rpc.URL(addr, "api", "topom", "model"), &topom); err != nil {
		return err
	}
	if topom.ProductName != p.config.ProductName {
		return fmt.Errorf("%w: dashboard %q, proxy %q", ErrProductMismatch, topom.ProductName, p.config.ProductName)
	}
	m := p.Model()
	if m == nil {
		return ErrClosedProxy
	}
	u := rpc.URL(addr, "api", "topom", "proxy", "online", token.NewXAuth(p.config.ProductName), m.AdminAddr)
	return p.httpCall(ctx, http.MethodPut, u, nil)
}

func (p *Proxy) retry(ctx context.Context, attempts int, f func() error) error {
	var err error
	for i := 0; i < attempts; i++ {
		if i != 0 {
			select {
			case <-ctx.Done():
				return ctx.Err()
			case <-p.quit:
				return ErrClosedProxy
			case <-time.After(onlineRetryPause):
			}
		}
		if err = f(); err == nil || errors.Is(err, ErrProductMismatch) {
			return err
		}
		p.logger.Warn("online attempt failed", "attempt", i+1, "err", err)
	}
	return err
}

// OnlineDashboard registers the proxy with the dashboard at addr (up to
// DashboardAttempts attempts, 3 s apart).
func (p *Proxy) OnlineDashboard(ctx context.Context, addr string) error {
	return p.retry(ctx, DashboardAttempts, func() error { return p.onlineOnce(ctx, addr) })
}

// OnlineCoordinator reads the dashboard address from the coordinator's
// lock node and registers through it (up to CoordinatorAttempts attempts).
func (p *Proxy) OnlineCoordinator(ctx context.Context, client models.Client) error {
	path := models.LockPath(p.config.ProductName)
	return p.retry(ctx, CoordinatorAttempts, func() error {
		data, err := client.Read(path, false)
		if err != nil {
			return err
		}
		if data == nil {
			return fmt.Errorf("dashboard lock %s not found", path)
		}
		var t struct {
			AdminAddr string `json:"admin_addr"`
		}
		if err := json.Unmarshal(data, &t); err != nil {
			return fmt.Errorf("decode %s: %w", path, err)
		}
		if t.AdminAddr == "" {
			return fmt.Errorf("dashboard lock %s has no admin_addr", path)
		}
		return p.onlineOnce(ctx, t.AdminAddr)
	})
}

// LoadSlotsFile reads a JSON array of Slot (--fillslots).
func LoadSlotsFile(path string) ([]*models.Slot, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	var slots []*models.Slot
	dec := json.NewDecoder(strings.NewReader(string(data)))
	if err := dec.Decode(&slots); err != nil {
		return nil, fmt.Errorf("decode %s: %w", path, err)
	}
	return slots, nil
}
