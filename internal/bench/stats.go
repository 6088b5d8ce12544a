package bench

import (
	"fmt"
	"math"
	"slices"
	"time"
)

// Latencies is a sample of durations.
type Latencies []time.Duration

// Percentile returns the nearest-rank p-th percentile (0 < p <= 100): the
// smallest sample at least p% of the samples are not above. It returns 0
// for an empty sample.
func (l Latencies) Percentile(p float64) time.Duration {
	if len(l) == 0 {
		return 0
	}
	s := slices.Clone(l)
	slices.Sort(s)
	rank := int(math.Ceil(p / 100 * float64(len(s))))
	rank = min(max(rank, 1), len(s))
	return s[rank-1]
}

// Max returns the largest sample, 0 for an empty one.
func (l Latencies) Max() time.Duration {
	if len(l) == 0 {
		return 0
	}
	return slices.Max(l)
}

// Median is Percentile(50).
func (l Latencies) Median() time.Duration { return l.Percentile(50) }

// medianFloat returns the median of xs (the lower middle for an even count),
// 0 for none. Repeated rounds of a measurement are summarised by their
// median, which one round disturbed by a burst of load does not move.
func medianFloat(xs []float64) float64 {
	if len(xs) == 0 {
		return 0
	}
	s := slices.Clone(xs)
	slices.Sort(s)
	return s[(len(s)-1)/2]
}

// ratio is a/b, or NaN when b is 0.
func ratio(a, b float64) float64 {
	if b == 0 {
		return math.NaN()
	}
	return a / b
}

// fmtDur formats d with a unit fitting its size and three significant
// figures or so.
func fmtDur(d time.Duration) string {
	switch {
	case d < time.Microsecond:
		return fmt.Sprintf("%d ns", d.Nanoseconds())
	case d < time.Millisecond:
		return fmt.Sprintf("%.1f µs", float64(d)/float64(time.Microsecond))
	case d < time.Second:
		return fmt.Sprintf("%.2f ms", float64(d)/float64(time.Millisecond))
	default:
		return fmt.Sprintf("%.2f s", d.Seconds())
	}
}

// fmtNs formats a nanosecond figure that may be fractional (a per-op mean).
func fmtNs(ns float64) string {
	if ns < 1000 {
		return fmt.Sprintf("%.1f ns", ns)
	}
	return fmtDur(time.Duration(ns))
}

// fmtRatio formats a ratio as "1.23×", or "n/a" when undefined.
func fmtRatio(r float64) string {
	if math.IsNaN(r) || math.IsInf(r, 0) {
		return "n/a"
	}
	return fmt.Sprintf("%.2f×", r)
}

// fmtTriple formats p50 / p99 / max of l.
func fmtTriple(l Latencies) string {
	return fmt.Sprintf("%s / %s / %s", fmtDur(l.Median()), fmtDur(l.Percentile(99)), fmtDur(l.Max()))
}

// fmtBytes formats a byte count in binary units.
func fmtBytes(n float64) string {
	switch {
	case n >= 1<<30:
		return fmt.Sprintf("%.2f GiB", n/(1<<30))
	case n >= 1<<20:
		return fmt.Sprintf("%.1f MiB", n/(1<<20))
	case n >= 1<<10:
		return fmt.Sprintf("%.1f KiB", n/(1<<10))
	default:
		return fmt.Sprintf("%.0f B", n)
	}
}
