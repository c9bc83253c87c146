package server

import (
	"bufio"
	"fmt"
	"net"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/codisgo/codis/pkg/resp"
)

// The MONITOR stream of our server and of redis-server 7.0 for the same
// commands, with the timestamps dropped and client addresses renamed in
// order of appearance.

var monitorLine = regexp.MustCompile(`^\+(\d+)\.(\d{6}) \[(\d+) ([^\]]+)\] (.*)$`)

// monitorSession is one monitor connection and the client addresses it
// has seen.
type monitorSession struct {
	t     *testing.T
	conn  net.Conn
	br    *bufio.Reader
	names map[string]string
}

func startMonitor(t *testing.T, addr string) *monitorSession {
	t.Helper()
	conn, err := net.DialTimeout("tcp", addr, 5*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { conn.Close() })
	m := &monitorSession{t: t, conn: conn, br: bufio.NewReader(conn), names: map[string]string{}}
	m.write("MONITOR")
	if l := m.line(); l != "+OK" {
		t.Fatalf("MONITOR: %q", l)
	}
	return m
}

func (m *monitorSession) write(args ...string) {
	m.t.Helper()
	if _, err := m.conn.Write(resp.AppendCommandStrings(nil, args...)); err != nil {
		m.t.Fatal(err)
	}
}

// line reads one raw line (without CRLF).
func (m *monitorSession) line() string {
	m.t.Helper()
	_ = m.conn.SetReadDeadline(time.Now().Add(5 * time.Second))
	l, err := m.br.ReadString('\n')
	if err != nil {
		m.t.Fatalf("monitor read: %v (after %q)", err, l)
	}
	return strings.TrimSuffix(l, "\r\n")
}

// norm drops a monitor line's time and renames its client.
func (m *monitorSession) norm(l string) string {
	m.t.Helper()
	g := monitorLine.FindStringSubmatch(l)
	if g == nil {
		return l // a reply to the monitor's own command
	}
	who := g[4]
	if who != "lua" {
		if _, ok := m.names[who]; !ok {
			m.names[who] = fmt.Sprintf("c%d", len(m.names)+1)
		}
		who = m.names[who]
	}
	return "[" + g[3] + " " + who + "] " + g[5]
}

// until reads normalized lines up to and including the one that holds end.
func (m *monitorSession) until(end string) []string {
	m.t.Helper()
	var out []string
	for {
		l := m.norm(m.line())
		out = append(out, l)
		if strings.Contains(l, end) {
			return out
		}
	}
}

func compareLines(t *testing.T, what string, ours, theirs []string) {
	t.Helper()
	if strings.Join(ours, "\n") != strings.Join(theirs, "\n") {
		t.Errorf("%s:\n ours:\n  %s\n redis:\n  %s", what, strings.Join(ours, "\n  "), strings.Join(theirs, "\n  "))
	}
}

func TestDiffMonitor(t *testing.T) {
	rp := startRedis(t)
	s := startServer(t)
	targets := []string{s.Addr().String(), rp.addr}

	// Commands from ordinary clients, as the monitor sees them.
	script := [][]string{
		{"SET", "a", "1"},
		{"SET", "b", "x y\"z\n\r\t\a\b\\"},
		{"SET", "bin", "\x01\xff\x7f "},
		{"GET", "nokey"},
		{"CONFIG", "GET", "maxmemory"}, // admin: hidden
		{"CLIENT", "LIST"},             // admin subcommand: hidden
		{"CLIENT", "SETNAME", "zz"},    // shown
		{"SLOWLOG", "LEN"},             // hidden
		{"DEBUG", "SLEEP", "0"},        // hidden
		{"NOSUCHCMD", "x"},             // refused: hidden
		{"GET"},                        // wrong arity: hidden
		{"LPUSH", "a", "x"},            // WRONGTYPE: shown
		{"MULTI"}, {"SET", "m", "1"}, {"INCR", "m"}, {"EXEC"},
		{"MULTI"}, {"INCR", "m"}, {"DISCARD"},
		{"EVAL", "redis.call('set','e','v'); return redis.call('get','e')", "0"},
		{"EVAL", "return 1", "5", "a"},
		{"EVALSHA", "0000000000000000000000000000000000000000", "0"},
		{"AUTH", "foo"},
		{"AUTH", "u", "p", "x"}, // syntax error: shown as sent
		{"HELLO", "2", "AUTH", "default", "secret"},
		{"HELLO", "9", "AUTH", "default", "secret"}, // bad version: not redacted
		{"SELECT", "3"}, {"SET", "x", "y"}, {"SELECT", "0"},
		{"PING"},
		{"ECHO", "__end1__"},
	}
	var got [2][]string
	for i, addr := range targets {
		m := startMonitor(t, addr)
		c := dial(t, addr)
		c.do("FLUSHALL") // admin? no: shown; part of the stream
		for _, args := range script {
			c.do(args...)
		}
		got[i] = m.until("__end1__")
	}
	compareLines(t, "client commands", got[0], got[1])

	// A blocking command is shown when it blocks, not when served.
	for i, addr := range targets {
		m := startMonitor(t, addr)
		c1, c2 := dial(t, addr), dial(t, addr)
		c1.send("BLPOP", "q", "0")
		m.until(`"BLPOP"`)
		c2.do("RPUSH", "q", "v")
		if r := c1.read().String(); !strings.Contains(r, "v") {
			t.Fatalf("BLPOP: %s", r)
		}
		c2.do("BLPOP", "q2", "0.05")
		c2.do("ECHO", "__end2__")
		got[i] = m.until("__end2__")
	}
	compareLines(t, "blocking", got[0], got[1])

	// What a monitor itself may send.
	for i, addr := range targets {
		m := startMonitor(t, addr)
		m.write("PING")
		m.write("GET", "a")
		m.write("SET", "a", "2")
		m.write("PUBLISH", "ch", "x")
		m.write("EVAL", "return 1", "0")
		m.write("ECHO", "x")
		m.write("SELECT", "1")
		m.write("MONITOR") // ignored, no reply
		m.write("CLIENT", "ID")
		m.write("MULTI")
		m.write("GET", "a")
		m.write("EXEC")
		m.write("ECHO", "__end3__")
		var lines []string
		for {
			l := m.norm(m.line())
			if strings.HasPrefix(l, ":") { // CLIENT ID
				l = ":ID"
			}
			lines = append(lines, l)
			if strings.Contains(l, "__end3__") && strings.HasPrefix(l, "[") {
				break
			}
		}
		// RESET leaves monitor mode.
		m.write("RESET")
		lines = append(lines, m.line())
		m.write("SET", "a", "3")
		lines = append(lines, m.line())
		got[i] = lines
	}
	compareLines(t, "monitor's own commands", got[0], got[1])

	// MONITOR inside MULTI fails at EXEC; QUIT ends a monitor.
	for i, addr := range targets {
		c := dial(t, addr)
		c.do("MULTI")
		c.do("MONITOR")
		got[i] = []string{c.do("EXEC").String()}
		m := startMonitor(t, addr)
		m.write("QUIT")
		got[i] = append(got[i], m.line())
		_ = m.conn.SetReadDeadline(time.Now().Add(5 * time.Second))
		if _, err := m.br.ReadByte(); err == nil {
			t.Errorf("%s: monitor still open after QUIT", addr)
		}
	}
	compareLines(t, "MULTI and QUIT", got[0], got[1])
}

// TestMonitorClientList: a monitor shows flag O in CLIENT LIST, and the
// lines it gets name the database after SELECT and the script client.
func TestMonitorClientList(t *testing.T) {
	s := startServer(t)
	m := startMonitor(t, s.Addr().String())
	c := dial(t, s.Addr().String())
	list := c.do("CLIENT", "LIST").String()
	if !strings.Contains(list, "flags=O ") {
		t.Errorf("CLIENT LIST has no monitor (flags=O):\n%s", list)
	}
	c.do("SELECT", "5")
	c.do("EVAL", "return redis.call('incr','k')", "0")
	lines := m.until(`"incr"`)
	want := []string{`[5 c1] "SELECT" "5"`, `[5 c1] "EVAL" "return redis.call('incr','k')" "0"`, `[5 lua] "incr" "k"`}
	compareLines(t, "lines", lines, want)
}

// TestMonitorSlowlogRedacted: the slow log hides passwords and skips EXEC
// as Redis 7.0 does.
func TestDiffSlowlogRedacted(t *testing.T) {
	rp := startRedis(t)
	s := startServer(t)
	var got [2][]string
	for i, addr := range []string{s.Addr().String(), rp.addr} {
		c := dial(t, addr)
		c.do("CONFIG", "SET", "slowlog-log-slower-than", "0")
		c.do("SLOWLOG", "RESET")
		c.do("AUTH", "pw")
		c.do("HELLO", "2", "AUTH", "default", "pw")
		c.do("EXEC")
		c.do("MULTI")
		c.do("SET", "k", "v")
		c.do("EXEC")
		r := c.do("SLOWLOG", "GET")
		c.do("CONFIG", "SET", "slowlog-log-slower-than", "10000")
		for _, e := range r.Elems {
			var args []string
			for _, a := range e.Elems[3].Elems {
				args = append(args, a.Str)
			}
			got[i] = append(got[i], strings.Join(args, " "))
		}
	}
	compareLines(t, "slowlog", got[0], got[1])
}
