package topom

import (
	"context"
	"fmt"
	"net"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/gomodule/redigo/redis"
)

// Sentinel watcher timings (§5.14).
const (
	watchSessionMax    = 15 * time.Minute
	watchRetryInterval = 10 * time.Second
	switchAttempts     = 10
	switchInterval     = 5 * time.Second
	switchQueryTimeout = 5 * time.Second
	runIDTimeout       = 100 * time.Millisecond
)

// loopSentinelWatch runs the sentinel watcher on the stored sentinel list,
// restarting it whenever restartWatcher is called.
func (s *Topom) loopSentinelWatch(ctx context.Context) {
	for ctx.Err() == nil {
		wctx, cancel := context.WithCancel(ctx)
		s.mu.Lock()
		s.watchCancel = cancel
		var servers []string
		if s.cache.sentinel != nil {
			servers = append(servers, s.cache.sentinel.Servers...)
		}
		s.mu.Unlock()
		s.watchSentinels(wctx, servers)
		cancel()
	}
}

// restartWatcher makes the watcher start over with the current list.
func (s *Topom) restartWatcher() {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.watchCancel != nil {
		s.watchCancel()
	}
}

// watchSentinels subscribes to +switch-master on every sentinel and
// re-reads the masters when a majority has subscribed and after every
// switch of one of the product's masters. It returns when ctx ends.
func (s *Topom) watchSentinels(ctx context.Context, servers []string) {
	if len(servers) == 0 {
		// Nothing to watch; look again later (the topology may not have
		// been loaded yet, or sentinels may be added by a reload).
		sleepCtx(ctx, 5*time.Second)
		return
	}
	trigger := make(chan struct{}, 1)
	fire := func() {
		select {
		case trigger <- struct{}{}:
		default:
		}
	}
	quorum := int32(len(servers)/2 + 1)
	var subscribed atomic.Int32
	var fired atomic.Bool
	onFirstSubscribe := func() {
		if subscribed.Add(1) >= quorum && fired.CompareAndSwap(false, true) {
			fire()
		}
	}
	var wg sync.WaitGroup
	for _, addr := range servers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			s.subscribeSentinel(ctx, addr, onFirstSubscribe, fire)
		}()
	}
	defer wg.Wait()
	for {
		select {
		case <-ctx.Done():
			return
		case <-trigger:
			s.onSwitchTrigger(ctx, servers)
		}
	}
}

// subscribeSentinel keeps a +switch-master subscription on one sentinel.
func (s *Topom) subscribeSentinel(ctx context.Context, addr string, onFirstSubscribe, fire func()) {
	first := true
	onSub := func() {
		if first {
			first = false
			onFirstSubscribe()
		}
	}
	for ctx.Err() == nil {
		begin := time.Now()
		if err := s.subscribeOnce(ctx, addr, onSub, fire); err != nil && ctx.Err() == nil {
			s.log.Debug("sentinel subscription ended", "sentinel", addr, "err", err)
		}
		if !sleepCtx(ctx, time.Until(begin.Add(watchRetryInterval))) {
			return
		}
	}
}

func (s *Topom) subscribeOnce(ctx context.Context, addr string, onSub, fire func()) error {
	c, err := redis.Dial("tcp", addr, redis.DialConnectTimeout(min(time.Second, s.sentinelTimeout())))
	if err != nil {
		return err
	}
	defer c.Close()
	sctx, cancel := context.WithTimeout(ctx, watchSessionMax)
	defer cancel()
	stop := withCtx(sctx, c)
	defer stop()
	psc := redis.PubSubConn{Conn: c}
	if err := psc.Subscribe("+switch-master"); err != nil {
		return err
	}
	for {
		switch v := psc.Receive().(type) {
		case redis.Subscription:
			if v.Kind == "subscribe" {
				onSub()
			}
		case redis.Message:
			name, _, _ := strings.Cut(string(v.Data), " ")
			if _, ok := s.ownedGroup(name); ok {
				s.log.Info("sentinel switch-master", "sentinel", addr, "payload", string(v.Data))
				fire()
				return nil
			}
		case error:
			return v
		}
	}
}

// onSwitchTrigger reads the masters from the sentinels, up to 10 times,
// 5 s apart, stopping after two successes, and applies them.
func (s *Topom) onSwitchTrigger(ctx context.Context, servers []string) {
	ok := 0
	for i := 0; i < switchAttempts && ok < 2; i++ {
		if i != 0 && !sleepCtx(ctx, switchInterval) {
			return
		}
		masters, err := s.querySentinelMasters(ctx, servers)
		if err != nil {
			s.log.Warn("query sentinel masters failed", "err", err)
			continue
		}
		ok++
		s.switchMasters(masters)
	}
}

// querySentinelMasters merges SENTINEL masters of every sentinel, keeping
// per group the entry with the highest config-epoch; a majority must
// answer.
func (s *Topom) querySentinelMasters(ctx context.Context, servers []string) (map[int]string, error) {
	qctx, cancel := context.WithTimeout(ctx, switchQueryTimeout)
	defer cancel()
	type entry struct {
		epoch int64
		addr  string
	}
	var mu sync.Mutex
	best := map[int]entry{}
	replies := 0
	var wg sync.WaitGroup
	for _, addr := range servers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			c, done, err := s.dialSentinel(qctx, addr)
			if err != nil {
				return
			}
			defer done()
			masters, err := sentinelMasters(qctx, c)
			if err != nil {
				return
			}
			mu.Lock()
			defer mu.Unlock()
			replies++
			for _, m := range masters {
				gid, ok := s.ownedGroup(m["name"])
				if !ok || m["ip"] == "" || m["port"] == "" {
					continue
				}
				epoch, err := strconv.ParseInt(m["config-epoch"], 10, 64)
				if err != nil {
					continue
				}
				if e, ok := best[gid]; !ok || epoch > e.epoch {
					best[gid] = entry{epoch, net.JoinHostPort(m["ip"], m["port"])}
				}
			}
		}()
	}
	wg.Wait()
	if replies < len(servers)/2+1 {
		return nil, fmt.Errorf("lost majority (%d/%d)", replies, len(servers))
	}
	out := make(map[int]string, len(best))
	for gid, e := range best {
		out[gid] = e.addr
	}
	return out, nil
}

// switchMasters records the sentinels' masters and makes each one the
// master (servers[0]) of its group in the store (§5.14 SwitchMasters).
func (s *Topom) switchMasters(masters map[int]string) {
	s.mu.Lock()
	s.masters = masters
	s.mu.Unlock()
	s.opMu.Lock()
	defer s.opMu.Unlock()
	c, err := s.begin()
	if err != nil {
		s.log.Warn("switch masters failed", "err", err)
		return
	}
	runIDs := map[string]string{}
	runID := func(addr string) string {
		if id, ok := runIDs[addr]; ok {
			return id
		}
		id := ""
		if conn, err := dialRedis(addr, s.config.ProductAuth, runIDTimeout); err == nil {
			if text, err := redis.String(conn.Do("INFO", "server")); err == nil {
				id = parseInfo(text)["run_id"]
			}
			conn.Close()
		}
		runIDs[addr] = id
		return id
	}
	for gid, master := range masters {
		g := c.groups[gid]
		if g == nil {
			s.log.Warn("sentinel master of unknown group", "gid", gid, "master", master)
			continue
		}
		idx := g.IndexOf(master)
		if idx < 0 {
			if id := runID(master); id != "" {
				for i, x := range g.Servers {
					if runID(x.Addr) == id {
						idx = i
						break
					}
				}
			}
		}
		if idx < 0 {
			s.log.Warn("sentinel master not in group", "gid", gid, "master", master)
			continue
		}
		if idx == 0 {
			continue
		}
		g = g.Clone()
		g.Servers[0], g.Servers[idx] = g.Servers[idx], g.Servers[0]
		g.OutOfSync = true
		if err := s.storeGroup(c, g); err != nil {
			s.log.Error("switch master failed", "gid", gid, "err", err)
			continue
		}
		s.log.Warn("group master switched by sentinel", "gid", gid, "master", g.Servers[0].Addr)
	}
}
