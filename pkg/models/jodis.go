package models

// JodisStateOnline is the only state a proxy publishes in its Jodis node.
const JodisStateOnline = "online"

// JodisNode is the content of a proxy's ephemeral Jodis node (SPEC-control
// §2.8). The original encodes a map, so the keys come out sorted; the
// fields below are declared in that order.
type JodisNode struct {
	Addr  string `json:"addr"`  // proxy_addr
	Admin string `json:"admin"` // admin_addr
	Start string `json:"start"` // start_time
	State string `json:"state"` // always "online"
	Token string `json:"token"`
}

// NewJodisNode builds the Jodis node of an online proxy; p must not be nil.
func NewJodisNode(p *Proxy) *JodisNode {
	return &JodisNode{
		Addr:  p.ProxyAddr,
		Admin: p.AdminAddr,
		Start: p.StartTime,
		State: JodisStateOnline,
		Token: p.Token,
	}
}
