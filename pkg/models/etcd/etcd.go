// Package etcd is the etcd coordinator backend. It uses the etcd v3 API
// (go.etcd.io/etcd/client/v3), a decided departure from the original's v2
// keys API (SPEC-control §1.4): data written here is invisible to original
// Codis components using v2.
//
// Keys are the codis paths verbatim. Directories are emulated by prefix:
// the children of /a/b are the distinct first path segments of the keys
// below "/a/b/". A "directory" has no value of its own; reading one is an
// error (ErrNotFile), as is listing a key with a value and no children
// (ErrNotDir).
//
// Ephemeral nodes are attached to a lease (TTL = the client timeout in
// whole seconds, at least 1) that the client keeps alive; the lease is
// revoked on Close. Every operation is bounded by the client timeout.
//
// AcquireLock (lock.go) makes the dashboard lock: a key on the client's
// lease, with writes fenced by transactions comparing its revision.
//
// The package satisfies models.Client and models.Locker structurally; it
// does not import pkg/models.
package etcd

import (
	"context"
	"errors"
	"fmt"
	iofs "io/fs"
	"path"
	"sort"
	"strings"
	"sync"
	"time"

	clientv3 "go.etcd.io/etcd/client/v3"
	"go.uber.org/zap"
)

// DefaultTimeout is used when New is given a timeout <= 0.
const DefaultTimeout = 5 * time.Second

// maxRevokeWait bounds how long Close waits to revoke the lease.
const maxRevokeWait = 5 * time.Second

var (
	// ErrClosed is returned by every operation after Close.
	ErrClosed = errors.New("use of closed etcd client")
	// ErrInvalidAuth reports an auth string that is not user:password with
	// a non-empty user.
	ErrInvalidAuth = errors.New("invalid auth")
	// ErrInvalidPath reports a node path that is not absolute and clean.
	ErrInvalidPath = errors.New("etcd: invalid path")
	// ErrNotFile is returned by Read on a key that only has children.
	ErrNotFile = errors.New("etcd: not a file")
	// ErrNotDir is returned by List on a key that has a value and no
	// children.
	ErrNotDir = errors.New("etcd: not a dir")
	// ErrLeaseLost is returned when the client's lease expired between its
	// grant and its use.
	ErrLeaseLost = errors.New("etcd: lease lost")
	// ErrNotFound is wrapped by Read and List with must set on a missing
	// key; it also matches io/fs.ErrNotExist.
	ErrNotFound error = &nodeError{"key does not exist", []error{iofs.ErrNotExist}}
	// ErrExists is wrapped by Create and CreateEphemeral on an existing
	// key; it also matches io/fs.ErrExist.
	ErrExists error = &nodeError{"key already exists", []error{iofs.ErrExist}}
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

// Client is an etcd coordinator client. It is safe for concurrent use.
type Client struct {
	endpoints []string
	user      string
	password  string
	timeout   time.Duration
	ttl       int64 // lease TTL in seconds

	ctx       context.Context // cancelled by Close; parent of every operation
	cancel    context.CancelFunc
	closeOnce sync.Once
	wg        sync.WaitGroup // keep-alive and watch goroutines

	mu        sync.Mutex // guards the fields below and wg.Add
	cli       *clientv3.Client
	dialing   *dialAttempt // non-nil while clientv3.New runs
	lease     clientv3.LeaseID
	leaseDone chan struct{} // closed when lease is lost; nil when none
	closed    bool
}

// New returns a client for the comma separated endpoints ("http://" is
// added to those without a scheme). auth is "" or "user:password" with a
// non-empty user. It does no I/O.
func New(endpoints, auth string, timeout time.Duration) (*Client, error) {
	var list []string
	for _, e := range strings.Split(endpoints, ",") {
		e = strings.TrimSpace(e)
		if e == "" {
			continue
		}
		if !strings.Contains(e, "://") {
			e = "http://" + e
		}
		list = append(list, e)
	}
	if len(list) == 0 {
		return nil, fmt.Errorf("etcd: empty endpoint list %q", endpoints)
	}
	if timeout <= 0 {
		timeout = DefaultTimeout
	}
	ttl := int64(timeout / time.Second)
	if ttl < 1 {
		ttl = 1
	}
	c := &Client{endpoints: list, timeout: timeout, ttl: ttl}
	if auth != "" {
		user, password, ok := strings.Cut(auth, ":")
		if !ok || user == "" {
			return nil, ErrInvalidAuth
		}
		c.user, c.password = user, password
	}
	c.ctx, c.cancel = context.WithCancel(context.Background())
	return c, nil
}

// dialAttempt is one run of clientv3.New (which authenticates, so it can
// take up to the timeout); concurrent callers share it.
type dialAttempt struct {
	done chan struct{}
	cli  *clientv3.Client
	err  error
}

// spawn runs fn in a goroutine tracked by wg, unless the client is closed
// (then it returns false). c.mu must not be held.
func (c *Client) spawn(fn func()) bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.spawnLocked(fn)
}

func (c *Client) spawnLocked(fn func()) bool {
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

// getClient returns the etcd client, creating it on first use. Every
// caller waits at most until its own deadline.
func (c *Client) getClient(deadline time.Time) (*clientv3.Client, error) {
	c.mu.Lock()
	if c.closed {
		c.mu.Unlock()
		return nil, ErrClosed
	}
	if c.cli != nil {
		cli := c.cli
		c.mu.Unlock()
		return cli, nil
	}
	a := c.dialing
	if a == nil {
		a = &dialAttempt{done: make(chan struct{})}
		c.dialing = a
		c.spawnLocked(func() { c.dial(a) })
	}
	c.mu.Unlock()

	timer := time.NewTimer(time.Until(deadline))
	defer timer.Stop()
	select {
	case <-a.done:
		return a.cli, a.err
	case <-timer.C:
		return nil, fmt.Errorf("etcd: connect %s: no answer within %v: %w", strings.Join(c.endpoints, ","), c.timeout, context.DeadlineExceeded)
	case <-c.ctx.Done():
		return nil, ErrClosed
	}
}

// dial runs clientv3.New for attempt a and publishes the result.
func (c *Client) dial(a *dialAttempt) {
	cli, err := clientv3.New(clientv3.Config{
		Endpoints:            c.endpoints,
		DialTimeout:          c.timeout,
		DialKeepAliveTime:    c.timeout,
		DialKeepAliveTimeout: c.timeout,
		Username:             c.user,
		Password:             c.password,
		Context:              c.ctx, // Close cancels a dial in progress
		Logger:               zap.NewNop(),
	})
	if err != nil {
		err = c.wrap("connect", strings.Join(c.endpoints, ","), err)
	}
	c.mu.Lock()
	c.dialing = nil
	if err == nil && c.closed {
		cli.Close()
		err = ErrClosed
	}
	if err == nil {
		c.cli = cli
	}
	a.cli, a.err = cli, err
	c.mu.Unlock()
	close(a.done)
}

// wrap decorates an error from the etcd client with the operation and
// path, and reports a closed client or a timeout plainly.
func (c *Client) wrap(op, p string, err error) error {
	switch {
	case c.ctx.Err() != nil:
		return ErrClosed
	case errors.Is(err, context.DeadlineExceeded):
		return fmt.Errorf("etcd: %s %s: no answer from %s within %v: %w", op, p, strings.Join(c.endpoints, ","), c.timeout, err)
	default:
		return fmt.Errorf("etcd: %s %s: %w", op, p, err)
	}
}

// op runs fn with the client and a context bounded by the timeout.
func (c *Client) op(fn func(ctx context.Context, cli *clientv3.Client) error) error {
	deadline := time.Now().Add(c.timeout)
	cli, err := c.getClient(deadline)
	if err != nil {
		return err
	}
	ctx, cancel := context.WithDeadline(c.ctx, deadline)
	defer cancel()
	return fn(ctx, cli)
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

// dirPrefix is the key prefix of the children of p.
func dirPrefix(p string) string {
	if p == "/" {
		return "/"
	}
	return p + "/"
}

// Create makes a key and fails if it exists.
func (c *Client) Create(p string, data []byte) error {
	if err := validNode(p); err != nil {
		return err
	}
	return c.op(func(ctx context.Context, cli *clientv3.Client) error {
		resp, err := cli.Txn(ctx).
			If(clientv3.Compare(clientv3.CreateRevision(p), "=", 0)).
			Then(clientv3.OpPut(p, string(data))).
			Commit()
		if err != nil {
			return c.wrap("create", p, err)
		}
		if !resp.Succeeded {
			return fmt.Errorf("etcd: create %s: %w", p, ErrExists)
		}
		return nil
	})
}

// Update creates or overwrites a key.
func (c *Client) Update(p string, data []byte) error {
	if err := validNode(p); err != nil {
		return err
	}
	return c.op(func(ctx context.Context, cli *clientv3.Client) error {
		if _, err := cli.Put(ctx, p, string(data)); err != nil {
			return c.wrap("update", p, err)
		}
		return nil
	})
}

// Delete removes a key (not the keys below it); a missing key is fine.
func (c *Client) Delete(p string) error {
	if err := validNode(p); err != nil {
		return err
	}
	return c.op(func(ctx context.Context, cli *clientv3.Client) error {
		if _, err := cli.Delete(ctx, p); err != nil {
			return c.wrap("delete", p, err)
		}
		return nil
	})
}

// Read returns the value of key p; a missing key gives (nil, nil) unless
// must is set. A key with children but no value is ErrNotFile.
func (c *Client) Read(p string, must bool) ([]byte, error) {
	if err := validPath(p); err != nil {
		return nil, err
	}
	var data []byte
	err := c.op(func(ctx context.Context, cli *clientv3.Client) error {
		resp, err := cli.Txn(ctx).Then(
			clientv3.OpGet(p),
			clientv3.OpGet(dirPrefix(p), clientv3.WithPrefix(), clientv3.WithCountOnly()),
		).Commit()
		if err != nil {
			return c.wrap("read", p, err)
		}
		if kvs := resp.Responses[0].GetResponseRange().Kvs; len(kvs) > 0 {
			data = kvs[0].Value
			if data == nil {
				data = []byte{}
			}
			return nil
		}
		switch {
		case resp.Responses[1].GetResponseRange().Count > 0:
			return fmt.Errorf("%w: %s", ErrNotFile, p)
		case must:
			return fmt.Errorf("etcd: read %s: %w", p, ErrNotFound)
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	return data, nil
}

// children returns the sorted, deduplicated full paths of the direct
// children of p among keys (all of which start with dirPrefix(p)).
func children(p string, keys []string) []string {
	prefix := dirPrefix(p)
	seen := make(map[string]bool)
	var out []string
	for _, k := range keys {
		name, _, _ := strings.Cut(strings.TrimPrefix(k, prefix), "/")
		if name == "" || seen[name] {
			continue
		}
		seen[name] = true
		out = append(out, prefix+name)
	}
	sort.Strings(out)
	return out
}

// List returns the full paths of the direct children of p, sorted. A path
// with neither value nor children gives (nil, nil) unless must is set; a
// key with a value and no children is ErrNotDir.
func (c *Client) List(p string, must bool) ([]string, error) {
	if err := validPath(p); err != nil {
		return nil, err
	}
	var out []string
	err := c.op(func(ctx context.Context, cli *clientv3.Client) error {
		resp, err := cli.Txn(ctx).Then(
			clientv3.OpGet(dirPrefix(p), clientv3.WithPrefix(), clientv3.WithKeysOnly()),
			clientv3.OpGet(p, clientv3.WithCountOnly()),
		).Commit()
		if err != nil {
			return c.wrap("list", p, err)
		}
		kvs := resp.Responses[0].GetResponseRange().Kvs
		keys := make([]string, len(kvs))
		for i, kv := range kvs {
			keys[i] = string(kv.Key)
		}
		out = children(p, keys)
		switch {
		case len(out) > 0:
			return nil
		case resp.Responses[1].GetResponseRange().Count > 0:
			return fmt.Errorf("%w: %s", ErrNotDir, p)
		case must:
			return fmt.Errorf("etcd: list %s: %w", p, ErrNotFound)
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	return out, nil
}

// session returns the client's lease, granting it and starting its
// keep-alive if there is none or the previous one was lost.
func (c *Client) session(ctx context.Context, cli *clientv3.Client) (clientv3.LeaseID, <-chan struct{}, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.closed {
		return 0, nil, ErrClosed
	}
	if c.leaseDone != nil {
		select {
		case <-c.leaseDone:
		default:
			return c.lease, c.leaseDone, nil
		}
	}
	grant, err := cli.Grant(ctx, c.ttl)
	if err != nil {
		return 0, nil, c.wrap("grant lease for", "ephemeral nodes", err)
	}
	kctx, kcancel := context.WithCancel(c.ctx)
	ka, err := cli.KeepAlive(kctx, grant.ID)
	if err != nil {
		kcancel()
		return 0, nil, c.wrap("keep alive lease for", "ephemeral nodes", err)
	}
	done := make(chan struct{})
	c.spawnLocked(func() {
		defer close(done)
		defer kcancel()
		// The channel closes when the lease expires or is revoked, when
		// no keep-alive succeeds before the TTL runs out, or on Close.
		for range ka {
		}
	})
	c.lease, c.leaseDone = grant.ID, done
	return grant.ID, done, nil
}

// watch closes the returned channel when an event on key (or, with
// prefix, below it) passes keep, when leaseDone closes, or on Close.
func (c *Client) watch(cli *clientv3.Client, key string, rev int64, prefix bool, keep func(*clientv3.Event) bool, leaseDone <-chan struct{}) <-chan struct{} {
	signal := make(chan struct{})
	wctx, wcancel := context.WithCancel(c.ctx)
	opts := []clientv3.OpOption{clientv3.WithRev(rev)}
	if prefix {
		opts = append(opts, clientv3.WithPrefix())
	}
	wch := cli.Watch(wctx, key, opts...)
	ok := c.spawn(func() {
		defer close(signal)
		defer wcancel()
		for {
			select {
			case resp, ok := <-wch:
				if !ok || resp.Canceled || resp.Err() != nil {
					return
				}
				for _, ev := range resp.Events {
					if keep(ev) {
						return
					}
				}
			case <-leaseDone:
				return
			case <-c.ctx.Done():
				return
			}
		}
	})
	if !ok {
		wcancel()
		close(signal) // closed meanwhile: the lease is revoked
	}
	return signal
}

func anyEvent(*clientv3.Event) bool { return true }

// CreateEphemeral creates key p attached to the client's lease; it fails
// if p exists. The returned channel is closed when the key changes or is
// deleted, or when the lease is lost.
func (c *Client) CreateEphemeral(p string, data []byte) (<-chan struct{}, error) {
	if err := validNode(p); err != nil {
		return nil, err
	}
	var signal <-chan struct{}
	err := c.op(func(ctx context.Context, cli *clientv3.Client) error {
		lease, leaseDone, err := c.session(ctx, cli)
		if err != nil {
			return err
		}
		resp, err := cli.Txn(ctx).
			If(clientv3.Compare(clientv3.CreateRevision(p), "=", 0)).
			Then(clientv3.OpPut(p, string(data), clientv3.WithLease(lease))).
			Commit()
		if err != nil {
			return c.wrap("create ephemeral", p, err)
		}
		if !resp.Succeeded {
			return fmt.Errorf("etcd: create ephemeral %s: %w", p, ErrExists)
		}
		signal = c.watch(cli, p, resp.Header.Revision+1, false, anyEvent, leaseDone)
		return nil
	})
	if err != nil {
		return nil, err
	}
	return signal, nil
}

// CreateEphemeralInOrder creates an ephemeral key under dir whose name is
// a zero-padded 20 digit number; names sort in creation order. It returns
// the key.
func (c *Client) CreateEphemeralInOrder(dir string, data []byte) (<-chan struct{}, string, error) {
	if err := validPath(dir); err != nil {
		return nil, "", err
	}
	prefix := dirPrefix(dir)
	var signal <-chan struct{}
	var node string
	err := c.op(func(ctx context.Context, cli *clientv3.Client) error {
		lease, leaseDone, err := c.session(ctx, cli)
		if err != nil {
			return err
		}
		for {
			// Name the node after the store revision it is created at:
			// the transaction only succeeds if nothing under dir changed
			// since revision rev, so a later node gets a larger name.
			get, err := cli.Get(ctx, prefix, clientv3.WithPrefix(), clientv3.WithCountOnly())
			if err != nil {
				return c.wrap("create in order under", dir, err)
			}
			rev := get.Header.Revision
			key := fmt.Sprintf("%s%020d", prefix, rev+1)
			resp, err := cli.Txn(ctx).
				If(clientv3.Compare(clientv3.ModRevision(prefix), "<", rev+1).WithPrefix(),
					clientv3.Compare(clientv3.CreateRevision(key), "=", 0)).
				Then(clientv3.OpPut(key, string(data), clientv3.WithLease(lease))).
				Commit()
			if err != nil {
				return c.wrap("create in order", key, err)
			}
			if resp.Succeeded {
				signal = c.watch(cli, key, resp.Header.Revision+1, false, anyEvent, leaseDone)
				node = key
				return nil
			}
			select {
			case <-leaseDone:
				return fmt.Errorf("%w while creating under %s", ErrLeaseLost, dir)
			default:
			}
		}
	})
	if err != nil {
		return nil, "", err
	}
	return signal, node, nil
}

// WatchInOrder returns the sorted child paths of dir and a channel closed
// when a key below dir is created or deleted (which may or may not change
// the set of direct children; callers list again).
func (c *Client) WatchInOrder(dir string) (<-chan struct{}, []string, error) {
	if err := validPath(dir); err != nil {
		return nil, nil, err
	}
	var signal <-chan struct{}
	var out []string
	err := c.op(func(ctx context.Context, cli *clientv3.Client) error {
		resp, err := cli.Get(ctx, dirPrefix(dir), clientv3.WithPrefix(), clientv3.WithKeysOnly())
		if err != nil {
			return c.wrap("watch", dir, err)
		}
		keys := make([]string, len(resp.Kvs))
		for i, kv := range resp.Kvs {
			keys[i] = string(kv.Key)
		}
		out = children(dir, keys)
		membership := func(ev *clientv3.Event) bool {
			return ev.Type == clientv3.EventTypeDelete || ev.IsCreate()
		}
		signal = c.watch(cli, dirPrefix(dir), resp.Header.Revision+1, true, membership, nil)
		return nil
	})
	if err != nil {
		return nil, nil, err
	}
	return signal, out, nil
}

// Close revokes the lease (removing this client's ephemeral keys), stops
// the client's goroutines (firing every signal) and closes the connection.
// It is idempotent.
func (c *Client) Close() error {
	c.closeOnce.Do(func() {
		c.mu.Lock()
		c.closed = true
		cli, lease, leaseDone := c.cli, c.lease, c.leaseDone
		c.mu.Unlock()
		if cli != nil && leaseDone != nil {
			select {
			case <-leaseDone:
			default:
				wait := min(c.timeout, maxRevokeWait)
				ctx, cancel := context.WithTimeout(context.Background(), wait)
				_, _ = cli.Revoke(ctx, lease)
				cancel()
			}
		}
		c.cancel()
		c.wg.Wait()
		if cli != nil {
			_ = cli.Close()
		}
	})
	return nil
}
