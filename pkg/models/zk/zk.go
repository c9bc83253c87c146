// Package zk is the ZooKeeper coordinator backend (SPEC-control §1.3),
// built on github.com/samuel/go-zookeeper.
//
// The client connects lazily on the first operation and waits, up to its
// timeout, for a session; the timeout is also the ZooKeeper session timeout
// and bounds every operation. Directory nodes created implicitly get all
// permissions, data nodes read/write/admin only, for world:anyone or, with
// auth, for the digest identity user:BASE64(SHA1(user:password)).
//
// When an operation fails because of the connection (not because of the
// node's state), the connection is dropped if it is older than a second and
// the next operation reconnects with a new session; ephemeral nodes of the
// old session go away and their signals fire.
//
// AcquireLock (lock.go) makes the dashboard lock: an ephemeral node that
// dies with the session, with writes fenced by multi transactions.
//
// The package satisfies models.Client and models.Locker structurally; it
// does not import pkg/models.
package zk

import (
	"errors"
	"fmt"
	iofs "io/fs"
	"path"
	"sort"
	"strings"
	"sync"
	"time"

	"github.com/samuel/go-zookeeper/zk"

	"github.com/codisgo/codis/pkg/models/fence"
)

// DefaultTimeout is the session and operation timeout used when New is
// given a timeout <= 0.
const DefaultTimeout = 5 * time.Second

// reconnectAge is how old a connection must be before a failed operation
// drops it (so a flapping server does not cause a reconnect storm).
const reconnectAge = time.Second

var (
	// ErrClosed is returned by every operation after Close.
	ErrClosed = errors.New("use of closed zk client")
	// ErrInvalidAuth reports an auth string that is not user:password with
	// a non-empty user.
	ErrInvalidAuth = errors.New("invalid auth")
	// ErrInvalidPath reports a node path that is not absolute and clean.
	ErrInvalidPath = errors.New("zk: invalid path")
	// ErrTimeout is returned when connecting or an operation takes longer
	// than the client timeout.
	ErrTimeout = errors.New("zk: timed out")
	// ErrNotFound is wrapped by Read and List with must set on a missing
	// node; it also matches zk.ErrNoNode and io/fs.ErrNotExist.
	ErrNotFound error = &nodeError{"node does not exist", []error{zk.ErrNoNode, iofs.ErrNotExist}}
	// ErrExists is wrapped by Create and CreateEphemeral on an existing
	// node; it also matches zk.ErrNodeExists and io/fs.ErrExist.
	ErrExists error = &nodeError{"node already exists", []error{zk.ErrNodeExists, iofs.ErrExist}}
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

// Permissions (SPEC-control §1.3).
const (
	dirPerms  = zk.PermAll
	dataPerms = zk.PermRead | zk.PermWrite | zk.PermAdmin
)

// Client is a ZooKeeper coordinator client. It is safe for concurrent use.
type Client struct {
	addrs    []string
	user     string // empty: no auth, world:anyone ACLs
	password string
	timeout  time.Duration

	done      chan struct{} // closed by Close
	closeOnce sync.Once
	wg        sync.WaitGroup // event drainers and watch goroutines

	connecting chan struct{} // holds a token while one caller connects

	mu     sync.Mutex // guards the fields below and wg.Add
	conn   *zk.Conn
	connAt time.Time
	closed bool
}

// New returns a client for the comma separated address list addrs. auth
// is "" or "user:password" with a non-empty user. It does no I/O.
func New(addrs, auth string, timeout time.Duration) (*Client, error) {
	var list []string
	for _, a := range strings.Split(addrs, ",") {
		if a = strings.TrimSpace(a); a != "" {
			list = append(list, a)
		}
	}
	if len(list) == 0 {
		return nil, fmt.Errorf("zk: empty address list %q", addrs)
	}
	c := &Client{addrs: list, timeout: timeout, done: make(chan struct{}), connecting: make(chan struct{}, 1)}
	if c.timeout <= 0 {
		c.timeout = DefaultTimeout
	}
	if auth != "" {
		user, password, ok := strings.Cut(auth, ":")
		if !ok || user == "" {
			return nil, ErrInvalidAuth
		}
		c.user, c.password = user, password
	}
	return c, nil
}

func (c *Client) acl(perms int32) []zk.ACL {
	if c.user == "" {
		return zk.WorldACL(perms)
	}
	return zk.DigestACL(perms, c.user, c.password)
}

type nopLogger struct{}

func (nopLogger) Printf(string, ...interface{}) {}

// spawn runs fn in a goroutine tracked by wg, unless the client is
// closed (then it returns false and does not run fn).
func (c *Client) spawn(fn func()) bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.closed {
		return false
	}
	c.wg.Add(1)
	go func() {
		defer c.wg.Done()
		fn()
	}()
	return true
}

// closeConn closes a connection in the background: the library's Close
// waits up to a second for the server to acknowledge, which must not
// delay the caller's error.
func (c *Client) closeConn(conn *zk.Conn) {
	if !c.spawn(conn.Close) {
		conn.Close()
	}
}

// current returns the current connection, if any.
func (c *Client) current() (*zk.Conn, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.closed {
		return nil, ErrClosed
	}
	return c.conn, nil
}

// getConn returns the current connection, connecting (and waiting for a
// session) if there is none. Only one caller connects at a time; the
// others wait for it, all until their own deadline.
func (c *Client) getConn(deadline time.Time) (*zk.Conn, error) {
	if conn, err := c.current(); conn != nil || err != nil {
		return conn, err
	}
	timer := time.NewTimer(time.Until(deadline))
	defer timer.Stop()
	timeoutErr := fmt.Errorf("%w connecting to %s after %v", ErrTimeout, strings.Join(c.addrs, ","), c.timeout)
	select {
	case c.connecting <- struct{}{}:
		defer func() { <-c.connecting }()
	case <-timer.C:
		return nil, timeoutErr
	case <-c.done:
		return nil, ErrClosed
	}
	if conn, err := c.current(); conn != nil || err != nil {
		return conn, err
	}

	conn, events, err := zk.Connect(c.addrs, c.timeout, zk.WithLogger(nopLogger{}), zk.WithLogInfo(false))
	if err != nil {
		return nil, fmt.Errorf("zk: connect %s: %w", strings.Join(c.addrs, ","), err)
	}
	ready := make(chan struct{})
	drain := func() {
		once := false
		// The library closes events when the connection is closed.
		for ev := range events {
			if ev.State == zk.StateHasSession && !once {
				once = true
				close(ready)
			}
		}
	}
	if !c.spawn(drain) {
		conn.Close()
		return nil, ErrClosed
	}
	select {
	case <-ready:
	case <-timer.C:
		c.closeConn(conn)
		return nil, timeoutErr
	case <-c.done:
		c.closeConn(conn)
		return nil, ErrClosed
	}
	if c.user != "" {
		if err := conn.AddAuth("digest", []byte(c.user+":"+c.password)); err != nil {
			c.closeConn(conn)
			return nil, fmt.Errorf("zk: add digest auth for user %q: %w", c.user, err)
		}
	}
	c.mu.Lock()
	if c.closed {
		c.mu.Unlock()
		c.closeConn(conn)
		return nil, ErrClosed
	}
	c.conn, c.connAt = conn, time.Now()
	c.mu.Unlock()
	return conn, nil
}

// reset drops conn if it is still the current connection and either force
// is set or it is older than reconnectAge.
func (c *Client) reset(conn *zk.Conn, force bool) {
	c.mu.Lock()
	if c.conn != conn || (!force && time.Since(c.connAt) < reconnectAge) {
		c.mu.Unlock()
		return
	}
	c.conn = nil
	c.mu.Unlock()
	c.closeConn(conn)
}

// nodeStateError reports errors that describe the node's state rather than a
// broken connection; they never cause a reconnect.
func nodeStateError(err error) bool {
	switch {
	case errors.Is(err, zk.ErrNoNode), errors.Is(err, zk.ErrNodeExists), errors.Is(err, zk.ErrNotEmpty),
		errors.Is(err, zk.ErrNoAuth), errors.Is(err, zk.ErrBadVersion), errors.Is(err, zk.ErrInvalidACL),
		errors.Is(err, zk.ErrNoChildrenForEphemerals), errors.Is(err, zk.ErrBadArguments),
		errors.Is(err, zk.ErrInvalidPath), errors.Is(err, iofs.ErrExist), errors.Is(err, iofs.ErrNotExist),
		errors.Is(err, ErrInvalidPath), errors.Is(err, fence.ErrLockLost):
		return true
	}
	return false
}

// do runs fn on a connection and applies the reconnect rule to
// connection-level failures. Getting a connection and running fn are each
// bounded by the client timeout (a fresh session is not thrown away just
// because connecting used up most of the caller's time).
func (c *Client) do(fn func(conn *zk.Conn) error) error {
	conn, err := c.getConn(time.Now().Add(c.timeout))
	if err != nil {
		return err
	}
	errc := make(chan error, 1)
	// The goroutine ends when the library answers the request; dropping
	// the connection below makes it answer at once with an error.
	go func() { errc <- fn(conn) }()
	timer := time.NewTimer(c.timeout)
	defer timer.Stop()
	select {
	case err = <-errc:
	case <-timer.C:
		c.reset(conn, true)
		return fmt.Errorf("%w: operation took longer than %v", ErrTimeout, c.timeout)
	}
	if err != nil && !nodeStateError(err) {
		c.reset(conn, false)
	}
	return err
}

func validPath(p string) error {
	if p == "" || p[0] != '/' || path.Clean(p) != p || strings.ContainsRune(p, 0) {
		return fmt.Errorf("%w %q: must be absolute and clean", ErrInvalidPath, p)
	}
	return nil
}

func validNode(p string) error {
	if err := validPath(p); err != nil {
		return err
	}
	if p == "/" {
		return fmt.Errorf("%w %q: not allowed on the root", ErrInvalidPath, p)
	}
	return nil
}

// mkdir makes dir and its missing parents as empty nodes with all
// permissions.
func (c *Client) mkdir(conn *zk.Conn, dir string) error {
	if dir == "/" {
		return nil
	}
	ok, _, err := conn.Exists(dir)
	if err != nil {
		return fmt.Errorf("zk: mkdir %s: %w", dir, err)
	}
	if ok {
		return nil
	}
	if err := c.mkdir(conn, path.Dir(dir)); err != nil {
		return err
	}
	if _, err := conn.Create(dir, nil, 0, c.acl(dirPerms)); err != nil && !errors.Is(err, zk.ErrNodeExists) {
		return fmt.Errorf("zk: mkdir %s: %w", dir, err)
	}
	return nil
}

// Create makes a persistent data node and fails if p exists.
func (c *Client) Create(p string, data []byte) error {
	if err := validNode(p); err != nil {
		return err
	}
	return c.do(func(conn *zk.Conn) error {
		if err := c.mkdir(conn, path.Dir(p)); err != nil {
			return err
		}
		_, err := conn.Create(p, data, 0, c.acl(dataPerms))
		if errors.Is(err, zk.ErrNodeExists) {
			return fmt.Errorf("zk: create %s: %w", p, ErrExists)
		}
		if err != nil {
			return fmt.Errorf("zk: create %s: %w", p, err)
		}
		return nil
	})
}

// Update creates or overwrites the persistent data node p.
func (c *Client) Update(p string, data []byte) error {
	if err := validNode(p); err != nil {
		return err
	}
	return c.do(func(conn *zk.Conn) error {
		_, err := conn.Set(p, data, -1)
		if errors.Is(err, zk.ErrNoNode) {
			if err = c.mkdir(conn, path.Dir(p)); err != nil {
				return err
			}
			_, err = conn.Create(p, data, 0, c.acl(dataPerms))
			if errors.Is(err, zk.ErrNodeExists) {
				// Lost a race with another creator: overwrite.
				_, err = conn.Set(p, data, -1)
			}
		}
		if err != nil {
			return fmt.Errorf("zk: update %s: %w", p, err)
		}
		return nil
	})
}

// Delete removes node p (which must have no children); a missing node is
// fine.
func (c *Client) Delete(p string) error {
	if err := validNode(p); err != nil {
		return err
	}
	return c.do(func(conn *zk.Conn) error {
		if err := conn.Delete(p, -1); err != nil && !errors.Is(err, zk.ErrNoNode) {
			return fmt.Errorf("zk: delete %s: %w", p, err)
		}
		return nil
	})
}

// Read returns the data of node p; a missing node gives (nil, nil) unless
// must is set.
func (c *Client) Read(p string, must bool) ([]byte, error) {
	if err := validPath(p); err != nil {
		return nil, err
	}
	var data []byte
	err := c.do(func(conn *zk.Conn) error {
		b, _, err := conn.Get(p)
		switch {
		case err == nil:
			if b == nil {
				b = []byte{}
			}
			data = b
			return nil
		case errors.Is(err, zk.ErrNoNode):
			if must {
				return fmt.Errorf("zk: read %s: %w", p, ErrNotFound)
			}
			return nil
		default:
			return fmt.Errorf("zk: read %s: %w", p, err)
		}
	})
	if err != nil {
		return nil, err
	}
	return data, nil
}

func childPaths(dir string, names []string) []string {
	sort.Strings(names)
	out := make([]string, len(names))
	for i, n := range names {
		out[i] = path.Join(dir, n)
	}
	return out
}

// List returns the full paths of the children of p, sorted. A missing node
// gives (nil, nil) unless must is set.
func (c *Client) List(p string, must bool) ([]string, error) {
	if err := validPath(p); err != nil {
		return nil, err
	}
	var out []string
	err := c.do(func(conn *zk.Conn) error {
		names, _, err := conn.Children(p)
		switch {
		case err == nil:
			out = childPaths(p, names)
			return nil
		case errors.Is(err, zk.ErrNoNode):
			if must {
				return fmt.Errorf("zk: list %s: %w", p, ErrNotFound)
			}
			return nil
		default:
			return fmt.Errorf("zk: list %s: %w", p, err)
		}
	})
	if err != nil {
		return nil, err
	}
	return out, nil
}

// watch closes the returned channel when w delivers an event (the node
// changed or was deleted, or the watch was dropped with the session).
func (c *Client) watch(w <-chan zk.Event) <-chan struct{} {
	signal := make(chan struct{})
	ok := c.spawn(func() {
		defer close(signal)
		// The library sends one event on every watch channel, at the
		// latest when the connection is closed.
		<-w
	})
	if !ok {
		close(signal) // closed meanwhile: the session is gone
	}
	return signal
}

// createEphemeral creates an ephemeral node (sequential if seq) and
// watches it; it returns the node's actual path.
func (c *Client) createEphemeral(p string, data []byte, seq bool) (<-chan struct{}, string, error) {
	var signal <-chan struct{}
	var node string
	err := c.do(func(conn *zk.Conn) error {
		if err := c.mkdir(conn, path.Dir(p)); err != nil {
			return err
		}
		flags := int32(zk.FlagEphemeral)
		if seq {
			flags |= zk.FlagSequence
		}
		created, err := conn.Create(p, data, flags, c.acl(dataPerms))
		if errors.Is(err, zk.ErrNodeExists) {
			return fmt.Errorf("zk: create ephemeral %s: %w", p, ErrExists)
		}
		if err != nil {
			return fmt.Errorf("zk: create ephemeral %s: %w", p, err)
		}
		_, _, w, err := conn.GetW(created)
		if err != nil {
			_ = conn.Delete(created, -1)
			return fmt.Errorf("zk: watch ephemeral %s: %w", created, err)
		}
		signal, node = c.watch(w), created
		return nil
	})
	if err != nil {
		return nil, "", err
	}
	return signal, node, nil
}

// CreateEphemeral creates an ephemeral data node bound to the session; the
// returned channel is closed when the node changes, is deleted, or the
// session is lost.
func (c *Client) CreateEphemeral(p string, data []byte) (<-chan struct{}, error) {
	if err := validNode(p); err != nil {
		return nil, err
	}
	signal, _, err := c.createEphemeral(p, data, false)
	return signal, err
}

// CreateEphemeralInOrder creates a sequential ephemeral node under dir and
// returns its path.
func (c *Client) CreateEphemeralInOrder(dir string, data []byte) (<-chan struct{}, string, error) {
	if err := validPath(dir); err != nil {
		return nil, "", err
	}
	if dir == "/" {
		return c.createEphemeral("/", data, true)
	}
	return c.createEphemeral(dir+"/", data, true)
}

// WatchInOrder makes dir if needed and returns its sorted child paths and
// a channel closed when the set of children changes.
func (c *Client) WatchInOrder(dir string) (<-chan struct{}, []string, error) {
	if err := validPath(dir); err != nil {
		return nil, nil, err
	}
	var signal <-chan struct{}
	var out []string
	err := c.do(func(conn *zk.Conn) error {
		if err := c.mkdir(conn, dir); err != nil {
			return err
		}
		names, _, w, err := conn.ChildrenW(dir)
		if err != nil {
			return fmt.Errorf("zk: watch %s: %w", dir, err)
		}
		signal, out = c.watch(w), childPaths(dir, names)
		return nil
	})
	if err != nil {
		return nil, nil, err
	}
	return signal, out, nil
}

// Close ends the session (removing this client's ephemeral nodes and
// firing their signals) and waits for the client's goroutines. It is
// idempotent.
func (c *Client) Close() error {
	c.closeOnce.Do(func() {
		close(c.done)
		c.mu.Lock()
		c.closed = true
		conn := c.conn
		c.conn = nil
		c.mu.Unlock()
		if conn != nil {
			conn.Close()
		}
		c.wg.Wait()
	})
	return nil
}
