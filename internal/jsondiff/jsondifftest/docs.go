// Package jsondifftest holds test data shared by jsondiff's own tests and
// the benchmark harness, which cannot import test files.
package jsondifftest

import "fmt"

// DiffDocs returns a document of about 1 MiB shaped like a large shared
// struct, {"items":[...],"meta":{...}}, and a copy with 1% of its items
// changed: modified in place, removed, or with a new item inserted before
// them, in equal parts. jsondiff's Diff benchmark and test and the bench
// harness's diff section all use these documents.
func DiffDocs() (old, new []byte) {
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
