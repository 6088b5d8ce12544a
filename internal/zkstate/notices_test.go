package zkstate

import (
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/go-zookeeper/zk"
	"github.com/google/go-cmp/cmp"

	"github.com/procwatch/procwatch/internal/testutil"
	"github.com/procwatch/procwatch/internal/zktest"
)

// stream records events and notices of one SubscribeWithNotices in the
// order they arrive, one line each.
type stream struct {
	mu    sync.Mutex
	lines []string
}

func (s *stream) add(format string, args ...any) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.lines = append(s.lines, fmt.Sprintf(format, args...))
}

func (s *stream) snapshot() []string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]string(nil), s.lines...)
}

func subscribeStream(t *testing.T, st *Store[config]) (*stream, Snapshot[config]) {
	s := &stream{}
	snap, cancel := st.SubscribeWithNotices(func(ev Event[config]) {
		s.add("event %d->%d %s", ev.FromVersion, ev.ToVersion, strings.Join(ev.Value.Globs, ","))
	}, func(n Notice) {
		line := fmt.Sprintf("notice %s %d kept %d", n.Kind, n.Version, n.KeptVersion)
		if n.Err != nil {
			line += " (" + n.Err.Error() + ")"
		}
		s.add("%s", line)
	})
	t.Cleanup(cancel)
	return s, snap
}

// TestNoticesOfDeletionInvalidAndRecreation: what a foreign client does to
// the payload that changes no value in force (garbage written, the node
// deleted, then made again) reaches a subscriber as notices, in order with
// the events, while the events still chain.
func TestNoticesOfDeletionInvalidAndRecreation(t *testing.T) {
	zkc := startZK(t)
	sess := newSession(t, zkc.ConnectString())
	st := createStore[config](t, sess, testRoot, config{Globs: []string{"sshd"}}, WithVerifyInterval(200*time.Millisecond))
	s, snap := subscribeStream(t, st)
	if snap.Version != 0 {
		t.Fatalf("snapshot at version %d, want 0", snap.Version)
	}

	other := zktest.Connect(t, zkc.ConnectString(), 10*time.Second)
	payload := testRoot + "/payload"
	step := func(what string, f func() error, want int) {
		t.Helper()
		if err := f(); err != nil {
			t.Fatalf("%s: %v", what, err)
		}
		testutil.Eventually(t, 10*time.Second, fmt.Sprintf("%d lines after %s", want, what), func() bool { return len(s.snapshot()) >= want })
	}
	set := func(doc string) func() error {
		return func() error { _, err := other.Set(payload, []byte(doc), -1); return err }
	}
	step("garbage", set(`{"globs": [1`), 1)
	step("a good document", set(`{"globs":["nginx"]}`), 2)
	step("deleting the node", func() error { return other.Delete(payload, -1) }, 3)
	step("creating it again", func() error {
		_, err := other.Create(payload, []byte(`{"globs":["cron"]}`), 0, zk.WorldACL(zk.PermAll))
		return err
	}, 5)

	got := s.snapshot()
	if len(got) > 0 && strings.HasPrefix(got[0], "notice invalid 1 kept 0 (zkstate: invalid payload at version 1: ") {
		got[0] = "notice invalid 1 kept 0 (...)"
	}
	want := []string{
		"notice invalid 1 kept 0 (...)",
		"event 0->2 nginx",
		"notice deleted 2 kept 2",
		"notice recreated 0 kept 2",
		"event 2->0 cron",
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("stream (-want +got):\n%s", diff)
	}
}

// TestNoticeOfInvalidPayloadAtSubscribe: a subscriber arriving while the
// server holds a rejected document hears of it first, since no later
// notice would tell it why the value in force is older.
func TestNoticeOfInvalidPayloadAtSubscribe(t *testing.T) {
	zkc := startZK(t)
	sess := newSession(t, zkc.ConnectString())
	st := createStore[config](t, sess, testRoot, config{Globs: []string{"sshd"}})
	r := record(t, st)
	other := zktest.Connect(t, zkc.ConnectString(), 10*time.Second)
	if _, err := other.Set(testRoot+"/payload", []byte("garbage"), -1); err != nil {
		t.Fatal(err)
	}
	testutil.Eventually(t, 10*time.Second, "the Store marked invalid", func() bool { _, info := st.DirtyRead(); return info.Invalid })
	s, _ := subscribeStream(t, st)
	testutil.Eventually(t, 10*time.Second, "a notice", func() bool { return len(s.snapshot()) == 1 })
	if got := s.snapshot()[0]; !strings.HasPrefix(got, "notice invalid 1 kept 0 (") {
		t.Errorf("first line %q, want the invalid notice of version 1", got)
	}
	if evs := r.snapshot(); len(evs) != 0 {
		t.Errorf("plain subscriber got %s, want nothing: an invalid version is no event", describe(evs))
	}
}
