package server

import (
	"math/rand/v2"
	"unsafe"
)

// zskiplist is the ordered half of a large sorted set: a skip list ordered
// by (score, member) whose links carry spans (the number of level-0 steps
// they jump), so ranks are computed in O(log n) while walking (Pugh's skip
// list with the rank extension Redis uses).

const (
	zslMaxLevel = 32
	// zslP is the level promotion probability (1/4), as a threshold on 16
	// random bits.
	zslPThreshold = 0xFFFF / 4
)

// zslLevel is one link of a node. It caches the score of the node it
// points to, so a walk decides whether to step forward without touching
// that node: a large set's walk is bound by cache misses, one per node
// stepped onto instead of one per node compared.
type zslLevel struct {
	forward *zslNode
	span    int
	score   float64 // forward.score (when forward != nil)
}

type zslNode struct {
	member   string
	score    float64
	backward *zslNode
	level    []zslLevel // the lv array of the zslNodeN holding the node
}

type zskiplist struct {
	head   *zslNode
	tail   *zslNode
	length int
	level  int
}

func newZskiplist() *zskiplist {
	return &zskiplist{head: newZslNode(zslMaxLevel, 0, ""), level: 1}
}

// Every node, the head included, is allocated together with its level
// array, right after it (zslNodeN with N levels or more), so stepping
// through a node costs one cache miss, not two: a walk over a large set is
// bound by those misses. As the array is at the same offset in every
// node, a walk reaches level i of a node at a fixed address (zslNode.lv)
// without first loading the level slice from the node.
type (
	zslNode1 struct {
		zslNode
		lv [1]zslLevel
	}
	zslNode2 struct {
		zslNode
		lv [2]zslLevel
	}
	zslNode3 struct {
		zslNode
		lv [3]zslLevel
	}
	zslNode4 struct {
		zslNode
		lv [4]zslLevel
	}
	zslNode8 struct {
		zslNode
		lv [8]zslLevel
	}
	zslNode16 struct {
		zslNode
		lv [16]zslLevel
	}
	zslNode32 struct {
		zslNode
		lv [zslMaxLevel]zslLevel
	}
)

// zslLevelsOff is the offset of the level array in every zslNodeN.
const zslLevelsOff = unsafe.Offsetof(zslNode1{}.lv)

// lv returns &x.level[i] for i < len(x.level), read at its fixed place
// in x's allocation (see zslNode1).
func (x *zslNode) lv(i int) *zslLevel {
	return (*zslLevel)(unsafe.Add(unsafe.Pointer(x), zslLevelsOff+uintptr(i)*unsafe.Sizeof(zslLevel{})))
}

func newZslNode(lvl int, score float64, member string) *zslNode {
	var n *zslNode
	switch {
	case lvl == 1:
		x := &zslNode1{}
		n = &x.zslNode
		n.level = x.lv[:]
	case lvl == 2:
		x := &zslNode2{}
		n = &x.zslNode
		n.level = x.lv[:]
	case lvl == 3:
		x := &zslNode3{}
		n = &x.zslNode
		n.level = x.lv[:]
	case lvl == 4:
		x := &zslNode4{}
		n = &x.zslNode
		n.level = x.lv[:]
	case lvl <= 8:
		x := &zslNode8{}
		n = &x.zslNode
		n.level = x.lv[:lvl]
	case lvl <= 16:
		x := &zslNode16{}
		n = &x.zslNode
		n.level = x.lv[:lvl]
	default:
		x := &zslNode32{}
		n = &x.zslNode
		n.level = x.lv[:lvl]
	}
	n.score, n.member = score, member
	return n
}

func zslRandomLevel() int {
	l := 1
	for l < zslMaxLevel && rand.Uint32()&0xFFFF < zslPThreshold {
		l++
	}
	return l
}

// zslLess orders (score, member) pairs.
func zslLess(s1 float64, m1 string, s2 float64, m2 string) bool {
	return s1 < s2 || (s1 == s2 && m1 < m2)
}

// before reports whether the node l points to orders before (score,
// member), comparing the cached score and only on a tie the member.
func (l *zslLevel) before(score float64, member string) bool {
	return l.forward != nil && (l.score < score || (l.score == score && l.forward.member < member))
}

// insert adds a member that must not be present.
func (z *zskiplist) insert(score float64, member string) *zslNode {
	var update [zslMaxLevel]*zslNode
	var rank [zslMaxLevel]int
	x := z.head
	for i := z.level - 1; i >= 0; i-- {
		if i < z.level-1 {
			rank[i] = rank[i+1]
		}
		for l := x.lv(i); l.before(score, member); l = x.lv(i) {
			rank[i] += l.span
			x = l.forward
		}
		update[i] = x
	}
	lvl := zslRandomLevel()
	if lvl > z.level {
		for i := z.level; i < lvl; i++ {
			rank[i] = 0
			update[i] = z.head
			update[i].level[i].span = z.length
		}
		z.level = lvl
	}
	n := newZslNode(lvl, score, member)
	for i := 0; i < lvl; i++ {
		ul := &update[i].level[i]
		n.level[i].forward, n.level[i].score = ul.forward, ul.score
		ul.forward, ul.score = n, score
		n.level[i].span = ul.span - (rank[0] - rank[i])
		ul.span = rank[0] - rank[i] + 1
	}
	for i := lvl; i < z.level; i++ {
		update[i].level[i].span++
	}
	if update[0] != z.head {
		n.backward = update[0]
	}
	if n.level[0].forward != nil {
		n.level[0].forward.backward = n
	} else {
		z.tail = n
	}
	z.length++
	return n
}

func (z *zskiplist) unlink(x *zslNode, update *[zslMaxLevel]*zslNode) {
	for i := 0; i < z.level; i++ {
		if update[i].level[i].forward == x {
			update[i].level[i].span += x.level[i].span - 1
			update[i].level[i].forward = x.level[i].forward
			update[i].level[i].score = x.level[i].score
		} else {
			update[i].level[i].span--
		}
	}
	if x.level[0].forward != nil {
		x.level[0].forward.backward = x.backward
	} else {
		z.tail = x.backward
	}
	for z.level > 1 && z.head.level[z.level-1].forward == nil {
		z.level--
	}
	z.length--
}

// find fills update with the last node before (score, member) on each
// level and returns the node after it on level 0 (nil at the end).
func (z *zskiplist) find(score float64, member string, update *[zslMaxLevel]*zslNode) *zslNode {
	x := z.head
	for i := z.level - 1; i >= 0; i-- {
		for l := x.lv(i); l.before(score, member); l = x.lv(i) {
			x = l.forward
		}
		update[i] = x
	}
	return x.level[0].forward
}

// delete removes the node with this score and member; it reports whether it
// was found.
func (z *zskiplist) delete(score float64, member string) bool {
	var update [zslMaxLevel]*zslNode
	x := z.find(score, member, &update)
	if x == nil || x.score != score || x.member != member {
		return false
	}
	z.unlink(x, &update)
	return true
}

// updateScore moves node n (present) to a new score and returns the node
// now holding the member.
func (z *zskiplist) updateScore(n *zslNode, newScore float64) *zslNode {
	inPlace := (n.backward == nil || n.backward.score < newScore) &&
		(n.level[0].forward == nil || n.level[0].forward.score > newScore)
	if inPlace && len(n.level) == 1 {
		// The order holds and the only link to n is its predecessor's.
		prev := n.backward
		if prev == nil {
			prev = z.head
		}
		n.score, prev.level[0].score = newScore, newScore
		return n
	}
	var update [zslMaxLevel]*zslNode
	z.find(n.score, n.member, &update)
	if inPlace {
		// Change the score in place, and in the links to n that cache it.
		n.score = newScore
		for i := range n.level {
			update[i].level[i].score = newScore
		}
		return n
	}
	z.unlink(n, &update)
	return z.insert(newScore, n.member)
}

// rank returns the 1-based rank of a present (score, member), or 0.
func (z *zskiplist) rank(score float64, member string) int {
	r := 0
	x := z.head
	for i := z.level - 1; i >= 0; i-- {
		for l := x.lv(i); l.forward != nil && !(score < l.score || (score == l.score && member < l.forward.member)); l = x.lv(i) {
			r += l.span
			x = l.forward
		}
		if x != z.head && x.member == member && x.score == score {
			return r
		}
	}
	return 0
}

// byRank returns the node of 1-based rank r, or nil.
func (z *zskiplist) byRank(r int) *zslNode {
	if r < 1 || r > z.length {
		return nil
	}
	traversed := 0
	x := z.head
	for i := z.level - 1; i >= 0; i-- {
		for x.level[i].forward != nil && traversed+x.level[i].span <= r {
			traversed += x.level[i].span
			x = x.level[i].forward
		}
		if traversed == r {
			return x
		}
	}
	return nil
}

// countBefore returns how many nodes satisfy before, a predicate that holds
// for a prefix of the list.
func (z *zskiplist) countBefore(before func(score float64, member string) bool) int {
	r := 0
	x := z.head
	for i := z.level - 1; i >= 0; i-- {
		for f := x.level[i].forward; f != nil && before(f.score, f.member); f = x.level[i].forward {
			r += x.level[i].span
			x = f
		}
	}
	return r
}
