package topom

import (
	"context"
	"errors"
	"fmt"
	"net"
	"sort"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/gomodule/redigo/redis"
)

// Sentinel commands are sent one at a time and each reply is checked (the
// original pipelined them and lost commands on a racy connection close,
// SPEC-control §11.11).

// ownedGroup returns the group id of a sentinel master name owned by the
// product ("{product}-{gid}"), or false.
func (s *Topom) ownedGroup(name string) (int, bool) {
	rest, ok := strings.CutPrefix(name, s.config.ProductName+"-")
	if !ok || rest == "" {
		return 0, false
	}
	gid, err := strconv.Atoi(rest)
	if err != nil || strconv.Itoa(gid) != rest {
		return 0, false
	}
	return gid, true
}

func (s *Topom) sentinelName(gid int) string {
	return s.config.ProductName + "-" + strconv.Itoa(gid)
}

// sentinelTimeout is the sentinel_client_timeout.
func (s *Topom) sentinelTimeout() time.Duration {
	return s.config.SentinelClientTimeout.Duration()
}

// dialSentinel opens a new connection to a sentinel (no auth).
func (s *Topom) dialSentinel(ctx context.Context, addr string) (redis.Conn, func(), error) {
	c, err := dialRedis(addr, "", s.sentinelTimeout()+5*time.Second)
	if err != nil {
		return nil, nil, err
	}
	stop := withCtx(ctx, c)
	return c, func() { stop(); c.Close() }, nil
}

// pairsToMap converts a flat field/value reply into a map.
func pairsToMap(v any) (map[string]string, error) {
	ss, err := redis.Strings(v, nil)
	if err != nil {
		return nil, err
	}
	m := make(map[string]string, len(ss)/2)
	for i := 0; i+1 < len(ss); i += 2 {
		m[ss[i]] = ss[i+1]
	}
	return m, nil
}

// sentinelMasters returns SENTINEL masters as a list of field maps.
func sentinelMasters(ctx context.Context, c redis.Conn) ([]map[string]string, error) {
	vals, err := redis.Values(redis.DoContext(c, ctx, "SENTINEL", "masters"))
	if err != nil {
		return nil, err
	}
	out := make([]map[string]string, 0, len(vals))
	for _, v := range vals {
		m, err := pairsToMap(v)
		if err != nil {
			return nil, err
		}
		out = append(out, m)
	}
	return out, nil
}

// sentinelMonitored returns what the sentinel on c knows about the
// product's masters: master fields and slaves, by name.
func (s *Topom) sentinelMonitored(ctx context.Context, c redis.Conn) (map[string]*SentinelGroup, error) {
	masters, err := sentinelMasters(ctx, c)
	if err != nil {
		return nil, err
	}
	out := map[string]*SentinelGroup{}
	for _, m := range masters {
		name := m["name"]
		if _, ok := s.ownedGroup(name); !ok {
			continue
		}
		addr, err := redis.Values(redis.DoContext(c, ctx, "SENTINEL", "get-master-addr-by-name", name))
		if err != nil && !errors.Is(err, redis.ErrNil) {
			return nil, err
		}
		if addr == nil {
			continue
		}
		vals, err := redis.Values(redis.DoContext(c, ctx, "SENTINEL", "slaves", name))
		if err != nil {
			return nil, err
		}
		g := &SentinelGroup{Master: m}
		for _, v := range vals {
			x, err := pairsToMap(v)
			if err != nil {
				return nil, err
			}
			g.Slaves = append(g.Slaves, x)
		}
		out[name] = g
	}
	return out, nil
}

// SentinelMonitored serves GET /api/topom/sentinels/info/:addr/monitored.
func (s *Topom) SentinelMonitored(addr string) (map[string]*SentinelGroup, error) {
	ctx, cancel := context.WithTimeout(s.ctx, s.sentinelTimeout())
	defer cancel()
	c, done, err := s.dialSentinel(ctx, addr)
	if err != nil {
		return nil, err
	}
	defer done()
	return s.sentinelMonitored(ctx, c)
}

// sentinelRemove removes the monitors of names that exist on c.
func sentinelRemove(ctx context.Context, c redis.Conn, names []string) error {
	for _, name := range names {
		v, err := redis.DoContext(c, ctx, "SENTINEL", "get-master-addr-by-name", name)
		if err != nil {
			return err
		}
		if v == nil {
			continue
		}
		if _, err := redis.String(redis.DoContext(c, ctx, "SENTINEL", "remove", name)); err != nil {
			return fmt.Errorf("SENTINEL remove %s: %w", name, err)
		}
	}
	return nil
}

// sentinelRemoveAll removes every monitor owned by the product on addr.
func (s *Topom) sentinelRemoveAll(ctx context.Context, addr string) error {
	c, done, err := s.dialSentinel(ctx, addr)
	if err != nil {
		return err
	}
	defer done()
	masters, err := sentinelMasters(ctx, c)
	if err != nil {
		return err
	}
	var names []string
	for _, m := range masters {
		if _, ok := s.ownedGroup(m["name"]); ok {
			names = append(names, m["name"])
		}
	}
	return sentinelRemove(ctx, c, names)
}

// forEachSentinel runs f on every sentinel concurrently under one
// sentinel_client_timeout deadline; it returns the last error.
func (s *Topom) forEachSentinel(servers []string, f func(ctx context.Context, addr string) error) error {
	ctx, cancel := context.WithTimeout(s.ctx, s.sentinelTimeout())
	defer cancel()
	var mu sync.Mutex
	var last error
	var wg sync.WaitGroup
	for _, addr := range servers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			if err := f(ctx, addr); err != nil && !errors.Is(err, context.Canceled) {
				s.log.Warn("sentinel operation failed", "sentinel", addr, "err", err)
				mu.Lock()
				last = fmt.Errorf("sentinel-[%s]: %w", addr, err)
				mu.Unlock()
			}
		}()
	}
	wg.Wait()
	return last
}

// sentinelRemoveGroups removes the monitors of gids on every sentinel;
// errors are only logged.
func (s *Topom) sentinelRemoveGroups(servers []string, gids []int) {
	names := make([]string, len(gids))
	for i, gid := range gids {
		names[i] = s.sentinelName(gid)
	}
	s.forEachSentinel(servers, func(ctx context.Context, addr string) error {
		c, done, err := s.dialSentinel(ctx, addr)
		if err != nil {
			return err
		}
		defer done()
		return sentinelRemove(ctx, c, names)
	})
}

// sentinelMonitor makes addr monitor the given masters (gid → ip:port)
// with the configured options, replacing existing monitors.
func (s *Topom) sentinelMonitor(ctx context.Context, addr string, masters map[int]string) error {
	c, done, err := s.dialSentinel(ctx, addr)
	if err != nil {
		return err
	}
	defer done()
	gids := make([]int, 0, len(masters))
	names := make([]string, 0, len(masters))
	for gid := range masters {
		gids = append(gids, gid)
	}
	sort.Ints(gids)
	for _, gid := range gids {
		names = append(names, s.sentinelName(gid))
	}
	if err := sentinelRemove(ctx, c, names); err != nil {
		return err
	}
	cfg := s.config
	for _, gid := range gids {
		name := s.sentinelName(gid)
		host, port, _ := net.SplitHostPort(masters[gid])
		if _, err := redis.String(redis.DoContext(c, ctx, "SENTINEL", "monitor", name, host, port, cfg.SentinelQuorum)); err != nil {
			return fmt.Errorf("SENTINEL monitor %s: %w", name, err)
		}
		args := []any{"set", name}
		if n := cfg.SentinelParallelSyncs; n != 0 {
			args = append(args, "parallel-syncs", n)
		}
		if d := cfg.SentinelDownAfter.Duration(); d != 0 {
			args = append(args, "down-after-milliseconds", d.Milliseconds())
		}
		if d := cfg.SentinelFailoverTimeout.Duration(); d != 0 {
			args = append(args, "failover-timeout", d.Milliseconds())
		}
		if cfg.ProductAuth != "" {
			args = append(args, "auth-pass", cfg.ProductAuth)
		}
		if cfg.SentinelNotificationScript != "" {
			args = append(args, "notification-script", cfg.SentinelNotificationScript)
		}
		if cfg.SentinelClientReconfigScript != "" {
			args = append(args, "client-reconfig-script", cfg.SentinelClientReconfigScript)
		}
		if len(args) > 2 {
			if _, err := redis.String(redis.DoContext(c, ctx, "SENTINEL", args...)); err != nil {
				return fmt.Errorf("SENTINEL set %s: %w", name, err)
			}
		}
	}
	return nil
}

// AddSentinel adds a sentinel to the product (PUT sentinels/add).
func (s *Topom) AddSentinel(addr string) error {
	s.opMu.Lock()
	defer s.opMu.Unlock()
	c, err := s.begin()
	if err != nil {
		return err
	}
	if addr == "" {
		return errorf(ErrInvalidArgument, "invalid sentinel address")
	}
	for _, x := range c.sentinel.Servers {
		if x == addr {
			return errorf(ErrExists, "sentinel-[%s] already exists", addr)
		}
	}
	ctx, cancel := context.WithTimeout(s.ctx, s.sentinelTimeout())
	defer cancel()
	sc, done, err := s.dialSentinel(ctx, addr)
	if err != nil {
		return wrapf(ErrRemote, err, "sentinel-[%s] flushconfig failed", addr)
	}
	_, err = redis.DoContext(sc, ctx, "SENTINEL", "flushconfig")
	done()
	if err != nil {
		return wrapf(ErrRemote, err, "sentinel-[%s] flushconfig failed", addr)
	}
	x := c.sentinel.Clone()
	x.Servers = append(x.Servers, addr)
	x.OutOfSync = true
	return s.storeSentinel(c, x)
}

// DelSentinel removes a sentinel, first removing the product's monitors
// from it; with force a failure there is ignored.
func (s *Topom) DelSentinel(addr string, force bool) error {
	s.opMu.Lock()
	defer s.opMu.Unlock()
	c, err := s.begin()
	if err != nil {
		return err
	}
	if addr == "" {
		return errorf(ErrInvalidArgument, "invalid sentinel address")
	}
	i := -1
	for j, x := range c.sentinel.Servers {
		if x == addr {
			i = j
		}
	}
	if i < 0 {
		return errorf(ErrNotFound, "sentinel-[%s] not found", addr)
	}
	x := c.sentinel.Clone()
	x.OutOfSync = true
	if err := s.storeSentinel(c, x); err != nil {
		return err
	}
	err = s.forEachSentinel([]string{addr}, s.sentinelRemoveAll)
	if err != nil && !force {
		return quietf(ErrRemote, err, "remove sentinel %s failed", addr)
	}
	x = x.Clone()
	x.Servers = append(x.Servers[:i:i], x.Servers[i+1:]...)
	return s.storeSentinel(c, x)
}

// ResyncSentinels re-creates the product's monitors on every sentinel and
// tells the proxies (PUT sentinels/resync-all).
func (s *Topom) ResyncSentinels() error {
	s.opMu.Lock()
	defer s.opMu.Unlock()
	c, err := s.begin()
	if err != nil {
		return err
	}
	x := c.sentinel.Clone()
	x.OutOfSync = true
	if err := s.storeSentinel(c, x); err != nil {
		return err
	}
	masters := map[int]string{}
	for _, g := range c.groups {
		if len(g.Servers) == 0 {
			continue
		}
		ip, err := resolveAddr(g.Servers[0].Addr)
		if err != nil {
			return err
		}
		masters[g.ID] = ip
	}
	if err := s.forEachSentinel(x.Servers, s.sentinelRemoveAll); err != nil {
		s.log.Warn("remove sentinel monitors failed", "err", err)
	}
	if err := s.forEachSentinel(x.Servers, func(ctx context.Context, addr string) error {
		return s.sentinelMonitor(ctx, addr, masters)
	}); err != nil {
		return err
	}
	s.restartWatcher()
	ctx, cancel := s.proxyCtx()
	defer cancel()
	var mu sync.Mutex
	var failed []string
	var wg sync.WaitGroup
	for _, p := range c.proxies {
		wg.Add(1)
		go func() {
			defer wg.Done()
			if err := s.api.proxySentinels(ctx, p.AdminAddr, s.proxyXAuth(p.Token), x); err != nil {
				s.log.Error("proxy set sentinels failed", "token", p.Token, "err", err)
				mu.Lock()
				failed = append(failed, p.Token)
				mu.Unlock()
			}
		}()
	}
	wg.Wait()
	if len(failed) != 0 {
		sort.Strings(failed)
		return errorf(ErrRemote, "proxy-[%s] sentinel failed", failed[0])
	}
	x = x.Clone()
	x.OutOfSync = false
	return s.storeSentinel(c, x)
}

// resolveAddr resolves the host of addr to an IP (for SENTINEL monitor).
func resolveAddr(addr string) (string, error) {
	host, port, err := net.SplitHostPort(addr)
	if err != nil {
		return "", wrapf(ErrInvalidArgument, err, "invalid address %s", addr)
	}
	if ip := net.ParseIP(host); ip != nil {
		return addr, nil
	}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	ips, err := net.DefaultResolver.LookupIPAddr(ctx, host)
	if err != nil || len(ips) == 0 {
		return "", wrapf(ErrRemote, err, "resolve %s failed", addr)
	}
	return net.JoinHostPort(ips[0].IP.String(), port), nil
}
