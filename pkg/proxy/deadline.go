package proxy

import "time"

// lazyDeadline refreshes a socket deadline only when less than 3/4 of the
// timeout remains, so the hot path does not reprogram a runtime timer on
// every read or write. The effective timeout is between 3/4 and all of the
// configured one.
type lazyDeadline struct {
	timeout time.Duration
	expires time.Time
	set     func(time.Time) error
}

func (d *lazyDeadline) refresh() {
	if d.timeout <= 0 {
		return
	}
	d.refreshAt(time.Now())
}

// refreshAt is refresh with a clock reading the caller already has (a
// clock read is a measurable part of a proxied request); now must not be
// older than the last activity on the socket.
func (d *lazyDeadline) refreshAt(now time.Time) {
	if d.timeout <= 0 {
		return
	}
	if d.expires.Sub(now) >= d.timeout*3/4 {
		return
	}
	d.expires = now.Add(d.timeout)
	d.set(d.expires)
}
