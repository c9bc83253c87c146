package admin

import (
	"bytes"
	"fmt"
	"io"

	"github.com/codisgo/codis/pkg/models"
)

// The status lines of --proxy-status and --group-status (SPEC-control
// §6.2). The column layout is shared with codis-ha, which logs the same
// lines with its own flags and without the "==>" suffix (SPEC-control §8).

// Status flags of the status lines.
const (
	FlagOK       = "[ ]" // healthy (proxy) or replicating as expected (server)
	FlagMissing  = "[?]" // no stats entry
	FlagError    = "[E]" // the probe failed
	FlagTimeout  = "[T]" // the probe timed out or returned nothing
	FlagMismatch = "[X]" // the server does not replicate as the group says
)

// ProxyStatusLines returns one line per non-nil proxy, in order:
//
//	<flag> proxy-<id> [T] <token> [A] <admin_addr> [P] <proxy_addr>
//
// ids are zero-padded and addresses left-aligned to the widest of the
// list. flag(p) gives the leading flag; lines carry no newline.
func ProxyStatusLines(proxies []*models.Proxy, flag func(p *models.Proxy) string) []string {
	var wid, wadmin, wproxy int
	for _, p := range proxies {
		if p == nil {
			continue
		}
		wid = max(wid, len(itoa(p.ID)))
		wadmin = max(wadmin, len(p.AdminAddr))
		wproxy = max(wproxy, len(p.ProxyAddr))
	}
	lines := make([]string, 0, len(proxies))
	for _, p := range proxies {
		if p == nil {
			continue
		}
		lines = append(lines, fmt.Sprintf("%s proxy-%0*d [T] %s [A] %-*s [P] %-*s",
			flag(p), wid, p.ID, p.Token, wadmin, p.AdminAddr, wproxy, p.ProxyAddr))
	}
	return lines
}

// GroupStatusLines returns one line per non-nil server of the groups, in
// order:
//
//	<flag> group-<gid> [<index>] <addr><suffix>
//
// gids and indexes are zero-padded and addresses left-aligned to the
// widest of the list. status(g, i, x) gives the flag and the suffix
// appended to the line (codis-admin: "      ==> <observed master>");
// lines carry no newline.
func GroupStatusLines(groups []*models.Group, status func(g *models.Group, i int, x *models.GroupServer) (flag, suffix string)) []string {
	var wgid, widx, waddr, n int
	for _, g := range groups {
		if g == nil {
			continue
		}
		wgid = max(wgid, len(itoa(g.ID)))
		for i, x := range g.Servers {
			widx = max(widx, len(itoa(i)))
			if x != nil {
				waddr = max(waddr, len(x.Addr))
				n++
			}
		}
	}
	lines := make([]string, 0, n)
	for _, g := range groups {
		if g == nil {
			continue
		}
		for i, x := range g.Servers {
			if x == nil {
				continue
			}
			flag, suffix := status(g, i, x)
			lines = append(lines, fmt.Sprintf("%s group-%0*d [%0*d] %-*s%s", flag, wgid, g.ID, widx, i, waddr, x.Addr, suffix))
		}
	}
	return lines
}

// writeProxyStatus prints --proxy-status: one line per proxy model with
// flag [?] (no stats entry), [E] (error), [T] (timeout or no stats) or
// [ ].
func writeProxyStatus(w io.Writer, s *DashboardStats) error {
	lines := ProxyStatusLines(s.Proxy.Models, func(p *models.Proxy) string {
		switch st := s.Proxy.Stats[p.Token]; {
		case st == nil:
			return FlagMissing
		case st.Error != nil:
			return FlagError
		case st.Timeout || isNullRaw(st.Stats):
			return FlagTimeout
		}
		return FlagOK
	})
	return writeLines(w, lines)
}

// writeGroupStatus prints --group-status: one line per group server with
// flag [?], [E] or [T] as for proxies; servers with stats get the suffix
// "      ==> <observed master>" (master_addr:master_link_status, or
// NO:ONE) and the flag [ ] when it is the expected one (NO:ONE for index
// 0, <servers[0]>:up for the others), [X] otherwise.
func writeGroupStatus(w io.Writer, s *DashboardStats) error {
	lines := GroupStatusLines(s.Group.Models, func(g *models.Group, i int, x *models.GroupServer) (string, string) {
		st := s.Group.Stats[x.Addr]
		switch {
		case st == nil:
			return FlagMissing, ""
		case st.Error != nil:
			return FlagError, ""
		case st.Timeout || st.Stats == nil:
			return FlagTimeout, ""
		}
		master := "NO:ONE"
		if m, ok := st.Stats["master_addr"]; ok {
			master = m + ":" + st.Stats["master_link_status"]
		}
		expect := "NO:ONE"
		if i != 0 && g.Servers[0] != nil {
			expect = g.Servers[0].Addr + ":up"
		}
		flag := FlagOK
		if master != expect {
			flag = FlagMismatch
		}
		return flag, "      ==> " + master
	})
	return writeLines(w, lines)
}

func writeLines(w io.Writer, lines []string) error {
	var b bytes.Buffer
	for _, l := range lines {
		b.WriteString(l)
		b.WriteByte('\n')
	}
	if _, err := w.Write(b.Bytes()); err != nil {
		return fmt.Errorf("write output: %w", err)
	}
	return nil
}
