package server

import (
	"strconv"
	"strings"
	"sync"
	"time"
)

// MONITOR (Redis 7.0): a client that sends it receives, from then on, one
// line per command the server executes:
//
//	+1700000000.123456 [0 127.0.0.1:50312] "set" "k" "v"
//
// (time of the feed, database after the command, the client's address or
// "lua" for commands a script runs). As Redis 7.0 does:
//   - a command is shown once it has run, so SELECT shows the new
//     database and EXEC comes after the commands it ran; EVAL and EVALSHA
//     are shown before their script, whose commands follow as "lua";
//   - commands refused before running (unknown, wrong arity, NOAUTH, OOM,
//     queued in MULTI) and administrative ones (CONFIG, DEBUG, CLIENT
//     LIST, SLOWLOG, ...) are not shown, nor is the AOF replay at start;
//   - passwords are replaced by "(redacted)": every argument of AUTH, and
//     those after HELLO's AUTH and MIGRATE's AUTH/AUTH2;
//   - a monitor may not run commands that read or write the keyspace
//     ("Replica can't interact with the keyspace"), a second MONITOR is
//     ignored without reply, RESET and QUIT end monitoring, and MONITOR
//     inside MULTI fails when EXEC runs it.
//
// The lines go through the monitor's push buffer (pubsub.go), so a slow
// monitor never blocks the server; the normal class output buffer limit,
// if one is set, disconnects it.

func init() {
	register(&Command{Name: "monitor", Arity: 1, Flags: FlagAdmin | FlagNoScript | FlagLoading | FlagStale, Proc: monitorCommand})
	commandMeta["monitor"] = cmdMeta{cats: "admin slow dangerous", group: "server", since: "1.0.0",
		flags: "admin noscript loading stale"}
}

func monitorCommand(c *client, argv [][]byte) {
	if c.inExec {
		// Redis: a client that expects one reply per command
		// (CLIENT_DENY_BLOCKING, set inside EXEC) cannot monitor.
		c.addError("ERR MONITOR isn't allowed for DENY BLOCKING client")
		return
	}
	if c.monitor || c.replicaOf() != nil {
		return // already a monitor or a replica: ignored, no reply
	}
	c.monitor = true
	c.pushEnable()
	c.s.monitors = append(c.s.monitors, c)
	c.addOK()
}

// monitorStop ends monitoring (RESET, QUIT, disconnect; mu held).
func (c *client) monitorStop() {
	if c.monitor {
		c.monitor = false
		c.s.monitors = removeClient(c.s.monitors, c)
	}
}

// monitorRejected reports whether a monitor may not run cmd, replying the
// error (mu held).
func (c *client) monitorRejected(cmd *Command) bool {
	if !c.monitor {
		return false
	}
	if c.mayReplicate(cmd) || cmd.Flags&FlagReadOnly != 0 || (cmd.Name == "exec" && c.queueReads()) {
		c.reject("ERR Replica can't interact with the keyspace")
		return true
	}
	return false
}

// queueReads reports whether a queued command of the transaction reads
// the keyspace.
func (c *client) queueReads() bool {
	for _, q := range c.queue {
		if qc := lookupCommand(q[0]); qc != nil && qc.Flags&FlagReadOnly != 0 {
			return true
		}
	}
	return false
}

var (
	monitorHiddenOnce sync.Once
	monitorHidden     map[string]bool // command or "container|sub" names
)

// hiddenFromMonitor reports whether argv (of cmd) is left out of the
// monitor stream: Redis 7.0's admin and skip_monitor commands, per
// subcommand for containers (CLIENT LIST is hidden, CLIENT ID is not).
func hiddenFromMonitor(cmd *Command, argv [][]byte) bool {
	monitorHiddenOnce.Do(func() {
		monitorHidden = map[string]bool{}
		for name, m := range commandMeta {
			for _, f := range strings.Fields(m.flags) {
				if f == "admin" || f == "skip_monitor" {
					monitorHidden[name] = true
				}
			}
		}
		// Redis 7.0 answers QUIT before its command table.
		monitorHidden["quit"] = true
		for name, cmd := range commands {
			if cmd.Flags&FlagAdmin != 0 && cmd.Subs == nil {
				monitorHidden[name] = true
			}
		}
	})
	if cmd.Subs != nil && len(argv) >= 2 {
		return monitorHidden[cmd.Name+"|"+string(lowerASCII(argv[1]))]
	}
	return monitorHidden[cmd.Name]
}

// isEvalCommand: EVAL and friends are shown before their script runs.
func isEvalCommand(cmd *Command) bool {
	switch cmd.Name {
	case "eval", "evalsha", "eval_ro", "evalsha_ro":
		return true
	}
	return false
}

// feedMonitors sends argv, run by c, to every monitor (mu held).
func (s *Server) feedMonitors(c *client, argv [][]byte) {
	if c.addr == "aof" && c.conn == nil {
		return // AOF replay at start
	}
	b := s.monitorBuf[:0]
	now := time.Now()
	b = append(b, '+')
	b = strconv.AppendInt(b, now.Unix(), 10)
	b = append(b, '.')
	us := now.Nanosecond() / 1000
	for d := 100000; d > 1; d /= 10 {
		if us < d {
			b = append(b, '0')
		}
	}
	b = strconv.AppendInt(b, int64(us), 10)
	b = append(b, " ["...)
	b = strconv.AppendInt(b, int64(c.db.id), 10)
	b = append(b, ' ')
	if c.isScriptClient() {
		b = append(b, "lua"...)
	} else {
		b = append(b, c.addr...)
	}
	b = append(b, ']')
	redact := redactedArgs(argv)
	for i, a := range argv {
		b = append(b, ' ')
		if redact != nil && redact[i] {
			b = append(b, `"(redacted)"`...)
		} else {
			b = appendRepr(b, a)
		}
	}
	b = append(b, '\r', '\n')
	for _, m := range s.monitors {
		if m == c {
			c.pushFlushOut() // its own reply first, as Redis
		}
		m.pushAppend(b)
	}
	if cap(b) <= 64<<10 {
		s.monitorBuf = b[:0]
	}
}

// redactedArgs marks the password arguments Redis 7.0 hides from MONITOR
// and the slow log; nil when there are none. As in Redis, an argument is
// redacted only once the command has parsed up to it: AUTH with more than
// two arguments, HELLO with a bad protocol version and options after a
// syntax error are shown as sent.
func redactedArgs(argv [][]byte) []bool {
	var mark []bool
	set := func(idx ...int) {
		if mark == nil {
			mark = make([]bool, len(argv))
		}
		for _, i := range idx {
			mark[i] = true
		}
	}
	n := len(argv)
	switch {
	case eqFold(argv[0], "auth"):
		if n == 2 {
			set(1)
		} else if n == 3 {
			set(1, 2)
		}
	case eqFold(argv[0], "hello"):
		if n < 2 {
			return nil
		}
		if v, ok := parseInt64(argv[1]); !ok || v < 2 || v > 3 {
			return nil
		}
		for i := 2; i < n; i++ {
			more := n - 1 - i
			switch {
			case eqFold(argv[i], "auth") && more >= 2:
				set(i+1, i+2)
				i += 2
			case eqFold(argv[i], "setname") && more >= 1:
				i++
			default:
				return mark
			}
		}
	case eqFold(argv[0], "migrate"):
		for i := 6; i < n; i++ {
			more := n - 1 - i
			switch {
			case eqFold(argv[i], "copy"), eqFold(argv[i], "replace"):
			case eqFold(argv[i], "auth") && more >= 1:
				set(i + 1)
				i++
			case eqFold(argv[i], "auth2") && more >= 2:
				set(i+1, i+2)
				i += 2
			default: // KEYS (the rest are keys) or a syntax error
				return mark
			}
		}
	}
	return mark
}

// appendRepr appends a as Redis's sdscatrepr does: in double quotes, with
// \\ \" \n \r \t \a \b escaped and other non-printable bytes as \xHH.
func appendRepr(b, a []byte) []byte {
	const hex = "0123456789abcdef"
	b = append(b, '"')
	for _, ch := range a {
		switch ch {
		case '\\', '"':
			b = append(b, '\\', ch)
		case '\n':
			b = append(b, '\\', 'n')
		case '\r':
			b = append(b, '\\', 'r')
		case '\t':
			b = append(b, '\\', 't')
		case '\a':
			b = append(b, '\\', 'a')
		case '\b':
			b = append(b, '\\', 'b')
		default:
			if ch >= 0x20 && ch < 0x7f {
				b = append(b, ch)
			} else {
				b = append(b, '\\', 'x', hex[ch>>4], hex[ch&15])
			}
		}
	}
	return append(b, '"')
}
