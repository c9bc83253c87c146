package server

import (
	"math"
	"strconv"
	"strings"

	lua "github.com/yuin/gopher-lua"
)

// The Lua sandbox: the library subset Redis 7.0 exposes, read-only
// globals and library tables, and the redis.* API.

const (
	errReadonlyTable = "Attempt to modify a readonly table"
	luaSource        = "user_script"
	maxLuaString     = 512 << 20 // proto-max-bulk-len's default
)

// openLibs builds the globals of a fresh interpreter. Everything lives in
// st.env; scripts see st.proxyG, an empty table whose metatable reads
// through to st.env and refuses writes ("Attempt to modify a readonly
// table", as Redis 7.0), and reading a missing global raises "Script
// attempted to access nonexistent global variable". Library tables are
// likewise replaced by read-only proxies. The raw-access functions (rawset,
// rawget, next, pairs, ipairs, setmetatable, getmetatable, table.*) see
// through proxies for reads and refuse writes to them.
func (st *scriptState) openLibs() {
	L := st.L
	for _, lib := range []struct {
		name string
		fn   lua.LGFunction
	}{{lua.BaseLibName, lua.OpenBase}, {lua.TabLibName, lua.OpenTable}, {lua.StringLibName, lua.OpenString},
		{lua.MathLibName, lua.OpenMath}, {lua.CoroutineLibName, lua.OpenCoroutine}} {
		L.Push(L.NewFunction(lib.fn))
		L.Push(lua.LString(lib.name))
		L.Call(1, 0)
	}
	env := L.Get(lua.GlobalsIndex).(*lua.LTable)
	st.env = env
	// Not in Redis's sandbox.
	for _, name := range []string{"dofile", "loadfile", "print", "getfenv", "setfenv", "module", "require",
		"newproxy", "_printregs", "_GOPHER_LUA_VERSION", "package", "channel"} {
		env.RawSetString(name, lua.LNil)
	}
	st.overrideBase(env)
	st.openMathRandom(env.RawGetString("math").(*lua.LTable))
	env.RawGetString("math").(*lua.LTable).RawSetString("huge", lua.LNumber(math.Inf(1)))
	st.openRedis(env)
	env.RawSetString("bit", st.openBit())
	env.RawSetString("cjson", st.openCJSON())
	env.RawSetString("struct", st.openStruct())
	env.RawSetString("cmsgpack", st.openMsgpack())
	st.noArgs = L.NewTable()
	env.RawSetString("KEYS", st.noArgs)
	env.RawSetString("ARGV", st.noArgs)

	// Library tables become read-only proxies.
	for _, name := range []string{"string", "table", "math", "coroutine", "redis", "bit", "cjson", "struct", "cmsgpack"} {
		if t, ok := env.RawGetString(name).(*lua.LTable); ok {
			env.RawSetString(name, st.protect(t, nil))
		}
	}
	// Method calls on strings go through the string metatable: point its
	// __index at the protected string table; getmetatable("") returns a
	// read-only view (see getmetatable below).
	if mod, ok := L.GetMetatable(lua.LString("")).(*lua.LTable); ok {
		mod.RawSetString("__index", lua.LNil) // the module doubled as the metatable
	}
	strMt := L.NewTable()
	strMt.RawSetString("__index", env.RawGetString("string"))
	L.SetMetatable(lua.LString(""), strMt)
	// Missing globals raise; _G is the read-only proxy.
	missing := L.NewTable()
	missing.RawSetString("__index", L.NewFunction(func(L *lua.LState) int {
		L.RaiseError("Script attempted to access nonexistent global variable '%s'", L.ToStringMeta(L.Get(2)).String())
		return 0
	}))
	env.Metatable = missing
	st.proxyG = st.protect(env, nil)
	env.RawSetString("_G", st.proxyG)
	L.Env = st.proxyG

	// The error handler of the top-level call (a global in Redis too).
	st.handler = L.NewFunction(st.errorHandler)
	env.RawSetString("__redis__err__handler", st.handler)
}

// protect returns a read-only proxy of t. newindex, if not nil, handles
// writes instead of the default refusal.
func (st *scriptState) protect(t *lua.LTable, newindex lua.LValue) *lua.LTable {
	L := st.L
	proxy := L.NewTable()
	mt := L.NewTable()
	mt.RawSetString("__index", t)
	if newindex == nil {
		newindex = L.NewFunction(func(L *lua.LState) int {
			L.RaiseError(errReadonlyTable)
			return 0
		})
	}
	mt.RawSetString("__newindex", newindex)
	mt.RawSetString("__metatable", lua.LFalse)
	proxy.Metatable = mt
	st.readonly[proxy] = t
	return proxy
}

// unproxy maps a read-only proxy to its contents.
func (st *scriptState) unproxy(v lua.LValue) lua.LValue {
	if t, ok := v.(*lua.LTable); ok {
		if b := st.readonly[t]; b != nil {
			return b
		}
	}
	return v
}

// raiseReadonly raises Redis's read-only error without a position, as the
// C functions of Redis do.
func raiseReadonly(L *lua.LState) {
	L.Error(lua.LString(errReadonlyTable), 0)
}

// overrideBase wraps the base and table functions that bypass metatables.
func (st *scriptState) overrideBase(env *lua.LTable) {
	L := st.L
	gfn := func(t *lua.LTable, name string) lua.LGFunction {
		return t.RawGetString(name).(*lua.LFunction).GFunction
	}
	// Readers see the contents of a proxy.
	reader := func(orig lua.LGFunction) *lua.LFunction {
		return L.NewFunction(func(L *lua.LState) int {
			if L.GetTop() >= 1 {
				L.Replace(1, st.unproxy(L.Get(1)))
			}
			return orig(L)
		})
	}
	// Writers refuse proxies.
	writer := func(orig lua.LGFunction) *lua.LFunction {
		return L.NewFunction(func(L *lua.LState) int {
			if t, ok := L.Get(1).(*lua.LTable); ok && st.readonly[t] != nil {
				raiseReadonly(L)
			}
			return orig(L)
		})
	}
	next := reader(gfn(env, "next"))
	env.RawSetString("next", next)
	env.RawSetString("rawget", reader(gfn(env, "rawget")))
	env.RawSetString("unpack", reader(gfn(env, "unpack")))
	env.RawSetString("rawset", writer(gfn(env, "rawset")))
	env.RawSetString("setmetatable", writer(gfn(env, "setmetatable")))
	env.RawSetString("pairs", L.NewFunction(func(L *lua.LState) int {
		t := L.CheckTable(1)
		L.Push(next)
		L.Push(st.unproxy(t))
		L.Push(lua.LNil)
		return 3
	}))
	ipairsIter := L.NewFunction(func(L *lua.LState) int {
		t := L.CheckTable(1)
		i := L.CheckInt(2) + 1
		v := t.RawGetInt(i)
		if v == lua.LNil {
			return 0
		}
		L.Push(lua.LNumber(i))
		L.Push(v)
		return 2
	})
	env.RawSetString("ipairs", L.NewFunction(func(L *lua.LState) int {
		t := L.CheckTable(1)
		L.Push(ipairsIter)
		L.Push(st.unproxy(t))
		L.Push(lua.LNumber(0))
		return 3
	}))
	getmt := gfn(env, "getmetatable")
	gmtView := st.protect(L.NewTable(), nil)
	env.RawSetString("getmetatable", L.NewFunction(func(L *lua.LState) int {
		v := L.CheckAny(1)
		if t, ok := v.(*lua.LTable); ok && st.readonly[t] != nil {
			if t == st.proxyG {
				// Redis's _G has a metatable (its globals guard). Ours
				// leads to the real globals: show an empty read-only one.
				L.Push(gmtView)
				return 1
			}
			L.Push(lua.LNil)
			return 1
		}
		if _, ok := v.(lua.LString); ok {
			if mt, ok := L.GetMetatable(v).(*lua.LTable); ok {
				L.Push(st.protect(mt, nil))
				return 1
			}
		}
		return getmt(L)
	}))
	// Redis's pcall hands back the text of an error table {err=...}.
	pcall := gfn(env, "pcall")
	env.RawSetString("pcall", L.NewFunction(func(L *lua.LState) int {
		n := pcall(L)
		if n == 2 && L.Get(-2) == lua.LFalse {
			if t, ok := L.Get(-1).(*lua.LTable); ok {
				if e, ok := t.RawGetString("err").(lua.LString); ok {
					L.Replace(-1, e)
				}
			}
		}
		return n
	}))
	// error adds a position only when the function at that level is Lua
	// code, as in Lua 5.1 (gopher-lua skips Go functions).
	env.RawSetString("error", L.NewFunction(func(L *lua.LState) int {
		v := L.Get(1)
		level := L.OptInt(2, 1)
		switch x := v.(type) {
		case lua.LString, lua.LNumber:
			msg := x.String()
			if n, ok := x.(lua.LNumber); ok {
				msg = formatLuaNumber(float64(n))
			}
			if level > 0 {
				if dbg, ok := L.GetStack(level); ok {
					if _, err := L.GetInfo("Sl", dbg, lua.LNil); err == nil && dbg.What != "G" && dbg.CurrentLine > 0 {
						msg = dbg.Source + ":" + strconv.Itoa(dbg.CurrentLine) + ": " + msg
					}
				}
			}
			v = lua.LString(msg)
		}
		L.Error(v, 0)
		return 0
	}))
	// loadstring names its chunk after the source, like Lua 5.1.
	loadstr := gfn(env, "loadstring")
	env.RawSetString("loadstring", L.NewFunction(func(L *lua.LState) int {
		src := L.CheckString(1)
		name := L.OptString(2, src)
		if line := luaNestingLine(src); line > 0 {
			L.Push(lua.LNil)
			L.Push(lua.LString(luaChunkID(name) + ":" + strconv.Itoa(line) + ": chunk has too many syntax levels"))
			return 2
		}
		id := luaChunkID(name)
		if st.chunkSrc == nil {
			st.chunkSrc = make(map[string]string)
		}
		if len(st.chunkSrc) < 1024 {
			st.chunkSrc[id] = name
		}
		L.SetTop(1)
		L.Push(lua.LString(id))
		return loadstr(L)
	}))
	// load(reader) collects the pieces and compiles like loadstring.
	loadstrFn := env.RawGetString("loadstring")
	env.RawSetString("load", L.NewFunction(func(L *lua.LState) int {
		fn := L.CheckFunction(1)
		name := L.OptString(2, "=(load)")
		var sb strings.Builder
		for {
			L.Push(fn)
			L.Call(0, 1)
			piece := L.Get(-1)
			L.Pop(1)
			if piece == lua.LNil {
				break
			}
			s, ok := piece.(lua.LString)
			if !ok {
				L.Push(lua.LNil)
				L.Push(lua.LString("reader function must return a string"))
				return 2
			}
			if s == "" {
				break
			}
			if sb.Len()+len(s) > maxLuaString {
				L.RaiseError("resulting string too large")
			}
			sb.WriteString(string(s))
		}
		L.Push(loadstrFn)
		L.Push(lua.LString(sb.String()))
		L.Push(lua.LString(name))
		L.Call(2, 2)
		return 2
	}))
	// tostring formats numbers like Lua 5.1 (%.14g).
	tostr := gfn(env, "tostring")
	env.RawSetString("tostring", L.NewFunction(func(L *lua.LState) int {
		if n, ok := L.CheckAny(1).(lua.LNumber); ok {
			L.Push(lua.LString(formatLuaNumber(float64(n))))
			return 1
		}
		return tostr(L)
	}))
	env.RawSetString("gcinfo", L.NewFunction(func(L *lua.LState) int {
		L.Push(lua.LNumber(st.memory() / 1024))
		return 1
	}))
	// loadstring/load compile source only (gopher-lua has no bytecode
	// loader), with the read-only globals as environment.

	tbl := env.RawGetString("table").(*lua.LTable)
	tbl.RawSetString("insert", writer(gfn(tbl, "insert")))
	// remove and sort write nothing to a table too short to change.
	for name, min := range map[string]int{"remove": 1, "sort": 2} {
		orig, min := gfn(tbl, name), min
		tbl.RawSetString(name, L.NewFunction(func(L *lua.LState) int {
			if t, ok := L.Get(1).(*lua.LTable); ok {
				if b := st.readonly[t]; b != nil {
					if b.Len() < min {
						return 0
					}
					raiseReadonly(L)
				}
			}
			return orig(L)
		}))
	}
	// Lua 5.1's deprecated table functions, which Redis still has.
	tbl.RawSetString("foreach", L.NewFunction(func(L *lua.LState) int {
		t := st.unproxy(L.CheckTable(1)).(*lua.LTable)
		fn := L.CheckFunction(2)
		for k, v := t.Next(lua.LNil); k != lua.LNil; k, v = t.Next(k) {
			L.Push(fn)
			L.Push(k)
			L.Push(v)
			L.Call(2, 1)
			if r := L.Get(-1); r != lua.LNil {
				return 1
			}
			L.Pop(1)
		}
		return 0
	}))
	tbl.RawSetString("foreachi", L.NewFunction(func(L *lua.LState) int {
		t := st.unproxy(L.CheckTable(1)).(*lua.LTable)
		fn := L.CheckFunction(2)
		n := t.Len()
		for i := 1; i <= n; i++ {
			L.Push(fn)
			L.Push(lua.LNumber(i))
			L.Push(t.RawGetInt(i))
			L.Call(2, 1)
			if r := L.Get(-1); r != lua.LNil {
				return 1
			}
			L.Pop(1)
		}
		return 0
	}))
	tbl.RawSetString("setn", L.NewFunction(func(L *lua.LState) int {
		L.RaiseError("'setn' is obsolete")
		return 0
	}))
	for _, name := range []string{"concat", "getn", "maxn"} {
		tbl.RawSetString(name, reader(gfn(tbl, name)))
	}
	// A script must not be able to make the process run out of memory in
	// one call: gopher-lua allocates on the Go heap, where failure is fatal.
	str := env.RawGetString("string").(*lua.LTable)
	rep := gfn(str, "rep")
	str.RawSetString("rep", L.NewFunction(func(L *lua.LState) int {
		s, n := L.CheckString(1), L.CheckInt(2)
		if n > 0 && int64(len(s))*int64(n) > maxLuaString {
			L.RaiseError("resulting string too large")
		}
		return rep(L)
	}))
	co := env.RawGetString("coroutine").(*lua.LTable)
	create, wrap := gfn(co, "create"), gfn(co, "wrap")
	// Coroutines run their own VM loop: give them the time hook too, or a
	// loop inside one could never be killed.
	co.RawSetString("create", L.NewFunction(func(L *lua.LState) int {
		n := create(L)
		if th, ok := L.Get(-1).(*lua.LState); ok {
			th.SetContext(st.hook)
		}
		return n
	}))
	co.RawSetString("wrap", L.NewFunction(func(L *lua.LState) int {
		n := wrap(L)
		if fn, ok := L.Get(-1).(*lua.LFunction); ok && len(fn.Upvalues) > 0 {
			if th, ok := fn.Upvalues[0].Value().(*lua.LState); ok {
				th.SetContext(st.hook)
			}
		}
		return n
	}))
}

// formatLuaNumber is Lua 5.1's number format, "%.14g".
func formatLuaNumber(f float64) string {
	switch {
	case math.IsInf(f, 1):
		return "inf"
	case math.IsInf(f, -1):
		return "-inf"
	case math.IsNaN(f):
		if math.Signbit(f) {
			return "-nan"
		}
		return "nan"
	}
	if f == math.Trunc(f) && math.Abs(f) < 1e14 {
		return strconv.FormatInt(int64(f), 10)
	}
	s := strconv.FormatFloat(f, 'g', 14, 64)
	// C's %g drops trailing zeros of the mantissa; Go keeps them with an
	// explicit precision.
	mant, exp, hasExp := strings.Cut(s, "e")
	if strings.Contains(mant, ".") {
		mant = strings.TrimRight(strings.TrimRight(mant, "0"), ".")
	}
	if hasExp {
		return mant + "e" + exp
	}
	return mant
}

// openMathRandom replaces math.random and math.randomseed with Redis's
// deterministic versions (reseeded with 0 before every script).
func (st *scriptState) openMathRandom(m *lua.LTable) {
	L := st.L
	m.RawSetString("random", L.NewFunction(func(L *lua.LState) int {
		const max = math.MaxInt32
		r := float64(st.rand.next()%max) / float64(max)
		switch L.GetTop() {
		case 0:
			L.Push(lua.LNumber(r))
		case 1:
			u := L.CheckInt(1)
			if u < 1 {
				L.RaiseError("bad argument #1 to 'random' (interval is empty)")
			}
			L.Push(lua.LNumber(math.Floor(r*float64(u)) + 1))
		case 2:
			l, u := L.CheckInt(1), L.CheckInt(2)
			if l > u {
				L.RaiseError("bad argument #2 to 'random' (interval is empty)")
			}
			L.Push(lua.LNumber(math.Floor(r*float64(u-l+1)) + float64(l)))
		default:
			L.RaiseError("wrong number of arguments")
		}
		return 1
	}))
	m.RawSetString("randomseed", L.NewFunction(func(L *lua.LState) int {
		st.rand.seed(int32(L.CheckInt(1)))
		return 0
	}))
}

// errorTable builds Redis's error table {err="CODE msg"} from a reply
// text: "-CODE msg" keeps its code, a bare message gets "ERR".
func errorTable(L *lua.LState, msg string) *lua.LTable {
	var full string
	if strings.HasPrefix(msg, "-") {
		code, rest, ok := strings.Cut(msg[1:], " ")
		if !ok {
			full = "ERR " + strings.TrimRight(code, "\r\n")
		} else {
			full = code + " " + strings.TrimRight(rest, "\r\n")
		}
	} else {
		full = "ERR " + strings.TrimRight(msg, "\r\n")
	}
	t := L.CreateTable(0, 1)
	t.RawSetString("err", lua.LString(full))
	return t
}

// Redis's log levels and replication flags.
const (
	luaLogDebug = iota
	luaLogVerbose
	luaLogNotice
	luaLogWarning
)

func (st *scriptState) openRedis(env *lua.LTable) {
	L := st.L
	r := L.NewTable()
	fns := map[string]lua.LGFunction{
		"call":  func(L *lua.LState) int { return st.redisCall(L, true) },
		"pcall": func(L *lua.LState) int { return st.redisCall(L, false) },
		"error_reply": func(L *lua.LState) int {
			if L.GetTop() != 1 || L.Get(1).Type() != lua.LTString {
				L.Push(errorTable(L, "wrong number or type of arguments"))
				return 1
			}
			msg := L.ToString(1)
			if !strings.HasPrefix(msg, "-") {
				msg = "-" + msg
			}
			L.Push(errorTable(L, msg))
			return 1
		},
		"status_reply": func(L *lua.LState) int {
			if L.GetTop() != 1 || L.Get(1).Type() != lua.LTString {
				L.Push(errorTable(L, "wrong number or type of arguments"))
				return 1
			}
			t := L.CreateTable(0, 1)
			t.RawSetString("ok", L.Get(1))
			L.Push(t)
			return 1
		},
		"sha1hex": func(L *lua.LState) int {
			if L.GetTop() != 1 {
				L.Error(errorTable(L, "wrong number of arguments"), 0)
			}
			L.Push(lua.LString(sha1hex([]byte(luaArgString(L, 1)))))
			return 1
		},
		"log": func(L *lua.LState) int {
			if L.GetTop() < 2 {
				L.Error(errorTable(L, "redis.log() requires two arguments or more."), 0)
			}
			lvl, ok := L.Get(1).(lua.LNumber)
			if !ok {
				L.Error(errorTable(L, "First argument must be a number (log level)."), 0)
			}
			if lvl < luaLogDebug || lvl > luaLogWarning {
				L.Error(errorTable(L, "Invalid debug level."), 0)
			}
			var parts []string
			for i := 2; i <= L.GetTop(); i++ {
				switch v := L.Get(i).(type) {
				case lua.LString:
					parts = append(parts, string(v))
				case lua.LNumber:
					parts = append(parts, formatLuaNumber(float64(v)))
				}
			}
			msg := strings.Join(parts, " ")
			switch int(lvl) {
			case luaLogDebug, luaLogVerbose:
				st.s.log.Debug(msg, "source", "script")
			case luaLogNotice:
				st.s.log.Info(msg, "source", "script")
			default:
				st.s.log.Warn(msg, "source", "script")
			}
			return 0
		},
		"setresp": func(L *lua.LState) int {
			if L.GetTop() != 1 {
				L.Error(errorTable(L, "redis.setresp() requires one argument."), 0)
			}
			v := L.CheckInt(1)
			if v != 2 && v != 3 {
				L.Error(errorTable(L, "RESP version must be 2 or 3."), 0)
			}
			if v == 3 {
				L.Error(errorTable(L, "RESP3 is not supported by codis-server scripts."), 0)
			}
			return 0
		},
		"set_repl": func(L *lua.LState) int {
			if L.GetTop() != 1 {
				L.Error(errorTable(L, "redis.set_repl() requires two arguments."), 0)
			}
			v := L.CheckInt(1)
			if v < 0 || v > 3 {
				L.Error(errorTable(L, "Invalid replication flags. Use REPL_AOF, REPL_REPLICA, REPL_ALL or REPL_NONE."), 0)
			}
			return 0 // scripts always replicate by effects, as a whole
		},
		"replicate_commands": func(L *lua.LState) int {
			L.Push(lua.LTrue)
			return 1
		},
		"breakpoint": func(L *lua.LState) int {
			L.Push(lua.LFalse) // no debugging session
			return 1
		},
		"debug": func(L *lua.LState) int { return 0 },
		"acl_check_cmd": func(L *lua.LState) int {
			if L.GetTop() < 1 {
				L.Error(errorTable(L, "Please specify at least one argument for this redis lib call"), 0)
			}
			if lookupCommand([]byte(luaArgString(L, 1))) == nil {
				L.Error(errorTable(L, "Invalid command passed to redis.acl_check_cmd()"), 0)
			}
			L.Push(lua.LTrue) // only the default user, allowed everything
			return 1
		},
	}
	for name, fn := range fns {
		r.RawSetString(name, L.NewFunction(fn))
	}
	for name, v := range map[string]int{"LOG_DEBUG": luaLogDebug, "LOG_VERBOSE": luaLogVerbose,
		"LOG_NOTICE": luaLogNotice, "LOG_WARNING": luaLogWarning, "REPL_NONE": 0, "REPL_AOF": 1,
		"REPL_SLAVE": 2, "REPL_REPLICA": 2, "REPL_ALL": 3} {
		r.RawSetString(name, lua.LNumber(v))
	}
	r.RawSetString("REDIS_VERSION", lua.LString(Version))
	r.RawSetString("REDIS_VERSION_NUM", lua.LNumber(versionNum(Version)))
	env.RawSetString("redis", r)
}

// versionNum is Redis's REDIS_VERSION_NUM: 0x00MMmmpp.
func versionNum(v string) int {
	n := 0
	for i, p := range strings.SplitN(v, ".", 3) {
		x, _ := strconv.Atoi(p)
		n |= (x & 0xff) << (16 - 8*i)
	}
	return n
}

// luaArgString is a string or number argument as Lua converts it.
func luaArgString(L *lua.LState, i int) string {
	switch v := L.Get(i).(type) {
	case lua.LString:
		return string(v)
	case lua.LNumber:
		return formatLuaNumber(float64(v))
	}
	L.ArgError(i, "string expected, got "+L.Get(i).Type().String())
	return ""
}

// redisCall is redis.call (raise) and redis.pcall: a nested command run
// through the command table as the script client.
func (st *scriptState) redisCall(L *lua.LState, raise bool) int {
	fail := func(msg string) int {
		t := errorTable(L, msg)
		if raise {
			L.Error(t, 0)
		}
		L.Push(t)
		return 1
	}
	r := st.run
	if r == nil {
		return fail("redis.call() can only be used from a running script")
	}
	if r.killed {
		L.Error(errorTable(L, "-"+errScriptKilled.Error()), 0)
	}
	n := L.GetTop()
	if n == 0 {
		return fail("Please specify at least one argument for this redis lib call")
	}
	argv := make([][]byte, n)
	for i := 1; i <= n; i++ {
		switch v := L.Get(i).(type) {
		case lua.LString:
			argv[i-1] = []byte(string(v))
		case lua.LNumber:
			f := float64(v)
			if f == math.Trunc(f) && math.Abs(f) < 1<<63 {
				argv[i-1] = strconv.AppendInt(nil, int64(f), 10)
			} else {
				argv[i-1] = strconv.AppendFloat(nil, f, 'g', 17, 64)
			}
		default:
			return fail("Lua redis lib command arguments must be strings or integers")
		}
	}
	cmd := lookupCommand(argv[0])
	if cmd == nil {
		return fail("Unknown Redis command called from script")
	}
	if (cmd.Arity > 0 && n != cmd.Arity) || n < -cmd.Arity {
		return fail("Wrong number of args calling Redis command from script")
	}
	if cmd.Subs != nil && n >= 2 {
		ar, ok := cmd.Subs[strings.ToLower(string(argv[1]))]
		if !ok {
			return fail("Unknown Redis command called from script")
		}
		if (ar > 0 && n != ar) || n < -ar {
			return fail("Wrong number of args calling Redis command from script")
		}
	}
	if cmd.Flags&FlagNoScript != 0 || (cmd.Name == "script" && !eqFold(argv[1], "help")) {
		return fail("This Redis command is not allowed from script")
	}
	s := st.s
	if cmd.Flags&FlagWrite != 0 || mayReplicate(cmd) {
		if r.readOnly {
			return fail("Write commands are not allowed from read-only scripts.")
		}
		if s.cfg.ReplicaOfHost != "" && s.cfg.ReplicaReadOnly && !r.caller.isMaster() {
			return fail("-" + errReadOnly)
		}
	}
	if r.oom && cmd.Flags&FlagDenyOOM != 0 {
		return fail("-" + errOOM)
	}
	if cmd.Flags&FlagWrite != 0 {
		r.wrote = true
	}
	fc := st.fake
	fc.out = fc.out[:0]
	fc.call(cmd, argv)
	v, _, isErr := parseReplyLua(L, fc.out, 0)
	if isErr && raise {
		L.Error(v, 0)
	}
	L.Push(v)
	return 1
}

// errorHandler completes the error of a failed script with where it
// happened, like Redis's __redis__err__handler: {err=..., line=N}.
func (st *scriptState) errorHandler(L *lua.LState) int {
	ev := L.Get(1)
	line, source := -1, ""
	for level := 1; ; level++ {
		dbg, ok := L.GetStack(level)
		if !ok {
			break
		}
		if _, err := L.GetInfo("Sl", dbg, lua.LNil); err != nil {
			break
		}
		if dbg.What != "G" && dbg.CurrentLine > 0 {
			line = dbg.CurrentLine
			source = "@" + dbg.Source
			if src, ok := st.chunkSrc[dbg.Source]; ok {
				source = src // a loadstring chunk: Redis shows its source
			}
			break
		}
	}
	t, ok := ev.(*lua.LTable)
	if !ok || t.RawGetString("err").Type() != lua.LTString {
		msg := "ERR " + L.ToStringMeta(ev).String()
		if s, ok := ev.(lua.LString); ok {
			msg = "ERR " + string(s)
		}
		t = L.CreateTable(0, 2)
		t.RawSetString("err", lua.LString(msg))
	}
	if line > 0 {
		t.RawSetString("line", lua.LNumber(line))
		t.RawSetString("source", lua.LString(source))
	}
	L.Push(t)
	return 1
}

// memory estimates the interpreter's memory for INFO (used_memory_lua):
// gopher-lua allocates on the Go heap, so this counts the cached scripts'
// source and compiled code plus a fixed base for the libraries.
func (st *scriptState) memory() int64 {
	const base = 32 << 10
	return base + 4*st.bodies
}

// mayReplicate reports the read commands Redis 7.0 flags may-replicate
// (refused in read-only scripts).
func mayReplicate(cmd *Command) bool {
	switch cmd.Name {
	case "publish", "spublish", "pfcount":
		return true
	}
	return false
}

// luaChunkID is Lua 5.1's luaO_chunkid: how a chunk named after its
// source appears in error positions.
func luaChunkID(source string) string {
	const idSize = 80 // Redis builds Lua with LUA_IDSIZE 80
	switch {
	case strings.HasPrefix(source, "="):
		if len(source)-1 > idSize-1 {
			return source[1:idSize]
		}
		return source[1:]
	case strings.HasPrefix(source, "@"):
		src := source[1:]
		if room := idSize - len(" '...' "); len(src) > room {
			return "..." + src[len(src)-room+3:]
		}
		return src
	}
	n := strings.IndexAny(source, "\n\r")
	if n < 0 {
		n = len(source)
	}
	room := idSize - len(" [string \"...\"] ") - 1
	if n > room {
		n = room
	}
	if n < len(source) {
		return "[string \"" + source[:n] + "...\"]"
	}
	return "[string \"" + source + "\"]"
}
