package server

import (
	"bytes"
	"math"
	"slices"
	"strconv"
	"strings"
)

// SORT and SORT_RO (Redis 7.0 sortCommandGeneric).

func init() {
	register(
		&Command{Name: "sort", Arity: -2, Flags: FlagWrite | FlagDenyOOM, FirstKey: 1, LastKey: 1, Step: 1, Proc: sortCommand},
		&Command{Name: "sort_ro", Arity: -2, Flags: FlagReadOnly, FirstKey: 1, LastKey: 1, Step: 1, Proc: sortroCommand},
	)
}

func sortCommand(c *client, argv [][]byte)   { c.sortGeneric(argv, false) }
func sortroCommand(c *client, argv [][]byte) { c.sortGeneric(argv, true) }

// sortItem is one element of the sort vector.
type sortItem struct {
	obj   []byte
	score float64
	cmp   []byte // BY value for ALPHA sorting (nil when missing)
}

func (c *client) sortGeneric(argv [][]byte, readonly bool) {
	var (
		desc, alpha, dontsort bool
		limitStart, limitCnt  int64 = 0, -1
		sortby, storekey      []byte
		gets                  [][]byte
	)
	for j := 2; j < len(argv); j++ {
		left := len(argv) - j - 1
		switch a := argv[j]; {
		case eqFold(a, "asc"):
			desc = false
		case eqFold(a, "desc"):
			desc = true
		case eqFold(a, "alpha"):
			alpha = true
		case eqFold(a, "limit") && left >= 2:
			s, ok1 := parseInt64(argv[j+1])
			n, ok2 := parseInt64(argv[j+2])
			if !ok1 || !ok2 {
				c.addError(errNotInt)
				return
			}
			limitStart, limitCnt = s, n
			j += 2
		case !readonly && eqFold(a, "store") && left >= 1:
			storekey = argv[j+1]
			j++
		case eqFold(a, "by") && left >= 1:
			sortby = argv[j+1]
			dontsort = bytes.IndexByte(sortby, '*') < 0
			j++
		case eqFold(a, "get") && left >= 1:
			gets = append(gets, argv[j+1])
			j++
		default:
			c.addError(errSyntax)
			return
		}
	}
	db := c.db
	e := db.LookupRead(argv[1])
	var obj Object
	if e != nil {
		switch e.typ {
		case TypeList, TypeSet, TypeZSet:
			obj = e.Obj()
		default:
			c.addError(errWrongType)
			return
		}
	}
	_, isSet := obj.(*setObject)
	if dontsort && isSet && (storekey != nil || c.isScriptClient()) {
		// A set has no order of its own: make STORE and scripts
		// deterministic.
		dontsort, alpha, sortby = false, true, nil
	}
	if z, ok := obj.(*zsetObject); ok && z.tree == nil {
		// Like Redis, convert a packed sorted set for good before sorting
		// it (the value does not change: only its memory is accounted).
		// SORT_RO is a reader: serialize a pending snapshot shard first.
		db.cow(SlotOf(argv[1]))
		z.convert()
		n := entrySize(string(argv[1]), e)
		db.ks.used += n - e.mem
		e.mem = n
	}
	vectorlen := 0
	switch o := obj.(type) {
	case *listObj:
		vectorlen = o.Len()
	case *setObject:
		vectorlen = o.Len()
	case *zsetObject:
		vectorlen = o.Len()
	}
	start := max(limitStart, 0)
	end := int64(vectorlen - 1)
	if limitCnt >= 0 {
		end = start + limitCnt - 1
	}
	if start >= int64(vectorlen) {
		start, end = int64(vectorlen-1), int64(vectorlen-2)
	}
	end = min(end, int64(vectorlen-1))

	var vec []sortItem
	switch o := obj.(type) {
	case *listObj:
		if dontsort {
			// Native order (reversed for DESC), only the LIMIT range.
			if end >= start {
				idx, n := int(start), int(end-start+1)
				if desc {
					idx = vectorlen - 1 - idx
				}
				o.iterate(idx, !desc, func(_ int, v []byte) bool {
					vec = append(vec, sortItem{obj: slices.Clone(v)})
					return len(vec) < n
				})
				end -= start
				start = 0
			}
		} else {
			o.Each(func(v []byte) bool {
				vec = append(vec, sortItem{obj: slices.Clone(v)})
				return true
			})
		}
	case *setObject:
		o.each(func(m string) bool {
			vec = append(vec, sortItem{obj: []byte(m)})
			return true
		})
	case *zsetObject:
		if dontsort {
			if end >= start {
				idx, n := int(start), int(end-start+1)
				if desc {
					idx = vectorlen - 1 - idx
				}
				o.Range(idx, n, desc, func(m string, _ float64) bool {
					vec = append(vec, sortItem{obj: []byte(m)})
					return true
				})
				end -= start
				start = 0
			}
		} else {
			o.Range(0, vectorlen, false, func(m string, _ float64) bool {
				vec = append(vec, sortItem{obj: []byte(m)})
				return true
			})
		}
	}

	convErr := false
	if !dontsort {
		for i := range vec {
			it := &vec[i]
			byval := it.obj
			if sortby != nil {
				v, ok := c.sortLookup(sortby, it.obj)
				if !ok {
					continue
				}
				byval = v
			}
			if alpha {
				if sortby != nil {
					it.cmp = byval
				}
			} else {
				f, ok := strtodWholeBytes(byval)
				if !ok {
					convErr = true
				}
				it.score = f
			}
		}
		slices.SortFunc(vec, func(a, b sortItem) int {
			var r int
			switch {
			case !alpha:
				switch {
				case a.score > b.score:
					r = 1
				case a.score < b.score:
					r = -1
				default:
					r = bytes.Compare(a.obj, b.obj)
				}
			case sortby != nil:
				switch {
				case a.cmp == nil && b.cmp == nil:
					r = 0
				case a.cmp == nil:
					r = -1
				case b.cmp == nil:
					r = 1
				default:
					r = bytes.Compare(a.cmp, b.cmp)
				}
			default:
				r = bytes.Compare(a.obj, b.obj)
			}
			if desc {
				return -r
			}
			return r
		})
	}

	outputlen := int(end - start + 1)
	if len(gets) > 0 {
		outputlen *= len(gets)
	}
	if convErr {
		c.addError("ERR One or more scores can't be converted into double")
		return
	}
	if storekey == nil {
		c.addArrayLen(outputlen)
		for j := start; j <= end; j++ {
			if len(gets) == 0 {
				c.addBulk(vec[j].obj)
			}
			for _, g := range gets {
				if v, ok := c.sortLookup(g, vec[j].obj); ok {
					c.addBulk(v)
				} else {
					c.addNull()
				}
			}
		}
		return
	}
	l := newListObj()
	for j := start; j <= end; j++ {
		if len(gets) == 0 {
			l.pushBack(vec[j].obj)
		}
		for _, g := range gets {
			v, _ := c.sortLookup(g, vec[j].obj)
			l.pushBack(v) // a missing value is stored as ""
		}
	}
	if outputlen > 0 {
		db.Set(storekey, NewObjectEntry(l), false)
		db.signalListReady(storekey)
		c.notify(notifyList, "sortstore", storekey)
	} else if db.Delete(storekey) {
		c.notify(notifyGeneric, "del", storekey)
	}
	c.addInt(int64(outputlen))
}

// sortLookup resolves a BY/GET pattern for one element (Redis's
// lookupKeyByPattern): "#" is the element itself; otherwise the first '*'
// is replaced by the element, and "key->field" reads a hash field. Only
// strings (or hash fields) yield values. The result may alias the
// keyspace and is valid during the command.
func (c *client) sortLookup(pattern, subst []byte) ([]byte, bool) {
	if len(pattern) == 1 && pattern[0] == '#' {
		return subst, true
	}
	p := bytes.IndexByte(pattern, '*')
	if p < 0 {
		return nil, false
	}
	var field []byte
	keyPat := pattern
	if f := bytes.Index(pattern[p+1:], []byte("->")); f >= 0 && p+1+f+2 < len(pattern) {
		field = pattern[p+1+f+2:]
		keyPat = pattern[:p+1+f]
	}
	key := make([]byte, 0, len(keyPat)-1+len(subst))
	key = append(key, keyPat[:p]...)
	key = append(key, subst...)
	key = append(key, keyPat[p+1:]...)
	e := c.db.LookupNoTouch(key)
	if e == nil {
		c.notify(notifyKeyMiss, "keymiss", key)
		return nil, false
	}
	if field != nil {
		h := e.hash()
		if h == nil {
			return nil, false
		}
		return h.get(field)
	}
	if e.typ != TypeString {
		return nil, false
	}
	return e.Str(), true
}

// strtodWholeBytes converts like C strtod and accepts the value only if the
// whole string was consumed, it is not NaN and did not overflow (SORT's
// rule). An empty string is 0.
func strtodWholeBytes(b []byte) (float64, bool) {
	if len(b) == 0 {
		return 0, true
	}
	s := strings.TrimLeft(string(b), " \t\n\v\f\r")
	if s == "" || strings.ContainsRune(s, '_') {
		return 0, false
	}
	f, err := strconv.ParseFloat(s, 64)
	if err != nil {
		// C accepts hexadecimal without a binary exponent.
		t := strings.TrimLeft(s, "+-")
		if len(t) > 2 && (t[:2] == "0x" || t[:2] == "0X") && !strings.ContainsAny(t, "pP.") {
			u, err := strconv.ParseUint(t[2:], 16, 64)
			if err != nil {
				return 0, false
			}
			f = float64(u)
			if s[0] == '-' {
				f = -f
			}
			return f, true
		}
		return 0, false
	}
	if math.IsNaN(f) {
		return 0, false
	}
	return f, true
}
