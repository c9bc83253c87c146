package server

import "math/rand/v2"

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

type zslLevel struct {
	forward *zslNode
	span    int
}

type zslNode struct {
	member   string
	score    float64
	backward *zslNode
	level    []zslLevel
}

type zskiplist struct {
	head   *zslNode
	tail   *zslNode
	length int
	level  int
}

func newZskiplist() *zskiplist {
	return &zskiplist{head: &zslNode{level: make([]zslLevel, zslMaxLevel)}, level: 1}
}

// Nodes of up to four levels (all but 1 in 256) are allocated together
// with their level array, so stepping through a node costs one cache miss,
// not two; a walk over a large set is bound by those misses.
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
)

func newZslNode(lvl int, score float64, member string) *zslNode {
	var n *zslNode
	switch lvl {
	case 1:
		x := &zslNode1{}
		n = &x.zslNode
		n.level = x.lv[:]
	case 2:
		x := &zslNode2{}
		n = &x.zslNode
		n.level = x.lv[:]
	case 3:
		x := &zslNode3{}
		n = &x.zslNode
		n.level = x.lv[:]
	case 4:
		x := &zslNode4{}
		n = &x.zslNode
		n.level = x.lv[:]
	default:
		n = &zslNode{level: make([]zslLevel, lvl)}
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

// insert adds a member that must not be present.
func (z *zskiplist) insert(score float64, member string) *zslNode {
	var update [zslMaxLevel]*zslNode
	var rank [zslMaxLevel]int
	x := z.head
	for i := z.level - 1; i >= 0; i-- {
		if i < z.level-1 {
			rank[i] = rank[i+1]
		}
		for f := x.level[i].forward; f != nil && zslLess(f.score, f.member, score, member); f = x.level[i].forward {
			rank[i] += x.level[i].span
			x = f
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
		n.level[i].forward = update[i].level[i].forward
		update[i].level[i].forward = n
		n.level[i].span = update[i].level[i].span - (rank[0] - rank[i])
		update[i].level[i].span = rank[0] - rank[i] + 1
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

// delete removes the node with this score and member; it reports whether it
// was found.
func (z *zskiplist) delete(score float64, member string) bool {
	var update [zslMaxLevel]*zslNode
	x := z.head
	for i := z.level - 1; i >= 0; i-- {
		for f := x.level[i].forward; f != nil && zslLess(f.score, f.member, score, member); f = x.level[i].forward {
			x = f
		}
		update[i] = x
	}
	x = x.level[0].forward
	if x == nil || x.score != score || x.member != member {
		return false
	}
	z.unlink(x, &update)
	return true
}

// updateScore moves node n (present) to a new score and returns the node
// now holding the member.
func (z *zskiplist) updateScore(n *zslNode, newScore float64) *zslNode {
	if (n.backward == nil || n.backward.score < newScore) &&
		(n.level[0].forward == nil || n.level[0].forward.score > newScore) {
		n.score = newScore
		return n
	}
	z.delete(n.score, n.member)
	return z.insert(newScore, n.member)
}

// rank returns the 1-based rank of a present (score, member), or 0.
func (z *zskiplist) rank(score float64, member string) int {
	r := 0
	x := z.head
	for i := z.level - 1; i >= 0; i-- {
		for f := x.level[i].forward; f != nil && !zslLess(score, member, f.score, f.member); f = x.level[i].forward {
			r += x.level[i].span
			x = f
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
