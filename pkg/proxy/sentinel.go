package proxy

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"net"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/codisgo/codis/pkg/models"
	"github.com/codisgo/codis/pkg/resp"
)

// Sentinel timing (SPEC-data §G).
const (
	sentinelRoundTimeout   = 15 * time.Minute
	sentinelRetryAfter     = 10 * time.Second
	sentinelRefreshTries   = 10
	sentinelRefreshPause   = 5 * time.Second
	sentinelRefreshEnough  = 2
	sentinelRequestTimeout = 5 * time.Second
	runIDTimeout           = 100 * time.Millisecond
)

// sentinelWatcher follows +switch-master events of the product's masters
// and switches slot backends accordingly.
type sentinelWatcher struct {
	p *Proxy

	mu      sync.Mutex // protects servers, masters, cancel
	servers []string
	masters map[int]string
	cancel  context.CancelFunc
	wg      sync.WaitGroup
}

func newSentinelWatcher(p *Proxy) *sentinelWatcher {
	return &sentinelWatcher{p: p}
}

func (sw *sentinelWatcher) snapshot() SentinelJSON {
	sw.mu.Lock()
	defer sw.mu.Unlock()
	var s SentinelJSON
	s.Servers = append(s.Servers, sw.servers...)
	if len(sw.masters) != 0 {
		s.Masters = make(map[string]string, len(sw.masters))
		for gid, addr := range sw.masters {
			s.Masters[strconv.Itoa(gid)] = addr
		}
	}
	return s
}

// SetSentinels replaces the sentinel list and restarts watching.
func (p *Proxy) SetSentinels(s *models.Sentinel) error {
	if p.IsClosed() {
		return ErrClosedProxy
	}
	p.sentinel.restart(append([]string(nil), s.Servers...), true)
	return nil
}

// RewatchSentinels restarts watching with the current list.
func (p *Proxy) RewatchSentinels() error {
	if p.IsClosed() {
		return ErrClosedProxy
	}
	p.sentinel.mu.Lock()
	servers := p.sentinel.servers
	p.sentinel.mu.Unlock()
	p.sentinel.restart(servers, false)
	return nil
}

func (sw *sentinelWatcher) stop() {
	sw.mu.Lock()
	cancel := sw.cancel
	sw.cancel = nil
	sw.mu.Unlock()
	if cancel != nil {
		cancel()
	}
	sw.wg.Wait()
}

func (sw *sentinelWatcher) restart(servers []string, clear bool) {
	sw.stop()
	sw.mu.Lock()
	defer sw.mu.Unlock()
	sw.servers = servers
	if clear || len(servers) == 0 {
		sw.masters = nil
	}
	if len(servers) == 0 {
		return
	}
	ctx, cancel := context.WithCancel(context.Background())
	sw.cancel = cancel
	sw.wg.Add(1)
	go func() {
		defer sw.wg.Done()
		sw.loop(ctx, servers)
	}()
}

func sleepCtx(ctx context.Context, d time.Duration) bool {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return false
	case <-t.C:
		return true
	}
}

// loop runs subscription rounds until ctx is cancelled.
func (sw *sentinelWatcher) loop(ctx context.Context, servers []string) {
	refresh := make(chan struct{}, 1)
	sw.wg.Add(1)
	go func() {
		defer sw.wg.Done()
		for {
			select {
			case <-ctx.Done():
				return
			case <-refresh:
				sw.refreshMasters(ctx, servers)
			}
		}
	}()
	trigger := func() {
		select {
		case refresh <- struct{}{}:
		default:
		}
	}
	for ctx.Err() == nil {
		began := time.Now()
		if err := sw.subscribeRound(ctx, servers, trigger); err != nil && ctx.Err() == nil {
			sw.p.logger.Warn("sentinel subscription failed", "err", err)
			if !sleepCtx(ctx, time.Until(began.Add(sentinelRetryAfter))) {
				return
			}
		}
	}
}

var errLostMajority = errors.New("lost majority")

// subscribeRound subscribes to +switch-master on every sentinel and
// returns when a switch of this product is announced.
func (sw *sentinelWatcher) subscribeRound(ctx context.Context, servers []string, trigger func()) error {
	ctx, cancel := context.WithTimeout(ctx, sentinelRoundTimeout)
	defer cancel()
	prefix := sw.p.config.ProductName + "-"
	type event struct {
		confirmed bool
		switched  bool
		err       error
	}
	events := make(chan event, len(servers)*4)
	var wg sync.WaitGroup
	defer wg.Wait()
	defer cancel()
	for _, addr := range servers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			var d net.Dialer
			dctx, dcancel := context.WithTimeout(ctx, sentinelRequestTimeout)
			conn, err := d.DialContext(dctx, "tcp", addr)
			dcancel()
			if err != nil {
				events <- event{err: err}
				return
			}
			stop := context.AfterFunc(ctx, func() { conn.Close() })
			defer stop()
			defer conn.Close()
			if _, err := conn.Write(resp.AppendCommandStrings(nil, "SUBSCRIBE", "+switch-master")); err != nil {
				events <- event{err: err}
				return
			}
			rr := resp.NewReplyReader(bufio.NewReader(conn))
			rep, err := rr.ReadReply()
			if err != nil || len(rep.Elems) != 3 || rep.Elems[0].Str != "subscribe" {
				events <- event{err: fmt.Errorf("bad subscribe reply from %s: %v", addr, err)}
				return
			}
			events <- event{confirmed: true}
			for {
				rep, err := rr.ReadReply()
				if err != nil {
					events <- event{err: err}
					return
				}
				if len(rep.Elems) == 3 && rep.Elems[0].Str == "message" {
					name, _, _ := strings.Cut(rep.Elems[2].Str, " ")
					if gid, ok := strings.CutPrefix(name, prefix); ok {
						if _, err := strconv.Atoi(gid); err == nil {
							events <- event{switched: true}
							return
						}
					}
				}
			}
		}()
	}
	need := len(servers)/2 + 1
	confirmed, failed := 0, 0
	for {
		select {
		case <-ctx.Done():
			return nil
		case ev := <-events:
			switch {
			case ev.switched:
				trigger()
				return nil
			case ev.confirmed:
				confirmed++
				if confirmed == need {
					trigger()
				}
			case ev.err != nil:
				failed++
				if len(servers)-failed < need {
					return fmt.Errorf("%w (%d/%d)", errLostMajority, len(servers)-failed, len(servers))
				}
			}
		}
	}
}

// refreshMasters polls SENTINEL masters and switches (SPEC-data §G.3).
func (sw *sentinelWatcher) refreshMasters(ctx context.Context, servers []string) {
	ok := 0
	for i := 0; i < sentinelRefreshTries && ok < sentinelRefreshEnough; i++ {
		if i != 0 && !sleepCtx(ctx, sentinelRefreshPause) {
			return
		}
		masters, err := sw.queryMasters(ctx, servers)
		if err != nil {
			sw.p.logger.Warn("sentinel refresh failed", "err", err)
			continue
		}
		ok++
		sw.mu.Lock()
		sw.masters = masters
		sw.mu.Unlock()
		cache := map[string]string{}
		same := func(a, b string) bool {
			ra, rb := sw.runID(cache, a), sw.runID(cache, b)
			return ra != "" && ra == rb
		}
		if err := sw.p.router.SwitchMasters(masters, same); err != nil {
			return
		}
	}
}

func (sw *sentinelWatcher) queryMasters(ctx context.Context, servers []string) (map[int]string, error) {
	type result struct {
		masters map[int]string
		epochs  map[int]int64
		err     error
	}
	results := make(chan result, len(servers))
	prefix := sw.p.config.ProductName + "-"
	for _, addr := range servers {
		go func() {
			res := result{masters: map[int]string{}, epochs: map[int]int64{}}
			rep, err := sentinelCall(ctx, addr, "SENTINEL", "masters")
			if err != nil {
				res.err = err
				results <- res
				return
			}
			for _, m := range rep.Elems {
				kv := map[string]string{}
				for j := 0; j+1 < len(m.Elems); j += 2 {
					kv[m.Elems[j].Str] = m.Elems[j+1].Str
				}
				gs, ok := strings.CutPrefix(kv["name"], prefix)
				if !ok {
					continue
				}
				gid, err := strconv.Atoi(gs)
				if err != nil {
					continue
				}
				epoch, err := strconv.ParseInt(kv["config-epoch"], 10, 64)
				if err != nil || kv["ip"] == "" || kv["port"] == "" {
					continue
				}
				if e, ok := res.epochs[gid]; !ok || epoch > e {
					res.epochs[gid] = epoch
					res.masters[gid] = net.JoinHostPort(kv["ip"], kv["port"])
				}
			}
			results <- res
		}()
	}
	masters := map[int]string{}
	epochs := map[int]int64{}
	good := 0
	for range servers {
		res := <-results
		if res.err != nil {
			continue
		}
		good++
		for gid, addr := range res.masters {
			if e, ok := epochs[gid]; !ok || res.epochs[gid] > e {
				epochs[gid] = res.epochs[gid]
				masters[gid] = addr
			}
		}
	}
	if good < len(servers)/2+1 {
		return nil, fmt.Errorf("%w (%d/%d)", errLostMajority, good, len(servers))
	}
	return masters, nil
}

func sentinelCall(ctx context.Context, addr string, args ...string) (resp.Reply, error) {
	ctx, cancel := context.WithTimeout(ctx, sentinelRequestTimeout)
	defer cancel()
	var d net.Dialer
	conn, err := d.DialContext(ctx, "tcp", addr)
	if err != nil {
		return resp.Reply{}, err
	}
	defer conn.Close()
	dl, _ := ctx.Deadline()
	conn.SetDeadline(dl)
	if _, err := conn.Write(resp.AppendCommandStrings(nil, args...)); err != nil {
		return resp.Reply{}, err
	}
	rep, err := resp.NewReplyReader(conn).ReadReply()
	if err == nil && rep.IsError() {
		err = errors.New(rep.Str)
	}
	return rep, err
}

// runID returns the INFO run_id of addr ("" on failure), cached per refresh.
func (sw *sentinelWatcher) runID(cache map[string]string, addr string) string {
	if id, ok := cache[addr]; ok {
		return id
	}
	id := ""
	ctx, cancel := context.WithTimeout(context.Background(), runIDTimeout)
	defer cancel()
	var d net.Dialer
	if conn, err := d.DialContext(ctx, "tcp", addr); err == nil {
		conn.SetDeadline(time.Now().Add(runIDTimeout))
		var cmd []byte
		n := 1
		if auth := sw.p.config.ProductAuth; auth != "" {
			cmd = resp.AppendCommandStrings(cmd, "AUTH", auth)
			n++
		}
		cmd = resp.AppendCommandStrings(cmd, "INFO", "server")
		if _, err := conn.Write(cmd); err == nil {
			rr := resp.NewReplyReader(conn)
			var rep resp.Reply
			for i := 0; i < n && err == nil; i++ {
				rep, err = rr.ReadReply()
			}
			if err == nil {
				for _, line := range strings.Split(rep.Str, "\n") {
					if v, ok := strings.CutPrefix(strings.TrimSpace(line), "run_id:"); ok {
						id = v
					}
				}
			}
		}
		conn.Close()
	}
	cache[addr] = id
	return id
}
