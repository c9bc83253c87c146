package ha

import (
	"strconv"

	"github.com/codisgo/codis/pkg/admin"
	"github.com/codisgo/codis/pkg/models"
)

// maxDownLimit bounds master_link_down_since_seconds for the fallback
// pick: a slave down longer than that is never promoted.
const maxDownLimit = 65535

// ActionKind is the corrective step of a round.
type ActionKind int

// Corrective steps, at most one per round (SPEC-control §8).
const (
	ActionNone         ActionKind = iota
	ActionRemoveProxy             // PUT proxy/remove/{x}/{token}/1
	ActionRemoveServer            // PUT group/del/{x}/{gid}/{addr}, then SHUTDOWN the server
	ActionPromote                 // PUT group/promote/{x}/{gid}/{addr}
)

func (k ActionKind) String() string {
	switch k {
	case ActionNone:
		return "none"
	case ActionRemoveProxy:
		return "remove-proxy"
	case ActionRemoveServer:
		return "remove-server"
	case ActionPromote:
		return "promote"
	}
	return "unknown"
}

// Action is a corrective step.
type Action struct {
	Kind    ActionKind
	Token   string // ActionRemoveProxy
	GroupID int    // ActionRemoveServer, ActionPromote
	Addr    string // ActionRemoveServer: the server; ActionPromote: the slave
	Code    Code   // the code of the proxy or server that caused the step
}

// SkipReason says why a group whose master is down gets no promotion.
type SkipReason string

// Reasons for skipping a promotion.
const (
	SkipGiveUp    SkipReason = "giveup"    // no slave can be promoted
	SkipPromoting SkipReason = "promoting" // a promotion is already in progress
)

// Skip is a group whose master is down and that is not promoted.
type Skip struct {
	GroupID int
	Master  string
	Reason  SkipReason
}

// Decision is the outcome of Plan.
type Decision struct {
	Action  Action
	Skipped []Skip // groups examined for promotion and left alone, in order
}

// Plan chooses the corrective step of a round (SPEC-control §8) from the
// stats and their classification; maxdown is interval×10 in seconds.
//
//  1. The first proxy (in model order) that is not Alive is removed.
//  2. Scanning groups and servers in order: a master (index 0) of a group
//     with more than one server that is down or SyncError ends the scan
//     (go to 3); any other server (slaves, the master of a one-server
//     group) that is down or SyncError is removed from its group and
//     shut down. Broken slaves are left alone.
//  3. Every group whose master is down (not SyncError) gets a promotion
//     of the slave chosen by PickSlave; a group with no candidate is
//     skipped with SkipGiveUp, one already promoting with SkipPromoting.
//     The first promotion ends the round.
func Plan(s *admin.DashboardStats, st *Status, maxdown int) Decision {
	for _, p := range s.Proxy.Models {
		if p == nil {
			continue
		}
		if c := st.Proxies[p.Token]; c != Alive {
			return Decision{Action: Action{Kind: ActionRemoveProxy, Token: p.Token, Code: c}}
		}
	}

scan:
	for _, g := range s.Group.Models {
		if g == nil {
			continue
		}
		for i, x := range g.Servers {
			if x == nil {
				continue
			}
			c := st.Servers[x.Addr]
			if i == 0 && len(g.Servers) > 1 {
				if c.failed() {
					break scan
				}
				continue
			}
			if c.failed() {
				return Decision{Action: Action{Kind: ActionRemoveServer, GroupID: g.ID, Addr: x.Addr, Code: c}}
			}
		}
	}

	var d Decision
	for _, g := range s.Group.Models {
		if g == nil || len(g.Servers) == 0 || g.Servers[0] == nil {
			continue
		}
		master := g.Servers[0].Addr
		c := st.Servers[master]
		if !c.down() {
			continue
		}
		slave := PickSlave(g, s.Group.Stats, st, maxdown)
		switch {
		case slave == "":
			d.Skipped = append(d.Skipped, Skip{GroupID: g.ID, Master: master, Reason: SkipGiveUp})
		case g.IsPromoting():
			d.Skipped = append(d.Skipped, Skip{GroupID: g.ID, Master: master, Reason: SkipPromoting})
		default:
			d.Action = Action{Kind: ActionPromote, GroupID: g.ID, Addr: slave, Code: c}
			return d
		}
	}
	return d
}

// PickSlave chooses the slave of g to promote when its master is down,
// or returns "". In order of preference:
//
//   - picked: the Broken slave with the smallest
//     master_link_down_since_seconds not above maxdown;
//   - picked2: the Broken slave with the smallest value below 65535;
//   - the first SyncError slave.
//
// Ties go to the earlier slave. A Broken slave whose
// master_link_down_since_seconds is missing, not an integer or negative
// (a replica that never had a link reports -1) is never picked: the
// original codis-server reports a huge value there.
func PickSlave(g *models.Group, stats map[string]*admin.RedisStats, st *Status, maxdown int) string {
	var picked, picked2, syncErr string
	best, best2 := 0, 0
	for i, x := range g.Servers {
		if i == 0 || x == nil {
			continue
		}
		switch st.Servers[x.Addr] {
		case Broken:
			n, ok := downSince(stats[x.Addr])
			switch {
			case !ok:
			case n <= maxdown:
				if picked == "" || n < best {
					picked, best = x.Addr, n
				}
			case n < maxDownLimit:
				if picked2 == "" || n < best2 {
					picked2, best2 = x.Addr, n
				}
			}
		case SyncError:
			if syncErr == "" {
				syncErr = x.Addr
			}
		}
	}
	switch {
	case picked != "":
		return picked
	case picked2 != "":
		return picked2
	}
	return syncErr
}

// downSince returns master_link_down_since_seconds of a slave.
func downSince(rs *admin.RedisStats) (int, bool) {
	if rs == nil {
		return 0, false
	}
	n, err := strconv.Atoi(rs.Stats["master_link_down_since_seconds"])
	if err != nil || n < 0 {
		return 0, false
	}
	return n, true
}
