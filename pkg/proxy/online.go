package proxy

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
	"strings"
	"time"

	"github.com/codisgo/codis/pkg/models"
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

// remoteErr decodes the {"Cause","Stack"} body of status 800/1500.
func remoteErr(resp *http.Response, body []byte) error {
	if resp.StatusCode == 800 || resp.StatusCode == 1500 {
		var re RemoteError
		if json.Unmarshal(body, &re) == nil && re.Cause != "" {
			return errors.New(re.Cause)
		}
	}
	return fmt.Errorf("[%d] %s - %s", resp.StatusCode, http.StatusText(resp.StatusCode), resp.Request.URL)
}

func (p *Proxy) httpCall(ctx context.Context, method, u string, out any) error {
	ctx, cancel := context.WithTimeout(ctx, onlineHTTPTimeout)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, method, u, nil)
	if err != nil {
		return err
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(io.LimitReader(resp.Body, 16<<20))
	if err != nil {
		return err
	}
	if resp.StatusCode != http.StatusOK {
		return remoteErr(resp, body)
	}
	if out != nil {
		return json.Unmarshal(body, out)
	}
	return nil
}

// onlineOnce asks the dashboard at addr to add this proxy.
func (p *Proxy) onlineOnce(ctx context.Context, addr string) error {
	var topom struct {
		ProductName string `json:"product_name"`
	}
	if err := p.httpCall(ctx, http.MethodGet, "http://"+addr+"/api/topom/model", &topom); err != nil {
		return err
	}
	if topom.ProductName != p.config.ProductName {
		return fmt.Errorf("%w: dashboard %q, proxy %q", ErrProductMismatch, topom.ProductName, p.config.ProductName)
	}
	m := p.Model()
	if m == nil {
		return ErrClosedProxy
	}
	u := fmt.Sprintf("http://%s/api/topom/proxy/online/%s/%s", addr,
		token.NewXAuth(p.config.ProductName), url.PathEscape(m.AdminAddr))
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
