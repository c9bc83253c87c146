package server

import (
	"encoding/binary"
	"fmt"
	"math"
	"slices"

	"github.com/codisgo/codis/pkg/rdb"
	"github.com/codisgo/codis/pkg/resp"
)

// Lists are chunked like Redis's quicklist: a sequence of nodes, each a
// packed buffer of entries of at most maxBytes bytes and maxCount entries,
// fixed when the list is created from list-max-listpack-size (-1..-5: 4 KB
// to 64 KB; n > 0: n entries within 8 KB), as Redis fixes a quicklist's
// fill. An entry is uvarint(len), the bytes, and the
// same uvarint with its bytes reversed, so a node can be walked in both
// directions (like a listpack's backlen). A node keeps its entries in
// buf[lo:], leaving head room for pushes at the front.

const (
	listNodeMax      = 8192 // bytes of entries per node (fill -2, and the cap of counted fills)
	listNodeOverhead = 64   // listNode struct, its allocation and slice slot
	listObjOverhead  = 48   // listObj struct
)

type listNode struct {
	buf []byte // entries live in buf[lo:]
	lo  int
	n   int // number of entries
}

func (nd *listNode) size() int    { return len(nd.buf) - nd.lo }
func (nd *listNode) data() []byte { return nd.buf[nd.lo:] }

// listObj is the list value.
type listObj struct {
	nodes []*listNode
	// base is nodes' backing array from its start and front the index of
	// nodes[0] in it: the free slots before it let head nodes be added and
	// removed without shifting the whole slice (a deque). Valid only while
	// nodes still starts at base[front] (see headRoom).
	base  []*listNode
	front int
	count int
	bufs  int64 // sum of cap(buf) of every node

	maxBytes int // bytes of entries per node (a single larger entry is alone)
	maxCount int // entries per node
}

// newListObj returns an empty list with Redis's default node size (fill
// -2), the one SORT ... STORE uses whatever the configuration.
func newListObj() *listObj { return &listObj{maxBytes: listNodeMax, maxCount: math.MaxInt} }

// newListObjFill returns an empty list with nodes sized by a
// list-max-listpack-size value (clamped to -5..32767 like Redis's
// quicklist; 0 means one entry per node).
func newListObjFill(fill int) *listObj {
	l := &listObj{maxBytes: listNodeMax, maxCount: math.MaxInt}
	switch {
	case fill < 0:
		l.maxBytes = 4096 << (min(-fill, 5) - 1)
	default:
		l.maxCount = min(max(fill, 1), 1<<15-1)
	}
	return l
}

// Type implements Object.
func (l *listObj) Type() ValueType { return TypeList }

// Encoding implements Object: Redis 7.0 always reports quicklist for lists.
func (l *listObj) Encoding() string { return "quicklist" }

// MemSize implements Object.
func (l *listObj) MemSize() int64 {
	return listObjOverhead + l.bufs + int64(len(l.nodes))*listNodeOverhead + int64(cap(l.nodes)-len(l.nodes)+l.headRoom())*8
}

// Copy implements Object.
func (l *listObj) Copy() Object {
	n := &listObj{count: l.count, nodes: make([]*listNode, len(l.nodes)), maxBytes: l.maxBytes, maxCount: l.maxCount}
	for i, nd := range l.nodes {
		b := slices.Clone(nd.data())
		n.nodes[i] = &listNode{buf: b, n: nd.n}
		n.bufs += int64(cap(b))
	}
	return n
}

// Len returns the number of elements.
func (l *listObj) Len() int { return l.count }

// Each calls fn for every element from head to tail until fn returns
// false. The slice is only valid during the call.
func (l *listObj) Each(fn func(v []byte) bool) {
	for _, nd := range l.nodes {
		b := nd.data()
		for off := 0; off < len(b); {
			var v []byte
			v, off = readEntryFwd(b, off)
			if !fn(v) {
				return
			}
		}
	}
}

// Entry encoding.

func uvarintLen(n int) int {
	l := 1
	for n >= 0x80 {
		n >>= 7
		l++
	}
	return l
}

func listEntrySize(vlen int) int { return 2*uvarintLen(vlen) + vlen }

// putEntry writes the entry for v at the start of dst (which has room for
// it) and returns its size.
func putEntry(dst, v []byte) int {
	h := binary.PutUvarint(dst, uint64(len(v)))
	copy(dst[h:], v)
	end := h + len(v)
	for i := 0; i < h; i++ {
		dst[end+i] = dst[h-1-i]
	}
	return end + h
}

func appendEntry(dst, v []byte) []byte {
	n := len(dst)
	dst = slices.Grow(dst, listEntrySize(len(v)))[:n+listEntrySize(len(v))]
	putEntry(dst[n:], v)
	return dst
}

// readEntryFwd decodes the entry at off and returns its value and the
// offset of the next entry.
func readEntryFwd(b []byte, off int) ([]byte, int) {
	l, h := binary.Uvarint(b[off:])
	start := off + h
	end := start + int(l)
	return b[start:end:end], end + h
}

// readEntryBwd decodes the entry ending at end and returns its value and
// its start offset.
func readEntryBwd(b []byte, end int) ([]byte, int) {
	var l uint64
	shift, h := 0, 0
	for i := end - 1; ; i-- {
		c := b[i]
		l |= uint64(c&0x7f) << shift
		h++
		if c < 0x80 {
			break
		}
		shift += 7
	}
	vend := end - h
	vstart := vend - int(l)
	return b[vstart:vend:vend], vstart - h
}

// growCap picks a buffer capacity for need bytes of entries in a node of
// at most lim bytes.
func growCap(need, lim int) int {
	c := need + need/4 + 16
	if need >= 1024 {
		// Past 1 KB, double: a node filling up to lim is then
		// copied a few times rather than ~15 (LPUSH/RPUSH on long lists),
		// and only the two end nodes of a list can have slack.
		c = 2 * need
	}
	if need > lim {
		return need
	}
	if c > lim {
		c = lim
	}
	return c
}

// Node primitives (they keep l.bufs up to date).

func (l *listObj) nodePushBack(nd *listNode, v []byte) {
	sz := listEntrySize(len(v))
	if len(nd.buf)+sz > cap(nd.buf) {
		old := cap(nd.buf)
		nb := make([]byte, nd.size(), growCap(nd.size()+sz, l.maxBytes))
		copy(nb, nd.data())
		nd.buf, nd.lo = nb, 0
		l.bufs += int64(cap(nb) - old)
	}
	n := len(nd.buf)
	nd.buf = nd.buf[:n+sz]
	putEntry(nd.buf[n:], v)
	nd.n++
}

func (l *listObj) nodePushFront(nd *listNode, v []byte) {
	sz := listEntrySize(len(v))
	if nd.lo < sz {
		old := cap(nd.buf)
		nc := growCap(nd.size()+sz, l.maxBytes)
		nb := make([]byte, nc)
		copy(nb[nc-nd.size():], nd.data())
		nd.buf, nd.lo = nb, nc-nd.size()
		l.bufs += int64(nc - old)
	}
	nd.lo -= sz
	putEntry(nd.buf[nd.lo:], v)
	nd.n++
}

// shrink reallocates a node whose buffer is mostly unused.
func (l *listObj) shrink(nd *listNode) {
	if cap(nd.buf) >= 512 && nd.size()*3 < cap(nd.buf) {
		old := cap(nd.buf)
		nb := make([]byte, nd.size(), growCap(nd.size(), l.maxBytes))
		copy(nb, nd.data())
		nd.buf, nd.lo = nb, 0
		l.bufs += int64(cap(nb) - old)
	}
}

// headRoom is the number of free slots before nodes[0] in its backing
// array (0 once nodes was reallocated by other operations).
func (l *listObj) headRoom() int {
	if l.front == 0 || cap(l.nodes) == 0 || l.front >= cap(l.base) ||
		&l.base[:l.front+1][l.front] != &l.nodes[:1][0] {
		return 0
	}
	return l.front
}

func (l *listObj) removeNode(i int) {
	l.bufs -= int64(cap(l.nodes[i].buf))
	if i == 0 && len(l.nodes) > 1 {
		// Drop the head node by advancing the window: no shift.
		room := l.headRoom()
		if room == 0 {
			l.base, l.front = l.nodes, 0
		}
		l.nodes[0] = nil
		l.nodes = l.nodes[1:]
		l.front++
	} else {
		l.nodes = slices.Delete(l.nodes, i, i+1)
	}
	if c := cap(l.nodes) + l.headRoom(); c > 16 && len(l.nodes)*4 < c {
		l.nodes = slices.Clip(slices.Clone(l.nodes))
		l.base, l.front = nil, 0
	}
}

func (l *listObj) insertNode(i int, nd *listNode) {
	l.bufs += int64(cap(nd.buf))
	if i != 0 || len(l.nodes) == 0 {
		l.nodes = slices.Insert(l.nodes, i, nd)
		return
	}
	if l.headRoom() == 0 {
		// Re-layout with as many free slots before the head as there are
		// nodes, so a run of head inserts costs O(1) amortised each.
		n := len(l.nodes)
		room := max(n, 4)
		nb := make([]*listNode, room+n, room+n+n/4+1)
		copy(nb[room:], l.nodes)
		l.base, l.front = nb, room
		l.nodes = nb[room:]
	}
	l.front--
	l.base = l.base[:cap(l.base)]
	l.base[l.front] = nd
	l.nodes = l.base[l.front : l.front+len(l.nodes)+1]
}

// newNodeCap is the capacity of a new end node for an entry of sz bytes:
// small at first, but a full node at once when the list already spans
// several nodes and is likely to keep growing (LPUSH/RPUSH streams), so
// the node is not copied again and again while it fills.
func (l *listObj) newNodeCap(sz int) int {
	if len(l.nodes) >= 2 && sz <= l.maxBytes && l.maxCount == math.MaxInt {
		return l.maxBytes
	}
	return growCap(sz, l.maxBytes)
}

// List operations.

func (l *listObj) pushBack(v []byte) {
	sz := listEntrySize(len(v))
	if k := len(l.nodes); k > 0 && l.nodes[k-1].size()+sz <= l.maxBytes && l.nodes[k-1].n < l.maxCount {
		l.nodePushBack(l.nodes[k-1], v)
	} else {
		nd := &listNode{buf: make([]byte, 0, l.newNodeCap(sz))}
		l.insertNode(len(l.nodes), nd)
		l.nodePushBack(nd, v)
	}
	l.count++
}

func (l *listObj) pushFront(v []byte) {
	sz := listEntrySize(len(v))
	if len(l.nodes) > 0 && l.nodes[0].size()+sz <= l.maxBytes && l.nodes[0].n < l.maxCount {
		l.nodePushFront(l.nodes[0], v)
	} else {
		c := l.newNodeCap(sz)
		nd := &listNode{buf: make([]byte, c), lo: c}
		l.insertNode(0, nd)
		l.nodePushFront(nd, v)
	}
	l.count++
}

func (l *listObj) push(v []byte, head bool) {
	if head {
		l.pushFront(v)
	} else {
		l.pushBack(v)
	}
}

// popFront removes and returns (a copy of) the first element.
func (l *listObj) popFront() []byte { return l.pop(true) }

// popBack removes and returns (a copy of) the last element.
func (l *listObj) popBack() []byte { return l.pop(false) }

// pop removes and returns (a copy of) the first or last element.
func (l *listObj) pop(head bool) []byte {
	out := slices.Clone(l.end(head))
	l.dropEnd(head)
	return out
}

// end returns the first or last element of a non-empty list, in place:
// valid until the list changes. LPOP and RPOP reply from it and then drop
// it, without a copy.
func (l *listObj) end(head bool) []byte {
	if head {
		nd := l.nodes[0]
		v, _ := readEntryFwd(nd.buf, nd.lo)
		return v
	}
	nd := l.nodes[len(l.nodes)-1]
	v, _ := readEntryBwd(nd.buf, len(nd.buf))
	return v
}

// dropEnd removes the first or last element. An end node being drained
// is freed once empty, so its buffer is reallocated only once mostly
// unused (at 1/8): shrinking at 1/3, as mid-list edits do, copied the rest
// of the node every few pops.
func (l *listObj) dropEnd(head bool) {
	k := 0
	if !head {
		k = len(l.nodes) - 1
	}
	nd := l.nodes[k]
	if head {
		_, nd.lo = readEntryFwd(nd.buf, nd.lo)
	} else {
		_, start := readEntryBwd(nd.buf, len(nd.buf))
		nd.buf = nd.buf[:start]
	}
	nd.n--
	l.count--
	if nd.n == 0 {
		l.removeNode(k)
	} else if nd.size()*8 < cap(nd.buf) {
		l.shrink(nd)
	}
}

// locate finds element i (0 <= i < count): node index, and the byte range
// of the entry within the node's data.
func (l *listObj) locate(i int) (k, a, b int) {
	if i < l.count/2 {
		for k = 0; i >= l.nodes[k].n; k++ {
			i -= l.nodes[k].n
		}
	} else {
		r := l.count - 1 - i // index from the tail
		for k = len(l.nodes) - 1; r >= l.nodes[k].n; k-- {
			r -= l.nodes[k].n
		}
		i = l.nodes[k].n - 1 - r
	}
	d := l.nodes[k].data()
	if i < l.nodes[k].n/2 {
		for ; i > 0; i-- {
			_, a = readEntryFwd(d, a)
		}
		_, b = readEntryFwd(d, a)
		return k, a, b
	}
	b = len(d)
	for j := l.nodes[k].n - 1; j > i; j-- {
		_, b = readEntryBwd(d, b)
	}
	_, a = readEntryBwd(d, b)
	return k, a, b
}

// index returns element i (aliasing the node buffer).
func (l *listObj) index(i int) []byte {
	k, a, _ := l.locate(i)
	v, _ := readEntryFwd(l.nodes[k].data(), a)
	return v
}

// iterate walks from element i towards the tail (fwd) or the head, calling
// fn with each element and its index until fn returns false.
func (l *listObj) iterate(i int, fwd bool, fn func(idx int, v []byte) bool) {
	if i < 0 || i >= l.count {
		return
	}
	k, a, b := l.locate(i)
	for k >= 0 && k < len(l.nodes) {
		d := l.nodes[k].data()
		if fwd {
			for a < len(d) {
				var v []byte
				v, a = readEntryFwd(d, a)
				if !fn(i, v) {
					return
				}
				i++
			}
			k++
			a = 0
			if k < len(l.nodes) {
				b = len(l.nodes[k].data())
			}
		} else {
			for b > 0 {
				var v []byte
				v, b = readEntryBwd(d, b)
				if !fn(i, v) {
					return
				}
				i--
			}
			k--
			if k >= 0 {
				b = len(l.nodes[k].data())
			}
		}
	}
}

// splice replaces bytes [a, b) of node k's data (holding del entries) by
// ins (holding add entries), then splits or merges the node as needed.
func (l *listObj) splice(k, a, b int, ins []byte, del, add int) {
	nd := l.nodes[k]
	d := nd.data()
	size := len(d) - (b - a) + len(ins)
	old := cap(nd.buf)
	if size <= cap(nd.buf)-nd.lo && len(ins) <= b-a {
		// In place: the data shrinks or keeps its size.
		copy(d[a:], ins)
		copy(d[a+len(ins):], d[b:])
		nd.buf = nd.buf[:nd.lo+size]
	} else {
		nb := make([]byte, size, growCap(size, l.maxBytes))
		copy(nb, d[:a])
		copy(nb[a:], ins)
		copy(nb[a+len(ins):], d[b:])
		nd.buf, nd.lo = nb, 0
	}
	l.bufs += int64(cap(nd.buf) - old)
	nd.n += add - del
	l.count += add - del
	switch {
	case nd.n == 0:
		l.removeNode(k)
	case (size > l.maxBytes || nd.n > l.maxCount) && nd.n > 1:
		l.split(k)
	default:
		l.shrink(nd)
		if l.maxCount == math.MaxInt || add > del {
			// Counted nodes (list-max-listpack-size > 0) are not merged
			// after deletions and replacements, as in Redis, so DEBUG
			// OBJECT's node count matches.
			l.mergeAround(k)
		}
	}
}

// split cuts an oversized node into nodes of at most maxBytes bytes and
// maxCount entries (a single larger entry gets a node of its own).
func (l *listObj) split(k int) {
	nd := l.nodes[k]
	d := nd.data()
	var parts []*listNode
	start, n := 0, 0
	for off := 0; off < len(d); {
		_, next := readEntryFwd(d, off)
		if n > 0 && (next-start > l.maxBytes || n >= l.maxCount) {
			parts = append(parts, newNodeFrom(d[start:off], n, l.maxBytes))
			start, n = off, 0
		}
		off = next
		n++
	}
	parts = append(parts, newNodeFrom(d[start:], n, l.maxBytes))
	l.removeNode(k)
	for i, p := range parts {
		l.insertNode(k+i, p)
	}
}

func newNodeFrom(d []byte, n, lim int) *listNode {
	b := make([]byte, len(d), growCap(len(d), lim))
	copy(b, d)
	return &listNode{buf: b, n: n}
}

// canMerge reports whether nodes x and y fit together in half a node (in
// bytes) and in one node (in entries).
func (l *listObj) canMerge(x, y *listNode) bool {
	return x.size()+y.size() <= l.maxBytes/2 && x.n+y.n <= l.maxCount
}

// mergeAround merges node k with a neighbour when both fit in one node.
func (l *listObj) mergeAround(k int) {
	if k+1 < len(l.nodes) && l.canMerge(l.nodes[k], l.nodes[k+1]) {
		l.merge(k)
	}
	if k > 0 && k < len(l.nodes) && l.canMerge(l.nodes[k-1], l.nodes[k]) {
		l.merge(k - 1)
	}
}

// merge joins nodes k and k+1.
func (l *listObj) merge(k int) {
	x, y := l.nodes[k], l.nodes[k+1]
	d := make([]byte, 0, growCap(x.size()+y.size(), l.maxBytes))
	d = append(append(d, x.data()...), y.data()...)
	nd := &listNode{buf: d, n: x.n + y.n}
	l.removeNode(k + 1)
	l.bufs -= int64(cap(x.buf))
	l.nodes[k] = nd
	l.bufs += int64(cap(nd.buf))
}

// set replaces element i.
func (l *listObj) set(i int, v []byte) {
	k, a, b := l.locate(i)
	l.splice(k, a, b, appendEntry(nil, v), 1, 1)
}

// insert adds v before or after the first element equal to pivot and
// reports whether the pivot was found.
func (l *listObj) insert(pivot, v []byte, after bool) bool {
	for k, nd := range l.nodes {
		d := nd.data()
		for off := 0; off < len(d); {
			e, next := readEntryFwd(d, off)
			if string(e) == string(pivot) {
				at := off
				if after {
					at = next
				}
				l.splice(k, at, at, appendEntry(nil, v), 0, 1)
				return true
			}
			off = next
		}
	}
	return false
}

// remove deletes up to count elements equal to v (all if count is 0) from
// the head (count >= 0) or the tail (count < 0), and returns how many.
func (l *listObj) remove(v []byte, count int64) int {
	removed := 0
	fromTail := count < 0
	limit := count
	if fromTail {
		limit = math.MaxInt64
		if count != math.MinInt64 {
			limit = -count
		}
	}
	k := 0
	if fromTail {
		k = len(l.nodes) - 1
	}
	for k >= 0 && k < len(l.nodes) && (limit == 0 || int64(removed) < limit) {
		nd := l.nodes[k]
		d := nd.data()
		// Offsets of the matching entries in this node.
		var ms [][2]int
		for off := 0; off < len(d); {
			e, next := readEntryFwd(d, off)
			if string(e) == string(v) {
				ms = append(ms, [2]int{off, next})
			}
			off = next
		}
		if left := limit - int64(removed); limit != 0 && int64(len(ms)) > left {
			if fromTail {
				ms = ms[len(ms)-int(left):]
			} else {
				ms = ms[:left]
			}
		}
		if len(ms) > 0 {
			// Compact in place.
			w, r := ms[0][0], ms[0][0]
			for _, m := range ms {
				w += copy(d[w:], d[r:m[0]])
				r = m[1]
			}
			w += copy(d[w:], d[r:])
			nd.buf = nd.buf[:nd.lo+w]
			nd.n -= len(ms)
			l.count -= len(ms)
			removed += len(ms)
			if nd.n == 0 {
				l.removeNode(k)
				if !fromTail {
					continue
				}
			} else {
				l.shrink(nd)
			}
		}
		if fromTail {
			k--
		} else {
			k++
		}
	}
	if removed > 0 && l.maxCount == math.MaxInt {
		l.mergeAll()
	}
	return removed
}

// mergeAll merges every pair of adjacent nodes that fit in half a node.
func (l *listObj) mergeAll() {
	for i := 0; i+1 < len(l.nodes); {
		if l.canMerge(l.nodes[i], l.nodes[i+1]) {
			l.merge(i)
		} else {
			i++
		}
	}
}

// trim keeps elements [start, stop] (normalised, start <= stop < count) or
// empties the list when keep is false.
func (l *listObj) trim(start, stop int) {
	l.deleteRange(stop+1, l.count-stop-1)
	l.deleteRange(0, start)
}

// deleteRange removes n elements starting at index i.
func (l *listObj) deleteRange(i, n int) {
	for n > 0 && i < l.count {
		k, a, _ := l.locate(i)
		nd := l.nodes[k]
		if a == 0 && n >= nd.n {
			n -= nd.n
			l.count -= nd.n
			l.removeNode(k)
			continue
		}
		d := nd.data()
		b, m := a, 0
		for b < len(d) && m < n {
			_, b = readEntryFwd(d, b)
			m++
		}
		l.splice(k, a, b, nil, m, 0)
		n -= m
	}
}

// Commands.

func init() {
	wm := FlagWrite | FlagDenyOOM
	w, r := FlagWrite, FlagReadOnly
	k1 := func(name string, arity int, flags CmdFlag, proc func(*client, [][]byte)) *Command {
		return &Command{Name: name, Arity: arity, Flags: flags, FirstKey: 1, LastKey: 1, Step: 1, Proc: proc}
	}
	register(
		k1("lpush", -3, wm|FlagFast, lpushCommand),
		k1("rpush", -3, wm|FlagFast, rpushCommand),
		k1("lpushx", -3, wm|FlagFast, lpushxCommand),
		k1("rpushx", -3, wm|FlagFast, rpushxCommand),
		k1("lpop", -2, w|FlagFast, lpopCommand),
		k1("rpop", -2, w|FlagFast, rpopCommand),
		k1("llen", 2, r|FlagFast, llenCommand),
		k1("lrange", 4, r, lrangeCommand),
		k1("lindex", 3, r, lindexCommand),
		k1("lset", 4, wm, lsetCommand),
		k1("linsert", 5, wm, linsertCommand),
		k1("lrem", 4, w, lremCommand),
		k1("ltrim", 4, w, ltrimCommand),
		k1("lpos", -3, r, lposCommand),
		&Command{Name: "lmove", Arity: 5, Flags: wm, FirstKey: 1, LastKey: 2, Step: 1, Proc: lmoveCommand},
		&Command{Name: "rpoplpush", Arity: 3, Flags: wm, FirstKey: 1, LastKey: 2, Step: 1, Proc: rpoplpushCommand},
		&Command{Name: "lmpop", Arity: -4, Flags: w, KeysFn: numkeysKeys(0, 1), Proc: lmpopCommand},
	)
}

// lookupList is lookupTyped for lists.
func (c *client) lookupList(key []byte, read bool) (*Entry, *listObj, bool) {
	e, ok := c.lookupTyped(key, TypeList, read)
	if !ok || e == nil {
		return nil, nil, ok
	}
	return e, e.list(), true
}

func (c *client) pushGeneric(argv [][]byte, head, onlyExisting bool) {
	key := argv[1]
	e, l, ok := c.lookupList(key, false)
	if !ok {
		return
	}
	if e == nil {
		if onlyExisting {
			c.addInt(0)
			return
		}
		l = newListObjFill(int(c.s.cfg.ListMaxListpackSize))
		for _, v := range argv[2:] {
			l.push(v, head)
		}
		c.db.Add(key, NewObjectEntry(l))
		c.db.signalListReady(key)
	} else {
		for _, v := range argv[2:] {
			l.push(v, head)
		}
		c.db.Modified(key, e)
	}
	c.notify(notifyList, pushEvent(head), key)
	c.addInt(int64(l.count))
}

// pushEvent and popEvent are the keyspace events of list pushes and pops.
func pushEvent(head bool) string {
	if head {
		return "lpush"
	}
	return "rpush"
}

func popEvent(head bool) string {
	if head {
		return "lpop"
	}
	return "rpop"
}

func lpushCommand(c *client, argv [][]byte)  { c.pushGeneric(argv, true, false) }
func rpushCommand(c *client, argv [][]byte)  { c.pushGeneric(argv, false, false) }
func lpushxCommand(c *client, argv [][]byte) { c.pushGeneric(argv, true, true) }
func rpushxCommand(c *client, argv [][]byte) { c.pushGeneric(argv, false, true) }

// listAfterPop deletes key if the list became empty, else accounts the
// change.
func (db *DB) listAfterPop(key []byte, e *Entry, l *listObj) {
	if l.count == 0 {
		db.Delete(key)
		db.notify(notifyGeneric, "del", key)
	} else {
		db.Modified(key, e)
	}
}

func (c *client) popGeneric(argv [][]byte, head bool) {
	if len(argv) > 3 {
		name := "rpop"
		if head {
			name = "lpop"
		}
		c.addError(errWrongArgs(name))
		return
	}
	count := int64(-1)
	if len(argv) == 3 {
		n, ok := parseInt64(argv[2])
		if !ok || n < 0 {
			c.addError("ERR value is out of range, must be positive")
			return
		}
		count = n
	}
	e, l, ok := c.lookupList(argv[1], false)
	if !ok {
		return
	}
	if e == nil {
		if count >= 0 {
			c.addNullArray()
		} else {
			c.addNull()
		}
		return
	}
	if count < 0 {
		c.addBulk(l.end(head))
		l.dropEnd(head)
		c.notify(notifyList, popEvent(head), argv[1])
		c.db.listAfterPop(argv[1], e, l)
		return
	}
	if count == 0 {
		c.addArrayLen(0)
		return
	}
	n := int(min(count, int64(l.count)))
	c.addArrayLen(n)
	for i := 0; i < n; i++ {
		c.addBulk(l.end(head))
		l.dropEnd(head)
	}
	c.notify(notifyList, popEvent(head), argv[1])
	c.db.listAfterPop(argv[1], e, l)
}

func lpopCommand(c *client, argv [][]byte) { c.popGeneric(argv, true) }
func rpopCommand(c *client, argv [][]byte) { c.popGeneric(argv, false) }

func llenCommand(c *client, argv [][]byte) {
	_, l, ok := c.lookupList(argv[1], true)
	if !ok {
		return
	}
	if l == nil {
		c.addInt(0)
		return
	}
	c.addInt(int64(l.count))
}

// normRange normalises a [start, stop] range over n elements the way Redis
// does; ok is false for an empty range.
func normRange(start, stop int64, n int) (int, int, bool) {
	ln := int64(n)
	if start < 0 {
		start += ln
	}
	if stop < 0 {
		stop += ln
	}
	if start < 0 {
		start = 0
	}
	if start > stop || start >= ln {
		return 0, 0, false
	}
	if stop >= ln {
		stop = ln - 1
	}
	return int(start), int(stop), true
}

func lrangeCommand(c *client, argv [][]byte) {
	start, ok1 := parseInt64(argv[2])
	stop, ok2 := parseInt64(argv[3])
	if !ok1 || !ok2 {
		c.addError(errNotInt)
		return
	}
	_, l, ok := c.lookupList(argv[1], true)
	if !ok {
		return
	}
	if l == nil {
		c.addArrayLen(0)
		return
	}
	s, e, nonEmpty := normRange(start, stop, l.count)
	if !nonEmpty {
		c.addArrayLen(0)
		return
	}
	c.addArrayLen(e - s + 1)
	l.iterate(s, true, func(i int, v []byte) bool {
		c.addBulk(v)
		return i < e
	})
}

func lindexCommand(c *client, argv [][]byte) {
	idx, ok := parseInt64(argv[2])
	if !ok {
		c.addError(errNotInt)
		return
	}
	_, l, ok := c.lookupList(argv[1], true)
	if !ok {
		return
	}
	if l == nil {
		c.addNull()
		return
	}
	if idx < 0 {
		idx += int64(l.count)
	}
	if idx < 0 || idx >= int64(l.count) {
		c.addNull()
		return
	}
	c.addBulk(l.index(int(idx)))
}

func lsetCommand(c *client, argv [][]byte) {
	e, l, ok := c.lookupList(argv[1], false)
	if !ok {
		return
	}
	if e == nil {
		c.addError(errNoSuchKey)
		return
	}
	idx, ok := parseInt64(argv[2])
	if !ok {
		c.addError(errNotInt)
		return
	}
	if idx < 0 {
		idx += int64(l.count)
	}
	if idx < 0 || idx >= int64(l.count) {
		c.addError("ERR index out of range")
		return
	}
	l.set(int(idx), argv[3])
	c.db.Modified(argv[1], e)
	c.notify(notifyList, "lset", argv[1])
	c.addOK()
}

func linsertCommand(c *client, argv [][]byte) {
	var after bool
	switch {
	case eqFold(argv[2], "after"):
		after = true
	case eqFold(argv[2], "before"):
	default:
		c.addError(errSyntax)
		return
	}
	e, l, ok := c.lookupList(argv[1], false)
	if !ok {
		return
	}
	if e == nil {
		c.addInt(0)
		return
	}
	if !l.insert(argv[3], argv[4], after) {
		c.addInt(-1)
		return
	}
	c.db.Modified(argv[1], e)
	c.notify(notifyList, "linsert", argv[1])
	c.addInt(int64(l.count))
}

func lremCommand(c *client, argv [][]byte) {
	count, ok := parseInt64(argv[2])
	if !ok {
		c.addError(errNotInt)
		return
	}
	e, l, ok := c.lookupList(argv[1], false)
	if !ok {
		return
	}
	if e == nil {
		c.addInt(0)
		return
	}
	n := l.remove(argv[3], count)
	if n > 0 {
		c.notify(notifyList, "lrem", argv[1])
		c.db.listAfterPop(argv[1], e, l)
	}
	c.addInt(int64(n))
}

func ltrimCommand(c *client, argv [][]byte) {
	start, ok1 := parseInt64(argv[2])
	stop, ok2 := parseInt64(argv[3])
	if !ok1 || !ok2 {
		c.addError(errNotInt)
		return
	}
	e, l, ok := c.lookupList(argv[1], false)
	if !ok {
		return
	}
	if e == nil {
		c.addOK()
		return
	}
	s, t, nonEmpty := normRange(start, stop, l.count)
	c.notify(notifyList, "ltrim", argv[1])
	if !nonEmpty {
		c.db.Delete(argv[1])
		c.notify(notifyGeneric, "del", argv[1])
	} else {
		l.trim(s, t)
		c.db.Modified(argv[1], e)
	}
	c.addOK()
}

const errRankZero = "ERR RANK can't be zero: use 1 to start from the first match, 2 from the second ... or use negative to start from the end of the list"

func lposCommand(c *client, argv [][]byte) {
	rank, count, maxlen := int64(1), int64(-1), int64(0)
	for i := 3; i < len(argv); i++ {
		more := i+1 < len(argv)
		switch {
		case eqFold(argv[i], "rank") && more:
			i++
			n, ok := parseInt64(argv[i])
			if !ok {
				c.addError(errNotInt)
				return
			}
			if n == 0 {
				c.addError(errRankZero)
				return
			}
			rank = n
		case eqFold(argv[i], "count") && more:
			i++
			n, ok := parseInt64(argv[i])
			if !ok || n < 0 {
				c.addError("ERR COUNT can't be negative")
				return
			}
			count = n
		case eqFold(argv[i], "maxlen") && more:
			i++
			n, ok := parseInt64(argv[i])
			if !ok || n < 0 {
				c.addError("ERR MAXLEN can't be negative")
				return
			}
			maxlen = n
		default:
			c.addError(errSyntax)
			return
		}
	}
	_, l, ok := c.lookupList(argv[1], true)
	if !ok {
		return
	}
	if l == nil {
		if count != -1 {
			c.addArrayLen(0)
		} else {
			c.addNull()
		}
		return
	}
	fwd := rank > 0
	skip := rank - 1
	if !fwd {
		skip = -rank - 1
		if rank == math.MinInt64 {
			skip = 0 // Redis negates LONG_MIN into itself: every match qualifies
		}
	}
	want := count
	if want == 0 {
		want = math.MaxInt64
	} else if want < 0 {
		want = 1
	}
	var found []int64
	start := 0
	if !fwd {
		start = l.count - 1
	}
	var scanned int64
	elem := argv[2]
	l.iterate(start, fwd, func(i int, v []byte) bool {
		if maxlen != 0 && scanned >= maxlen {
			return false
		}
		scanned++
		if string(v) == string(elem) {
			if skip > 0 {
				skip--
			} else {
				found = append(found, int64(i))
				if int64(len(found)) >= want {
					return false
				}
			}
		}
		return true
	})
	if count != -1 {
		c.addArrayLen(len(found))
		for _, p := range found {
			c.addInt(p)
		}
		return
	}
	if len(found) == 0 {
		c.addNull()
		return
	}
	c.addInt(found[0])
}

// parseDirection parses LEFT/RIGHT (head = LEFT).
func parseDirection(b []byte) (head, ok bool) {
	switch {
	case eqFold(b, "left"):
		return true, true
	case eqFold(b, "right"):
		return false, true
	}
	return false, false
}

// appendErrorStat appends an error reply and counts it.
func appendErrorStat(s *Server, out []byte, msg string) []byte {
	s.st.errorReplies++
	return resp.AppendError(out, msg)
}

// lmove pops from src and pushes to dst; src must be a non-empty list
// entry. It writes the reply (the element, or WRONGTYPE for a bad
// destination) to *out and reports whether the move happened.
func (db *DB) lmove(s *Server, out *[]byte, src, dst []byte, se *Entry, srcHead, dstHead bool) bool {
	de := db.Lookup(dst)
	if de != nil && de.typ != TypeList {
		*out = appendErrorStat(s, *out, errWrongType)
		return false
	}
	sl := se.list()
	v := sl.pop(srcHead)
	if de == nil {
		dl := newListObjFill(int(s.cfg.ListMaxListpackSize))
		dl.push(v, dstHead)
		db.Add(dst, NewObjectEntry(dl))
		db.signalListReady(dst)
	} else {
		de.list().push(v, dstHead)
		db.Modified(dst, de)
	}
	db.notify(notifyList, pushEvent(dstHead), dst)
	db.notify(notifyList, popEvent(srcHead), src)
	// src and dst may be the same list: check emptiness after the push.
	if sl.count == 0 {
		db.Delete(src)
		db.notify(notifyGeneric, "del", src)
	} else if string(src) != string(dst) {
		db.Modified(src, se)
	}
	*out = resp.AppendBulk(*out, v)
	return true
}

func (c *client) lmoveGeneric(src, dst []byte, srcHead, dstHead bool) {
	e, _, ok := c.lookupList(src, false)
	if !ok {
		return
	}
	if e == nil {
		c.addNull()
		return
	}
	c.db.lmove(c.s, &c.out, src, dst, e, srcHead, dstHead)
}

func lmoveCommand(c *client, argv [][]byte) {
	from, ok1 := parseDirection(argv[3])
	to, ok2 := parseDirection(argv[4])
	if !ok1 || !ok2 {
		c.addError(errSyntax)
		return
	}
	c.lmoveGeneric(argv[1], argv[2], from, to)
}

func rpoplpushCommand(c *client, argv [][]byte) { c.lmoveGeneric(argv[1], argv[2], false, true) }

// mpopArgs are the parsed arguments of LMPOP / BLMPOP.
type mpopArgs struct {
	keys  [][]byte
	head  bool
	count int64
}

// parseMpop parses "numkeys key... LEFT|RIGHT [COUNT n]" starting at
// argv[i].
func (c *client) parseMpop(argv [][]byte, i int) (mpopArgs, bool) {
	var a mpopArgs
	numkeys, ok := parseInt64(argv[i])
	if !ok || numkeys < 1 {
		c.addError("ERR numkeys should be greater than 0")
		return a, false
	}
	if numkeys >= int64(len(argv)) { // also keeps the sum below from overflowing
		c.addError(errSyntax)
		return a, false
	}
	where := int64(i) + numkeys + 1
	if where >= int64(len(argv)) {
		c.addError(errSyntax)
		return a, false
	}
	a.keys = argv[i+1 : where]
	head, ok := parseDirection(argv[where])
	if !ok {
		c.addError(errSyntax)
		return a, false
	}
	a.head = head
	a.count = -1
	for j := int(where) + 1; j < len(argv); j++ {
		if a.count == -1 && eqFold(argv[j], "count") && j+1 < len(argv) {
			j++
			n, ok := parseInt64(argv[j])
			if !ok || n < 1 {
				c.addError("ERR count should be greater than 0")
				return a, false
			}
			a.count = n
		} else {
			c.addError(errSyntax)
			return a, false
		}
	}
	if a.count == -1 {
		a.count = 1
	}
	return a, true
}

// mpopFrom pops up to count elements of the non-empty list at key and
// appends the [key, [elements]] reply to out.
func (db *DB) mpopFrom(out []byte, key []byte, e *Entry, head bool, count int64) []byte {
	l := e.list()
	n := int(min(count, int64(l.count)))
	out = resp.AppendArrayLen(out, 2)
	out = resp.AppendBulk(out, key)
	out = resp.AppendArrayLen(out, n)
	for i := 0; i < n; i++ {
		out = resp.AppendBulk(out, l.end(head))
		l.dropEnd(head)
	}
	db.notify(notifyList, popEvent(head), key)
	db.listAfterPop(key, e, l)
	return out
}

// firstNonEmptyList returns the first key of keys holding a non-empty list;
// ok is false (after a WRONGTYPE reply) if a key of another type comes
// first.
func (c *client) firstNonEmptyList(keys [][]byte) (key []byte, e *Entry, ok bool) {
	for _, k := range keys {
		e, l, ok := c.lookupList(k, false)
		if !ok {
			return nil, nil, false
		}
		if l != nil && l.count > 0 {
			return k, e, true
		}
	}
	return nil, nil, true
}

func lmpopCommand(c *client, argv [][]byte) {
	a, ok := c.parseMpop(argv, 1)
	if !ok {
		return
	}
	key, e, ok := c.firstNonEmptyList(a.keys)
	if !ok {
		return
	}
	if e == nil {
		c.addNullArray()
		return
	}
	c.out = c.db.mpopFrom(c.out, key, e, a.head, a.count)
}

// Serialization (rdbconv.go).

func init() { registerRDBDecoder(rdb.KindList, listFromRDB) }

// rdbObject implements rdbValue; the elements alias the list.
func (l *listObj) rdbObject() rdb.Object {
	elems := make([][]byte, 0, l.count)
	l.Each(func(v []byte) bool {
		elems = append(elems, v)
		return true
	})
	return rdb.Object{Kind: rdb.KindList, List: elems}
}

// listFromRDB builds a list; Redis 7 refuses empty ones.
func listFromRDB(o *rdb.Object, lim *encLimits) (Object, error) {
	if len(o.List) == 0 {
		return nil, fmt.Errorf("%w: empty list", rdb.ErrBadFormat)
	}
	l := newListObjFill(lim.listFill)
	for _, v := range o.List {
		l.pushBack(v)
	}
	return l, nil
}
