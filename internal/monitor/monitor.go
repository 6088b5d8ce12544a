package monitor

import (
	"context"
	"errors"
	"fmt"
	"runtime/debug"
	"slices"
	"sync"
	"sync/atomic"
	"time"

	"go.opentelemetry.io/otel"
	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/codes"
	"go.opentelemetry.io/otel/trace"

	"github.com/procwatch/procwatch/internal/pattern"
)

// tracerName is the instrumentation scope of the package's spans.
const tracerName = "github.com/procwatch/procwatch/internal/monitor"

// ScanResult is the outcome of one scan: everything the metrics collector
// exports about the processes. Results share their slices with the Monitor
// and with each other; they are never modified after they are returned,
// and callers must not modify them either.
type ScanResult struct {
	// Time is when the scan started.
	Time time.Time
	// Duration is how long the scan took.
	Duration time.Duration
	// Globs holds one entry per distinct valid glob in force, in list
	// order, including those that match nothing.
	Globs []GlobStats
	// InvalidGlobs are the globs of the list in force that were skipped.
	InvalidGlobs []*pattern.Error
	// Scanned is the number of processes looked at.
	Scanned int
	// Matched is the number of distinct processes matching at least one
	// glob.
	Matched int
	// Errors is the number of processes skipped for an unexpected read
	// error (see Snapshot.Errors).
	Errors int
	// PSS tells that the source reads PSS ([WithPSS]), so that
	// GlobStats.PSS is a value to export.
	PSS bool
}

// Option configures a Monitor.
type Option func(*Monitor)

// WithTracerProvider sets where the Monitor's spans go. Without it the
// global provider (otel.GetTracerProvider) is used, including one installed
// after New. Tests pass an SDK provider with an in-memory exporter.
func WithTracerProvider(tp trace.TracerProvider) Option {
	return func(m *Monitor) {
		if tp != nil {
			m.tracer = tp.Tracer(tracerName)
		}
	}
}

// Monitor owns a Source, the Matcher compiled from the glob list in force
// and the per-glob counters. It is safe for concurrent use: scans and glob
// changes are serialized, and [Monitor.Latest] never waits for a scan.
type Monitor struct {
	src    Source
	tracer trace.Tracer

	mu      sync.Mutex // serializes scans and glob changes
	matcher *Matcher
	// current is matcher, for reads at an exec that must not wait for mu.
	current atomic.Pointer[Matcher]
	invalid []*pattern.Error
	tracker tracker

	latest atomic.Pointer[ScanResult]
	stats  scanStats

	// pending holds process events read while a scan held mu (see
	// Monitor.fold); the scan folds them in as it ends.
	pendingMu sync.Mutex
	pending   []pendingEvent
	// records is what waits for an exit record or its exec; mu guards it.
	records recordState
}

// New returns a Monitor reading src. It watches no glob until SetGlobs.
func New(src Source, opts ...Option) *Monitor {
	m := &Monitor{src: src, tracer: otel.Tracer(tracerName)}
	m.tracker.ended = m.endedLocked
	for _, o := range opts {
		o(m)
	}
	m.matcher, _ = Compile(nil)
	m.current.Store(m.matcher)
	return m
}

// SetGlobs puts a new glob list in force and re-matches at once: it compiles
// the list, then scans, so that the result (also available from
// [Monitor.Latest]) reflects the new list without waiting for the next
// periodic scan. Call it on every change of the list.
//
// Invalid globs are skipped and listed in the result's InvalidGlobs; the
// others are in force either way. Globs that stay keep their counters; a
// new glob starts from the processes matching it now, which do not count
// as starts. The error is the scan's (see [Monitor.Scan]); the new list is
// in force even then.
func (m *Monitor) SetGlobs(ctx context.Context, globs []string) (ScanResult, error) {
	ctx, span := m.tracer.Start(ctx, "monitor.SetGlobs")
	defer span.End()
	matcher, invalid := Compile(globs)
	span.SetAttributes(
		attribute.Int("procwatch.globs", matcher.Len()),
		attribute.Int("procwatch.invalid_globs", len(invalid)),
	)
	for _, e := range invalid {
		span.AddEvent("invalid glob", trace.WithAttributes(
			attribute.String("procwatch.glob", e.Glob),
			attribute.String("error", e.Reason.Error()),
		))
	}

	m.mu.Lock()
	defer m.unlock()
	// A change event may leave the globs as they were (another field of the
	// payload changed): keep the Matcher then, so that the cached match
	// results stay valid.
	if !slices.Equal(matcher.Globs(), m.matcher.Globs()) {
		m.matcher = matcher
		m.current.Store(matcher)
	}
	m.invalid = invalid
	m.stats.countInvalid(invalid)
	res, err := m.scanLocked(ctx)
	if err != nil {
		span.RecordError(err)
		span.SetStatus(codes.Error, "re-match failed")
		// The list is in force although its first scan failed: the caller
		// still needs to know which globs were skipped.
		res.InvalidGlobs = invalid
	}
	return res, err
}

// Scan reads the processes once and updates the counters. The agent's
// periodic loop calls it; the result is also kept for [Monitor.Latest], and
// the scan is counted in [Monitor.Stats].
//
// An error means the scan failed as a whole (the process table could not be
// listed, or ctx ended): the counters are untouched and Latest keeps the
// previous result, since a partial list would look like processes exiting.
func (m *Monitor) Scan(ctx context.Context) (ScanResult, error) {
	m.mu.Lock()
	defer m.unlock()
	return m.scanLocked(ctx)
}

// Fresh returns the latest result if it is at most maxAge old, and
// otherwise scans first: what a scrape wants, bounded work however many
// scrapers there are, since callers arriving during a scan wait for it and
// then find its result fresh. A failed scan returns the previous result (ok
// false when there is none) with the error.
func (m *Monitor) Fresh(ctx context.Context, maxAge time.Duration) (res ScanResult, ok bool, err error) {
	if maxAge <= 0 {
		res, ok = m.Latest()
		return res, ok, nil
	}
	m.mu.Lock()
	defer m.unlock()
	m.foldPendingLocked()
	res, ok = m.Latest()
	if ok && time.Since(res.Time) <= maxAge {
		return res, true, nil
	}
	fresh, err := m.scanLocked(ctx)
	if err != nil {
		return res, ok, err
	}
	return fresh, true, nil
}

// Stats returns the Monitor's cumulative counters. It never waits for a
// scan.
func (m *Monitor) Stats() Stats { return m.stats.get() }

// Latest returns the result of the last successful scan, and false if there
// has been none yet.
func (m *Monitor) Latest() (ScanResult, bool) {
	if r := m.latest.Load(); r != nil {
		return *r, true
	}
	return ScanResult{}, false
}

// Globs returns the distinct valid globs in force.
func (m *Monitor) Globs() []string {
	m.mu.Lock()
	defer m.unlock()
	return m.matcher.Globs()
}

// scanLocked scans and records the scan in the Monitor's stats.
func (m *Monitor) scanLocked(ctx context.Context) (ScanResult, error) {
	res, err := m.guardedScan(ctx)
	m.stats.observe(&res, err)
	// Events read during the scan are folded in after it: the tracker
	// counts each process once whichever of the two saw it first.
	m.foldPendingLocked()
	if err == nil {
		if r, ok := m.Latest(); ok {
			res = r
		}
	}
	return res, err
}

// guardedScan turns a panic while scanning into a failed scan. Scans run in
// the agent's own goroutines and in the registry's collecting goroutines,
// where nothing recovers: one malformed /proc entry must not take the
// agent, and the metrics of every glob, down with it.
func (m *Monitor) guardedScan(ctx context.Context) (res ScanResult, err error) {
	defer func() {
		if r := recover(); r != nil {
			res, err = ScanResult{}, fmt.Errorf("monitor: scan panicked: %v\n%s", r, debug.Stack())
		}
	}()
	return m.scan(ctx)
}

func (m *Monitor) scan(ctx context.Context) (res ScanResult, err error) {
	ctx, span := m.tracer.Start(ctx, "monitor.Scan")
	defer span.End()
	start := time.Now()
	if m.src == nil {
		err := errors.New("monitor: no Source")
		span.RecordError(err)
		span.SetStatus(codes.Error, "scan failed")
		return ScanResult{}, err
	}
	snap, err := m.src.Scan(ctx, m.matcher)
	if err != nil {
		span.RecordError(err)
		span.SetStatus(codes.Error, "scan failed")
		return ScanResult{}, err
	}
	res = ScanResult{
		Time:         start,
		Globs:        m.tracker.update(m.matcher.Globs(), &snap),
		InvalidGlobs: m.invalid,
		Scanned:      snap.Scanned,
		Matched:      len(snap.Procs),
		Errors:       snap.Errors,
		PSS:          snap.PSS,
	}
	m.noteScanExitsLocked()
	res.Duration = time.Since(start)
	span.SetAttributes(
		attribute.Int("procwatch.globs", len(res.Globs)),
		attribute.Int("procwatch.processes_scanned", res.Scanned),
		attribute.Int("procwatch.processes_matched", res.Matched),
		attribute.Int("procwatch.read_errors", res.Errors),
	)
	r := res
	m.latest.Store(&r)
	return res, nil
}
