package bench

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"runtime/pprof"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/go-zookeeper/zk"

	"github.com/procwatch/procwatch/internal/zkstate"
	"github.com/procwatch/procwatch/internal/zktest"
)

// contDoc is the payload the contended writers increment: a counter beside
// a watch list of realistic size, so encoding costs what it would.
type contDoc struct {
	Globs []string `json:"globs"`
	N     int      `json:"n"`
}

func newContDoc() contDoc { return contDoc{Globs: propDoc(0).Globs} }

// contResult is the outcome of one side's blocks of contended writes.
type contResult struct {
	writes   int64
	attempts int64 // compare-and-set attempts, successful or not
	elapsed  time.Duration
	cpu      time.Duration // this process's CPU time
	server   time.Duration // the ZooKeeper server's CPU time
	received int64         // packets the server received
}

func (r contResult) perSecond() float64 { return float64(r.writes) / r.elapsed.Seconds() }

func (r contResult) retriesPerWrite() float64 {
	return ratio(float64(r.attempts-r.writes), float64(r.writes))
}

// block runs writer(i) on n goroutines until d has passed and adds up what
// they did. Each writer returns after its write in flight at the deadline,
// and the block's time runs until the last one has.
func block(n int, d time.Duration, serverPID int, serverAddr string, writer func(i int, stop func() bool) (writes, attempts int64, err error)) (contResult, error) {
	var (
		wg       sync.WaitGroup
		writes   atomic.Int64
		attempts atomic.Int64
		errMu    sync.Mutex
		firstErr error
	)
	s0, _ := readProcUsage(serverPID)
	i0, _ := zktest.Srvr(serverAddr, 2*time.Second)
	c0 := processCPU()
	start := time.Now()
	deadline := start.Add(d)
	stop := func() bool { return time.Now().After(deadline) }
	for i := range n {
		wg.Go(func() {
			w, a, err := writer(i, stop)
			writes.Add(w)
			attempts.Add(a)
			if err != nil {
				errMu.Lock()
				if firstErr == nil {
					firstErr = err
				}
				errMu.Unlock()
			}
		})
	}
	wg.Wait()
	elapsed, cpu := time.Since(start), processCPU()-c0
	s1, _ := readProcUsage(serverPID)
	i1, _ := zktest.Srvr(serverAddr, 2*time.Second)
	return contResult{writes: writes.Load(), attempts: attempts.Load(), elapsed: elapsed, cpu: cpu, server: s1.cpu - s0.cpu,
		received: i1.Received - i0.Received - 1}, firstErr
}

func (r *contResult) add(o contResult) {
	r.writes += o.writes
	r.attempts += o.attempts
	r.elapsed += o.elapsed
	r.cpu += o.cpu
	r.server += o.server
	r.received += o.received
}

// perWrite is the CPU time d spread over the successful writes.
func (r contResult) perWrite(d time.Duration) time.Duration {
	return d / time.Duration(max(r.writes, 1))
}

// contention is section 3: Update with 1, 4 and 16 writers on one payload
// beside the raw get + compare-and-set retry loop, on the standalone server.
func contention(ctx context.Context, e *env) (sectionResult, error) {
	var res sectionResult
	cl, err := e.clusters.get(1)
	if err != nil {
		return res, err
	}
	serverPID := 0
	if jvms := clusterJVMs(cl); len(jvms) == 1 {
		serverPID = jvms[0].pid
	}
	rounds, d := 2, 1500*time.Millisecond
	if e.cfg.Quick {
		rounds, d = 1, 300*time.Millisecond
	}
	for _, n := range []int{1, 4, 16} {
		root := fmt.Sprintf("/bench/cont-%d", n)
		rawPath := fmt.Sprintf("/bench/rawcont-%d", n)
		stores := make([]*zkstate.Store[contDoc], n)
		sessions := make([]*zkstate.Session, n)
		raws := make([]*zk.Conn, n)
		cleanup := func() {
			_ = parallel(n, 16, func(i int) error {
				if stores[i] != nil {
					_ = stores[i].Close()
				}
				if sessions[i] != nil {
					sessions[i].Close()
				}
				if raws[i] != nil {
					raws[i].Close()
				}
				return nil
			})
		}
		// Profile labels tell the sides' goroutines apart, the Stores'
		// background ones included: go tool pprof -tagfocus side=procwatch.
		writers := strconv.Itoa(n)
		err := parallel(n, 16, func(i int) error {
			var err error
			pprof.Do(ctx, pprof.Labels("side", "procwatch", "writers", writers), func(ctx context.Context) {
				if sessions[i], err = connectSession(ctx, cl.Servers()); err != nil {
					return
				}
				stores[i], err = zkstate.OpenOrCreate[contDoc](ctx, sessions[i], root, newContDoc(), zkstate.WithoutMembership())
			})
			if err != nil {
				return err
			}
			pprof.Do(ctx, pprof.Labels("side", "raw clients", "writers", writers), func(ctx context.Context) {
				raws[i], err = connectRaw(ctx, cl.Servers())
			})
			return err
		})
		if err == nil {
			err = ensurePath(raws[0], rawPath)
		}
		if err == nil {
			data, _ := json.Marshal(newContDoc())
			_, err = raws[0].Set(rawPath, data, -1)
		}
		// Warm up: every writer's first Update creates its write receipt.
		if err == nil {
			err = parallel(n, n, func(i int) error {
				_, err := stores[i].Update(ctx, func(d *contDoc) error { d.N++; return nil })
				return err
			})
		}
		if err != nil {
			cleanup()
			return res, fmt.Errorf("%d writers: setting up: %w", n, err)
		}
		var statsBefore []zkstate.Stats
		for _, s := range stores {
			statsBefore = append(statsBefore, s.Stats())
		}

		project := func(i int, stop func() bool) (writes, attempts int64, err error) {
			for !stop() {
				if _, err := stores[i].Update(ctx, func(d *contDoc) error {
					attempts++
					d.N++
					return nil
				}); err != nil {
					return writes, attempts, err
				}
				writes++
			}
			return writes, attempts, nil
		}
		floor := func(i int, stop func() bool) (writes, attempts int64, err error) {
			c := raws[i]
			for !stop() {
				data, st, err := c.Get(rawPath)
				if err != nil {
					return writes, attempts, err
				}
				var d contDoc
				if err := json.Unmarshal(data, &d); err != nil {
					return writes, attempts, err
				}
				d.N++
				out, err := json.Marshal(d)
				if err != nil {
					return writes, attempts, err
				}
				attempts++
				_, err = c.Set(rawPath, out, st.Version)
				switch {
				case err == nil:
					writes++
				case errors.Is(err, zk.ErrBadVersion):
				default:
					return writes, attempts, err
				}
			}
			return writes, attempts, nil
		}
		lockDir, recipePath := fmt.Sprintf("/bench/reccont-%d/lock", n), fmt.Sprintf("/bench/reccont-%d/payload", n)
		if err := ensurePath(raws[0], lockDir); err != nil {
			cleanup()
			return res, err
		}
		if err := ensurePath(raws[0], recipePath); err != nil {
			cleanup()
			return res, err
		}
		recipe := func(i int, stop func() bool) (writes, attempts int64, err error) {
			return recipeWriter(raws[i], lockDir, recipePath, stop)
		}
		var pr, fr, rr contResult
		for k := range rounds {
			for j := range 3 {
				side := (j + k) % 3
				w, acc, label := project, &pr, "procwatch"
				switch side {
				case 1:
					w, acc, label = floor, &fr, "floor"
				case 2:
					w, acc, label = recipe, &rr, "recipe"
				}
				var r contResult
				pprof.Do(ctx, pprof.Labels("side", label, "writers", writers), func(context.Context) {
					r, err = block(n, d, serverPID, cl.Addr(0), w)
				})
				if err != nil {
					cleanup()
					return res, fmt.Errorf("%d writers: %w", n, err)
				}
				acc.add(r)
			}
		}
		var retries, conflicts uint64
		var lockWait time.Duration
		var acquisitions uint64
		for i, s := range stores {
			st := s.Stats()
			retries += st.Retries - statsBefore[i].Retries
			conflicts += st.Conflicts - statsBefore[i].Conflicts
			lockWait += st.LockWait - statsBefore[i].LockWait
			acquisitions += st.LockAcquisitions - statsBefore[i].LockAcquisitions
		}
		cleanup()

		r := ratio(pr.perSecond(), fr.perSecond())
		target, ok := "", true
		verdictOf := Info
		switch n {
		case 1:
			target, ok = "≥ 0.5×", r >= 0.5
			verdictOf = verdict(ok)
		case 16:
			target, ok = "≥ 1.0×", r >= 1.0
			verdictOf = verdict(ok)
		}
		res.row(Row{
			Section: "3 contended writes",
			Case:    fmt.Sprintf("%d writer(s), standalone: writes/s (retries per write)", n),
			Project: fmt.Sprintf("%.0f/s (%.2f)", pr.perSecond(), pr.retriesPerWrite()),
			Floor:   fmt.Sprintf("%.0f/s (%.2f)", fr.perSecond(), fr.retriesPerWrite()),
			Ratio:   fmtRatio(r),
			Target:  target,
			Verdict: verdictOf,
		})
		meanWait := time.Duration(0)
		if acquisitions > 0 {
			meanWait = lockWait / time.Duration(acquisitions)
		}
		side := func(r contResult) string {
			return fmt.Sprintf("%.0f writes/s, %.1f requests to the server, client CPU %s, server CPU %s per write",
				r.perSecond(), float64(r.received)/float64(max(r.writes, 1)), fmtDur(r.perWrite(r.cpu)), fmtDur(r.perWrite(r.server)))
		}
		res.note("contended writes, %d writer(s), %d rounds of %s per side, interleaved: procwatch %s; raw get + compare-and-set (the floor) %s; the lock recipe with raw calls and no watch on the payload (create, children, wait for the predecessor, get, multi of delete + set: the least zkstate's design needs) %s, so Update reaches %s of the recipe. Retries per write count every compare-and-set attempt beyond the first (zkstate: runs of fn); zkstate's own counters saw %d retries and %d conflicts beyond its optimistic first attempt; mean lock wait %s",
			n, rounds, d, side(pr), side(fr), side(rr), fmtRatio(ratio(pr.perSecond(), rr.perSecond())), retries, conflicts, meanWait.Round(time.Microsecond))
	}
	return res, nil
}

// recipeWriter increments the counter at payload under the classic
// ZooKeeper lock recipe with raw calls: an ephemeral-sequential node under
// lockDir, the children listed, the predecessor watched until the node is
// lowest, then a get and a multi that deletes the lock node and sets the
// payload at the version read. It is the floor of zkstate's design, without
// its watch on the payload, receipts or events.
func recipeWriter(c *zk.Conn, lockDir, payload string, stop func() bool) (writes, attempts int64, err error) {
	acl := zk.WorldACL(zk.PermAll)
	for !stop() {
		node, err := c.Create(lockDir+"/lock-", nil, zk.FlagEphemeral|zk.FlagSequence, acl)
		if err != nil {
			return writes, attempts, err
		}
		name := node[strings.LastIndexByte(node, '/')+1:]
		for {
			kids, _, err := c.Children(lockDir)
			if err != nil {
				return writes, attempts, err
			}
			slices.Sort(kids)
			idx := slices.Index(kids, name)
			if idx <= 0 {
				break
			}
			ok, _, ch, err := c.ExistsW(lockDir + "/" + kids[idx-1])
			if err != nil {
				return writes, attempts, err
			}
			if ok {
				<-ch
			}
		}
		data, st, err := c.Get(payload)
		if err != nil {
			return writes, attempts, err
		}
		var d contDoc
		_ = json.Unmarshal(data, &d)
		d.N++
		out, err := json.Marshal(d)
		if err != nil {
			return writes, attempts, err
		}
		attempts++
		if _, err := c.Multi(&zk.DeleteRequest{Path: node, Version: -1}, &zk.SetDataRequest{Path: payload, Data: out, Version: st.Version}); err != nil {
			return writes, attempts, err
		}
		writes++
	}
	return writes, attempts, nil
}
