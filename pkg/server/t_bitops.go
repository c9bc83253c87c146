package server

import (
	"math/bits"
)

func init() {
	wm := FlagWrite | FlagDenyOOM
	register(
		&Command{Name: "setbit", Arity: 4, Flags: wm, FirstKey: 1, LastKey: 1, Step: 1, Proc: setbitCommand},
		&Command{Name: "getbit", Arity: 3, Flags: FlagReadOnly | FlagFast, FirstKey: 1, LastKey: 1, Step: 1, Proc: getbitCommand},
		&Command{Name: "bitcount", Arity: -2, Flags: FlagReadOnly, FirstKey: 1, LastKey: 1, Step: 1, Proc: bitcountCommand},
		&Command{Name: "bitpos", Arity: -3, Flags: FlagReadOnly, FirstKey: 1, LastKey: 1, Step: 1, Proc: bitposCommand},
		&Command{Name: "bitop", Arity: -4, Flags: wm, FirstKey: 2, LastKey: -1, Step: 1, Proc: bitopCommand},
	)
}

// bitOffset parses a bit offset like Redis's getBitOffsetFromArgument.
func (c *client) bitOffset(b []byte) (int64, bool) {
	n, ok := parseInt64(b)
	if !ok || n < 0 || n>>3 >= c.s.cfg.ProtoMaxBulkLen {
		c.addError(errBitOffset)
		return 0, false
	}
	return n, true
}

func setbitCommand(c *client, argv [][]byte) {
	off, ok := c.bitOffset(argv[2])
	if !ok {
		return
	}
	on, ok := parseInt64(argv[3])
	if !ok || on&^1 != 0 {
		c.addError("ERR bit is not an integer or out of range")
		return
	}
	e, ok := c.lookupStringWrite(argv[1])
	if !ok {
		return
	}
	byteIdx := int(off >> 3)
	dirty := e == nil || byteIdx >= len(e.Str()) // created or grown
	if e == nil {
		ne := NewStringEntry(make([]byte, byteIdx+1))
		ne.enc = encRaw
		c.db.Add(argv[1], ne)
		e = ne
	} else if byteIdx >= len(e.Str()) {
		e.setStr(growZero(e.Str(), byteIdx+1))
	}
	bit := byte(1) << (7 - uint(off&7))
	old := e.Str()[byteIdx]&bit != 0
	if on == 1 {
		e.Str()[byteIdx] |= bit
	} else {
		e.Str()[byteIdx] &^= bit
	}
	e.enc = encRaw
	if dirty || old != (on == 1) {
		// Like Redis, an unchanged bit does not touch WATCHed keys.
		c.db.Modified(argv[1], e)
		c.notify(notifyString, "setbit", argv[1])
	}
	c.addBool(old)
}

func getbitCommand(c *client, argv [][]byte) {
	off, ok := c.bitOffset(argv[2])
	if !ok {
		return
	}
	e, ok := c.lookupString(argv[1])
	if !ok {
		return
	}
	if e == nil || int(off>>3) >= len(e.Str()) {
		c.addInt(0)
		return
	}
	c.addBool(e.Str()[off>>3]&(1<<(7-uint(off&7))) != 0)
}

func popcount(b []byte) int64 {
	n := 0
	for _, x := range b {
		n += bits.OnesCount8(x)
	}
	return int64(n)
}

func bitcountCommand(c *client, argv [][]byte) {
	var start, end int64
	isBit := false
	switch len(argv) {
	case 4, 5:
		var ok1, ok2 bool
		start, ok1 = parseInt64(argv[2])
		if !ok1 {
			c.addError(errNotInt)
			return
		}
		end, ok2 = parseInt64(argv[3])
		if !ok2 {
			c.addError(errNotInt)
			return
		}
		if len(argv) == 5 {
			switch {
			case eqFold(argv[4], "bit"):
				isBit = true
			case eqFold(argv[4], "byte"):
			default:
				c.addError(errSyntax)
				return
			}
		}
	case 2:
	default:
		c.addError(errSyntax)
		return
	}
	e, ok := c.lookupString(argv[1])
	if !ok {
		return
	}
	if e == nil {
		c.addInt(0)
		return
	}
	p := e.Str()
	strlen := int64(len(p))
	var firstMask, lastMask byte
	if len(argv) == 2 {
		start, end = 0, strlen-1
	} else {
		total := strlen
		if isBit {
			total <<= 3
		}
		if start < 0 && end < 0 && start > end {
			c.addInt(0)
			return
		}
		if start < 0 {
			start += total
		}
		if end < 0 {
			end += total
		}
		start, end = max(start, 0), max(end, 0)
		if end >= total {
			end = total - 1
		}
		if isBit && start <= end {
			firstMask = ^byte((1 << (8 - (start & 7))) - 1)
			lastMask = byte((1 << (7 - (end & 7))) - 1)
			start >>= 3
			end >>= 3
		}
	}
	if start > end {
		c.addInt(0)
		return
	}
	n := popcount(p[start : end+1])
	if firstMask != 0 {
		n -= int64(bits.OnesCount8(p[start] & firstMask))
	}
	if lastMask != 0 {
		n -= int64(bits.OnesCount8(p[end] & lastMask))
	}
	c.addInt(n)
}

// bitpos returns the first bit equal to bit in p; for a missing 1 it is -1,
// for a missing 0 it is len(p)*8 (Redis's redisBitpos).
func bitpos(p []byte, bit bool) int64 {
	for i, x := range p {
		if bit && x != 0 {
			return int64(i)*8 + int64(bits.LeadingZeros8(x))
		}
		if !bit && x != 0xff {
			return int64(i)*8 + int64(bits.LeadingZeros8(^x))
		}
	}
	if bit {
		return -1
	}
	return int64(len(p)) * 8
}

func bitposCommand(c *client, argv [][]byte) {
	b, ok := parseInt64(argv[2])
	if !ok {
		c.addError(errNotInt)
		return
	}
	if b != 0 && b != 1 {
		c.addError("ERR The bit argument must be 1 or 0.")
		return
	}
	bit := b == 1
	e := c.db.LookupRead(argv[1])
	if e == nil {
		if bit {
			c.addInt(-1)
		} else {
			c.addInt(0)
		}
		return
	}
	if e.typ != TypeString {
		c.addError(errWrongType)
		return
	}
	p := e.Str()
	strlen := int64(len(p))
	var start, end int64
	endGiven, isBit := false, false
	var firstMask, lastMask byte
	switch len(argv) {
	case 4, 5, 6:
		total := strlen
		var ok bool
		if start, ok = parseInt64(argv[3]); !ok {
			c.addError(errNotInt)
			return
		}
		if len(argv) == 6 {
			switch {
			case eqFold(argv[5], "bit"):
				isBit = true
			case eqFold(argv[5], "byte"):
			default:
				c.addError(errSyntax)
				return
			}
		}
		if len(argv) >= 5 {
			if end, ok = parseInt64(argv[4]); !ok {
				c.addError(errNotInt)
				return
			}
			endGiven = true
		} else if isBit {
			end = total<<3 + 7
		} else {
			end = total - 1
		}
		if isBit {
			total <<= 3
		}
		if start < 0 {
			start += total
		}
		if end < 0 {
			end += total
		}
		start, end = max(start, 0), max(end, 0)
		if end >= total {
			end = total - 1
		}
		if isBit && start <= end {
			firstMask = ^byte((1 << (8 - (start & 7))) - 1)
			lastMask = byte((1 << (7 - (end & 7))) - 1)
			start >>= 3
			end >>= 3
		}
	case 3:
		start, end = 0, strlen-1
	default:
		c.addError(errSyntax)
		return
	}
	if start > end {
		c.addInt(-1)
		return
	}
	nbytes := end - start + 1
	var pos int64
	func() {
		if firstMask != 0 {
			t := p[start]
			if bit {
				t &^= firstMask
			} else {
				t |= firstMask
			}
			if lastMask != 0 && nbytes == 1 {
				if bit {
					t &^= lastMask
				} else {
					t |= lastMask
				}
			}
			pos = bitpos([]byte{t}, bit)
			if nbytes == 1 || (pos != -1 && pos != 8) {
				return
			}
			start++
			nbytes--
		}
		cur := nbytes
		if lastMask != 0 {
			cur--
		}
		if cur > 0 {
			pos = bitpos(p[start:start+cur], bit)
			if nbytes == cur || (pos != -1 && pos != cur<<3) {
				return
			}
			start += cur
			nbytes -= cur
		}
		t := p[end]
		if bit {
			t &^= lastMask
		} else {
			t |= lastMask
		}
		pos = bitpos([]byte{t}, bit)
	}()
	if endGiven && !bit && pos == nbytes<<3 {
		c.addInt(-1)
		return
	}
	if pos != -1 {
		pos += start << 3
	}
	c.addInt(pos)
}

func bitopCommand(c *client, argv [][]byte) {
	op := argv[1]
	var kind int
	switch {
	case eqFold(op, "and"):
		kind = 0
	case eqFold(op, "or"):
		kind = 1
	case eqFold(op, "xor"):
		kind = 2
	case eqFold(op, "not"):
		kind = 3
	default:
		c.addError(errSyntax)
		return
	}
	srcKeys := argv[3:]
	if kind == 3 && len(srcKeys) != 1 {
		c.addError("ERR BITOP NOT must be called with a single source key.")
		return
	}
	srcs := make([][]byte, len(srcKeys))
	maxLen := 0
	for i, k := range srcKeys {
		e := c.db.LookupRead(k)
		if e == nil {
			continue
		}
		if e.typ != TypeString {
			c.addError(errWrongType)
			return
		}
		srcs[i] = e.Str()
		maxLen = max(maxLen, len(e.Str()))
	}
	res := make([]byte, maxLen)
	for j := 0; j < maxLen; j++ {
		at := func(i int) byte {
			if j < len(srcs[i]) {
				return srcs[i][j]
			}
			return 0
		}
		out := at(0)
		switch kind {
		case 3:
			out = ^out
		default:
			for i := 1; i < len(srcs); i++ {
				switch kind {
				case 0:
					out &= at(i)
				case 1:
					out |= at(i)
				case 2:
					out ^= at(i)
				}
			}
		}
		res[j] = out
	}
	if maxLen == 0 {
		if c.db.Delete(argv[2]) {
			c.notify(notifyGeneric, "del", argv[2])
		}
	} else {
		ne := NewStringEntry(res)
		ne.enc = encRaw
		c.db.Set(argv[2], ne, false)
		c.notify(notifyString, "set", argv[2])
	}
	c.addInt(int64(maxLen))
}
