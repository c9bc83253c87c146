package server

import (
	"cmp"
	"sort"
	"strings"
)

// zbtree is the ordered half of a large sorted set: a B+ tree of (score,
// member) pairs whose inner nodes count the entries under each child, so
// ranks are found in O(log n) while descending (an order-statistic tree).
//
// Redis uses a skip list here. A walk down a skip list of n members steps
// onto about 3·log4(n) nodes, each a cache miss on a large set, and each
// member costs a node allocation of about 100 bytes. A B+ tree with 63
// children per inner node and 61 entries per leaf reaches a member through
// about log62(n) nodes (4 for a million), searching each node's contiguous
// score array, and stores a member in 24 bytes of a leaf. Leaves are
// linked both ways for ordered walks.
//
// Separator keys: an inner node keeps for each child but the first a key
// that orders after every entry of the children before it and not after
// any entry of the child (its first entry when the separator was set;
// deletions may leave it lower than the child's first entry, which keeps
// the rule). Slot 0 holds the node's own lower bound, equal to its
// separator in the parent, so that moving children between siblings moves
// their separators with them.

const (
	zbtCap     = 63 // children per inner node
	zbtLeafCap = 61 // entries per leaf
)

// zbtLeaf is a leaf. Its arrays have zbtLeafCap entries, allocated with
// the leaf (zbtLeafFull: 1536 bytes, a size class), except in a tree that
// is a single leaf: that one starts with room for the members at hand and
// grows, so that a small sorted set in this encoding (a few members longer
// than zset-max-listpack-value) does not cost a full leaf.
type zbtLeaf struct {
	n          int
	prev, next *zbtLeaf
	scores     []float64 // len is the capacity
	members    []string
}

type zbtLeafFull struct {
	zbtLeaf
	s [zbtLeafCap]float64
	m [zbtLeafCap]string
}

func newZbtLeaf() *zbtLeaf {
	f := &zbtLeafFull{}
	f.scores, f.members = f.s[:], f.m[:]
	return &f.zbtLeaf
}

// zbtMinRoot is the smallest capacity of a single-leaf tree.
const zbtMinRoot = 4

// grow enlarges the arrays of a single-leaf tree's leaf.
func (l *zbtLeaf) grow() {
	c := min(2*len(l.scores), zbtLeafCap)
	scores, members := make([]float64, c), make([]string, c)
	copy(scores, l.scores[:l.n])
	copy(members, l.members[:l.n])
	l.scores, l.members = scores, members
}

type zbtInner struct {
	n       int  // children
	leaves  bool // children are leaves (lkids) rather than inner nodes (ikids)
	counts  [zbtCap]int
	scores  [zbtCap]float64 // separators, see above
	members [zbtCap]string
	lkids   [zbtCap]*zbtLeaf
	ikids   [zbtCap]*zbtInner
}

type zbtree struct {
	leaf   *zbtLeaf  // the root while the tree is one leaf
	root   *zbtInner // the root otherwise
	length int
	last   *zbtLeaf // the leaf holding the largest entries
}

// zbtPos is a member's place: leaf and index, or l == nil past either end.
type zbtPos struct {
	l *zbtLeaf
	i int
}

// newZbtree returns an empty tree with room for about hint entries before
// its single leaf grows.
func newZbtree(hint int) *zbtree {
	var l *zbtLeaf
	if hint >= zbtLeafCap {
		l = newZbtLeaf()
	} else {
		c := max(hint, zbtMinRoot)
		l = &zbtLeaf{scores: make([]float64, c), members: make([]string, c)}
	}
	return &zbtree{leaf: l, last: l}
}

func (p zbtPos) valid() bool    { return p.l != nil }
func (p zbtPos) member() string { return p.l.members[p.i] }
func (p zbtPos) score() float64 { return p.l.scores[p.i] }
func (p zbtPos) entry() zent    { return zent{p.l.members[p.i], p.l.scores[p.i]} }

func (p zbtPos) next() zbtPos {
	if p.i++; p.i < p.l.n {
		return p
	}
	for l := p.l.next; l != nil; l = l.next {
		if l.n > 0 {
			return zbtPos{l, 0}
		}
	}
	return zbtPos{}
}

func (p zbtPos) prev() zbtPos {
	if p.i > 0 {
		p.i--
		return p
	}
	for l := p.l.prev; l != nil; l = l.prev {
		if l.n > 0 {
			return zbtPos{l, l.n - 1}
		}
	}
	return zbtPos{}
}

// child returns the index of the child of in whose range holds (score,
// member): the last child whose separator does not order after it.
func (in *zbtInner) child(score float64, member string) int {
	lo, hi := 1, in.n
	for lo < hi {
		m := int(uint(lo+hi) >> 1)
		if s := in.scores[m]; score < s || (score == s && member < in.members[m]) {
			hi = m
		} else {
			lo = m + 1
		}
	}
	return lo - 1
}

// search returns the index of the first entry of l not ordering before
// (score, member).
func (l *zbtLeaf) search(score float64, member string) int {
	lo, hi := 0, l.n
	for lo < hi {
		m := int(uint(lo+hi) >> 1)
		if s := l.scores[m]; s < score || (s == score && l.members[m] < member) {
			lo = m + 1
		} else {
			hi = m
		}
	}
	return lo
}

func (l *zbtLeaf) insertAt(i int, score float64, member string) {
	copy(l.scores[i+1:l.n+1], l.scores[i:l.n])
	copy(l.members[i+1:l.n+1], l.members[i:l.n])
	l.scores[i], l.members[i] = score, member
	l.n++
}

func (l *zbtLeaf) removeAt(i int) {
	copy(l.scores[i:l.n-1], l.scores[i+1:l.n])
	copy(l.members[i:l.n-1], l.members[i+1:l.n])
	l.n--
	l.members[l.n] = ""
}

// countTo returns the entries under children [0, i).
func (in *zbtInner) countTo(i int) int {
	t := 0
	for _, c := range in.counts[:i] {
		t += c
	}
	return t
}

func (in *zbtInner) total() int { return in.countTo(in.n) }

// step goes down to child i: an inner node, or (nil and) a leaf.
func (in *zbtInner) step(i int) (*zbtInner, *zbtLeaf) {
	if in.leaves {
		return nil, in.lkids[i]
	}
	return in.ikids[i], nil
}

// insertKid puts a child with its separator and count at index i.
func (in *zbtInner) insertKid(i int, l *zbtLeaf, k *zbtInner, score float64, member string, count int) {
	n := in.n
	copy(in.counts[i+1:n+1], in.counts[i:n])
	copy(in.scores[i+1:n+1], in.scores[i:n])
	copy(in.members[i+1:n+1], in.members[i:n])
	in.counts[i], in.scores[i], in.members[i] = count, score, member
	if in.leaves {
		copy(in.lkids[i+1:n+1], in.lkids[i:n])
		in.lkids[i] = l
	} else {
		copy(in.ikids[i+1:n+1], in.ikids[i:n])
		in.ikids[i] = k
	}
	in.n++
}

func (in *zbtInner) removeKid(i int) {
	n := in.n
	copy(in.counts[i:n-1], in.counts[i+1:n])
	copy(in.scores[i:n-1], in.scores[i+1:n])
	copy(in.members[i:n-1], in.members[i+1:n])
	in.members[n-1] = ""
	if in.leaves {
		copy(in.lkids[i:n-1], in.lkids[i+1:n])
		in.lkids[n-1] = nil
	} else {
		copy(in.ikids[i:n-1], in.ikids[i+1:n])
		in.ikids[n-1] = nil
	}
	in.n--
}

// moveKids copies children [from, from+cnt) of src to index at of dst
// (src and dst may be the same node); the caller clears what was vacated.
func moveKids(dst *zbtInner, at int, src *zbtInner, from, cnt int) {
	copy(dst.counts[at:], src.counts[from:from+cnt])
	copy(dst.scores[at:], src.scores[from:from+cnt])
	copy(dst.members[at:], src.members[from:from+cnt])
	if src.leaves {
		copy(dst.lkids[at:], src.lkids[from:from+cnt])
	} else {
		copy(dst.ikids[at:], src.ikids[from:from+cnt])
	}
}

// clearKids drops the references held by child slots [from, to).
func (in *zbtInner) clearKids(from, to int) {
	clear(in.members[from:to])
	clear(in.lkids[from:to])
	clear(in.ikids[from:to])
}

// insert adds (score, member), which must not be present.
func (t *zbtree) insert(score float64, member string) {
	t.length++
	if t.root == nil {
		if r := t.leafInsert(t.leaf, score, member); r != nil {
			in := &zbtInner{n: 2, leaves: true}
			in.lkids[0], in.lkids[1] = t.leaf, r
			in.counts[0], in.counts[1] = t.leaf.n, r.n
			in.scores[1], in.members[1] = r.scores[0], r.members[0]
			t.root, t.leaf = in, nil
		}
		return
	}
	if r := t.innerInsert(t.root, score, member); r != nil {
		in := &zbtInner{n: 2}
		in.ikids[0], in.ikids[1] = t.root, r
		in.counts[0], in.counts[1] = t.root.total(), r.total()
		in.scores[1], in.members[1] = r.scores[0], r.members[0]
		t.root = in
	}
}

// leafInsert inserts into l, splitting it when full; it returns the new
// right sibling of a split.
func (t *zbtree) leafInsert(l *zbtLeaf, score float64, member string) *zbtLeaf {
	i := l.search(score, member)
	if l.n == len(l.scores) && l.n < zbtLeafCap {
		l.grow() // only a single-leaf tree's leaf is short
	}
	if l.n < len(l.scores) {
		l.insertAt(i, score, member)
		return nil
	}
	r := newZbtLeaf()
	r.prev, r.next = l, l.next
	if l.next != nil {
		l.next.prev = r
	} else {
		t.last = r
	}
	l.next = r
	h := zbtLeafCap / 2
	if i == zbtLeafCap && r.next == nil {
		h = zbtLeafCap // appending at the end: keep the left leaf full
	}
	r.n = copy(r.scores, l.scores[h:l.n])
	copy(r.members, l.members[h:l.n])
	clear(l.members[h:l.n])
	l.n = h
	if i <= h && h < zbtLeafCap {
		l.insertAt(i, score, member)
	} else {
		r.insertAt(i-h, score, member)
	}
	return r
}

// innerInsert inserts under in; it returns the new right sibling of a
// split of in.
func (t *zbtree) innerInsert(in *zbtInner, score float64, member string) *zbtInner {
	i := in.child(score, member)
	var (
		rl      *zbtLeaf
		ri      *zbtInner
		rs      float64
		rm      string
		rc, lc  int
		tailAdd bool
	)
	if in.leaves {
		l := in.lkids[i]
		if rl = t.leafInsert(l, score, member); rl == nil {
			in.counts[i]++
			return nil
		}
		lc, rc, rs, rm = l.n, rl.n, rl.scores[0], rl.members[0]
		tailAdd = rl.next == nil
	} else {
		k := in.ikids[i]
		if ri = t.innerInsert(k, score, member); ri == nil {
			in.counts[i]++
			return nil
		}
		rc = ri.total()
		lc = in.counts[i] + 1 - rc
		rs, rm = ri.scores[0], ri.members[0]
	}
	in.counts[i] = lc
	if in.n < zbtCap {
		in.insertKid(i+1, rl, ri, rs, rm, rc)
		return nil
	}
	// Split in, then place the new child in its half.
	r := &zbtInner{leaves: in.leaves}
	h := zbtCap / 2
	if tailAdd && i+1 == zbtCap {
		h = zbtCap
	}
	moveKids(r, 0, in, h, in.n-h)
	in.clearKids(h, in.n)
	r.n, in.n = in.n-h, h
	if i+1 <= h && h < zbtCap {
		in.insertKid(i+1, rl, ri, rs, rm, rc)
	} else {
		r.insertKid(i+1-h, rl, ri, rs, rm, rc)
	}
	return r
}

// find returns the position of the first entry not ordering before
// (score, member) (invalid past the end).
func (t *zbtree) find(score float64, member string) zbtPos {
	l := t.leaf
	for in := t.root; in != nil; {
		in, l = in.step(in.child(score, member))
	}
	i := l.search(score, member)
	if i == l.n {
		return zbtPos{l, i - 1}.next()
	}
	return zbtPos{l, i}
}

// contains reports whether (score, member) is present.
func (t *zbtree) contains(score float64, member string) bool {
	p := t.find(score, member)
	return p.valid() && p.score() == score && p.member() == member
}

// delete removes (score, member) and reports whether it was present.
func (t *zbtree) delete(score float64, member string) bool {
	if t.root == nil {
		l := t.leaf
		i := l.search(score, member)
		if i == l.n || l.scores[i] != score || l.members[i] != member {
			return false
		}
		l.removeAt(i)
		t.length--
		return true
	}
	if !t.innerDelete(t.root, score, member) {
		return false
	}
	t.length--
	for t.root != nil && t.root.n == 1 {
		if t.root.leaves {
			t.leaf, t.root = t.root.lkids[0], nil
		} else {
			t.root = t.root.ikids[0]
		}
	}
	return true
}

// zbtMin is the size below which a node is merged with or refilled from
// a sibling.
const zbtMin = zbtCap / 4

func (t *zbtree) innerDelete(in *zbtInner, score float64, member string) bool {
	i := in.child(score, member)
	var small bool
	if in.leaves {
		l := in.lkids[i]
		j := l.search(score, member)
		if j == l.n || l.scores[j] != score || l.members[j] != member {
			return false
		}
		l.removeAt(j)
		small = l.n < zbtMin
	} else {
		k := in.ikids[i]
		if !t.innerDelete(k, score, member) {
			return false
		}
		small = k.n < zbtMin
	}
	in.counts[i]--
	if small && in.n > 1 {
		if i == in.n-1 {
			i--
		}
		t.rebalance(in, i)
	}
	return true
}

// rebalance merges children i and i+1 of in when they fit in one node,
// and otherwise shares their entries evenly.
func (t *zbtree) rebalance(in *zbtInner, i int) {
	if in.leaves {
		a, b := in.lkids[i], in.lkids[i+1]
		if a.n+b.n <= zbtCap*3/4 {
			copy(a.scores[a.n:], b.scores[:b.n])
			copy(a.members[a.n:], b.members[:b.n])
			a.n += b.n
			a.next = b.next
			if b.next != nil {
				b.next.prev = a
			} else {
				t.last = a
			}
			in.counts[i] += in.counts[i+1]
			in.removeKid(i + 1)
			return
		}
		half := (a.n + b.n) / 2
		if a.n < half { // move the first half-a.n entries of b to a
			m := half - a.n
			copy(a.scores[a.n:], b.scores[:m])
			copy(a.members[a.n:], b.members[:m])
			a.n += m
			copy(b.scores[:], b.scores[m:b.n])
			copy(b.members[:], b.members[m:b.n])
			clear(b.members[b.n-m : b.n])
			b.n -= m
		} else { // move the last a.n-half entries of a to b
			m := a.n - half
			copy(b.scores[m:], b.scores[:b.n])
			copy(b.members[m:], b.members[:b.n])
			copy(b.scores[:], a.scores[half:a.n])
			copy(b.members[:], a.members[half:a.n])
			clear(a.members[half:a.n])
			a.n, b.n = half, b.n+m
		}
		in.counts[i], in.counts[i+1] = a.n, b.n
		in.scores[i+1], in.members[i+1] = b.scores[0], b.members[0]
		return
	}
	a, b := in.ikids[i], in.ikids[i+1]
	if a.n+b.n <= zbtCap*3/4 {
		moveKids(a, a.n, b, 0, b.n)
		a.n += b.n
		in.counts[i] += in.counts[i+1]
		in.removeKid(i + 1)
		return
	}
	half := (a.n + b.n) / 2
	if a.n < half {
		m := half - a.n
		moveKids(a, a.n, b, 0, m)
		a.n += m
		moveKids(b, 0, b, m, b.n-m)
		b.clearKids(b.n-m, b.n)
		b.n -= m
	} else {
		m := a.n - half
		moveKids(b, m, b, 0, b.n) // copy handles the overlap
		moveKids(b, 0, a, half, m)
		a.clearKids(half, a.n)
		a.n, b.n = half, b.n+m
	}
	in.counts[i], in.counts[i+1] = a.total(), b.total()
	in.scores[i+1], in.members[i+1] = b.scores[0], b.members[0]
}

// rank returns the 1-based rank of a present (score, member), or 0.
func (t *zbtree) rank(score float64, member string) int {
	r := 0
	l := t.leaf
	for in := t.root; in != nil; {
		i := in.child(score, member)
		r += in.countTo(i)
		in, l = in.step(i)
	}
	i := l.search(score, member)
	if i == l.n || l.scores[i] != score || l.members[i] != member {
		return 0
	}
	return r + i + 1
}

// byRank returns the position of 1-based rank r (invalid when out of
// range).
func (t *zbtree) byRank(r int) zbtPos {
	if r < 1 || r > t.length {
		return zbtPos{}
	}
	r--
	l := t.leaf
	for in := t.root; in != nil; {
		i := 0
		for ; i < in.n-1 && r >= in.counts[i]; i++ {
			r -= in.counts[i]
		}
		in, l = in.step(i)
	}
	return zbtPos{l, r}
}

// countBefore returns how many entries satisfy before, a predicate that
// holds for a prefix of the order (of all possible pairs, not only the
// present ones, as separators are tested too).
func (t *zbtree) countBefore(before func(score float64, member string) bool) int {
	r := 0
	l := t.leaf
	for in := t.root; in != nil; {
		// The child before the first separator (from 1) not before.
		i := sort.Search(in.n-1, func(k int) bool { return !before(in.scores[k+1], in.members[k+1]) })
		r += in.countTo(i)
		in, l = in.step(i)
	}
	return r + sort.Search(l.n, func(k int) bool { return !before(l.scores[k], l.members[k]) })
}

// zslLess orders (score, member) pairs.
func zslLess(s1 float64, m1 string, s2 float64, m2 string) bool {
	return s1 < s2 || (s1 == s2 && m1 < m2)
}

// zentCmp orders members like zslLess, for slices.SortFunc and
// slices.BinarySearchFunc.
func zentCmp(a, b zent) int {
	if c := cmp.Compare(a.score, b.score); c != 0 {
		return c // scores are never NaN
	}
	return strings.Compare(a.member, b.member)
}

// updateScore moves a present member from score old to score new. It
// returns the tree's copy of the member (the caller's may be another).
func (t *zbtree) updateScore(old float64, member string, new float64) string {
	p := t.find(old, member)
	l, i := p.l, p.i
	member = l.members[i]
	// In place when the order within the leaf holds and the entry stays on
	// its side of the separators: the first entry may only grow, the last
	// only shrink.
	lowOK := new >= old
	if i > 0 {
		s := l.scores[i-1]
		lowOK = s < new || (s == new && l.members[i-1] < member)
	}
	highOK := new <= old
	if i < l.n-1 {
		s := l.scores[i+1]
		highOK = new < s || (new == s && member < l.members[i+1])
	}
	if lowOK && highOK {
		l.scores[i] = new
		return member
	}
	t.delete(old, member)
	t.insert(new, member)
	return member
}
