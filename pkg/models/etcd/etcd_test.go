package etcd

import (
	"errors"
	"fmt"
	iofs "io/fs"
	"testing"
	"time"
)

func TestChildren(t *testing.T) {
	tests := []struct {
		dir  string
		keys []string
		want []string
	}{
		{"/a/b", nil, nil},
		{"/a/b", []string{"/a/b/c"}, []string{"/a/b/c"}},
		{"/a/b", []string{"/a/b/c/d", "/a/b/c/e", "/a/b/c"}, []string{"/a/b/c"}},
		{"/a/b", []string{"/a/b/z", "/a/b/c/d/e", "/a/b/m"}, []string{"/a/b/c", "/a/b/m", "/a/b/z"}},
		{"/a/b", []string{"/a/b/", "/a/b//x"}, nil}, // empty names are not children
		{"/", []string{"/a/x", "/b", "/a"}, []string{"/a", "/b"}},
	}
	for _, tt := range tests {
		got := children(tt.dir, tt.keys)
		if fmt.Sprint(got) != fmt.Sprint(tt.want) {
			t.Errorf("children(%s, %q) = %q, want %q", tt.dir, tt.keys, got, tt.want)
		}
	}
}

func TestNew(t *testing.T) {
	c, err := New(" 127.0.0.1:2379 ,https://h:1,, ", "", 0)
	if err != nil {
		t.Fatal(err)
	}
	if fmt.Sprint(c.endpoints) != "[http://127.0.0.1:2379 https://h:1]" || c.timeout != DefaultTimeout || c.ttl != 5 {
		t.Fatalf("endpoints %q timeout %v ttl %d", c.endpoints, c.timeout, c.ttl)
	}
	c.Close()
	c.Close()
	if _, err := c.Read("/x", false); err == nil || err.Error() != "use of closed etcd client" {
		t.Fatalf("Read after Close = %v", err)
	}
	if c, _ := New("h:1", "", 300*time.Millisecond); c.ttl != 1 {
		t.Fatalf("ttl for a 300ms timeout = %d, want 1", c.ttl)
	}
	for _, auth := range []string{"x", ":y"} {
		if _, err := New("h:1", auth, 0); !errors.Is(err, ErrInvalidAuth) {
			t.Errorf("New(auth %q) = %v", auth, err)
		}
	}
	if _, err := New(",", "", 0); err == nil {
		t.Error("New with no endpoints succeeded")
	}
	if !errors.Is(fmt.Errorf("x: %w", ErrNotFound), iofs.ErrNotExist) || !errors.Is(ErrExists, iofs.ErrExist) {
		t.Error("sentinels do not match io/fs errors")
	}
}
