package server

import (
	"fmt"
	"math"
	"math/rand/v2"
	"strings"
)

// HyperLogLog commands over string values in Redis's format (hll.go).

func init() {
	register(
		&Command{Name: "pfadd", Arity: -2, Flags: FlagWrite | FlagDenyOOM | FlagFast, FirstKey: 1, LastKey: 1, Step: 1, Proc: pfaddCommand},
		&Command{Name: "pfcount", Arity: -2, Flags: FlagReadOnly, FirstKey: 1, LastKey: -1, Step: 1, Proc: pfcountCommand},
		&Command{Name: "pfmerge", Arity: -2, Flags: FlagWrite | FlagDenyOOM, FirstKey: 1, LastKey: -1, Step: 1, Proc: pfmergeCommand},
		&Command{Name: "pfdebug", Arity: 3, Flags: FlagWrite | FlagDenyOOM | FlagAdmin, FirstKey: 2, LastKey: 2, Step: 1, Proc: pfdebugCommand},
		&Command{Name: "pfselftest", Arity: 1, Flags: FlagAdmin, Proc: pfselftestCommand},
	)
}

const (
	errHLLWrongType = "WRONGTYPE Key is not a valid HyperLogLog string value."
	errHLLInvalid   = "INVALIDOBJ Corrupted HLL object detected"
)

// hllCheck replies the error Redis gives for a key that is not a HLL
// (WRONGTYPE for other types, its own WRONGTYPE for other strings).
func (c *client) hllCheck(e *Entry) bool {
	if e.typ != TypeString {
		c.addError(errWrongType)
		return false
	}
	if !isHLL(e.Str()) {
		c.addError(errHLLWrongType)
		return false
	}
	return true
}

func (c *client) hllSparseMax() int64 { return c.s.cfg.HLLSparseMaxBytes }

func pfaddCommand(c *client, argv [][]byte) {
	db := c.db
	e := db.Lookup(argv[1])
	updated := 0
	if e == nil {
		e = NewStringEntry(newHLL())
		e.enc = encRaw
		db.Add(argv[1], e)
		updated++
	} else {
		if !c.hllCheck(e) {
			return
		}
		e.enc = encRaw
	}
	h := hll{v: e.Str(), maxBytes: c.hllSparseMax()}
	for _, ele := range argv[2:] {
		n, err := h.add(ele)
		if err != nil {
			e.setStr(h.v)
			if updated > 0 {
				db.Modified(argv[1], e)
			}
			c.addError(errHLLInvalid)
			return
		}
		updated += n
	}
	e.setStr(h.v)
	if updated > 0 {
		hllInvalidateCache(e.Str())
		db.Modified(argv[1], e)
		c.notify(notifyString, "pfadd", argv[1])
		c.addInt(1)
		return
	}
	c.addInt(0)
}

func pfcountCommand(c *client, argv [][]byte) {
	db := c.db
	if len(argv) > 2 {
		var max [hllRegisters]uint8
		for _, key := range argv[1:] {
			e := db.LookupRead(key)
			if e == nil {
				continue
			}
			if !c.hllCheck(e) {
				return
			}
			if hllMergeInto(&max, e.Str()) != nil {
				c.addError(errHLLInvalid)
				return
			}
		}
		histo := rawRegHisto(max[:])
		c.addInt(int64(hllEstimate(&histo)))
		return
	}
	e := db.LookupRead(argv[1])
	if e == nil {
		c.addInt(0)
		return
	}
	if !c.hllCheck(e) {
		return
	}
	e.enc = encRaw
	if hllCacheValid(e.Str()) {
		c.addInt(int64(hllCachedCard(e.Str())))
		return
	}
	histo, valid := hllRegHisto(e.Str())
	if !valid {
		c.addError(errHLLInvalid)
		return
	}
	card := hllEstimate(&histo)
	hllSetCachedCard(e.Str(), card)
	// Updating the cache changes the value: it is a write for WATCH and
	// replication, as in Redis.
	db.Modified(argv[1], e)
	c.addInt(int64(card))
}

func pfmergeCommand(c *client, argv [][]byte) {
	db := c.db
	var max [hllRegisters]uint8
	useDense := false
	for _, key := range argv[1:] {
		e := db.LookupRead(key)
		if e == nil {
			continue
		}
		if !c.hllCheck(e) {
			return
		}
		if e.Str()[4] == hllDense {
			useDense = true
		}
		if hllMergeInto(&max, e.Str()) != nil {
			c.addError(errHLLInvalid)
			return
		}
	}
	e := db.Lookup(argv[1])
	if e == nil {
		e = NewStringEntry(newHLL())
		db.Add(argv[1], e)
	}
	e.enc = encRaw
	h := hll{v: e.Str(), maxBytes: c.hllSparseMax()}
	if useDense {
		d, err := sparseToDense(h.v)
		if err != nil {
			c.addError(errHLLInvalid)
			return
		}
		h.v = d
	}
	for i, m := range max {
		if m == 0 {
			continue
		}
		// The destination was validated as a source; a failure here
		// cannot happen, and Redis ignores it too.
		_, _ = h.set(i, m)
	}
	e.setStr(h.v)
	hllInvalidateCache(e.Str())
	db.Modified(argv[1], e)
	c.notify(notifyString, "pfadd", argv[1])
	c.addOK()
}

func pfdebugCommand(c *client, argv [][]byte) {
	db := c.db
	sub := string(argv[1])
	e := db.Lookup(argv[2])
	if e == nil {
		c.addError("ERR The specified key does not exist")
		return
	}
	if !c.hllCheck(e) {
		return
	}
	e.enc = encRaw
	toDense := func() bool {
		d, err := sparseToDense(e.Str())
		if err != nil {
			c.addError(errHLLInvalid)
			return false
		}
		e.setStr(d)
		db.Modified(argv[2], e)
		return true
	}
	switch strings.ToLower(sub) {
	case "getreg":
		if e.Str()[4] == hllSparse && !toDense() {
			return
		}
		regs := e.Str()[hllHdrSize:]
		c.addArrayLen(hllRegisters)
		for i := 0; i < hllRegisters; i++ {
			c.addInt(int64(denseGet(regs, i)))
		}
	case "decode":
		if e.Str()[4] != hllSparse {
			c.addError("ERR HLL encoding is not sparse")
			return
		}
		var b strings.Builder
		v := e.Str()
		for p := hllHdrSize; p < len(v); {
			op := v[p]
			switch {
			case isZero(op):
				fmt.Fprintf(&b, "z:%d ", zeroLen(op))
				p++
			case isXZero(op):
				fmt.Fprintf(&b, "Z:%d ", xzeroLen(v[p:]))
				p += 2
			default:
				fmt.Fprintf(&b, "v:%d,%d ", valValue(op), valLen(op))
				p++
			}
		}
		c.addBulkString(strings.Trim(b.String(), " "))
	case "encoding":
		if e.Str()[4] == hllDense {
			c.addSimple("dense")
		} else {
			c.addSimple("sparse")
		}
	case "todense":
		if e.Str()[4] == hllSparse {
			if !toDense() {
				return
			}
			c.addInt(1)
			return
		}
		c.addInt(0)
	default:
		c.addError(fmt.Sprintf("ERR Unknown PFDEBUG subcommand '%s'", sub))
	}
}

// pfselftestCommand checks the register packing and the estimator the way
// Redis's PFSELFTEST does: random register round trips, then dense and
// sparse HLLs fed the same elements must agree and stay within six
// standard errors at every power of ten up to 10^7.
func pfselftestCommand(c *client, argv [][]byte) {
	if msg := hllSelfTest(c.hllSparseMax()); msg != "" {
		c.addError(msg)
		return
	}
	c.addOK()
}

func hllSelfTest(sparseMax int64) string {
	const cycles = 1000
	dense := make([]byte, hllDenseSize)
	copy(dense, "HYLL")
	regs := dense[hllHdrSize:]
	var want [hllRegisters]uint8
	for j := 0; j < cycles; j++ {
		for i := range want {
			r := uint8(rand.Uint32() & hllRegMax)
			want[i] = r
			denseSet(regs, i, r)
		}
		for i := range want {
			if got := denseGet(regs, i); got != want[i] {
				return fmt.Sprintf("ERR TESTFAILED Register error, HLL_DENSE_GET_REGISTER returned %d, expected %d", got, want[i])
			}
		}
	}

	clear(regs)
	sparse := hll{v: newHLL(), maxBytes: sparseMax}
	relerr := 1.04 / math.Sqrt(hllRegisters)
	checkpoint := int64(1)
	seed := rand.Uint64()
	count := func(v []byte) uint64 {
		h, _ := hllRegHisto(v)
		return hllEstimate(&h)
	}
	// Once the sparse HLL has been promoted (and found equal to the dense
	// one), both would run the same dense code on the same input: from
	// then on only one is fed, which keeps this 10^7-element test fast.
	merged := false
	for j := int64(1); j <= 10000000; j++ {
		idx, cnt := hllRegisterOf(murmurHash64AUint64(uint64(j)^seed, hllSeed))
		denseSetMax(regs, idx, cnt)
		if !merged {
			if _, err := sparse.set(idx, cnt); err != nil {
				return "ERR TESTFAILED sparse HLL corrupted"
			}
			if sparse.v[4] == hllDense {
				if string(sparse.v[hllHdrSize:]) != string(regs) {
					return "ERR TESTFAILED dense/sparse disagree"
				}
				merged = true
			}
		}
		if j != checkpoint {
			continue
		}
		if j < sparseMax/2 && sparse.v[4] != hllSparse {
			return "ERR TESTFAILED sparse encoding not used"
		}
		dc := count(dense)
		if !merged && dc != count(sparse.v) {
			return "ERR TESTFAILED dense/sparse disagree"
		}
		abserr := checkpoint - int64(dc)
		maxerr := uint64(math.Ceil(relerr * 6 * float64(checkpoint)))
		if j == 10 {
			maxerr = 1
		}
		if abserr < 0 {
			abserr = -abserr
		}
		if abserr > int64(maxerr) {
			return fmt.Sprintf("ERR TESTFAILED Too big error. card:%d abserr:%d", checkpoint, abserr)
		}
		checkpoint *= 10
	}
	return ""
}
