package server

import (
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/codisgo/codis/pkg/resp"
	lua "github.com/yuin/gopher-lua"
	"github.com/yuin/gopher-lua/parse"
)

// Scripting commands: EVAL, EVALSHA, EVAL_RO, EVALSHA_RO and SCRIPT.

const errNoScript = "NOSCRIPT No matching script. Please use EVAL."

func init() {
	evalFlags := FlagNoScript | FlagStale
	register(
		&Command{Name: "eval", Arity: -3, Flags: evalFlags, KeysFn: numkeysKeys(0, 2), NoMandatoryKeys: true,
			Proc: func(c *client, argv [][]byte) { c.evalGeneric(argv, false, false) }},
		&Command{Name: "evalsha", Arity: -3, Flags: evalFlags, KeysFn: numkeysKeys(0, 2), NoMandatoryKeys: true,
			Proc: func(c *client, argv [][]byte) { c.evalGeneric(argv, true, false) }},
		&Command{Name: "eval_ro", Arity: -3, Flags: evalFlags | FlagReadOnly, KeysFn: numkeysKeys(0, 2), NoMandatoryKeys: true,
			Proc: func(c *client, argv [][]byte) { c.evalGeneric(argv, false, true) }},
		&Command{Name: "evalsha_ro", Arity: -3, Flags: evalFlags | FlagReadOnly, KeysFn: numkeysKeys(0, 2), NoMandatoryKeys: true,
			Proc: func(c *client, argv [][]byte) { c.evalGeneric(argv, true, true) }},
		&Command{Name: "script", Arity: -2, Proc: scriptCommand,
			Subs: map[string]int{"debug": 3, "exists": -3, "flush": -2, "help": 2, "kill": 2, "load": 3}},
	)
}

// Shebang flags of Redis 7.0 ("#!lua flags=...").
var shebangFlags = map[string]bool{"no-writes": true, "allow-oom": true, "allow-stale": true,
	"no-cluster": true, "allow-cross-slot-keys": true}

// parseShebang reads an optional "#!lua flags=a,b" first line. It returns
// the length of the line (kept out of the compiled code, but not its line
// feed, so that line numbers stay the user's).
func parseShebang(body string) (n int, ro, oom bool, err error) {
	if !strings.HasPrefix(body, "#!") {
		return 0, false, false, nil
	}
	n = strings.IndexByte(body, '\n')
	if n < 0 {
		return 0, false, false, errors.New("Invalid script shebang")
	}
	parts, ok := resp.SplitArgs([]byte(body[:n]))
	if !ok || len(parts) == 0 {
		return 0, false, false, errors.New("Invalid engine in script shebang")
	}
	if string(parts[0]) != "#!lua" {
		return 0, false, false, fmt.Errorf("Unexpected engine in script shebang: %s", parts[0])
	}
	for _, p := range parts[1:] {
		fl, ok := strings.CutPrefix(string(p), "flags=")
		if !ok {
			return 0, false, false, fmt.Errorf("Unknown lua shebang option: %s", p)
		}
		for _, f := range strings.Split(fl, ",") {
			if !shebangFlags[f] {
				return 0, false, false, fmt.Errorf("Unexpected flag in script shebang: %s", f)
			}
			ro = ro || f == "no-writes"
			oom = oom || f == "allow-oom"
		}
	}
	return n, ro, oom, nil
}

// compile parses a script body into a cached script; the error is the
// reply text.
func (st *scriptState) compile(body []byte) (*luaScript, string, string) {
	hx := sha1hexArray(body)
	if sc := st.cache[string(hx[:])]; sc != nil { // no allocation for the lookup
		return sc, sc.sha, ""
	}
	sha := string(hx[:])
	src := string(body)
	n, ro, oom, err := parseShebang(src)
	if err != nil {
		return nil, "", "ERR " + err.Error()
	}
	if line := luaNestingLine(src[n:]); line > 0 {
		return nil, "", fmt.Sprintf("ERR Error compiling script (new function): %s:%d: chunk has too many syntax levels", luaSource, line)
	}
	fn, err := st.L.Load(strings.NewReader(src[n:]), luaSource)
	if err != nil {
		return nil, "", "ERR Error compiling script (new function): " + compileErrorText(err, strings.Count(src, "\n")+1)
	}
	fn.Env = st.proxyG
	// The main chunk is a vararg function; Lua 5.1's compatibility "arg"
	// table would be built at every call (a map allocation): scripts get
	// "..." only.
	fn.Proto.IsVarArg &^= lua.VarArgNeedsArg
	sc := &luaScript{sha: sha, body: src, fn: fn, ro: ro, oom: oom}
	st.cache[sha] = sc
	st.bodies += int64(len(src))
	return sc, sha, ""
}

// compileErrorText formats a gopher-lua syntax error like Lua 5.1's
// "user_script:LINE: MESSAGE near 'TOKEN'". gopher-lua's messages are its
// own ("syntax error" where Lua says what it expected).
func compileErrorText(err error, lines int) string {
	var pe *parse.Error
	if errors.As(err, &pe) {
		if pe.Pos.Line == parse.EOF {
			return fmt.Sprintf("%s:%d: %s near '<eof>'", luaSource, lines, pe.Message)
		}
		return fmt.Sprintf("%s:%d: %s near '%s'", luaSource, pe.Pos.Line, pe.Message, pe.Token)
	}
	var ae *lua.ApiError
	if errors.As(err, &ae) && ae.Cause != nil && ae.Cause != err {
		return compileErrorText(ae.Cause, lines)
	}
	return mapNewlines(strings.TrimSpace(err.Error()))
}

// evalGeneric runs EVAL (bySHA false) or EVALSHA, read-only for the _RO
// variants.
func (c *client) evalGeneric(argv [][]byte, bySHA, ro bool) {
	if bySHA && len(argv[1]) != 40 {
		c.addError(errNoScript)
		return
	}
	numkeys, ok := parseInt64(argv[2])
	if !ok {
		c.addError(errNotInt)
		return
	}
	if numkeys > int64(len(argv)-3) {
		c.addError("ERR Number of keys can't be greater than number of args")
		return
	} else if numkeys < 0 {
		c.addError("ERR Number of keys can't be negative")
		return
	}
	s := c.s
	st := s.scripting()
	var sc *luaScript
	var sha string
	if bySHA {
		sha = strings.ToLower(string(argv[1]))
		if sc = st.cache[sha]; sc == nil {
			c.addError(errNoScript)
			return
		}
	} else {
		var msg string
		if sc, sha, msg = st.compile(argv[1]); sc == nil {
			c.addError(msg)
			return
		}
	}
	if st.run != nil {
		// Unreachable: EVAL is noscript and BUSY mode refuses it.
		c.addError("ERR a script is already running")
		return
	}
	r := &scriptRun{caller: c, sha: sha, start: time.Now(), threshold: s.busyThreshold(), readOnly: ro || sc.ro}
	r.lastYield = r.start
	if s.cfg.MaxMemory > 0 && !r.readOnly && !sc.oom {
		r.oom = !s.evict()
	}
	L := st.L
	keys := L.CreateTable(int(numkeys), 0)
	for i, k := range argv[3 : 3+numkeys] {
		keys.RawSetInt(i+1, lua.LString(k))
	}
	args := L.CreateTable(len(argv)-3-int(numkeys), 0)
	for i, a := range argv[3+numkeys:] {
		args.RawSetInt(i+1, lua.LString(a))
	}
	st.env.RawSetString("KEYS", keys)
	st.env.RawSetString("ARGV", args)
	fc := st.fake
	fc.db = c.db
	fc.out = fc.out[:0]
	st.run = r

	L.SetTop(0)
	L.Push(sc.fn)
	err := L.PCall(0, 1, st.handler)
	var ret lua.LValue = lua.LNil
	if err == nil {
		ret = L.Get(-1)
	}
	killed := r.killed
	st.endRun()
	st.chunkSrc = nil
	fc.db = s.ks.dbs[0]
	if cap(fc.out) > 64<<10 {
		fc.out = nil
	}
	// Drop the references to this call's arguments.
	st.env.RawSetString("KEYS", st.noArgs)
	st.env.RawSetString("ARGV", st.noArgs)
	if err != nil {
		c.addError(scriptErrorText(err, sha, killed))
		L.SetTop(0)
		return
	}
	var isErr bool
	c.out, isErr = appendLuaReply(c.out, ret)
	if isErr {
		s.st.errorReplies++
	}
	L.SetTop(0)
}

// scriptErrorText is the reply to a failed script: the error's text, then
// " script: SHA, on @user_script:LINE." when the line is known.
func scriptErrorText(err error, sha string, killed bool) string {
	msg := strings.TrimSpace(err.Error())
	line, source := 0, "@"+luaSource
	var ae *lua.ApiError
	if errors.As(err, &ae) {
		switch o := ae.Object.(type) {
		case *lua.LTable:
			if e, ok := o.RawGetString("err").(lua.LString); ok {
				msg = string(e)
			}
			if n, ok := o.RawGetString("line").(lua.LNumber); ok {
				line = int(n)
			}
			if src, ok := o.RawGetString("source").(lua.LString); ok {
				source = string(src)
			}
		case lua.LString:
			msg = "ERR " + string(o)
		}
	}
	if killed {
		msg = errScriptKilled.Error()
	}
	msg = mapNewlines(strings.TrimRight(msg, "\r\n"))
	if line > 0 {
		msg = fmt.Sprintf("%s script: %s, on %s:%d.", msg, sha, mapNewlines(source), line)
	}
	return msg
}

var scriptHelp = []string{
	"SCRIPT <subcommand> [<arg> [value] [opt] ...]. Subcommands are:",
	"DEBUG (YES|SYNC|NO)",
	"    Set the debug mode for subsequent scripts executed.",
	"EXISTS <sha1> [<sha1> ...]",
	"    Return information about the existence of the scripts in the script cache.",
	"FLUSH [ASYNC|SYNC]",
	"    Flush the Lua scripts cache. Very dangerous on replicas.",
	"    When called without the optional mode argument, the behavior is determined by the",
	"    lazyfree-lazy-user-flush configuration directive. Valid modes are:",
	"    * ASYNC: Asynchronously flush the scripts cache.",
	"    * SYNC: Synchronously flush the scripts cache.",
	"KILL",
	"    Kill the currently executing Lua script.",
	"LOAD <script>",
	"    Load a script into the scripts cache without executing it.",
	"HELP",
	"    Prints this help.",
}

func scriptCommand(c *client, argv [][]byte) {
	s := c.s
	sub := strings.ToLower(string(argv[1]))
	switch sub {
	case "help":
		c.addArrayLen(len(scriptHelp))
		for _, line := range scriptHelp {
			c.addSimple(line)
		}
	case "flush":
		if len(argv) == 3 && !eqFold(argv[2], "sync") && !eqFold(argv[2], "async") || len(argv) > 3 {
			c.addError("ERR SCRIPT FLUSH only support SYNC|ASYNC option")
			return
		}
		if st := s.scriptingIfAny(); st != nil {
			st.cache = make(map[string]*luaScript)
			st.bodies = 0
			st.newLua()
		}
		c.addOK()
	case "exists":
		st := s.scriptingIfAny()
		c.addArrayLen(len(argv) - 2)
		for _, a := range argv[2:] {
			found := false
			if st != nil {
				_, found = st.cache[strings.ToLower(string(a))]
			}
			c.addBool(found)
		}
	case "load":
		sc, sha, msg := s.scripting().compile(argv[2])
		if sc == nil {
			c.addError(msg)
			return
		}
		c.addBulkString(sha)
	case "kill":
		st := s.scriptingIfAny()
		if st == nil || st.run == nil {
			c.addError("NOTBUSY No scripts in execution right now.")
			return
		}
		if st.run.wrote {
			c.addError("UNKILLABLE Sorry the script already executed write commands against the dataset. You can either wait the script termination or kill the server in a hard way using the SHUTDOWN NOSAVE command.")
			return
		}
		st.run.killed = true
		s.log.Warn("Lua script killed by user with SCRIPT KILL.")
		c.addOK()
	case "debug":
		switch {
		case eqFold(argv[2], "no"):
			c.addOK()
		case eqFold(argv[2], "yes"), eqFold(argv[2], "sync"):
			c.addError("ERR SCRIPT DEBUG is not supported by codis-server")
		default:
			c.addError("ERR Use SCRIPT DEBUG YES/SYNC/NO")
		}
	default:
		unknownSubcommand(c, argv)
	}
}

// scriptInfo returns used_memory_lua and number_of_cached_scripts for
// INFO memory (Server.mu held).
func (s *Server) scriptInfo() (int64, int) {
	st := s.scriptingIfAny()
	if st == nil {
		return (&scriptState{}).memory(), 0
	}
	return st.memory(), len(st.cache)
}
