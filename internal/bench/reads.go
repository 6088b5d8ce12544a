package bench

import (
	"context"
	"fmt"
	"runtime"
	"sync/atomic"
	"time"

	"github.com/go-zookeeper/zk"

	"github.com/procwatch/procwatch/internal/watchlist"
	"github.com/procwatch/procwatch/internal/zkstate"
)

// Sinks keep the compiler from dropping the reads being measured.
var (
	sinkList watchlist.Document
	sinkInfo zkstate.Info
	sinkErr  error
	sinkDur  time.Duration
)

// loopCost runs fn iters times and returns its mean cost in ns and its
// allocations per call.
func loopCost(iters int, fn func()) (ns, allocs float64) {
	var before, after runtime.MemStats
	runtime.ReadMemStats(&before)
	start := time.Now()
	for range iters {
		fn()
	}
	elapsed := time.Since(start)
	runtime.ReadMemStats(&after)
	return float64(elapsed.Nanoseconds()) / float64(iters), float64(after.Mallocs-before.Mallocs) / float64(iters)
}

// readsSection is section 4: Read and DirtyRead beside the least a local
// read reporting its age can do, and ConsistentRead beside one raw round
// trip, on the standalone server and the ensemble.
func readsSection(ctx context.Context, e *env) (sectionResult, error) {
	var res sectionResult
	cl, err := e.clusters.get(1)
	if err != nil {
		return res, err
	}
	sess, err := connectSession(ctx, cl.Servers())
	if err != nil {
		return res, err
	}
	defer sess.Close()
	st, err := zkstate.OpenOrCreate[watchlist.Document](ctx, sess, "/bench/reads", propDoc(0))
	if err != nil {
		return res, err
	}
	defer func() { _ = st.Close() }()

	// The floor of a local read that says how fresh it is: one atomic
	// pointer load and one monotonic clock read, as any such read needs.
	type snap struct {
		value   watchlist.Document
		version int32
	}
	var cur atomic.Pointer[snap]
	var verified atomic.Int64
	cur.Store(&snap{value: propDoc(0), version: 1})
	epoch := time.Now()
	verified.Store(int64(time.Since(epoch)))
	floor := func() {
		s := cur.Load()
		sinkList = s.value
		sinkDur = time.Since(epoch) - time.Duration(verified.Load())
	}
	read := func() { sinkList, sinkErr = st.Read() }
	dirty := func() { sinkList, sinkInfo = st.DirtyRead() }

	iters, rounds := 2_000_000, 5
	if e.cfg.Quick {
		iters, rounds = 20_000, 2
	}
	subjects := []func(){floor, read, dirty}
	ns := make([][]float64, len(subjects))
	allocs := make([][]float64, len(subjects))
	for k := range rounds {
		for j := range subjects {
			i := (j + k) % len(subjects)
			n, a := loopCost(iters, subjects[i])
			ns[i] = append(ns[i], n)
			allocs[i] = append(allocs[i], a)
		}
	}
	floorNs := medianFloat(ns[0])
	for i, name := range []string{"", "Read", "DirtyRead (unchanged value)"} {
		if i == 0 {
			continue
		}
		n, a := medianFloat(ns[i]), medianFloat(allocs[i])
		row := Row{
			Section: "4 reads",
			Case:    name + ": ns/op, allocs/op",
			Project: fmt.Sprintf("%s, %.0f allocs", fmtNs(n), a),
			Floor:   fmt.Sprintf("%s, 0 allocs", fmtNs(floorNs)),
			Ratio:   fmtRatio(ratio(n, floorNs)),
			Verdict: Info,
		}
		if i == 2 {
			row.Target = "< 100 ns, 0 allocs"
			row.Verdict = verdict(n < 100 && a == 0)
		}
		res.row(row)
	}
	res.note("reads: median of %d interleaved rounds of %d calls; the floor is one atomic pointer load and one monotonic clock read (a local read that reports its age needs both)", rounds, iters)

	pairs := 300
	if e.cfg.Quick {
		pairs = 20
	}
	for _, size := range []int{1, 3} {
		cl, err := e.clusters.get(size)
		if err != nil {
			return res, err
		}
		// Both clients on the same member: on an ensemble, a follower.
		servers := memberFor(cl, -1)
		cr, raw, multi, err := consistentReads(ctx, servers, pairs)
		if err != nil {
			return res, fmt.Errorf("consistent reads on the %s: %w", clusterName(size), err)
		}
		res.row(Row{
			Section: "4 reads",
			Case:    fmt.Sprintf("ConsistentRead, %s: p50 / p99 / max", clusterName(size)),
			Project: fmtTriple(cr),
			Floor:   fmtTriple(raw),
			Ratio:   "p50 " + fmtRatio(ratio(float64(cr.Median()), float64(raw.Median()))),
			Verdict: Info,
		})
		res.note("ConsistentRead, %s: %d calls per side interleaved; floor is one raw Get. For reference a raw multi holding one version check (the quorum operation ConsistentRead sends) took %s",
			clusterName(size), pairs, fmtTriple(multi))
	}
	return res, nil
}

// consistentReads measures ConsistentRead, a raw Get and a raw multi with a
// version check, interleaved, against servers.
func consistentReads(ctx context.Context, servers []string, pairs int) (cr, raw, multi Latencies, err error) {
	sess, err := connectSession(ctx, servers)
	if err != nil {
		return nil, nil, nil, err
	}
	defer sess.Close()
	st, err := zkstate.OpenOrCreate[watchlist.Document](ctx, sess, "/bench/reads", propDoc(0), zkstate.WithoutMembership())
	if err != nil {
		return nil, nil, nil, err
	}
	defer func() { _ = st.Close() }()
	c, err := connectRaw(ctx, servers)
	if err != nil {
		return nil, nil, nil, err
	}
	defer c.Close()
	_, stat, err := c.Get("/bench/reads/payload")
	if err != nil {
		return nil, nil, nil, err
	}
	ops := []func() error{
		func() error { _, err := st.ConsistentRead(ctx); return err },
		func() error { _, _, err := c.Get("/bench/reads/payload"); return err },
		func() error {
			_, err := c.Multi(&zk.CheckVersionRequest{Path: "/bench/reads/payload", Version: stat.Version})
			return err
		},
	}
	out := make([]Latencies, len(ops))
	for k := range pairs + 5 {
		for j := range ops {
			i := (j + k) % len(ops)
			start := time.Now()
			if err := ops[i](); err != nil {
				return nil, nil, nil, err
			}
			if k >= 5 {
				out[i] = append(out[i], time.Since(start))
			}
		}
	}
	return out[0], out[1], out[2], nil
}
