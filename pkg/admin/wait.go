package admin

import (
	"context"
	"fmt"
	"time"
)

// waitSlotActions polls GET /api/topom/stats/{xauth} every WaitInterval
// and prints "slots remaining: N" (plus the migration status, if any)
// while some slot still has an action; it prints "slots remaining: 0" and
// returns once none has. It stops with ctx (e.g. Ctrl-C) and fails on the
// first error reaching the dashboard. When the dashboard's slot actions
// are disabled it says so once and keeps waiting: migration resumes when
// they are enabled again.
func (d *dashboard) waitSlotActions(ctx context.Context) error {
	tick := time.NewTicker(d.env.waitInterval())
	defer tick.Stop()
	warnedDisabled := false
	for {
		s, err := d.stats(ctx)
		if err != nil {
			return err
		}
		n := 0
		for _, m := range s.Slots {
			if m != nil && !m.Action.IsEmpty() {
				n++
			}
		}
		line := fmt.Sprintf("slots remaining: %d", n)
		if st := s.SlotAction.Progress.Status; n != 0 && st != "" {
			line += " (" + st + ")"
		}
		if _, err := fmt.Fprintln(d.out, line); err != nil {
			return fmt.Errorf("write output: %w", err)
		}
		if n == 0 {
			return nil
		}
		if s.SlotAction.Disabled && !warnedDisabled {
			warnedDisabled = true
			if _, err := fmt.Fprintln(d.out, "slot actions are disabled on the dashboard; waiting until they are enabled"); err != nil {
				return fmt.Errorf("write output: %w", err)
			}
		}
		select {
		case <-ctx.Done():
			return fmt.Errorf("wait for slot actions: %w", ctx.Err())
		case <-tick.C:
		}
	}
}
