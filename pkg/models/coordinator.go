package models

import (
	"strings"
	"time"

	"github.com/codisgo/codis/pkg/models/etcd"
	"github.com/codisgo/codis/pkg/models/fs"
	"github.com/codisgo/codis/pkg/models/zk"
)

// The backends satisfy Client structurally; they cannot import this
// package.
var (
	_ Client = (*fs.Client)(nil)
	_ Client = (*zk.Client)(nil)
	_ Client = (*etcd.Client)(nil)

	_ Locker = (*fs.Client)(nil)
	_ Locker = (*zk.Client)(nil)
	_ Locker = (*etcd.Client)(nil)
)

// NewClient returns a coordinator client (SPEC-control §1.2). name is one
// of CoordinatorNames; addr is the ZooKeeper address list, the etcd
// endpoint list or the filesystem root; for ZooKeeper and etcd, auth is ""
// or "user:password" with a non-empty user (else ErrInvalidAuth); the
// filesystem backend ignores auth (SPEC-control §1.5). timeout <= 0 means
// DefaultClientTimeout; for the filesystem it bounds the wait for the lock
// file. No I/O happens until the first operation.
func NewClient(name, addr, auth string, timeout time.Duration) (Client, error) {
	if timeout <= 0 {
		timeout = DefaultClientTimeout
	}
	checkAuth := func() error {
		if auth == "" {
			return nil
		}
		if user, _, ok := strings.Cut(auth, ":"); !ok || user == "" {
			return ErrInvalidAuth
		}
		return nil
	}
	// Each case checks err itself so a nil *T never becomes a non-nil
	// Client.
	switch name {
	case "zk", "zookeeper":
		if err := checkAuth(); err != nil {
			return nil, err
		}
		c, err := zk.New(addr, auth, timeout)
		if err != nil {
			return nil, err
		}
		return c, nil
	case "etcd":
		if err := checkAuth(); err != nil {
			return nil, err
		}
		c, err := etcd.New(addr, auth, timeout)
		if err != nil {
			return nil, err
		}
		return c, nil
	case "fs", "filesystem":
		c, err := fs.New(addr, timeout)
		if err != nil {
			return nil, err
		}
		return c, nil
	default:
		return nil, &ErrInvalidCoordinator{Name: name}
	}
}
