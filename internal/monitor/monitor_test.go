package monitor

import (
	"context"
	"errors"
	"sync"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/codes"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	"go.opentelemetry.io/otel/sdk/trace/tracetest"
)

// fakeSource serves a fixed list of processes, matched with the Matcher it
// is given, or fails.
type fakeSource struct {
	mu    sync.Mutex
	procs []Proc
	err   error
	scans int
}

func (f *fakeSource) Scan(ctx context.Context, m *Matcher) (Snapshot, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.scans++
	if f.err != nil {
		return Snapshot{}, f.err
	}
	if err := ctx.Err(); err != nil {
		return Snapshot{}, err
	}
	snap := Snapshot{Scanned: len(f.procs)}
	for _, p := range f.procs {
		if globs := m.AppendMatches(nil, TargetOf(&p)); len(globs) > 0 {
			snap.Procs = append(snap.Procs, MatchedProc{Proc: p, Globs: globs})
		}
	}
	return snap, nil
}

func (f *fakeSource) set(procs ...Proc) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.procs = procs
}

func proc(pid int, name string, cpu float64) Proc {
	return Proc{PID: pid, StartTicks: uint64(pid), StartTime: t0.Add(time.Duration(pid) * time.Second), Name: name,
		Comm: name, Exe: "/usr/bin/" + name, Cmdline: []string{name, "--flag"}, CPUUser: cpu, Threads: 1}
}

func newTestTracer(t *testing.T) (*tracetest.InMemoryExporter, *sdktrace.TracerProvider) {
	t.Helper()
	exp := tracetest.NewInMemoryExporter()
	tp := sdktrace.NewTracerProvider(sdktrace.WithSyncer(exp))
	t.Cleanup(func() { _ = tp.Shutdown(context.Background()) })
	return exp, tp
}

func TestMonitorSetGlobs(t *testing.T) {
	src := &fakeSource{}
	src.set(proc(1, "nginx", 1), proc(2, "nginx", 2), proc(3, "sshd", 4))
	m := New(src)
	ctx := context.Background()

	if _, ok := m.Latest(); ok {
		t.Error("Latest() before any scan reported a result")
	}
	res, err := m.SetGlobs(ctx, []string{"nginx", "[bad", "nginx", "redis*"})
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff([]counters{{"nginx", 2, 3, 0, 0, 0}, {"redis*", 0, 0, 0, 0, 0}}, countersOf(res.Globs)); diff != "" {
		t.Errorf("SetGlobs result (-want +got):\n%s", diff)
	}
	if len(res.InvalidGlobs) != 1 || res.InvalidGlobs[0].Glob != "[bad" {
		t.Errorf("InvalidGlobs = %v, want [bad]", res.InvalidGlobs)
	}
	if res.Scanned != 3 || res.Matched != 2 || res.Time.IsZero() || res.Duration <= 0 {
		t.Errorf("Scanned, Matched, Time, Duration = %d, %d, %v, %v", res.Scanned, res.Matched, res.Time, res.Duration)
	}
	if latest, ok := m.Latest(); !ok || !cmp.Equal(latest, res) {
		t.Errorf("Latest() = %+v, %v; want the SetGlobs result", latest, ok)
	}
	if diff := cmp.Diff([]string{"nginx", "redis*"}, m.Globs()); diff != "" {
		t.Errorf("Globs() (-want +got):\n%s", diff)
	}

	// A process starts, one exits.
	src.set(proc(2, "nginx", 3), proc(3, "sshd", 4), proc(4, "nginx", 0.5))
	res, err = m.Scan(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff([]counters{{"nginx", 2, 4.5, 0, 1, 1}, {"redis*", 0, 0, 0, 0, 0}}, countersOf(res.Globs)); diff != "" {
		t.Errorf("after a start and an exit (-want +got):\n%s", diff)
	}

	// nginx stays and keeps its counters; sshd is new and starts from what
	// runs, without starts.
	res, err = m.SetGlobs(ctx, []string{"sshd", "nginx"})
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff([]counters{{"sshd", 1, 4, 0, 0, 0}, {"nginx", 2, 4.5, 0, 1, 1}}, countersOf(res.Globs)); diff != "" {
		t.Errorf("after a list change (-want +got):\n%s", diff)
	}
	if res.InvalidGlobs != nil {
		t.Errorf("InvalidGlobs = %v, want none", res.InvalidGlobs)
	}
}

func TestMonitorScanFailureKeepsState(t *testing.T) {
	src := &fakeSource{}
	src.set(proc(1, "nginx", 1))
	m := New(src)
	ctx := context.Background()
	before, err := m.SetGlobs(ctx, []string{"nginx"})
	if err != nil {
		t.Fatal(err)
	}
	boom := errors.New("boom")
	src.err = boom
	if _, err := m.Scan(ctx); !errors.Is(err, boom) {
		t.Errorf("Scan() = %v, want %v", err, boom)
	}
	// The new list is in force even though its re-match failed, and the
	// result still names the glob it skipped.
	failed, err := m.SetGlobs(ctx, []string{"nginx", "sshd", "["})
	if !errors.Is(err, boom) {
		t.Errorf("SetGlobs() = %v, want %v", err, boom)
	}
	if len(failed.InvalidGlobs) != 1 || failed.InvalidGlobs[0].Glob != "[" {
		t.Errorf("failed SetGlobs reports invalid globs %v, want [\"[\"]", failed.InvalidGlobs)
	}
	if latest, _ := m.Latest(); !cmp.Equal(latest, before) {
		t.Errorf("a failed scan replaced Latest: %+v", latest)
	}
	// The process did not "exit" during the failed scans.
	src.err = nil
	res, err := m.Scan(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff([]counters{{"nginx", 1, 1, 0, 0, 0}, {"sshd", 0, 0, 0, 0, 0}}, countersOf(res.Globs)); diff != "" {
		t.Errorf("after recovery (-want +got):\n%s", diff)
	}
}

func TestMonitorSpans(t *testing.T) {
	exp, tp := newTestTracer(t)
	src := &fakeSource{}
	src.set(proc(1, "nginx", 1), proc(2, "sshd", 1))
	m := New(src, WithTracerProvider(tp))
	if _, err := m.SetGlobs(context.Background(), []string{"nginx", "{"}); err != nil {
		t.Fatal(err)
	}
	spans := exp.GetSpans()
	if len(spans) != 2 {
		t.Fatalf("got %d spans, want 2 (SetGlobs and its Scan): %v", len(spans), spans)
	}
	scan, set := spans[0], spans[1] // children end first
	if set.Name != "monitor.SetGlobs" || scan.Name != "monitor.Scan" {
		t.Fatalf("span names %q, %q", set.Name, scan.Name)
	}
	if scan.Parent.SpanID() != set.SpanContext.SpanID() {
		t.Error("the re-match scan is not a child of monitor.SetGlobs")
	}
	attrs := func(s tracetest.SpanStub) map[attribute.Key]attribute.Value {
		out := map[attribute.Key]attribute.Value{}
		for _, kv := range s.Attributes {
			out[kv.Key] = kv.Value
		}
		return out
	}
	if a := attrs(set); a["procwatch.globs"].AsInt64() != 1 || a["procwatch.invalid_globs"].AsInt64() != 1 {
		t.Errorf("SetGlobs attributes = %v", set.Attributes)
	}
	if len(set.Events) != 1 || set.Events[0].Name != "invalid glob" {
		t.Errorf("SetGlobs events = %v, want one invalid glob", set.Events)
	}
	if a := attrs(scan); a["procwatch.processes_scanned"].AsInt64() != 2 || a["procwatch.processes_matched"].AsInt64() != 1 {
		t.Errorf("Scan attributes = %v", scan.Attributes)
	}

	exp.Reset()
	src.err = errors.New("boom")
	_, _ = m.Scan(context.Background())
	spans = exp.GetSpans()
	if len(spans) != 1 || spans[0].Status.Code != codes.Error || len(spans[0].Events) == 0 {
		t.Errorf("a failed scan's span = %+v, want an error status and the recorded error", spans)
	}
}

// TestMonitorConcurrentUse is for -race: scans, glob changes and Latest
// from several goroutines.
func TestMonitorConcurrentUse(t *testing.T) {
	src := &fakeSource{}
	src.set(proc(1, "nginx", 1), proc(2, "sshd", 1))
	m := New(src)
	ctx := context.Background()
	var wg sync.WaitGroup
	for i := range 4 {
		wg.Go(func() {
			for j := range 50 {
				switch (i + j) % 3 {
				case 0:
					if _, err := m.Scan(ctx); err != nil {
						t.Error(err)
					}
				case 1:
					if _, err := m.SetGlobs(ctx, []string{"nginx", "sshd"}[:1+j%2]); err != nil {
						t.Error(err)
					}
				case 2:
					// A Scan before the first SetGlobs has no globs.
					if r, ok := m.Latest(); ok && len(r.Globs) > 2 {
						t.Errorf("Latest returned %d globs", len(r.Globs))
					}
					_ = m.Globs()
				}
			}
		})
	}
	wg.Wait()
}

func TestMonitorSameGlobsKeepMatcher(t *testing.T) {
	src := &fakeSource{}
	m := New(src)
	ctx := context.Background()
	if _, err := m.SetGlobs(ctx, []string{"a", "b"}); err != nil {
		t.Fatal(err)
	}
	before := m.matcher
	// Same valid globs, a new invalid one: the Matcher (and so every
	// cached match result) stays; the invalid list follows.
	res, err := m.SetGlobs(ctx, []string{"a", "a", "b", "["})
	if err != nil {
		t.Fatal(err)
	}
	if m.matcher != before {
		t.Error("an unchanged glob list replaced the Matcher")
	}
	if len(res.InvalidGlobs) != 1 {
		t.Errorf("InvalidGlobs = %v, want [", res.InvalidGlobs)
	}
	if _, err := m.SetGlobs(ctx, []string{"b", "a"}); err != nil {
		t.Fatal(err)
	}
	if m.matcher == before {
		t.Error("a reordered glob list kept the old Matcher, whose indices no longer fit")
	}
}

func TestMonitorWithoutSource(t *testing.T) {
	m := New(nil, WithTracerProvider(nil))
	if _, err := m.Scan(context.Background()); err == nil {
		t.Error("Scan without a Source succeeded")
	}
}
