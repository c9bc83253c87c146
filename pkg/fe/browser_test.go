package fe

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/chromedp/cdproto/runtime"
	"github.com/chromedp/chromedp"

	"github.com/codisgo/codis/pkg/testenv"
	"github.com/codisgo/codis/pkg/utils/token"
)

// findChromium returns the headless browser to drive: $CODIS_CHROMIUM, or
// Debian's chromium, or another Chrome in PATH. A missing browser skips
// the test, or fails it when CI is set (testenv.Missing).
func findChromium(t *testing.T) string {
	t.Helper()
	if p := os.Getenv("CODIS_CHROMIUM"); p != "" {
		return p
	}
	for _, name := range []string{"chromium", "chromium-browser", "google-chrome", "google-chrome-stable"} {
		if p, err := exec.LookPath(name); err == nil {
			return p
		}
	}
	testenv.Missing(t, "chromium not found in PATH (Debian package chromium)")
	return ""
}

// browser starts a headless chromium with a fresh profile and returns a
// tab context, cancelled at cleanup. JavaScript exceptions of the page
// are collected and fail the test at cleanup.
func browser(t *testing.T) context.Context {
	t.Helper()
	exe := findChromium(t)
	opts := []chromedp.ExecAllocatorOption{
		chromedp.ExecPath(exe),
		chromedp.Headless,
		chromedp.NoSandbox,
		chromedp.DisableGPU,
		chromedp.NoFirstRun,
		chromedp.NoDefaultBrowserCheck,
		chromedp.Flag("disable-quic", true),
		chromedp.Flag("disable-background-networking", true),
		chromedp.Flag("disable-component-update", true),
		chromedp.Flag("disable-sync", true),
		chromedp.Flag("disable-dev-shm-usage", true),
		chromedp.UserDataDir(t.TempDir()),
		chromedp.WindowSize(1400, 1000),
	}
	actx, cancelAlloc := chromedp.NewExecAllocator(context.Background(), opts...)
	ctx, cancel := chromedp.NewContext(actx)
	// Start the browser now, on a context without a deadline.
	if err := chromedp.Do(ctx); err != nil {
		cancel()
		cancelAlloc()
		t.Fatalf("start %s: %v", exe, err)
	}

	var mu sync.Mutex
	var exceptions []string
	events := chromedp.Events(ctx, runtime.ExceptionThrown)
	done := make(chan struct{})
	go func() {
		defer close(done)
		for ev, err := range events {
			if err != nil {
				return
			}
			text := ev.ExceptionDetails.Text
			if ev.ExceptionDetails.Exception != nil && ev.ExceptionDetails.Exception.Description != "" {
				text = ev.ExceptionDetails.Exception.Description
			}
			mu.Lock()
			exceptions = append(exceptions, text)
			mu.Unlock()
		}
	}()
	t.Cleanup(func() {
		cancel()
		cancelAlloc()
		<-done
		mu.Lock()
		defer mu.Unlock()
		for _, e := range exceptions {
			t.Errorf("JavaScript exception in the page: %s", e)
		}
	})
	return ctx
}

// waitJS polls a JavaScript predicate in the page until it is truthy.
func waitJS(t *testing.T, ctx context.Context, what, expr string) {
	t.Helper()
	if _, err := chromedp.Run(ctx, chromedp.Poll[chromedp.Void](expr,
		chromedp.WithPollingInterval(50*time.Millisecond),
		chromedp.WithPollingTimeout(20*time.Second))); err != nil {
		t.Fatalf("waiting for %s (%s): %v\npage text:\n%s", what, expr, err, pageText(ctx))
	}
}

func pageText(ctx context.Context) string {
	s, _ := chromedp.Run(ctx, chromedp.Evaluate[string](`document.body.innerText`))
	return s
}

func evalString(t *testing.T, ctx context.Context, expr string) string {
	t.Helper()
	s, err := chromedp.Run(ctx, chromedp.Evaluate[string](expr, chromedp.EvalAwaitPromise))
	if err != nil {
		t.Fatalf("evaluate %s: %v", expr, err)
	}
	return s
}

// do runs steps (fills and clicks, which may be repeated). A step that
// found its node just before a refresh re-rendered the panel fails with a
// stale node id before any input reached the page; the steps are then
// run again, as a user would click again.
func do(t *testing.T, ctx context.Context, what string, steps ...chromedp.Action[chromedp.Void]) {
	t.Helper()
	var err error
	for attempt := 0; attempt < 3; attempt++ {
		if err = chromedp.Do(ctx, steps...); err == nil || !staleNode(err) {
			break
		}
	}
	if err != nil {
		t.Fatalf("%s: %v\npage text:\n%s", what, err, pageText(ctx))
	}
}

// staleNode reports the DevTools error of a node that left the document.
func staleNode(err error) bool {
	msg := err.Error()
	return strings.Contains(msg, "Could not find node with given id") || strings.Contains(msg, "No node with given id found")
}

// fill clears the input sel and types text into it.
func fill(sel, text string) chromedp.Action[chromedp.Void] {
	return chromedp.Steps(
		chromedp.Evaluate[chromedp.Void](`document.querySelector(`+strconv.Quote(sel)+`).value = ''`),
		chromedp.SendKeys(chromedp.CSS(sel), text),
	)
}

// TestBrowserUI drives the web UI in headless chromium like a user: pick
// the product, read the overview, create a group and add a real
// codis-server through the forms, see an error dialog, and check the
// dashboard and the page agree.
func TestBrowserUI(t *testing.T) {
	ctx := browser(t)

	root := t.TempDir()
	const product = "demo"
	top := startDashboard(t, root, product)
	srv := startCodisServer(t)

	hs := newFE(t, Config{
		AssetsDir: filepath.Join("..", "..", "cmd", "fe", "assets"),
		Loader:    CoordinatorLoader(fsClient(t, root), testLogger()),
	})

	// The sidebar lists the product; clicking it selects it by hash.
	do(t, ctx, "open the page", chromedp.Navigate(hs.url+"/"))
	waitJS(t, ctx, "the product in the sidebar", `document.querySelector('#products a[data-product="demo"]') !== null`)
	do(t, ctx, "pick the product", chromedp.Click(chromedp.CSS(`#products a[data-product="demo"]`)))
	waitJS(t, ctx, "the hash", `location.hash === '#demo'`)

	// The overview shows the product, its coordinator and dashboard.
	waitJS(t, ctx, "the overview", `document.querySelector('#ov-coordinator').textContent !== ''`)
	if got := evalString(t, ctx, `document.querySelector('#ov-product').textContent`); got != product {
		t.Errorf("overview product = %q", got)
	}
	if got, want := evalString(t, ctx, `document.querySelector('#ov-coordinator').textContent`), "[Filesystem] "+root; got != want {
		t.Errorf("overview coordinator = %q, want %q", got, want)
	}
	if got, want := evalString(t, ctx, `document.querySelector('#ov-dashboard a').href`), "http://"+top.AdminAddr()+"/topom"; got != want {
		t.Errorf("dashboard link = %q, want %q", got, want)
	}
	if got := evalString(t, ctx, `document.querySelector('#ov-qps').textContent + '|' + document.querySelector('#ov-keys').textContent`); got != "0|0" {
		t.Errorf("overview qps|keys = %q", got)
	}
	if got := evalString(t, ctx, `document.querySelector('#groups').textContent`); got != "No group." {
		t.Errorf("groups panel before = %q", got)
	}

	// The xauth computed in the page, with WebCrypto and with the
	// JavaScript fallback, is the dashboard's.
	if got, want := evalString(t, ctx, `codisFE.xauth('demo')`), token.NewXAuth(product); got != want {
		t.Errorf("xauth in the page = %q, want %q", got, want)
	}
	for _, in := range []string{"", "Codis-XAuth-[demo]", strings.Repeat("x", 55), strings.Repeat("y", 56), strings.Repeat("z", 64), strings.Repeat("0123456789", 30), "Codis-XAuth-[产品]"} {
		sum := sha256.Sum256([]byte(in))
		if got := evalString(t, ctx, `codisFE.sha256Fallback(`+strconv.Quote(in)+`)`); got != hex.EncodeToString(sum[:]) {
			t.Errorf("JavaScript SHA-256(%q) = %s, want %x", in, got, sum)
		}
	}

	// New Group through the form.
	do(t, ctx, "create group 1",
		fill("#group-new-id", "1"),
		chromedp.Click(chromedp.CSS("#group-new-btn")))
	waitJS(t, ctx, "group 1 in the page", `document.querySelector('#groups .group[data-gid="1"]') !== null`)
	st, err := top.Stats()
	if err != nil {
		t.Fatal(err)
	}
	if len(st.Group.Models) != 1 || st.Group.Models[0].ID != 1 {
		t.Fatalf("dashboard groups after the UI created one: %+v", st.Group.Models)
	}

	// Add Server through the form: a real codis-server, datacenter dc1.
	do(t, ctx, "add the server",
		fill("#server-add-dc", "dc1"),
		fill("#server-add-addr", srv),
		fill("#server-add-gid", "1"),
		chromedp.Click(chromedp.CSS("#server-add-btn")))
	row := fmt.Sprintf(`#groups .group[data-gid="1"] tr[data-server="%s"]`, srv)
	waitJS(t, ctx, "the server row", `document.querySelector('`+row+`') !== null`)
	st, err = top.Stats()
	if err != nil {
		t.Fatal(err)
	}
	if g := st.Group.Models[0]; len(g.Servers) != 1 || g.Servers[0].Addr != srv || g.Servers[0].DataCenter != "dc1" {
		t.Fatalf("dashboard group 1 after the UI added a server: %+v", g.Servers)
	}
	if got := evalString(t, ctx, `document.querySelector('`+row+` td:nth-child(4)').textContent`); got != "dc1" {
		t.Errorf("datacenter cell = %q", got)
	}
	// The server's stats arrive (dashboard probe, then the page refresh):
	// a master shows NO:ONE and its memory.
	waitJS(t, ctx, "the server's stats", `document.querySelector('`+row+` td:nth-child(5)').textContent === 'NO:ONE'`)
	if got := evalString(t, ctx, `document.querySelector('`+row+` td:nth-child(9)').textContent`); !strings.HasSuffix(got, " / INF.") {
		t.Errorf("memory cell = %q, want used / INF.", got)
	}
	if got := evalString(t, ctx, `document.querySelector('#ov-memory').textContent`); got == "0 B" || got == "" {
		t.Errorf("overview memory = %q, want the master's used_memory", got)
	}

	// The same group again: the dashboard's 800 error shows in a dialog
	// with its Cause.
	do(t, ctx, "create group 1 again",
		fill("#group-new-id", "1"),
		chromedp.Click(chromedp.CSS("#group-new-btn")))
	waitJS(t, ctx, "the error dialog", `document.querySelector('dialog.dlg.error[open]') !== null`)
	if got := evalString(t, ctx, `document.querySelector('dialog.dlg.error .dlg-message').textContent`); !strings.Contains(got, "group-[1] already exists") {
		t.Errorf("error dialog message = %q", got)
	}
	if got := evalString(t, ctx, `document.querySelector('dialog.dlg.error .dlg-detail').textContent`); !strings.Contains(got, `"Cause"`) {
		t.Errorf("error dialog detail = %q, want the JSON body", got)
	}
	do(t, ctx, "close the dialog", chromedp.Click(chromedp.CSS(`dialog.dlg.error button[data-role="ok"]`)))
	waitJS(t, ctx, "the dialog closed", `document.querySelector('dialog.dlg') === null`)

	// Slots: assign nothing yet, so 1024 offline. The legend names them
	// Group-0 like any group (Group-<id>:<count>); the chart's first row
	// is labelled Offline.
	waitJS(t, ctx, "the slots legend", `document.querySelector('#slots-chart .legends').textContent.includes('Group-0:1024')`)
	if got := evalString(t, ctx, legendJS); got != "Group-0:1024 Group-1:0" {
		t.Errorf("slots legend = %q, want %q", got, "Group-0:1024 Group-1:0")
	}
	if got := evalString(t, ctx, `[...document.querySelectorAll('#slots-chart svg text.axis')].slice(0, 3).map((e) => e.textContent).join(' ')`); got != "Offline Migrating Default" {
		t.Errorf("slots chart rows = %q, want Offline Migrating Default", got)
	}
	if got := evalString(t, ctx, `[...document.querySelectorAll('#slots-chart svg title')].map((e) => e.textContent).join(';')`); got != "Offline [0,1023]" {
		t.Errorf("slots chart runs = %q, want the Offline row's run [0,1023]", got)
	}

	// Slot actions: disable them and set the interval through the page.
	do(t, ctx, "disable slot actions", chromedp.Click(chromedp.CSS("#slot-action-toggle")))
	waitJS(t, ctx, "slot actions disabled", `document.querySelector('#slot-action-state').textContent === 'Disabled'`)
	do(t, ctx, "set the interval",
		fill("#slot-action-interval", "2500"),
		chromedp.Click(chromedp.CSS(`#form-slot-interval button`)))
	checkFor(t, 10*time.Second, "the dashboard's slot action settings", func() bool {
		st, err := top.Stats()
		return err == nil && st.SlotAction.Disabled && st.SlotAction.Interval == 2500
	})

	// A page loaded with the hash selects the product by itself.
	do(t, ctx, "reload with the hash", chromedp.Navigate(hs.url+"/#demo"))
	waitJS(t, ctx, "the server row after reload", `document.querySelector('`+row+`') !== null`)

	if path := os.Getenv("CODIS_FE_SCREENSHOT"); path != "" {
		png, err := chromedp.Run(ctx, chromedp.FullScreenshot(100))
		if err != nil {
			t.Fatalf("screenshot: %v", err)
		}
		if err := os.WriteFile(path, png, 0o644); err != nil {
			t.Fatal(err)
		}
		t.Logf("screenshot written to %s", path)
	}

	// Remove the server, then the empty group, confirming both dialogs.
	do(t, ctx, "remove the server", chromedp.Click(chromedp.CSS(row+` td:last-child button`)))
	waitJS(t, ctx, "the confirmation", `document.querySelector('dialog.dlg[open]') !== null`)
	do(t, ctx, "confirm", chromedp.Click(chromedp.CSS(`dialog.dlg button[data-role="ok"]`)))
	waitJS(t, ctx, "the server gone", `document.querySelector('`+row+`') === null`)
	do(t, ctx, "remove the group", chromedp.Click(chromedp.CSS(`#groups .group[data-gid="1"] .group-head button`)))
	waitJS(t, ctx, "the confirmation", `document.querySelector('dialog.dlg[open]') !== null`)
	do(t, ctx, "confirm", chromedp.Click(chromedp.CSS(`dialog.dlg button[data-role="ok"]`)))
	waitJS(t, ctx, "no group", `document.querySelector('#groups').textContent === 'No group.'`)
	if st, err := top.Stats(); err != nil || len(st.Group.Models) != 0 {
		t.Errorf("dashboard groups after removing through the page: %v, %v", st, err)
	}
}
