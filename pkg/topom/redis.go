package topom

import (
	"context"
	"errors"
	"fmt"
	"net"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/gomodule/redigo/redis"
)

const (
	// redisStatsTimeout is the connect/read/write timeout of the pooled
	// stats connections (§5.5).
	redisStatsTimeout = 5 * time.Second
	// probeTimeout bounds one stats probe; a slower probe is reported as
	// {"timeout": true}.
	probeTimeout = time.Second
	// syncActionTimeout is the timeout of the SLAVEOF transaction
	// connection (§5.9).
	syncActionTimeout = 30 * time.Minute
)

// dialRedis opens a connection to addr with AUTH (if auth is not empty),
// connect timeout min(1 s, timeout) and read/write timeout timeout.
func dialRedis(addr, auth string, timeout time.Duration) (redis.Conn, error) {
	opts := []redis.DialOption{
		redis.DialConnectTimeout(min(time.Second, timeout)),
		redis.DialReadTimeout(timeout),
		redis.DialWriteTimeout(timeout),
	}
	if auth != "" {
		opts = append(opts, redis.DialPassword(auth))
	}
	c, err := redis.Dial("tcp", addr, opts...)
	if err != nil {
		return nil, fmt.Errorf("dial %s: %w", addr, err)
	}
	return c, nil
}

// withCtx closes c when ctx ends, unblocking any pending command; the
// returned function stops the watch.
func withCtx(ctx context.Context, c redis.Conn) (stop func() bool) {
	return context.AfterFunc(ctx, func() { c.Close() })
}

// redisPools keeps a small pool of connections per address for the stats
// loop and the migration driver. Owned by one Topom.
type redisPools struct {
	auth    string
	timeout time.Duration

	mu     sync.Mutex
	pools  map[string]*redis.Pool
	closed bool
}

func newRedisPools(auth string, timeout time.Duration) *redisPools {
	return &redisPools{auth: auth, timeout: timeout, pools: map[string]*redis.Pool{}}
}

// get returns a pooled connection to addr; the caller closes it (which
// returns it to the pool).
func (p *redisPools) get(ctx context.Context, addr, auth string) (redis.Conn, error) {
	p.mu.Lock()
	if p.closed {
		p.mu.Unlock()
		return nil, ErrClosed
	}
	key := addr + "\x00" + auth
	pool := p.pools[key]
	if pool == nil {
		timeout := p.timeout
		pool = &redis.Pool{
			MaxIdle:     2,
			IdleTimeout: time.Minute,
			Dial:        func() (redis.Conn, error) { return dialRedis(addr, auth, timeout) },
			// An idle connection may have been closed by the server: sync
			// actions and promotions send CLIENT KILL TYPE normal. Check
			// it so the caller gets a fresh one rather than an EOF (a
			// probe error that codis-ha would act on).
			TestOnBorrowContext: func(ctx context.Context, c redis.Conn, _ time.Time) error {
				_, err := redis.DoContext(c, ctx, "PING")
				return err
			},
		}
		p.pools[key] = pool
	}
	p.mu.Unlock()
	return pool.GetContext(ctx)
}

// retain closes the pools of addresses not in keep.
func (p *redisPools) retain(keep map[string]bool) {
	p.mu.Lock()
	defer p.mu.Unlock()
	for key, pool := range p.pools {
		addr, _, _ := strings.Cut(key, "\x00")
		if !keep[addr] {
			pool.Close()
			delete(p.pools, key)
		}
	}
}

func (p *redisPools) close() {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.closed = true
	for key, pool := range p.pools {
		pool.Close()
		delete(p.pools, key)
	}
}

// parseInfo parses an INFO reply into field/value pairs (§5.5).
func parseInfo(text string) map[string]string {
	m := map[string]string{}
	for _, line := range strings.Split(text, "\n") {
		k, v, ok := strings.Cut(line, ":")
		if !ok {
			continue
		}
		k = strings.TrimSpace(k)
		if k == "" {
			continue
		}
		m[k] = strings.TrimSpace(v)
	}
	return m
}

// serverInfo runs INFO and CONFIG GET maxmemory on c and returns the INFO
// fields plus master_addr and maxmemory.
func serverInfo(ctx context.Context, c redis.Conn) (map[string]string, error) {
	text, err := redis.String(redis.DoContext(c, ctx, "INFO"))
	if err != nil {
		return nil, err
	}
	m := parseInfo(text)
	host, hok := m["master_host"]
	port, pok := m["master_port"]
	if hok || pok {
		m["master_addr"] = net.JoinHostPort(host, port)
	}
	vals, err := redis.Values(redis.DoContext(c, ctx, "CONFIG", "GET", "maxmemory"))
	if err != nil {
		return nil, err
	}
	if len(vals) != 2 {
		return nil, fmt.Errorf("CONFIG GET maxmemory: unexpected reply of %d elements", len(vals))
	}
	n, err := redis.Int64(vals[1], nil)
	if err != nil {
		return nil, fmt.Errorf("CONFIG GET maxmemory: %w", err)
	}
	m["maxmemory"] = strconv.FormatInt(n, 10)
	return m, nil
}

// ServerInfo connects to addr (auth product_auth, 1 s timeout) and
// returns its INFO fields plus master_addr and maxmemory
// (GET /api/topom/group/info/:addr).
func (s *Topom) ServerInfo(addr string) (map[string]string, error) {
	c, err := dialRedis(addr, s.config.ProductAuth, time.Second)
	if err != nil {
		return nil, err
	}
	defer c.Close()
	return serverInfo(s.ctx, c)
}

// SentinelInfo connects to a sentinel (no auth, 1 s timeout) and returns
// its INFO fields (GET /api/topom/sentinels/info/:addr).
func (s *Topom) SentinelInfo(addr string) (map[string]string, error) {
	c, err := dialRedis(addr, "", time.Second)
	if err != nil {
		return nil, err
	}
	defer c.Close()
	text, err := redis.String(redis.DoContext(c, s.ctx, "INFO"))
	if err != nil {
		return nil, err
	}
	return parseInfo(text), nil
}

// checkCodisServer probes addr with SLOTSINFO before it joins a group
// (§5.7): a plain redis-server does not know the command.
func (s *Topom) checkCodisServer(addr string) error {
	c, err := dialRedis(addr, s.config.ProductAuth, time.Second)
	if err != nil {
		return err
	}
	defer c.Close()
	if _, err := redis.DoContext(c, s.ctx, "SLOTSINFO"); err != nil {
		return fmt.Errorf("SLOTSINFO: %w", err)
	}
	return nil
}

// setMaster runs the set-master transaction of §5.9 on c: master is
// "host:port" or "NO:ONE".
func setMaster(c redis.Conn, master, auth string) error {
	host, port, err := net.SplitHostPort(master)
	if err != nil {
		return fmt.Errorf("invalid master address %q: %w", master, err)
	}
	c.Send("MULTI")
	c.Send("CONFIG", "SET", "masterauth", auth)
	if master == "NO:ONE" {
		c.Send("SLAVEOF", "NO", "ONE")
	} else {
		c.Send("SLAVEOF", host, port)
	}
	c.Send("CONFIG", "REWRITE")
	c.Send("CLIENT", "KILL", "TYPE", "normal")
	vals, err := redis.Values(c.Do("EXEC"))
	if err != nil {
		return err
	}
	var errs []error
	for _, v := range vals {
		if e, ok := v.(redis.Error); ok {
			errs = append(errs, e)
		}
	}
	return errors.Join(errs...)
}

// setMasterAt connects to addr and runs setMaster.
func (s *Topom) setMasterAt(ctx context.Context, addr, master string, timeout time.Duration) error {
	c, err := dialRedis(addr, s.config.ProductAuth, timeout)
	if err != nil {
		return err
	}
	defer c.Close()
	stop := withCtx(ctx, c)
	defer stop()
	return setMaster(c, master, s.config.ProductAuth)
}
