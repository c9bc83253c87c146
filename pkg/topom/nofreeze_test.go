package topom

import (
	"testing"
	"time"
)

// TestHungProxyDoesNotFreezeReads: a proxy that accepts requests but never
// answers must not block the read routes (issue: "never freeze the API"),
// neither while an operation is pushing slots to it nor while the stats
// loop is polling it.
func TestHungProxyDoesNotFreezeReads(t *testing.T) {
	e := newEnv(t)
	p := newFakeProxy(t, "test", "", "")
	e.ok(put, e.api("proxy/create", p.addr()))
	e.seedGroup(1, "127.0.0.1:1")

	release := make(chan struct{})
	p.set(func(p *fakeProxy) { p.stall = release })
	t.Cleanup(func() {
		select {
		case <-release:
		default:
			close(release)
		}
	})

	// An operation whose push hangs on the proxy, holding the operation lock.
	pushed := make(chan int, 1)
	go func() {
		status, _ := e.call(put, e.api("slots/assign"), `[{"id":5,"group_id":1}]`)
		pushed <- status
	}()
	checkFor(t, 10*time.Second, "the push to hang on the proxy", func() bool { return p.hanging() > 0 })

	reads := []string{
		"/topom",
		"/api/topom/model",
		"/api/topom/xping/" + e.xauth,
		"/api/topom/stats/" + e.xauth,
		"/api/topom/slots/" + e.xauth,
	}
	for round := 0; round < 3; round++ {
		for _, path := range reads {
			start := time.Now()
			status, body := e.call(get, path, nil)
			if d := time.Since(start); status != 200 || d > time.Second {
				t.Fatalf("GET %s while a proxy hangs: status %d in %v: %.200s", path, status, d, body)
			}
		}
		time.Sleep(300 * time.Millisecond) // let the stats loop hit the hung proxy too
	}

	select {
	case status := <-pushed:
		t.Fatalf("the push finished (status %d) while the proxy still hangs", status)
	default:
	}
	close(release)
	select {
	case <-pushed:
	case <-time.After(15 * time.Second):
		t.Fatal("the operation did not finish after the proxy answered")
	}
	if m := e.slot(5); m.GroupID != 1 {
		t.Fatalf("slot 5 %+v", m)
	}
}
