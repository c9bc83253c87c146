package server

import (
	"bytes"
	"math"
	"strconv"
	"strings"

	"github.com/codisgo/codis/pkg/resp"
	lua "github.com/yuin/gopher-lua"
)

// Conversions between RESP2 replies and Lua values, by Redis 7.0's rules.

// parseReplyLua converts the RESP2 reply at b[i:] (written by a command
// into the script client's buffer) to a Lua value: integer → number, bulk
// → string, nil bulk or array → false, array → table, status → {ok=...},
// error → {err=...}. It returns the value, the offset after the reply and
// whether the reply is an error.
func parseReplyLua(L *lua.LState, b []byte, i int) (lua.LValue, int, bool) {
	if i >= len(b) {
		return lua.LFalse, i, false
	}
	end := bytes.Index(b[i:], []byte("\r\n"))
	if end < 0 {
		return lua.LFalse, len(b), false
	}
	end += i
	line := b[i+1 : end]
	next := end + 2
	switch b[i] {
	case '+':
		t := L.CreateTable(0, 1)
		t.RawSetString("ok", lua.LString(line))
		return t, next, false
	case '-':
		t := L.CreateTable(0, 1)
		t.RawSetString("err", lua.LString(line))
		return t, next, true
	case ':':
		n, _ := strconv.ParseInt(string(line), 10, 64)
		return lua.LNumber(n), next, false
	case '$':
		n, _ := strconv.Atoi(string(line))
		if n < 0 {
			return lua.LFalse, next, false
		}
		if next+n > len(b) {
			return lua.LFalse, len(b), false
		}
		return lua.LString(b[next : next+n]), next + n + 2, false
	case '*':
		n, _ := strconv.Atoi(string(line))
		if n < 0 {
			return lua.LFalse, next, false
		}
		t := L.CreateTable(n, 0)
		for j := 1; j <= n; j++ {
			var v lua.LValue
			v, next, _ = parseReplyLua(L, b, next)
			t.RawSetInt(j, v)
		}
		return t, next, false
	}
	return lua.LFalse, next, false
}

// luaMaxReplyDepth bounds the nesting of a converted table (Redis fails
// with "reached lua stack limit" when its C stack check fails).
const luaMaxReplyDepth = 1000

// appendLuaReply appends the RESP2 form of a script's return value:
// string → bulk, number → integer (truncated), true → :1, false and nil →
// nil bulk, table with a string err → error, with a string ok → status,
// with a number double → bulk double, array part (up to the first nil) →
// array.
func appendLuaReply(out []byte, v lua.LValue) ([]byte, bool) {
	start := len(out)
	tooDeep := false
	out, isErr := appendLuaValue(out, v, 0, &tooDeep)
	if tooDeep {
		// Redis fails the whole reply when its stack check does.
		return resp.AppendError(out[:start], "ERR reached lua stack limit"), true
	}
	return out, isErr
}

func appendLuaValue(out []byte, v lua.LValue, depth int, tooDeep *bool) ([]byte, bool) {
	switch x := v.(type) {
	case lua.LString:
		return resp.AppendBulkString(out, string(x)), false
	case lua.LNumber:
		return resp.AppendInt(out, luaToInt64(float64(x))), false
	case lua.LBool:
		if x {
			return append(out, ":1\r\n"...), false
		}
		return resp.AppendNull(out), false
	case *lua.LTable:
		if depth >= luaMaxReplyDepth || *tooDeep {
			*tooDeep = true
			return out, true
		}
		if e, ok := x.RawGetString("err").(lua.LString); ok {
			return appendScriptError(out, string(e)), true
		}
		if s, ok := x.RawGetString("ok").(lua.LString); ok {
			return resp.AppendSimple(out, mapNewlines(string(s))), false
		}
		if d, ok := x.RawGetString("double").(lua.LNumber); ok {
			return resp.AppendBulk(out, strconv.AppendFloat(nil, float64(d), 'g', 17, 64)), false
		}
		if s, ok := x.RawGetString("big_number").(lua.LString); ok {
			return resp.AppendBulkString(out, mapNewlines(string(s))), false
		}
		if m, ok := x.RawGetString("map").(*lua.LTable); ok {
			var elems []lua.LValue
			luaForEach(m, func(k, v lua.LValue) { elems = append(elems, k, v) })
			out = resp.AppendArrayLen(out, len(elems))
			for _, e := range elems {
				out, _ = appendLuaValue(out, e, depth+1, tooDeep)
			}
			return out, false
		}
		if set, ok := x.RawGetString("set").(*lua.LTable); ok {
			var elems []lua.LValue
			luaForEach(set, func(k, _ lua.LValue) { elems = append(elems, k) })
			out = resp.AppendArrayLen(out, len(elems))
			for _, e := range elems {
				out, _ = appendLuaValue(out, e, depth+1, tooDeep)
			}
			return out, false
		}
		n := 0
		for x.RawGetInt(n+1) != lua.LNil {
			n++
		}
		out = resp.AppendArrayLen(out, n)
		for j := 1; j <= n; j++ {
			out, _ = appendLuaValue(out, x.RawGetInt(j), depth+1, tooDeep)
		}
		return out, false
	}
	return resp.AppendNull(out), false
}

// appendScriptError appends an error reply whose text is a Lua error
// string: "CODE msg" as is (a reply "-msg" when it has no code).
func appendScriptError(out []byte, msg string) []byte {
	msg = mapNewlines(strings.TrimRight(msg, "\r\n"))
	out = append(out, '-')
	out = append(out, msg...)
	return append(out, "\r\n"...)
}

// mapNewlines replaces CR and LF by spaces (they would break RESP).
func mapNewlines(s string) string {
	if !strings.ContainsAny(s, "\r\n") {
		return s
	}
	return strings.Map(func(r rune) rune {
		if r == '\r' || r == '\n' {
			return ' '
		}
		return r
	}, s)
}

// luaToInt64 truncates like the C cast Redis uses; values it cannot
// represent give LLONG_MIN, as on x86-64.
func luaToInt64(f float64) int64 {
	if math.IsNaN(f) || f >= 1<<63 || f < -(1<<63) {
		return math.MinInt64
	}
	return int64(f)
}

// luaForEach visits a table's pairs in the deterministic order of next()
// (array part, then keys in insertion order), unlike LTable.ForEach,
// which ranges over Go maps.
func luaForEach(t *lua.LTable, fn func(k, v lua.LValue)) {
	for k, v := t.Next(lua.LNil); k != lua.LNil; k, v = t.Next(k) {
		fn(k, v)
	}
}
