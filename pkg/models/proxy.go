package models

// Proxy is the proxy model, stored at /codis3/{product}/proxy/proxy-{token}
// and returned by the proxy's GET /api/proxy/model (SPEC-control §2.3).
type Proxy struct {
	ID          int    `json:"id,omitempty"` // assigned by the dashboard; 0 in the proxy's own model
	Token       string `json:"token"`
	StartTime   string `json:"start_time"`
	AdminAddr   string `json:"admin_addr"` // advertised admin (HTTP) address
	ProtoType   string `json:"proto_type"` // tcp, tcp4, tcp6, unix, unixpacket
	ProxyAddr   string `json:"proxy_addr"` // advertised redis-protocol address
	JodisPath   string `json:"jodis_path,omitempty"`
	ProductName string `json:"product_name"`

	Pid int    `json:"pid"`
	Pwd string `json:"pwd"`
	Sys string `json:"sys"`

	Hostname   string `json:"hostname"`
	DataCenter string `json:"datacenter"`
}

// Clone returns a copy of p (nil for nil).
func (p *Proxy) Clone() *Proxy {
	if p == nil {
		return nil
	}
	c := *p
	return &c
}
