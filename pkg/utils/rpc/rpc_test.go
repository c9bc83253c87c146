package rpc

import (
	"compress/gzip"
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"
)

func TestURL(t *testing.T) {
	got := URL("127.0.0.1:18080", "api", "topom", "group", "add", "x", "1", "127.0.0.1:6379", "dc 1", "a/b")
	if want := "http://127.0.0.1:18080/api/topom/group/add/x/1/127.0.0.1:6379/dc%201/a%2Fb"; got != want {
		t.Fatalf("got %s, want %s", got, want)
	}
	if got := URL("h:1"); got != "http://h:1" {
		t.Fatalf("no segments: %s", got)
	}
}

func TestReplies(t *testing.T) {
	release := make(chan struct{})
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		switch r.URL.Path {
		case "/800-stack":
			// (1500 is also accepted by the client, but net/http can neither
			// send nor parse a four-digit status.)
			w.WriteHeader(800)
			w.Write([]byte(`{"Cause": "broken", "Stack": [{"Name": "f", "File": "x.go", "Line": 1}]}`))
		case "/800-null":
			w.WriteHeader(800)
			w.Write([]byte(`{"Cause": "no stack", "Stack": null}`))
		case "/800-garbage":
			w.WriteHeader(800)
			w.Write([]byte(`<html>` + strings.Repeat("x", 300)))
		case "/bad-json":
			w.Write([]byte(`{"a":`))
		case "/gzip":
			if !strings.Contains(r.Header.Get("Accept-Encoding"), "gzip") {
				w.WriteHeader(400)
				return
			}
			w.Header().Set("Content-Encoding", "gzip")
			zw := gzip.NewWriter(w)
			zw.Write([]byte(`{"product_name": "demo"}`))
			zw.Close()
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
	c := New(Options{Timeout: 200 * time.Millisecond})
	defer c.Close()
	ctx := context.Background()

	var re *RemoteError
	if err := c.Get(ctx, srv.URL+"/800-stack", nil); !errors.As(err, &re) || err.Error() != "[Remote Error] broken" || !strings.Contains(string(re.Stack), "x.go") {
		t.Fatalf("800 with stack: %v", err)
	}
	if err := c.Get(ctx, srv.URL+"/800-null", nil); !errors.As(err, &re) || re.Cause != "no stack" {
		t.Fatalf("800 null stack: %v", err)
	}
	var bad *BadRemoteError
	err := c.Get(ctx, srv.URL+"/800-garbage", nil)
	if !errors.As(err, &bad) || bad.Code != 800 || !strings.HasPrefix(err.Error(), `[800] undecodable remote error "<html>x`) ||
		!strings.HasSuffix(err.Error(), `..." - `+srv.URL+"/800-garbage") {
		t.Fatalf("800 garbage: %v", err)
	}
	var v map[string]any
	if err := c.Get(ctx, srv.URL+"/bad-json", &v); err == nil || !strings.Contains(err.Error(), "decode reply of") {
		t.Fatalf("bad json: %v", err)
	}
	if err := c.Get(ctx, srv.URL+"/gzip", &v); err != nil || v["product_name"] != "demo" {
		t.Fatalf("gzip: %v %v", v, err)
	}
	var st *StatusError
	if err := c.Get(ctx, srv.URL+"/nothing", nil); !errors.As(err, &st) || st.Code != 404 || !errors.Is(err, ErrHTTPStatus) ||
		err.Error() != "[404] Not Found - "+srv.URL+"/nothing" {
		t.Fatalf("404: %v", err)
	}
	var ack string
	if err := c.Put(ctx, srv.URL+"/put", []int{1, 2}, &ack); err != nil || ack != "OK" {
		t.Fatalf("put: %q %v", ack, err)
	}
	if err := c.Put(ctx, srv.URL+"/put", func() {}, nil); err == nil || !strings.Contains(err.Error(), "encode request body") {
		t.Fatalf("unencodable body: %v", err)
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

func TestRemoteErrorEncoding(t *testing.T) {
	b, err := json.Marshal(&RemoteError{Cause: "x"})
	if err != nil || string(b) != `{"Cause":"x","Stack":null}` {
		t.Fatalf("%s %v", b, err)
	}
}
