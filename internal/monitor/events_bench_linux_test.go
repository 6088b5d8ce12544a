package monitor

import (
	"context"
	"testing"
	"time"

	"github.com/procwatch/procwatch/internal/procevents"
	"github.com/procwatch/procwatch/internal/procevents/proceventstest"
	"github.com/procwatch/procwatch/internal/taskstats"
)

// benchScanInterval is the agent's default --scan-interval, the rate at
// which an agent without process events scans.
const benchScanInterval = 5 * time.Second

// BenchmarkAgentCPUAt1000StartsPerSecond measures, in one run and under
// one load of 1,000 process starts per second (/bin/true, from another
// process), this process's CPU per second of the agent's work on
// processes, in windows of one scan interval: idle; the bare recvmsg
// floor; sampling only (a Monitor on the host's /proc scanning once per
// interval, as an agent with --collect.process-events=false); and with
// process events (the same scans, plus a procevents.Reader whose every
// event the Monitor handles, each exec read from /proc and, since the
// glob "true" matches the load, folded in as a start). It reports each
// in CPU milliseconds per second, the events' cost over the floor, and
// the starts per second each way counted. Run it with -benchtime=3x.
func BenchmarkAgentCPUAt1000StartsPerSecond(b *testing.B) {
	ctx := context.Background()
	proceventstest.StartLoad(b, 1000)
	newMonitor := func() *Monitor {
		src, err := NewLinuxSource("")
		if err != nil {
			b.Fatal(err)
		}
		m := New(src)
		if _, err := m.SetGlobs(ctx, []string{"true", "nginx*", "postgres*", "/usr/sbin/*", "cmdline:*--config*"}); err != nil {
			b.Fatal(err)
		}
		return m
	}
	starts := func(m *Monitor) uint64 {
		res, _ := m.Latest()
		return res.Globs[0].Starts
	}
	measure := func(run func()) time.Duration {
		start := proceventstest.CPUTime(b)
		run()
		return proceventstest.CPUTime(b) - start
	}
	var idle, bare, sampling, events, withRecords time.Duration
	var sampled, counted uint64
	for b.Loop() {
		idle += measure(func() { time.Sleep(benchScanInterval) })

		br := proceventstest.OpenBare(b)
		bare += measure(func() { time.Sleep(benchScanInterval) })
		br.Close()

		m := newMonitor()
		from := starts(m)
		sampling += measure(func() {
			time.Sleep(benchScanInterval)
			if _, err := m.Scan(ctx); err != nil {
				b.Fatal(err)
			}
		})
		sampled += starts(m) - from

		m = newMonitor()
		r, err := procevents.Open(ctx)
		if err != nil {
			b.Fatalf("process events: %v", err)
		}
		if _, err := m.Scan(ctx); err != nil {
			b.Fatal(err)
		}
		from = starts(m)
		done := make(chan struct{})
		go func() {
			defer close(done)
			for ev := range r.Events() {
				if err := m.HandleEvent(ctx, ev); err != nil {
					b.Error(err)
				}
			}
		}()
		events += measure(func() {
			time.Sleep(benchScanInterval)
			if _, err := m.Scan(ctx); err != nil {
				b.Fatal(err)
			}
			_ = r.Close()
			<-done
		})
		counted += starts(m) - from
		if st := r.Stats(); st.Dropped+st.Overruns != 0 {
			b.Errorf("losses under the load: %+v", st)
		}

		// The events with the exit records, read in one loop as the agent
		// reads them.
		m = newMonitor()
		r, err = procevents.Open(ctx)
		if err != nil {
			b.Fatalf("process events: %v", err)
		}
		tr, err := taskstats.Open(ctx)
		if err != nil {
			b.Fatalf("exit records: %v", err)
		}
		m.FollowExitRecords(true)
		if _, err := m.Scan(ctx); err != nil {
			b.Fatal(err)
		}
		done = make(chan struct{})
		go func() {
			defer close(done)
			evs, recs := r.Events(), tr.Events()
			for evs != nil || recs != nil {
				select {
				case ev, ok := <-evs:
					if !ok {
						evs = nil
						continue
					}
					if err := m.HandleEvent(ctx, ev); err != nil {
						b.Error(err)
					}
				case rec, ok := <-recs:
					if !ok {
						recs = nil
						continue
					}
					if err := m.HandleExitRecord(ctx, rec); err != nil {
						b.Error(err)
					}
				}
			}
		}()
		withRecords += measure(func() {
			time.Sleep(benchScanInterval)
			if _, err := m.Scan(ctx); err != nil {
				b.Fatal(err)
			}
			_ = r.Close()
			_ = tr.Close()
			<-done
		})
	}
	secs := float64(b.N) * benchScanInterval.Seconds()
	per := func(d time.Duration) float64 { return float64(d.Microseconds()) / 1000 / secs }
	b.ReportMetric(per(idle), "idle-cpu-ms/s")
	b.ReportMetric(per(bare), "bare-cpu-ms/s")
	b.ReportMetric(per(sampling), "sampling-cpu-ms/s")
	b.ReportMetric(per(events), "events-cpu-ms/s")
	b.ReportMetric(per(withRecords), "events+records-cpu-ms/s")
	if bare > 0 {
		b.ReportMetric(float64(events)/float64(bare), "events/bare")
	}
	b.ReportMetric(float64(sampled)/secs, "sampled-starts/s")
	b.ReportMetric(float64(counted)/secs, "counted-starts/s")
}
