package monitor

import (
	"context"
	"errors"
	"slices"
	"sync"

	"github.com/procwatch/procwatch/internal/pattern"
)

// ScanDurationBuckets are the upper bounds, in seconds, of the scan
// duration histogram in [Stats]: from a small container (well under a
// millisecond) to a busy host with tens of thousands of processes.
var ScanDurationBuckets = []float64{.0005, .001, .0025, .005, .01, .025, .05, .1, .25, .5, 1, 2.5}

// Stats are the Monitor's cumulative counters, for an exporter to read.
// They count every scan, whoever asked for it (a periodic loop, a glob
// change, a scrape through [Monitor.Fresh]).
type Stats struct {
	// Scans is the number of successful scans, and DurationSum their total
	// duration in seconds.
	Scans       uint64
	DurationSum float64
	// DurationBuckets holds, for each bound of ScanDurationBuckets, the
	// number of successful scans that took at most that long (cumulative,
	// as a Prometheus histogram counts).
	DurationBuckets []uint64
	// Failures counts scans that failed as a whole (the process table could
	// not be listed, or the Source panicked). Scans cut short by their
	// context ending say nothing about the host and are not counted.
	Failures uint64
	// GlobErrors counts invalid globs, each once when it enters the list in
	// force: putting the same list in force again counts nothing new.
	GlobErrors uint64
	// EventsUnidentified counts process events of an exec whose process
	// was gone (reaped) before it could be read, and so could not be
	// matched: starts that procwatch_glob_process_starts_total may miss.
	EventsUnidentified uint64
	// EventRescans counts the full scans forced by lost process events.
	EventRescans uint64
}

// scanStats accumulates Stats; it has its own lock so that reading the
// stats never waits for a scan.
type scanStats struct {
	mu          sync.Mutex
	s           Stats
	invalidSeen map[string]struct{} // invalid globs of the list in force
}

func (st *scanStats) observe(res *ScanResult, err error) {
	st.mu.Lock()
	defer st.mu.Unlock()
	if err != nil {
		if !errors.Is(err, context.Canceled) && !errors.Is(err, context.DeadlineExceeded) {
			st.s.Failures++
		}
		return
	}
	if st.s.DurationBuckets == nil {
		st.s.DurationBuckets = make([]uint64, len(ScanDurationBuckets))
	}
	d := res.Duration.Seconds()
	st.s.Scans++
	st.s.DurationSum += d
	for i, le := range ScanDurationBuckets {
		if d <= le {
			st.s.DurationBuckets[i]++
		}
	}
}

// countInvalid counts the invalid globs that were not already in the list in
// force, so that re-applying the same list (from the cache file, then from
// ZooKeeper) does not count its invalid globs twice.
func (st *scanStats) countInvalid(errs []*pattern.Error) {
	st.mu.Lock()
	defer st.mu.Unlock()
	next := make(map[string]struct{}, len(errs))
	for _, e := range errs {
		next[e.Glob] = struct{}{}
		if _, ok := st.invalidSeen[e.Glob]; !ok {
			st.s.GlobErrors++
		}
	}
	st.invalidSeen = next
}

func (st *scanStats) countUnidentified() {
	st.mu.Lock()
	defer st.mu.Unlock()
	st.s.EventsUnidentified++
}

func (st *scanStats) countRescan() {
	st.mu.Lock()
	defer st.mu.Unlock()
	st.s.EventRescans++
}

func (st *scanStats) get() Stats {
	st.mu.Lock()
	defer st.mu.Unlock()
	s := st.s
	s.DurationBuckets = slices.Clone(s.DurationBuckets)
	if s.DurationBuckets == nil {
		s.DurationBuckets = make([]uint64, len(ScanDurationBuckets))
	}
	return s
}
