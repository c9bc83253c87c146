package proxy

import (
	"bufio"
	"errors"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"testing"

	"github.com/gomodule/redigo/redis"
)

// docCommandsPath is the command support table kept true by this file.
var docCommandsPath = filepath.Join("..", "..", "doc", "commands.md")

// docRow is one command row of doc/commands.md.
type docRow struct {
	class, handling string
	line            int
}

// readDocCommands parses the rows of the "## The table" section: lines of
// the form "| `NAME` | class | handling | notes |".
func readDocCommands(t *testing.T) (map[string]docRow, string) {
	t.Helper()
	data, err := os.ReadFile(docCommandsPath)
	if err != nil {
		t.Fatalf("read the command doc: %v", err)
	}
	rows := map[string]docRow{}
	in := false
	sc := bufio.NewScanner(strings.NewReader(string(data)))
	for n := 1; sc.Scan(); n++ {
		line := sc.Text()
		if strings.HasPrefix(line, "## ") {
			in = line == "## The table"
			continue
		}
		if !in || !strings.HasPrefix(line, "| `") {
			continue
		}
		cells := strings.Split(strings.Trim(line, "|"), "|")
		if len(cells) != 4 {
			t.Errorf("%s:%d: want 4 cells, got %d: %q", docCommandsPath, n, len(cells), line)
			continue
		}
		name := strings.Trim(strings.TrimSpace(cells[0]), "`")
		if prev, dup := rows[name]; dup {
			t.Errorf("%s:%d: %s listed again (first on line %d)", docCommandsPath, n, name, prev.line)
		}
		rows[name] = docRow{class: strings.TrimSpace(cells[1]), handling: strings.TrimSpace(cells[2]), line: n}
	}
	if len(rows) == 0 {
		t.Fatalf("%s: no command rows under \"## The table\"", docCommandsPath)
	}
	return rows, string(data)
}

// docClass is the doc's name for an entry's flag.
func docClass(op *opInfo) string {
	switch {
	case op.Flag.IsNotAllowed():
		return "not allowed"
	case op.Flag&FlagWrite != 0:
		return "write"
	case op.Flag&FlagMasterOnly != 0:
		return "master"
	case op.Flag&FlagMayWrite != 0:
		return "may write"
	default:
		return "read"
	}
}

// docHandling is the doc's name for what the session does with an entry.
func docHandling(op *opInfo) string {
	if op.Flag.IsNotAllowed() {
		return "refused"
	}
	switch op.kind {
	case kindQuit, kindAuth, kindSelect, kindPing, kindInfo, kindEcho, kindHello, kindSlotsMapping:
		return "proxy"
	case kindMGet, kindMSet, kindDel, kindExists:
		return "split"
	case kindSlotsInfo:
		return "by address"
	case kindSlotsScan:
		return "by slot"
	}
	if op.keyPos != 1 {
		return "forwarded, key " + strconv.Itoa(op.keyPos)
	}
	return "forwarded"
}

// TestDocCommandTable checks that doc/commands.md lists exactly the
// commands of the proxy's table, each with its class and handling.
func TestDocCommandTable(t *testing.T) {
	rows, _ := readDocCommands(t)
	for _, op := range opList {
		row, ok := rows[op.Name]
		if !ok {
			t.Errorf("%s is in the proxy's command table but not in %s (class %q, handling %q)",
				op.Name, docCommandsPath, docClass(op), docHandling(op))
			continue
		}
		if row.class != docClass(op) || row.handling != docHandling(op) {
			t.Errorf("%s:%d: %s is documented as %q/%q, the proxy has %q/%q",
				docCommandsPath, row.line, op.Name, row.class, row.handling, docClass(op), docHandling(op))
		}
	}
	var extra []string
	for name := range rows {
		if _, ok := opTable[name]; !ok {
			extra = append(extra, name)
		}
	}
	sort.Strings(extra)
	for _, name := range extra {
		t.Errorf("%s:%d: %s is documented but not in the proxy's command table", docCommandsPath, rows[name].line, name)
	}
}

// proxyAnsweredProbe is a valid invocation of each command the doc says
// the proxy answers itself.
var proxyAnsweredProbe = map[string][]any{
	"AUTH":         {"secret"}, // answered: no password is set
	"ECHO":         {"hi"},
	"HELLO":        {"2"},
	"INFO":         nil,
	"PING":         nil,
	"QUIT":         nil,
	"SELECT":       {"1"},
	"SLOTSMAPPING": {"0"},
}

// TestDocCommandReplies checks the documented behaviour on a live proxy
// whose 1024 slots are all offline: refused commands get the documented
// error, proxy-answered commands are answered without a backend, and every
// other command (including one the table does not know) is routed to a
// slot, which fails with the documented offline-slot error.
func TestDocCommandReplies(t *testing.T) {
	rows, doc := readDocCommands(t)
	const (
		refusedTemplate = "ERR handle request, command '<NAME>' is not allowed"
		offlineText     = "ERR handle request, slot is not ready, may be offline"
	)
	for _, text := range []string{refusedTemplate, offlineText, "Commands not listed are forwarded to the master"} {
		if !strings.Contains(doc, text) {
			t.Fatalf("%s does not mention %q", docCommandsPath, text)
		}
	}
	p := startProxy(t, testConfig())
	if err := p.Online(); err != nil {
		t.Fatalf("Online: %v", err)
	}
	c := dial(t, p.ProxyAddr())
	replyErr := func(name string, args ...any) (any, string) {
		t.Helper()
		v, err := c.Do(name, args...)
		var re redis.Error
		if errors.As(err, &re) {
			return nil, string(re)
		}
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		return v, ""
	}

	names := make([]string, 0, len(rows))
	for name := range rows {
		names = append(names, name)
	}
	sort.Strings(names)
	for _, name := range names {
		row := rows[name]
		switch row.handling {
		case "refused":
			_, e := replyErr(name, "k")
			if want := strings.ReplaceAll(refusedTemplate, "<NAME>", name); e != want {
				t.Errorf("%s: got %q, the doc says %q", name, e, want)
			}
		case "proxy":
			if name == "QUIT" {
				continue // closes the connection; checked last
			}
			args, ok := proxyAnsweredProbe[name]
			if !ok {
				t.Errorf("%s is documented as answered by the proxy; add a probe for it to this test", name)
				continue
			}
			if _, e := replyErr(name, args...); e == offlineText || strings.HasPrefix(e, "ERR handle ") {
				t.Errorf("%s %v: got %q, want an answer from the proxy itself", name, args, e)
			}
		case "by address":
			if _, e := replyErr(name, "127.0.0.1:1"); e != "ERR backend server '127.0.0.1:1' not found" {
				t.Errorf("%s: got %q, want the unknown-backend error", name, e)
			}
		case "by slot":
			if _, e := replyErr(name, "7", "0"); e != offlineText {
				t.Errorf("%s 7 0: got %q, want %q", name, e, offlineText)
			}
		default: // forwarded, forwarded key 3, split
			args := []any{"k1", "k2", "k3", "k4"}
			if name == "MSET" {
				args = []any{"k1", "v1", "k2", "v2"}
			}
			if _, e := replyErr(name, args...); e != offlineText {
				t.Errorf("%s: got %q, want %q (routed to an offline slot)", name, e, offlineText)
			}
		}
	}
	if _, e := replyErr("NOSUCHCOMMAND", "k"); e != offlineText {
		t.Errorf("a command outside the table: got %q, want it forwarded (%q)", e, offlineText)
	}
	if _, e := replyErr("SELECT", "0"); e != "" {
		t.Fatalf("SELECT 0: %s", e)
	}
	if v, e := replyErr("QUIT"); e != "" || v != "OK" {
		t.Errorf("QUIT: got %v %q, want OK", v, e)
	}
}
