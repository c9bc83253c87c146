package proxy

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"net"
	"net/http"
	"net/url"
	"strings"
	"time"
)

// Metrics push (SPEC-data §E.3 "Metrics push"): JSON overview, InfluxDB
// line protocol and statsd gauges, each on its own period, retrying with a
// 1→15 s back-off after failures.
const (
	reportMinPeriod  = time.Second
	reportMaxBackoff = 15 * time.Second
	reportTimeout    = 5 * time.Second
)

// startReportersLocked starts the configured pushers; the caller holds
// p.mu and has set p.model.
func (p *Proxy) startReportersLocked() {
	c := p.config
	if c.MetricsReportServer != "" {
		p.startReporter("json", c.MetricsReportPeriod.Duration(), p.reportJSON)
	}
	if c.MetricsReportInfluxdbServer != "" {
		p.startReporter("influxdb", c.MetricsReportInfluxdbPeriod.Duration(), p.reportInfluxDB)
	}
	if c.MetricsReportStatsdServer != "" {
		p.startReporter("statsd", c.MetricsReportStatsdPeriod.Duration(), p.reportStatsd)
	}
}

func (p *Proxy) startReporter(name string, period time.Duration, f func(context.Context) error) {
	period = max(period, reportMinPeriod)
	p.wg.Add(1)
	go func() {
		defer p.wg.Done()
		ctx, cancel := context.WithCancel(context.Background())
		defer cancel()
		go func() {
			<-p.quit
			cancel()
		}()
		backoff := time.Duration(0)
		for {
			wait := period
			if backoff > 0 {
				wait = backoff
			}
			select {
			case <-p.quit:
				return
			case <-time.After(wait):
			}
			rctx, rcancel := context.WithTimeout(ctx, reportTimeout)
			err := f(rctx)
			rcancel()
			if err != nil {
				if ctx.Err() != nil {
					return
				}
				backoff = min(max(backoff*2, time.Second), reportMaxBackoff)
				p.logger.Warn("metrics report failed", "reporter", name, "err", err)
				continue
			}
			backoff = 0
		}
	}()
}

func httpURL(server string) string {
	if strings.Contains(server, "://") {
		return server
	}
	return "http://" + server
}

func (p *Proxy) post(ctx context.Context, u string, contentType string, body []byte, user, pass string) error {
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, u, bytes.NewReader(body))
	if err != nil {
		return err
	}
	req.Header.Set("Content-Type", contentType)
	if user != "" || pass != "" {
		req.SetBasicAuth(user, pass)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return err
	}
	resp.Body.Close()
	if resp.StatusCode/100 != 2 {
		return fmt.Errorf("POST %s: status %d", u, resp.StatusCode)
	}
	return nil
}

// reportJSON posts the overview with runtime stats (no per-command stats).
func (p *Proxy) reportJSON(ctx context.Context) error {
	o := p.overview(StatsRuntime)
	data, err := json.Marshal(o)
	if err != nil {
		return err
	}
	return p.post(ctx, httpURL(p.config.MetricsReportServer), "application/json", data, "", "")
}

// reportFields is the flat field set pushed to InfluxDB and statsd.
func (p *Proxy) reportFields() []struct {
	name  string
	value float64
} {
	st := p.StatsJSON(StatsRuntime)
	rt := st.Runtime
	return []struct {
		name  string
		value float64
	}{
		{"ops_total", float64(st.Ops.Total)},
		{"ops_fails", float64(st.Ops.Fails)},
		{"ops_redis_errors", float64(st.Ops.Redis.Errors)},
		{"ops_qps", float64(st.Ops.QPS)},
		{"sessions_total", float64(st.Sessions.Total)},
		{"sessions_alive", float64(st.Sessions.Alive)},
		{"rusage_mem", float64(st.Rusage.Mem)},
		{"rusage_cpu", st.Rusage.CPU},
		{"runtime_gc_num", float64(rt.GC.Num)},
		{"runtime_gc_total_pausems", float64(rt.GC.TotalPauseMs)},
		{"runtime_num_procs", float64(rt.NumProcs)},
		{"runtime_num_goroutines", float64(rt.NumGoroutines)},
		{"runtime_num_cgo_call", float64(rt.NumCgoCall)},
		{"runtime_num_mem_offheap", float64(rt.MemOffheap)},
	}
}

// influxEscape escapes a tag value of the line protocol.
var influxEscape = strings.NewReplacer(",", `\,`, "=", `\=`, " ", `\ `)

func (p *Proxy) reportInfluxDB(ctx context.Context) error {
	m := p.Model()
	if m == nil {
		return ErrClosedProxy
	}
	c := p.config
	var b strings.Builder
	b.WriteString("codis_usage")
	for _, t := range [][2]string{{"token", m.Token}, {"product_name", m.ProductName}, {"admin_addr", m.AdminAddr},
		{"proxy_addr", m.ProxyAddr}, {"hostname", m.Hostname}} {
		if t[1] != "" {
			fmt.Fprintf(&b, ",%s=%s", t[0], influxEscape.Replace(t[1]))
		}
	}
	for i, f := range p.reportFields() {
		sep := ","
		if i == 0 {
			sep = " "
		}
		fmt.Fprintf(&b, "%s%s=%g", sep, f.name, f.value)
	}
	fmt.Fprintf(&b, " %d\n", time.Now().UnixNano())
	u := httpURL(c.MetricsReportInfluxdbServer) + "/write?db=" + url.QueryEscape(c.MetricsReportInfluxdbDatabase)
	return p.post(ctx, u, "text/plain", []byte(b.String()), c.MetricsReportInfluxdbUsername, c.MetricsReportInfluxdbPassword)
}

func (p *Proxy) reportStatsd(ctx context.Context) error {
	m := p.Model()
	if m == nil {
		return ErrClosedProxy
	}
	c := p.config
	repl := strings.NewReplacer(".", "_", ":", "_")
	prefix := fmt.Sprintf("%s.%s.%s.%s", c.MetricsReportStatsdPrefix, c.ProductName, repl.Replace(m.AdminAddr), repl.Replace(m.ProxyAddr))
	var d net.Dialer
	conn, err := d.DialContext(ctx, "udp", c.MetricsReportStatsdServer)
	if err != nil {
		return err
	}
	defer conn.Close()
	var b bytes.Buffer
	for _, f := range p.reportFields() {
		fmt.Fprintf(&b, "%s.%s:%g|g\n", prefix, f.name, f.value)
	}
	_, err = conn.Write(b.Bytes())
	return err
}
