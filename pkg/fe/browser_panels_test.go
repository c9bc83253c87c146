package fe

import (
	"context"
	"encoding/json"
	"fmt"
	"net"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
	"github.com/gomodule/redigo/redis"

	"github.com/codisgo/codis/pkg/models"
	"github.com/codisgo/codis/pkg/proxy"
	"github.com/codisgo/codis/pkg/testenv"
	"github.com/codisgo/codis/pkg/topom"
	"github.com/codisgo/codis/pkg/utils/slot"
)

// The Proxy, Slots and Sentinels panels driven through the page, against
// a real dashboard with real proxies, codis-servers and redis-sentinel.
// Every check reads the dashboard (or the proxy, server, sentinel) itself,
// or text the page computed from the dashboard's stats.

const uiProduct = "demo"

// uiEnv is one product: a dashboard on a filesystem coordinator, codis-fe
// serving the real assets, and a chromium tab.
type uiEnv struct {
	t   *testing.T
	ctx context.Context
	top *topom.Topom
	url string
}

func newUI(t *testing.T) *uiEnv {
	t.Helper()
	ctx := browser(t)
	root := t.TempDir()
	top := startDashboard(t, root, uiProduct)
	fe := newFE(t, Config{
		AssetsDir: filepath.Join("..", "..", "cmd", "fe", "assets"),
		Loader:    CoordinatorLoader(fsClient(t, root), testLogger()),
	})
	return &uiEnv{t: t, ctx: ctx, top: top, url: fe.url}
}

// open loads the page on the product and drags the refresh slider down to
// 1 s, so the page follows the dashboard's 1 s probes closely.
func (u *uiEnv) open() {
	u.t.Helper()
	do(u.t, u.ctx, "open the page", chromedp.Navigate(u.url+"/#"+uiProduct))
	u.wait("the overview", `document.querySelector('#ov-coordinator').textContent !== ''`)
	do(u.t, u.ctx, "set the refresh slider", chromedp.Evaluate[chromedp.Void](`(() => {
		const r = document.querySelector('#refresh-interval');
		r.value = '1';
		r.dispatchEvent(new Event('input'));
		r.dispatchEvent(new Event('change'));
	})()`))
	u.wait("refresh every 1 s", `document.querySelector('#refresh-value').textContent === '1'`)
}

func (u *uiEnv) wait(what, expr string) {
	u.t.Helper()
	waitJS(u.t, u.ctx, what, expr)
}

// waitText waits until the text of the element sel is want.
func (u *uiEnv) waitText(what, sel, want string) {
	u.t.Helper()
	expr := fmt.Sprintf(`(document.querySelector(%s) || {}).textContent === %s`, strconv.Quote(sel), strconv.Quote(want))
	if _, err := chromedp.Run(u.ctx, chromedp.Poll[chromedp.Void](expr,
		chromedp.WithPollingInterval(50*time.Millisecond),
		chromedp.WithPollingTimeout(20*time.Second))); err != nil {
		u.t.Fatalf("waiting for %s: %s = %q, want %q\npage text:\n%s", what, sel, u.text(sel), want, pageText(u.ctx))
	}
}

// text returns the text of the element sel ("" when there is none).
func (u *uiEnv) text(sel string) string {
	u.t.Helper()
	return evalString(u.t, u.ctx, `(document.querySelector(`+strconv.Quote(sel)+`) || {}).textContent || ''`)
}

func (u *uiEnv) click(what, sel string) {
	u.t.Helper()
	do(u.t, u.ctx, what, chromedp.Click(chromedp.CSS(sel)))
}

// slowClick presses the mouse on sel and releases it only after the page
// has refreshed its stats at least once, as a user whose click straddles
// a refresh.
func (u *uiEnv) slowClick(what, sel string) {
	u.t.Helper()
	xy := evalString(u.t, u.ctx, `(() => {
		const e = document.querySelector(`+strconv.Quote(sel)+`);
		e.scrollIntoView({block: 'center'});
		const r = e.getBoundingClientRect();
		window.statsBeforePress = codisFE.state.stats;
		return (r.left + r.width / 2) + ',' + (r.top + r.height / 2);
	})()`)
	xs, ys, _ := strings.Cut(xy, ",")
	x, err1 := strconv.ParseFloat(xs, 64)
	y, err2 := strconv.ParseFloat(ys, 64)
	if err1 != nil || err2 != nil {
		u.t.Fatalf("%s: position %q", what, xy)
	}
	do(u.t, u.ctx, what+": press", chromedp.MouseEvent(chromedp.MousePressed, x, y, chromedp.ButtonLeft, chromedp.ClickCount(1)))
	u.wait(what+": a refresh while pressed", `codisFE.state.stats !== window.statsBeforePress`)
	do(u.t, u.ctx, what+": release", chromedp.MouseEvent(chromedp.MouseReleased, x, y, chromedp.ButtonLeft, chromedp.ClickCount(1)))
}

// confirm waits for the confirmation dialog, checks that its message
// contains want, presses OK and returns the dialog's detail text.
func (u *uiEnv) confirm(want string) string {
	u.t.Helper()
	u.wait("the confirmation dialog", `document.querySelector('dialog.dlg[open]') !== null`)
	if cls := evalString(u.t, u.ctx, `document.querySelector('dialog.dlg[open]').className`); strings.Contains(cls, "error") {
		u.t.Fatalf("an error dialog instead of a confirmation:\n%s", pageText(u.ctx))
	}
	if msg := u.text(`dialog.dlg[open] .dlg-message`); !strings.Contains(msg, want) {
		u.t.Errorf("confirmation message = %q, want it to contain %q", msg, want)
	}
	detail := u.text(`dialog.dlg[open] .dlg-detail`)
	// Mark this dialog: the action it confirms may open an error dialog
	// right after it closes, faster than a poll could see no dialog at all.
	evalString(u.t, u.ctx, `document.querySelector('dialog.dlg[open]').dataset.confirmed = 'yes'`)
	u.click("confirm", `dialog.dlg[open] button[data-role="ok"]`)
	u.wait("the confirmation closed", `document.querySelector('dialog.dlg[data-confirmed]') === null`)
	return detail
}

func (u *uiEnv) stats() *topom.Stats {
	u.t.Helper()
	st, err := u.top.Stats()
	if err != nil {
		u.t.Fatal(err)
	}
	return st
}

// until polls a Go-side condition (dashboard, proxy, sentinel) and fails
// with the page text when it does not come true.
func (u *uiEnv) until(what string, cond func() bool) {
	u.t.Helper()
	deadline := time.Now().Add(20 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			u.t.Fatalf("timed out waiting for %s\npage text:\n%s", what, pageText(u.ctx))
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// screenshot saves the page as $CODIS_FE_SCREENSHOT_DIR/name.png when
// that variable is set (for looking at the panels by eye).
func (u *uiEnv) screenshot(name string) {
	u.t.Helper()
	dir := os.Getenv("CODIS_FE_SCREENSHOT_DIR")
	if dir == "" {
		return
	}
	png, err := chromedp.Run(u.ctx, chromedp.FullScreenshot(100))
	if err != nil {
		u.t.Fatalf("screenshot: %v", err)
	}
	path := filepath.Join(dir, name+".png")
	if err := os.WriteFile(path, png, 0o644); err != nil {
		u.t.Fatal(err)
	}
	u.t.Logf("screenshot written to %s", path)
}

func must(t *testing.T, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}

// assignSlots assigns slots [beg, end] to gid through the dashboard.
func assignSlots(t *testing.T, top *topom.Topom, beg, end, gid int) {
	t.Helper()
	var ms []*models.SlotMapping
	for sid := beg; sid <= end; sid++ {
		ms = append(ms, &models.SlotMapping{ID: sid, GroupID: gid})
	}
	must(t, top.SlotsAssignGroup(ms))
}

// startProxy runs a real codis-proxy (pkg/proxy) in process for the
// product on free loopback ports; like a proxy started without
// --dashboard or a coordinator, it waits to be added. configure, if any,
// edits the configuration first (as a proxy.toml would).
func startProxy(t *testing.T, configure ...func(*proxy.Config)) *proxy.Proxy {
	t.Helper()
	c := proxy.NewDefaultConfig()
	c.ProductName = uiProduct
	c.ProtoType = "tcp4"
	c.ProxyAddr = "127.0.0.1:0"
	c.AdminAddr = "127.0.0.1:0"
	c.ProxyHeapPlaceholder = 0
	c.ProxyMaxOffheapBytes = 0
	c.ProxyDataCenter = "dc-test"
	for _, f := range configure {
		f(c)
	}
	p, err := proxy.New(c, testLogger())
	if err != nil {
		t.Fatal(err)
	}
	if err := p.Start(); err != nil {
		p.Close()
		t.Fatal(err)
	}
	t.Cleanup(func() { p.Close() })
	return p
}

func dialRedis(t *testing.T, addr string) redis.Conn {
	t.Helper()
	c, err := redis.Dial("tcp", addr, redis.DialConnectTimeout(5*time.Second),
		redis.DialReadTimeout(10*time.Second), redis.DialWriteTimeout(10*time.Second))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	return c
}

// TestBrowserProxyPanel adds a real proxy through the "New Proxy" form,
// reads its sessions and commands, reinits it with SYNC, removes it, and
// force-removes a second one that died.
func TestBrowserProxyPanel(t *testing.T) {
	u := newUI(t)
	srv := startCodisServer(t)
	must(t, u.top.CreateGroup(1))
	must(t, u.top.GroupAddServer(1, "", srv))
	assignSlots(t, u.top, 0, models.MaxSlotNum-1, 1)
	p := startProxy(t)
	tok := p.Model().Token

	u.open()
	u.waitText("the empty proxy panel", "#proxies", "No proxy.")

	// New Proxy with its admin address: the dashboard registers it and
	// brings it online.
	do(t, u.ctx, "create the proxy",
		fill("#proxy-new-addr", p.AdminAddr()),
		chromedp.Click(chromedp.CSS("#proxy-new-btn")))
	row := `#proxies tr[data-token="` + tok + `"]`
	u.wait("the proxy row", `document.querySelector('`+row+`') !== null`)
	st := u.stats()
	if len(st.Proxy.Models) != 1 || st.Proxy.Models[0].Token != tok || st.Proxy.Models[0].AdminAddr != p.AdminAddr() || st.Proxy.Models[0].ID != 1 {
		t.Fatalf("dashboard proxies after New Proxy: %+v", st.Proxy.Models)
	}
	if !p.IsOnline() {
		t.Fatal("the proxy is not online after New Proxy")
	}
	if got := evalString(t, u.ctx, `document.querySelector('#proxy-new-addr').value`); got != "" {
		t.Errorf("address input after a successful create = %q, want it cleared", got)
	}
	if got := u.text(row + ` td:nth-child(1)`); got != "1" {
		t.Errorf("proxy id cell = %q", got)
	}
	if got, want := u.text(row+` td:nth-child(3)`), p.Model().ProxyAddr; got != want {
		t.Errorf("proxy address cell = %q, want %q", got, want)
	}
	if got := u.text(row + ` td:nth-child(4)`); got != p.AdminAddr() {
		t.Errorf("admin address cell = %q, want %q", got, p.AdminAddr())
	}
	if got := u.text(row + ` td:nth-child(6)`); got != "dc-test" {
		t.Errorf("datacenter cell = %q", got)
	}
	if got := evalString(t, u.ctx, `document.querySelector('`+row+` td:nth-child(2) a:last-child').href`); got != "http://"+p.AdminAddr()+"/proxy/stats" {
		t.Errorf("stats link = %q", got)
	}
	u.waitText("the sessions line", row+` td:nth-child(8)`, "total=0,alive=0")
	if got := u.statsLink(row); got != "|proxy stats" {
		t.Errorf("stats link class|title of a proxy that may read replicas = %q, want plain", got)
	}

	// Real traffic through the proxy: one open session, ten SETs that the
	// proxy forwards to the codis-server, one reply that is a Redis error.
	c := dialRedis(t, p.ProxyAddr())
	for i := 0; i < 10; i++ {
		if _, err := c.Do("SET", "k"+strconv.Itoa(i), "v"); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := c.Do("INCR", "k0"); err == nil {
		t.Fatal("INCR of a string: want a Redis error")
	}
	if n, err := redis.Int(dialRedis(t, srv).Do("DBSIZE")); err != nil || n != 10 {
		t.Fatalf("codis-server DBSIZE = %d, %v; want the 10 keys set through the proxy", n, err)
	}
	var ps *proxy.StatsJSON
	u.until("the proxy's counters", func() bool {
		ps = p.StatsJSON(0)
		return ps.Ops.Total == 11 && ps.Ops.Redis.Errors == 1
	})
	// HEALTHY: the sessions and commands of the proxy, as the dashboard
	// probed them, and a green SYNC button.
	u.waitText("the sessions line", row+` td:nth-child(8)`, "total=1,alive=1")
	prefix := fmt.Sprintf("total=%d,fails=%d,rsp.errs=%d,qps=", ps.Ops.Total, ps.Ops.Fails, ps.Ops.Redis.Errors)
	u.wait("the commands line", `(document.querySelector('`+row+` td:nth-child(9)') || {textContent: ''}).textContent.startsWith(`+strconv.Quote(prefix)+`)`)
	if got := u.text(row + ` td:nth-child(9)`); !strings.HasPrefix(got, "total=11,fails=0,rsp.errs=1,qps=") {
		t.Errorf("commands line = %q", got)
	}
	if got := evalString(t, u.ctx, `document.querySelector('`+row+` td:nth-child(5) button').className`); got != "sync ok" {
		t.Errorf("SYNC button class = %q, want green (sync ok) for a healthy proxy", got)
	}
	u.screenshot("proxy-healthy")
	if got := u.text("#ov-sessions"); got != "1" {
		t.Errorf("overview sessions = %q, want 1", got)
	}

	// SYNC: the proxy lost slot 0 (as if its table had been reset); the
	// reinit through the page pushes the dashboard's slots again.
	must(t, p.FillSlots([]*models.Slot{{ID: 0}}))
	if got := p.Router().Slots()[0].BackendAddr; got != "" {
		t.Fatalf("slot 0 backend after reset = %q", got)
	}
	u.click("press SYNC", row+` td:nth-child(5) button`)
	u.confirm("Reinit proxy-1 [" + p.AdminAddr() + "]")
	u.until("slot 0 pushed again", func() bool { return p.Router().Slots()[0].BackendAddr == srv })
	if v, err := redis.String(c.Do("GET", "k1")); err != nil || v != "v" {
		t.Errorf("GET through the proxy after SYNC = %q, %v", v, err)
	}

	// Remove: confirmed, the dashboard shuts the proxy down and forgets it.
	u.click("remove the proxy", row+` td:last-child button`)
	u.confirm("Remove proxy-1 [" + p.AdminAddr() + "]?")
	u.waitText("no proxy", "#proxies", "No proxy.")
	if st := u.stats(); len(st.Proxy.Models) != 0 {
		t.Errorf("dashboard proxies after the remove: %+v", st.Proxy.Models)
	}
	select {
	case <-p.Done():
	case <-time.After(10 * time.Second):
		t.Error("the removed proxy was not shut down")
	}

	// A second proxy, configured with backend_primary_only = true: it
	// reports backend.primary_only and its stats link is red.
	p2 := startProxy(t, func(c *proxy.Config) { c.BackendPrimaryOnly = true })
	tok2 := p2.Model().Token
	do(t, u.ctx, "create the second proxy",
		fill("#proxy-new-addr", p2.AdminAddr()),
		chromedp.Click(chromedp.CSS("#proxy-new-btn")))
	row2 := `#proxies tr[data-token="` + tok2 + `"]`
	u.waitText("the second proxy healthy", row2+` td:nth-child(8)`, "total=0,alive=0")
	if !p2.StatsJSON(0).Backend.PrimaryOnly {
		t.Fatal("the proxy configured primary-only does not report backend.primary_only")
	}
	if got := u.statsLink(row2); got != "bad|backend: primary only" {
		t.Errorf("stats link class|title of a primary-only proxy = %q, want bad|backend: primary only", got)
	}
	u.screenshot("proxy-primary-only")

	// The proxy dies: ERROR and a FORCE button; the plain remove fails
	// (the dashboard cannot shut it down), FORCE removes it.
	p2.Close()
	u.waitText("the dead proxy's status", row2+` td:nth-child(9)`, "ERROR")
	u.click("remove the dead proxy", row2+` td:last-child button`)
	u.confirm("Remove proxy-")
	u.wait("the error dialog", `document.querySelector('dialog.dlg.error[open]') !== null`)
	if got := u.text(`dialog.dlg.error .dlg-message`); !strings.Contains(got, "shutdown failed") {
		t.Errorf("remove of a dead proxy: error %q, want the shutdown failure", got)
	}
	u.click("close the error", `dialog.dlg.error button[data-role="ok"]`)
	u.wait("the dialog closed", `document.querySelector('dialog.dlg') === null`)
	if st := u.stats(); len(st.Proxy.Models) != 1 {
		t.Fatalf("dashboard proxies after a failed remove: %+v", st.Proxy.Models)
	}
	u.click("FORCE", row2+` td:nth-child(7) button`)
	u.confirm("FORCE remove proxy-")
	u.waitText("no proxy", "#proxies", "No proxy.")
	if st := u.stats(); len(st.Proxy.Models) != 0 {
		t.Errorf("dashboard proxies after FORCE: %+v", st.Proxy.Models)
	}
}

// proxyMarksJS is a JavaScript expression for the classes of the proxy
// row's address, admin address and SYNC button, joined by "|" (the first
// two are "bad" and the button "sync danger" once the proxy reports a
// sentinel switch).
func proxyMarksJS(row string) string {
	return `(() => {
		const r = document.querySelector('` + row + `');
		return [r.cells[2].className, r.cells[3].className, r.cells[4].querySelector('button').className].join('|');
	})()`
}

// statsLink returns "class|title" of the stats link (S) of the proxy row.
func (u *uiEnv) statsLink(row string) string {
	u.t.Helper()
	return evalString(u.t, u.ctx, `(() => {
		const a = document.querySelector('`+row+` td:nth-child(2) a:last-child');
		return a.className + '|' + a.title;
	})()`)
}

// keysInSlots returns n keys for each of the slots sids.
func keysInSlots(n int, sids ...int) []string {
	want := map[int]int{}
	for _, sid := range sids {
		want[sid] = n
	}
	var keys []string
	for i := 0; len(want) > 0; i++ {
		k := "key:" + strconv.Itoa(i)
		sid := slot.Of([]byte(k))
		if want[sid] > 0 {
			keys = append(keys, k)
			if want[sid]--; want[sid] == 0 {
				delete(want, sid)
			}
		}
	}
	return keys
}

// slotCounts returns the number of slots per group and whether any slot
// has an action, from the dashboard.
func slotCounts(st *topom.Stats) (map[int]int, bool) {
	n := map[int]int{}
	busy := false
	for _, m := range st.Slots {
		n[m.GroupID]++
		if m.Action.State != models.ActionNothing {
			busy = true
		}
	}
	return n, busy
}

// legendOf is the legend the page should draw for the dashboard's slots.
func legendOf(st *topom.Stats) string {
	n, _ := slotCounts(st)
	var parts []string
	if n[0] > 0 {
		parts = append(parts, "Group-0:"+strconv.Itoa(n[0]))
	}
	for _, g := range st.Group.Models {
		parts = append(parts, fmt.Sprintf("Group-%d:%d", g.ID, n[g.ID]))
	}
	return strings.Join(parts, " ")
}

const legendJS = `[...document.querySelectorAll('#slots-chart .legend')].map((e) => e.textContent).join(' ')`

// TestBrowserSlotsPanel migrates slots holding real keys between two
// codis-servers through the Slots panel: Migrate Range, Migrate Some,
// Rebalance All Slots, and pending actions shown and removed while slot
// actions are disabled.
func TestBrowserSlotsPanel(t *testing.T) {
	u := newUI(t)
	s1, s2 := startCodisServer(t), startCodisServer(t)
	must(t, u.top.CreateGroup(1))
	must(t, u.top.CreateGroup(2))
	must(t, u.top.GroupAddServer(1, "", s1))
	must(t, u.top.GroupAddServer(2, "", s2))
	assignSlots(t, u.top, 0, 511, 1)
	assignSlots(t, u.top, 512, 1023, 2)
	// Five keys in each of the slots 0..3, on group 1's server.
	c1, c2 := dialRedis(t, s1), dialRedis(t, s2)
	keys := keysInSlots(5, 0, 1, 2, 3)
	for _, k := range keys {
		if _, err := c1.Do("SET", k, "v-"+k); err != nil {
			t.Fatal(err)
		}
	}
	dbsize := func(c redis.Conn) int {
		n, err := redis.Int(c.Do("DBSIZE"))
		if err != nil {
			t.Fatal(err)
		}
		return n
	}
	keysCell := func(gid int, addr string) string {
		return fmt.Sprintf(`#groups .group[data-gid="%d"] tr[data-server="%s"] td:nth-child(10)`, gid, addr)
	}
	// checkMoved waits until the dashboard has no slot action left and the
	// group sizes are want, then until the page's legend and key counts
	// agree with the dashboard and the servers.
	checkMoved := func(what string, want map[int]int) {
		t.Helper()
		u.until(what+" on the dashboard", func() bool {
			n, busy := slotCounts(u.stats())
			return !busy && n[1] == want[1] && n[2] == want[2]
		})
		st := u.stats()
		legend := legendOf(st)
		if exp := fmt.Sprintf("Group-1:%d Group-2:%d", want[1], want[2]); legend != exp {
			t.Fatalf("legend from the dashboard = %q, want %q", legend, exp)
		}
		u.wait(what+": the legend "+legend, legendJS+` === `+strconv.Quote(legend))
		for _, x := range []struct {
			gid  int
			addr string
			c    redis.Conn
		}{{1, s1, c1}, {2, s2, c2}} {
			want := ""
			if n := dbsize(x.c); n > 0 {
				want = "db0:" + strconv.Itoa(n)
			}
			u.waitText(what+": the keys of group "+strconv.Itoa(x.gid), keysCell(x.gid, x.addr), want)
		}
	}

	u.open()
	u.wait("the initial legend", legendJS+` === 'Group-1:512 Group-2:512'`)
	u.waitText("the keys of group 1", keysCell(1, s1), "db0:20")

	// Migrate Range: slots 0..3 with their keys to group 2.
	do(t, u.ctx, "fill Migrate Range",
		fill("#slots-range-beg", "0"),
		fill("#slots-range-end", "3"),
		fill("#slots-range-gid", "2"),
		chromedp.Click(chromedp.CSS(`#form-slots-range button`)))
	u.confirm("Migrate slots [0, 3] to group-2?")
	checkMoved("Migrate Range", map[int]int{1: 508, 2: 516})
	for _, m := range u.stats().Slots[:4] {
		if m.GroupID != 2 {
			t.Errorf("slot %d in group %d after Migrate Range, want 2", m.ID, m.GroupID)
		}
	}
	if n1, n2 := dbsize(c1), dbsize(c2); n1 != 0 || n2 != len(keys) {
		t.Errorf("keys after Migrate Range: group 1 %d, group 2 %d; want 0, %d", n1, n2, len(keys))
	}
	for _, k := range keys {
		if v, err := redis.String(c2.Do("GET", k)); err != nil || v != "v-"+k {
			t.Fatalf("key %s on group 2: %q, %v", k, v, err)
		}
	}

	// Migrate Some: two slots of group 2 back to group 1 (the dashboard
	// picks group 2's lowest slots, 0 and 1).
	do(t, u.ctx, "fill Migrate Some",
		fill("#slots-some-num", "2"),
		fill("#slots-some-src", "2"),
		fill("#slots-some-dst", "1"),
		chromedp.Click(chromedp.CSS(`#form-slots-some button`)))
	u.confirm("Migrate 2 slot(s) from group-2 to group-1?")
	checkMoved("Migrate Some", map[int]int{1: 510, 2: 514})
	if sl := u.stats().Slots; sl[0].GroupID != 1 || sl[1].GroupID != 1 || sl[2].GroupID != 2 {
		t.Errorf("slots 0..2 after Migrate Some in groups %d %d %d, want 1 1 2", sl[0].GroupID, sl[1].GroupID, sl[2].GroupID)
	}
	if n1, n2 := dbsize(c1), dbsize(c2); n1 != 10 || n2 != 10 {
		t.Errorf("keys after Migrate Some: %d, %d; want 10, 10", n1, n2)
	}

	// Rebalance All Slots: the preview is the dashboard's plan (a dry
	// run, rebalance/0), confirmed it runs.
	plan, err := u.top.SlotsRebalance(false)
	must(t, err)
	u.click("Rebalance All Slots", "#slots-rebalance")
	detail := u.confirm(fmt.Sprintf("Migrate %d slot(s)?", len(plan)))
	if want := planText(plan); detail != want {
		t.Errorf("rebalance preview = %q, want the dashboard's plan %q", detail, want)
	}
	if detail != "group-[1] <== [1022,1023]" {
		t.Errorf("rebalance preview = %q, want group-[1] <== [1022,1023]", detail)
	}
	checkMoved("Rebalance", map[int]int{1: 512, 2: 512})
	if sl := u.stats().Slots; sl[1022].GroupID != 1 || sl[1023].GroupID != 1 {
		t.Errorf("slots 1022, 1023 after the rebalance in groups %d, %d", sl[1022].GroupID, sl[1023].GroupID)
	}
	// Balanced now: the page says so and queues nothing.
	u.click("Rebalance All Slots again", "#slots-rebalance")
	u.wait("the nothing-to-do dialog", `document.querySelector('dialog.dlg[open]') !== null`)
	if got := u.text(`dialog.dlg[open] .dlg-message`); !strings.Contains(got, "already balanced") {
		t.Errorf("second rebalance: dialog %q", got)
	}
	if n := evalString(t, u.ctx, `String(document.querySelectorAll('dialog.dlg[open] button').length)`); n != "1" {
		t.Errorf("the nothing-to-do dialog has %s buttons, want only OK", n)
	}
	u.click("close", `dialog.dlg[open] button[data-role="ok"]`)
	u.wait("the dialog closed", `document.querySelector('dialog.dlg') === null`)

	// Show Actions: with slot actions disabled, a range stays pending; the
	// page lists it and removes one action.
	u.click("disable slot actions", "#slot-action-toggle")
	u.waitText("slot actions disabled", "#slot-action-state", "Disabled")
	if !u.stats().SlotAction.Disabled {
		t.Fatal("the dashboard's slot actions are not disabled")
	}
	do(t, u.ctx, "fill Migrate Range",
		fill("#slots-range-beg", "10"),
		fill("#slots-range-end", "12"),
		fill("#slots-range-gid", "2"),
		chromedp.Click(chromedp.CSS(`#form-slots-range button`)))
	u.confirm("Migrate slots [10, 12] to group-2?")
	u.until("three pending actions", func() bool {
		sl := u.stats().Slots
		for sid := 10; sid <= 12; sid++ {
			if sl[sid].Action.State != models.ActionPending || sl[sid].Action.TargetID != 2 {
				return false
			}
		}
		return true
	})
	u.waitText("the action count", "#slot-actions-show", "Show Actions (3)")
	if !evalBool(t, u.ctx, `document.querySelector('#slot-actions').hidden`) {
		t.Error("the action list is shown before Show Actions")
	}
	// The chart's Migrating row shows the range going to group 2.
	if !evalBool(t, u.ctx, `[...document.querySelectorAll('#slots-chart svg title')].some((e) => e.textContent === 'Group-2 [10,12] (migrating to)')`) {
		t.Error("the chart has no Migrating run Group-2 [10,12]")
	}
	u.click("Show Actions", "#slot-actions-show")
	u.waitText("the toggle", "#slot-actions-show", "Hide Actions (3)")
	rowsJS := `[...document.querySelectorAll('#slot-actions tbody tr')].map((r) => [...r.cells].slice(0, 5).map((c) => c.textContent).join('|') + (r.querySelector('button') ? '|x' : '')).join(';')`
	sl := u.stats().Slots
	var want []string
	for sid := 10; sid <= 12; sid++ {
		want = append(want, fmt.Sprintf("%d|1|2|%d|pending|x", sid, sl[sid].Action.Index))
	}
	u.wait("the pending actions listed", rowsJS+` === `+strconv.Quote(strings.Join(want, ";")))
	u.screenshot("slots-pending-actions")
	u.click("remove the action of slot 11", `#slot-actions tr[data-slot="11"] button`)
	u.confirm("Remove the action of slot-11?")
	u.until("slot 11 without action", func() bool {
		m := u.stats().Slots[11]
		return m.Action.State == models.ActionNothing && m.GroupID == 1
	})
	u.wait("two pending actions listed", rowsJS+` === `+strconv.Quote(want[0]+";"+want[2]))
	u.waitText("the toggle", "#slot-actions-show", "Hide Actions (2)")
	if sl := u.stats().Slots; sl[10].Action.State != models.ActionPending || sl[12].Action.State != models.ActionPending {
		t.Errorf("slots 10, 12 after removing slot 11's action: %+v, %+v", sl[10].Action, sl[12].Action)
	}

	// Enable again: the two remaining actions run.
	u.click("enable slot actions", "#slot-action-toggle")
	u.waitText("slot actions enabled", "#slot-action-state", "Enabled")
	checkMoved("the pending actions", map[int]int{1: 510, 2: 514})
	if sl := u.stats().Slots; sl[10].GroupID != 2 || sl[11].GroupID != 1 || sl[12].GroupID != 2 {
		t.Errorf("slots 10..12 in groups %d %d %d, want 2 1 2", sl[10].GroupID, sl[11].GroupID, sl[12].GroupID)
	}
	u.waitText("no action left", "#slot-actions", "No slot action.")
	u.waitText("the toggle", "#slot-actions-show", "Hide Actions (0)")
}

// planText formats a rebalance plan as the page's preview should:
// group-[g] <== [beg,end],... per target group.
func planText(plan map[int]int) string {
	by := map[int][]int{}
	for sid, gid := range plan {
		by[gid] = append(by[gid], sid)
	}
	var gids []int
	for gid := range by {
		gids = append(gids, gid)
	}
	slices.Sort(gids)
	var lines []string
	for _, gid := range gids {
		sids := by[gid]
		slices.Sort(sids)
		var runs []string
		for i := 0; i < len(sids); {
			j := i
			for j+1 < len(sids) && sids[j+1] == sids[j]+1 {
				j++
			}
			runs = append(runs, fmt.Sprintf("[%d,%d]", sids[i], sids[j]))
			i = j + 1
		}
		lines = append(lines, fmt.Sprintf("group-[%d] <== %s", gid, strings.Join(runs, ",")))
	}
	return strings.Join(lines, "\n")
}

func evalBool(t *testing.T, ctx context.Context, expr string) bool {
	t.Helper()
	v, err := chromedp.Run(ctx, chromedp.Evaluate[bool](expr))
	if err != nil {
		t.Fatalf("evaluate %s: %v", expr, err)
	}
	return v
}

// sentinelMasterNames returns name=ip:port of what a sentinel monitors.
func sentinelMasterNames(t *testing.T, addr string) []string {
	t.Helper()
	c := dialRedis(t, addr)
	vals, err := redis.Values(c.Do("SENTINEL", "masters"))
	if err != nil {
		t.Fatal(err)
	}
	var out []string
	for _, v := range vals {
		m, err := redis.StringMap(v, nil)
		if err != nil {
			t.Fatal(err)
		}
		out = append(out, m["name"]+"="+m["ip"]+":"+m["port"])
	}
	slices.Sort(out)
	return out
}

// TestBrowserSentinelsPanel adds a real redis-sentinel through the page,
// syncs it so that it monitors the group's codis-server, reads its status
// line, and removes it.
func TestBrowserSentinelsPanel(t *testing.T) {
	testenv.Require(t, "redis-sentinel")
	u := newUI(t)
	srv := startCodisServer(t)
	must(t, u.top.CreateGroup(1))
	must(t, u.top.GroupAddServer(1, "", srv))
	sen := testenv.StartSentinel(t)

	u.open()
	u.waitText("the empty sentinel panel", "#sentinels", "No sentinel.")

	do(t, u.ctx, "add the sentinel",
		fill("#sentinel-add-addr", sen.Addr),
		chromedp.Click(chromedp.CSS("#sentinel-add-btn")))
	row := `#sentinels tr[data-sentinel="` + sen.Addr + `"]`
	u.wait("the sentinel row", `document.querySelector('`+row+`') !== null`)
	st := u.stats()
	if m := st.Sentinels.Model; m == nil || len(m.Servers) != 1 || m.Servers[0] != sen.Addr || !m.OutOfSync {
		t.Fatalf("dashboard sentinels after Add Sentinel: %+v", m)
	}
	// Added but not synced: it monitors nothing yet and SYNC is red.
	u.waitText("the status before SYNC", row+` td:nth-child(4)`, "masters=0,down=0,slaves=0,sentinels=0")
	u.waitText("SYNC out of sync", "#sentinels-resync", "SYNC (OUT OF SYNC)")
	if !evalBool(t, u.ctx, `document.querySelector('#sentinels-resync').classList.contains('danger')`) {
		t.Error("SYNC is not red while the sentinels are out of sync")
	}
	if got := sentinelMasterNames(t, sen.Addr); len(got) != 0 {
		t.Fatalf("sentinel monitors %v before SYNC", got)
	}

	// SYNC: the sentinel monitors group 1's master.
	u.click("press SYNC", "#sentinels-resync")
	u.confirm("Resync every sentinel")
	u.until("the sentinels in sync", func() bool {
		st := u.stats()
		return !st.Sentinels.Model.OutOfSync && st.Sentinels.Masters["1"] == srv
	})
	if got, want := strings.Join(sentinelMasterNames(t, sen.Addr), ","), uiProduct+"-1="+srv; got != want {
		t.Fatalf("sentinel monitors %q, want %q", got, want)
	}
	u.waitText("the status after SYNC", row+` td:nth-child(4)`, "masters=1,down=0,slaves=0,sentinels=1")
	u.waitText("SYNC in sync", "#sentinels-resync", "SYNC")
	if evalBool(t, u.ctx, `document.querySelector('#sentinels-resync').classList.contains('danger')`) {
		t.Error("SYNC is still red after the resync")
	}
	// The run id check has something to compare: the sentinel reports the
	// codis-server's run_id, so the row carries no warning.
	runID, err := redis.String(dialRedis(t, srv).Do("INFO", "server"))
	must(t, err)
	_, runID, _ = strings.Cut(runID, "run_id:")
	runID, _, _ = strings.Cut(runID, "\r\n")
	u.until("the sentinel's view of the master in the dashboard stats", func() bool {
		rs := u.stats().Sentinels.Stats[sen.Addr]
		return rs != nil && rs.Sentinel[uiProduct+"-1"] != nil && rs.Sentinel[uiProduct+"-1"].Master["runid"] != ""
	})
	if got := u.stats().Sentinels.Stats[sen.Addr].Sentinel[uiProduct+"-1"].Master["runid"]; got != runID {
		t.Errorf("sentinel reports run id %q, codis-server has %q", got, runID)
	}
	if evalBool(t, u.ctx, `document.querySelector('`+row+` .bad') !== null`) {
		t.Errorf("run id warning on the sentinel row: %q", u.text(row))
	}
	u.screenshot("sentinel-synced")
	// The group panel marks the master the sentinel reports.
	addrCell := fmt.Sprintf(`#groups .group[data-gid="1"] tr[data-server="%s"] td:nth-child(3)`, srv)
	u.waitText("the HA mark", addrCell, srv+" [HA]")
	if got := evalString(t, u.ctx, `document.querySelector('`+addrCell+`').className`); got != "addr ha-master" {
		t.Errorf("server address class = %q, want addr ha-master", got)
	}
	// WATCHED links to the dashboard's monitored list, which has the group.
	href := evalString(t, u.ctx, `document.querySelector('`+row+` td:nth-child(2) a').href`)
	if want := "http://" + u.top.AdminAddr() + "/api/topom/sentinels/info/" + sen.Addr + "/monitored"; href != want {
		t.Errorf("WATCHED link = %q, want %q", href, want)
	}
	resp, body := doHTTP(t, "GET", href, "")
	var monitored map[string]json.RawMessage
	if resp.StatusCode != 200 || json.Unmarshal([]byte(body), &monitored) != nil || monitored[uiProduct+"-1"] == nil {
		t.Errorf("GET WATCHED link: %d %s", resp.StatusCode, body)
	}

	// Remove: the dashboard drops the sentinel and its monitors. The click
	// is a slow one, across a refresh of the page: a refresh that changes
	// nothing must not swap the button away under the pointer.
	u.slowClick("remove the sentinel", row+` td:last-child button`)
	u.confirm("Remove sentinel " + sen.Addr + "?")
	u.waitText("no sentinel", "#sentinels", "No sentinel.")
	if m := u.stats().Sentinels.Model; m != nil && len(m.Servers) != 0 {
		t.Errorf("dashboard sentinels after the remove: %+v", m)
	}
	if got := sentinelMasterNames(t, sen.Addr); len(got) != 0 {
		t.Errorf("the removed sentinel still monitors %v", got)
	}

	// A sentinel that dies: ERROR and a FORCE button; the plain remove
	// fails (its monitors cannot be removed), FORCE removes it.
	sen2 := testenv.StartSentinel(t)
	do(t, u.ctx, "add the second sentinel",
		fill("#sentinel-add-addr", sen2.Addr),
		chromedp.Click(chromedp.CSS("#sentinel-add-btn")))
	row2 := `#sentinels tr[data-sentinel="` + sen2.Addr + `"]`
	u.waitText("the second sentinel", row2+` td:nth-child(4)`, "masters=0,down=0,slaves=0,sentinels=0")
	sen2.Stop()
	u.waitText("the dead sentinel's status", row2+` td:nth-child(4)`, "ERROR")
	u.click("remove the dead sentinel", row2+` td:last-child button`)
	u.confirm("Remove sentinel " + sen2.Addr + "?")
	u.wait("the error dialog", `document.querySelector('dialog.dlg.error[open]') !== null`)
	if got := u.text(`dialog.dlg.error .dlg-message`); !strings.Contains(got, "remove sentinel "+sen2.Addr+" failed") {
		t.Errorf("remove of a dead sentinel: error %q", got)
	}
	u.click("close the error", `dialog.dlg.error button[data-role="ok"]`)
	u.wait("the dialog closed", `document.querySelector('dialog.dlg') === null`)
	if m := u.stats().Sentinels.Model; m == nil || len(m.Servers) != 1 {
		t.Fatalf("dashboard sentinels after a failed remove: %+v", m)
	}
	u.click("FORCE", row2+` td:nth-child(5) button`)
	u.confirm("FORCE remove sentinel " + sen2.Addr + "?")
	u.waitText("no sentinel", "#sentinels", "No sentinel.")
	if m := u.stats().Sentinels.Model; m != nil && len(m.Servers) != 0 {
		t.Errorf("dashboard sentinels after FORCE: %+v", m)
	}
}

// serverInfo returns the INFO fields of the server at addr as the
// dashboard reads them (nil when it cannot be read).
func (u *uiEnv) serverInfo(addr string) map[string]string {
	m, _ := u.top.ServerInfo(addr)
	return m
}

// TestBrowserProxySwitched fails group 1 over to its replica with a real
// redis-sentinel. The proxy follows the sentinel by itself: it moves the
// group's slots to the new master and from then on reports
// sentinels.switched, which the page shows as "HA: MASTER SWITCHED" on
// the proxy's addresses and a red SYNC button.
func TestBrowserProxySwitched(t *testing.T) {
	testenv.Require(t, "redis-sentinel")
	u := newUI(t)
	master, replica := startCodisServer(t), startCodisServer(t)
	must(t, u.top.CreateGroup(1))
	must(t, u.top.GroupAddServer(1, "", master))
	must(t, u.top.GroupAddServer(1, "", replica))
	must(t, u.top.CreateSyncAction(replica))
	assignSlots(t, u.top, 0, models.MaxSlotNum-1, 1)
	sen := testenv.StartSentinel(t)
	p := startProxy(t)
	must(t, u.top.CreateProxy(p.AdminAddr()))
	// The sentinel monitors the group once the replica is linked (so
	// that it learns the replica at once); the resync pushes the sentinel
	// to the proxy too.
	u.until("the replica linked to the master", func() bool {
		return u.serverInfo(replica)["master_link_status"] == "up"
	})
	must(t, u.top.AddSentinel(sen.Addr))
	must(t, u.top.ResyncSentinels())

	u.open()
	row := `#proxies tr[data-token="` + p.Model().Token + `"]`
	u.waitText("the proxy healthy", row+` td:nth-child(8)`, "total=0,alive=0")
	// Not switched yet: no mark, a green SYNC.
	if got := u.text(row + ` td:nth-child(3)`); got != p.ProxyAddr() {
		t.Errorf("proxy address cell before the failover = %q, want %q", got, p.ProxyAddr())
	}
	if got := evalString(t, u.ctx, proxyMarksJS(row)); got != "||sync ok" {
		t.Errorf("proxy address|admin|SYNC classes before the failover = %q, want ||sync ok", got)
	}

	// The proxy watches the sentinel (it learnt the master from it), and
	// the sentinel knows the replica: fail over.
	u.until("the proxy watching the sentinel", func() bool {
		return p.StatsJSON(0).Sentinels.Masters["1"] == master
	})
	sc := dialRedis(t, sen.Addr)
	name := uiProduct + "-1"
	u.until("the sentinel accepting the failover", func() bool {
		_, err := sc.Do("SENTINEL", "FAILOVER", name)
		return err == nil
	})
	u.until("the proxy following the switch", func() bool {
		return p.Router().Slots()[0].BackendAddr == replica
	})
	if st := p.StatsJSON(0); !st.Sentinels.Switched {
		t.Fatalf("the proxy moved its slots but does not report switched: %+v", st.Sentinels)
	}
	u.waitText("the HA mark", row+` td:nth-child(3) .bad`, "HA: MASTER SWITCHED")
	if got := u.text(row + ` td:nth-child(3)`); got != p.ProxyAddr()+"HA: MASTER SWITCHED" {
		t.Errorf("proxy address cell after the failover = %q", got)
	}
	u.wait("the red addresses and SYNC", proxyMarksJS(row)+` === 'bad|bad|sync danger'`)
	u.screenshot("proxy-switched")
}

// sentinelMaster returns what the sentinel on c reports about the master
// name (SENTINEL master), nil when it cannot be read.
func sentinelMaster(c redis.Conn, name string) map[string]string {
	m, _ := redis.StringMap(c.Do("SENTINEL", "master", name))
	return m
}

// TestBrowserSentinelRunIDWarning restarts the codis-server a real
// redis-sentinel monitors. The restarted server has a new run_id, which
// the dashboard reads at once; the sentinel keeps reporting the old one
// until its next INFO of the master (every 10 s). In between, the
// sentinel's row warns that the run ids differ.
func TestBrowserSentinelRunIDWarning(t *testing.T) {
	testenv.Require(t, "redis-sentinel")
	u := newUI(t)
	proc := runCodisServer(t, 0)
	srv := proc.Addr().String()
	must(t, u.top.CreateGroup(1))
	must(t, u.top.GroupAddServer(1, "", srv))
	sen := testenv.StartSentinel(t)
	must(t, u.top.AddSentinel(sen.Addr))
	must(t, u.top.ResyncSentinels())
	sc := dialRedis(t, sen.Addr)
	name := uiProduct + "-1"
	oldID := u.serverInfo(srv)["run_id"]

	u.open()
	row := `#sentinels tr[data-sentinel="` + sen.Addr + `"]`
	u.waitText("the sentinel's status", row+` td:nth-child(4)`, "masters=1,down=0,slaves=0,sentinels=1")
	// Both sides agree: the sentinel reports the server's run id, and the
	// row has no warning.
	u.until("the sentinel's run id of the master in the dashboard stats", func() bool {
		rs := u.stats().Sentinels.Stats[sen.Addr]
		return rs != nil && rs.Sentinel[name] != nil && rs.Sentinel[name].Master["runid"] == oldID
	})
	u.wait("the page on the same stats", `(() => {
		const s = codisFE.state.stats.sentinels.stats[`+strconv.Quote(sen.Addr)+`];
		return !!(s && s.sentinel && s.sentinel[`+strconv.Quote(name)+`] && s.sentinel[`+strconv.Quote(name)+`].master.runid === `+strconv.Quote(oldID)+`);
	})()`)
	if evalBool(t, u.ctx, `document.querySelector('`+row+` .bad') !== null`) {
		t.Fatalf("run id warning before the restart: %q", u.text(row))
	}

	// Restart right after an INFO of the sentinel, so that its view stays
	// stale for at least 6 s.
	u.until("a fresh INFO of the master by the sentinel", func() bool {
		n, err := strconv.Atoi(sentinelMaster(sc, name)["info-refresh"])
		return err == nil && n < 4000
	})
	port := proc.Addr().(*net.TCPAddr).Port
	proc.Close()
	proc = runCodisServer(t, port)
	if addr := proc.Addr().String(); addr != srv {
		t.Fatalf("restarted on %s, want %s", addr, srv)
	}
	if newID := u.serverInfo(srv)["run_id"]; newID == "" || newID == oldID {
		t.Fatalf("run_id after the restart = %q (before: %q)", newID, oldID)
	}
	u.waitText("the run id warning", row+` td:nth-child(4) .bad`, name+": run_id of "+srv+" differs")
	if got := u.text(row + ` td:nth-child(4)`); got != "masters=1,down=0,slaves=0,sentinels=1"+name+": run_id of "+srv+" differs" {
		t.Errorf("sentinel status cell = %q", got)
	}
	if got := sentinelMaster(sc, name)["runid"]; got != oldID {
		t.Errorf("the sentinel reports run id %q, want the old %q it had not re-read yet", got, oldID)
	}
	u.screenshot("sentinel-runid-warning")
}
