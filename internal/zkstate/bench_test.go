package zkstate

import (
	"fmt"
	"sort"
	"strconv"
	"testing"
	"time"

	"github.com/go-zookeeper/zk"
	"github.com/procwatch/procwatch/internal/zktest"
)

func BenchmarkRead(b *testing.B) {
	zks := startZK(b)
	st := createStore[config](b, newSession(b, zks.ConnectString()), testRoot, config{Globs: []string{"a", "b"}})
	b.Run("Read", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			if _, err := st.Read(); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("DirtyRead", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			st.DirtyRead()
		}
	})
	b.Run("ConsistentRead", func(b *testing.B) {
		ctx := testCtx(b, time.Minute)
		for b.Loop() {
			if _, err := st.ConsistentRead(ctx); err != nil {
				b.Fatal(err)
			}
		}
	})
	// The floor for ConsistentRead: one raw round trip.
	b.Run("RawGet", func(b *testing.B) {
		raw := zktest.Connect(b, zks.ConnectString(), 10*time.Second)
		for b.Loop() {
			if _, _, err := raw.Get(testRoot + "/payload"); err != nil {
				b.Fatal(err)
			}
		}
	})
}

// BenchmarkPropagation measures how long a committed change takes to reach a
// subscriber of another store on its own session, beside the floor: a raw
// go-zookeeper client whose watch fires and which then reads the node. Both
// report the latency to the reader having the new value (p50 and p99 as
// custom metrics); ns/op is the whole cycle, which for zkstate includes the
// lock.
func BenchmarkPropagation(b *testing.B) {
	zks := startZK(b)
	b.Run("zkstate", func(b *testing.B) {
		w := createStore[counter](b, newSession(b, zks.ConnectString()), "/prop", counter{})
		r := openStore[counter](b, newSession(b, zks.ConnectString()), "/prop")
		got := make(chan time.Time, 1)
		_, cancel := r.Subscribe(func(Event[counter]) { got <- time.Now() })
		defer cancel()
		ctx := testCtx(b, 10*time.Minute)
		var fromCall, fromReturn []time.Duration
		for b.Loop() {
			start := time.Now()
			if _, err := w.Update(ctx, func(c *counter) error { c.N++; return nil }); err != nil {
				b.Fatal(err)
			}
			done := time.Now()
			at := <-got
			fromCall = append(fromCall, at.Sub(start))
			fromReturn = append(fromReturn, max(0, at.Sub(done)))
		}
		reportLatency(b, "call", fromCall)
		reportLatency(b, "return", fromReturn)
	})
	b.Run("raw-floor", func(b *testing.B) {
		w := zktest.Connect(b, zks.ConnectString(), 10*time.Second)
		r := zktest.Connect(b, zks.ConnectString(), 10*time.Second)
		if _, err := w.Create("/rawprop", []byte("0"), 0, zk.WorldACL(zk.PermAll)); err != nil && err != zk.ErrNodeExists {
			b.Fatal(err)
		}
		got := make(chan time.Time, 1)
		stop := make(chan struct{})
		armed := make(chan struct{})
		go func() {
			first := true
			for {
				// GetW both reads the new value and re-arms the watch, so
				// no write can slip between the read and the next watch.
				_, _, ch, err := r.GetW("/rawprop")
				if err != nil {
					return
				}
				if first {
					close(armed)
					first = false
				} else {
					got <- time.Now()
				}
				select {
				case <-ch:
				case <-stop:
					return
				}
			}
		}()
		<-armed
		var fromCall, fromReturn []time.Duration
		i := 0
		for b.Loop() {
			i++
			start := time.Now()
			if _, err := w.Set("/rawprop", []byte(strconv.Itoa(i)), -1); err != nil {
				b.Fatal(err)
			}
			done := time.Now()
			at := <-got
			fromCall = append(fromCall, at.Sub(start))
			fromReturn = append(fromReturn, max(0, at.Sub(done)))
		}
		close(stop)
		// Wake the reader so it sees stop.
		if _, err := w.Set("/rawprop", []byte("end"), -1); err != nil {
			b.Fatal(err)
		}
		reportLatency(b, "call", fromCall)
		reportLatency(b, "return", fromReturn)
	})
}

// reportLatency adds p50 and p99 of lat as custom metrics: "call" measures
// from the start of the write call, "return" from its return (0 when the
// reader had the value first, as it does when Update's unlock is slower than
// the watch).
func reportLatency(b *testing.B, from string, lat []time.Duration) {
	if len(lat) == 0 {
		return
	}
	sort.Slice(lat, func(i, j int) bool { return lat[i] < lat[j] })
	pct := func(p float64) float64 { return float64(lat[int(p*float64(len(lat)-1))].Nanoseconds()) }
	b.ReportMetric(pct(0.5), "p50-ns-from-"+from)
	b.ReportMetric(pct(0.99), "p99-ns-from-"+from)
}

// BenchmarkUpdate is the cost of one uncontended Update (lock, read,
// fenced compare-and-set, unlock) beside a raw get + versioned set.
func BenchmarkUpdate(b *testing.B) {
	zks := startZK(b)
	b.Run("zkstate", func(b *testing.B) {
		st := createStore[counter](b, newSession(b, zks.ConnectString()), "/upd", counter{})
		ctx := testCtx(b, 10*time.Minute)
		for b.Loop() {
			if _, err := st.Update(ctx, func(c *counter) error { c.N++; return nil }); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("raw-cas", func(b *testing.B) {
		c := zktest.Connect(b, zks.ConnectString(), 10*time.Second)
		if _, err := c.Create("/rawupd", []byte("0"), 0, zk.WorldACL(zk.PermAll)); err != nil && err != zk.ErrNodeExists {
			b.Fatal(err)
		}
		for b.Loop() {
			data, st, err := c.Get("/rawupd")
			if err != nil {
				b.Fatal(err)
			}
			n, _ := strconv.Atoi(string(data))
			if _, err := c.Set("/rawupd", []byte(fmt.Sprint(n+1)), st.Version); err != nil {
				b.Fatal(err)
			}
		}
	})
}
