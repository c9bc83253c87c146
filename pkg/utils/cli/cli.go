// Package cli holds the plumbing the Codis commands (codis-dashboard,
// codis-proxy, codis-admin) share: docopt parsing with their help
// handling, the "compile" line of --version, flag look-up, opening the
// log and the pidfile. Fatal errors stay with each command: it logs them
// with log.LogPanic itself, so the log line names the command's source.
package cli

import (
	"fmt"
	"io"
	"os"
	"path/filepath"
	"runtime"
	"runtime/debug"
	"strconv"

	"github.com/docopt/docopt-go"

	"github.com/codisgo/codis/pkg/utils/log"
)

// CompileInfo is the "compile:" line of --version: linked (set with
// -ldflags -X) when not empty, else the Go version, GOOS/GOARCH and the
// VCS revision recorded in the binary.
func CompileInfo(linked string) string {
	if linked != "" {
		return linked
	}
	s := runtime.Version() + " " + runtime.GOOS + "/" + runtime.GOARCH
	if bi, ok := debug.ReadBuildInfo(); ok {
		for _, kv := range bi.Settings {
			if kv.Key == "vcs.revision" {
				s += " " + kv.Value
			}
		}
	}
	return s
}

// Parse parses args against the docopt usage text without ever exiting
// the process. When the user asks for help (-h, --help) the text is
// printed to stdout and helped is true; the caller exits with 0. On bad
// input the usage is printed to stderr and err is docopt's error, whose
// message may be empty (see OrError).
func Parse(usage string, args []string, stdout, stderr io.Writer) (opts docopt.Opts, helped bool, err error) {
	parser := &docopt.Parser{HelpHandler: func(err error, text string) {
		if err != nil {
			fmt.Fprintln(stderr, text)
			return
		}
		helped = true
		fmt.Fprintln(stdout, text)
	}}
	opts, err = parser.ParseArgs(usage, args, "")
	return opts, helped, err
}

// OrError returns err, or fallback when err has an empty message (docopt
// reports bad input with one).
func OrError(err, fallback error) error {
	if err == nil || err.Error() == "" {
		return fallback
	}
	return err
}

// Flag returns the string value of option name and whether it was given
// with a non-empty value.
func Flag(opts docopt.Opts, name string) (string, bool) {
	v, ok := opts[name].(string)
	return v, ok && v != ""
}

// OpenLog parses levelName (empty means INFO) and opens the daily rotated
// log file (empty means os.Stderr). On failure msg is the message the
// commands log before exiting: "invalid --log-level" or
// "open log file failed".
func OpenLog(file, levelName string) (logger *log.Logger, msg string, err error) {
	return OpenLogTo(os.Stderr, file, levelName)
}

// OpenLogTo is OpenLog writing to stderr when no file is given (commands
// whose tests capture their standard error pass it in).
func OpenLogTo(stderr io.Writer, file, levelName string) (logger *log.Logger, msg string, err error) {
	level := log.LevelInfo
	if levelName != "" {
		if level, err = log.ParseLevel(levelName); err != nil {
			return nil, "invalid --log-level", err
		}
	}
	if file == "" {
		return log.New(stderr, level), "", nil
	}
	logger, err = log.Open(file, level)
	if err != nil {
		return nil, "open log file failed", err
	}
	return logger, "", nil
}

// SetNCPU sets runtime.GOMAXPROCS from --ncpu when it is given. A value
// that is not a positive integer is returned with ok false, for the
// command to report ("invalid --ncpu").
func SetNCPU(opts docopt.Opts) (value string, ok bool) {
	s, given := Flag(opts, "--ncpu")
	if !given {
		return "", true
	}
	n, err := strconv.Atoi(s)
	if err != nil || n <= 0 {
		return s, false
	}
	runtime.GOMAXPROCS(n)
	return s, true
}

// WritePidfile writes the process id to path, made absolute when
// possible. It returns the path written and a func removing the file.
func WritePidfile(path string) (abs string, remove func(), err error) {
	if a, err := filepath.Abs(path); err == nil {
		path = a
	}
	if err := os.WriteFile(path, []byte(strconv.Itoa(os.Getpid())), 0o644); err != nil {
		return path, func() {}, err
	}
	return path, func() { os.Remove(path) }, nil
}
