package zkstate

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"math/rand/v2"
	"os"
	"path/filepath"
	"sort"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/anishathalye/porcupine"
	"github.com/procwatch/procwatch/internal/zktest"
)

// The chaos suite records histories of five stores doing Update,
// CompareAndSwap, ConsistentRead and Read against a three-node ensemble while
// members crash and clients are partitioned, then checks them: Update,
// CompareAndSwap and ConsistentRead with porcupine for linearizability, Read
// against its staleness bound. `make test` runs a few seeds; `make chaos`
// many, for longer.
var (
	chaosSeeds    = flag.Int("chaos.seeds", 2, "number of randomised chaos runs")
	chaosSeed     = flag.Uint64("chaos.seed", 0, "run only this seed (0: derive seeds from the clock)")
	chaosDuration = flag.Duration("chaos.duration", 8*time.Second, "workload time per chaos run")
	chaosOut      = flag.String("chaos.out", "", "directory for violation reports (default: the system temp dir)")
)

// reg is the register the workload shares. Seq counts the writes: every
// write goes through zkstate, so the document's Seq equals its ZooKeeper
// version, which lets a plain Read say which version it saw.
type reg struct {
	N   int `json:"n"`
	Seq int `json:"seq"`
}

type opKind int

const (
	opUpdate opKind = iota
	opCAS
	opConsistentRead
	opRead
)

type chaosInput struct {
	Kind   opKind
	Add    int // opUpdate
	Expect int // opCAS: the Seq (= version) it expects
	NewN   int // opCAS
}

type outcomeKind int

const (
	outOK outcomeKind = iota
	outFail
	outUnknown
)

type chaosOutput struct {
	Outcome outcomeKind
	Reg     reg // opUpdate, opCAS: the register written; reads: the value read
	Err     string
}

// regModel is the sequential specification. Failed operations must have had
// no effect; operations with unknown outcome may have taken effect (they
// return at the end of time, so the checker may place them anywhere after
// their call).
var regModel = porcupine.Model{
	Init: func() any { return reg{} },
	Step: func(state, input, output any) (bool, any) {
		s, in, out := state.(reg), input.(chaosInput), output.(chaosOutput)
		switch in.Kind {
		case opUpdate:
			next := reg{N: s.N + in.Add, Seq: s.Seq + 1}
			switch out.Outcome {
			case outOK:
				return out.Reg == next, next
			case outUnknown:
				return true, next
			}
			return true, s
		case opCAS:
			match := s.Seq == in.Expect
			next := reg{N: in.NewN, Seq: in.Expect + 1}
			switch out.Outcome {
			case outOK:
				return match, next
			case outUnknown:
				if match {
					return true, next
				}
				return true, s
			}
			return !match || out.Err != "conflict", s
		case opConsistentRead:
			if out.Outcome != outOK {
				return true, s
			}
			return out.Reg == s, s
		}
		return true, s
	},
	DescribeOperation: func(input, output any) string {
		in, out := input.(chaosInput), output.(chaosOutput)
		res := map[outcomeKind]string{outOK: "ok", outFail: "fail", outUnknown: "unknown"}[out.Outcome]
		switch in.Kind {
		case opUpdate:
			return fmt.Sprintf("update +%d -> %s %v %s", in.Add, res, out.Reg, out.Err)
		case opCAS:
			return fmt.Sprintf("cas seq=%d n=%d -> %s %s", in.Expect, in.NewN, res, out.Err)
		case opConsistentRead:
			return fmt.Sprintf("consistent-read -> %s %v %s", res, out.Reg, out.Err)
		}
		return fmt.Sprintf("read -> %s %v", res, out.Reg)
	},
	DescribeState: func(state any) string { return fmt.Sprintf("%+v", state.(reg)) },
}

// history collects operations from every client.
type history struct {
	start time.Time
	mu    sync.Mutex
	ops   []porcupine.Operation
}

func (h *history) now() int64 { return int64(time.Since(h.start)) }

func (h *history) add(client int, in chaosInput, call int64, out chaosOutput, ret int64) {
	if out.Outcome == outUnknown {
		ret = 1 << 62 // may take effect at any time after the call
	}
	h.mu.Lock()
	h.ops = append(h.ops, porcupine.Operation{ClientId: client, Input: in, Call: call, Output: out, Return: ret})
	h.mu.Unlock()
}

type chaosStats struct {
	ops, faults, unknown, failed, staleReads int
	ambiguous, resolved, expirations         uint64
}

func TestChaos(t *testing.T) {
	seeds := []uint64{*chaosSeed}
	if *chaosSeed == 0 {
		seeds = seeds[:0]
		base := uint64(time.Now().UnixNano())
		for i := 0; i < *chaosSeeds; i++ {
			seeds = append(seeds, base+uint64(i)*7919)
		}
	}
	var total chaosStats
	start := time.Now()
	for _, seed := range seeds {
		t.Run(fmt.Sprintf("seed=%d", seed), func(t *testing.T) {
			st := runChaos(t, seed, *chaosDuration)
			total.ops += st.ops
			total.faults += st.faults
			total.unknown += st.unknown
			total.failed += st.failed
			total.ambiguous += st.ambiguous
			total.resolved += st.resolved
			total.expirations += st.expirations
		})
	}
	t.Logf("chaos total: %d seeds, %d operations, %d faults, %d ambiguous writes (%d resolved), %d unknown outcomes, %d failed operations, %d session expirations, %v",
		len(seeds), total.ops, total.faults, total.ambiguous, total.resolved, total.unknown, total.failed, total.expirations, time.Since(start).Round(time.Second))
}

func runChaos(t *testing.T, seed uint64, duration time.Duration) chaosStats {
	t.Logf("chaos seed %d (rerun with -chaos.seed=%d)", seed, seed)
	rng := rand.New(rand.NewPCG(seed, seed^0x9e3779b97f4a7c15))
	zks := zktest.Start(t, 3, zktest.WithSessionTimeouts(time.Second, 20*time.Second))
	const clients = 5
	const sessionTimeout = 3 * time.Second
	const bound = 2 * time.Second
	proxies := make([]*zktest.Proxy, clients)
	stores := make([]*Store[reg], clients)
	for i := range stores {
		proxies[i] = zktest.NewProxy(t, zks.Servers()...)
		opts := []Option{WithMaxStaleness(bound), WithVerifyInterval(250 * time.Millisecond), WithLockTimeout(20 * time.Second)}
		stores[i] = openOrCreate(t, newSession(t, proxies[i].Addr(), WithSessionTimeout(sessionTimeout)), "/chaos", i == 0, reg{}, opts...)
	}

	h := &history{start: time.Now()}
	var st chaosStats
	var staleReads atomic.Int64
	var readChecks []readCheck
	var rcMu sync.Mutex

	ctx, cancel := context.WithTimeout(context.Background(), duration)
	defer cancel()
	var wg sync.WaitGroup
	for c := 0; c < clients; c++ {
		crng := rand.New(rand.NewPCG(seed+uint64(c)+1, uint64(c)))
		wg.Add(1)
		go func() {
			defer wg.Done()
			s := stores[c]
			for ctx.Err() == nil {
				in := chaosInput{Kind: opKind(crng.IntN(4))}
				opCtx, opCancel := context.WithTimeout(context.Background(), 30*time.Second)
				call := h.now()
				var out chaosOutput
				switch in.Kind {
				case opUpdate:
					in.Add = 1 + crng.IntN(9)
					var wrote reg
					_, err := s.Update(opCtx, func(r *reg) error {
						r.N += in.Add
						r.Seq++
						wrote = *r
						return nil
					})
					out = classify(err)
					out.Reg = wrote
				case opCAS:
					cur, _ := s.DirtyRead()
					in.Expect, in.NewN = cur.Seq, crng.IntN(1000)
					_, err := s.CompareAndSwap(opCtx, int32(in.Expect), reg{N: in.NewN, Seq: in.Expect + 1})
					out = classify(err)
					if errors.Is(err, ErrConflict) {
						out.Err = "conflict"
					}
				case opConsistentRead:
					snap, err := s.ConsistentRead(opCtx)
					out = classify(err)
					if err != nil && out.Outcome == outUnknown {
						out.Outcome = outFail // a read changes nothing
					}
					out.Reg = snap.Value
				case opRead:
					v, err := s.Read()
					ret := h.now()
					opCancel()
					if errors.Is(err, ErrStale) {
						staleReads.Add(1)
						continue
					}
					if err != nil {
						t.Errorf("Read: %v", err)
						continue
					}
					rcMu.Lock()
					readChecks = append(readChecks, readCheck{client: c, call: call, ret: ret, seq: v.Seq})
					rcMu.Unlock()
					continue
				}
				ret := h.now()
				opCancel()
				h.add(c, in, call, out, ret)
			}
		}()
	}

	// Faults, one at a time, each healed before the next.
	var faultLog []string
	faultsDone := make(chan struct{})
	go func() {
		defer close(faultsDone)
		for ctx.Err() == nil {
			pause(ctx, time.Duration(300+rng.IntN(700))*time.Millisecond)
			if ctx.Err() != nil {
				return
			}
			switch rng.IntN(4) {
			case 0: // leader crash
				if l, err := zks.Leader(); err == nil {
					faultLog = append(faultLog, fmt.Sprintf("%v kill leader %d", time.Since(h.start).Round(time.Millisecond), l))
					_ = zks.Kill(l)
					pause(ctx, time.Duration(500+rng.IntN(1500))*time.Millisecond)
					_ = zks.Restart(l)
				}
			case 1: // follower crash
				l, err := zks.Leader()
				if err == nil {
					f := (l + 1 + rng.IntN(2)) % 3
					faultLog = append(faultLog, fmt.Sprintf("%v kill follower %d", time.Since(h.start).Round(time.Millisecond), f))
					_ = zks.Kill(f)
					pause(ctx, time.Duration(500+rng.IntN(1500))*time.Millisecond)
					_ = zks.Restart(f)
				}
			case 2: // partition past the session timeout: expiry
				c := rng.IntN(clients)
				faultLog = append(faultLog, fmt.Sprintf("%v partition client %d past its session", time.Since(h.start).Round(time.Millisecond), c))
				proxies[c].Cut()
				time.Sleep(sessionTimeout + time.Duration(500+rng.IntN(1000))*time.Millisecond)
				proxies[c].Restore()
			case 3: // short partition
				c := rng.IntN(clients)
				faultLog = append(faultLog, fmt.Sprintf("%v short partition of client %d", time.Since(h.start).Round(time.Millisecond), c))
				proxies[c].Cut()
				time.Sleep(time.Duration(100+rng.IntN(600)) * time.Millisecond)
				proxies[c].Restore()
			}
		}
	}()
	wg.Wait()
	<-faultsDone
	for i := 0; i < zks.Size(); i++ {
		_ = zks.Restart(i) // a member may still be down; Restart of a running one fails harmlessly
	}
	t.Logf("faults: %v", faultLog)

	ops := h.ops
	for _, op := range ops {
		switch op.Output.(chaosOutput).Outcome {
		case outUnknown:
			st.unknown++
		case outFail:
			st.failed++
		}
	}
	st.ops = len(ops) + len(readChecks)
	st.faults = len(faultLog)
	st.staleReads = int(staleReads.Load())
	for _, s := range stores {
		ss := s.Stats()
		st.ambiguous += ss.AmbiguousWrites
		st.resolved += ss.AmbiguousResolved
		st.expirations += ss.SessionExpirations
	}
	t.Logf("%d operations (%d linearizable, %d bounded reads, %d stale refusals), %d unknown, %d failed, ambiguous writes %d resolved %d, expirations %d",
		st.ops, len(ops), len(readChecks), st.staleReads, st.unknown, st.failed, st.ambiguous, st.resolved, st.expirations)

	errCounts := map[string]int{}
	for _, op := range ops {
		if out := op.Output.(chaosOutput); out.Outcome != outOK && out.Err != "conflict" {
			errCounts[out.Err]++
		}
	}
	for e, n := range errCounts {
		t.Logf("%4d x %s", n, e)
	}
	checkLinearizable(t, seed, ops)
	for _, v := range checkBoundedReads(ops, readChecks, bound) {
		t.Error(v)
	}
	if st.unknown != 0 {
		t.Errorf("%d writes left with an unknown outcome", st.unknown)
	}
	// Nothing lost, nothing applied twice: the final register is what the
	// acknowledged writes make it, checked by a final consistent read in
	// the history.
	final, err := stores[1].ConsistentRead(testCtx(t, 30*time.Second))
	if err != nil {
		t.Fatalf("final read: %v", err)
	}
	checkFinal(t, ops, final.Value)
	return st
}

// classify maps a write's error to an outcome: zkstate reports unknown
// outcomes with ErrUnknownOutcome; every other error means nothing was
// written.
func classify(err error) chaosOutput {
	switch {
	case err == nil:
		return chaosOutput{Outcome: outOK}
	case errors.Is(err, ErrUnknownOutcome):
		return chaosOutput{Outcome: outUnknown, Err: err.Error()}
	}
	return chaosOutput{Outcome: outFail, Err: err.Error()}
}

func pause(ctx context.Context, d time.Duration) {
	select {
	case <-ctx.Done():
	case <-time.After(d):
	}
}

func checkLinearizable(t *testing.T, seed uint64, ops []porcupine.Operation) {
	t.Helper()
	res, path, err := linearizable(ops, seed, *chaosOut)
	switch {
	case err != nil:
		t.Errorf("writing the visualisation: %v", err)
	case res == porcupine.Unknown:
		t.Logf("linearizability check timed out on %d operations", len(ops))
	case res == porcupine.Illegal:
		t.Errorf("history of seed %d is not linearizable; visualisation in %s (rerun with -chaos.seed=%d)", seed, path, seed)
	}
}

// linearizable checks ops against regModel and, on a violation, writes
// porcupine's visualisation into dir (default: the system temp dir).
func linearizable(ops []porcupine.Operation, seed uint64, dir string) (porcupine.CheckResult, string, error) {
	res, info := porcupine.CheckOperationsVerbose(regModel, ops, 2*time.Minute)
	if res != porcupine.Illegal {
		return res, "", nil
	}
	if dir == "" {
		dir = os.TempDir()
	}
	path := filepath.Join(dir, fmt.Sprintf("procwatch-chaos-%d.html", seed))
	return res, path, porcupine.VisualizePath(regModel, info, path)
}

// readCheck is one bounded-staleness Read: the Seq it returned and when.
type readCheck struct {
	client    int
	call, ret int64
	seq       int
}

// checkBoundedReads holds every Read to its promise: the value is not older
// than one acknowledged more than the bound before the read began, and not
// newer than what had been written by the time it returned (nothing made
// up).
func checkBoundedReads(ops []porcupine.Operation, reads []readCheck, bound time.Duration) (violations []string) {
	type ack struct {
		ret int64
		seq int
	}
	var acks []ack
	var calls []int64 // invocations of writes that may have succeeded
	for _, op := range ops {
		in, out := op.Input.(chaosInput), op.Output.(chaosOutput)
		if in.Kind != opUpdate && in.Kind != opCAS || out.Outcome == outFail {
			continue
		}
		calls = append(calls, op.Call)
		if out.Outcome == outOK {
			seq := out.Reg.Seq
			if in.Kind == opCAS {
				seq = in.Expect + 1
			}
			acks = append(acks, ack{op.Return, seq})
		}
	}
	sort.Slice(calls, func(i, j int) bool { return calls[i] < calls[j] })
	for _, r := range reads {
		minSeq := 0
		for _, a := range acks {
			if a.ret < r.call-int64(bound) && a.seq > minSeq {
				minSeq = a.seq
			}
		}
		maxSeq := sort.Search(len(calls), func(i int) bool { return calls[i] > r.ret })
		if r.seq < minSeq {
			violations = append(violations, fmt.Sprintf("client %d Read at %v returned seq %d, older than seq %d acknowledged more than %v before", r.client, time.Duration(r.call), r.seq, minSeq, bound))
		}
		if r.seq > maxSeq {
			violations = append(violations, fmt.Sprintf("client %d Read returned seq %d, but only %d writes had begun", r.client, r.seq, maxSeq))
		}
	}
	return violations
}

// checkFinal replays the acknowledged writes in Seq order: the final value
// must be reachable from them, so no acknowledged write was lost and none
// applied twice (Seq would show it).
func checkFinal(t *testing.T, ops []porcupine.Operation, final reg) {
	t.Helper()
	acked := 0
	maxSeq := 0
	for _, op := range ops {
		in, out := op.Input.(chaosInput), op.Output.(chaosOutput)
		if (in.Kind == opUpdate || in.Kind == opCAS) && out.Outcome == outOK {
			acked++
			s := out.Reg.Seq
			if in.Kind == opCAS {
				s = in.Expect + 1
			}
			maxSeq = max(maxSeq, s)
		}
	}
	if final.Seq < maxSeq {
		t.Errorf("final seq %d is below acknowledged seq %d: a write was lost", final.Seq, maxSeq)
	}
	if final.Seq < acked {
		t.Errorf("final seq %d but %d writes were acknowledged", final.Seq, acked)
	}
}
