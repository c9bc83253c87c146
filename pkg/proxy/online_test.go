package proxy

import (
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"sync"
	"testing"

	"github.com/codisgo/codis/pkg/models"
	"github.com/codisgo/codis/pkg/utils/token"
)

// TestOnlineDashboard checks the requests the proxy sends to go online
// (the dashboard side is a stand-in recording them).
func TestOnlineDashboard(t *testing.T) {
	var mu sync.Mutex
	var calls []string
	product := "test"
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		calls = append(calls, r.Method+" "+r.URL.Path)
		mu.Unlock()
		switch {
		case r.Method == "GET" && r.URL.Path == "/api/topom/model":
			w.Write([]byte(`{"product_name":"` + product + `","admin_addr":"x"}`))
		case r.Method == "PUT":
			w.Write([]byte(`"OK"`))
		default:
			http.NotFound(w, r)
		}
	}))
	defer srv.Close()
	p := startProxy(t, testConfig())
	addr := srv.Listener.Addr().String()
	if err := p.OnlineDashboard(context.Background(), addr); err != nil {
		t.Fatal(err)
	}
	want := "PUT /api/topom/proxy/online/" + token.NewXAuth("test") + "/" + p.Model().AdminAddr
	mu.Lock()
	if len(calls) != 2 || calls[0] != "GET /api/topom/model" || calls[1] != want {
		t.Fatalf("calls %q, want GET model then %q", calls, want)
	}
	mu.Unlock()

	// Through the coordinator: the lock node names the dashboard.
	client, err := models.NewClient("filesystem", t.TempDir(), "", 0)
	if err != nil {
		t.Fatal(err)
	}
	defer client.Close()
	if err := client.Create(models.LockPath("test"), []byte(`{"admin_addr":"`+addr+`","product_name":"test"}`)); err != nil {
		t.Fatal(err)
	}
	if err := p.OnlineCoordinator(context.Background(), client); err != nil {
		t.Fatal(err)
	}
	mu.Lock()
	if len(calls) != 4 || calls[3] != want {
		t.Fatalf("calls through the coordinator %q", calls)
	}
	mu.Unlock()

	product = "other"
	if err := p.OnlineDashboard(context.Background(), addr); !errors.Is(err, ErrProductMismatch) {
		t.Fatalf("product mismatch: %v", err)
	}
}
