package zk

import (
	"errors"
	"fmt"
	"path"
	"sync"

	"github.com/samuel/go-zookeeper/zk"

	"github.com/codisgo/codis/pkg/models/fence"
)

// Lock is an exclusive lock held by a Client: an ephemeral node (it dies
// with the client's session) plus a fencing token.
//
// The token is the data version of the lock node's parent directory:
// AcquireLock creates the ephemeral node, sets its data once (so it has
// version 1) and bumps the parent's version, all in one transaction, so
// every acquisition gets a new parent version. Each fenced write is a
// multi transaction that first checks that the lock node still has
// version 1 (it exists and was not rewritten, and was not created by a
// plain Create, which gives version 0, such as an original Codis
// dashboard's) and that the parent still has our version (nobody acquired
// the lock since). The check on the lock node alone would not do: a
// successor's node has the same version. The parent is a directory node;
// its data is written back unchanged.
type Lock struct {
	c          *Client
	path       string
	dir        string
	dirVersion int32
	done       <-chan struct{}

	mu       sync.Mutex
	released bool
}

var _ fence.Lock = (*Lock)(nil)

// lockVersion is the data version of a lock node made by AcquireLock.
const lockVersion = 1

// maxAttempts bounds the retries of a lock transaction that lost a race
// with a concurrent writer.
const maxAttempts = 10

// EphemeralLocks reports that locks end with the client's session.
func (c *Client) EphemeralLocks() bool { return true }

// AcquireLock creates the ephemeral lock node p with data (parents are
// created) and fails, with a *fence.HeldError matching ErrExists, if p
// exists. The
// lock is lost when the session ends (Close, expiry, a reconnect after a
// connection error), when p is deleted or changed, or on Release.
func (c *Client) AcquireLock(p string, data []byte) (fence.Lock, error) {
	if err := validNode(p); err != nil {
		return nil, err
	}
	dir := path.Dir(p)
	if dir == "/" {
		return nil, fmt.Errorf("%w %q: a lock node needs a parent directory", ErrInvalidPath, p)
	}
	l := &Lock{c: c, path: p, dir: dir}
	err := c.do(func(conn *zk.Conn) error {
		if err := c.mkdir(conn, dir); err != nil {
			return err
		}
		for attempt := 1; ; attempt++ {
			dirData, st, err := conn.Get(dir)
			if err != nil {
				return fmt.Errorf("zk: acquire lock %s: %w", p, err)
			}
			mr, err := conn.Multi(
				&zk.CreateRequest{Path: p, Data: data, Acl: c.acl(dataPerms), Flags: zk.FlagEphemeral},
				&zk.SetDataRequest{Path: p, Data: data, Version: 0},
				&zk.SetDataRequest{Path: dir, Data: dirData, Version: st.Version},
			)
			switch {
			case err == nil:
			case errors.Is(err, zk.ErrNodeExists):
				held := &fence.HeldError{Path: p, Err: fmt.Errorf("zk: acquire lock %s: %w", p, ErrExists)}
				if ok, st, err := conn.Exists(p); err == nil && ok {
					held.Ephemeral = st.EphemeralOwner != 0
				}
				return held
			case failedOp(mr) == 2 && errors.Is(err, zk.ErrBadVersion) && attempt < maxAttempts:
				continue // another acquirer bumped the directory: retry
			default:
				return fmt.Errorf("zk: acquire lock %s: %w", p, err)
			}
			l.dirVersion = mr[2].Stat.Version
			break
		}
		_, st, w, err := conn.GetW(p)
		if err == nil && st.Version != lockVersion {
			err = fmt.Errorf("lock node rewritten at once (version %d)", st.Version)
		}
		if err != nil {
			_, _ = conn.Multi(append(l.checks(), &zk.DeleteRequest{Path: p, Version: lockVersion})...)
			return fmt.Errorf("zk: watch lock %s: %w", p, err)
		}
		l.done = c.watch(w)
		return nil
	})
	if err != nil {
		return nil, err
	}
	return l, nil
}

// failedOp returns the index of the operation that failed a multi
// transaction (the first with an error), or -1.
func failedOp(mr []zk.MultiResponse) int {
	for i, r := range mr {
		if r.Error != nil {
			return i
		}
	}
	return -1
}

// checks are the fencing operations every transaction starts with.
func (l *Lock) checks() []interface{} {
	return []interface{}{
		&zk.CheckVersionRequest{Path: l.path, Version: lockVersion},
		&zk.CheckVersionRequest{Path: l.dir, Version: l.dirVersion},
	}
}

func (l *Lock) lostError(op, p string) error {
	return fmt.Errorf("zk: %s %s: %w (%s is no longer ours)", op, p, fence.ErrLockLost, l.path)
}

// multi runs the fencing checks followed by ops. It reports the index
// (among ops) of the operation that failed, or -1.
func (l *Lock) multi(conn *zk.Conn, op, p string, ops ...interface{}) (int, error) {
	l.mu.Lock()
	released := l.released
	l.mu.Unlock()
	if released {
		return -1, fmt.Errorf("zk: %s %s: %w (released)", op, p, fence.ErrLockLost)
	}
	checks := l.checks()
	mr, err := conn.Multi(append(checks, ops...)...)
	if err == nil {
		return -1, nil
	}
	i := failedOp(mr)
	if i >= 0 && i < len(checks) && (errors.Is(err, zk.ErrNoNode) || errors.Is(err, zk.ErrBadVersion)) {
		return -1, l.lostError(op, p)
	}
	if i >= len(checks) {
		return i - len(checks), err
	}
	return -1, err
}

// Path returns the lock node.
func (l *Lock) Path() string { return l.path }

// Done is closed when the lock node changes or is deleted, or the session
// ends.
func (l *Lock) Done() <-chan struct{} { return l.done }

// Update creates or overwrites the persistent node p if the lock is still
// held.
func (l *Lock) Update(p string, data []byte) error {
	if err := validNode(p); err != nil {
		return err
	}
	c := l.c
	return c.do(func(conn *zk.Conn) error {
		for attempt := 1; ; attempt++ {
			_, err := l.multi(conn, "update", p, &zk.SetDataRequest{Path: p, Data: data, Version: -1})
			if err == nil || !errors.Is(err, zk.ErrNoNode) {
				return wrapOp("update", p, err)
			}
			if err := c.mkdir(conn, path.Dir(p)); err != nil {
				return err
			}
			_, err = l.multi(conn, "update", p, &zk.CreateRequest{Path: p, Data: data, Acl: c.acl(dataPerms)})
			if err == nil || !errors.Is(err, zk.ErrNodeExists) || attempt >= maxAttempts {
				return wrapOp("update", p, err)
			}
			// Lost a race with another creator: set it.
		}
	})
}

// Delete removes node p if the lock is still held; a missing node is fine.
func (l *Lock) Delete(p string) error {
	if err := validNode(p); err != nil {
		return err
	}
	return l.c.do(func(conn *zk.Conn) error {
		i, err := l.multi(conn, "delete", p, &zk.DeleteRequest{Path: p, Version: -1})
		if i == 0 && errors.Is(err, zk.ErrNoNode) {
			return nil
		}
		return wrapOp("delete", p, err)
	})
}

// Release deletes the lock node if it is still held.
func (l *Lock) Release() error {
	l.mu.Lock()
	released := l.released
	l.mu.Unlock()
	if released {
		return nil
	}
	err := l.c.do(func(conn *zk.Conn) error {
		_, err := l.multi(conn, "release", l.path, &zk.DeleteRequest{Path: l.path, Version: lockVersion})
		return wrapOp("release", l.path, err)
	})
	if err == nil || errors.Is(err, fence.ErrLockLost) {
		l.mu.Lock()
		l.released = true
		l.mu.Unlock()
	}
	return err
}

// wrapOp decorates err with the operation, unless it is nil or already a
// lock-lost error (which names them).
func wrapOp(op, p string, err error) error {
	if err == nil || errors.Is(err, fence.ErrLockLost) {
		return err
	}
	return fmt.Errorf("zk: %s %s: %w", op, p, err)
}
