package topom

import (
	"context"
	"sort"
	"sync"
	"time"

	"github.com/codisgo/codis/pkg/models"
)

// proxyCallTimeout bounds each proxy call made by an operation.
const proxyCallTimeout = 10 * time.Second

// proxyCtx returns a context for one proxy call, ended by Close too.
func (s *Topom) proxyCtx() (context.Context, context.CancelFunc) {
	return context.WithTimeout(s.ctx, proxyCallTimeout)
}

// fetchProxy reads the model of the proxy at addr and checks that it
// accepts our xauth (§5.6 steps 1-2).
func (s *Topom) fetchProxy(addr string, withCause bool) (*models.Proxy, error) {
	if addr == "" {
		return nil, errorf(ErrInvalidArgument, "invalid proxy address")
	}
	ctx, cancel := s.proxyCtx()
	defer cancel()
	p, err := s.api.proxyModel(ctx, addr)
	if err != nil {
		if withCause {
			return nil, wrapf(ErrRemote, err, "proxy@%s fetch model failed", addr)
		}
		s.log.Warn("fetch proxy model failed", "addr", addr, "err", err)
		return nil, quietf(ErrRemote, err, "proxy@%s fetch model failed", addr)
	}
	if err := models.ValidateToken(p.Token); err != nil {
		return nil, wrapf(ErrRemote, err, "proxy@%s fetch model failed", addr)
	}
	if err := s.api.proxyXPing(ctx, addr, s.proxyXAuth(p.Token)); err != nil {
		if withCause {
			return nil, wrapf(ErrRemote, err, "proxy@%s check xauth failed", addr)
		}
		s.log.Warn("check proxy xauth failed", "addr", addr, "err", err)
		return nil, quietf(ErrRemote, err, "proxy@%s check xauth failed", addr)
	}
	return p, nil
}

// CreateProxy registers the proxy whose admin address is addr and brings
// it online (PUT /api/topom/proxy/create).
func (s *Topom) CreateProxy(addr string) error {
	if err := s.checkOnline(); err != nil {
		return err
	}
	p, err := s.fetchProxy(addr, true)
	if err != nil {
		return err
	}
	s.opMu.Lock()
	defer s.opMu.Unlock()
	c, err := s.begin()
	if err != nil {
		return err
	}
	if c.proxies[p.Token] != nil {
		return errorf(ErrExists, "proxy-[%s] already exists", p.Token)
	}
	p.ID = c.maxProxyID() + 1
	if err := s.storeProxy(c, p); err != nil {
		return err
	}
	return s.reinitProxy(c, p)
}

// OnlineProxy registers or refreshes the proxy at addr and brings it
// online (PUT /api/topom/proxy/online; also the auto re-online).
func (s *Topom) OnlineProxy(addr string) error {
	if err := s.checkOnline(); err != nil {
		return err
	}
	p, err := s.fetchProxy(addr, false)
	if err != nil {
		return err
	}
	s.opMu.Lock()
	defer s.opMu.Unlock()
	c, err := s.begin()
	if err != nil {
		return err
	}
	if old := c.proxies[p.Token]; old != nil {
		p.ID = old.ID
	} else {
		p.ID = c.maxProxyID() + 1
	}
	if err := s.storeProxy(c, p); err != nil {
		return err
	}
	return s.reinitProxy(c, p)
}

// ReinitProxy pushes the full slot table, start and the sentinels to a
// registered proxy (PUT /api/topom/proxy/reinit).
func (s *Topom) ReinitProxy(tok string) error {
	s.opMu.Lock()
	defer s.opMu.Unlock()
	c, err := s.begin()
	if err != nil {
		return err
	}
	p, err := c.proxy(tok)
	if err != nil {
		return err
	}
	return s.reinitProxy(c, p)
}

func (s *Topom) reinitProxy(c *snapshot, p *models.Proxy) error {
	slots, err := c.toSlots(c.slots, p, newResolver())
	if err != nil {
		return err
	}
	xauth := s.proxyXAuth(p.Token)
	ctx, cancel := s.proxyCtx()
	defer cancel()
	if err := s.api.proxyFillSlots(ctx, p.AdminAddr, xauth, slots); err != nil {
		s.log.Error("proxy fillslots failed", "token", p.Token, "err", err)
		return quietf(ErrRemote, err, "proxy-[%s] fillslots failed", p.Token)
	}
	if err := s.api.proxyStart(ctx, p.AdminAddr, xauth); err != nil {
		s.log.Error("proxy start failed", "token", p.Token, "err", err)
		return quietf(ErrRemote, err, "proxy-[%s] start failed", p.Token)
	}
	sentinel := c.sentinel
	if sentinel == nil {
		sentinel = &models.Sentinel{}
	}
	if err := s.api.proxySentinels(ctx, p.AdminAddr, xauth, sentinel); err != nil {
		s.log.Error("proxy set sentinels failed", "token", p.Token, "err", err)
		return quietf(ErrRemote, err, "proxy-[%s] set sentinels failed", p.Token)
	}
	return nil
}

// RemoveProxy shuts a proxy down and forgets it; with force the proxy is
// forgotten even if the shutdown call fails.
func (s *Topom) RemoveProxy(tok string, force bool) error {
	s.opMu.Lock()
	defer s.opMu.Unlock()
	c, err := s.begin()
	if err != nil {
		return err
	}
	p, err := c.proxy(tok)
	if err != nil {
		return err
	}
	ctx, cancel := s.proxyCtx()
	err = s.api.proxyShutdown(ctx, p.AdminAddr, s.proxyXAuth(tok))
	cancel()
	if err != nil {
		s.log.Warn("proxy shutdown failed", "token", tok, "force", force, "err", err)
		if !force {
			return quietf(ErrRemote, err, "proxy-[%s] shutdown failed", tok)
		}
	}
	return s.removeProxy(c, tok)
}

// resyncSlots pushes the given slot mappings to every proxy in parallel,
// each with the slots computed for it (§5.6 "Resync of slots").
func (s *Topom) resyncSlots(c *snapshot, ms []*models.SlotMapping) error {
	if len(ms) == 0 {
		return nil
	}
	type job struct {
		p     *models.Proxy
		slots []*models.Slot
	}
	var jobs []job
	for _, p := range c.proxies {
		slots, err := c.toSlots(ms, p, newResolver())
		if err != nil {
			return err
		}
		jobs = append(jobs, job{p, slots})
	}
	ctx, cancel := s.proxyCtx()
	defer cancel()
	var mu sync.Mutex
	var failed []string
	var wg sync.WaitGroup
	for _, j := range jobs {
		wg.Add(1)
		go func() {
			defer wg.Done()
			if err := s.api.proxyFillSlots(ctx, j.p.AdminAddr, s.proxyXAuth(j.p.Token), j.slots); err != nil {
				s.log.Error("proxy resync slots failed", "token", j.p.Token, "addr", j.p.AdminAddr, "err", err)
				mu.Lock()
				failed = append(failed, j.p.Token)
				mu.Unlock()
			}
		}()
	}
	wg.Wait()
	if len(failed) != 0 {
		sort.Strings(failed)
		return errorf(ErrRemote, "proxy-[%s] resync slots failed", failed[0])
	}
	return nil
}

// Slots returns the 1024 slots as the dashboard sees them (no proxy).
func (s *Topom) Slots() ([]*models.Slot, error) {
	if err := s.checkOnline(); err != nil {
		return nil, err
	}
	c := s.snap()
	if c.slots == nil {
		return nil, ErrNotOnline
	}
	return c.toSlots(c.slots, nil, newResolver())
}
