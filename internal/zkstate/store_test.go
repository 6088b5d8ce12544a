package zkstate

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/go-zookeeper/zk"
	"github.com/google/go-cmp/cmp"
	"github.com/procwatch/procwatch/internal/testutil"
	"github.com/procwatch/procwatch/internal/zktest"
)

func TestChangeReachesOtherStore(t *testing.T) {
	zks := startZK(t)
	a := createStore[config](t, newSession(t, zks.ConnectString()), testRoot, config{Globs: []string{"a", "b", "c"}})
	b := openStore[config](t, newSession(t, zks.ConnectString()), testRoot)
	rec := record(t, b)

	start := time.Now()
	v, err := a.Update(testCtx(t, 10*time.Second), func(c *config) error {
		c.Globs = []string{"a", "c", "d"}
		return nil
	})
	if err != nil {
		t.Fatalf("Update: %v", err)
	}
	evs := rec.waitVersion(t, time.Second, v)
	t.Logf("change reached the other store after %v", time.Since(start))

	want := []Change{
		{Kind: Removed, Path: "/globs/1", Old: json.RawMessage(`"b"`)},
		{Kind: Added, Path: "/globs/2", New: json.RawMessage(`"d"`)},
	}
	if diff := cmp.Diff(want, evs[len(evs)-1].Changes); diff != "" {
		t.Errorf("changes (-want +got):\n%s", diff)
	}
	checkChain(t, rec.start.Version, evs)
	if got, _ := b.Read(); !cmp.Equal(got.Globs, []string{"a", "c", "d"}) {
		t.Errorf("other store reads %v", got.Globs)
	}
}

func TestExternalWriterAndGarbage(t *testing.T) {
	zks := startZK(t)
	raw := zktest.Connect(t, zks.ConnectString(), 5*time.Second)
	var stores []*Store[config]
	var recs []*recorder[config]
	for i := 0; i < 3; i++ {
		st := openOrCreate(t, newSession(t, zks.ConnectString()), testRoot, i == 0, config{Globs: []string{"sshd"}})
		stores = append(stores, st)
		recs = append(recs, record(t, st))
	}
	payload := testRoot + "/payload"

	// A raw write, standing in for zkCli or kazoo.
	stat, err := raw.Set(payload, []byte(`{"globs":["sshd","nginx*"]}`), -1)
	if err != nil {
		t.Fatal(err)
	}
	for i, r := range recs {
		evs := r.waitVersion(t, time.Second, stat.Version)
		want := []Change{{Kind: Added, Path: "/globs/1", New: json.RawMessage(`"nginx*"`)}}
		if diff := cmp.Diff(want, evs[len(evs)-1].Changes); diff != "" {
			t.Errorf("store %d changes (-want +got):\n%s", i, diff)
		}
	}

	// Garbage of every kind: never a panic, the last good value stays.
	for _, junk := range []string{`{"globs":["sshd",`, `not json`, `{"globs":"nginx"}`, ``, `{"globs":[1,2]}`, `{"globs":[]} trailing`} {
		if _, err := raw.Set(payload, []byte(junk), -1); err != nil {
			t.Fatal(err)
		}
	}
	for i, st := range stores {
		testutil.Eventually(t, 5*time.Second, "invalid payloads counted", func() bool {
			_, info := st.DirtyRead()
			return info.Invalid && st.Stats().InvalidPayloads >= 1
		})
		got, err := st.Read()
		if err != nil {
			t.Errorf("store %d: Read after garbage: %v", i, err)
		}
		if !cmp.Equal(got.Globs, []string{"sshd", "nginx*"}) {
			t.Errorf("store %d lost the last good value: %v", i, got.Globs)
		}
		_, err = st.ConsistentRead(testCtx(t, 5*time.Second))
		var ip *InvalidPayloadError
		if !isErr(err, ErrInvalidPayload) || !errors.As(err, &ip) {
			t.Errorf("store %d: ConsistentRead over garbage = %v, want an InvalidPayloadError", i, err)
		} else if string(ip.Raw) != `{"globs":[]} trailing` || ip.Version < 2 {
			t.Errorf("store %d: InvalidPayloadError carries version %d and %q, want the last junk written", i, ip.Version, ip.Raw)
		}
	}

	// Recovery at the next good payload, as one event from the last good version.
	stat, err = raw.Set(payload, []byte(`{"globs":["postgres*"]}`), -1)
	if err != nil {
		t.Fatal(err)
	}
	for i, r := range recs {
		evs := r.waitVersion(t, 2*time.Second, stat.Version)
		checkChain(t, r.start.Version, evs)
		last := evs[len(evs)-1]
		if !cmp.Equal(last.Value.Globs, []string{"postgres*"}) {
			t.Errorf("store %d: recovered value %v", i, last.Value.Globs)
		}
		if _, info := stores[i].DirtyRead(); info.Invalid {
			t.Errorf("store %d still invalid after a good payload", i)
		}
	}
}

func TestConcurrentUpdatesFromEightStores(t *testing.T) {
	zks := startZK(t)
	const stores, each = 8, 50
	var sts []*Store[counter]
	var recs []*recorder[counter]
	for i := 0; i < stores; i++ {
		st := openOrCreate(t, newSession(t, zks.ConnectString()), "/counter", i == 0, counter{})
		sts = append(sts, st)
		recs = append(recs, record(t, st))
	}
	ctx := testCtx(t, 2*time.Minute)
	var wg sync.WaitGroup
	errs := make(chan error, stores*each)
	for _, st := range sts {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for j := 0; j < each; j++ {
				if _, err := st.Update(ctx, func(c *counter) error { c.N++; return nil }); err != nil {
					errs <- err
				}
			}
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Errorf("Update: %v", err)
	}
	snap, err := sts[0].ConsistentRead(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if snap.Value.N != stores*each {
		t.Fatalf("counter = %d, want %d", snap.Value.N, stores*each)
	}
	raw := zktest.Connect(t, zks.ConnectString(), 5*time.Second)
	noLockNodes(t, raw, "/counter/lock")
	for i, r := range recs {
		evs := r.waitVersion(t, 5*time.Second, snap.Version)
		checkChain(t, r.start.Version, evs)
		if last := evs[len(evs)-1]; last.Value.N != stores*each {
			t.Errorf("store %d: last event value %d", i, last.Value.N)
		}
	}
	var conflicts uint64
	for _, st := range sts {
		conflicts += st.Stats().Conflicts
	}
	if conflicts != 0 {
		t.Errorf("%d conflicts although every writer took the lock", conflicts)
	}
}

func TestCompareAndSwap(t *testing.T) {
	zks := startZK(t)
	st := createStore[config](t, newSession(t, zks.ConnectString()), testRoot, config{Globs: []string{"a"}})
	ctx := testCtx(t, 10*time.Second)
	snap, err := st.ConsistentRead(ctx)
	if err != nil {
		t.Fatal(err)
	}
	v1, err := st.CompareAndSwap(ctx, snap.Version, config{Globs: []string{"b"}})
	if err != nil {
		t.Fatalf("CompareAndSwap on the current version: %v", err)
	}
	if v1 != snap.Version+1 {
		t.Errorf("new version %d, want %d", v1, snap.Version+1)
	}
	if _, err := st.CompareAndSwap(ctx, snap.Version, config{Globs: []string{"c"}}); !isErr(err, ErrConflict) {
		t.Fatalf("CompareAndSwap on a stale version = %v, want ErrConflict", err)
	}
	got, err := st.ConsistentRead(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if got.Version != v1 || !cmp.Equal(got.Value.Globs, []string{"b"}) {
		t.Errorf("after the refused swap: version %d value %v, want %d [b]", got.Version, got.Value.Globs, v1)
	}
	if _, err := st.CompareAndSwapJSON(ctx, v1, []byte(`{"globs": 3}`)); !isErr(err, ErrInvalidPayload) {
		t.Errorf("CompareAndSwapJSON with a wrong type = %v, want ErrInvalidPayload", err)
	}
}

func TestUpdateAgainstRawWriter(t *testing.T) {
	zks := startZK(t)
	raw := zktest.Connect(t, zks.ConnectString(), 5*time.Second)
	payload := "/race/payload"

	t.Run("retries and wins", func(t *testing.T) {
		st := createStore[counter](t, newSession(t, zks.ConnectString()), "/race", counter{})
		ctx := testCtx(t, 10*time.Second)
		// Bring the local copy up to date first, so that the raw write
		// below is what makes the first attempt fail.
		if _, err := st.ConsistentRead(ctx); err != nil {
			t.Fatal(err)
		}
		calls := 0
		v, err := st.Update(ctx, func(c *counter) error {
			calls++
			if calls == 1 {
				// A writer that ignores the lock slips in between our read
				// and our write.
				if _, err := raw.Set(payload, []byte(`{"n":100}`), -1); err != nil {
					return err
				}
			}
			c.N++
			return nil
		})
		if err != nil {
			t.Fatalf("Update: %v", err)
		}
		if calls != 2 {
			t.Errorf("fn ran %d times, want 2 (one retry)", calls)
		}
		snap, err := st.ConsistentRead(ctx)
		if err != nil {
			t.Fatal(err)
		}
		if snap.Value.N != 101 || snap.Version != v {
			t.Errorf("got n=%d at version %d, want 101 at %d", snap.Value.N, snap.Version, v)
		}
		// The first attempt ran on the local copy: its failure is not yet
		// a conflict, since the copy may simply have been behind.
		if s := st.Stats(); s.Conflicts != 0 || s.Retries != 0 {
			t.Errorf("stats: conflicts %d retries %d, want 0 and 0", s.Conflicts, s.Retries)
		}
	})

	t.Run("reports ErrConflict after its bound", func(t *testing.T) {
		st := openStore[counter](t, newSession(t, zks.ConnectString()), "/race", WithMaxRetries(2))
		ctx := testCtx(t, 10*time.Second)
		calls := 0
		_, err := st.Update(ctx, func(c *counter) error {
			calls++
			if _, err := raw.Set(payload, []byte(fmt.Sprintf(`{"n":%d}`, 1000+calls)), -1); err != nil {
				return err
			}
			c.N = -1
			return nil
		})
		if !isErr(err, ErrConflict) {
			t.Fatalf("Update = %v, want ErrConflict", err)
		}
		if calls != 4 {
			t.Errorf("fn ran %d times, want 4 (on the local copy, on the server's, and 2 retries)", calls)
		}
		if s := st.Stats(); s.Conflicts != 3 || s.Retries != 2 {
			t.Errorf("stats: conflicts %d retries %d, want 3 and 2", s.Conflicts, s.Retries)
		}
		data, _, err := raw.Get(payload)
		if err != nil {
			t.Fatal(err)
		}
		if string(data) != `{"n":1004}` {
			t.Errorf("payload %s: the failed Update wrote something", data)
		}
	})
}

func TestReadGoesStaleWhenServerIsGone(t *testing.T) {
	zks := startZK(t)
	sess := newSession(t, zks.ConnectString(), WithSessionTimeout(4*time.Second))
	st := createStore[config](t, sess, testRoot, config{Globs: []string{"a"}},
		WithMaxStaleness(time.Second), WithVerifyInterval(100*time.Millisecond))
	if _, err := st.Read(); err != nil {
		t.Fatalf("Read while connected: %v", err)
	}
	if err := zks.Kill(0); err != nil {
		t.Fatal(err)
	}
	testutil.Eventually(t, 10*time.Second, "Read to report ErrStale", func() bool {
		_, err := st.Read()
		return isErr(err, ErrStale)
	})
	v, info := st.DirtyRead()
	if !cmp.Equal(v.Globs, []string{"a"}) || !info.Stale || info.Age < time.Second || info.Connected {
		t.Errorf("DirtyRead = %v %+v, want the old value, stale, age >= 1s, not connected", v.Globs, info)
	}
	if err := zks.Restart(0); err != nil {
		t.Fatal(err)
	}
	testutil.Eventually(t, 20*time.Second, "Read to recover after restart", func() bool {
		_, err := st.Read()
		return err == nil
	})
}

func TestConsistentReadSeesOtherWrite(t *testing.T) {
	zks := startZK(t)
	a := createStore[config](t, newSession(t, zks.ConnectString()), testRoot, config{})
	// A long verify interval and no subscriber: only ConsistentRead can
	// make b notice the write in time.
	b := openStore[config](t, newSession(t, zks.ConnectString()), testRoot, WithVerifyInterval(time.Hour))
	ctx := testCtx(t, 10*time.Second)
	for i := 0; i < 20; i++ {
		want := fmt.Sprintf("g%d", i)
		v, err := a.Update(ctx, func(c *config) error { c.Globs = []string{want}; return nil })
		if err != nil {
			t.Fatal(err)
		}
		snap, err := b.ConsistentRead(ctx)
		if err != nil {
			t.Fatal(err)
		}
		if snap.Version < v || len(snap.Value.Globs) != 1 || snap.Value.Globs[0] != want {
			t.Fatalf("round %d: ConsistentRead = %v at version %d, want [%s] at >= %d", i, snap.Value.Globs, snap.Version, want, v)
		}
	}
}

func TestSessionExpiryRecovers(t *testing.T) {
	zks := startZK(t)
	proxy := zktest.NewProxy(t, zks.ConnectString())
	const timeout = 2 * time.Second
	cutSess := newSession(t, proxy.Addr(), WithSessionTimeout(timeout))
	cut := createStore[config](t, cutSess, testRoot, config{Globs: []string{"a"}}, WithMemberID("cut"))
	rec := record(t, cut)
	other := openStore[config](t, newSession(t, zks.ConnectString()), testRoot, WithMemberID("other"))
	raw := zktest.Connect(t, zks.ConnectString(), 5*time.Second)
	memberExists := func() bool {
		ok, _, err := raw.Exists(testRoot + "/listeners/cut")
		return err == nil && ok
	}
	if !memberExists() {
		t.Fatal("listener node missing before the cut")
	}
	lost := make(chan struct{}, 1)
	back := make(chan struct{}, 1)
	var kindsMu sync.Mutex
	var kinds []SessionEventKind
	unsub := cutSess.Subscribe(func(ev SessionEvent) {
		kindsMu.Lock()
		kinds = append(kinds, ev.Kind)
		kindsMu.Unlock()
		switch ev.Kind {
		case SessionLost:
			lost <- struct{}{}
		case SessionReestablished:
			back <- struct{}{}
		}
	})
	defer unsub()

	proxy.Cut()
	ctx := testCtx(t, 30*time.Second)
	select {
	case <-lost:
	case <-ctx.Done():
		t.Fatal("session never declared lost")
	}
	testutil.Eventually(t, 10*time.Second, "server to expire the listener node", func() bool { return !memberExists() })
	// Two changes while cut off: they must arrive as one merged diff.
	for _, g := range []string{"b", "c"} {
		if _, err := other.Update(ctx, func(c *config) error { c.Globs = append(c.Globs, g); return nil }); err != nil {
			t.Fatal(err)
		}
	}
	final, err := other.ConsistentRead(ctx)
	if err != nil {
		t.Fatal(err)
	}
	proxy.Restore()
	select {
	case <-back:
	case <-ctx.Done():
		t.Fatal("session never re-established")
	}
	evs := rec.waitVersion(t, 5*time.Second, final.Version)
	checkChain(t, rec.start.Version, evs)
	last := evs[len(evs)-1]
	want := []Change{
		{Kind: Added, Path: "/globs/1", New: json.RawMessage(`"b"`)},
		{Kind: Added, Path: "/globs/2", New: json.RawMessage(`"c"`)},
	}
	if len(evs) != 1 || !last.Resync {
		t.Errorf("want one resync event after the gap, got %s", describe(evs))
	}
	if diff := cmp.Diff(want, last.Changes); diff != "" {
		t.Errorf("merged changes (-want +got):\n%s", diff)
	}
	kindsMu.Lock()
	wantKinds := []SessionEventKind{SessionDisconnected, SessionLost, SessionReestablished}
	if diff := cmp.Diff(wantKinds, kinds); diff != "" {
		t.Errorf("session events (-want +got):\n%s", diff)
	}
	kindsMu.Unlock()
	testutil.Eventually(t, 10*time.Second, "listener node re-created", memberExists)
	if _, err := cut.Update(ctx, func(c *config) error { c.Globs = append(c.Globs, "d"); return nil }); err != nil {
		t.Fatalf("Update after expiry: %v", err)
	}
	if got := cut.Stats(); got.SessionExpirations != 1 || got.Resyncs < 1 {
		t.Errorf("stats after one expiry: %+v", got)
	}
}

func TestLeaderKillDuringUpdates(t *testing.T) {
	zks := zktest.Start(t, 3, zktest.WithSessionTimeouts(time.Second, 20*time.Second))
	const writers, each = 3, 40
	var sts []*Store[counter]
	for i := 0; i < writers; i++ {
		sts = append(sts, openOrCreate(t, newSession(t, zks.ConnectString(), WithSessionTimeout(8*time.Second)), "/counter", i == 0, counter{}, WithLockTimeout(time.Minute)))
	}
	ctx := testCtx(t, 3*time.Minute)
	var ok, unknown sync.Map
	var wg sync.WaitGroup
	var mu sync.Mutex
	var failures []error
	killed := make(chan struct{})
	for w, st := range sts {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for j := 0; j < each; j++ {
				if w == 0 && j == each/4 {
					<-killed
				}
				_, err := st.Update(ctx, func(c *counter) error { c.N++; return nil })
				switch {
				case err == nil:
					ok.Store(fmt.Sprint(w, "/", j), true)
				case isErr(err, ErrUnknownOutcome):
					unknown.Store(fmt.Sprint(w, "/", j), true)
				default:
					mu.Lock()
					failures = append(failures, err)
					mu.Unlock()
				}
			}
		}()
	}
	leader, err := zks.Leader()
	if err != nil {
		t.Fatal(err)
	}
	testutil.Eventually(t, 30*time.Second, "some updates before the kill", func() bool {
		return sts[1].Stats().Updates+sts[2].Stats().Updates > 10
	})
	if err := zks.Kill(leader); err != nil {
		t.Fatal(err)
	}
	close(killed)
	wg.Wait()
	count := func(m *sync.Map) (n int) {
		m.Range(func(any, any) bool { n++; return true })
		return n
	}
	snap, err := sts[0].ConsistentRead(ctx)
	if err != nil {
		t.Fatal(err)
	}
	nOK, nUnknown := count(&ok), count(&unknown)
	t.Logf("ok %d, unknown %d, failed %d (%v); ambiguous writes %d/%d/%d", nOK, nUnknown, len(failures), failures,
		sts[0].Stats().AmbiguousWrites, sts[1].Stats().AmbiguousWrites, sts[2].Stats().AmbiguousWrites)
	// Every acknowledged update is in the counter exactly once; an update
	// reported failed is not in it; unknown ones may or may not be.
	if snap.Value.N < nOK || snap.Value.N > nOK+nUnknown {
		t.Fatalf("counter %d, want between %d acknowledged and %d with unknown outcomes", snap.Value.N, nOK, nOK+nUnknown)
	}
	if nUnknown != 0 || len(failures) != 0 {
		t.Errorf("%d outcomes left unknown and %d failed; an election must neither lose an update nor leave one undecided", nUnknown, len(failures))
	}
	if snap.Value.N != writers*each {
		t.Errorf("counter %d, want %d", snap.Value.N, writers*each)
	}
	if err := zks.Restart(leader); err != nil {
		t.Fatal(err)
	}
}

func TestWriteGuards(t *testing.T) {
	zks := startZK(t)
	raw := zktest.Connect(t, zks.ConnectString(), 5*time.Second)
	st := createStore(t, newSession(t, zks.ConnectString()), testRoot, noEmptyGlobs{Globs: []string{"a"}})
	ctx := testCtx(t, 10*time.Second)
	before, err := st.ConsistentRead(ctx)
	if err != nil {
		t.Fatal(err)
	}

	t.Run("too large", func(t *testing.T) {
		_, err := st.Update(ctx, func(c *noEmptyGlobs) error {
			c.Globs = []string{strings.Repeat("x", DefaultMaxPayloadSize)}
			return nil
		})
		if !isErr(err, ErrTooLarge) {
			t.Fatalf("Update of a 1 MiB value = %v, want ErrTooLarge", err)
		}
	})
	t.Run("rejected by validator", func(t *testing.T) {
		_, err := st.Update(ctx, func(c *noEmptyGlobs) error { c.Globs = append(c.Globs, ""); return nil })
		if !isErr(err, ErrInvalidPayload) {
			t.Fatalf("Update = %v, want ErrInvalidPayload", err)
		}
	})
	t.Run("fn error", func(t *testing.T) {
		boom := fmt.Errorf("boom")
		if _, err := st.Update(ctx, func(*noEmptyGlobs) error { return boom }); !isErr(err, boom) {
			t.Fatalf("Update = %v, want the function's error", err)
		}
	})
	t.Run("no change writes nothing", func(t *testing.T) {
		v, err := st.Update(ctx, func(*noEmptyGlobs) error { return nil })
		if err != nil || v != before.Version {
			t.Fatalf("no-op Update = %d, %v; want version %d unchanged", v, err, before.Version)
		}
	})
	_, stat, err := raw.Get(testRoot + "/payload")
	if err != nil {
		t.Fatal(err)
	}
	if stat.Version != before.Version {
		t.Errorf("payload version %d after refused writes, want %d", stat.Version, before.Version)
	}
	noLockNodes(t, raw, testRoot+"/lock")
}

// newerConfig is what a later procwatch might write: a field this version
// does not know.
func TestUnknownFieldsSurviveWrite(t *testing.T) {
	zks := startZK(t)
	raw := zktest.Connect(t, zks.ConnectString(), 5*time.Second)
	st := createStore[config](t, newSession(t, zks.ConnectString()), testRoot, config{})
	if _, err := raw.Set(testRoot+"/payload", []byte(`{"globs":["a"],"owner":{"team":"infra"},"labels":["x"]}`), -1); err != nil {
		t.Fatal(err)
	}
	ctx := testCtx(t, 10*time.Second)
	if _, err := st.Update(ctx, func(c *config) error { c.Globs = append(c.Globs, "b"); return nil }); err != nil {
		t.Fatal(err)
	}
	data, _, err := raw.Get(testRoot + "/payload")
	if err != nil {
		t.Fatal(err)
	}
	var got map[string]any
	if err := json.Unmarshal(data, &got); err != nil {
		t.Fatal(err)
	}
	want := map[string]any{"globs": []any{"a", "b"}, "owner": map[string]any{"team": "infra"}, "labels": []any{"x"}}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("stored document (-want +got):\n%s", diff)
	}
}

func TestSlowSubscriberGetsResync(t *testing.T) {
	zks := startZK(t)
	st := createStore[counter](t, newSession(t, zks.ConnectString()), "/slow", counter{}, WithQueueSize(2))
	release := make(chan struct{})
	var mu sync.Mutex
	var slow []Event[counter]
	snap, cancel := st.Subscribe(func(ev Event[counter]) {
		<-release
		mu.Lock()
		slow = append(slow, ev)
		mu.Unlock()
	})
	defer cancel()
	fast := record(t, st)
	ctx := testCtx(t, 30*time.Second)
	var last int32
	for i := 0; i < 10; i++ {
		v, err := st.Update(ctx, func(c *counter) error { c.N++; return nil })
		if err != nil {
			t.Fatal(err)
		}
		last = v
	}
	// The fast subscriber got everything while the slow one was blocked.
	evs := fast.waitVersion(t, 2*time.Second, last)
	checkChain(t, fast.start.Version, evs)
	if len(evs) != 10 {
		t.Errorf("fast subscriber: %d events, want 10", len(evs))
	}
	close(release)
	testutil.Eventually(t, 5*time.Second, "slow subscriber to catch up", func() bool {
		mu.Lock()
		defer mu.Unlock()
		return len(slow) > 0 && slow[len(slow)-1].ToVersion == last
	})
	mu.Lock()
	defer mu.Unlock()
	checkChain(t, snap.Version, slow)
	resynced := false
	for _, ev := range slow {
		if ev.Resync {
			resynced = true
			if len(ev.Old) == 0 || len(ev.New) == 0 {
				t.Errorf("resync event without whole documents: %+v", ev)
			}
		}
	}
	if !resynced || len(slow) >= 10 {
		t.Errorf("slow subscriber: %s; want a merged resync event", describe(slow))
	}
	if st.Stats().QueueDrops == 0 {
		t.Error("QueueDrops not counted")
	}
}

func TestLockTimeoutAndCleanup(t *testing.T) {
	zks := startZK(t)
	raw := zktest.Connect(t, zks.ConnectString(), 5*time.Second)
	st := createStore[counter](t, newSession(t, zks.ConnectString()), "/locked", counter{}, WithLockTimeout(300*time.Millisecond))
	// Somebody else holds the lock: a lower sequence node of another session.
	holder, err := raw.Create("/locked/lock/lock-", nil, zk.FlagEphemeral|zk.FlagSequence, zk.WorldACL(zk.PermAll))
	if err != nil {
		t.Fatal(err)
	}
	_, err = st.Update(testCtx(t, 10*time.Second), func(c *counter) error { c.N++; return nil })
	if !isErr(err, ErrLockTimeout) {
		t.Fatalf("Update while locked = %v, want ErrLockTimeout", err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 200*time.Millisecond)
	defer cancel()
	if _, err := st.Update(ctx, func(c *counter) error { c.N++; return nil }); !isErr(err, context.DeadlineExceeded) {
		t.Fatalf("Update with a short context = %v, want context.DeadlineExceeded", err)
	}
	testutil.Eventually(t, 5*time.Second, "our lock nodes removed", func() bool {
		c, _, err := raw.Children("/locked/lock")
		return err == nil && len(c) == 1
	})
	// Once the holder lets go, the lock is ours.
	if err := raw.Delete(holder, -1); err != nil {
		t.Fatal(err)
	}
	if _, err := st.Update(testCtx(t, 10*time.Second), func(c *counter) error { c.N++; return nil }); err != nil {
		t.Fatalf("Update after release: %v", err)
	}
}

func TestMembers(t *testing.T) {
	zks := startZK(t)
	a := createStore[config](t, newSession(t, zks.ConnectString()), testRoot, config{}, WithMember("procwatch", "1.2.3"), WithMemberID("agent-a"))
	watch := a.WatchMembers(testCtx(t, 30*time.Second))
	waitList := func(want ...string) []Member {
		t.Helper()
		timeout := time.After(5 * time.Second)
		for {
			select {
			case ms, ok := <-watch:
				if !ok {
					t.Fatal("member watch closed")
				}
				var ids []string
				for _, m := range ms {
					ids = append(ids, m.ID)
				}
				if cmp.Equal(ids, want) {
					return ms
				}
			case <-timeout:
				t.Fatalf("member list never became %v", want)
			}
		}
	}
	waitList("agent-a")
	bSess := newSession(t, zks.ConnectString())
	b, err := Open[config](testCtx(t, 10*time.Second), bSess, testRoot, WithMemberID("agent-b"))
	if err != nil {
		t.Fatal(err)
	}
	ms := waitList("agent-a", "agent-b")
	if ms[0].Program != "procwatch" || ms[0].Version != "1.2.3" || ms[0].PID == 0 || ms[0].Hostname == "" || ms[0].StartedAt.IsZero() {
		t.Errorf("member info incomplete: %+v", ms[0])
	}
	listed, err := a.Members(testCtx(t, 5*time.Second))
	if err != nil || len(listed) != 2 {
		t.Fatalf("Members = %v, %v", listed, err)
	}
	b.Close()
	waitList("agent-a")
	tool := openStore[config](t, newSession(t, zks.ConnectString()), testRoot, WithoutMembership())
	if got, _ := tool.Members(testCtx(t, 5*time.Second)); len(got) != 1 {
		t.Errorf("a store opened WithoutMembership is listed: %v", got)
	}
}

func TestOpenModes(t *testing.T) {
	zks := startZK(t)
	sess := newSession(t, zks.ConnectString())
	if _, err := Open[config](testCtx(t, 5*time.Second), sess, "/absent", WithoutWait()); !isErr(err, ErrNoState) {
		t.Fatalf("Open WithoutWait on nothing = %v, want ErrNoState", err)
	}
	// Open waits for somebody to create the state.
	opened := make(chan error, 1)
	var waiter *Store[config]
	go func() {
		st, err := Open[config](testCtx(t, 20*time.Second), newSession(t, zks.ConnectString()), "/later")
		waiter = st
		opened <- err
	}()
	creator := createStore[config](t, sess, "/later", config{Globs: []string{"x"}})
	if err := <-opened; err != nil {
		t.Fatalf("waiting Open: %v", err)
	}
	if !creator.Created() {
		t.Error("Created() is false for the Store that created the payload")
	}
	defer waiter.Close()
	if got, err := waiter.Read(); err != nil || !cmp.Equal(got.Globs, []string{"x"}) {
		t.Errorf("waiting Open reads %v, %v", got.Globs, err)
	}
	// An existing payload is never overwritten by OpenOrCreate.
	again := createStore[config](t, sess, "/later", config{Globs: []string{"other"}})
	if again.Created() {
		t.Error("Created() is true for a Store that found the payload")
	}
	if got, _ := again.Read(); !cmp.Equal(got.Globs, []string{"x"}) {
		t.Errorf("OpenOrCreate overwrote the existing payload: %v", got.Globs)
	}
	_ = creator
	if _, err := Open[config](testCtx(t, 5*time.Second), sess, "relative"); err == nil {
		t.Error("Open accepted a relative root")
	}
}

func TestOpenOnGarbageThenRecover(t *testing.T) {
	zks := startZK(t)
	raw := zktest.Connect(t, zks.ConnectString(), 5*time.Second)
	for _, p := range []string{"/junk", "/junk/payload"} {
		data := []byte(nil)
		if p == "/junk/payload" {
			data = []byte("{{{")
		}
		if _, err := raw.Create(p, data, 0, zk.WorldACL(zk.PermAll)); err != nil {
			t.Fatal(err)
		}
	}
	st := openStore[config](t, newSession(t, zks.ConnectString()), "/junk")
	if _, err := st.Read(); !isErr(err, ErrInvalidPayload) {
		t.Fatalf("Read with no good document = %v, want ErrInvalidPayload", err)
	}
	if _, err := st.Update(testCtx(t, 5*time.Second), func(c *config) error { return nil }); !isErr(err, ErrInvalidPayload) {
		t.Fatalf("Update with nothing good to build on = %v, want ErrInvalidPayload", err)
	}
	rec := record(t, st)
	stat, err := raw.Set("/junk/payload", []byte(`{"globs":["ok"]}`), -1)
	if err != nil {
		t.Fatal(err)
	}
	evs := rec.waitVersion(t, 2*time.Second, stat.Version)
	if evs[0].FromVersion != -1 || !bytes.Equal(evs[0].Value.globsJSON(), []byte(`["ok"]`)) {
		t.Errorf("first good event: %s", describe(evs))
	}
}

func (c config) globsJSON() []byte {
	b, _ := json.Marshal(c.Globs)
	return b
}

func TestConnectUnreachableSaysWhy(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close() // nothing listens there now: connection refused
	ctx, cancel := context.WithTimeout(context.Background(), 1500*time.Millisecond)
	defer cancel()
	_, err = Connect(ctx, []string{addr})
	if !errors.Is(err, ErrNotConnected) || !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("Connect = %v, want ErrNotConnected wrapping the deadline", err)
	}
	if !strings.Contains(err.Error(), addr) || !strings.Contains(err.Error(), "connection refused") {
		t.Errorf("message %q should name %s and say the connection was refused", err, addr)
	}
}

// noLockNodes waits for the lock directory to empty: a lock given up on an
// error path is removed in the background.
func noLockNodes(t *testing.T, raw *zk.Conn, dir string) {
	t.Helper()
	testutil.EventuallySaying(t, 5*time.Second, "no lock nodes under "+dir, func() (bool, string) {
		locks, _, err := raw.Children(dir)
		if err != nil {
			t.Fatal(err)
		}
		return len(locks) == 0, fmt.Sprintf("lock nodes left behind: %v", locks)
	})
}
