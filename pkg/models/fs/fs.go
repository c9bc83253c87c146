// Package fs is the filesystem coordinator backend: the node tree is a
// directory tree on local disk (SPEC-control §1.5).
//
// Layout under the root directory:
//
//	{root}/data/...   mirror of the node tree; node /a/b is file {root}/data/a/b
//	{root}/temp/      temporary files, renamed over their targets
//	{root}/data.lck   global lock file
//
// Every operation, reads included, holds an exclusive flock on data.lck.
// Unlike the original (which failed at once when the lock was busy), a
// client waits for the lock, polling, for up to its timeout; several
// processes can therefore share one root. Writes go to a temp file that is
// synced and renamed over the target, so a reader never sees a half-written
// node. Ephemeral nodes and watches are not supported; locks (AcquireLock)
// are persistent nodes whose fenced writes compare the lock's content
// under the flock.
//
// The package satisfies models.Client and models.Locker structurally; it
// does not import pkg/models.
package fs

import (
	"encoding/json"
	"errors"
	"fmt"
	iofs "io/fs"
	"os"
	"path"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"time"
)

// DefaultTimeout bounds the wait for the lock when New is given a timeout
// <= 0.
const DefaultTimeout = 5 * time.Second

var (
	// ErrClosed is returned by every operation after Close.
	ErrClosed = errors.New("use of closed fs client")
	// ErrNotSupported is returned by the ephemeral and watch operations.
	ErrNotSupported = errors.New("not supported")
	// ErrLockTimeout is returned when the lock file stays busy for the
	// whole client timeout.
	ErrLockTimeout = errors.New("fs: timed out waiting for lock")
	// ErrInvalidPath reports a node path that is not absolute and clean.
	ErrInvalidPath = errors.New("fs: invalid path")
	// ErrNotFound is wrapped by Read and List with must set on a missing
	// node; it also matches io/fs.ErrNotExist.
	ErrNotFound error = &nodeError{"node does not exist", []error{iofs.ErrNotExist}}
	// ErrExists is wrapped by Create on an existing node; it also matches
	// io/fs.ErrExist.
	ErrExists error = &nodeError{"file already exists", []error{iofs.ErrExist}}
)

// nodeError is a sentinel with its own text that also matches a standard
// error (io/fs.ErrNotExist, io/fs.ErrExist) through errors.Is, so callers
// can test every backend the same way.
type nodeError struct {
	msg  string
	also []error
}

func (e *nodeError) Error() string { return e.msg }

func (e *nodeError) Is(target error) bool {
	for _, t := range e.also {
		if target == t {
			return true
		}
	}
	return false
}

// Client is a filesystem coordinator client. It is safe for concurrent use.
type Client struct {
	root    string // absolute root directory
	timeout time.Duration

	// sem serialises this client's operations (a buffered channel of one,
	// so the wait can be bounded); other processes and clients are kept
	// out by the flock.
	sem    chan struct{}
	closed atomic.Bool

	quit      chan struct{} // closed by Close
	closeOnce sync.Once
	mu        sync.Mutex     // orders wg.Add with Close
	wg        sync.WaitGroup // lock watchers
}

// New returns a client for the directory root. It does no I/O: the
// directories are created by the first operation. timeout bounds the wait
// for the lock file (<= 0 means DefaultTimeout).
func New(root string, timeout time.Duration) (*Client, error) {
	if root == "" {
		return nil, errors.New("fs: empty root directory")
	}
	abs, err := filepath.Abs(root)
	if err != nil {
		return nil, fmt.Errorf("fs: root %q: %w", root, err)
	}
	if timeout <= 0 {
		timeout = DefaultTimeout
	}
	return &Client{root: abs, timeout: timeout, sem: make(chan struct{}, 1), quit: make(chan struct{})}, nil
}

// Root returns the absolute root directory.
func (c *Client) Root() string { return c.root }

// LockPath returns the path of the lock file.
func (c *Client) LockPath() string { return filepath.Join(c.root, "data.lck") }

func (c *Client) dataDir() string { return filepath.Join(c.root, "data") }
func (c *Client) tempDir() string { return filepath.Join(c.root, "temp") }

// validPath checks that p is an absolute, clean node path.
func validPath(p string) error {
	if p == "" || p[0] != '/' || path.Clean(p) != p || strings.ContainsRune(p, 0) {
		return fmt.Errorf("%w %q: must be absolute and clean", ErrInvalidPath, p)
	}
	return nil
}

// realPath maps node path p to its file under the data directory.
func (c *Client) realPath(p string) string {
	return filepath.Join(c.dataDir(), filepath.FromSlash(strings.TrimPrefix(p, "/")))
}

// with runs fn holding both the client mutex and the global file lock.
func (c *Client) with(p string, fn func() error) error {
	if err := validPath(p); err != nil {
		return err
	}
	if c.closed.Load() {
		return ErrClosed
	}
	deadline := time.Now().Add(c.timeout)
	timer := time.NewTimer(c.timeout)
	select {
	case c.sem <- struct{}{}:
		timer.Stop()
	case <-timer.C:
		return fmt.Errorf("%w %s after %v (busy in this process)", ErrLockTimeout, c.LockPath(), c.timeout)
	}
	defer func() { <-c.sem }()
	if c.closed.Load() {
		return ErrClosed
	}
	unlock, err := c.lock(deadline)
	if err != nil {
		return err
	}
	err = fn()
	if uerr := unlock(); err == nil {
		err = uerr
	}
	return err
}

// lock takes the exclusive flock on data.lck, polling until the client
// timeout, and records the holder in the file. The returned function
// truncates the file and releases the lock.
func (c *Client) lock(deadline time.Time) (func() error, error) {
	if err := os.MkdirAll(c.root, 0o755); err != nil {
		return nil, fmt.Errorf("fs: create root: %w", err)
	}
	name := c.LockPath()
	f, err := os.OpenFile(name, os.O_RDWR|os.O_CREATE, 0o644)
	if err != nil {
		return nil, fmt.Errorf("fs: open lock file: %w", err)
	}
	fd := int(f.Fd())
	wait := 50 * time.Microsecond
	for {
		err = syscall.Flock(fd, syscall.LOCK_EX|syscall.LOCK_NB)
		if err == nil {
			break
		}
		if !errors.Is(err, syscall.EWOULDBLOCK) && !errors.Is(err, syscall.EINTR) {
			f.Close()
			return nil, fmt.Errorf("fs: lock %s: %w", name, err)
		}
		if !time.Now().Before(deadline) {
			f.Close()
			return nil, fmt.Errorf("%w %s after %v", ErrLockTimeout, name, c.timeout)
		}
		time.Sleep(wait)
		if wait < 2*time.Millisecond {
			wait *= 2
		}
	}
	holder, _ := json.MarshalIndent(struct {
		Now string `json:"now"`
		Pid int    `json:"pid"`
	}{time.Now().Round(0).String(), os.Getpid()}, "", "    ")
	if err := f.Truncate(0); err == nil {
		_, _ = f.WriteAt(holder, 0)
	}
	return func() error {
		terr := f.Truncate(0)
		uerr := syscall.Flock(fd, syscall.LOCK_UN)
		cerr := f.Close()
		if err := errors.Join(terr, uerr, cerr); err != nil {
			return fmt.Errorf("fs: release lock %s: %w", name, err)
		}
		return nil
	}, nil
}

// write stores data at node p atomically: temp file, fsync, rename.
func (c *Client) write(p string, data []byte) error {
	if p == "/" {
		return fmt.Errorf("%w %q: cannot write the root", ErrInvalidPath, p)
	}
	target := c.realPath(p)
	if err := os.MkdirAll(filepath.Dir(target), 0o755); err != nil {
		return fmt.Errorf("fs: create parents of %s: %w", p, err)
	}
	if err := os.MkdirAll(c.tempDir(), 0o755); err != nil {
		return fmt.Errorf("fs: create temp dir: %w", err)
	}
	tmp, err := os.CreateTemp(c.tempDir(), fmt.Sprintf("%d.*", time.Now().Unix()))
	if err != nil {
		return fmt.Errorf("fs: write %s: %w", p, err)
	}
	_, err = tmp.Write(data)
	if err == nil {
		err = tmp.Sync()
	}
	if cerr := tmp.Close(); err == nil {
		err = cerr
	}
	if err == nil {
		err = os.Rename(tmp.Name(), target)
	}
	if err != nil {
		os.Remove(tmp.Name())
		return fmt.Errorf("fs: write %s: %w", p, err)
	}
	return nil
}

// Create writes a new node and fails if p already exists.
func (c *Client) Create(p string, data []byte) error {
	return c.with(p, func() error {
		if _, err := os.Lstat(c.realPath(p)); err == nil {
			return fmt.Errorf("fs: create %s: %w", p, ErrExists)
		} else if !errors.Is(err, iofs.ErrNotExist) {
			return fmt.Errorf("fs: create %s: %w", p, err)
		}
		return c.write(p, data)
	})
}

// Update creates or overwrites node p.
func (c *Client) Update(p string, data []byte) error {
	return c.with(p, func() error { return c.write(p, data) })
}

// Delete removes node p and everything below it; a missing node is fine.
// Empty parent directories are left behind, as in the original.
func (c *Client) Delete(p string) error {
	return c.with(p, func() error { return c.remove(p) })
}

// remove deletes node p and everything below it. The caller holds the
// flock.
func (c *Client) remove(p string) error {
	if p == "/" {
		return fmt.Errorf("%w %q: cannot delete the root", ErrInvalidPath, p)
	}
	if err := os.RemoveAll(c.realPath(p)); err != nil {
		return fmt.Errorf("fs: delete %s: %w", p, err)
	}
	return nil
}

// Read returns the data of node p; a missing node gives (nil, nil) unless
// must is set.
func (c *Client) Read(p string, must bool) ([]byte, error) {
	var data []byte
	err := c.with(p, func() error {
		b, err := os.ReadFile(c.realPath(p))
		switch {
		case err == nil:
			data = b
			return nil
		case errors.Is(err, iofs.ErrNotExist) || errors.Is(err, syscall.ENOTDIR):
			if must {
				return fmt.Errorf("fs: read %s: %w", p, ErrNotFound)
			}
			return nil
		case errors.Is(err, syscall.EISDIR):
			return fmt.Errorf("fs: read %s: is a directory", p)
		default:
			return fmt.Errorf("fs: read %s: %w", p, err)
		}
	})
	if err != nil {
		return nil, err
	}
	return data, nil
}

// List returns the full paths of the children of p, sorted by name. A
// missing directory gives (nil, nil) unless must is set; listing a file is
// an error.
func (c *Client) List(p string, must bool) ([]string, error) {
	var out []string
	err := c.with(p, func() error {
		dir := c.realPath(p)
		if p == "/" {
			dir = c.dataDir()
		}
		entries, err := os.ReadDir(dir)
		switch {
		case err == nil:
		case errors.Is(err, syscall.ENOTDIR):
			return fmt.Errorf("fs: list %s: not a directory", p)
		case errors.Is(err, iofs.ErrNotExist):
			if must {
				return fmt.Errorf("fs: list %s: %w", p, ErrNotFound)
			}
			return nil
		default:
			return fmt.Errorf("fs: list %s: %w", p, err)
		}
		out = make([]string, 0, len(entries))
		for _, e := range entries {
			out = append(out, path.Join(p, e.Name()))
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	return out, nil
}

// Close marks the client closed and stops the watchers of its locks
// (firing their Done channels). It is idempotent.
func (c *Client) Close() error {
	c.closeOnce.Do(func() {
		c.mu.Lock()
		c.closed.Store(true)
		close(c.quit)
		c.mu.Unlock()
		c.wg.Wait()
	})
	return nil
}

// spawn runs fn in a goroutine that Close waits for, unless the client is
// closed (then it returns false).
func (c *Client) spawn(fn func()) bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.closed.Load() {
		return false
	}
	c.wg.Add(1)
	go func() {
		defer c.wg.Done()
		fn()
	}()
	return true
}

func (c *Client) unsupported() error {
	if c.closed.Load() {
		return ErrClosed
	}
	return fmt.Errorf("fs: %w", ErrNotSupported)
}

// CreateEphemeral is not supported by the filesystem backend.
func (c *Client) CreateEphemeral(p string, data []byte) (<-chan struct{}, error) {
	return nil, c.unsupported()
}

// CreateEphemeralInOrder is not supported by the filesystem backend.
func (c *Client) CreateEphemeralInOrder(dir string, data []byte) (<-chan struct{}, string, error) {
	return nil, "", c.unsupported()
}

// WatchInOrder is not supported by the filesystem backend.
func (c *Client) WatchInOrder(dir string) (<-chan struct{}, []string, error) {
	return nil, nil, c.unsupported()
}
