package bench

import (
	"context"
	"encoding/json"
	"fmt"
	"runtime"
	"time"

	"github.com/procwatch/procwatch/internal/zkstate"
)

// diffDocs returns a document of about 1 MiB shaped like a large shared
// struct, {"items":[...],"meta":{...}}, and a copy with 1% of its items
// changed: modified in place, removed, or with a new item inserted before
// them, in equal parts (the documents of zkstate's BenchmarkDiff1MiB).
func diffDocs() (old, new []byte) {
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

// diffSection is section 7: zkstate.Diff of the 1 MiB documents beside the
// least any JSON-aware comparison must do, scanning both documents once
// (json.Valid), with decoding both into interface values for reference.
func diffSection(_ context.Context, e *env) (sectionResult, error) {
	var res sectionResult
	old, new := diffDocs()
	changes, err := zkstate.Diff(old, new)
	if err != nil {
		return res, err
	}
	rounds, iters := 5, 4
	if e.cfg.Quick {
		rounds, iters = 1, 1
	}
	type cost struct {
		cpu     []float64
		allocs  []float64
		bytesOp []float64
	}
	subjects := []func() error{
		func() error { _, err := zkstate.Diff(old, new); return err },
		func() error {
			if !json.Valid(old) || !json.Valid(new) {
				return fmt.Errorf("invalid documents")
			}
			return nil
		},
		func() error {
			var a, b any
			if err := json.Unmarshal(old, &a); err != nil {
				return err
			}
			return json.Unmarshal(new, &b)
		},
	}
	costs := make([]cost, len(subjects))
	for k := range rounds {
		for j := range subjects {
			i := (j + k) % len(subjects)
			var m0, m1 runtime.MemStats
			runtime.ReadMemStats(&m0)
			c0 := processCPU()
			for range iters {
				if err := subjects[i](); err != nil {
					return res, err
				}
			}
			c := processCPU() - c0
			runtime.ReadMemStats(&m1)
			costs[i].cpu = append(costs[i].cpu, float64(c)/float64(iters))
			costs[i].allocs = append(costs[i].allocs, float64(m1.Mallocs-m0.Mallocs)/float64(iters))
			costs[i].bytesOp = append(costs[i].bytesOp, float64(m1.TotalAlloc-m0.TotalAlloc)/float64(iters))
		}
	}
	d, f, u := costs[0], costs[1], costs[2]
	res.row(Row{
		Section: "7 diff",
		Case:    fmt.Sprintf("zkstate.Diff, %s JSON, 1%% of %d entries changed: CPU per diff, allocs", fmtBytes(float64(len(old))), countItems(old)),
		Project: fmt.Sprintf("%s, %.0f allocs, %s", fmtDur(time.Duration(medianFloat(d.cpu))), medianFloat(d.allocs), fmtBytes(medianFloat(d.bytesOp))),
		Floor:   fmt.Sprintf("%s, 0 allocs", fmtDur(time.Duration(medianFloat(f.cpu)))),
		Ratio:   fmtRatio(ratio(medianFloat(d.cpu), medianFloat(f.cpu))),
		Verdict: Info,
	})
	res.note("diff: %d changes found; median of %d interleaved rounds of %d diffs, process CPU time; the floor validates both documents with json.Valid (one pass over every byte, no allocation); decoding both with json.Unmarshal into interface values, where a naive diff would start, costs %s and %.0f allocs",
		len(changes), rounds, iters, fmtDur(time.Duration(medianFloat(u.cpu))), medianFloat(u.allocs))
	return res, nil
}

func countItems(doc []byte) int {
	var d struct {
		Items []json.RawMessage `json:"items"`
	}
	_ = json.Unmarshal(doc, &d)
	return len(d.Items)
}
