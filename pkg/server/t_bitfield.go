package server

import "math"

func init() {
	register(
		&Command{Name: "bitfield", Arity: -2, Flags: FlagWrite | FlagDenyOOM, FirstKey: 1, LastKey: 1, Step: 1, Proc: bitfieldCommand},
		&Command{Name: "bitfield_ro", Arity: -2, Flags: FlagReadOnly | FlagFast, FirstKey: 1, LastKey: 1, Step: 1, Proc: bitfieldROCommand},
	)
}

const (
	bfGet = iota
	bfSet
	bfIncr
)

const (
	bfWrap = iota
	bfSat
	bfFail
)

type bitfieldOp struct {
	op     int
	offset int64
	bits   int
	signed bool
	val    int64
	ow     int
}

const errBitfieldType = "ERR Invalid bitfield type. Use something like i16 u8. Note that u64 is not supported but i64 is."

func bitfieldCommand(c *client, argv [][]byte)   { c.bitfield(argv, false) }
func bitfieldROCommand(c *client, argv [][]byte) { c.bitfield(argv, true) }

func (c *client) bitfield(argv [][]byte, roCmd bool) {
	var ops []bitfieldOp
	ow := bfWrap
	readonly := true
	highest := int64(0)
	for j := 2; j < len(argv); j++ {
		rem := len(argv) - j - 1
		var op int
		switch sub := argv[j]; {
		case eqFold(sub, "get") && rem >= 2:
			op = bfGet
		case eqFold(sub, "set") && rem >= 3:
			op = bfSet
		case eqFold(sub, "incrby") && rem >= 3:
			op = bfIncr
		case eqFold(sub, "overflow") && rem >= 1:
			j++
			switch t := argv[j]; {
			case eqFold(t, "wrap"):
				ow = bfWrap
			case eqFold(t, "sat"):
				ow = bfSat
			case eqFold(t, "fail"):
				ow = bfFail
			default:
				c.addError("ERR Invalid OVERFLOW type specified")
				return
			}
			continue
		default:
			c.addError(errSyntax)
			return
		}
		t := argv[j+1]
		if len(t) < 2 {
			c.addError(errBitfieldType)
			return
		}
		signed := t[0] == 'i' || t[0] == 'I'
		if !signed && t[0] != 'u' && t[0] != 'U' {
			c.addError(errBitfieldType)
			return
		}
		nb, ok := parseInt64(t[1:])
		if !ok || nb < 1 || (signed && nb > 64) || (!signed && nb > 63) {
			c.addError(errBitfieldType)
			return
		}
		bits := int(nb)
		ob := argv[j+2]
		hash := len(ob) > 0 && ob[0] == '#'
		if hash {
			ob = ob[1:]
		}
		off, ok := parseInt64(ob)
		if ok && hash {
			if off > math.MaxInt64/int64(bits) || off < math.MinInt64/int64(bits) {
				ok = false
			} else {
				off *= int64(bits)
			}
		}
		if !ok || off < 0 || off>>3 >= c.s.cfg.ProtoMaxBulkLen {
			c.addError(errBitOffset)
			return
		}
		o := bitfieldOp{op: op, offset: off, bits: bits, signed: signed, ow: ow}
		if op != bfGet {
			readonly = false
			highest = max(highest, off+int64(bits)-1)
			v, ok := parseInt64(argv[j+3])
			if !ok {
				c.addError(errNotInt)
				return
			}
			o.val = v
		}
		ops = append(ops, o)
		if op == bfGet {
			j += 2
		} else {
			j += 3
		}
	}
	var e *Entry
	grown := false   // the string was created or extended
	created := false // ... created: added to the keyspace after the ops
	db := c.db
	if readonly {
		e = db.LookupRead(argv[1])
		if e != nil && e.typ != TypeString {
			c.addError(errWrongType)
			return
		}
	} else {
		if roCmd {
			c.addError("ERR BITFIELD_RO only supports the GET subcommand")
			return
		}
		var ok bool
		if e, ok = c.lookupStringWrite(argv[1]); !ok {
			return
		}
		need := int(highest>>3) + 1
		if e == nil {
			e = NewStringEntry(make([]byte, need))
			e.enc = encRaw
			grown, created = true, true
		} else {
			if len(e.Str()) < need {
				e.setStr(growZero(e.Str(), need))
				grown = true
			}
			e.enc = encRaw // Redis unshares the value as a raw string for any write op
		}
	}
	c.addArrayLen(len(ops))
	changed := false
	for _, o := range ops {
		var p []byte
		if e != nil {
			p = e.Str()
		}
		if o.op == bfGet {
			if o.signed {
				c.addInt(getSignedBits(p, o.offset, o.bits))
			} else {
				c.addInt(int64(getBits(p, o.offset, o.bits)))
			}
			continue
		}
		if o.signed {
			old := getSignedBits(p, o.offset, o.bits)
			var nv, incr int64
			if o.op == bfSet {
				nv = o.val
			} else {
				nv, incr = old, o.val
			}
			res, of := signedOverflow(nv, incr, o.bits, o.ow)
			if of != 0 && o.ow == bfFail {
				c.addNull()
				continue
			}
			if of == 0 {
				res = nv + incr
			}
			setBits(p, o.offset, o.bits, uint64(res))
			changed = changed || grown || res != old // as Redis counts changes
			if o.op == bfSet {
				c.addInt(old)
			} else {
				c.addInt(res)
			}
		} else {
			old := getBits(p, o.offset, o.bits)
			var nv uint64
			var incr int64
			if o.op == bfSet {
				nv = uint64(o.val)
			} else {
				nv, incr = old, o.val
			}
			res, of := unsignedOverflow(nv, incr, o.bits, o.ow)
			if of != 0 && o.ow == bfFail {
				c.addNull()
				continue
			}
			if of == 0 {
				res = nv + uint64(incr)
			}
			setBits(p, o.offset, o.bits, res)
			changed = changed || grown || res != old
			if o.op == bfSet {
				c.addInt(int64(old))
			} else {
				c.addInt(int64(res))
			}
		}
	}
	// Like Redis, operations that changed no bit (or all failed with
	// OVERFLOW FAIL) do not touch WATCHed keys, even when the string was
	// created or padded for them (Redis 7.0 keeps the padding).
	switch {
	case readonly:
	case created && changed:
		db.Add(argv[1], e)
	case created:
		db.addUnwatched(argv[1], e)
	case changed:
		db.Modified(argv[1], e)
	case grown:
		db.modifiedUnwatched(argv[1], e)
	}
	if !readonly && changed {
		c.notify(notifyString, "setbit", argv[1])
	}
}

// getBits reads an unsigned big-endian bit field; bits past the end are 0.
func getBits(p []byte, off int64, bits int) uint64 {
	var v uint64
	for i := 0; i < bits; i++ {
		pos := off + int64(i)
		byteIdx := pos >> 3
		var bit uint64
		if byteIdx < int64(len(p)) {
			bit = uint64(p[byteIdx]>>(7-uint(pos&7))) & 1
		}
		v = v<<1 | bit
	}
	return v
}

func getSignedBits(p []byte, off int64, bits int) int64 {
	v := getBits(p, off, bits)
	if bits < 64 && v&(1<<(bits-1)) != 0 {
		v |= ^uint64(0) << bits
	}
	return int64(v)
}

func setBits(p []byte, off int64, bits int, v uint64) {
	for i := 0; i < bits; i++ {
		bit := (v >> uint(bits-1-i)) & 1
		pos := off + int64(i)
		mask := byte(1) << (7 - uint(pos&7))
		if bit != 0 {
			p[pos>>3] |= mask
		} else {
			p[pos>>3] &^= mask
		}
	}
}

// unsignedOverflow is Redis's checkUnsignedBitfieldOverflow: it returns the
// value to store on overflow (wrap or saturate) and +1/-1/0.
func unsignedOverflow(value uint64, incr int64, bits int, ow int) (uint64, int) {
	maxv := uint64(1)<<uint(bits) - 1
	maxincr := int64(maxv - value)
	minincr := -int64(value)
	wrap := func() uint64 { return (value + uint64(incr)) & maxv }
	if value > maxv || (incr > 0 && incr > maxincr) {
		switch ow {
		case bfWrap:
			return wrap(), 1
		case bfSat:
			return maxv, 1
		}
		return 0, 1
	}
	if incr < 0 && incr < minincr {
		switch ow {
		case bfWrap:
			return wrap(), -1
		case bfSat:
			return 0, -1
		}
		return 0, -1
	}
	return 0, 0
}

// signedOverflow is Redis's checkSignedBitfieldOverflow.
func signedOverflow(value, incr int64, bits int, ow int) (int64, int) {
	var maxv int64 = math.MaxInt64
	if bits < 64 {
		maxv = int64(1)<<uint(bits-1) - 1
	}
	minv := -maxv - 1
	maxincr := int64(uint64(maxv) - uint64(value))
	minincr := minv - value
	wrap := func() int64 {
		c := uint64(value) + uint64(incr)
		if bits < 64 {
			mask := ^uint64(0) << uint(bits)
			if c&(uint64(1)<<uint(bits-1)) != 0 {
				c |= mask
			} else {
				c &^= mask
			}
		}
		return int64(c)
	}
	if value > maxv || (bits != 64 && incr > maxincr) || (value >= 0 && incr > 0 && incr > maxincr) {
		switch ow {
		case bfWrap:
			return wrap(), 1
		case bfSat:
			return maxv, 1
		}
		return 0, 1
	}
	if value < minv || (bits != 64 && incr < minincr) || (value < 0 && incr < 0 && incr < minincr) {
		switch ow {
		case bfWrap:
			return wrap(), -1
		case bfSat:
			return minv, -1
		}
		return 0, -1
	}
	return 0, 0
}
