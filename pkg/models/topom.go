package models

// Topom is the dashboard model: the content of the lock node
// /codis3/{product}/topom and of GET /api/topom/model (SPEC-control §2.2).
// No field is omitted when empty.
type Topom struct {
	Token       string `json:"token"`
	StartTime   string `json:"start_time"` // time.Now().String(), opaque
	AdminAddr   string `json:"admin_addr"` // advertised admin (HTTP) address
	ProductName string `json:"product_name"`

	Pid int    `json:"pid"`
	Pwd string `json:"pwd"` // working directory
	Sys string `json:"sys"` // `uname -a`, trimmed
}

// Clone returns a copy of t (nil for nil).
func (t *Topom) Clone() *Topom {
	if t == nil {
		return nil
	}
	c := *t
	return &c
}
