package server

import (
	"fmt"
	"math"
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
	// KeysFn, for commands with a numkeys argument, finds the keys like
	// Redis 7.0's key specs and getkeys procs (see numkeysKeys); the
	// range above is then the legacy one of COMMAND INFO.
	KeysFn func(argv [][]byte) [][]byte
	// NoMandatoryKeys: COMMAND GETKEYS replies an empty array rather than
	// an error when the arguments name no key (EVAL-style commands).
	NoMandatoryKeys bool
	Proc            func(c *client, argv [][]byte)
	// Subs, for container commands (CONFIG, CLIENT, ...), maps each
	// lower-case subcommand to its arity; unknown subcommands and arity
	// errors are then rejected before execution (and abort a MULTI).
	Subs map[string]int
	// (Per-command statistics are per Server: introState in t_server.go.)

	id int // index in the table, for per-server arrays (set by register)
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
		c.id = len(commands)
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
	if cmd.KeysFn != nil {
		return cmd.KeysFn(argv)
	}
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

// hasKeys reports whether the command takes key arguments.
func (cmd *Command) hasKeys() bool { return cmd.FirstKey != 0 || cmd.KeysFn != nil }

// numkeysKeys returns the KeysFn of a command whose keys follow a numkeys
// argument at numkeysIdx, optionally after a destination key at storeIdx
// (0 = none). Like Redis 7.0 it first applies the key spec (numkeys a
// strict non-negative integer, the keys within argv) and, when that fails,
// the legacy getkeys proc: numkeys read with atoi, in [1, keys present],
// the destination then listed last.
func numkeysKeys(storeIdx, numkeysIdx int) func(argv [][]byte) [][]byte {
	first := numkeysIdx + 1
	return func(argv [][]byte) [][]byte {
		if numkeysIdx >= len(argv) {
			return nil
		}
		if n, ok := parseInt64(argv[numkeysIdx]); ok && n >= 1 && n <= int64(len(argv)-first) {
			var ks [][]byte
			if storeIdx > 0 {
				ks = append(ks, argv[storeIdx])
			}
			return append(ks, argv[first:first+int(n)]...)
		}
		n := atoi(argv[numkeysIdx])
		if n < 1 || n > len(argv)-first {
			return nil
		}
		ks := append([][]byte(nil), argv[first:first+n]...)
		if storeIdx > 0 {
			ks = append(ks, argv[storeIdx])
		}
		return ks
	}
}

// atoi is C's atoi as glibc implements it (strtol truncated to int):
// leading white space, an optional sign, digits up to the first other
// byte; 0 when there are none.
func atoi(b []byte) int {
	i := 0
	for i < len(b) && (b[i] == ' ' || (b[i] >= '\t' && b[i] <= '\r')) {
		i++
	}
	neg := false
	if i < len(b) && (b[i] == '+' || b[i] == '-') {
		neg = b[i] == '-'
		i++
	}
	var v int64
	for ; i < len(b) && b[i] >= '0' && b[i] <= '9'; i++ {
		d := int64(b[i] - '0')
		if v > (math.MaxInt64-d)/10 {
			v = math.MaxInt64 // strtol saturates
			if neg {
				v = math.MinInt64
			}
			return int(int32(v))
		}
		v = v*10 + d
	}
	if neg {
		v = -v
	}
	return int(int32(v))
}

func (cmd *Command) flagList() []string {
	var out []string
	for _, f := range flagNames {
		if cmd.Flags&f.f != 0 {
			out = append(out, f.name)
		}
	}
	if cmd.KeysFn != nil {
		out = append(out, "movablekeys")
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
	c.s.cmdRejected(c)
	c.addError(msg)
}

// process runs one request (Server.mu held): lookup, checks, MULTI
// queueing, execution.
func (c *client) process(argv [][]byte) {
	cmd := c.cmd
	if cmd == nil || !eqFold(argv[0], cmd.Name) {
		// Pipelines mostly repeat the previous command; the table
		// never changes after init, so the last one found stays valid.
		cmd = lookupCommand(argv[0])
	}
	c.cmd = cmd
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
	if s.script != nil && s.script.busy && c.busyRejects(cmd, argv) {
		return // a script runs past busy-reply-threshold (script_state.go)
	}
	isTxCtl := cmd.Flags&FlagTxControl != 0
	// Over maxmemory, every command first evicts (as Redis's processCommand
	// does, so a lowered maxmemory takes effect at the next command of any
	// kind); only commands that may grow memory are refused if it fails.
	if s.cfg.MaxMemory > 0 && !s.evict() && (cmd.Flags&FlagDenyOOM != 0 || (c.inMulti && !isTxCtl)) {
		c.reject(errOOM)
		return
	}
	if cmd.Flags&FlagWrite != 0 && s.cfg.ReplicaOfHost != "" && s.cfg.ReplicaReadOnly && !c.isMaster() {
		c.reject(errReadOnly)
		return
	}
	if cmd.Flags&FlagStale == 0 && s.repl != nil && s.repl.staleRefused() {
		c.reject(errMasterDown)
		return
	}
	if c.push != nil && (c.pubsubRejected(cmd, argv) || c.monitorRejected(cmd)) {
		return
	}
	if c.inMulti && cmd.Flags&FlagNoMulti != 0 {
		c.reject("ERR Command not allowed inside a transaction")
		return
	}
	if s.intro.pauseCh != nil && c.waitPause(cmd) {
		c.process(argv) // paused meanwhile: check everything again
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
	start := monoNow()
	if !c.inExec {
		s.ks.now = s.ks.clk.unixNano(start) / int64(time.Millisecond)
	}
	if s.ks.snap != nil && cmd.Flags&FlagWrite != 0 {
		s.snapBeforeWrite(c, cmd, argv)
	}
	pc := s.replBegin()
	errs := s.st.errorReplies
	if len(s.monitors) > 0 && isEvalCommand(cmd) {
		s.feedMonitors(c, argv) // before the commands of its script
	}
	cmd.Proc(c, argv)
	if c.fedMonitors {
		c.fedMonitors = false // a blocking command, shown when it blocked
	} else if len(s.monitors) > 0 && !isEvalCommand(cmd) && !hiddenFromMonitor(cmd, argv) {
		s.feedMonitors(c, argv)
	}
	if s.repl != nil {
		s.propagateCall(c, cmd, argv, pc)
	}
	if !c.inExec && s.ks.blk != nil {
		// Serve the clients blocked on keys this command (or the whole
		// EXEC) made ready before any other client runs, as Redis does.
		s.serveBlockedKeys()
	}
	d := monoNow() - start - c.blockedFor
	c.blockedFor = 0
	s.recordCall(c, cmd, argv, d, errs)
	s.st.numCommands++
	if s.cfg.SlowlogSlower >= 0 && d.Microseconds() >= s.cfg.SlowlogSlower && cmd.Name != "exec" { // EXEC: skip_slowlog
		s.slowlogAdd(c, argv, time.Unix(0, s.ks.clk.unixNano(start)), d)
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
