package topom

import (
	"strconv"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/codisgo/codis/pkg/models"
)

// metrics exposes the dashboard's view as Prometheus metrics on
// GET /metrics. Values are computed at scrape time from the cache and the
// last stats round; the registry belongs to one Topom.
type metrics struct {
	registry *prometheus.Registry
}

var (
	descOnline = prometheus.NewDesc("codis_dashboard_online",
		"1 if the dashboard holds the product lock.", nil, nil)
	descGroups = prometheus.NewDesc("codis_dashboard_groups",
		"Number of groups.", nil, nil)
	descGroupServers = prometheus.NewDesc("codis_dashboard_group_servers",
		"Number of servers per group.", []string{"gid"}, nil)
	descGroupPromoting = prometheus.NewDesc("codis_dashboard_group_promoting",
		"1 if the group is being promoted.", []string{"gid"}, nil)
	descServerUp = prometheus.NewDesc("codis_dashboard_server_up",
		"1 if the last probe of the server succeeded.", []string{"gid", "addr", "role"}, nil)
	descSlots = prometheus.NewDesc("codis_dashboard_slots",
		"Number of slots per action state (none = no action).", []string{"state"}, nil)
	descSlotsOffline = prometheus.NewDesc("codis_dashboard_slots_offline",
		"Number of slots without a group.", nil, nil)
	descGroupSlots = prometheus.NewDesc("codis_dashboard_group_slots",
		"Number of slots owned by each group.", []string{"gid"}, nil)
	descMigrationExecutor = prometheus.NewDesc("codis_dashboard_migration_executor",
		"Migration calls in flight.", nil, nil)
	descMigrationRemaining = prometheus.NewDesc("codis_dashboard_migration_slots_remaining",
		"Slots with a migration action not yet done.", nil, nil)
	descSlotActionDisabled = prometheus.NewDesc("codis_dashboard_slot_action_disabled",
		"1 if slot actions are disabled.", nil, nil)
	descProxies = prometheus.NewDesc("codis_dashboard_proxies",
		"Number of registered proxies.", nil, nil)
	descProxyOnline = prometheus.NewDesc("codis_dashboard_proxy_online",
		"1 if the last stats probe found the proxy online.", []string{"token", "addr"}, nil)
	descSentinels = prometheus.NewDesc("codis_dashboard_sentinels",
		"Number of configured sentinels.", nil, nil)
)

func newMetrics(s *Topom) *metrics {
	reg := prometheus.NewRegistry()
	reg.MustRegister(&collector{s: s})
	return &metrics{registry: reg}
}

type collector struct{ s *Topom }

func (c *collector) Describe(ch chan<- *prometheus.Desc) {
	for _, d := range []*prometheus.Desc{descOnline, descGroups, descGroupServers, descGroupPromoting,
		descServerUp, descSlots, descSlotsOffline, descGroupSlots, descMigrationExecutor,
		descMigrationRemaining, descSlotActionDisabled, descProxies, descProxyOnline, descSentinels} {
		ch <- d
	}
}

func b2f(b bool) float64 {
	if b {
		return 1
	}
	return 0
}

func (c *collector) Collect(ch chan<- prometheus.Metric) {
	s := c.s
	gauge := func(d *prometheus.Desc, v float64, labels ...string) {
		ch <- prometheus.MustNewConstMetric(d, prometheus.GaugeValue, v, labels...)
	}
	gauge(descOnline, b2f(s.IsOnline()))
	snap := s.snap()
	if snap.slots == nil {
		return
	}
	s.mu.RLock()
	redisStats, proxyStats := s.redisStats, s.proxyStats
	s.mu.RUnlock()

	gauge(descGroups, float64(len(snap.groups)))
	for _, g := range snap.groups {
		gid := strconv.Itoa(g.ID)
		gauge(descGroupServers, float64(len(g.Servers)), gid)
		gauge(descGroupPromoting, b2f(g.IsPromoting()), gid)
		for i, x := range g.Servers {
			role := "slave"
			if i == 0 {
				role = "master"
			}
			st := redisStats[x.Addr]
			up := st != nil && st.Error == nil && !st.Timeout && st.Stats != nil
			gauge(descServerUp, b2f(up), gid, x.Addr, role)
		}
	}
	states := map[string]int{"none": 0, models.ActionPending: 0, models.ActionPreparing: 0,
		models.ActionPrepared: 0, models.ActionMigrating: 0, models.ActionFinished: 0}
	offline, remaining := 0, 0
	owned := map[int]int{}
	for _, m := range snap.slots {
		st := m.Action.State
		if st == models.ActionNothing {
			st = "none"
		} else {
			remaining++
		}
		states[st]++
		if m.GroupID == 0 {
			offline++
		} else {
			owned[m.GroupID]++
		}
	}
	for st, n := range states {
		gauge(descSlots, float64(n), st)
	}
	for _, g := range snap.groups {
		gauge(descGroupSlots, float64(owned[g.ID]), strconv.Itoa(g.ID))
	}
	gauge(descSlotsOffline, float64(offline))
	gauge(descMigrationExecutor, float64(s.executor.Load()))
	gauge(descMigrationRemaining, float64(remaining))
	gauge(descSlotActionDisabled, b2f(s.disabled.Load()))
	gauge(descProxies, float64(len(snap.proxies)))
	for tok, p := range snap.proxies {
		st := proxyStats[tok]
		gauge(descProxyOnline, b2f(st != nil && st.online && !st.closed), tok, p.AdminAddr)
	}
	n := 0
	if snap.sentinel != nil {
		n = len(snap.sentinel.Servers)
	}
	gauge(descSentinels, float64(n))
}
