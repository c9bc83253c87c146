package ha

import (
	"bytes"
	"encoding/json"

	"github.com/codisgo/codis/pkg/admin"
	"github.com/codisgo/codis/pkg/models"
)

// Code is the health of a proxy or a group server in one round
// (SPEC-control §8).
type Code int

// Health codes. Missing, Error and Timeout apply to proxies and servers;
// Alive only to proxies; Ready, SyncError and Broken only to servers.
const (
	Missing   Code = iota + 1 // no stats entry for it
	Error                     // the dashboard's probe failed
	Timeout                   // the probe timed out or returned no stats
	Alive                     // proxy answered its probe
	Ready                     // master with no master, or slave linked up to servers[0]
	SyncError                 // replicates from the wrong master (or a master that replicates)
	Broken                    // slave of servers[0] whose link is down
)

var codeNames = [...]string{
	Missing:   "MISSING",
	Error:     "ERROR",
	Timeout:   "TIMEOUT",
	Alive:     "ALIVE",
	Ready:     "READY",
	SyncError: "SYNC_ERROR",
	Broken:    "BROKEN",
}

func (c Code) String() string {
	if c > 0 && int(c) < len(codeNames) {
		return codeNames[c]
	}
	return "UNKNOWN"
}

// Flag is the status flag of the log line of a proxy or server with this
// code: the codis-admin flags, with [X] for SyncError and Broken.
func (c Code) Flag() string {
	switch c {
	case Missing:
		return admin.FlagMissing
	case Error:
		return admin.FlagError
	case Timeout:
		return admin.FlagTimeout
	case SyncError, Broken:
		return admin.FlagMismatch
	}
	return admin.FlagOK
}

// down reports whether a server with this code cannot serve: its probe
// failed or it is missing. Such a master is promoted away.
func (c Code) down() bool { return c == Missing || c == Error || c == Timeout }

// failed reports whether a server with this code is removed by the
// maintenance (down or replicating from the wrong master).
func (c Code) failed() bool { return c.down() || c == SyncError }

// Status is the classification of one stats document.
type Status struct {
	Proxies map[string]Code // by proxy token
	Servers map[string]Code // by server address
}

// Classify classifies every proxy model and every group server of s.
func Classify(s *admin.DashboardStats) *Status {
	st := &Status{Proxies: map[string]Code{}, Servers: map[string]Code{}}
	for _, p := range s.Proxy.Models {
		if p != nil {
			st.Proxies[p.Token] = ProxyCode(s.Proxy.Stats[p.Token])
		}
	}
	for _, g := range s.Group.Models {
		if g == nil {
			continue
		}
		for i, x := range g.Servers {
			if x != nil {
				st.Servers[x.Addr] = ServerCode(g, i, s.Group.Stats[x.Addr])
			}
		}
	}
	return st
}

// ProxyCode classifies a proxy from its stats entry (nil when missing):
// Missing, Error, Timeout (timed out or no stats) or Alive.
func ProxyCode(st *admin.ProxyStats) Code {
	switch {
	case st == nil:
		return Missing
	case st.Error != nil:
		return Error
	case st.Timeout || isNull(st.Stats):
		return Timeout
	}
	return Alive
}

// ServerCode classifies the server at index i of g from its stats entry
// (nil when missing). Beyond Missing, Error and Timeout: the master
// (index 0) is Ready unless it replicates from someone (SyncError); a
// slave is SyncError unless master_addr is servers[0] (string compare),
// then Ready, Broken or SyncError for a master_link_status of up, down or
// anything else.
func ServerCode(g *models.Group, i int, st *admin.RedisStats) Code {
	switch {
	case st == nil:
		return Missing
	case st.Error != nil:
		return Error
	case st.Timeout || len(st.Stats) == 0:
		return Timeout
	}
	if i == 0 {
		if st.Stats["master_addr"] != "" {
			return SyncError
		}
		return Ready
	}
	if st.Stats["master_addr"] != g.Master() {
		return SyncError
	}
	switch st.Stats["master_link_status"] {
	case "up":
		return Ready
	case "down":
		return Broken
	}
	return SyncError
}

// ProxyLines returns the log lines of the proxies: codis-admin
// --proxy-status lines with the flags of their codes.
func ProxyLines(s *admin.DashboardStats, st *Status) []string {
	return admin.ProxyStatusLines(s.Proxy.Models, func(p *models.Proxy) string {
		return st.Proxies[p.Token].Flag()
	})
}

// GroupLines returns the log lines of the group servers: codis-admin
// --group-status lines with the flags of their codes and without the
// "==> master" suffix.
func GroupLines(s *admin.DashboardStats, st *Status) []string {
	return admin.GroupStatusLines(s.Group.Models, func(_ *models.Group, _ int, x *models.GroupServer) (string, string) {
		return st.Servers[x.Addr].Flag(), ""
	})
}

func isNull(r json.RawMessage) bool {
	t := bytes.TrimSpace(r)
	return len(t) == 0 || bytes.Equal(t, []byte("null"))
}
