package topom

import (
	"context"
	"encoding/json"
	"sync"
	"time"

	"github.com/gomodule/redigo/redis"

	"github.com/codisgo/codis/pkg/models"
)

// RedisStats is one probe of a group server or sentinel (§4.4).
type RedisStats struct {
	Stats    map[string]string         `json:"stats,omitempty"`
	Error    *RemoteError              `json:"error,omitempty"`
	Sentinel map[string]*SentinelGroup `json:"sentinel,omitempty"`
	UnixTime int64                     `json:"unixtime"`
	Timeout  bool                      `json:"timeout,omitempty"`
}

// SentinelGroup is what a sentinel knows about one monitored master.
type SentinelGroup struct {
	Master map[string]string   `json:"master"`
	Slaves []map[string]string `json:"slaves,omitempty"`
}

// ProxyStats is one probe of a proxy; Stats is the proxy's own JSON.
type ProxyStats struct {
	Stats    json.RawMessage `json:"stats,omitempty"`
	Error    *RemoteError    `json:"error,omitempty"`
	UnixTime int64           `json:"unixtime"`
	Timeout  bool            `json:"timeout,omitempty"`

	online, closed bool // decoded from Stats
}

// Stats is the dashboard stats document (§4.4).
type Stats struct {
	Closed bool                  `json:"closed"`
	Slots  []*models.SlotMapping `json:"slots"`
	Group  struct {
		Models []*models.Group        `json:"models"`
		Stats  map[string]*RedisStats `json:"stats"`
	} `json:"group"`
	Proxy struct {
		Models []*models.Proxy        `json:"models"`
		Stats  map[string]*ProxyStats `json:"stats"`
	} `json:"proxy"`
	SlotAction struct {
		Interval int64 `json:"interval"`
		Disabled bool  `json:"disabled"`
		Progress struct {
			Status string `json:"status"`
		} `json:"progress"`
		Executor int64 `json:"executor"`
	} `json:"slot_action"`
	Sentinels struct {
		Model   *models.Sentinel       `json:"model"`
		Stats   map[string]*RedisStats `json:"stats"`
		Masters map[string]string      `json:"masters"`
	} `json:"sentinels"`
}

// Overview is GET /topom (§4.4).
type Overview struct {
	Version string        `json:"version"`
	Compile string        `json:"compile"`
	Config  *Config       `json:"config,omitempty"`
	Model   *models.Topom `json:"model,omitempty"`
	Stats   *Stats        `json:"stats,omitempty"`
}

// Stats returns the current stats; it requires the dashboard online.
func (s *Topom) Stats() (*Stats, error) {
	if err := s.checkOnline(); err != nil {
		return nil, err
	}
	c := s.snap()
	if c.slots == nil {
		return nil, ErrNotOnline // topology not loaded yet
	}
	st := &Stats{Closed: s.closed.Load(), Slots: c.slots}
	st.Group.Models = c.sortedGroups()
	st.Proxy.Models = c.sortedProxies()
	st.SlotAction.Interval = s.interval.Load()
	st.SlotAction.Disabled = s.disabled.Load()
	st.SlotAction.Executor = s.executor.Load()
	st.Sentinels.Model = c.sentinel

	s.mu.RLock()
	defer s.mu.RUnlock()
	st.SlotAction.Progress.Status = s.status
	st.Group.Stats = make(map[string]*RedisStats)
	for _, g := range c.groups {
		for _, x := range g.Servers {
			if v := s.redisStats[x.Addr]; v != nil {
				st.Group.Stats[x.Addr] = v
			}
		}
	}
	st.Proxy.Stats = make(map[string]*ProxyStats, len(s.proxyStats))
	for k, v := range s.proxyStats {
		st.Proxy.Stats[k] = v
	}
	st.Sentinels.Stats = make(map[string]*RedisStats)
	for _, addr := range c.sentinel.Servers {
		if v := s.sentStats[addr]; v != nil {
			st.Sentinels.Stats[addr] = v
		}
	}
	st.Sentinels.Masters = make(map[string]string, len(s.masters))
	for gid, addr := range s.masters {
		st.Sentinels.Masters[itoa(gid)] = addr
	}
	return st, nil
}

// Overview returns GET /topom.
func (s *Topom) Overview() (*Overview, error) {
	st, err := s.Stats()
	if err != nil {
		return nil, err
	}
	return &Overview{
		Version: s.opts.Version,
		Compile: s.opts.Compile,
		Config:  s.config,
		Model:   s.model,
		Stats:   st,
	}, nil
}

func (s *Topom) setStatus(status string) {
	s.mu.Lock()
	s.status = status
	s.mu.Unlock()
}

// runProbes runs probe for every key in parallel, each bounded by
// probeTimeout (a late probe is cancelled and reported by onTimeout), and
// waits for all of them.
func runProbes[T any](ctx context.Context, keys []string, probe func(ctx context.Context, key string) T, onTimeout func() T) map[string]T {
	out := make(map[string]T, len(keys))
	var mu sync.Mutex
	var wg sync.WaitGroup
	for _, k := range keys {
		wg.Add(1)
		go func() {
			defer wg.Done()
			pctx, cancel := context.WithTimeout(ctx, probeTimeout)
			defer cancel()
			v := probe(pctx, k)
			if pctx.Err() != nil {
				v = onTimeout()
			}
			mu.Lock()
			out[k] = v
			mu.Unlock()
		}()
	}
	wg.Wait()
	return out
}

// loopRedisStats polls every group server and sentinel (§5.5).
func (s *Topom) loopRedisStats(ctx context.Context) {
	for ctx.Err() == nil {
		s.refreshRedisStats(ctx)
		if !sleepCtx(ctx, time.Second) {
			return
		}
	}
}

func (s *Topom) refreshRedisStats(ctx context.Context) {
	c := s.snap()
	keep := map[string]bool{}
	var servers []string
	for _, g := range c.groups {
		for _, x := range g.Servers {
			if !keep[x.Addr] {
				keep[x.Addr] = true
				servers = append(servers, x.Addr)
			}
		}
	}
	var sentinels []string
	if c.sentinel != nil {
		sentinels = c.sentinel.Servers
	}
	for _, a := range sentinels {
		keep[a] = true
	}
	s.pools.retain(keep)
	timeout := func() *RedisStats { return &RedisStats{UnixTime: time.Now().Unix(), Timeout: true} }
	var rs, ss map[string]*RedisStats
	var wg sync.WaitGroup
	wg.Add(2)
	go func() {
		defer wg.Done()
		rs = runProbes(ctx, servers, s.probeServer, timeout)
	}()
	go func() {
		defer wg.Done()
		ss = runProbes(ctx, sentinels, s.probeSentinel, timeout)
	}()
	wg.Wait()
	if ctx.Err() != nil {
		return
	}
	s.mu.Lock()
	s.redisStats, s.sentStats = rs, ss
	s.mu.Unlock()
}

func (s *Topom) probeServer(ctx context.Context, addr string) *RedisStats {
	st := &RedisStats{UnixTime: time.Now().Unix()}
	c, err := s.pools.get(ctx, addr, s.config.ProductAuth)
	if err != nil {
		st.Error = &RemoteError{Cause: err.Error()}
		return st
	}
	defer c.Close()
	m, err := serverInfo(ctx, c)
	if err != nil {
		st.Error = &RemoteError{Cause: err.Error()}
		return st
	}
	st.Stats = m
	return st
}

func (s *Topom) probeSentinel(ctx context.Context, addr string) *RedisStats {
	st := &RedisStats{UnixTime: time.Now().Unix()}
	c, err := s.pools.get(ctx, addr, "")
	if err != nil {
		st.Error = &RemoteError{Cause: err.Error()}
		return st
	}
	defer c.Close()
	text, err := redis.String(redis.DoContext(c, ctx, "INFO"))
	if err != nil {
		st.Error = &RemoteError{Cause: err.Error()}
		return st
	}
	st.Stats = parseInfo(text)
	groups, err := s.sentinelMonitored(ctx, c)
	if err != nil {
		st.Error = &RemoteError{Cause: err.Error()}
		return st
	}
	st.Sentinel = groups
	return st
}

// loopProxyStats polls every proxy and re-onlines restarted ones (§5.5).
func (s *Topom) loopProxyStats(ctx context.Context) {
	for ctx.Err() == nil {
		s.refreshProxyStats(ctx)
		if !sleepCtx(ctx, time.Second) {
			return
		}
	}
}

func (s *Topom) refreshProxyStats(ctx context.Context) {
	c := s.snap()
	var toks []string
	for tok := range c.proxies {
		toks = append(toks, tok)
	}
	probe := func(ctx context.Context, tok string) *ProxyStats {
		p := c.proxies[tok]
		st := &ProxyStats{UnixTime: time.Now().Unix()}
		raw, err := s.api.proxyStats(ctx, p.AdminAddr, s.proxyXAuth(tok))
		if err != nil {
			st.Error = &RemoteError{Cause: err.Error()}
			return st
		}
		var flags struct {
			Online bool `json:"online"`
			Closed bool `json:"closed"`
		}
		if err := json.Unmarshal(raw, &flags); err != nil {
			st.Error = &RemoteError{Cause: err.Error()}
			return st
		}
		st.Stats, st.online, st.closed = raw, flags.Online, flags.Closed
		return st
	}
	res := runProbes(ctx, toks, probe, func() *ProxyStats {
		return &ProxyStats{UnixTime: time.Now().Unix(), Timeout: true}
	})
	if ctx.Err() != nil {
		return
	}
	s.mu.Lock()
	s.proxyStats = res
	s.mu.Unlock()
	for tok, st := range res {
		if st.Stats == nil || st.online || st.closed {
			continue
		}
		addr := c.proxies[tok].AdminAddr
		s.rl.Warn(s.log, "proxy is not online, online it again", "token", tok, "addr", addr)
		if err := s.OnlineProxy(addr); err != nil {
			s.rl.Error(s.log, "auto online proxy failed", "token", tok, "addr", addr, "err", err)
		}
	}
}
