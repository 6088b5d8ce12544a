package bench

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"runtime/pprof"
	"sync/atomic"
	"time"

	"github.com/go-zookeeper/zk"

	"github.com/procwatch/procwatch/internal/watchlist"
	"github.com/procwatch/procwatch/internal/zkstate"
	"github.com/procwatch/procwatch/internal/zktest"
)

// propGlobs is the size of the watch list the propagation runs change one
// glob of per trial: a list of realistic size, the same bytes on both sides.
const propGlobs = 50

func propDoc(trial int) watchlist.Document {
	w := watchlist.Document{Globs: make([]string, propGlobs)}
	for i := range w.Globs {
		w.Globs[i] = fmt.Sprintf("service-%02d*", i)
	}
	w.Globs[trial%propGlobs] = fmt.Sprintf("changed-%d*", trial)
	return w
}

// propTrial collects, for one write, when each receiver saw it.
type propTrial struct {
	want  int32          // the version the write makes
	seen  []atomic.Int64 // ns since the run's base, 0 until seen
	left  atomic.Int32
	done  chan struct{}
	base  time.Time
	wrote time.Duration // when the write call returned, since base
}

func newPropTrial(base time.Time, want int32, n int) *propTrial {
	t := &propTrial{want: want, seen: make([]atomic.Int64, n), done: make(chan struct{}), base: base}
	t.left.Store(int32(n))
	return t
}

// record notes that receiver i holds version v now.
func (t *propTrial) record(i int, v int32) {
	if t == nil || v < t.want {
		return
	}
	now := max(int64(time.Since(t.base)), 1)
	if t.seen[i].CompareAndSwap(0, now) && t.left.Add(-1) == 0 {
		close(t.done)
	}
}

// wait returns each receiver's latency from the write's return (0 for a
// receiver that had the value first), and how many never saw it.
func (t *propTrial) wait(timeout time.Duration) (Latencies, int) {
	select {
	case <-t.done:
	case <-time.After(timeout):
	}
	lat := make(Latencies, 0, len(t.seen))
	missing := 0
	for i := range t.seen {
		at := t.seen[i].Load()
		if at == 0 {
			missing++
			continue
		}
		lat = append(lat, max(0, time.Duration(at)-t.wrote))
	}
	return lat, missing
}

// propSide is one side (procwatch or floor) of a propagation run: a writer
// and n receivers, each on its own session.
type propSide struct {
	cur     atomic.Pointer[propTrial]
	write   func(ctx context.Context, trial int) (int32, error)
	version int32
	closers []func()
	cpu     time.Duration // process CPU time spent in trials
	// stop ends the raw receivers' loops before their clients close.
	stop     chan struct{}
	stopOnce atomic.Bool
}

func (p *propSide) close() {
	if p.stop != nil && p.stopOnce.CompareAndSwap(false, true) {
		close(p.stop)
	}
	// Receivers first, in parallel: each Store removes its listener node.
	_ = parallel(len(p.closers), 32, func(i int) error { p.closers[i](); return nil })
	p.closers = nil
}

// trial runs one write and waits for every receiver. It adds the
// process CPU time the trial took to p.cpu.
func (p *propSide) trial(ctx context.Context, base time.Time, n, k int) (Latencies, int, error) {
	t := newPropTrial(base, p.version+1, n)
	p.cur.Store(t)
	c0 := processCPU()
	defer func() { p.cpu += processCPU() - c0 }()
	v, err := p.write(ctx, k)
	t.wrote = time.Since(base)
	if err != nil {
		return nil, 0, err
	}
	if v != t.want {
		return nil, 0, fmt.Errorf("bench: write made version %d, want %d (another writer?)", v, t.want)
	}
	p.version = v
	lat, missing := t.wait(15 * time.Second)
	return lat, missing, nil
}

// memberFor spreads clients over an ensemble's members the same way on both
// sides: writers on member 0 (a follower: the highest id leads), receiver i
// on member (i+1) mod size. A standalone server takes everyone.
func memberFor(cl *zktest.Cluster, receiver int) []string {
	if cl.Size() == 1 {
		return cl.Servers()
	}
	return []string{cl.Addr((receiver + 1) % cl.Size())}
}

// openZkstateSide opens a zkstate writer (procctl-like, no listener node)
// and n receiving Stores (agent-like, registered), each on its own session.
func openZkstateSide(ctx context.Context, cl *zktest.Cluster, root string, n int, base time.Time) (*propSide, error) {
	p := &propSide{}
	wsess, err := connectSession(ctx, memberFor(cl, -1))
	if err != nil {
		return nil, err
	}
	writer, err := zkstate.OpenOrCreate[watchlist.Document](ctx, wsess, root, propDoc(0), zkstate.WithoutMembership())
	if err != nil {
		wsess.Close()
		return nil, err
	}
	p.closers = append(p.closers, func() { _ = writer.Close(); wsess.Close() })
	_, info := writer.DirtyRead()
	p.version = info.Version
	p.write = func(ctx context.Context, k int) (int32, error) {
		return writer.Update(ctx, func(w *watchlist.Document) error {
			*w = propDoc(k)
			return nil
		})
	}
	recv := make([]func(), n)
	err = parallel(n, 16, func(i int) error {
		sess, err := connectSession(ctx, memberFor(cl, i))
		if err != nil {
			return err
		}
		st, err := zkstate.Open[watchlist.Document](ctx, sess, root, zkstate.WithMember("bench", "0"))
		if err != nil {
			sess.Close()
			return err
		}
		_, cancel := st.Subscribe(func(ev zkstate.Event[watchlist.Document]) { p.cur.Load().record(i, ev.ToVersion) })
		recv[i] = func() { cancel(); _ = st.Close(); sess.Close() }
		return nil
	})
	for _, c := range recv {
		if c != nil {
			p.closers = append(p.closers, c)
		}
	}
	if err != nil {
		p.close()
		return nil, err
	}
	return p, nil
}

// openRawSide opens the floor: a raw writer that sets the node, and n raw
// receivers that each loop on GetW, which both reads the new value and
// re-arms the watch, so no write can slip between read and watch. With
// decode, each receiver also decodes the document into the Go type before
// it counts as delivered: the floor plus the one step every typed consumer
// needs.
func openRawSide(ctx context.Context, cl *zktest.Cluster, path string, n int, decode bool) (*propSide, error) {
	p := &propSide{stop: make(chan struct{})}
	w, err := connectRaw(ctx, memberFor(cl, -1))
	if err != nil {
		return nil, err
	}
	p.closers = append(p.closers, w.Close)
	if err := ensurePath(w, path); err != nil {
		p.close()
		return nil, err
	}
	data, _ := json.Marshal(propDoc(0))
	st, err := w.Set(path, data, -1)
	if err != nil {
		p.close()
		return nil, err
	}
	p.version = st.Version
	p.write = func(_ context.Context, k int) (int32, error) {
		data, err := json.Marshal(propDoc(k))
		if err != nil {
			return -1, err
		}
		st, err := w.Set(path, data, -1)
		if err != nil {
			return -1, err
		}
		return st.Version, nil
	}
	conns := make([]*zk.Conn, n)
	err = parallel(n, 16, func(i int) error {
		c, err := connectRaw(ctx, memberFor(cl, i))
		conns[i] = c
		return err
	})
	for _, c := range conns {
		if c != nil {
			p.closers = append(p.closers, c.Close)
		}
	}
	if err != nil {
		p.close()
		return nil, err
	}
	armed := make(chan struct{}, n)
	for i, c := range conns {
		go func() {
			first := true
			for {
				data, st, ch, err := c.GetW(path)
				if err == nil && decode {
					var w watchlist.Document
					err = json.Unmarshal(data, &w)
				}
				if err != nil {
					if errors.Is(err, zk.ErrClosing) {
						return
					}
					select {
					case <-p.stop:
						return
					case <-time.After(10 * time.Millisecond):
					}
					continue
				}
				p.cur.Load().record(i, st.Version)
				if first {
					armed <- struct{}{}
					first = false
				}
				select {
				case <-ch:
				case <-p.stop:
					return
				}
			}
		}()
	}
	for range n {
		select {
		case <-armed:
		case <-ctx.Done():
			p.close()
			return nil, ctx.Err()
		}
	}
	return p, nil
}

// propagation is section 1.
func propagation(ctx context.Context, e *env) (sectionResult, error) {
	var res sectionResult
	counts := []int{1, 50, 500}
	trials := map[int]int{1: 400, 50: 150, 500: 40}
	if e.cfg.Quick {
		counts = []int{1, 3}
		trials = map[int]int{1: 6, 3: 4}
	}
	for _, size := range []int{1, 3} {
		cl, err := e.clusters.get(size)
		if err != nil {
			return res, err
		}
		for _, n := range counts {
			e.logf("propagation: %s, %d receivers: opening %d stores and %d raw clients", clusterName(size), n, n+1, n+1)
			base := time.Now()
			root := fmt.Sprintf("/bench/prop-%d", n)
			octx, cancel := context.WithTimeout(ctx, 3*time.Minute)
			// The labels mark the goroutines each side starts (clients,
			// watch loops, subscribers), so that a profile tells the sides
			// apart: go tool pprof -tagfocus side=procwatch.
			var proj, floor *propSide
			pprof.Do(octx, pprof.Labels("side", "procwatch"), func(octx context.Context) {
				proj, err = openZkstateSide(octx, cl, root, n, base)
			})
			if err != nil {
				cancel()
				return res, fmt.Errorf("opening %d stores on the %s: %w", n, clusterName(size), err)
			}
			pprof.Do(octx, pprof.Labels("side", "floor"), func(octx context.Context) {
				floor, err = openRawSide(octx, cl, fmt.Sprintf("/bench/rawprop-%d", n), n, false)
			})
			if err != nil {
				cancel()
				proj.close()
				return res, fmt.Errorf("opening %d raw clients on the %s: %w", n, clusterName(size), err)
			}
			// At the largest count, a third side: the floor's receivers
			// also decoding the document, to tell how much of the gap is
			// that unavoidable step.
			var decoding *propSide
			if n == counts[len(counts)-1] {
				pprof.Do(octx, pprof.Labels("side", "floor+decode"), func(octx context.Context) {
					decoding, err = openRawSide(octx, cl, fmt.Sprintf("/bench/rawdecprop-%d", n), n, true)
				})
				if err != nil {
					cancel()
					proj.close()
					floor.close()
					return res, fmt.Errorf("opening %d decoding raw clients on the %s: %w", n, clusterName(size), err)
				}
			}
			cancel()
			e.logf("propagation: opened in %s; %d trials per side, interleaved", time.Since(base).Round(time.Millisecond), trials[n])
			var pl, fl, dl Latencies
			var pMiss, fMiss, dMiss int
			stopProfile := e.profileCase(fmt.Sprintf("1-propagation-%s-%d", map[int]string{1: "standalone", 3: "ensemble"}[size], n))
			runErr := func() error {
				sides := 2
				if decoding != nil {
					sides = 3
				}
				for k := range trials[n] + 2 {
					for j := range sides {
						s, lat, miss := proj, &pl, &pMiss
						switch (j + k) % sides {
						case 1:
							s, lat, miss = floor, &fl, &fMiss
						case 2:
							s, lat, miss = decoding, &dl, &dMiss
						}
						l, m, err := s.trial(ctx, base, n, k+1)
						if err != nil {
							return err
						}
						if k >= 2 { // two warm-up trials: receipts, JIT, connections
							*lat = append(*lat, l...)
							*miss += m
						}
						time.Sleep(5 * time.Millisecond)
					}
				}
				return nil
			}()
			stopProfile()
			if n == counts[len(counts)-1] {
				sessions := 2*n + 2
				if decoding != nil {
					sessions += n + 1
				}
				for _, h := range clusterJVMs(cl) {
					res.note("ZooKeeper %s after the %d-receiver propagation run (%d sessions open): %s", clusterName(size), n, sessions, h)
				}
			}
			proj.close()
			floor.close()
			if decoding != nil {
				decoding.close()
			}
			if runErr != nil {
				return res, fmt.Errorf("propagation on the %s with %d receivers: %w", clusterName(size), n, runErr)
			}
			r := ratio(float64(pl.Percentile(99)), float64(fl.Percentile(99)))
			res.row(Row{
				Section: "1 propagation",
				Case:    fmt.Sprintf("%s, %d receiving store(s), p50 / p99 / max", clusterName(size), n),
				Project: fmtTriple(pl),
				Floor:   fmtTriple(fl),
				Ratio:   "p99 " + fmtRatio(r),
				Target:  "p99 ≤ 1.5×",
				Verdict: verdict(r <= 1.5),
			})
			res.note("propagation, %s, %d receivers: %d samples per side (%d trials × %d receivers, from the write call's return to each subscriber callback / raw GetW return); p50 ratio %s; this process's CPU per delivery (write included) procwatch %s, floor %s; missing deliveries: procwatch %d, floor %d",
				clusterName(size), n, len(pl), trials[n], n, fmtRatio(ratio(float64(pl.Median()), float64(fl.Median()))),
				fmtDur(proj.cpu/time.Duration(max(len(pl), 1))), fmtDur(floor.cpu/time.Duration(max(len(fl), 1))), pMiss, fMiss)
			if decoding != nil {
				res.note("propagation, %s, %d receivers: the floor's receivers also decoding the document into the Go type (json.Unmarshal) took %s (p50 / p99 / max), %s CPU per delivery, %d missing: procwatch's p99 is %s of that",
					clusterName(size), n, fmtTriple(dl), fmtDur(decoding.cpu/time.Duration(max(len(dl), 1))), dMiss,
					fmtRatio(ratio(float64(pl.Percentile(99)), float64(dl.Percentile(99)))))
			}
		}
	}
	return res, nil
}
