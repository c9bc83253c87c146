package proxy

import (
	"encoding/json"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"
)

func TestMetricsReport(t *testing.T) {
	got := make(chan string, 16)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		select {
		case got <- r.URL.Path + "?" + r.URL.RawQuery + " " + string(body):
		default:
		}
	}))
	defer srv.Close()
	udp, err := net.ListenPacket("udp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer udp.Close()

	c := testConfig()
	c.MetricsReportServer = srv.Listener.Addr().String()
	c.MetricsReportInfluxdbServer = srv.URL
	c.MetricsReportInfluxdbDatabase = "codis"
	c.MetricsReportStatsdServer = udp.LocalAddr().String()
	c.MetricsReportStatsdPrefix = "pre"
	p := startProxy(t, c)
	m := p.Model()

	var sawJSON, sawInflux bool
	deadline := time.After(15 * time.Second)
	for !sawJSON || !sawInflux {
		select {
		case s := <-got:
			switch {
			case strings.HasPrefix(s, "/? {"):
				var ov Overview
				if err := json.Unmarshal([]byte(s[3:]), &ov); err != nil || ov.Model == nil || ov.Stats.Runtime == nil || ov.Stats.Ops.Cmd != nil {
					t.Fatalf("json report: %v %.200s", err, s)
				}
				sawJSON = true
			case strings.HasPrefix(s, "/write?db=codis codis_usage,token="+m.Token):
				if !strings.Contains(s, " ops_total=0,") {
					t.Fatalf("influx report: %s", s)
				}
				sawInflux = true
			default:
				t.Fatalf("unexpected report %.200s", s)
			}
		case <-deadline:
			t.Fatalf("reports missing: json %v influx %v", sawJSON, sawInflux)
		}
	}
	udp.SetReadDeadline(time.Now().Add(15 * time.Second))
	buf := make([]byte, 8192)
	n, _, err := udp.ReadFrom(buf)
	if err != nil {
		t.Fatal(err)
	}
	repl := strings.NewReplacer(".", "_", ":", "_")
	want := "pre.test." + repl.Replace(m.AdminAddr) + "." + repl.Replace(m.ProxyAddr) + ".ops_total:0|g"
	if !strings.Contains(string(buf[:n]), want) {
		t.Fatalf("statsd: %q, want %q", buf[:n], want)
	}
}
