package server

import (
	"fmt"
	"strings"
	"time"
)

// CmdFlag is a set of command flags (Redis's command flags).
type CmdFlag uint32

// Command flags.
const (
	FlagWrite     CmdFlag = 1 << iota // modifies the keyspace
	FlagReadOnly                      // reads the keyspace only
	FlagDenyOOM                       // rejected when over maxmemory
	FlagAdmin                         // administrative
	FlagPubSub                        // pub/sub
	FlagNoScript                      // not allowed in scripts
	FlagRandom                        // non-deterministic output
	FlagLoading                       // allowed while loading
	FlagStale                         // allowed on a stale replica
	FlagFast                          // O(1) or O(log N)
	FlagNoAuth                        // allowed before AUTH
	FlagTxControl                     // executed immediately even inside MULTI (MULTI, EXEC, WATCH, ...)
	FlagNoMulti                       // refused inside MULTI ("Command not allowed inside a transaction")
)

var flagNames = []struct {
	f    CmdFlag
	name string
}{
	{FlagWrite, "write"}, {FlagReadOnly, "readonly"}, {FlagDenyOOM, "denyoom"}, {FlagAdmin, "admin"},
	{FlagPubSub, "pubsub"}, {FlagNoScript, "noscript"}, {FlagRandom, "random"}, {FlagLoading, "loading"},
	{FlagStale, "stale"}, {FlagFast, "fast"}, {FlagNoAuth, "no_auth"}, {FlagNoMulti, "no_multi"},
}

// Command is one entry of the command table.
type Command struct {
	Name     string // lower-case name
	Arity    int    // Redis convention: N exact, -N at least N, 0 unchecked
	Flags    CmdFlag
	FirstKey int // position of the first key argument (0 = none)
	LastKey  int // position of the last key (-1 = last argument)
	Step     int // step between keys
	Proc     func(c *client, argv [][]byte)
	// Subs, for container commands (CONFIG, CLIENT, ...), maps each
	// lower-case subcommand to its arity; unknown subcommands and arity
	// errors are then rejected before execution (and abort a MULTI).
	Subs map[string]int

	calls int64 // guarded by Server.mu
	usec  int64
}

// commands is the command table, filled by register calls from init
// functions of the t_*.go files and read-only afterwards.
var commands = map[string]*Command{}

// register adds commands to the table; a duplicate name is a programming
// error.
func register(cmds ...*Command) {
	for _, c := range cmds {
		if _, dup := commands[c.Name]; dup {
			panic("server: duplicate command " + c.Name)
		}
		commands[c.Name] = c
	}
}

// lookupCommand finds a command by name case-insensitively without
// allocating.
func lookupCommand(name []byte) *Command {
	var buf [32]byte
	if len(name) > len(buf) {
		return commands[strings.ToLower(string(name))]
	}
	for i, ch := range name {
		if ch >= 'A' && ch <= 'Z' {
			ch += 'a' - 'A'
		}
		buf[i] = ch
	}
	return commands[string(buf[:len(name)])]
}

// keys returns the key arguments of argv according to the key spec.
func (cmd *Command) keys(argv [][]byte) [][]byte {
	if cmd.FirstKey == 0 || cmd.FirstKey >= len(argv) {
		return nil
	}
	last := cmd.LastKey
	if last < 0 {
		last = len(argv) + last
	}
	step := max(cmd.Step, 1)
	var ks [][]byte
	for i := cmd.FirstKey; i <= last && i < len(argv); i += step {
		ks = append(ks, argv[i])
	}
	return ks
}

func (cmd *Command) flagList() []string {
	var out []string
	for _, f := range flagNames {
		if cmd.Flags&f.f != 0 {
			out = append(out, f.name)
		}
	}
	return out
}

const (
	errNoAuth      = "NOAUTH Authentication required."
	errOOM         = "OOM command not allowed when used memory > 'maxmemory'."
	errReadOnly    = "READONLY You can't write against a read only replica."
	errWrongType   = "WRONGTYPE Operation against a key holding the wrong kind of value"
	errSyntax      = "ERR syntax error"
	errNotInt      = "ERR value is not an integer or out of range"
	errNotFloat    = "ERR value is not a valid float"
	errNoSuchKey   = "ERR no such key"
	errDBRange     = "ERR DB index is out of range"
	errOverflow    = "ERR increment or decrement would overflow"
	errStrTooLong  = "ERR string exceeds maximum allowed size (proto-max-bulk-len)"
	errBitOffset   = "ERR bit offset is not an integer or out of range"
	errInvalidCurs = "ERR invalid cursor"
)

func errWrongArgs(name string) string {
	return fmt.Sprintf("ERR wrong number of arguments for '%s' command", name)
}

// unknownCommandError formats Redis 7.0's unknown-command error.
func unknownCommandError(argv [][]byte) string {
	var args strings.Builder
	for i := 1; i < len(argv) && args.Len() < 128; i++ {
		a := argv[i]
		if room := 128 - args.Len(); len(a) > room {
			a = a[:room]
		}
		fmt.Fprintf(&args, "'%s' ", a)
	}
	name := argv[0]
	if len(name) > 128 {
		name = name[:128]
	}
	return fmt.Sprintf("ERR unknown command '%s', with args beginning with: %s", name, args.String())
}

// reject replies an error for a command refused before execution and, in
// MULTI, makes EXEC fail.
func (c *client) reject(msg string) {
	if c.inMulti {
		c.multiErr = true
	}
	c.addError(msg)
}

// process runs one request (Server.mu held): lookup, checks, MULTI
// queueing, execution.
func (c *client) process(argv [][]byte) {
	cmd := lookupCommand(argv[0])
	if cmd == nil {
		c.lastCmd = "unknown"
		c.reject(unknownCommandError(argv))
		return
	}
	c.lastCmd = cmd.Name
	if (cmd.Arity > 0 && len(argv) != cmd.Arity) || len(argv) < -cmd.Arity {
		c.reject(errWrongArgs(cmd.Name))
		return
	}
	if cmd.Subs != nil && len(argv) >= 2 {
		var buf [32]byte
		sub := argv[1]
		if len(sub) <= len(buf) {
			for i, ch := range sub {
				buf[i] = lower(ch)
			}
			sub = buf[:len(sub)]
		}
		ar, ok := cmd.Subs[string(sub)]
		if !ok {
			c.reject(fmt.Sprintf("ERR unknown subcommand '%.128s'. Try %s HELP.", argv[1], strings.ToUpper(cmd.Name)))
			return
		}
		if (ar > 0 && len(argv) != ar) || len(argv) < -ar {
			c.reject(errWrongArgs(cmd.Name + "|" + string(sub)))
			return
		}
	}
	if !c.authed && cmd.Flags&FlagNoAuth == 0 {
		c.reject(errNoAuth)
		return
	}
	s := c.s
	isTxCtl := cmd.Flags&FlagTxControl != 0
	if s.cfg.MaxMemory > 0 && (cmd.Flags&FlagDenyOOM != 0 || (c.inMulti && !isTxCtl)) {
		if !s.evict() {
			c.reject(errOOM)
			return
		}
	}
	if cmd.Flags&FlagWrite != 0 && s.cfg.ReplicaOfHost != "" && s.cfg.ReplicaReadOnly {
		c.reject(errReadOnly)
		return
	}
	if c.push != nil && c.pubsubRejected(cmd, argv) {
		return
	}
	if c.inMulti && cmd.Flags&FlagNoMulti != 0 {
		c.reject("ERR Command not allowed inside a transaction")
		return
	}
	if c.inMulti && !isTxCtl {
		c.queue = append(c.queue, copyArgv(argv))
		c.addRaw("+QUEUED\r\n")
		return
	}
	c.call(cmd, argv)
}

// call executes a command and records stats and the slow log.
func (c *client) call(cmd *Command, argv [][]byte) {
	s := c.s
	start := time.Now()
	if !c.inExec {
		s.ks.now = start.UnixMilli()
	}
	cmd.Proc(c, argv)
	d := time.Since(start)
	cmd.calls++
	cmd.usec += d.Microseconds()
	s.st.numCommands++
	if s.cfg.SlowlogSlower >= 0 && d.Microseconds() >= s.cfg.SlowlogSlower {
		s.slowlogAdd(c, argv, start, d)
	}
}

func copyArgv(argv [][]byte) [][]byte {
	n := 0
	for _, a := range argv {
		n += len(a)
	}
	buf := make([]byte, 0, n)
	out := make([][]byte, len(argv))
	for i, a := range argv {
		buf = append(buf, a...)
		out[i] = buf[len(buf)-len(a) : len(buf) : len(buf)]
	}
	return out
}
