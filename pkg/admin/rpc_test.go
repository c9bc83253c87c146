package admin

import (
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"
)

func TestURL(t *testing.T) {
	if got := URL("127.0.0.1:18080", "api", "topom", "group", "add", "x", "1", "127.0.0.1:6379", "dc 1", "a/b"); got != "http://127.0.0.1:18080/api/topom/group/add/x/1/127.0.0.1:6379/dc%201/a%2Fb" {
		t.Fatalf("got %s", got)
	}
}

func TestRPCReplies(t *testing.T) {
	release := make(chan struct{})
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		switch r.URL.Path {
		case "/800-stack":
			// (1500 is also accepted by the client, but net/http can neither
			// send nor parse a four-digit status.)
			w.WriteHeader(800)
			w.Write([]byte(`{"Cause": "broken", "Stack": [{"Name": "f", "File": "x.go", "Line": 1}]}`))
		case "/800-garbage":
			w.WriteHeader(800)
			w.Write([]byte(`<html>`))
		case "/bad-json":
			w.Write([]byte(`{"a":`))
		case "/slow":
			select {
			case <-release:
			case <-r.Context().Done():
			}
		case "/put":
			if r.Method != http.MethodPut || r.Header.Get("Content-Type") != "application/json" || r.ContentLength != int64(len("[\n    1,\n    2\n]")) {
				w.WriteHeader(400)
				return
			}
			w.Write([]byte(`"OK"`))
		default:
			http.NotFound(w, r)
		}
	}))
	defer srv.Close()
	defer close(release)
	c := NewRPC(200 * time.Millisecond)
	defer c.Close()
	ctx := context.Background()

	var re *RemoteError
	if err := c.Get(ctx, srv.URL+"/800-stack", nil); !errors.As(err, &re) || err.Error() != "[Remote Error] broken" || !strings.Contains(string(re.Stack), "x.go") {
		t.Fatalf("800 with stack: %v", err)
	}
	if err := c.Get(ctx, srv.URL+"/800-garbage", nil); err == nil || !strings.Contains(err.Error(), "[800] undecodable remote error") {
		t.Fatalf("800 garbage: %v", err)
	}
	var v map[string]any
	if err := c.Get(ctx, srv.URL+"/bad-json", &v); err == nil || !strings.Contains(err.Error(), "decode reply of") {
		t.Fatalf("bad json: %v", err)
	}
	if err := c.Get(ctx, srv.URL+"/nothing", nil); err == nil || err.Error() != "[404] Not Found - "+srv.URL+"/nothing" {
		t.Fatalf("404: %v", err)
	}
	var ack string
	if err := c.Put(ctx, srv.URL+"/put", []int{1, 2}, &ack); err != nil || ack != "OK" {
		t.Fatalf("put: %q %v", ack, err)
	}
	start := time.Now()
	if err := c.Get(ctx, srv.URL+"/slow", nil); err == nil || time.Since(start) > 5*time.Second {
		t.Fatalf("timeout: %v after %v", err, time.Since(start))
	}
	cctx, cancel := context.WithCancel(ctx)
	cancel()
	if err := c.Get(cctx, srv.URL+"/slow", nil); !errors.Is(err, context.Canceled) {
		t.Fatalf("canceled: %v", err)
	}
}
