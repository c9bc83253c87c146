package models

// Sentinel is the product's redis-sentinel record, stored at
// /codis3/{product}/sentinel (SPEC-control §2.7). A missing node is an
// empty Sentinel. The same JSON is the body of the proxy's
// PUT /api/proxy/sentinels.
type Sentinel struct {
	Servers   []string `json:"servers,omitempty"` // host:port of each sentinel
	OutOfSync bool     `json:"out_of_sync"`
}

// Clone returns a deep copy of s (nil for nil).
func (s *Sentinel) Clone() *Sentinel {
	if s == nil {
		return nil
	}
	c := *s
	if s.Servers != nil {
		c.Servers = append([]string{}, s.Servers...)
	}
	return &c
}
