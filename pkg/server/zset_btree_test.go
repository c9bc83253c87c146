package server

import (
	"fmt"
	"math/rand/v2"
	"slices"
	"strconv"
	"testing"
)

// checkZbtree verifies the tree's structure against the model m (its
// entries in order): entry order across leaves, the leaf links both ways,
// counts, separators bounding their children, fill (only the root may be
// small), and rank, byRank and countBefore for every entry.
func checkZbtree(t *testing.T, z *zbtree, m zmodel) {
	t.Helper()
	if z.length != len(m) {
		t.Fatalf("length %d, model %d", z.length, len(m))
	}
	var leaves []*zbtLeaf
	// walk returns the number of entries under a node and checks that
	// they all order at or after lo (when hasLo) and before hi (hasHi).
	type bound struct {
		ok bool
		s  float64
		m  string
	}
	inRange := func(s float64, mem string, lo, hi bound) bool {
		if lo.ok && zslLess(s, mem, lo.s, lo.m) {
			return false
		}
		return !hi.ok || zslLess(s, mem, hi.s, hi.m)
	}
	// Only the root and the last node of each level may hold fewer than
	// zbtMin: a split of the last node while appending leaves the new
	// node with one entry (and the full one full).
	var walk func(in *zbtInner, l *zbtLeaf, lo, hi bound, root, last bool, depth int) (int, int)
	walk = func(in *zbtInner, l *zbtLeaf, lo, hi bound, root, last bool, depth int) (int, int) {
		if l != nil {
			if !root && !last && l.n < zbtMin {
				t.Fatalf("leaf with %d entries", l.n)
			}
			for i := 0; i < l.n; i++ {
				if !inRange(l.scores[i], l.members[i], lo, hi) {
					t.Fatalf("leaf entry (%v %q) outside its separators", l.scores[i], l.members[i])
				}
			}
			if !root && (len(l.scores) != zbtLeafCap || len(l.members) != zbtLeafCap) {
				t.Fatalf("leaf of a multi-level tree with room for %d/%d entries", len(l.scores), len(l.members))
			}
			for i := l.n; i < len(l.members); i++ {
				if l.members[i] != "" {
					t.Fatalf("leaf keeps a reference past its entries at %d", i)
				}
			}
			leaves = append(leaves, l)
			return l.n, depth
		}
		if (root && in.n < 2) || (!root && !last && in.n < zbtMin) || in.n < 1 {
			t.Fatalf("inner node with %d children (root %v)", in.n, root)
		}
		if !root && lo.ok && (in.scores[0] != lo.s || in.members[0] != lo.m) {
			t.Fatalf("inner node's own bound (%v %q) differs from its separator (%v %q)", in.scores[0], in.members[0], lo.s, lo.m)
		}
		total, leafDepth := 0, -1
		for i := 0; i < in.n; i++ {
			clo, chi := lo, hi
			if i > 0 {
				clo = bound{true, in.scores[i], in.members[i]}
			}
			if i < in.n-1 {
				chi = bound{true, in.scores[i+1], in.members[i+1]}
			}
			var n, d int
			if in.leaves {
				if in.ikids[i] != nil {
					t.Fatal("leaf parent with an inner child")
				}
				n, d = walk(nil, in.lkids[i], clo, chi, false, last && i == in.n-1, depth+1)
			} else {
				if in.lkids[i] != nil {
					t.Fatal("inner parent with a leaf child")
				}
				n, d = walk(in.ikids[i], nil, clo, chi, false, last && i == in.n-1, depth+1)
			}
			if n != in.counts[i] {
				t.Fatalf("child %d counts %d, holds %d", i, in.counts[i], n)
			}
			if leafDepth >= 0 && d != leafDepth {
				t.Fatal("leaves at different depths")
			}
			leafDepth = d
			total += n
		}
		for i := in.n; i < zbtCap; i++ {
			if in.members[i] != "" || in.lkids[i] != nil || in.ikids[i] != nil {
				t.Fatalf("inner node keeps a reference past its children at %d", i)
			}
		}
		return total, leafDepth
	}
	if (z.root == nil) == (z.leaf == nil) {
		t.Fatal("tree needs exactly one of a root leaf and a root node")
	}
	total, _ := walk(z.root, z.leaf, bound{}, bound{}, true, true, 0)
	if total != len(m) {
		t.Fatalf("tree holds %d, model %d", total, len(m))
	}
	for i, l := range leaves {
		var prev, next *zbtLeaf
		if i > 0 {
			prev = leaves[i-1]
		}
		if i < len(leaves)-1 {
			next = leaves[i+1]
		}
		if l.prev != prev || l.next != next {
			t.Fatalf("leaf %d: bad links", i)
		}
	}
	if z.last != leaves[len(leaves)-1] {
		t.Fatal("bad last leaf")
	}
	i := 0
	for p := z.byRank(1); p.valid(); p = p.next() {
		if p.entry() != m[i] {
			t.Fatalf("entry %d = %v, model %v", i, p.entry(), m[i])
		}
		if r := z.rank(m[i].score, m[i].member); r != i+1 {
			t.Fatalf("rank of %v = %d, want %d", m[i], r, i+1)
		}
		if q := z.byRank(i + 1); q != p {
			t.Fatalf("byRank(%d) = %v, walk at %v", i+1, q, p)
		}
		if q := z.find(m[i].score, m[i].member); q != p {
			t.Fatalf("find(%v) = %v, walk at %v", m[i], q, p)
		}
		i++
	}
	if i != len(m) {
		t.Fatalf("forward walk saw %d entries, model %d", i, len(m))
	}
	if len(m) > 0 {
		i = len(m) - 1
		for p := z.byRank(len(m)); p.valid(); p = p.prev() {
			if p.entry() != m[i] {
				t.Fatalf("backward entry %d = %v, model %v", i, p.entry(), m[i])
			}
			i--
		}
		if i != -1 {
			t.Fatal("backward walk missed entries")
		}
	}
	if z.byRank(0).valid() || z.byRank(len(m)+1).valid() {
		t.Fatal("byRank out of range returned a position")
	}
	for _, lim := range []float64{-1, 0, 3, 7.5, 100} {
		want := 0
		for _, e := range m {
			if e.score < lim {
				want++
			}
		}
		if got := z.countBefore(func(s float64, _ string) bool { return s < lim }); got != want {
			t.Fatalf("countBefore(<%v) = %d, want %d", lim, got, want)
		}
	}
}

// TestZbtreeModel runs random inserts, score updates (small moves, often
// in place, and large ones) and deletes against a sorted model, at sizes
// that make the tree grow to three levels and shrink back.
func TestZbtreeModel(t *testing.T) {
	seed := rand.Uint64()
	t.Logf("seed %d", seed)
	r := rand.New(rand.NewPCG(seed, 7))
	for _, tc := range []struct{ members, steps, scores, checks int }{
		{300, 4000, 20, 20}, {5000, 40000, 1000, 20}, {20000, 150000, 50, 6},
	} {
		t.Run(fmt.Sprint(tc.members), func(t *testing.T) {
			z := newZbtree(0)
			var m zmodel
			scores := map[string]float64{}
			// The model stays sorted: entries are found and placed by
			// binary search (a sort per step would dominate the test).
			at := func(score float64, member string) (int, bool) {
				return slices.BinarySearchFunc(m, zent{member, score}, zentCmp)
			}
			remove := func(score float64, member string) {
				i, ok := at(score, member)
				if !ok {
					t.Fatalf("model lacks (%v %s)", score, member)
				}
				m = slices.Delete(m, i, i+1)
			}
			add := func(score float64, member string) {
				i, _ := at(score, member)
				m = slices.Insert(m, i, zent{member, score})
			}
			check := tc.steps / tc.checks
			for step := 0; step < tc.steps; step++ {
				member := "m" + strconv.Itoa(r.IntN(tc.members))
				score := float64(r.IntN(tc.scores)) / 2
				old, present := scores[member]
				// Grow for the first half, shrink in the second.
				del := r.IntN(3) == 0
				if step > tc.steps/2 {
					del = r.IntN(3) != 0
				}
				switch {
				case del:
					if got := z.delete(score, member); got != (present && old == score) {
						t.Fatalf("delete(%v %s) = %v with the member at %v (present %v)", score, member, got, old, present)
					}
					if present && old != score {
						if !z.delete(old, member) {
							t.Fatal("delete of a present entry failed")
						}
					}
					if present {
						delete(scores, member)
						remove(old, member)
					}
				case present:
					if r.IntN(2) == 0 {
						score = old + (r.Float64()-0.5)/100
					}
					z.updateScore(old, member, score)
					scores[member] = score
					remove(old, member)
					add(score, member)
				default:
					z.insert(score, member)
					scores[member] = score
					add(score, member)
				}
				if step%check == 0 {
					checkZbtree(t, z, m)
				}
			}
			checkZbtree(t, z, m)
			for _, e := range slices.Clone(m) {
				if !z.delete(e.score, e.member) {
					t.Fatalf("delete of %v failed", e)
				}
			}
			checkZbtree(t, z, nil)
		})
	}
}

// TestZbtreeSmallRoot: a tree made for a few members keeps a small leaf,
// which grows as members come and splits into full leaves.
func TestZbtreeSmallRoot(t *testing.T) {
	z := newZbtree(2)
	var m zmodel
	for i := 0; i < 3; i++ {
		z.insert(float64(i), "m")
		m = append(m, zent{"m", float64(i)})
	}
	if c := len(z.leaf.scores); c != zbtMinRoot {
		t.Fatalf("single leaf for 3 members has room for %d, want %d", c, zbtMinRoot)
	}
	for i := 3; i < 200; i++ {
		z.insert(float64(i), "m")
		m = append(m, zent{"m", float64(i)})
		checkZbtree(t, z, m)
	}
	if z.root == nil {
		t.Fatal("200 members in one leaf")
	}
	if c := len(newZbtree(500).leaf.scores); c != zbtLeafCap {
		t.Fatalf("a tree made for 500 members starts with room for %d, want %d", c, zbtLeafCap)
	}
}

// TestZbtreeSequential inserts in ascending and descending order (the
// splits keep a full left leaf when appending) and checks the fill.
func TestZbtreeSequential(t *testing.T) {
	for _, desc := range []bool{false, true} {
		z := newZbtree(0)
		var m zmodel
		const n = 10000
		for i := 0; i < n; i++ {
			s := float64(i)
			if desc {
				s = -s
			}
			z.insert(s, "x")
			m = append(m, zent{"x", s})
		}
		if desc {
			slices.Reverse(m)
		}
		checkZbtree(t, z, m)
		leaves := 0
		for l := z.last; l != nil; l = l.prev {
			leaves++
		}
		t.Logf("desc %v: %d entries in %d leaves", desc, n, leaves)
		if !desc && leaves > n/zbtLeafCap+1 {
			t.Fatalf("ascending inserts left %d leaves, want %d", leaves, n/zbtLeafCap+1)
		}
	}
}
