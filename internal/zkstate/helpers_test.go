package zkstate

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/procwatch/procwatch/internal/zktest"
)

// config is the document most tests share: the same shape as procwatch's.
type config struct {
	Globs []string `json:"globs"`
}

// counter is the register the concurrency tests increment.
type counter struct {
	N int `json:"n"`
}

// listed is config with a rule of its own (Checker): "globs" must be
// present.
type listed struct {
	Globs []string `json:"globs"`
}

func (l listed) Check() error {
	if l.Globs == nil {
		return errors.New(`"globs" is missing or null`)
	}
	return nil
}

// noEmptyGlobs is config whose rule (Checker) refuses an empty glob.
type noEmptyGlobs struct {
	Globs []string `json:"globs"`
}

func (c noEmptyGlobs) Check() error {
	for _, g := range c.Globs {
		if g == "" {
			return fmt.Errorf("empty glob")
		}
	}
	return nil
}

const testRoot = "/procwatch"

func testCtx(t testing.TB, d time.Duration) context.Context {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), d)
	t.Cleanup(cancel)
	return ctx
}

func newSession(t testing.TB, servers string, opts ...SessionOption) *Session {
	t.Helper()
	s, err := Connect(testCtx(t, 20*time.Second), []string{servers}, opts...)
	if err != nil {
		t.Fatalf("Connect(%s): %v", servers, err)
	}
	t.Cleanup(s.Close)
	return s
}

func openStore[T any](t testing.TB, sess *Session, root string, opts ...Option) *Store[T] {
	t.Helper()
	st, err := Open[T](testCtx(t, 20*time.Second), sess, root, opts...)
	if err != nil {
		t.Fatalf("Open(%s): %v", root, err)
	}
	t.Cleanup(func() { st.Close() })
	return st
}

// createStore is openStore through OpenOrCreate, with initial.
func createStore[T any](t testing.TB, sess *Session, root string, initial T, opts ...Option) *Store[T] {
	t.Helper()
	st, err := OpenOrCreate(testCtx(t, 20*time.Second), sess, root, initial, opts...)
	if err != nil {
		t.Fatalf("OpenOrCreate(%s): %v", root, err)
	}
	t.Cleanup(func() { st.Close() })
	return st
}

// openOrCreate opens root on sess, creating it with initial when create is
// set: the first of several Stores on one root makes it.
func openOrCreate[T any](t testing.TB, sess *Session, root string, create bool, initial T, opts ...Option) *Store[T] {
	t.Helper()
	if create {
		return createStore(t, sess, root, initial, opts...)
	}
	return openStore[T](t, sess, root, opts...)
}

// recorder collects a subscriber's events and lets a test wait for one.
type recorder[T any] struct {
	mu     sync.Mutex
	start  Snapshot[T]
	events []Event[T]
	signal chan struct{}
}

func record[T any](t testing.TB, st *Store[T]) *recorder[T] {
	r := &recorder[T]{signal: make(chan struct{}, 1)}
	snap, cancel := st.Subscribe(func(ev Event[T]) {
		r.mu.Lock()
		r.events = append(r.events, ev)
		r.mu.Unlock()
		select {
		case r.signal <- struct{}{}:
		default:
		}
	})
	r.start = snap
	t.Cleanup(cancel)
	return r
}

func (r *recorder[T]) snapshot() []Event[T] {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]Event[T](nil), r.events...)
}

// waitFor waits until cond holds for the events so far, or fails the test.
func (r *recorder[T]) waitFor(t testing.TB, within time.Duration, what string, cond func([]Event[T]) bool) []Event[T] {
	t.Helper()
	deadline := time.NewTimer(within)
	defer deadline.Stop()
	for {
		evs := r.snapshot()
		if cond(evs) {
			return evs
		}
		select {
		case <-r.signal:
		case <-deadline.C:
			t.Fatalf("no %s within %v; events: %s", what, within, describe(evs))
		}
	}
}

func (r *recorder[T]) waitVersion(t testing.TB, within time.Duration, v int32) []Event[T] {
	t.Helper()
	return r.waitFor(t, within, fmt.Sprintf("event reaching version %d", v), func(evs []Event[T]) bool {
		return len(evs) > 0 && evs[len(evs)-1].ToVersion >= v
	})
}

// checkChain asserts the chaining guarantee: each event starts where the
// previous one ended, versions only grow, and the chain starts at start.
func checkChain[T any](t testing.TB, start int32, evs []Event[T]) {
	t.Helper()
	prev := start
	for i, ev := range evs {
		if ev.FromVersion != prev {
			t.Fatalf("event %d: FromVersion %d, want %d (previous ToVersion); chain: %s", i, ev.FromVersion, prev, describe(evs))
		}
		if ev.ToVersion <= ev.FromVersion {
			t.Fatalf("event %d goes backwards: %d -> %d", i, ev.FromVersion, ev.ToVersion)
		}
		prev = ev.ToVersion
	}
}

func describe[T any](evs []Event[T]) string {
	var b strings.Builder
	for _, ev := range evs {
		fmt.Fprintf(&b, "[%d->%d", ev.FromVersion, ev.ToVersion)
		for _, c := range ev.Changes {
			fmt.Fprintf(&b, " %s %s", c.Kind, c.Path)
		}
		if ev.Resync {
			b.WriteString(" resync")
		}
		b.WriteString("] ")
	}
	return b.String()
}

func startZK(t testing.TB) *zktest.Cluster {
	t.Helper()
	return zktest.Start(t, 1, zktest.WithSessionTimeouts(time.Second, 20*time.Second))
}

func isErr(err, target error) bool { return errors.Is(err, target) }
