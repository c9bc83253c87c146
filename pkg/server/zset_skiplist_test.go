package server

import (
	"math"
	"math/rand/v2"
	"strconv"
	"testing"
	"unsafe"
)

// checkLinkScores verifies that every link caches the score of the node it
// points to.
func checkLinkScores(t *testing.T, z *zskiplist) {
	t.Helper()
	for x := z.head; x != nil; x = x.level[0].forward {
		for i := range x.level {
			if i >= z.level && x == z.head {
				break
			}
			l := x.level[i]
			if l.forward != nil && l.score != l.forward.score {
				t.Fatalf("level %d link to %q caches score %v, node has %v", i, l.forward.member, l.score, l.forward.score)
			}
		}
	}
}

// TestZSetLinkScores runs random inserts, in-place and moving score
// updates and deletes, and checks the cached link scores and the order.
func TestZSetLinkScores(t *testing.T) {
	seed := rand.Uint64()
	t.Logf("seed %d", seed)
	r := rand.New(rand.NewPCG(seed, 11))
	z := newZskiplist()
	nodes := map[string]*zslNode{}
	for step := 0; step < 20000; step++ {
		member := "m" + strconv.Itoa(r.IntN(500))
		score := float64(r.IntN(40)) / 4
		n := nodes[member]
		switch {
		case r.IntN(4) == 0 && n != nil:
			if !z.delete(n.score, n.member) {
				t.Fatal("delete of a present node failed")
			}
			delete(nodes, member)
		case n != nil:
			if r.IntN(2) == 0 {
				score = n.score + (r.Float64()-0.5)/100 // small move: often in place
			}
			nodes[member] = z.updateScore(n, score)
		default:
			nodes[member] = z.insert(score, member)
		}
		if step%500 == 0 {
			checkLinkScores(t, z)
		}
	}
	checkLinkScores(t, z)
	prev := (*zslNode)(nil)
	count := 0
	for x := z.head.level[0].forward; x != nil; x = x.level[0].forward {
		if prev != nil && !zslLess(prev.score, prev.member, x.score, x.member) {
			t.Fatalf("order broken at %q", x.member)
		}
		if r := z.rank(x.score, x.member); r != count+1 {
			t.Fatalf("rank of %q = %d, want %d", x.member, r, count+1)
		}
		prev = x
		count++
	}
	if count != len(nodes) || z.length != count {
		t.Fatalf("%d nodes, length %d, model %d", count, z.length, len(nodes))
	}
}

// TestParseScoreFastPath checks the integer fast path against the general
// parser.
func TestParseScoreFastPath(t *testing.T) {
	for _, in := range []string{"0", "-0", "+0", "7", "007", "-12", "+12", "999999999999999",
		"-999999999999999", "1000000000000000", "12345678901234567890", "1e3", "1.5", "-", "+", "1-", " 1", "0x10"} {
		got, ok := parseScoreStrict([]byte(in))
		want, wok := strtodWhole(in)
		if ok != wok || got != want || math.Signbit(got) != math.Signbit(want) {
			t.Errorf("parseScoreStrict(%q) = %v, %v; want %v, %v", in, got, ok, want, wok)
		}
	}
}

// TestZslLevelsOffset checks that every node kind keeps its levels where
// zslNode.lv reads them.
func TestZslLevelsOffset(t *testing.T) {
	offs := []uintptr{
		unsafe.Offsetof(zslNode1{}.lv), unsafe.Offsetof(zslNode2{}.lv), unsafe.Offsetof(zslNode3{}.lv),
		unsafe.Offsetof(zslNode4{}.lv), unsafe.Offsetof(zslNode8{}.lv), unsafe.Offsetof(zslNode16{}.lv),
		unsafe.Offsetof(zslNode32{}.lv),
	}
	for i, o := range offs {
		if o != zslLevelsOff {
			t.Errorf("node kind %d: levels at %d, want %d", i, o, zslLevelsOff)
		}
	}
	for lvl := 1; lvl <= zslMaxLevel; lvl++ {
		n := newZslNode(lvl, 1, "m")
		if len(n.level) != lvl {
			t.Fatalf("level %d: %d levels", lvl, len(n.level))
		}
		for i := range n.level {
			if n.lv(i) != &n.level[i] {
				t.Fatalf("level %d: lv(%d) is not &level[%d]", lvl, i, i)
			}
		}
	}
}
