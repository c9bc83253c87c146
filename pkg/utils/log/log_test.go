package log

import (
	"bytes"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"regexp"
	"runtime"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"
)

func TestParseLevel(t *testing.T) {
	tests := []struct {
		in   string
		want slog.Level
		name string
	}{
		{"DEBUG", LevelDebug, "DEBUG"},
		{"debug", LevelDebug, "DEBUG"},
		{"Info", LevelInfo, "INFO"},
		{"WARN", LevelWarn, "WARN"},
		{"warning", LevelWarn, "WARN"},
		{"ERROR", LevelError, "ERROR"},
		{" none ", LevelNone, "NONE"},
	}
	for _, tc := range tests {
		got, err := ParseLevel(tc.in)
		if err != nil || got != tc.want {
			t.Errorf("ParseLevel(%q) = %v, %v; want %v", tc.in, got, err, tc.want)
		}
		if n := LevelName(got); n != tc.name {
			t.Errorf("LevelName(%v) = %q, want %q", got, n, tc.name)
		}
	}
	for _, in := range []string{"", "PANIC", "verbose", "INFOO", "5"} {
		_, err := ParseLevel(in)
		if !errors.Is(err, ErrInvalidLevel) || !strings.Contains(err.Error(), strconv.Quote(in)) {
			t.Errorf("ParseLevel(%q): error %v should wrap ErrInvalidLevel and name the value", in, err)
		}
	}
	if LevelName(LevelPanic) != "PANIC" || LevelName(LevelInfo+1) != "INFO+1" {
		t.Errorf("LevelName: %q %q", LevelName(LevelPanic), LevelName(LevelInfo+1))
	}
}

// line returns the caller's line number.
func line() int {
	_, _, n, _ := runtime.Caller(1)
	return n
}

var linePrefix = regexp.MustCompile(`^\d{4}/\d\d/\d\d \d\d:\d\d:\d\d log_test\.go:(\d+): `)

// parseLine checks the time and source prefix of s and returns the rest and
// the line number.
func parseLine(t *testing.T, s string) (string, int) {
	t.Helper()
	m := linePrefix.FindStringSubmatch(s)
	if m == nil {
		t.Fatalf("line %q lacks the time/source prefix", s)
	}
	n, _ := strconv.Atoi(m[1])
	return s[len(m[0]):], n
}

type stringer struct{ calls *int }

func (s stringer) String() string { *s.calls++; return "str" }

type lazy struct{}

func (lazy) LogValue() slog.Value { return slog.StringValue("resolved") }

type nilErr struct{}

func (*nilErr) Error() string { panic("nil receiver") }

func TestHandlerFormat(t *testing.T) {
	var buf bytes.Buffer
	l := New(&buf, LevelDebug)
	var typedNil *nilErr

	tests := []struct {
		log  func() int
		want string
	}{
		{func() int { l.Info("hello"); return line() }, "[INFO] hello"},
		{func() int { l.Debug("d", "k", "v", "n", 3); return line() }, "[DEBUG] d k=v n=3"},
		{func() int { l.Warn("w", "s", "two words", "e", "", "q", `a"b`, "eq", "a=b"); return line() },
			`[WARN] w s="two words" e="" q="a\"b" eq="a=b"`},
		{func() int { l.Error("boom", "err", errors.New("dial tcp: refused")); return line() },
			`[ERROR] boom err="dial tcp: refused"`},
		{func() int { l.Info("m", "err", error(typedNil)); return line() }, "[INFO] m err=<nil>"},
		{func() int {
			l.Info("t", "b", true, "f", 1.5, "u", uint64(7), "d", time.Second, "x", []byte("y"))
			return line() - 1
		},
			"[INFO] t b=true f=1.5 u=7 d=1s x=y"},
		{func() int { l.Info("lazy", "v", lazy{}); return line() }, "[INFO] lazy v=resolved"},
		{func() int { l.Info("ctl", "s", "a\nb\x00"); return line() }, `[INFO] ctl s="a\nb\x00"`},
		{func() int {
			l.With("proxy", "p1").WithGroup("g").Info("grp", "a", 1, slog.Group("h", "b", 2))
			return line() - 1
		},
			"[INFO] grp proxy=p1 g.a=1 g.h.b=2"},
		{func() int {
			l.WithGroup("g").With("x", 1).WithGroup("").Info("grp2", slog.Group("", "y", 2))
			return line() - 1
		},
			"[INFO] grp2 g.x=1 g.y=2"},
		{func() int { l.Info("empty group", slog.Group("none"), slog.Attr{}); return line() }, "[INFO] empty group"},
		{func() int { LogPanic(l.Logger, "bad config", "err", "invalid admin_addr"); return line() },
			`[PANIC] bad config err="invalid admin_addr"`},
	}
	for i, tc := range tests {
		buf.Reset()
		wantLine := tc.log()
		got := buf.String()
		if !strings.HasSuffix(got, "\n") || strings.Count(got, "\n") != 1 {
			t.Errorf("case %d: output %q is not one line", i, got)
			continue
		}
		rest, n := parseLine(t, strings.TrimSuffix(got, "\n"))
		if rest != tc.want {
			t.Errorf("case %d: got %q, want %q", i, rest, tc.want)
		}
		if n != wantLine {
			t.Errorf("case %d: source line %d, want %d", i, n, wantLine)
		}
	}
}

func TestLevels(t *testing.T) {
	var buf bytes.Buffer
	l := New(&buf, LevelWarn)
	calls := 0
	l.Info("dropped", "s", stringer{&calls})
	l.Debug("dropped", "s", stringer{&calls})
	if buf.Len() != 0 || calls != 0 {
		t.Fatalf("disabled levels wrote %q / formatted %d args", buf.String(), calls)
	}
	l.Warn("kept", "s", stringer{&calls})
	if !strings.Contains(buf.String(), "[WARN] kept s=str") || calls != 1 {
		t.Fatalf("got %q, calls %d", buf.String(), calls)
	}

	derived := l.With("k", "v")
	l.SetLevel(LevelDebug)
	if l.Level() != LevelDebug {
		t.Fatalf("Level() = %v", l.Level())
	}
	buf.Reset()
	derived.Debug("now visible")
	if !strings.Contains(buf.String(), "[DEBUG] now visible k=v") {
		t.Fatalf("derived logger did not follow SetLevel: %q", buf.String())
	}

	if err := l.SetLevelName("bogus"); !errors.Is(err, ErrInvalidLevel) || l.Level() != LevelDebug {
		t.Fatalf("SetLevelName(bogus) = %v, level %v", err, l.Level())
	}
	if err := l.SetLevelName("none"); err != nil || l.Level() != LevelNone {
		t.Fatalf("SetLevelName(none) = %v, level %v", err, l.Level())
	}
	buf.Reset()
	l.Error("silenced")
	derived.Error("silenced")
	if buf.Len() != 0 {
		t.Fatalf("NONE wrote %q", buf.String())
	}
	LogPanic(derived, "fatal")
	if !strings.Contains(buf.String(), "[PANIC] fatal k=v") {
		t.Fatalf("PANIC not written at NONE: %q", buf.String())
	}
}

func TestNilLevelAndZeroTime(t *testing.T) {
	var buf bytes.Buffer
	h := NewHandler(&buf, nil)
	if h.Enabled(t.Context(), LevelDebug) || !h.Enabled(t.Context(), LevelInfo) {
		t.Fatal("nil level should mean INFO")
	}
	r := slog.NewRecord(time.Time{}, LevelInfo, "bare", 0)
	if err := h.Handle(t.Context(), r); err != nil {
		t.Fatal(err)
	}
	if buf.String() != "[INFO] bare\n" {
		t.Fatalf("got %q", buf.String())
	}
}

type failWriter struct{}

func (failWriter) Write([]byte) (int, error) { return 0, errors.New("disk full") }

func TestHandleReportsWriteError(t *testing.T) {
	h := NewHandler(failWriter{}, LevelInfo)
	err := h.Handle(t.Context(), slog.NewRecord(time.Now(), LevelInfo, "x", 0))
	if err == nil || err.Error() != "disk full" {
		t.Fatalf("Handle error = %v", err)
	}
}

func TestConcurrentLines(t *testing.T) {
	var buf bytes.Buffer
	l := New(&buf, LevelInfo)
	var wg sync.WaitGroup
	const goroutines, each = 8, 200
	for g := range goroutines {
		wg.Go(func() {
			sub := l.With("g", g)
			for i := range each {
				sub.Info("msg", "i", i)
			}
		})
	}
	wg.Wait()
	lines := strings.Split(strings.TrimSuffix(buf.String(), "\n"), "\n")
	if len(lines) != goroutines*each {
		t.Fatalf("%d lines, want %d", len(lines), goroutines*each)
	}
	re := regexp.MustCompile(`\[INFO\] msg g=\d i=\d+$`)
	for _, s := range lines {
		if !re.MatchString(s) {
			t.Fatalf("interleaved line %q", s)
		}
	}
}

func TestDailyFileRotation(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "dashboard.log")
	now := time.Date(2026, 11, 21, 23, 59, 58, 0, time.Local)
	clock := func() time.Time { return now }
	f, err := openDailyFile(path, clock)
	if err != nil {
		t.Fatal(err)
	}
	if f.Name() != path+".2026-11-21" {
		t.Fatalf("Name() = %q", f.Name())
	}
	mustWrite := func(s string) {
		t.Helper()
		if _, err := f.Write([]byte(s)); err != nil {
			t.Fatal(err)
		}
	}
	mustWrite("a\n")
	now = now.Add(time.Second) // 23:59:59, same day
	mustWrite("b\n")
	now = now.Add(time.Second) // midnight
	mustWrite("c\n")
	now = now.Add(36 * time.Hour) // skip a day
	mustWrite("d\n")
	if err := f.Close(); err != nil {
		t.Fatal(err)
	}
	if err := f.Close(); err != nil {
		t.Fatalf("second Close: %v", err)
	}
	if _, err := f.Write([]byte("late")); !errors.Is(err, os.ErrClosed) {
		t.Fatalf("write after close: %v", err)
	}
	want := map[string]string{
		".2026-11-21": "a\nb\n",
		".2026-11-22": "c\n",
		".2026-11-23": "d\n",
	}
	entries, _ := os.ReadDir(dir)
	if len(entries) != len(want) {
		t.Fatalf("files %v, want %d", entries, len(want))
	}
	for suffix, content := range want {
		data, err := os.ReadFile(path + suffix)
		if err != nil {
			t.Fatal(err)
		}
		if string(data) != content {
			t.Errorf("%s: %q, want %q", suffix, data, content)
		}
	}
}

func TestDailyFileAppendsAndRotationFailure(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "p.log")
	day := time.Date(2026, 1, 2, 10, 0, 0, 0, time.Local)
	if err := os.WriteFile(path+".2026-01-02", []byte("old\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	now := day
	f, err := openDailyFile(path, func() time.Time { return now })
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	if _, err := f.Write([]byte("new\n")); err != nil {
		t.Fatal(err)
	}
	// Make the next day's file impossible to create: a directory of that name.
	if err := os.Mkdir(path+".2026-01-03", 0o755); err != nil {
		t.Fatal(err)
	}
	now = day.Add(24 * time.Hour)
	if _, err := f.Write([]byte("still\n")); err != nil {
		t.Fatalf("write during failed rotation: %v", err)
	}
	data, _ := os.ReadFile(path + ".2026-01-02")
	if string(data) != "old\nnew\nstill\n" {
		t.Fatalf("content %q", data)
	}
	// Once the obstacle is gone the switch happens on the next write.
	if err := os.Remove(path + ".2026-01-03"); err != nil {
		t.Fatal(err)
	}
	if _, err := f.Write([]byte("next\n")); err != nil {
		t.Fatal(err)
	}
	data, _ = os.ReadFile(path + ".2026-01-03")
	if string(data) != "next\n" {
		t.Fatalf("next day content %q", data)
	}
}

func TestOpen(t *testing.T) {
	if _, err := Open(filepath.Join(t.TempDir(), "missing", "x.log"), LevelInfo); err == nil {
		t.Fatal("Open in a missing directory should fail")
	}
	l, err := Open("", LevelInfo)
	if err != nil || l.Close() != nil {
		t.Fatalf("Open(\"\"): %v", err)
	}
	path := filepath.Join(t.TempDir(), "codis.log")
	l, err = Open(path, LevelInfo)
	if err != nil {
		t.Fatal(err)
	}
	l.Info("to file", "n", 1)
	if err := l.Close(); err != nil {
		t.Fatal(err)
	}
	matches, _ := filepath.Glob(path + ".*")
	if len(matches) != 1 || !regexp.MustCompile(`\.\d{4}-\d\d-\d\d$`).MatchString(matches[0]) {
		t.Fatalf("files %v", matches)
	}
	data, _ := os.ReadFile(matches[0])
	if !strings.Contains(string(data), "[INFO] to file n=1\n") {
		t.Fatalf("content %q", data)
	}
}

func TestDiscard(t *testing.T) {
	l := Discard()
	l.Error("nothing")
	if l.Enabled(t.Context(), LevelError) {
		t.Fatal("Discard logger is enabled")
	}
}

func TestRateLimiter(t *testing.T) {
	var buf bytes.Buffer
	l := New(&buf, LevelInfo)
	rl := NewRateLimiter(time.Minute)
	now := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	rl.now = func() time.Time { return now }

	var lines []int
	emit := func() { rl.Warn(l.Logger, "backend down", "addr", "127.0.0.1:6379"); lines = append(lines, line()) }
	emit()
	for range 5 {
		now = now.Add(10 * time.Second)
		emit()
	}
	rl.Error(l.Logger, "other message") // independent key
	now = now.Add(15 * time.Second)     // 65s after the first line
	emit()
	got := strings.Split(strings.TrimSuffix(buf.String(), "\n"), "\n")
	if len(got) != 3 {
		t.Fatalf("lines %q", got)
	}
	rest, n := parseLine(t, got[0])
	if rest != "[WARN] backend down addr=127.0.0.1:6379" || n != lines[0] {
		t.Errorf("first line %q at %d, want line %d", rest, n, lines[0])
	}
	if rest, _ := parseLine(t, got[1]); rest != "[ERROR] other message" {
		t.Errorf("second line %q", rest)
	}
	if rest, _ := parseLine(t, got[2]); rest != "[WARN] backend down addr=127.0.0.1:6379 suppressed=5" {
		t.Errorf("third line %q", rest)
	}

	// Disabled levels neither log nor count.
	l.SetLevel(LevelError)
	buf.Reset()
	now = now.Add(time.Hour)
	rl.Warn(l.Logger, "backend down")
	if buf.Len() != 0 {
		t.Fatalf("disabled level wrote %q", buf.String())
	}
}

func TestRateLimiterBounded(t *testing.T) {
	rl := NewRateLimiter(time.Hour)
	l := New(&bytes.Buffer{}, LevelInfo)
	for i := range 3 * maxLimiterKeys {
		rl.Warn(l.Logger, fmt.Sprint("msg ", i))
	}
	rl.mu.Lock()
	n := len(rl.seen)
	rl.mu.Unlock()
	if n > maxLimiterKeys {
		t.Fatalf("limiter holds %d keys", n)
	}
}
