package server

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math"
	"strconv"
	"strings"

	lua "github.com/yuin/gopher-lua"
)

// The bit (LuaBitOp) and cjson libraries Redis bundles.

// toBit is LuaBitOp's argument conversion: adding 2^52+2^51 leaves the
// number rounded to an integer in the low bits of the double's mantissa,
// of which it keeps 32, signed (exactly LuaBitOp's union trick, large and
// odd values included).
func toBit(L *lua.LState, i int) int32 {
	f := float64(L.CheckNumber(i))
	return int32(uint32(math.Float64bits(f + 6755399441055744.0)))
}

func (st *scriptState) openBit() *lua.LTable {
	L := st.L
	t := L.NewTable()
	push := func(L *lua.LState, v int32) int {
		L.Push(lua.LNumber(v))
		return 1
	}
	fold := func(op func(a, b int32) int32) lua.LGFunction {
		return func(L *lua.LState) int {
			v := toBit(L, 1)
			for i := 2; i <= L.GetTop(); i++ {
				v = op(v, toBit(L, i))
			}
			return push(L, v)
		}
	}
	shift := func(op func(x uint32, n uint) uint32) lua.LGFunction {
		return func(L *lua.LState) int {
			x, n := toBit(L, 1), toBit(L, 2)
			return push(L, int32(op(uint32(x), uint(n)&31)))
		}
	}
	fns := map[string]lua.LGFunction{
		"tobit":   func(L *lua.LState) int { return push(L, toBit(L, 1)) },
		"bnot":    func(L *lua.LState) int { return push(L, ^toBit(L, 1)) },
		"band":    fold(func(a, b int32) int32 { return a & b }),
		"bor":     fold(func(a, b int32) int32 { return a | b }),
		"bxor":    fold(func(a, b int32) int32 { return a ^ b }),
		"lshift":  shift(func(x uint32, n uint) uint32 { return x << n }),
		"rshift":  shift(func(x uint32, n uint) uint32 { return x >> n }),
		"arshift": shift(func(x uint32, n uint) uint32 { return uint32(int32(x) >> n) }),
		"rol":     shift(func(x uint32, n uint) uint32 { return x<<n | x>>((32-n)&31) }),
		"ror":     shift(func(x uint32, n uint) uint32 { return x>>n | x<<((32-n)&31) }),
		"bswap": func(L *lua.LState) int {
			x := uint32(toBit(L, 1))
			return push(L, int32(x>>24|(x>>8)&0xff00|(x&0xff00)<<8|x<<24))
		},
		"tohex": func(L *lua.LState) int {
			x := uint32(toBit(L, 1))
			n := int32(8)
			if L.GetTop() >= 2 && L.Get(2) != lua.LNil {
				n = toBit(L, 2)
			}
			digits := "0123456789abcdef"
			if n < 0 {
				n = -n
				digits = "0123456789ABCDEF"
			}
			if n > 8 || n < 0 { // n < 0: -MinInt32 overflows
				n = 8
			}
			buf := make([]byte, n)
			for i := n - 1; i >= 0; i-- {
				buf[i] = digits[x&15]
				x >>= 4
			}
			L.Push(lua.LString(buf))
			return 1
		},
	}
	for name, fn := range fns {
		t.RawSetString(name, L.NewFunction(fn))
	}
	return t
}

// cjsonMaxDepth is lua-cjson's default nesting limit.
const cjsonMaxDepth = 1000

func (st *scriptState) openCJSON() *lua.LTable {
	L := st.L
	t := L.NewTable()
	null := L.NewUserData() // cjson.null
	t.RawSetString("null", null)
	t.RawSetString("_NAME", lua.LString("cjson"))
	t.RawSetString("_VERSION", lua.LString("2.1.0"))
	t.RawSetString("encode", L.NewFunction(func(L *lua.LState) int {
		if L.GetTop() != 1 {
			L.ArgError(1, "expected 1 argument")
		}
		var sb strings.Builder
		if err := cjsonEncode(&sb, L.Get(1), null, 0); err != nil {
			L.RaiseError("%s", err.Error())
		}
		L.Push(lua.LString(sb.String()))
		return 1
	}))
	t.RawSetString("decode", L.NewFunction(func(L *lua.LState) int {
		if L.GetTop() != 1 {
			L.ArgError(1, "expected 1 argument")
		}
		s := luaArgString(L, 1)
		dec := json.NewDecoder(strings.NewReader(s))
		dec.UseNumber()
		v, err := cjsonDecode(L, dec, null, 0)
		if err == nil {
			if _, terr := dec.Token(); !errors.Is(terr, io.EOF) {
				err = errors.New("Expected the end but found invalid token")
			}
		}
		if err != nil {
			L.RaiseError("%s", err.Error())
		}
		L.Push(v)
		return 1
	}))
	return t
}

func cjsonEncode(sb *strings.Builder, v lua.LValue, null lua.LValue, depth int) error {
	switch x := v.(type) {
	case *lua.LNilType:
		sb.WriteString("null")
	case lua.LBool:
		sb.WriteString(strconv.FormatBool(bool(x)))
	case lua.LNumber:
		f := float64(x)
		if math.IsInf(f, 0) || math.IsNaN(f) {
			return errors.New("Cannot serialise number: must not be NaN or Inf")
		}
		sb.WriteString(formatLuaNumber(f))
	case lua.LString:
		cjsonString(sb, string(x))
	case *lua.LTable:
		depth++
		if depth > cjsonMaxDepth {
			return fmt.Errorf("Cannot serialise, excessive nesting (%d)", depth)
		}
		n, isArray, err := cjsonArrayLen(x)
		if err != nil {
			return err
		}
		if isArray && n > 0 {
			sb.WriteByte('[')
			for i := 1; i <= n; i++ {
				if i > 1 {
					sb.WriteByte(',')
				}
				if err := cjsonEncode(sb, x.RawGetInt(i), null, depth); err != nil {
					return err
				}
			}
			sb.WriteByte(']')
			return nil
		}
		sb.WriteByte('{')
		first := true
		var ferr error
		luaForEach(x, func(k, val lua.LValue) {
			if ferr != nil {
				return
			}
			if !first {
				sb.WriteByte(',')
			}
			first = false
			switch kk := k.(type) {
			case lua.LString:
				cjsonString(sb, string(kk))
			case lua.LNumber:
				cjsonString(sb, formatLuaNumber(float64(kk)))
			default:
				ferr = fmt.Errorf("Cannot serialise %s: table key must be a number or string", k.Type().String())
				return
			}
			sb.WriteByte(':')
			ferr = cjsonEncode(sb, val, null, depth)
		})
		if ferr != nil {
			return ferr
		}
		sb.WriteByte('}')
	default:
		if v == null {
			sb.WriteString("null")
			return nil
		}
		return fmt.Errorf("Cannot serialise %s: type not supported", v.Type().String())
	}
	return nil
}

// cjsonArrayLen decides like lua-cjson whether a table is an array: all
// keys positive integers, and not excessively sparse (ratio 2, safe 10).
func cjsonArrayLen(t *lua.LTable) (int, bool, error) {
	maxKey, count := 0, 0
	isArray := true
	luaForEach(t, func(k, _ lua.LValue) {
		n, ok := k.(lua.LNumber)
		if !ok || float64(n) != math.Floor(float64(n)) || n < 1 {
			isArray = false
			return
		}
		if int(n) > maxKey {
			maxKey = int(n)
		}
		count++
	})
	if !isArray {
		return 0, false, nil
	}
	if maxKey > 10 && maxKey > count*2 {
		return 0, false, errors.New("Cannot serialise table: excessively sparse array")
	}
	return maxKey, true, nil
}

func cjsonString(sb *strings.Builder, s string) {
	sb.WriteByte('"')
	for i := 0; i < len(s); i++ {
		switch c := s[i]; c {
		case '"':
			sb.WriteString(`\"`)
		case '\\':
			sb.WriteString(`\\`)
		case '/':
			sb.WriteString(`\/`)
		case '\b':
			sb.WriteString(`\b`)
		case '\f':
			sb.WriteString(`\f`)
		case '\n':
			sb.WriteString(`\n`)
		case '\r':
			sb.WriteString(`\r`)
		case '\t':
			sb.WriteString(`\t`)
		default:
			if c < 0x20 || c == 0x7f {
				fmt.Fprintf(sb, `\u%04x`, c)
			} else {
				sb.WriteByte(c)
			}
		}
	}
	sb.WriteByte('"')
}

func cjsonDecode(L *lua.LState, dec *json.Decoder, null lua.LValue, depth int) (lua.LValue, error) {
	tok, err := dec.Token()
	if err != nil {
		return nil, cjsonDecodeError(err)
	}
	switch x := tok.(type) {
	case json.Delim:
		depth++
		if depth > cjsonMaxDepth {
			return nil, fmt.Errorf("Found too many nested data structures (%d)", depth)
		}
		t := L.NewTable()
		switch x {
		case '[':
			for i := 1; dec.More(); i++ {
				v, err := cjsonDecode(L, dec, null, depth)
				if err != nil {
					return nil, err
				}
				t.RawSetInt(i, v)
			}
		case '{':
			for dec.More() {
				kt, err := dec.Token()
				if err != nil {
					return nil, cjsonDecodeError(err)
				}
				k, _ := kt.(string)
				v, err := cjsonDecode(L, dec, null, depth)
				if err != nil {
					return nil, err
				}
				t.RawSetString(k, v)
			}
		default:
			return nil, errors.New("Expected value but found invalid token")
		}
		if _, err := dec.Token(); err != nil { // closing delimiter
			return nil, cjsonDecodeError(err)
		}
		return t, nil
	case bool:
		return lua.LBool(x), nil
	case nil:
		return null, nil
	case json.Number:
		f, err := strconv.ParseFloat(string(x), 64)
		if err != nil && !errors.Is(err, strconv.ErrRange) {
			return nil, errors.New("Expected value but found invalid number")
		}
		return lua.LNumber(f), nil
	case string:
		return lua.LString(x), nil
	}
	return nil, errors.New("Expected value but found invalid token")
}

func cjsonDecodeError(err error) error {
	if errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF) {
		return errors.New("Expected value but found T_END")
	}
	var se *json.SyntaxError
	if errors.As(err, &se) {
		return fmt.Errorf("Expected value but found invalid token at character %d", se.Offset)
	}
	return errors.New("Expected value but found invalid token")
}
