package testenv

import (
	"bufio"
	"os"
	"strings"
	"testing"
)

// DocDefaults returns key → default (the text between the backticks) of
// the rows "| `key` | `default` | meaning |" of the section of the
// markdown file path whose heading is exactly heading, up to the next
// heading of any level. Tests use it to keep the configuration reference
// true to the binaries.
func DocDefaults(t testing.TB, path, heading string) map[string]string {
	t.Helper()
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("read the configuration doc: %v", err)
	}
	rows := map[string]string{}
	in, found := false, false
	sc := bufio.NewScanner(strings.NewReader(string(data)))
	for n := 1; sc.Scan(); n++ {
		line := sc.Text()
		if strings.HasPrefix(line, "#") {
			in = line == heading
			found = found || in
			continue
		}
		if !in || !strings.HasPrefix(line, "| `") {
			continue
		}
		cells := strings.Split(strings.Trim(line, "|"), " | ")
		if len(cells) < 3 {
			t.Errorf("%s:%d: want 3 cells: %q", path, n, line)
			continue
		}
		key := strings.Trim(strings.TrimSpace(cells[0]), "`")
		def := strings.TrimSpace(cells[1])
		if len(def) < 2 || def[0] != '`' || def[len(def)-1] != '`' {
			t.Errorf("%s:%d: %s: the default %q is not in backticks", path, n, key, def)
			continue
		}
		if _, dup := rows[key]; dup {
			t.Errorf("%s:%d: %s listed twice", path, n, key)
		}
		rows[key] = def[1 : len(def)-1]
	}
	if !found || len(rows) == 0 {
		t.Fatalf("%s: no key table under %q", path, heading)
	}
	return rows
}
