package admin

import (
	"encoding/json"

	"github.com/codisgo/codis/pkg/models"
	"github.com/codisgo/codis/pkg/topom"
)

// The REST documents codis-admin decodes and prints (SPEC-control §4.4,
// §4.5). They are decoded into these types and re-encoded, so unknown
// fields are dropped and omitempty applies, as in the original. Parts
// codis-admin never interprets (dashboard config, proxy config and stats)
// are kept as raw JSON and only re-indented.

// DashboardOverview is GET /topom.
type DashboardOverview struct {
	Version string          `json:"version"`
	Compile string          `json:"compile"`
	Config  json.RawMessage `json:"config,omitempty"`
	Model   *models.Topom   `json:"model,omitempty"`
	Stats   *DashboardStats `json:"stats,omitempty"`
}

// DashboardStats is the dashboard stats document.
type DashboardStats struct {
	Closed     bool                  `json:"closed"`
	Slots      []*models.SlotMapping `json:"slots"`
	Group      GroupStats            `json:"group"`
	Proxy      ProxyStatsList        `json:"proxy"`
	SlotAction SlotActionStats       `json:"slot_action"`
	Sentinels  SentinelStats         `json:"sentinels"`
}

// GroupStats is stats.group.
type GroupStats struct {
	Models []*models.Group        `json:"models"`
	Stats  map[string]*RedisStats `json:"stats"`
}

// ProxyStatsList is stats.proxy.
type ProxyStatsList struct {
	Models []*models.Proxy        `json:"models"`
	Stats  map[string]*ProxyStats `json:"stats"`
}

// SlotActionStats is stats.slot_action.
type SlotActionStats struct {
	Interval int64 `json:"interval"`
	Disabled bool  `json:"disabled"`
	Progress struct {
		Status string `json:"status"`
	} `json:"progress"`
	Executor int64 `json:"executor"`
}

// SentinelStats is stats.sentinels.
type SentinelStats struct {
	Model   *models.Sentinel       `json:"model"`
	Stats   map[string]*RedisStats `json:"stats"`
	Masters map[string]string      `json:"masters"`
}

// RedisStats is one probe of a group server or a sentinel, as the
// dashboard writes it.
type RedisStats = topom.RedisStats

// SentinelGroup is what a sentinel reports for one monitored master.
type SentinelGroup = topom.SentinelGroup

// ProxyStats is one probe of a proxy; Stats is the proxy's own document.
type ProxyStats = topom.ProxyStats

// ProxyOverview is GET /proxy.
type ProxyOverview struct {
	Version string          `json:"version"`
	Compile string          `json:"compile"`
	Config  json.RawMessage `json:"config,omitempty"`
	Model   *models.Proxy   `json:"model,omitempty"`
	Stats   json.RawMessage `json:"stats,omitempty"`
	Slots   []*models.Slot  `json:"slots,omitempty"`
}
