package zkstate

import (
	"os"
	"testing"
	"time"

	"github.com/anishathalye/porcupine"
	"github.com/procwatch/procwatch/internal/zktest"
)

// TestCheckerCatchesBrokenReads proves the chaos checkers can fail: it
// records a real history in which a partitioned client answers from its
// local copy with no staleness bound, once passed off as a consistent read
// and once as a bounded read, and expects both checkers to object.
func TestCheckerCatchesBrokenReads(t *testing.T) {
	zks := startZK(t)
	proxy := zktest.NewProxy(t, zks.ConnectString())
	cut := createStore[reg](t, newSession(t, proxy.Addr(), WithSessionTimeout(10*time.Second)), "/broken", reg{})
	writer := openStore[reg](t, newSession(t, zks.ConnectString()), "/broken")
	h := &history{start: time.Now()}
	ctx := testCtx(t, 30*time.Second)

	call := h.now()
	snap, err := cut.ConsistentRead(ctx)
	if err != nil {
		t.Fatal(err)
	}
	h.add(0, chaosInput{Kind: opConsistentRead}, call, chaosOutput{Reg: snap.Value}, h.now())

	proxy.Cut()
	call = h.now()
	var wrote reg
	if _, err := writer.Update(ctx, func(r *reg) error { r.N += 5; r.Seq++; wrote = *r; return nil }); err != nil {
		t.Fatal(err)
	}
	h.add(1, chaosInput{Kind: opUpdate, Add: 5}, call, chaosOutput{Reg: wrote}, h.now())

	// The broken read path: the partitioned client's local copy, unbounded.
	call = h.now()
	stale, _ := cut.DirtyRead()
	ret := h.now()
	h.add(0, chaosInput{Kind: opConsistentRead}, call, chaosOutput{Reg: stale}, ret)
	proxy.Restore()

	if stale.Seq != 0 {
		t.Fatalf("the partitioned client already saw the write (seq %d); the scenario did not happen", stale.Seq)
	}
	dir := t.TempDir()
	res, path, err := linearizable(h.ops, 42, dir)
	if err != nil {
		t.Fatal(err)
	}
	if res != porcupine.Illegal {
		t.Fatalf("checker said %s for a history with a stale consistent read", res)
	}
	if fi, err := os.Stat(path); err != nil || fi.Size() == 0 {
		t.Fatalf("no visualisation at %s: %v", path, err)
	}

	// The same read as a bounded read, judged with a bound shorter than the
	// time since the write was acknowledged, is caught by the staleness
	// check.
	bound := time.Duration(call-h.ops[1].Return) / 2
	violations := checkBoundedReads(h.ops[:2], []readCheck{{client: 0, call: call, ret: ret, seq: stale.Seq}}, bound)
	if len(violations) == 0 {
		t.Fatal("bounded-read check accepted a read older than its bound")
	}
	t.Logf("caught: %s; visualisation %s", violations[0], path)
}
