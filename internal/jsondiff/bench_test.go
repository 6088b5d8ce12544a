package jsondiff

import (
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"strconv"
	"testing"

	"github.com/procwatch/procwatch/internal/jsondiff/jsondifftest"
)

func BenchmarkDiff1MiB(b *testing.B) {
	old, new := jsondifftest.DiffDocs()
	changes, err := Diff(old, new)
	if err != nil {
		b.Fatal(err)
	}
	b.ReportMetric(float64(len(changes)), "changes/op")
	b.SetBytes(int64(len(old) + len(new)))
	b.ReportAllocs()
	for b.Loop() {
		if _, err := Diff(old, new); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkDiffSmall(b *testing.B) {
	var old, new []byte
	old = append(old, `{"globs":[`...)
	new = append(new, `{"globs":[`...)
	for i := range 20 {
		g := strconv.Quote(fmt.Sprintf("proc-%02d*", i))
		if i > 0 {
			old = append(old, ',')
		}
		old = append(old, g...)
		if i != 10 {
			if len(new) > len(`{"globs":[`) {
				new = append(new, ',')
			}
			new = append(new, g...)
		}
	}
	old, new = append(old, "]}"...), append(new, "]}"...)
	b.SetBytes(int64(len(old) + len(new)))
	b.ReportAllocs()
	for b.Loop() {
		if _, err := Diff(old, new); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkDiffShuffled measures the bounded worst case: 20k distinct
// elements in a random order, where no useful alignment exists and the
// search gives up at its cost limit.
func BenchmarkDiffShuffled(b *testing.B) {
	items := make([]string, 20000)
	for i := range items {
		items[i] = fmt.Sprintf("item-%d", i)
	}
	old, err := json.Marshal(items)
	if err != nil {
		b.Fatal(err)
	}
	rand.New(rand.NewPCG(1, 2)).Shuffle(len(items), func(i, j int) { items[i], items[j] = items[j], items[i] })
	new, err := json.Marshal(items)
	if err != nil {
		b.Fatal(err)
	}
	b.SetBytes(int64(len(old) + len(new)))
	b.ReportAllocs()
	for b.Loop() {
		if _, err := Diff(old, new); err != nil {
			b.Fatal(err)
		}
	}
}
