package cli

import (
	"bytes"
	"errors"
	"os"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"testing"
)

const testUsage = `
Usage:
	tool [--log=FILE] [--pidfile=FILE]
	tool --version

Options:
	-l FILE, --log=FILE   log file.
	--pidfile=FILE        pid file.
`

func TestParse(t *testing.T) {
	var out, errw bytes.Buffer
	opts, helped, err := Parse(testUsage, []string{"--log=x.log", "--pidfile="}, &out, &errw)
	if err != nil || helped || out.Len() != 0 || errw.Len() != 0 {
		t.Fatalf("valid args: %v %v %q %q", err, helped, out.String(), errw.String())
	}
	if v, ok := Flag(opts, "--log"); !ok || v != "x.log" {
		t.Fatalf("--log = %q %v", v, ok)
	}
	if _, ok := Flag(opts, "--pidfile"); ok {
		t.Fatal("empty --pidfile reported as given")
	}
	if _, ok := Flag(opts, "--version"); ok {
		t.Fatal("bool option reported as string flag")
	}

	out.Reset()
	_, helped, err = Parse(testUsage, []string{"--help"}, &out, &errw)
	if err != nil || !helped || !strings.Contains(out.String(), "Usage:") || errw.Len() != 0 {
		t.Fatalf("help: %v %v %q %q", err, helped, out.String(), errw.String())
	}

	out.Reset()
	_, helped, err = Parse(testUsage, []string{"--bogus"}, &out, &errw)
	if err == nil || helped || out.Len() != 0 || !strings.Contains(errw.String(), "Usage:") {
		t.Fatalf("bad args: %v %v %q %q", err, helped, out.String(), errw.String())
	}
}

func TestOrError(t *testing.T) {
	fb := errors.New("fallback")
	if got := OrError(errors.New(""), fb); got != fb {
		t.Fatalf("empty message: %v", got)
	}
	if got := OrError(nil, fb); got != fb {
		t.Fatalf("nil: %v", got)
	}
	e := errors.New("bad")
	if got := OrError(e, fb); got != e {
		t.Fatalf("kept: %v", got)
	}
}

func TestCompileInfo(t *testing.T) {
	if got := CompileInfo("go1 linux/amd64 abc"); got != "go1 linux/amd64 abc" {
		t.Fatalf("linked: %q", got)
	}
	if got := CompileInfo(""); !strings.HasPrefix(got, runtime.Version()+" "+runtime.GOOS+"/"+runtime.GOARCH) {
		t.Fatalf("built: %q", got)
	}
}

func TestOpenLog(t *testing.T) {
	if _, msg, err := OpenLog("", "LOUD"); err == nil || msg != "invalid --log-level" {
		t.Fatalf("bad level: %q %v", msg, err)
	}
	if _, msg, err := OpenLog(filepath.Join(t.TempDir(), "no", "such", "dir", "x.log"), ""); err == nil || msg != "open log file failed" {
		t.Fatalf("bad file: %q %v", msg, err)
	}
	path := filepath.Join(t.TempDir(), "x.log")
	l, msg, err := OpenLog(path, "warn")
	if err != nil || msg != "" {
		t.Fatalf("open: %q %v", msg, err)
	}
	l.Logger.Info("hidden")
	l.Logger.Warn("shown")
	l.Close()
	matches, _ := filepath.Glob(path + "*")
	var all []byte
	for _, m := range matches {
		b, _ := os.ReadFile(m)
		all = append(all, b...)
	}
	if !bytes.Contains(all, []byte("shown")) || bytes.Contains(all, []byte("hidden")) {
		t.Fatalf("log content %q (files %v)", all, matches)
	}
}

func TestWritePidfile(t *testing.T) {
	dir := t.TempDir()
	t.Chdir(dir)
	path, remove, err := WritePidfile("codis.pid")
	if err != nil || !filepath.IsAbs(path) {
		t.Fatalf("write: %q %v", path, err)
	}
	b, err := os.ReadFile(filepath.Join(dir, "codis.pid"))
	if err != nil || string(b) != strconv.Itoa(os.Getpid()) {
		t.Fatalf("content %q %v", b, err)
	}
	remove()
	if _, err := os.Stat(path); !os.IsNotExist(err) {
		t.Fatalf("not removed: %v", err)
	}
	if _, remove, err := WritePidfile(filepath.Join(dir, "missing", "x.pid")); err == nil {
		t.Fatal("write into a missing directory succeeded")
	} else {
		remove() // a no-op, must not panic
	}
}
