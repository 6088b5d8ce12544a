package zkstate

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/go-zookeeper/zk"

	"github.com/procwatch/procwatch/internal/testutil"
	"github.com/procwatch/procwatch/internal/zktest"
)

type lockResult struct {
	fence Fence
	err   error
}

// lockAsync starts l.Lock(ctx) and returns where its result arrives.
func lockAsync(ctx context.Context, l *Lock) <-chan lockResult {
	done := make(chan lockResult, 1)
	go func() {
		f, err := l.Lock(ctx)
		done <- lockResult{f, err}
	}()
	return done
}

func lockDir(t *testing.T, raw *zk.Conn, dir string) {
	t.Helper()
	if _, err := raw.Create(dir, nil, 0, zk.WorldACL(zk.PermAll)); err != nil {
		t.Fatal(err)
	}
}

func lockNodes(t *testing.T, raw *zk.Conn, dir string) int {
	t.Helper()
	c, _, err := raw.Children(dir)
	if err != nil {
		t.Fatal(err)
	}
	return len(c)
}

// TestLockContention: of two sessions, the second waits while the first
// holds the lock, and gets it when the first unlocks; only the holder's
// fence passes a multi.
func TestLockContention(t *testing.T) {
	zks := startZK(t)
	raw := zktest.Connect(t, zks.ConnectString(), 5*time.Second)
	lockDir(t, raw, "/locks")
	a, b := newSession(t, zks.ConnectString()), newSession(t, zks.ConnectString())
	ctx := testCtx(t, 30*time.Second)
	la, lb := NewLock(a, "/locks", LockData([]byte("a"))), NewLock(b, "/locks")

	fa, err := la.Lock(ctx)
	if err != nil {
		t.Fatalf("Lock of a free lock: %v", err)
	}
	if la.Waited() {
		t.Error("Waited after taking a free lock")
	}
	if data, _, err := raw.Get(fa.Path); err != nil || string(data) != "a" {
		t.Errorf("lock node %s holds %q, %v; want the LockData", fa.Path, data, err)
	}
	if _, err := la.Lock(ctx); err == nil {
		t.Error("a second Lock of a held Lock succeeded")
	}
	got := lockAsync(ctx, lb)
	testutil.Eventually(t, 10*time.Second, "the second contender waiting", lb.Waited)
	if n := lockNodes(t, raw, "/locks"); n != 2 {
		t.Errorf("%d lock nodes while one holds and one waits, want 2", n)
	}
	select {
	case r := <-got:
		t.Fatalf("second contender got the lock while the first held it: %+v", r)
	default:
	}
	if _, err := a.Multi(ctx, fa.Check(), &zk.SetDataRequest{Path: "/locks", Data: []byte("x"), Version: -1}); err != nil {
		t.Errorf("a multi under the holder's fence: %v", err)
	}

	if err := la.Unlock(ctx); err != nil {
		t.Fatalf("Unlock: %v", err)
	}
	var r lockResult
	select {
	case r = <-got:
	case <-ctx.Done():
		t.Fatal("the waiter never got the lock after Unlock")
	}
	if r.err != nil || r.fence.Path == fa.Path {
		t.Fatalf("waiter's Lock = %+v, want its own node", r)
	}
	if !lb.Waited() {
		t.Error("Waited is false for a contender that queued")
	}
	if _, err := a.Multi(ctx, fa.Check()); !errors.Is(err, zk.ErrNoNode) {
		t.Errorf("a multi under a released fence = %v, want ErrNoNode", err)
	}
	if _, err := b.Multi(ctx, r.fence.Delete()); err != nil {
		t.Fatalf("a multi deleting the lock under its fence: %v", err)
	}
	lb.Released()
	if err := lb.Unlock(ctx); err != nil {
		t.Errorf("Unlock after the fence's Delete committed: %v", err)
	}
	if n := lockNodes(t, raw, "/locks"); n != 0 {
		t.Errorf("%d lock nodes left", n)
	}
	if err := lb.Unlock(ctx); err != nil {
		t.Errorf("Unlock of a Lock not held: %v", err)
	}
}

// TestLockTimeoutRemovesNode: a wait past LockTimeout fails with
// ErrLockTimeout, a cancelled one with the context's error, and neither
// leaves its node in the queue.
func TestLockTimeoutRemovesNode(t *testing.T) {
	zks := startZK(t)
	raw := zktest.Connect(t, zks.ConnectString(), 5*time.Second)
	lockDir(t, raw, "/locks")
	sess := newSession(t, zks.ConnectString())
	holder := NewLock(sess, "/locks")
	if _, err := holder.Lock(testCtx(t, 10*time.Second)); err != nil {
		t.Fatal(err)
	}
	waiter := NewLock(newSession(t, zks.ConnectString()), "/locks", LockTimeout(200*time.Millisecond))
	if _, err := waiter.Lock(testCtx(t, 10*time.Second)); !errors.Is(err, ErrLockTimeout) {
		t.Fatalf("Lock past its timeout = %v, want ErrLockTimeout", err)
	}
	testutil.Eventually(t, 5*time.Second, "the timed-out node removed", func() bool { return lockNodes(t, raw, "/locks") == 1 })
	ctx, cancel := context.WithCancel(context.Background())
	got := lockAsync(ctx, NewLock(sess, "/locks"))
	testutil.Eventually(t, 5*time.Second, "the waiter queued", func() bool { return lockNodes(t, raw, "/locks") == 2 })
	cancel()
	if r := <-got; !errors.Is(r.err, context.Canceled) || errors.Is(r.err, ErrLockTimeout) {
		t.Fatalf("cancelled Lock = %v, want context.Canceled", r.err)
	}
	testutil.Eventually(t, 5*time.Second, "the cancelled node removed", func() bool { return lockNodes(t, raw, "/locks") == 1 })
}

// TestLockLostSession: a holder whose session is lost holds nothing: its
// fence no longer passes and another contender gets the lock. A waiter
// whose session is lost does not take its vanished node as held; it
// queues again and gets the lock only when the holder lets go.
func TestLockLostSession(t *testing.T) {
	zks := startZK(t)
	raw := zktest.Connect(t, zks.ConnectString(), 5*time.Second)
	lockDir(t, raw, "/locks")
	proxy := zktest.NewProxy(t, zks.ConnectString())
	cutSess := newSession(t, proxy.Addr(), WithSessionTimeout(2*time.Second))
	other := newSession(t, zks.ConnectString())
	ctx := testCtx(t, 60*time.Second)
	events := make(chan SessionEventKind, 16)
	defer cutSess.Subscribe(func(ev SessionEvent) { events <- ev.Kind })()
	waitEvent := func(want SessionEventKind) {
		t.Helper()
		for {
			select {
			case k := <-events:
				if k == want {
					return
				}
			case <-ctx.Done():
				t.Fatalf("no %s session event", want)
			}
		}
	}
	cutOff := func() {
		t.Helper()
		proxy.Cut()
		waitEvent(SessionLost)
		testutil.Eventually(t, 20*time.Second, "the server to expire the cut session's node", func() bool {
			return lockNodes(t, raw, "/locks") == 1
		})
		proxy.Restore()
		waitEvent(SessionReestablished)
	}

	// The holder is cut off.
	cut := NewLock(cutSess, "/locks")
	stale, err := cut.Lock(ctx)
	if err != nil {
		t.Fatal(err)
	}
	otherLock := NewLock(other, "/locks")
	got := lockAsync(ctx, otherLock)
	testutil.Eventually(t, 10*time.Second, "the other contender queued", func() bool { return lockNodes(t, raw, "/locks") == 2 })
	cutOff()
	r := <-got
	if r.err != nil {
		t.Fatalf("Lock after the holder's session was lost: %v", r.err)
	}
	if _, err := cutSess.Multi(ctx, stale.Check()); !errors.Is(err, zk.ErrNoNode) {
		t.Errorf("a multi under the lost session's fence = %v, want ErrNoNode", err)
	}
	if _, err := cut.Refence(ctx); !errors.Is(err, ErrLockLost) {
		t.Errorf("Refence of a lock lost with the session = %v, want ErrLockLost", err)
	}
	if err := cut.Unlock(ctx); err != nil {
		t.Errorf("Unlock of a lock lost with the session: %v", err)
	}

	requeued := func(got <-chan lockResult) {
		t.Helper()
		testutil.EventuallySaying(t, 10*time.Second, "the cut contender queued again", func() (bool, string) {
			n := lockNodes(t, raw, "/locks")
			return n == 2, fmt.Sprintf("%d lock nodes", n)
		}, func() (bool, string) {
			select {
			case r := <-got:
				return true, fmt.Sprintf("a waiter whose node went with its session stopped waiting: %+v", r)
			default:
				return false, ""
			}
		})
		if err := otherLock.Unlock(ctx); err != nil {
			t.Fatal(err)
		}
		r := <-got
		if r.err != nil {
			t.Fatalf("the re-queued waiter's Lock: %v", r.err)
		}
		if _, err := cutSess.Multi(ctx, r.fence.Check()); err != nil {
			t.Errorf("a multi under the re-queued waiter's fence: %v", err)
		}
		if err := cut.Unlock(ctx); err != nil {
			t.Fatal(err)
		}
	}

	// Now the waiter is cut off while it waits for its predecessor...
	got = lockAsync(ctx, cut)
	testutil.Eventually(t, 10*time.Second, "the cut contender waiting", cut.Waited)
	cutOff()
	requeued(got)

	// ...and between listing the queue and watching its predecessor, so
	// that the watch is armed in the new session.
	if _, err := otherLock.Lock(ctx); err != nil {
		t.Fatal(err)
	}
	paused, resume := make(chan struct{}), make(chan struct{})
	var once sync.Once
	cut.beforeWatch = func() {
		once.Do(func() {
			close(paused)
			<-resume
		})
	}
	got = lockAsync(ctx, cut)
	select {
	case <-paused:
	case <-ctx.Done():
		t.Fatal("the cut contender never listed the queue")
	}
	cutOff()
	close(resume)
	requeued(got)

}
