package bench

import (
	"context"
	"encoding/json"
	"fmt"
	"runtime"
	"time"

	"github.com/procwatch/procwatch/internal/jsondiff"
	"github.com/procwatch/procwatch/internal/jsondiff/jsondifftest"
)

// diffSection is section 7: jsondiff.Diff, the diff behind zkstate's events,
// of the 1 MiB documents beside the least any JSON-aware comparison must do,
// scanning both documents once (json.Valid), with decoding both into
// interface values for reference.
func diffSection(_ context.Context, e *env) (sectionResult, error) {
	var res sectionResult
	old, new := jsondifftest.DiffDocs()
	changes, err := jsondiff.Diff(old, new)
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
		func() error { _, err := jsondiff.Diff(old, new); return err },
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
		Case:    fmt.Sprintf("jsondiff.Diff, %s JSON, 1%% of %d entries changed: CPU per diff, allocs", fmtBytes(float64(len(old))), countItems(old)),
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
