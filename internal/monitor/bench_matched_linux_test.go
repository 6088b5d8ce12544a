package monitor

import (
	"context"
	"fmt"
	"testing"
)

// BenchmarkScanAllMatched scans a generated tree where every process
// matches: B/op is what the matched processes cost per scan, which on a
// host where the globs cover most processes is what the garbage collector,
// and so the agent's RSS, sees.
func BenchmarkScanAllMatched(b *testing.B) {
	for _, n := range []int{2000, 10000} {
		root := benchTree(b, n)
		m, errs := Compile([]string{"*"})
		if errs != nil {
			b.Fatal(errs)
		}
		b.Run(fmt.Sprintf("procs=%d", n), func(b *testing.B) {
			s := warmSource(b, root, m)
			ctx := context.Background()
			b.ReportAllocs()
			for b.Loop() {
				snap, err := s.Scan(ctx, m)
				if err != nil || len(snap.Procs) != n {
					b.Fatalf("scan: %d matched of %d, %v", len(snap.Procs), n, err)
				}
			}
		})
	}
}
