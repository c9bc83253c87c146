package fs

import (
	"bytes"
	"errors"
	"fmt"
	iofs "io/fs"
	"os"
	"sync"
	"syscall"
	"time"

	"github.com/codisgo/codis/pkg/models/fence"
)

// lockPollInterval is how often a Lock checks that its node still holds
// its data (the filesystem has no watches).
const lockPollInterval = 500 * time.Millisecond

// Lock is an exclusive lock held by a Client: a persistent node (it
// outlives the process, as in the original; only Release or --remove-lock
// deletes it). Its fencing token is the node's file: every fenced write
// first checks, under the global flock that the write holds anyway, that
// the node is still the very file AcquireLock wrote (same device, inode
// and modification time) and still holds the same data. Every write of a
// node renames a new file over it, so a lock node deleted and recreated,
// or overwritten, even with the same data, is not ours.
type Lock struct {
	c    *Client
	path string
	data []byte
	file os.FileInfo // the lock node's file as AcquireLock wrote it
	done chan struct{}
	stop chan struct{} // closed by Release

	mu       sync.Mutex
	released bool
	stopOnce sync.Once
}

var _ fence.Lock = (*Lock)(nil)

// EphemeralLocks reports that locks do not end with the process: they are
// persistent nodes.
func (c *Client) EphemeralLocks() bool { return false }

// AcquireLock creates the persistent node p with data and fails, with a
// *fence.HeldError matching ErrExists, if p exists. A goroutine checks the node every
// lockPollInterval and closes Done when it is no longer ours.
func (c *Client) AcquireLock(p string, data []byte) (fence.Lock, error) {
	l := &Lock{c: c, path: p, data: bytes.Clone(data), done: make(chan struct{}), stop: make(chan struct{})}
	if l.data == nil {
		l.data = []byte{}
	}
	err := c.with(p, func() error {
		if _, err := os.Lstat(c.realPath(p)); err == nil {
			return &fence.HeldError{Path: p, Err: fmt.Errorf("fs: acquire lock %s: %w", p, ErrExists)}
		} else if !errors.Is(err, iofs.ErrNotExist) {
			return fmt.Errorf("fs: acquire lock %s: %w", p, err)
		}
		if err := c.write(p, data); err != nil {
			return err
		}
		fi, err := os.Stat(c.realPath(p))
		if err != nil {
			return fmt.Errorf("fs: acquire lock %s: %w", p, err)
		}
		l.file = fi
		return nil
	})
	if err != nil {
		return nil, err
	}
	if !c.spawn(l.watch) {
		close(l.done)
	}
	return l, nil
}

// owned reports whether the lock node is still the file AcquireLock wrote,
// with the same data. The caller holds the flock.
func (l *Lock) owned() (bool, error) {
	name := l.c.realPath(l.path)
	fi, err := os.Stat(name)
	if err == nil {
		if !os.SameFile(fi, l.file) || !fi.ModTime().Equal(l.file.ModTime()) || fi.Size() != l.file.Size() {
			return false, nil
		}
		var b []byte
		if b, err = os.ReadFile(name); err == nil {
			return bytes.Equal(b, l.data), nil
		}
	}
	switch {
	case errors.Is(err, iofs.ErrNotExist), errors.Is(err, syscall.ENOTDIR), errors.Is(err, syscall.EISDIR):
		return false, nil
	default:
		return false, fmt.Errorf("fs: check lock %s: %w", l.path, err)
	}
}

func (l *Lock) watch() {
	defer close(l.done)
	t := time.NewTicker(lockPollInterval)
	defer t.Stop()
	for {
		select {
		case <-l.stop:
			return
		case <-l.c.quit:
			return
		case <-t.C:
		}
		var ok bool
		err := l.c.with(l.path, func() (err error) {
			ok, err = l.owned()
			return err
		})
		switch {
		case errors.Is(err, ErrClosed):
			return
		case err != nil:
			continue // busy or unreadable: check again later
		case !ok:
			return
		}
	}
}

// Path returns the lock node.
func (l *Lock) Path() string { return l.path }

// Done is closed when the lock node is no longer ours (it was deleted or
// overwritten), on Release and on Close.
func (l *Lock) Done() <-chan struct{} { return l.done }

// fenced runs fn under the flock if the lock is still held.
func (l *Lock) fenced(op, p string, fn func() error) error {
	l.mu.Lock()
	released := l.released
	l.mu.Unlock()
	if released {
		return fmt.Errorf("fs: %s %s: %w (released)", op, p, fence.ErrLockLost)
	}
	return l.c.with(p, func() error {
		ok, err := l.owned()
		if err != nil {
			return err
		}
		if !ok {
			return fmt.Errorf("fs: %s %s: %w (%s is no longer ours)", op, p, fence.ErrLockLost, l.path)
		}
		return fn()
	})
}

// Update creates or overwrites node p if the lock is still held.
func (l *Lock) Update(p string, data []byte) error {
	return l.fenced("update", p, func() error { return l.c.write(p, data) })
}

// Delete removes node p (and everything below it) if the lock is still
// held; a missing node is fine.
func (l *Lock) Delete(p string) error {
	return l.fenced("delete", p, func() error { return l.c.remove(p) })
}

// Release deletes the lock node if it is still held and stops watching it.
func (l *Lock) Release() error {
	l.mu.Lock()
	released := l.released
	l.mu.Unlock()
	if released {
		return nil
	}
	err := l.fenced("release", l.path, func() error { return l.c.remove(l.path) })
	if err == nil || errors.Is(err, fence.ErrLockLost) {
		l.mu.Lock()
		l.released = true
		l.mu.Unlock()
		l.stopOnce.Do(func() { close(l.stop) })
	}
	return err
}
