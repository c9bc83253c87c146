package server

import (
	"math/rand/v2"
	"strconv"
	"testing"
)

// checkHashTable compares a hashTable with a model map and checks that
// every entry is reachable from its home slot.
func checkHashTable(t *testing.T, ht *hashTable, ref map[string]string) {
	t.Helper()
	if ht.n != len(ref) {
		t.Fatalf("n = %d, model %d", ht.n, len(ref))
	}
	if ht.n*4 > len(ht.slots)*3 {
		t.Fatalf("%d fields in %d slots", ht.n, len(ht.slots))
	}
	seen := 0
	var mem int64
	for f, v := range ht.m {
		seen++
		mem += hashEntryMem(f, v)
		if want, ok := ref[f]; !ok || want != v {
			t.Fatalf("field %q = %q, model %q (%v)", f, v, want, ok)
		}
		if s := ht.lookup([]byte(f)); s == nil || s.value() != v {
			t.Fatalf("lookup(%q) fails", f)
		}
	}
	if seen != len(ref) || mem != ht.mem {
		t.Fatalf("iteration: %d fields, %d bytes; want %d, %d", seen, mem, len(ref), ht.mem)
	}
}

// TestHashTableModel drives the hashtable encoding through growth,
// updates, deletions with backward shifts and shrinking.
func TestHashTableModel(t *testing.T) {
	seed := rand.Uint64()
	t.Logf("seed %d", seed)
	r := rand.New(rand.NewPCG(seed, 3))
	ht := newHashTable(0)
	ref := map[string]string{}
	for phase := 0; phase < 6; phase++ {
		nfields := 50 + r.IntN(5000)
		delBias := r.IntN(3) // 0: mostly inserts, 2: mostly deletes
		for step := 0; step < 20000; step++ {
			f := "f" + strconv.Itoa(r.IntN(nfields))
			if r.IntN(4) < delBias+1 {
				i, ok := ht.find([]byte(f), htTag([]byte(f)))
				if _, want := ref[f]; ok != want {
					t.Fatalf("find %q = %v, model %v", f, ok, want)
				}
				if ok {
					ht.deleteAt(i)
					delete(ref, f)
				}
				continue
			}
			v := strconv.Itoa(r.IntN(1 << 20))
			_, existed := ref[f]
			if isNew := ht.set([]byte(f), []byte(v)); isNew == existed {
				t.Fatalf("set %q: new=%v, existed=%v", f, isNew, existed)
			}
			ref[f] = v
			if step%2000 == 0 {
				checkHashTable(t, ht, ref)
			}
		}
		checkHashTable(t, ht, ref)
	}
	for f := range ref {
		i, ok := ht.find([]byte(f), htTag([]byte(f)))
		if !ok {
			t.Fatalf("lost %q", f)
		}
		ht.deleteAt(i)
		delete(ref, f)
	}
	checkHashTable(t, ht, ref)
	if len(ht.slots) != htMinSlots {
		t.Fatalf("empty table keeps %d slots", len(ht.slots))
	}
	cp := (&hashObj{ht: newHashTable(0)})
	cp.ht.set([]byte("a"), []byte("1"))
	dup := cp.Copy().(*hashObj)
	dup.ht.set([]byte("a"), []byte("2"))
	if v, _ := cp.get([]byte("a")); string(v) != "1" {
		t.Fatalf("Copy shares slots: %q", v)
	}
}
