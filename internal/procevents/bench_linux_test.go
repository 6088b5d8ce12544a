package procevents

import (
	"sync/atomic"
	"testing"
	"time"

	"github.com/procwatch/procwatch/internal/procevents/proceventstest"
)

// BenchmarkCPUAt1000StartsPerSecond measures, in one run and under one
// load of 1,000 process starts per second from another process, this
// process's CPU with no reader, with the bare recvmsg loop, and with a
// Reader and a consumer that counts what it delivers. Each iteration is
// one window of each; run it with -benchtime=5x.
func BenchmarkCPUAt1000StartsPerSecond(b *testing.B) {
	const window = time.Second
	proceventstest.StartLoad(b, 1000)
	var idle, bare, reader time.Duration
	var bareMsgs, events uint64
	measure := func(run func()) time.Duration {
		start := proceventstest.CPUTime(b)
		run()
		return proceventstest.CPUTime(b) - start
	}
	for b.Loop() {
		idle += measure(func() { time.Sleep(window) })

		br := proceventstest.OpenBare(b)
		bare += measure(func() { time.Sleep(window) })
		br.Close()
		bareMsgs += br.Messages()

		r := openLive(b)
		var n atomic.Uint64
		done := make(chan struct{})
		go func() {
			defer close(done)
			for range r.Events() {
				n.Add(1)
			}
		}()
		reader += measure(func() { time.Sleep(window) })
		r.Close()
		<-done
		events += n.Load()
		if st := r.Stats(); st.Dropped+st.Overruns != 0 {
			b.Errorf("losses under the load: %+v", st)
		}
	}
	per := func(d time.Duration) float64 { return float64(d.Microseconds()) / 1000 / float64(b.N) }
	b.ReportMetric(per(idle), "idle-cpu-ms/s")
	b.ReportMetric(per(bare), "bare-cpu-ms/s")
	b.ReportMetric(per(reader), "reader-cpu-ms/s")
	b.ReportMetric(float64(bareMsgs)/float64(b.N), "bare-msgs/s")
	b.ReportMetric(float64(events)/float64(b.N), "reader-events/s")
	if bare > 0 {
		b.ReportMetric(float64(reader)/float64(bare), "reader/bare")
	}
}
