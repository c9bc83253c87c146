package proxy

import (
	"compress/gzip"
	"encoding/json"
	"io"
	"net/http"
	"strings"
	"testing"

	"github.com/codisgo/codis/pkg/models"
	"github.com/codisgo/codis/pkg/utils/token"
)

type apiClient struct {
	t    *testing.T
	base string
}

func (c *apiClient) do(method, path, body string) (int, string) {
	c.t.Helper()
	var rd io.Reader
	if body != "" {
		rd = strings.NewReader(body)
	}
	req, err := http.NewRequest(method, c.base+path, rd)
	if err != nil {
		c.t.Fatal(err)
	}
	resp, err := http.DefaultTransport.RoundTrip(req)
	if err != nil {
		c.t.Fatalf("%s %s: %v", method, path, err)
	}
	defer resp.Body.Close()
	data, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(data)
}

func (c *apiClient) ok(method, path, body string) string {
	c.t.Helper()
	code, data := c.do(method, path, body)
	if code != 200 {
		c.t.Fatalf("%s %s: %d %s", method, path, code, data)
	}
	return data
}

func (c *apiClient) remoteErr(method, path, body, cause string) {
	c.t.Helper()
	code, data := c.do(method, path, body)
	var re RemoteError
	if code != 800 || json.Unmarshal([]byte(data), &re) != nil || !strings.Contains(re.Cause, cause) || re.Stack != nil {
		c.t.Fatalf("%s %s: %d %s; want 800 with cause %q", method, path, code, data, cause)
	}
}

func TestAdminAPI(t *testing.T) {
	s := testConfig()
	p, servers := startCluster(t, 1, s)
	c := &apiClient{t: t, base: "http://" + p.AdminAddr()}
	xa := p.XAuth()
	want := token.NewXAuth("test", "", p.Model().Token)
	if xa != want {
		t.Fatalf("xauth %s, want %s", xa, want)
	}

	// Model.
	var m models.Proxy
	json.Unmarshal([]byte(c.ok("GET", "/api/proxy/model", "")), &m)
	if m.ProductName != "test" || m.Token == "" || m.ProxyAddr != p.ProxyAddr() || m.Pid == 0 || m.ID != 0 {
		t.Fatalf("model: %+v", m)
	}
	if body := c.ok("GET", "/proxy/model", ""); !strings.HasPrefix(body, "{\n    \"token\"") {
		t.Fatalf("model not 4-space indented: %q", body[:20])
	}

	// xauth failures.
	c.remoteErr("GET", "/api/proxy/xping/bad", "", "invalid xauth, please check product name & auth")
	c.remoteErr("GET", "/api/proxy/xping/", "", "missing xauth")
	if body := c.ok("GET", "/api/proxy/xping/"+xa, ""); body != `"OK"` {
		t.Fatalf("xping: %q", body)
	}

	// Unknown routes and wrong methods.
	if code, body := c.do("GET", "/api/proxy/nothing", ""); code != 404 || !strings.Contains(body, "404 page not found") {
		t.Fatalf("unknown route: %d %q", code, body)
	}
	if code, _ := c.do("POST", "/api/proxy/xping/"+xa, ""); code != 404 {
		t.Fatalf("wrong method: %d", code)
	}
	if code, _ := c.do("GET", "/", ""); code != 302 {
		t.Fatalf("GET /: %d", code)
	}

	// Stats.
	cl := dial(t, p.ProxyAddr())
	cl.Do("SET", "a", "b")
	cl.Do("GET", "a")
	cl.Do("KEYS", "*")
	var st StatsJSON
	json.Unmarshal([]byte(c.ok("GET", "/api/proxy/stats/"+xa, "")), &st)
	if !st.Online || st.Ops.Total < 3 || st.Ops.Cmd != nil || st.Runtime != nil || st.Ops.Redis.Errors < 1 {
		t.Fatalf("stats flags 0: %+v", st)
	}
	st = StatsJSON{}
	json.Unmarshal([]byte(c.ok("GET", "/api/proxy/stats/"+xa+"/5", "")), &st)
	if st.Runtime == nil || len(st.Ops.Cmd) < 3 {
		t.Fatalf("stats flags 5: %+v", st.Ops)
	}
	for i := 1; i < len(st.Ops.Cmd); i++ {
		if st.Ops.Cmd[i-1].OpStr >= st.Ops.Cmd[i].OpStr {
			t.Fatalf("cmd not sorted: %+v", st.Ops.Cmd)
		}
	}
	c.remoteErr("GET", "/api/proxy/stats/"+xa+"/x", "", `strconv.Atoi: parsing "x": invalid syntax`)
	c.ok("PUT", "/api/proxy/stats/reset/"+xa, "")
	st = StatsJSON{}
	json.Unmarshal([]byte(c.ok("GET", "/api/proxy/stats/"+xa+"/1", "")), &st)
	if st.Ops.Total != 0 || len(st.Ops.Cmd) != 0 || st.Sessions.Total != st.Sessions.Alive {
		t.Fatalf("after reset: %+v %+v", st.Ops, st.Sessions)
	}

	// Slots and fillslots.
	var slots []*models.Slot
	json.Unmarshal([]byte(c.ok("GET", "/api/proxy/slots/"+xa, "")), &slots)
	if len(slots) != MaxSlotNum || slots[5].BackendAddr != servers[0].Addr {
		t.Fatalf("slots: %d %+v", len(slots), slots[5])
	}
	c.ok("PUT", "/api/proxy/fillslots/"+xa, `[{"id":5},{"id":6,"locked":true,"backend_addr":"`+servers[0].Addr+`"}]`)
	slots = p.router.Slots()
	if slots[5].BackendAddr != "" || !slots[6].Locked {
		t.Fatalf("after fillslots: %+v %+v", slots[5], slots[6])
	}
	c.remoteErr("PUT", "/api/proxy/fillslots/"+xa, `[{"id":7},{"id":1024}]`, "use of invalid slot id")
	c.remoteErr("PUT", "/api/proxy/fillslots/"+xa, `[{"id":8,"forward_method":3}]`, "use of invalid forwarder method")
	c.remoteErr("PUT", "/api/proxy/fillslots/"+xa, `[{"id":`, "invalid request body")
	c.remoteErr("PUT", "/api/proxy/fillslots/"+xa, `{"id":1}`, "invalid request body")
	c.ok("PUT", "/api/proxy/fillslots/"+xa, `[{"id":6,"backend_addr":"`+servers[0].Addr+`"}]`)

	// Log level.
	c.ok("PUT", "/api/proxy/loglevel/"+xa+"/warning", "")
	c.remoteErr("PUT", "/api/proxy/loglevel/"+xa+"/LOUD", "", "invalid loglevel")

	// forcegc, start, sentinels.
	c.ok("PUT", "/api/proxy/forcegc/"+xa, "")
	c.ok("PUT", "/api/proxy/start/"+xa, "")
	c.remoteErr("PUT", "/api/proxy/sentinels/"+xa, `{"servers":`, "invalid request body")
	c.ok("PUT", "/api/proxy/sentinels/"+xa, `{"servers":[]}`)
	c.ok("PUT", "/api/proxy/sentinels/"+xa+"/rewatch", "")

	// Overview omits secrets; gzip is honoured.
	req, _ := http.NewRequest("GET", c.base+"/proxy", nil)
	req.Header.Set("Accept-Encoding", "gzip")
	resp, err := http.DefaultTransport.RoundTrip(req)
	if err != nil {
		t.Fatal(err)
	}
	if resp.Header.Get("Content-Encoding") != "gzip" || resp.Header.Get("Content-Type") != "application/json; charset=utf-8" {
		t.Fatalf("headers: %v", resp.Header)
	}
	zr, err := gzip.NewReader(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	data, _ := io.ReadAll(zr)
	resp.Body.Close()
	var ov map[string]json.RawMessage
	if err := json.Unmarshal(data, &ov); err != nil {
		t.Fatal(err)
	}
	for _, k := range []string{"version", "compile", "config", "model", "stats", "slots"} {
		if _, ok := ov[k]; !ok {
			t.Errorf("overview misses %q", k)
		}
	}
	if strings.Contains(string(ov["config"]), "product_auth") || strings.Contains(string(ov["config"]), "session_auth") {
		t.Error("overview config shows passwords")
	}

	// Prometheus.
	body := c.ok("GET", "/metrics", "")
	for _, want := range []string{`codis_proxy_command_calls_total{cmd="SET"}`, "codis_proxy_sessions_alive 1",
		`codis_proxy_command_duration_seconds_bucket{cmd="GET"`, `codis_proxy_backend_connections{pool="primary",state="connected"}`} {
		if !strings.Contains(body, want) {
			t.Errorf("metrics miss %q", want)
		}
	}

	// Shutdown.
	done := make(chan struct{})
	p.OnShutdown = func() { close(done) }
	c.ok("PUT", "/api/proxy/shutdown/"+xa, "")
	<-p.Done()
	if _, err := http.Get(c.base + "/proxy/model"); err == nil {
		t.Fatal("admin API still serving after shutdown")
	}
}

// TestStatsIsolated: two proxies in one process do not share counters.
func TestStatsIsolated(t *testing.T) {
	p1, _ := startCluster(t, 1, nil)
	p2 := startProxy(t, testConfig())
	p2.Online()
	cl := dial(t, p1.ProxyAddr())
	for i := 0; i < 10; i++ {
		cl.Do("PING")
	}
	if n := p2.StatsJSON(1).Ops.Total; n != 0 {
		t.Fatalf("second proxy counted %d requests of the first", n)
	}
	if n := p1.StatsJSON(1).Ops.Total; n != 10 {
		t.Fatalf("first proxy counted %d, want 10", n)
	}
}
