package server

import (
	"math"
	"strconv"
	"strings"
)

// Sorted set values. Like Redis 7.0, a zset is a "listpack" (here a slice
// sorted by score then member) while it has at most
// zset-max-listpack-entries members of at most zset-max-listpack-value
// bytes (encLimits), and ordered members plus a member index afterwards,
// reported as "skiplist" like Redis although the order is kept in a B+
// tree (zbtree); the conversion is one-way.

// Redis's zset-max-listpack-entries and zset-max-listpack-value defaults.
const (
	zsetMaxListpackEntries = 128
	zsetMaxListpackValue   = 64
)

// zent is one member of a sorted set.
type zent struct {
	member string
	score  float64
}

type zsetObject struct {
	lp   zlp                // listpack encoding (when tree == nil)
	tree *zbtree            // skiplist encoding: order
	dict map[string]float64 // skiplist encoding: member → score
	mem  int64              // running estimate of the members' cost
	peak int                // largest len(dict) since dict was built
}

// Memory estimates: a listpack costs its buffer; per member of the larger
// encoding its tree entry (24 bytes in leaves about 70 % full), its map
// slot (24 bytes at 7/8 load plus control bytes) and the string, which
// the tree and the map share.
const (
	zsetObjOverhead    = 64
	zsetMemberOverhead = 34 + 28
)

func newZsetObject() *zsetObject { return &zsetObject{} }

func (z *zsetObject) Type() ValueType { return TypeZSet }

func (z *zsetObject) Encoding() string {
	if z.tree == nil {
		return "listpack"
	}
	return "skiplist"
}

func (z *zsetObject) MemSize() int64 {
	if z.tree == nil {
		return zsetObjOverhead + int64(cap(z.lp.buf))
	}
	return zsetObjOverhead + z.mem
}

func (z *zsetObject) Copy() Object {
	if z.tree == nil {
		return &zsetObject{lp: z.lp.clone()}
	}
	n := &zsetObject{}
	n.toSkiplist(z.Len())
	for p := z.tree.byRank(1); p.valid(); p = p.next() {
		n.slInsert(p.member(), p.score())
	}
	return n
}

func memberCost(member string) int64 {
	return zsetMemberOverhead + strAlloc(len(member))
}

// Len returns the number of members.
func (z *zsetObject) Len() int {
	if z.tree == nil {
		return z.lp.n
	}
	return z.tree.length
}

// Score returns the score of member.
func (z *zsetObject) Score(member string) (float64, bool) {
	if z.tree == nil {
		if off, _, sc := z.lp.find(member); off >= 0 {
			return sc, true
		}
		return 0, false
	}
	sc, ok := z.dict[member]
	return sc, ok
}

func (z *zsetObject) toSkiplist(hint int) {
	z.tree = newZbtree(hint)
	z.dict = make(map[string]float64, hint)
	z.mem = 0
}

// convert switches to the skiplist encoding.
func (z *zsetObject) convert() {
	lp := z.lp
	z.lp = zlp{}
	z.toSkiplist(lp.n + 1)
	for o := 0; o < len(lp.buf); {
		m, sc, next := lp.entry(o)
		z.slInsert(string(m), sc)
		o = next
	}
}

func (z *zsetObject) slInsert(member string, score float64) {
	z.tree.insert(score, member)
	z.dict[member] = score
	z.mem += memberCost(member)
	z.peak = max(z.peak, len(z.dict))
}

// Insert adds a member that is not present, converting the encoding when
// the listpack limits lim (Server.encLimits) would be exceeded.
func (z *zsetObject) Insert(member string, score float64, lim *encLimits) {
	if z.tree == nil && (z.lp.n >= lim.zsetEntries || len(member) > lim.zsetValue) {
		z.convert()
	}
	if z.tree != nil {
		z.slInsert(member, score)
		return
	}
	z.lp.insert(z.lp.insertPos(score, member), member, score)
}

// Update changes the score of a present member from old (its score, as
// Score returned it) to score.
func (z *zsetObject) Update(member string, old, score float64) {
	if z.tree != nil {
		// Assigning with the tree's copy of the member keeps the map
		// sharing it (an assignment replaces the map's key).
		m := z.tree.updateScore(old, member, score)
		z.dict[m] = score
		return
	}
	off, _, _ := z.lp.find(member)
	_, _, next := z.lp.entry(off)
	z.lp.deleteRange(off, next, 1)
	z.lp.insert(z.lp.insertPos(score, member), member, score)
}

// Delete removes member and reports whether it was present.
func (z *zsetObject) Delete(member string) bool {
	if z.tree == nil {
		off, _, _ := z.lp.find(member)
		if off < 0 {
			return false
		}
		_, _, next := z.lp.entry(off)
		z.lp.deleteRange(off, next, 1)
		return true
	}
	sc, ok := z.dict[member]
	if !ok {
		return false
	}
	z.mem -= memberCost(member)
	delete(z.dict, member)
	z.tree.delete(sc, member)
	if z.peak >= mapShrinkMin && len(z.dict) < z.peak/4 {
		// Rebuild to release the table of a zset that shrank a lot.
		d := make(map[string]float64, len(z.dict))
		for k, v := range z.dict {
			d[k] = v
		}
		z.dict, z.peak = d, len(d)
	}
	return true
}

// DeleteRanks removes the members of 0-based ranks [lo, hi).
func (z *zsetObject) DeleteRanks(lo, hi int) {
	if lo >= hi {
		return
	}
	if z.tree == nil {
		from := z.lp.offsetOf(lo)
		to := from
		for i := lo; i < hi; i++ {
			_, _, to = z.lp.entry(to)
		}
		z.lp.deleteRange(from, to, hi-lo)
		return
	}
	var victims []string
	z.Range(lo, hi-lo, false, func(m string, _ float64) bool {
		victims = append(victims, m)
		return true
	})
	for _, m := range victims {
		z.Delete(m)
	}
}

// Rank returns the 0-based rank of member in ascending order.
func (z *zsetObject) Rank(member string) (int, bool) {
	if z.tree == nil {
		_, i, _ := z.lp.find(member)
		return i, i >= 0
	}
	sc, ok := z.dict[member]
	if !ok {
		return 0, false
	}
	return z.tree.rank(sc, member) - 1, true
}

// CountBefore returns the number of members satisfying before, which must
// hold for a prefix of the order.
func (z *zsetObject) CountBefore(before func(score float64, member string) bool) int {
	if z.tree == nil {
		n := 0
		for o := 0; o < len(z.lp.buf); n++ {
			m, sc, next := z.lp.entry(o)
			if !before(sc, zlpView(m)) {
				break
			}
			o = next
		}
		return n
	}
	return z.tree.countBefore(before)
}

// Range calls fn for up to n members starting at 0-based rank start,
// ascending, or descending from start when rev is set, until fn returns
// false.
func (z *zsetObject) Range(start, n int, rev bool, fn func(member string, score float64) bool) {
	if start < 0 || start >= z.Len() {
		return
	}
	if z.tree == nil {
		if !rev {
			for o := z.lp.offsetOf(start); n > 0 && o < len(z.lp.buf); n-- {
				m, sc, next := z.lp.entry(o)
				if !fn(string(m), sc) {
					return
				}
				o = next
			}
			return
		}
		// Entries only decode forwards: collect the offsets first.
		var stack [zsetMaxListpackEntries]int // grows past it when configured larger
		offs := stack[:0]
		for o, i := 0, 0; o < len(z.lp.buf) && i <= start; i++ {
			offs = append(offs, o)
			_, _, o = z.lp.entry(o)
		}
		for i := len(offs) - 1; i >= 0 && n > 0; i, n = i-1, n-1 {
			m, sc, _ := z.lp.entry(offs[i])
			if !fn(string(m), sc) {
				return
			}
		}
		return
	}
	for p := z.tree.byRank(start + 1); p.valid() && n > 0; n-- {
		if !fn(p.member(), p.score()) {
			return
		}
		if rev {
			p = p.prev()
		} else {
			p = p.next()
		}
	}
}

// All returns every member in order.
func (z *zsetObject) All() []zent {
	out := make([]zent, 0, z.Len())
	z.Range(0, z.Len(), false, func(m string, s float64) bool {
		out = append(out, zent{m, s})
		return true
	})
	return out
}

// zsetFromSorted builds a sorted set from members in (score, member)
// order, with the encoding Redis picks for a computed result.
func zsetFromSorted(ents []zent, lim *encLimits) *zsetObject {
	z := newZsetObject()
	maxLen := 0
	for _, e := range ents {
		maxLen = max(maxLen, len(e.member))
	}
	if len(ents) <= lim.zsetEntries && maxLen <= lim.zsetValue {
		size := 0
		for _, e := range ents {
			size += zlpEntrySize(e.member, e.score)
		}
		z.lp.buf = make([]byte, 0, size)
		for _, e := range ents {
			z.lp.appendSorted(e.member, e.score)
		}
		return z
	}
	z.toSkiplist(len(ents))
	for _, e := range ents {
		z.slInsert(e.member, e.score)
	}
	return z
}

// formatScore formats a double like Redis 7.0's addReplyDouble (%.17g).
func formatScore(f float64) string {
	switch {
	case math.IsInf(f, 1):
		return "inf"
	case math.IsInf(f, -1):
		return "-inf"
	}
	return strconv.FormatFloat(f, 'g', 17, 64)
}

func appendScore(dst []byte, f float64) []byte {
	switch {
	case math.IsInf(f, 1):
		return append(dst, "inf"...)
	case math.IsInf(f, -1):
		return append(dst, "-inf"...)
	}
	return strconv.AppendFloat(dst, f, 'g', 17, 64)
}

// lpScoreString is a score as a listpack stores it (ZSCAN of a small zset
// returns it raw): integral values as integers, others as %.17g.
func lpScoreString(f float64) string {
	if f == math.Trunc(f) && f > -9.2e18 && f < 9.2e18 {
		return strconv.FormatInt(int64(f), 10)
	}
	return formatScore(f)
}

// parseScoreStrict parses like Redis's getDoubleFromObject (strtod over the
// whole string, no leading space, no overflow or underflow to zero, no
// NaN).
func parseScoreStrict(b []byte) (float64, bool) {
	if len(b) == 0 || isSpaceByte(b[0]) {
		return 0, false
	}
	if f, ok := parseSmallInt(b); ok {
		return f, true
	}
	return strtodWhole(string(b))
}

// parseSmallInt is the fast path of score parsing: an optional sign and 1
// to 15 decimal digits, which strtod converts exactly.
func parseSmallInt(b []byte) (float64, bool) {
	neg := false
	if b[0] == '-' || b[0] == '+' {
		neg = b[0] == '-'
		b = b[1:]
	}
	if len(b) == 0 || len(b) > 15 {
		return 0, false
	}
	var n int64
	for _, c := range b {
		if c < '0' || c > '9' {
			return 0, false
		}
		n = n*10 + int64(c-'0')
	}
	f := float64(n)
	if neg {
		f = -f // -0 stays negative zero, as strtod gives
	}
	return f, true
}

// strtodWhole parses a complete strtod number (after any leading space was
// rejected or skipped by the caller). Overflow and underflow to zero fail.
func strtodWhole(s string) (float64, bool) {
	if s == "" || strings.ContainsAny(s, "_ \t\r\n\v\f") {
		return 0, false
	}
	body := s
	if body[0] == '+' || body[0] == '-' {
		body = body[1:]
	}
	lb := strings.ToLower(body)
	switch lb {
	case "inf", "infinity":
		if s[0] == '-' {
			return math.Inf(-1), true
		}
		return math.Inf(1), true
	}
	if strings.HasPrefix(lb, "n") || strings.HasPrefix(lb, "i") {
		return 0, false
	}
	if strings.HasPrefix(lb, "0x") && !strings.ContainsAny(lb, "p") {
		s += "p0"
	}
	f, err := strconv.ParseFloat(s, 64)
	if err != nil || math.IsNaN(f) || math.IsInf(f, 0) {
		return 0, false
	}
	if f == 0 && !strings.HasPrefix(lb, "0x") {
		// Underflow to zero is an error for strtod callers.
		mant := lb
		if i := strings.IndexByte(mant, 'e'); i >= 0 {
			mant = mant[:i]
		}
		if strings.Trim(mant, "0.") != "" {
			return 0, false
		}
	}
	return f, true
}

// parseRangeScore parses a bound of a score range the way zslParseRange
// does: bare strtod, so leading spaces, overflow to infinity and an empty
// string (0) are accepted; NaN is not.
func parseRangeScore(s string) (float64, bool) {
	if s == "" {
		return 0, true
	}
	t := strings.TrimLeft(s, " \t\r\n\v\f")
	if t == "" || strings.ContainsAny(t, "_ \t\r\n\v\f") {
		return 0, false
	}
	body := strings.ToLower(strings.TrimLeft(t, "+-"))
	if len(t)-len(body) > 1 {
		return 0, false
	}
	switch body {
	case "inf", "infinity":
		if t[0] == '-' {
			return math.Inf(-1), true
		}
		return math.Inf(1), true
	}
	if strings.HasPrefix(body, "n") || strings.HasPrefix(body, "i") {
		return 0, false
	}
	if strings.HasPrefix(body, "0x") && !strings.Contains(body, "p") {
		t += "p0"
	}
	f, err := strconv.ParseFloat(t, 64)
	if err != nil {
		if ne, ok := err.(*strconv.NumError); ok && ne.Err == strconv.ErrRange {
			return f, true
		}
		return 0, false
	}
	return f, !math.IsNaN(f)
}

// zScoreRange is a parsed score interval.
type zScoreRange struct {
	min, max     float64
	minex, maxex bool
}

func parseScoreRange(minb, maxb []byte) (zScoreRange, bool) {
	var r zScoreRange
	var ok bool
	parse := func(b []byte, v *float64, ex *bool) bool {
		s := string(b)
		if strings.HasPrefix(s, "(") {
			*ex = true
			s = s[1:]
		}
		*v, ok = parseRangeScore(s)
		return ok
	}
	if !parse(minb, &r.min, &r.minex) || !parse(maxb, &r.max, &r.maxex) {
		return r, false
	}
	return r, true
}

// bounds returns the ranks [lo, hi) of the members in the range.
func (r *zScoreRange) bounds(z *zsetObject) (int, int) {
	lo := z.CountBefore(func(s float64, _ string) bool { return s < r.min || (r.minex && s == r.min) })
	hi := z.CountBefore(func(s float64, _ string) bool { return s < r.max || (!r.maxex && s == r.max) })
	return lo, max(lo, hi)
}

// zLexBound is one end of a lexicographic range: -inf ("-"), +inf ("+"),
// or a string, inclusive or exclusive.
type zLexBound struct {
	inf int // -1 = "-", +1 = "+", 0 = s
	s   string
	ex  bool
}

func parseLexBound(b []byte) (zLexBound, bool) {
	if len(b) == 0 {
		return zLexBound{}, false
	}
	switch b[0] {
	case '+', '-':
		if len(b) != 1 {
			return zLexBound{}, false
		}
		if b[0] == '+' {
			return zLexBound{inf: 1, ex: true}, true
		}
		return zLexBound{inf: -1, ex: true}, true
	case '(':
		return zLexBound{s: string(b[1:]), ex: true}, true
	case '[':
		return zLexBound{s: string(b[1:])}, true
	}
	return zLexBound{}, false
}

// cmp compares a member with the bound.
func (b *zLexBound) cmp(m string) int {
	if b.inf != 0 {
		return -b.inf
	}
	return strings.Compare(m, b.s)
}

type zLexRange struct{ min, max zLexBound }

func parseLexRange(minb, maxb []byte) (zLexRange, bool) {
	var r zLexRange
	var ok1, ok2 bool
	r.min, ok1 = parseLexBound(minb)
	r.max, ok2 = parseLexBound(maxb)
	return r, ok1 && ok2
}

// empty reports a range that can hold nothing (min above max).
func (r *zLexRange) empty() bool {
	var c int
	switch {
	case r.min.inf != 0 && r.min.inf == r.max.inf:
		c = 0
	case r.min.inf == -1 || r.max.inf == 1:
		c = -1
	case r.min.inf == 1 || r.max.inf == -1:
		c = 1
	default:
		c = strings.Compare(r.min.s, r.max.s)
	}
	return c > 0 || (c == 0 && (r.min.ex || r.max.ex))
}

func (r *zLexRange) bounds(z *zsetObject) (int, int) {
	if r.empty() {
		return 0, 0
	}
	lo := z.CountBefore(func(_ float64, m string) bool {
		c := r.min.cmp(m)
		return c < 0 || (r.min.ex && c == 0)
	})
	hi := z.CountBefore(func(_ float64, m string) bool {
		c := r.max.cmp(m)
		return c < 0 || (!r.max.ex && c == 0)
	})
	return lo, max(lo, hi)
}
