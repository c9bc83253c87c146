package server

import (
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"
)

// waitBusy polls with PING until the server answers BUSY.
func waitBusy(t *testing.T, c *testConn) {
	t.Helper()
	checkFor(t, 10*time.Second, func() error {
		if r := c.do("PING").String(); !strings.Contains(r, "BUSY Redis is busy running a script") {
			return fmt.Errorf("PING replied %s", r)
		}
		return nil
	})
}

func TestScriptKillBusyLoop(t *testing.T) {
	s := startServer(t, "busy-reply-threshold", "100")
	addr := s.Addr().String()
	for _, script := range []string{
		"while true do end",
		"local i = 0 while true do i = i + 1 end",
		// a loop inside a coroutine runs its own VM loop
		"local co = coroutine.wrap(function() while true do end end) co()",
		// pcall must not swallow the kill
		"while true do pcall(function() while true do end end) end",
		// reads are allowed before the kill
		"redis.call('get', 'x') while true do end",
	} {
		t.Run(script, func(t *testing.T) {
			a, b := dial(t, addr), dial(t, addr)
			b.expect("+OK", "SET", "x", "before")
			start := time.Now()
			a.send("EVAL", script, "0")
			waitBusy(t, b)
			if time.Since(start) < 100*time.Millisecond {
				t.Errorf("BUSY after %v, before busy-reply-threshold", time.Since(start))
			}
			busy := "ERR:\"" + errScriptBusy + "\""
			b.expect(busy, "GET", "x")
			b.expect(busy, "SET", "x", "during")
			b.expect(busy, "SCRIPT", "FLUSH")
			b.expect(busy, "SHUTDOWN")
			b.expect("+OK", "MULTI") // allow-busy, as in Redis
			b.expect(busy, "SET", "x", "queued")
			b.expect("ERR:\"EXECABORT Transaction discarded because of: "+errScriptBusy+"\"", "EXEC")
			b.expect("+OK", "SCRIPT", "KILL")
			want := fmt.Sprintf("ERR:\"ERR Script killed by user with SCRIPT KILL... script: %s, on @user_script:1.\"",
				sha1hex([]byte(script)))
			if got := a.read().String(); got != want {
				t.Errorf("killed script replied %s, want %s", got, want)
			}
			// Everything works again, and nothing ran during the script.
			b.expect("+PONG", "PING")
			a.expect("+PONG", "PING")
			a.expect(`"before"`, "GET", "x")
			b.expect("ERR:\"NOTBUSY No scripts in execution right now.\"", "SCRIPT", "KILL")
			a.expect("2", "EVAL", "return 1 + 1", "0")
		})
	}
}

func TestScriptUnkillable(t *testing.T) {
	s := startServer(t, "busy-reply-threshold", "50")
	addr := s.Addr().String()
	a, b := dial(t, addr), dial(t, addr)
	a.send("EVAL", "redis.call('set', KEYS[1], 'written') while true do end", "1", "w")
	waitBusy(t, b)
	b.expect("ERR:\"UNKILLABLE Sorry the script already executed write commands against the dataset. You can either wait the script termination or kill the server in a hard way using the SHUTDOWN NOSAVE command.\"",
		"SCRIPT", "KILL")
	b.expect("ERR:\""+errScriptBusy+"\"", "GET", "w")
	b.send("SHUTDOWN", "NOSAVE")
	select {
	case <-s.Done():
	case <-time.After(10 * time.Second):
		t.Fatal("SHUTDOWN NOSAVE was not accepted while busy")
	}
	// Close must stop the script rather than wait for it forever.
	closed := make(chan error, 1)
	go func() { closed <- s.Close() }()
	select {
	case err := <-closed:
		if err != nil {
			t.Fatal(err)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("Close hangs on a looping script")
	}
}

// A script under the threshold keeps the server to itself: other clients
// wait and see its effects only as a whole.
func TestScriptAtomic(t *testing.T) {
	s := startServer(t)
	addr := s.Addr().String()
	a, b := dial(t, addr), dial(t, addr)
	a.send("EVAL", "redis.call('set', 'k', 'first') local t = redis.call('time') local stop = t[1]*1000000 + t[2] + 200000 "+
		"while true do local n = redis.call('time') if n[1]*1000000 + n[2] > stop then break end end "+
		"redis.call('set', 'k', 'second') return 'done'", "0")
	time.Sleep(20 * time.Millisecond)
	start := time.Now()
	b.expect(`"second"`, "GET", "k")
	if d := time.Since(start); d < 100*time.Millisecond {
		t.Errorf("GET was answered after %v, during the script", d)
	}
	a.expectReply(`"done"`)
}

func (c *testConn) expectReply(want string) {
	c.t.Helper()
	if got := c.read().String(); got != want {
		c.t.Errorf("got %s, want %s", got, want)
	}
}

func TestScriptSandbox(t *testing.T) {
	s := startServer(t)
	c := dial(t, s.Addr().String())
	for _, tc := range []struct{ script, want string }{
		{"return os", "nonexistent global variable 'os'"},
		{"return io", "nonexistent global variable 'io'"},
		{"return require", "nonexistent global variable 'require'"},
		{"return package", "nonexistent global variable 'package'"},
		{"return dofile", "nonexistent global variable 'dofile'"},
		{"return loadfile", "nonexistent global variable 'loadfile'"},
		{"return debug", "nonexistent global variable 'debug'"},
		{"return getfenv", "nonexistent global variable 'getfenv'"},
		{"return channel", "nonexistent global variable 'channel'"},
		{"x = 1", "Attempt to modify a readonly table"},
		{"_G.x = 1", "Attempt to modify a readonly table"},
		{"rawset(_G, 'x', 1)", "Attempt to modify a readonly table"},
		{"setmetatable(_G, nil)", "Attempt to modify a readonly table"},
		{"setmetatable(string, {})", "Attempt to modify a readonly table"},
		{"string.upper = nil", "Attempt to modify a readonly table"},
		{"redis.call = function() end", "Attempt to modify a readonly table"},
		{"getmetatable('').__index = {}", "Attempt to modify a readonly table"},
		{"getmetatable('').__index.upper = nil", "Attempt to modify a readonly table"},
		{"getmetatable(_G).__index = nil", "Attempt to modify a readonly table"},
		{"local mt = getmetatable(_G) return rawget(mt, '__index')", ""},
		{"rawset(getmetatable(''), '__index', nil)", "Attempt to modify a readonly table"},
		{"table.insert(redis, 1)", "Attempt to modify a readonly table"},
		{"loadstring('y = 1')()", "Attempt to modify a readonly table"},
		{"return loadstring(string.char(27) .. 'LuaQ')", ""},
		{"return load(function() return nil end)", ""},
		{"return string.rep('x', 1024*1024*1024)", "resulting string too large"},
		{"local t = {} t[1] = t return t", "reached lua stack limit"},
	} {
		r := c.do("EVAL", tc.script, "0")
		got := r.String()
		if tc.want == "" {
			if r.IsError() {
				t.Errorf("%s: %s", tc.script, got)
			}
			continue
		}
		if !strings.Contains(got, tc.want) {
			t.Errorf("%s: got %s, want an error with %q", tc.script, got, tc.want)
		}
	}
	// Nothing above changed the environment of later scripts.
	c.expect(`"ABC"`, "EVAL", "return ('abc'):upper()", "0")
	c.expect(`"ABC"`, "EVAL", "return string.upper('abc')", "0")
	c.expect(`"OK"`, "EVAL", "return redis.call('set', 'a', 'b').ok", "0")
	c.expect(`ERR:"ERR user_script:1: Script attempted to access nonexistent global variable 'x' script: `+
		sha1hex([]byte("return x"))+`, on @user_script:1."`, "EVAL", "return x", "0")
	c.expect(`ERR:"ERR user_script:1: Script attempted to access nonexistent global variable 'y' script: `+
		sha1hex([]byte("return y"))+`, on @user_script:1."`, "EVAL", "return y", "0")
	c.expect("0", "EVAL", "local n = 0 for k in pairs(getmetatable(_G)) do n = n + 1 end return n", "0")
}

func TestScriptCompileErrors(t *testing.T) {
	s := startServer(t)
	c := dial(t, s.Addr().String())
	for _, tc := range []struct{ script, prefix string }{
		{"retur 1", "ERR Error compiling script (new function): user_script:1: "},
		{"return 1\nlocal = 2", "ERR Error compiling script (new function): user_script:2: "},
		{"return 'abc", "ERR Error compiling script (new function): user_script:1: "},
		{"return (", "ERR Error compiling script (new function): user_script"},
	} {
		r := c.do("EVAL", tc.script, "0")
		if !r.IsError() || !strings.HasPrefix(r.Str, tc.prefix) {
			t.Errorf("%q: got %s, want an error starting %q", tc.script, r.String(), tc.prefix)
		}
		r = c.do("SCRIPT", "LOAD", tc.script)
		if !r.IsError() || !strings.HasPrefix(r.Str, tc.prefix) {
			t.Errorf("SCRIPT LOAD %q: got %s", tc.script, r.String())
		}
	}
	c.expect("[0]", "SCRIPT", "EXISTS", sha1hex([]byte("retur 1")))

	// Deep nesting is refused before gopher-lua's parser recurses on the
	// Go stack (whose overflow would kill the process).
	deep := "return " + strings.Repeat("(", 1000000) + "1" + strings.Repeat(")", 1000000)
	r := c.do("EVAL", deep, "0")
	if !r.IsError() || !strings.Contains(r.Str, "user_script:1: chunk has too many syntax levels") {
		t.Errorf("deep nesting: got %.200s", r.String())
	}
	deepIf := strings.Repeat("if true then\n", 100000) + strings.Repeat("end\n", 100000)
	if r := c.do("EVAL", deepIf, "0"); !r.IsError() || !strings.Contains(r.Str, "too many syntax levels") {
		t.Errorf("deep blocks: got %.200s", r.String())
	}
	c.expect("\"[string \\\"return ((((((((((((((((((((((((((((((((((((((((((((((((((((((((...\\\"]:1: chunk has too many syntax levels\"",
		"EVAL", "local f, e = loadstring('return ' .. string.rep('(', 300) .. '1' .. string.rep(')', 300)) return e", "0")
	// Brackets in strings and comments do not count; moderate nesting works.
	c.expect(`"(((["`, "EVAL", "-- "+strings.Repeat("(", 500)+"\n--[=[ "+strings.Repeat("{", 500)+" ]=]\nlocal s = [["+
		strings.Repeat("[", 500)+"]] return '(((' .. \"[\"", "0")
	c.expect("5", "EVAL", "return "+strings.Repeat("(", 150)+"5"+strings.Repeat(")", 150), "0")
	c.expect("3", "EVAL", "local function f(n) if n > 0 then do return 1 + f(n - 1) end else return 0 end end return f(3)", "0")
	c.expect("7", "EVAL", "local parts, i = {'return ', '7'}, 0 return load(function() i = i + 1 return parts[i] end)()", "0")
}

// Runtime errors raised by Lua itself: gopher-lua words them its own way,
// but the frame and the reply format are Redis's.
func TestScriptRuntimeErrors(t *testing.T) {
	s := startServer(t)
	c := dial(t, s.Addr().String())
	script := "local x = nil\nreturn x + 1"
	r := c.do("EVAL", script, "0")
	want := fmt.Sprintf(" script: %s, on @user_script:2.", sha1hex([]byte(script)))
	if !r.IsError() || !strings.HasPrefix(r.Str, "ERR user_script:2: ") || !strings.HasSuffix(r.Str, want) {
		t.Errorf("got %s", r.String())
	}
	// Deep recursion fails cleanly and the server goes on.
	r = c.do("EVAL", "local function f(n) return f(n + 1) + 1 end return f(1)", "0")
	if !r.IsError() {
		t.Errorf("infinite recursion: got %s", r.String())
	}
	c.expect("1", "EVAL", "return 1", "0")
}

func TestScriptInfoAndStats(t *testing.T) {
	s := startServer(t)
	c := dial(t, s.Addr().String())
	c.expect(`"`+sha1hex([]byte("return 1"))+`"`, "SCRIPT", "LOAD", "return 1")
	c.expect("1", "EVAL", "return 1", "0")
	c.expect("2", "EVAL", "return 2", "0")
	info := c.do("INFO", "memory").Str
	if !strings.Contains(info, "number_of_cached_scripts:2\r\n") || !strings.Contains(info, "used_memory_lua:") {
		t.Errorf("INFO memory: %s", info)
	}
	c.expect("+OK", "SCRIPT", "FLUSH")
	if info := c.do("INFO", "memory").Str; !strings.Contains(info, "number_of_cached_scripts:0\r\n") {
		t.Errorf("INFO memory after flush: %s", info)
	}
}

func TestShebangParse(t *testing.T) {
	for _, tc := range []struct {
		body    string
		ro, oom bool
		err     error
	}{
		{"return 1", false, false, nil},
		{"#!lua\nreturn 1", false, false, nil},
		{"#!lua flags=no-writes,allow-oom\nreturn 1", true, true, nil},
		{"#!lua flags=\nreturn 1", false, false, errors.New("Unexpected flag in script shebang: ")},
		{"#!lua", false, false, errors.New("Invalid script shebang")},
	} {
		_, ro, oom, err := parseShebang(tc.body)
		if ro != tc.ro || oom != tc.oom || fmt.Sprint(err) != fmt.Sprint(tc.err) {
			t.Errorf("%q: got %v %v %v", tc.body, ro, oom, err)
		}
	}
}
