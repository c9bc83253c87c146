package server

import (
	"encoding/binary"
	"errors"
	"math"

	lua "github.com/yuin/gopher-lua"
)

// The cmsgpack library Redis bundles (lua-cmsgpack): cmsgpack.pack,
// unpack, unpack_one and unpack_limit.

// msgpackMaxNesting is lua-cmsgpack's limit: deeper tables encode as nil.
const msgpackMaxNesting = 16

var (
	errMsgpackEOF    = errors.New("Missing bytes in input.")
	errMsgpackFormat = errors.New("Bad data format in input.")
)

func (st *scriptState) openMsgpack() *lua.LTable {
	L := st.L
	t := L.NewTable()
	t.RawSetString("_NAME", lua.LString("cmsgpack"))
	t.RawSetString("_VERSION", lua.LString("lua-cmsgpack 0.4.0"))
	t.RawSetString("_COPYRIGHT", lua.LString("Copyright (C) 2012, Salvatore Sanfilippo"))
	t.RawSetString("_DESCRIPTION", lua.LString("MessagePack C implementation for Lua"))
	t.RawSetString("pack", L.NewFunction(func(L *lua.LState) int {
		n := L.GetTop()
		if n == 0 {
			L.RaiseError("bad argument #0 to 'pack' (MessagePack pack needs input.)")
		}
		var b []byte
		for i := 1; i <= n; i++ {
			b = msgpackEncode(b, L.Get(i), 0)
		}
		L.Push(lua.LString(b))
		return 1
	}))
	t.RawSetString("unpack", L.NewFunction(func(L *lua.LState) int {
		return msgpackUnpack(L, L.CheckString(1), 0, 0)
	}))
	t.RawSetString("unpack_one", L.NewFunction(func(L *lua.LState) int {
		return msgpackUnpack(L, L.CheckString(1), 1, L.OptInt(2, 0))
	}))
	t.RawSetString("unpack_limit", L.NewFunction(func(L *lua.LState) int {
		return msgpackUnpack(L, L.CheckString(1), L.CheckInt(2), L.OptInt(3, 0))
	}))
	return t
}

func msgpackEncode(b []byte, v lua.LValue, depth int) []byte {
	switch x := v.(type) {
	case lua.LBool:
		if x {
			return append(b, 0xc3)
		}
		return append(b, 0xc2)
	case lua.LNumber:
		f := float64(x)
		if f == math.Trunc(f) && f >= -(1<<63) && f < 1<<63 {
			return msgpackInt(b, int64(f))
		}
		if float64(float32(f)) == f {
			b = append(b, 0xca)
			return binary.BigEndian.AppendUint32(b, math.Float32bits(float32(f)))
		}
		b = append(b, 0xcb)
		return binary.BigEndian.AppendUint64(b, math.Float64bits(f))
	case lua.LString:
		n := len(x)
		switch {
		case n < 32:
			b = append(b, 0xa0|byte(n))
		case n <= 0xff:
			b = append(b, 0xd9, byte(n))
		case n <= 0xffff:
			b = append(b, 0xda)
			b = binary.BigEndian.AppendUint16(b, uint16(n))
		default:
			b = append(b, 0xdb)
			b = binary.BigEndian.AppendUint32(b, uint32(n))
		}
		return append(b, x...)
	case *lua.LTable:
		if depth >= msgpackMaxNesting {
			return append(b, 0xc0)
		}
		if n, ok := msgpackArrayLen(x); ok {
			b = msgpackHeader(b, n, 0x90, 0xdc, 0xdd)
			for i := 1; i <= n; i++ {
				b = msgpackEncode(b, x.RawGetInt(i), depth+1)
			}
			return b
		}
		var kv []lua.LValue
		luaForEach(x, func(k, v lua.LValue) { kv = append(kv, k, v) })
		b = msgpackHeader(b, len(kv)/2, 0x80, 0xde, 0xdf)
		for _, e := range kv {
			b = msgpackEncode(b, e, depth+1)
		}
		return b
	}
	return append(b, 0xc0)
}

// msgpackArrayLen: a table whose keys are exactly 1..n is an array.
func msgpackArrayLen(t *lua.LTable) (int, bool) {
	count, maxKey := 0, 0
	ok := true
	luaForEach(t, func(k, _ lua.LValue) {
		n, isNum := k.(lua.LNumber)
		if !isNum || n < 1 || float64(n) != math.Floor(float64(n)) {
			ok = false
			return
		}
		count++
		maxKey = max(maxKey, int(n))
	})
	return count, ok && count == maxKey
}

func msgpackHeader(b []byte, n int, fix, h16, h32 byte) []byte {
	switch {
	case n <= 15:
		return append(b, fix|byte(n))
	case n <= 0xffff:
		b = append(b, h16)
		return binary.BigEndian.AppendUint16(b, uint16(n))
	}
	b = append(b, h32)
	return binary.BigEndian.AppendUint32(b, uint32(n))
}

func msgpackInt(b []byte, n int64) []byte {
	if n >= 0 {
		switch {
		case n <= 127:
			return append(b, byte(n))
		case n <= 0xff:
			return append(b, 0xcc, byte(n))
		case n <= 0xffff:
			return binary.BigEndian.AppendUint16(append(b, 0xcd), uint16(n))
		case n <= 0xffffffff:
			return binary.BigEndian.AppendUint32(append(b, 0xce), uint32(n))
		}
		return binary.BigEndian.AppendUint64(append(b, 0xcf), uint64(n))
	}
	switch {
	case n >= -32:
		return append(b, byte(int8(n)))
	case n >= -128:
		return append(b, 0xd0, byte(int8(n)))
	case n >= -32768:
		return binary.BigEndian.AppendUint16(append(b, 0xd1), uint16(int16(n)))
	case n >= -(1 << 31):
		return binary.BigEndian.AppendUint32(append(b, 0xd2), uint32(int32(n)))
	}
	return binary.BigEndian.AppendUint64(append(b, 0xd3), uint64(n))
}

// msgpackUnpack decodes up to limit values (all with limit 0 and offset
// 0) from s[offset:]; with a limit it first returns the next offset (-1
// at the end).
func msgpackUnpack(L *lua.LState, s string, limit, offset int) int {
	decodeAll := limit == 0 && offset == 0
	if offset < 0 || limit < 0 {
		L.RaiseError("Invalid request to unpack with offset of %d and limit of %d.", offset, len(s))
	} else if offset > len(s) {
		L.RaiseError("Start offset %d greater than input length %d.", offset, len(s))
	}
	if decodeAll {
		limit = math.MaxInt32
	}
	d := msgpackDecoder{L: L, b: []byte(s[offset:])}
	var out []lua.LValue
	for len(d.b) > 0 && len(out) < limit {
		v, err := d.decode(0)
		if err != nil {
			L.RaiseError("%s", err.Error())
		}
		out = append(out, v)
	}
	n := len(out)
	if !decodeAll {
		next := len(s) - len(d.b)
		if len(d.b) == 0 {
			next = -1
		}
		L.Push(lua.LNumber(next))
		n++
	}
	for _, v := range out {
		L.Push(v)
	}
	return n
}

type msgpackDecoder struct {
	L *lua.LState
	b []byte
}

func (d *msgpackDecoder) take(n int) ([]byte, error) {
	if n < 0 || len(d.b) < n {
		return nil, errMsgpackEOF
	}
	p := d.b[:n]
	d.b = d.b[n:]
	return p, nil
}

func (d *msgpackDecoder) uint(n int) (uint64, error) {
	p, err := d.take(n)
	if err != nil {
		return 0, err
	}
	var v uint64
	for _, c := range p {
		v = v<<8 | uint64(c)
	}
	return v, nil
}

func (d *msgpackDecoder) str(n int) (lua.LValue, error) {
	p, err := d.take(n)
	if err != nil {
		return nil, err
	}
	return lua.LString(p), nil
}

func (d *msgpackDecoder) array(n, depth int) (lua.LValue, error) {
	t := d.L.CreateTable(min(n, 1024), 0)
	for i := 1; i <= n; i++ {
		v, err := d.decode(depth + 1)
		if err != nil {
			return nil, err
		}
		t.RawSetInt(i, v)
	}
	return t, nil
}

func (d *msgpackDecoder) object(n, depth int) (lua.LValue, error) {
	t := d.L.NewTable()
	for i := 0; i < n; i++ {
		k, err := d.decode(depth + 1)
		if err != nil {
			return nil, err
		}
		v, err := d.decode(depth + 1)
		if err != nil {
			return nil, err
		}
		if k != lua.LNil {
			t.RawSet(k, v)
		}
	}
	return t, nil
}

func (d *msgpackDecoder) decode(depth int) (lua.LValue, error) {
	if depth > 1000 {
		return nil, errMsgpackFormat
	}
	p, err := d.take(1)
	if err != nil {
		return nil, err
	}
	c := p[0]
	switch {
	case c <= 0x7f:
		return lua.LNumber(c), nil
	case c >= 0xe0:
		return lua.LNumber(int8(c)), nil
	case c&0xe0 == 0xa0:
		return d.str(int(c & 0x1f))
	case c&0xf0 == 0x90:
		return d.array(int(c&0x0f), depth)
	case c&0xf0 == 0x80:
		return d.object(int(c&0x0f), depth)
	}
	sized := func(n int) (int, error) {
		v, err := d.uint(n)
		if v > math.MaxInt32 {
			return 0, errMsgpackEOF
		}
		return int(v), err
	}
	switch c {
	case 0xc0:
		return lua.LNil, nil
	case 0xc2:
		return lua.LFalse, nil
	case 0xc3:
		return lua.LTrue, nil
	case 0xca:
		v, err := d.uint(4)
		return lua.LNumber(math.Float32frombits(uint32(v))), err
	case 0xcb:
		v, err := d.uint(8)
		return lua.LNumber(math.Float64frombits(v)), err
	case 0xcc, 0xcd, 0xce, 0xcf:
		v, err := d.uint(1 << (c - 0xcc))
		return lua.LNumber(float64(v)), err
	case 0xd0:
		v, err := d.uint(1)
		return lua.LNumber(int8(v)), err
	case 0xd1:
		v, err := d.uint(2)
		return lua.LNumber(int16(v)), err
	case 0xd2:
		v, err := d.uint(4)
		return lua.LNumber(int32(v)), err
	case 0xd3:
		v, err := d.uint(8)
		return lua.LNumber(float64(int64(v))), err
	case 0xc4, 0xd9: // bin 8, str 8
		n, err := sized(1)
		if err != nil {
			return nil, err
		}
		return d.str(n)
	case 0xc5, 0xda:
		n, err := sized(2)
		if err != nil {
			return nil, err
		}
		return d.str(n)
	case 0xc6, 0xdb:
		n, err := sized(4)
		if err != nil {
			return nil, err
		}
		return d.str(n)
	case 0xdc:
		n, err := sized(2)
		if err != nil {
			return nil, err
		}
		return d.array(n, depth)
	case 0xdd:
		n, err := sized(4)
		if err != nil {
			return nil, err
		}
		return d.array(n, depth)
	case 0xde:
		n, err := sized(2)
		if err != nil {
			return nil, err
		}
		return d.object(n, depth)
	case 0xdf:
		n, err := sized(4)
		if err != nil {
			return nil, err
		}
		return d.object(n, depth)
	}
	return nil, errMsgpackFormat
}
