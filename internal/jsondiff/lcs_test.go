package jsondiff

import (
	"fmt"
	"math/rand/v2"
	"slices"
	"testing"
)

// TestDiffMinimal compares the array alignment with a textbook dynamic
// programming LCS on many small random arrays: every element that is not
// part of the LCS must be reported once, and no other.
func TestDiffMinimal(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	randArray := func() []int {
		a := make([]int, rng.IntN(16))
		for i := range a {
			a[i] = rng.IntN(4)
		}
		return a
	}
	for range 2000 {
		a, b := randArray(), randArray()
		old, new := diffMarshal(t, a), diffMarshal(t, b)
		changes := checkDiff(t, old, new)
		var nAdded, nRemoved, nModified int
		for _, c := range changes {
			switch c.Kind {
			case Added:
				nAdded++
			case Removed:
				nRemoved++
			case Modified:
				nModified++
			}
		}
		l := lcsLength(a, b)
		if len(a)-l != nRemoved+nModified || len(b)-l != nAdded+nModified {
			t.Fatalf("Diff(%s, %s): LCS length %d, but %d removed, %d added, %d modified: %v",
				old, new, l, nRemoved, nAdded, nModified, changes)
		}
	}
}

func lcsLength(a, b []int) int {
	prev, cur := make([]int, len(b)+1), make([]int, len(b)+1)
	for i := range a {
		for j := range b {
			if a[i] == b[j] {
				cur[j+1] = prev[j] + 1
			} else {
				cur[j+1] = max(prev[j+1], cur[j])
			}
		}
		prev, cur = cur, prev
	}
	return prev[len(b)]
}

// TestDiffLargeArrays covers arrays too far apart for the first, cheap
// alignment attempt: lists of distinct entries are still aligned exactly.
func TestDiffLargeArrays(t *testing.T) {
	const n = 6000
	var a, b []string
	for i := range n {
		a = append(a, fmt.Sprintf("item-%d", i))
	}
	kept, edits := 0, 0
	for i, s := range a {
		switch {
		case i%37 == 0:
			edits++ // removed
		case i%31 == 0:
			b = append(b, s, fmt.Sprintf("new-%d", i))
			kept++
			edits++
		case i%41 == 0:
			b = append(b, fmt.Sprintf("changed-%d", i))
			edits += 2
		default:
			b = append(b, s)
			kept++
		}
	}
	if edits <= 2*lcsFirstLimit {
		t.Fatalf("test bug: %d edits are within reach of the first attempt", edits)
	}
	old, new := diffMarshal(t, a), diffMarshal(t, b)
	changes := checkDiff(t, old, new)
	var nAdded, nRemoved, nModified int
	for _, c := range changes {
		switch c.Kind {
		case Added:
			nAdded++
		case Removed:
			nRemoved++
		case Modified:
			nModified++
		}
	}
	if len(a)-kept != nRemoved+nModified || len(b)-kept != nAdded+nModified {
		t.Errorf("%d kept, but %d removed, %d added, %d modified", kept, nRemoved, nAdded, nModified)
	}

	// Blocks moved around: the exact LCS is not known here, only that the
	// result replays correctly.
	moved := slices.Concat(a[3000:3500], a[:3000], a[4000:], a[3500:4000])
	checkDiff(t, old, diffMarshal(t, moved))
	shuffled := slices.Clone(a)
	rand.New(rand.NewPCG(3, 4)).Shuffle(len(shuffled), func(i, j int) {
		shuffled[i], shuffled[j] = shuffled[j], shuffled[i]
	})
	checkDiff(t, old, diffMarshal(t, shuffled))
}

// TestDiffCostLimit forces the fallback for arrays whose alignment would cost
// too much: the result may be longer than minimal but must replay correctly.
func TestDiffCostLimit(t *testing.T) {
	rng := rand.New(rand.NewPCG(5, 6))
	for _, limit := range []int{1, 2, 5} {
		for range 200 {
			a := make([]any, rng.IntN(60))
			for i := range a {
				a[i] = rng.IntN(5)
			}
			b := slices.Clone(a)
			for range rng.IntN(10) {
				i := rng.IntN(len(b) + 1)
				b = slices.Insert(b, i, any(rng.IntN(5)))
				if len(b) > 1 {
					j := rng.IntN(len(b))
					b = slices.Delete(b, j, j+1)
				}
			}
			old, new := diffMarshal(t, map[string]any{"x": a}), diffMarshal(t, map[string]any{"x": b})
			var da, db jsonDoc
			if err := da.parse(old); err != nil {
				t.Fatal(err)
			}
			if err := db.parse(new); err != nil {
				t.Fatal(err)
			}
			df := differ{a: &da, b: &db, costLimit: limit}
			df.node(da.root, db.root)
			changes := df.finish()
			checkReplay(t, old, new, changes)
		}
	}
}
