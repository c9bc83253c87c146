package server

import (
	"errors"
	"strconv"
)

// Keyspace notifications (Redis 7.0 notify-keyspace-events).
//
// Commands report what they did to a key with db.notify(class, event, key)
// (or c.notify for the client's DB) right after the change, in Redis 7.0's
// order: e.g. LPOP that empties a list reports "lpop" then "del". The
// keyspace primitives report the events that do not belong to a command:
// "new" from DB.Add (Redis's dbAdd), "expired" from the lazy and active
// expiry (expireKey), "evicted" from eviction and "keymiss" from
// LookupRead. A notification is published, through the pub/sub table, on
// __keyspace@<db>__:<key> with the event as message when class K is
// enabled, and on __keyevent@<db>__:<event> with the key as message when
// class E is.
//
// With notify-keyspace-events empty (the default) a notification point
// costs one inlined test of ks.ev.flags; flags is kept 0 unless a class and
// K or E are set, so the test fails too when nothing could be published.
// Channel and message bytes are built in scratch buffers (Server.mu held).
//
// SLOTS* commands (SLOTSDEL, SLOTSRESTORE, migration) notify nothing, as the
// original codis-server; keys they create still report "new" (class n) as
// every key added to the keyspace does.

// Notification classes (the letters of notify-keyspace-events).
const (
	notifyKeyspace = 1 << iota // K
	notifyKeyevent             // E
	notifyGeneric              // g
	notifyString               // $
	notifyList                 // l
	notifySet                  // s
	notifyHash                 // h
	notifyZSet                 // z
	notifyExpired              // x
	notifyEvicted              // e
	notifyStream               // t
	notifyKeyMiss              // m (not part of A)
	notifyLoaded               // modules only, no letter
	notifyModule               // d
	notifyNew                  // n (not part of A)

	notifyAll = notifyGeneric | notifyString | notifyList | notifySet | notifyHash |
		notifyZSet | notifyExpired | notifyEvicted | notifyStream | notifyModule // A
)

// notifyLetters are the class letters in the order CONFIG GET prints them
// (the A classes, then n; K, E and m follow).
var notifyLetters = [...]struct {
	ch   byte
	flag int
}{
	{'g', notifyGeneric}, {'$', notifyString}, {'l', notifyList}, {'s', notifySet},
	{'h', notifyHash}, {'z', notifyZSet}, {'x', notifyExpired}, {'e', notifyEvicted},
	{'t', notifyStream}, {'d', notifyModule}, {'n', notifyNew},
	{'K', notifyKeyspace}, {'E', notifyKeyevent}, {'m', notifyKeyMiss},
}

var errNotifyClass = errors.New("Invalid event class character. Use 'Ag$lshzxeKEtmdn'.")

// parseNotifyFlags parses a notify-keyspace-events value.
func parseNotifyFlags(v string) (int, error) {
	flags := 0
	for i := 0; i < len(v); i++ {
		if v[i] == 'A' {
			flags |= notifyAll
			continue
		}
		found := false
		for _, l := range notifyLetters {
			if l.ch == v[i] {
				flags |= l.flag
				found = true
				break
			}
		}
		if !found {
			return 0, errNotifyClass
		}
	}
	return flags, nil
}

// formatNotifyFlags prints flags as Redis 7.0's CONFIG GET does: "A" when
// every A class is set (n is then not shown), else the class letters; then
// K, E and m.
func formatNotifyFlags(flags int) string {
	var b []byte
	all := flags&notifyAll == notifyAll
	if all {
		b = append(b, 'A')
	}
	for _, l := range notifyLetters {
		isClass := l.flag != notifyKeyspace && l.flag != notifyKeyevent && l.flag != notifyKeyMiss
		if flags&l.flag != 0 && !(all && isClass) {
			b = append(b, l.ch)
		}
	}
	return string(b)
}

// notifyState is the notification state of a keyspace (Server.mu).
type notifyState struct {
	// flags is the notify-keyspace-events class mask, or 0 when neither K
	// nor E is set (nothing can be published).
	flags int
	srv   *Server
	pub   *client // publisher of the notifications (never subscribed)
	ch    []byte  // scratch: channel name
	msg   []byte  // scratch: key given as a string
	evb   []byte  // scratch: event name
}

// applyNotifyConfig sets the notification mask from the configuration
// (mu held or not yet shared).
func (s *Server) applyNotifyConfig() {
	flags := s.cfg.notifyFlags
	if flags&(notifyKeyspace|notifyKeyevent) == 0 {
		flags = 0
	}
	ev := &s.ks.ev
	ev.flags, ev.srv = flags, s
	if ev.pub == nil {
		ev.pub = &client{s: s}
	}
}

// notify publishes a keyspace event of class for key in db, if the class
// is enabled (mu held).
func (db *DB) notify(class int, event string, key []byte) {
	if db.ks.ev.flags&class != 0 {
		db.ks.ev.publish(db.id, event, key)
	}
}

// notify is db.notify for the client's current DB.
func (c *client) notify(class int, event string, key []byte) {
	if c.db.ks.ev.flags&class != 0 {
		c.db.ks.ev.publish(c.db.id, event, key)
	}
}

// notifyKeyString is notify for a key held as a string.
func (db *DB) notifyKeyString(class int, event string, key string) {
	if db.ks.ev.flags&class != 0 {
		ev := &db.ks.ev
		ev.msg = append(ev.msg[:0], key...)
		ev.publish(db.id, event, ev.msg)
	}
}

func (ev *notifyState) publish(dbid int, event string, key []byte) {
	s := ev.srv
	if s == nil || s.ps == nil || len(s.ps.channels)+len(s.ps.patterns) == 0 {
		return
	}
	if ev.flags&notifyKeyspace != 0 {
		ev.ch = append(ev.ch[:0], "__keyspace@"...)
		ev.ch = strconv.AppendInt(ev.ch, int64(dbid), 10)
		ev.ch = append(ev.ch, "__:"...)
		ev.ch = append(ev.ch, key...)
		ev.evb = append(ev.evb[:0], event...)
		ev.pub.publish(ev.ch, ev.evb, false)
	}
	if ev.flags&notifyKeyevent != 0 {
		ev.ch = append(ev.ch[:0], "__keyevent@"...)
		ev.ch = strconv.AppendInt(ev.ch, int64(dbid), 10)
		ev.ch = append(ev.ch, "__:"...)
		ev.ch = append(ev.ch, event...)
		ev.pub.publish(ev.ch, key, false)
	}
	if cap(ev.ch) > 64<<10 { // do not keep a huge key's buffers
		ev.ch, ev.msg = nil, nil
	}
}
