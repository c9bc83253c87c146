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

	"github.com/codisgo/codis/pkg/models"
)

// errNoPlans ends a scheduler round that found nothing to do.
var errNoPlans = errors.New("no slot action to run")

// loopSlotActions runs scheduler rounds (§5.11).
func (s *Topom) loopSlotActions(ctx context.Context) {
	for ctx.Err() == nil {
		err := s.slotActionRound(ctx)
		switch {
		case ctx.Err() != nil:
			return
		case err == nil:
			if !sleepCtx(ctx, 10*time.Millisecond) {
				return
			}
		case errors.Is(err, errNoPlans):
			if !sleepCtx(ctx, time.Second) {
				return
			}
		default:
			s.rl.Error(s.log, "slot action round failed", "err", err)
			if !sleepCtx(ctx, 5*time.Second) {
				return
			}
		}
	}
}

// slotActionRound picks and advances the slots to migrate, then migrates
// them concurrently.
func (s *Topom) slotActionRound(ctx context.Context) error {
	plans, err := s.planSlotActions()
	if err != nil {
		return err
	}
	if len(plans) == 0 {
		return errNoPlans
	}
	var wg sync.WaitGroup
	errs := make([]error, len(plans))
	for i, sid := range plans {
		wg.Add(1)
		go func() {
			defer wg.Done()
			errs[i] = s.migrateSlot(ctx, sid)
		}()
	}
	wg.Wait()
	for _, err := range errs {
		if err != nil {
			return err
		}
	}
	return nil
}

// planSlotActions is step 2 of a round: pick slots whose groups are not
// busy and advance each up to migrating.
func (s *Topom) planSlotActions() ([]int, error) {
	s.opMu.Lock()
	defer s.opMu.Unlock()
	c, err := s.begin()
	if err != nil {
		return nil, err
	}
	marks := map[int]bool{}
	planned := map[int]bool{}
	var plans []int
	limit := max(1, s.config.MigrationParallelSlots)
	disabled := s.disabled.Load()
	for len(plans) < limit {
		acceptable := func(m *models.SlotMapping) bool {
			return !planned[m.ID] && !marks[m.GroupID] && !marks[m.Action.TargetID]
		}
		var pick *models.SlotMapping
		for _, m := range c.slots {
			st := m.Action.State
			if st == models.ActionNothing || st == models.ActionPending || !acceptable(m) {
				continue
			}
			if pick == nil || m.Action.Index < pick.Action.Index {
				pick = m
			}
		}
		if pick == nil && !disabled {
			for _, m := range c.slots {
				if m.Action.State != models.ActionPending || !acceptable(m) {
					continue
				}
				if pick == nil || m.Action.Index < pick.Action.Index {
					pick = m
				}
			}
		}
		if pick == nil {
			break
		}
		if pick.GroupID != 0 {
			marks[pick.GroupID] = true
		}
		marks[pick.Action.TargetID] = true
		planned[pick.ID] = true
		plans = append(plans, pick.ID)
		if err := s.advanceSlot(c, pick.ID); err != nil {
			return nil, err
		}
	}
	return plans, nil
}

// advanceSlot moves slot sid from its stored state up to migrating (a
// finished slot is left as is), with the store/push order of §5.11.
func (s *Topom) advanceSlot(c *snapshot, sid int) error {
	for {
		m := c.slots[sid]
		switch m.Action.State {
		case models.ActionPending:
			m = m.Clone()
			m.Action.State = models.ActionPreparing
			if err := s.storeSlot(c, m); err != nil {
				return err
			}
		case models.ActionPreparing:
			next := m.Clone()
			next.Action.State = models.ActionPrepared
			if err := s.resyncSlots(c, []*models.SlotMapping{next}); err != nil {
				if e := s.resyncSlots(c, []*models.SlotMapping{m}); e != nil {
					s.log.Warn("unlock slot failed", "sid", sid, "err", e)
				}
				return err
			}
			if err := s.storeSlot(c, next); err != nil {
				return err
			}
		case models.ActionPrepared:
			next := m.Clone()
			next.Action.State = models.ActionMigrating
			if err := s.resyncSlots(c, []*models.SlotMapping{next}); err != nil {
				return err
			}
			if err := s.storeSlot(c, next); err != nil {
				return err
			}
		case models.ActionMigrating, models.ActionFinished:
			return nil
		default:
			return errorf(ErrRefused, "slot-[%d] action state is invalid", sid)
		}
	}
}

// completeSlot finishes a migrated slot: migrating → finished → done.
func (s *Topom) completeSlot(sid int) error {
	s.opMu.Lock()
	defer s.opMu.Unlock()
	c, err := s.begin()
	if err != nil {
		return err
	}
	for {
		m := c.slots[sid]
		switch m.Action.State {
		case models.ActionMigrating:
			m = m.Clone()
			m.Action.State = models.ActionFinished
			if err := s.storeSlot(c, m); err != nil {
				return err
			}
		case models.ActionFinished:
			if err := s.resyncSlots(c, []*models.SlotMapping{m}); err != nil {
				return err
			}
			return s.storeSlot(c, &models.SlotMapping{ID: sid, GroupID: m.Action.TargetID})
		default:
			return errorf(ErrRefused, "slot-[%d] action state is invalid", sid)
		}
	}
}

// migrateSlot moves the keys of slot sid, db by db, then completes it.
func (s *Topom) migrateSlot(ctx context.Context, sid int) error {
	var conn redis.Conn
	var connAddr string
	defer func() {
		if conn != nil {
			conn.Close()
		}
	}()
	db := 0
	for ctx.Err() == nil && s.IsOnline() {
		c := s.snap()
		m := c.slots[sid]
		switch m.Action.State {
		case models.ActionFinished:
			return s.finishMigration(sid)
		case models.ActionMigrating:
		default:
			return errorf(ErrRefused, "slot-[%d] action state is invalid", sid)
		}
		if s.disabled.Load() || c.promoting(m.GroupID) || c.promoting(m.Action.TargetID) {
			if !sleepCtx(ctx, time.Second) {
				return nil
			}
			continue
		}
		from, target := c.master(m.GroupID), c.master(m.Action.TargetID)
		if from == "" {
			return s.finishMigration(sid)
		}
		if conn != nil && (connAddr != from || conn.Err() != nil) {
			conn.Close()
			conn = nil
		}
		if conn == nil {
			timeout := s.config.MigrationTimeout.Duration()
			x, err := dialRedis(from, s.config.ProductAuth, timeout)
			if err != nil {
				return s.migrationFailed(sid, err)
			}
			conn, connAddr = x, from
			if db != 0 {
				if _, err := conn.Do("SELECT", db); err != nil {
					return s.migrationFailed(sid, err)
				}
			}
		}
		s.executor.Add(1)
		remains, err := s.migrateStep(ctx, conn, target, sid)
		s.executor.Add(-1)
		if err != nil {
			if ctx.Err() != nil {
				return nil
			}
			return s.migrationFailed(sid, err)
		}
		if remains > 0 {
			s.setStatus(fmt.Sprintf("[OK] Slot[%04d]@DB[%d]=%d", sid, db, remains))
			if us := s.interval.Load(); us > 0 {
				if !sleepCtx(ctx, time.Duration(us)*time.Microsecond) {
					return nil
				}
			}
			continue
		}
		next, err := nextDB(ctx, conn, db)
		if err != nil {
			return s.migrationFailed(sid, err)
		}
		if next < 0 {
			s.setStatus("")
			return s.finishMigration(sid)
		}
		if _, err := conn.Do("SELECT", next); err != nil {
			return s.migrationFailed(sid, err)
		}
		db = next
		s.setStatus(fmt.Sprintf("[OK] Slot[%04d]@DB[%d]=%d", sid, db, remains))
	}
	return nil
}

func (s *Topom) finishMigration(sid int) error {
	if err := s.completeSlot(sid); err != nil {
		return s.migrationFailed(sid, err)
	}
	s.log.Info("slot migrated", "sid", sid)
	return nil
}

func (s *Topom) migrationFailed(sid int, err error) error {
	s.setStatus(fmt.Sprintf("[ERROR] Slot[%04d]: %s", sid, err))
	return fmt.Errorf("slot-[%d] migration failed: %w", sid, err)
}

// migrateStep sends one SLOTSMGRTTAGSLOT(-ASYNC) command and returns the
// number of keys left in the slot.
func (s *Topom) migrateStep(ctx context.Context, conn redis.Conn, target string, sid int) (int64, error) {
	host, port, err := net.SplitHostPort(target)
	if err != nil {
		return 0, fmt.Errorf("invalid target master %q: %w", target, err)
	}
	timeout := s.config.MigrationTimeout.Duration()
	var reply any
	stop := withCtx(ctx, conn)
	defer stop()
	if s.method == models.ForwardSync {
		reply, err = conn.Do("SLOTSMGRTTAGSLOT", host, port, timeout.Milliseconds(), sid)
	} else {
		reply, err = conn.Do("SLOTSMGRTTAGSLOT-ASYNC", host, port,
			min(5*time.Second, timeout).Milliseconds(),
			s.config.MigrationAsyncMaxBulks, s.config.MigrationAsyncMaxBytes.Int64(),
			sid, s.config.MigrationAsyncNumKeys)
	}
	if err != nil {
		return 0, err
	}
	vals, err := redis.Int64s(reply, nil)
	if err != nil || len(vals) != 2 {
		return 0, fmt.Errorf("invalid migration reply %v: want 2 integers", reply)
	}
	return vals[1], nil
}

// nextDB returns the smallest db number greater than db that holds keys
// according to INFO keyspace, or -1.
func nextDB(ctx context.Context, conn redis.Conn, db int) (int, error) {
	stop := withCtx(ctx, conn)
	defer stop()
	text, err := redis.String(conn.Do("INFO", "keyspace"))
	if err != nil {
		return 0, err
	}
	next := -1
	for _, line := range strings.Split(text, "\n") {
		k, _, ok := strings.Cut(strings.TrimSpace(line), ":")
		if !ok || !strings.HasPrefix(k, "db") {
			continue
		}
		n, err := strconv.Atoi(k[2:])
		if err != nil || n <= db {
			continue
		}
		if next < 0 || n < next {
			next = n
		}
	}
	return next, nil
}
