package zkstate

import (
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"strconv"
	"testing"
)

// benchDocs returns a document of about 1 MiB shaped like a large shared
// struct, {"items":[...],"meta":{...}}, and a copy with 1% of its items
// changed: modified in place, removed, or with a new item inserted before
// them, in equal parts.
func benchDocs() (old, new []byte) {
	item := func(dst []byte, id, weight int) []byte {
		return fmt.Appendf(dst, `{"id":%d,"glob":"svc-%05d*","enabled":true,"weight":%d}`, id, id, weight)
	}
	const meta = `],"meta":{"owner":"ops","revision":41,"labels":{"env":"prod","team":"infra"}}}`
	old = append(old, `{"items":[`...)
	new = append(new, `{"items":[`...)
	sep := func(b []byte) []byte {
		if b[len(b)-1] != '[' {
			b = append(b, ',')
		}
		return b
	}
	for i := 0; len(old) < 1<<20-len(meta)-64; i++ {
		old = item(sep(old), i, i%7)
		switch {
		case i%100 != 0:
			new = item(sep(new), i, i%7)
		case i/100%3 == 0:
			new = item(sep(new), i, i%7+1)
		case i/100%3 == 1:
			// removed
		default:
			new = item(sep(new), 1_000_000+i, 0)
			new = item(sep(new), i, i%7)
		}
	}
	return append(old, meta...), append(new, meta...)
}

func BenchmarkDiff1MiB(b *testing.B) {
	old, new := benchDocs()
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
