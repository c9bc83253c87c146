package server

import (
	"context"
	"crypto/sha1"
	"encoding/hex"
	"errors"
	"math"
	"runtime"
	"strconv"
	"time"

	lua "github.com/yuin/gopher-lua"
)

// This file holds the scripting engine's state: the Lua interpreter of a
// server, its script cache and the running script with its time checks
// (the BUSY mode and SCRIPT KILL). See the "Scripting" section of doc.go.

// errScriptBusy is Redis's reply to commands sent while a script runs
// past busy-reply-threshold.
const errScriptBusy = "BUSY Redis is busy running a script. You can only call SCRIPT KILL or SHUTDOWN NOSAVE."

// errScriptKilled is what a killed script raises (and its caller gets).
var errScriptKilled = errors.New("ERR Script killed by user with SCRIPT KILL...")

// luaScript is one cached script.
type luaScript struct {
	sha  string // lower-case hex SHA1 of body
	body string
	fn   *lua.LFunction
	ro   bool // shebang flag no-writes
	oom  bool // shebang flag allow-oom
}

// scriptRun is the state of the running script (Server.mu held, except
// while it yields in BUSY mode, when only allow-busy commands touch it).
type scriptRun struct {
	caller    *client
	sha       string
	start     time.Time
	threshold time.Duration // busy-reply-threshold
	readOnly  bool          // EVAL_RO or no-writes shebang
	compat    bool          // no shebang: Redis's compatibility mode
	oom       bool          // the server was out of memory when it started
	wrote     bool          // a write command ran: SCRIPT KILL refuses
	killed    bool          // SCRIPT KILL (or server close) asked it to stop
	lastYield time.Time
}

// scriptState is one server's scripting engine, guarded by Server.mu.
type scriptState struct {
	s        *Server
	L        *lua.LState
	env      *lua.LTable                 // the real globals (scripts see a read-only proxy)
	proxyG   *lua.LTable                 // _G as scripts see it
	readonly map[*lua.LTable]*lua.LTable // read-only proxy → its contents
	handler  *lua.LFunction              // error handler of the top-level call
	cache    map[string]*luaScript       // by lower-case hex SHA1
	bodies   int64                       // bytes of cached script bodies
	fake     *client                     // the client nested commands run as
	run      *scriptRun                  // running script, nil when idle
	busy     bool                        // run is past the threshold: BUSY mode
	hook     *scriptHook
	rand     lrand48           // math.random's state, kept across scripts as in Redis 7.0
	chunkSrc map[string]string // loadstring chunk names → sources (for error positions)
	// noArgs is what KEYS and ARGV hold between runs (set by openLibs),
	// so that the last call's arguments can be collected; no script ever
	// sees it (every run sets fresh tables first), so one empty table
	// serves for the interpreter's life.
	noArgs *lua.LTable
}

// scripting returns the server's scripting state, creating it on first use
// (Server.mu held).
func (s *Server) scripting() *scriptState {
	if s.script == nil {
		s.script = newScriptState(s)
	}
	return s.script
}

// scriptingIfAny returns the scripting state if scripts were ever used
// (Server.mu held).
func (s *Server) scriptingIfAny() *scriptState { return s.script }

func newScriptState(s *Server) *scriptState {
	st := &scriptState{s: s, cache: make(map[string]*luaScript)}
	st.fake = &client{s: s, authed: true, resp: 2, inExec: true, name: "", addr: "", laddr: ""}
	st.fake.db = s.ks.dbs[0]
	st.hook = &scriptHook{st: st}
	st.rand.x = lrand48Init
	st.newLua()
	return st
}

// newLua (re)creates the interpreter: SCRIPT FLUSH starts from scratch.
func (st *scriptState) newLua() {
	if st.L != nil {
		st.L.Close()
	}
	// The data stack starts small (coroutines get one each) and grows up
	// to 1M slots; deeper Lua recursion fails with "stack overflow".
	L := lua.NewState(lua.Options{SkipOpenLibs: true, CallStackSize: 1024, RegistrySize: lua.RegistrySize,
		RegistryMaxSize: 1024 * 1024, MinimizeStackMemory: true})
	st.L = L
	st.readonly = make(map[*lua.LTable]*lua.LTable)
	st.openLibs()
	L.SetContext(st.hook)
}

// sha1hex is the lower-case hex SHA1 of b.
func sha1hex(b []byte) string {
	hx := sha1hexArray(b)
	return string(hx[:])
}

// sha1hexArray is sha1hex without the string (a map lookup with
// string(hx[:]) does not allocate).
func sha1hexArray(b []byte) (hx [2 * sha1.Size]byte) {
	h := sha1.Sum(b)
	hex.Encode(hx[:], h[:])
	return hx
}

// busyThreshold reads busy-reply-threshold (or its alias lua-time-limit).
func (s *Server) busyThreshold() time.Duration {
	v, ok := s.cfg.extra["busy-reply-threshold"]
	if !ok {
		return 5 * time.Second
	}
	n, err := strconv.ParseInt(v, 10, 64)
	if err != nil || n < 0 || n > math.MaxInt64/int64(time.Millisecond) {
		return 5 * time.Second
	}
	return time.Duration(n) * time.Millisecond // 0: BUSY at the first check, as in Redis
}

// scriptHook is the context.Context set on the interpreter. gopher-lua
// calls Done before every VM instruction; that is the instruction hook
// through which a running script checks its time, yields Server.mu in BUSY
// mode and is stopped by SCRIPT KILL.
type scriptHook struct {
	st *scriptState
	n  uint32
}

var closedChan = func() chan struct{} { c := make(chan struct{}); close(c); return c }()

func (h *scriptHook) Deadline() (time.Time, bool) { return time.Time{}, false }
func (h *scriptHook) Err() error                  { return errScriptKilled }
func (h *scriptHook) Value(any) any               { return nil }

func (h *scriptHook) Done() <-chan struct{} {
	r := h.st.run
	if r == nil {
		return nil
	}
	if r.killed {
		return closedChan // raise on every instruction: pcall cannot swallow it
	}
	h.n++
	if h.n&1023 != 0 {
		return nil
	}
	h.st.checkTime(r)
	if r.killed {
		return closedChan
	}
	return nil
}

// yieldEvery is how often a script in BUSY mode lets the other clients run.
const yieldEvery = 20 * time.Millisecond

// checkTime enters BUSY mode once the script has run past the threshold
// and then periodically yields Server.mu so that other clients are
// answered (by process(), which replies BUSY to all but the allow-busy
// commands). Called from the script's goroutine with Server.mu held.
func (st *scriptState) checkTime(r *scriptRun) {
	s := st.s
	select {
	case <-s.quit:
		r.killed = true // Close must not wait forever for a looping script
		return
	default:
	}
	now := time.Now()
	if now.Sub(r.start) < r.threshold {
		return
	}
	if !st.busy {
		st.busy = true
		s.log.Warn("Slow script detected: still in execution. You can try killing the script using the SCRIPT KILL command.",
			"after_ms", r.threshold.Milliseconds(), "script", r.sha)
	}
	if now.Sub(r.lastYield) < yieldEvery {
		return
	}
	// Let the clients waiting for the lock in. The keyspace clock is the
	// script's: restore it, whatever ran meanwhile.
	ksNow := s.ks.now
	s.mu.Unlock()
	runtime.Gosched()
	s.mu.Lock()
	s.ks.now = ksNow
	r.lastYield = time.Now()
}

// endRun leaves BUSY mode (Server.mu held).
func (st *scriptState) endRun() {
	if st.busy {
		st.busy = false
	}
	st.run = nil
}

// busyRejects is the BUSY gate of process(): while a script runs past the
// threshold only the allow-busy commands of Redis 7.0 get through (and
// SHUTDOWN only with NOSAVE). It reports whether the command was refused.
func (c *client) busyRejects(cmd *Command, argv [][]byte) bool {
	if !c.s.scriptPaused() {
		return false
	}
	switch cmd.Name {
	case "auth", "hello", "quit", "reset", "multi", "discard", "watch", "unwatch", "replconf":
		return false
	case "shutdown":
		for _, a := range argv[1:] {
			if eqFold(a, "nosave") {
				return false
			}
		}
	case "script", "function":
		if len(argv) >= 2 && (eqFold(argv[1], "kill") || (cmd.Name == "function" && eqFold(argv[1], "stats"))) {
			return false
		}
	}
	if cmd.Name == "exec" {
		// Redis aborts the transaction (execCommandAbort).
		c.discardTransaction()
		c.addError("EXECABORT Transaction discarded because of: " + errScriptBusy)
		return true
	}
	c.reject(errScriptBusy)
	return true
}

// lrand48 is Redis's deterministic PRNG for math.random (rand.c): the
// 48-bit linear congruential generator of the POSIX rand48 family.
type lrand48 struct{ x uint64 }

const (
	lrand48Mask = 1<<48 - 1
	lrand48Init = 0x1234abcd330e // rand48's state before any seeding
)

func (r *lrand48) seed(v int32) { r.x = (uint64(uint32(v))<<16 | 0x330e) & lrand48Mask }

func (r *lrand48) next() int32 {
	r.x = (0x5deece66d*r.x + 0xb) & lrand48Mask
	return int32(r.x >> 17)
}

var _ context.Context = (*scriptHook)(nil)

// scriptPaused reports whether a script is paused in BUSY mode, yielding
// Server.mu: whoever holds the lock then must leave the keyspace alone
// (Server.mu held).
func (s *Server) scriptPaused() bool {
	return s.script != nil && s.script.busy
}

// isScriptClient reports whether c is the client that scripts' nested
// commands run as (for hooks in call that must tell them apart).
func (c *client) isScriptClient() bool {
	st := c.s.scriptingIfAny()
	return st != nil && st.fake == c
}

// lockKeyspace takes Server.mu for code outside process() that changes
// the keyspace (the cron, blocked clients, the master link): while a
// script is paused in BUSY mode it lets the lock go and waits, so nothing
// but the script changes the data set until it ends, as in Redis, which
// runs neither its cron's expiry nor its master's stream then.
func (s *Server) lockKeyspace() {
	for {
		s.mu.Lock()
		if !s.scriptPaused() {
			return
		}
		s.mu.Unlock()
		select {
		case <-s.quit:
			s.mu.Lock() // Close kills the script: proceed, the caller sees quit
			return
		case <-time.After(time.Millisecond):
		}
	}
}
