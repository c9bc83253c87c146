package etcd

import (
	"context"
	"errors"
	"fmt"
	"sync"

	clientv3 "go.etcd.io/etcd/client/v3"

	"github.com/codisgo/codis/pkg/models/fence"
)

// Lock is an exclusive lock held by a Client: a key attached to the
// client's lease (it disappears when the lease is revoked or expires). Its
// fencing token is the key's create revision: every fenced write is a
// transaction that runs only if the key still has that create revision,
// and a successor's key always gets a newer one.
type Lock struct {
	c    *Client
	path string
	rev  int64
	done <-chan struct{}

	mu       sync.Mutex
	released bool
}

var _ fence.Lock = (*Lock)(nil)

// EphemeralLocks reports that locks end with the client's lease.
func (c *Client) EphemeralLocks() bool { return true }

// AcquireLock creates key p with data on the client's lease and fails,
// with a *fence.HeldError matching ErrExists, if p exists. The lock is lost when the
// lease ends (Close, expiry after keep-alives fail for the TTL), when p is
// deleted or changed, or on Release.
func (c *Client) AcquireLock(p string, data []byte) (fence.Lock, error) {
	if err := validNode(p); err != nil {
		return nil, err
	}
	l := &Lock{c: c, path: p}
	err := c.op(func(ctx context.Context, cli *clientv3.Client) error {
		lease, leaseDone, err := c.session(ctx, cli)
		if err != nil {
			return err
		}
		resp, err := cli.Txn(ctx).
			If(clientv3.Compare(clientv3.CreateRevision(p), "=", 0)).
			Then(clientv3.OpPut(p, string(data), clientv3.WithLease(lease))).
			Else(clientv3.OpGet(p, clientv3.WithKeysOnly())).
			Commit()
		if err != nil {
			return c.wrap("acquire lock", p, err)
		}
		if !resp.Succeeded {
			held := &fence.HeldError{Path: p, Err: fmt.Errorf("etcd: acquire lock %s: %w", p, ErrExists)}
			if kvs := resp.Responses[0].GetResponseRange().Kvs; len(kvs) > 0 {
				held.Ephemeral = kvs[0].Lease != 0
			}
			return held
		}
		l.rev = resp.Header.Revision
		l.done = c.watch(cli, p, l.rev+1, false, anyEvent, leaseDone)
		return nil
	})
	if err != nil {
		return nil, err
	}
	return l, nil
}

// Path returns the lock key.
func (l *Lock) Path() string { return l.path }

// Done is closed when the lock key changes or is deleted, the lease is
// lost, or the client is closed.
func (l *Lock) Done() <-chan struct{} { return l.done }

// txn runs op only if the lock key is still the one we created.
func (l *Lock) txn(name, p string, op clientv3.Op) error {
	l.mu.Lock()
	released := l.released
	l.mu.Unlock()
	if released {
		return fmt.Errorf("etcd: %s %s: %w (released)", name, p, fence.ErrLockLost)
	}
	return l.c.op(func(ctx context.Context, cli *clientv3.Client) error {
		resp, err := cli.Txn(ctx).
			If(clientv3.Compare(clientv3.ModRevision(l.path), "=", l.rev)).
			Then(op).
			Commit()
		if err != nil {
			return l.c.wrap(name, p, err)
		}
		if !resp.Succeeded {
			return fmt.Errorf("etcd: %s %s: %w (%s is no longer ours)", name, p, fence.ErrLockLost, l.path)
		}
		return nil
	})
}

// Update creates or overwrites key p if the lock is still held.
func (l *Lock) Update(p string, data []byte) error {
	if err := validNode(p); err != nil {
		return err
	}
	return l.txn("update", p, clientv3.OpPut(p, string(data)))
}

// Delete removes key p if the lock is still held; a missing key is fine.
func (l *Lock) Delete(p string) error {
	if err := validNode(p); err != nil {
		return err
	}
	return l.txn("delete", p, clientv3.OpDelete(p))
}

// Release deletes the lock key if it is still held.
func (l *Lock) Release() error {
	l.mu.Lock()
	released := l.released
	l.mu.Unlock()
	if released {
		return nil
	}
	err := l.txn("release", l.path, clientv3.OpDelete(l.path))
	if err == nil || errors.Is(err, fence.ErrLockLost) {
		l.mu.Lock()
		l.released = true
		l.mu.Unlock()
	}
	return err
}
