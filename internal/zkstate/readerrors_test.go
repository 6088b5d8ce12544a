package zkstate

import (
	"log/slog"
	"strings"
	"testing"
	"time"

	"github.com/go-zookeeper/zk"

	"github.com/procwatch/procwatch/internal/testutil"
	"github.com/procwatch/procwatch/internal/zktest"
)

// TestUnreadablePayloadIsLoggedOnceAndCounted: a payload this client may not
// read (an ACL without READ for it) is said once at WARN with the cause and
// the path, counted at every failed read, and leaves the copy stale; once
// the ACL allows reading again the Store recovers and says so once at INFO.
func TestUnreadablePayloadIsLoggedOnceAndCounted(t *testing.T) {
	zkc := startZK(t)
	var logs testutil.Buffer
	logger := slog.New(slog.NewTextHandler(&logs, &slog.HandlerOptions{Level: slog.LevelInfo}))
	sess := newSession(t, zkc.ConnectString())
	const bound = time.Second
	st := createStore[config](t, sess, testRoot, config{Globs: []string{"sshd"}},
		WithLogger(logger), WithMaxStaleness(bound), WithVerifyInterval(100*time.Millisecond))

	// A foreign client takes READ away from everyone and writes: the watch
	// fires and every read of the new version is refused.
	other := zktest.Connect(t, zkc.ConnectString(), 10*time.Second)
	payload := testRoot + "/payload"
	if _, err := other.SetACL(payload, zk.WorldACL(zk.PermAll&^zk.PermRead), -1); err != nil {
		t.Fatalf("SetACL: %v", err)
	}
	if _, err := other.Set(payload, []byte(`{"globs":["nginx"]}`), -1); err != nil {
		t.Fatalf("Set: %v", err)
	}
	const warn = "cannot read the payload"
	line := logs.Expect(t, warn, 10*time.Second)
	for _, want := range []string{"level=WARN", "path=" + payload, "not authenticated"} {
		if !strings.Contains(line, want) {
			t.Errorf("warning %q does not contain %q", line, want)
		}
	}
	// Several retries later there is still one warning.
	testutil.Eventually(t, 20*time.Second, "three failed reads counted", func() bool { return st.Stats().ReadErrors >= 3 })
	testutil.Eventually(t, 10*time.Second, "Read failing with ErrStale", func() bool {
		_, err := st.Read()
		return isErr(err, ErrStale)
	})
	if n := strings.Count(logs.String(), warn); n != 1 {
		t.Errorf("%d warnings about the unreadable payload, want 1:\n%s", n, logs.String())
	}
	if v, err := st.Read(); !isErr(err, ErrStale) || strings.Join(v.Globs, ",") != "sshd" {
		t.Errorf("Read = %v, %v; want the last good value and ErrStale", v.Globs, err)
	}

	if _, err := other.SetACL(payload, zk.WorldACL(zk.PermAll), -1); err != nil {
		t.Fatalf("SetACL: %v", err)
	}
	const info = "reading the payload works again"
	line = logs.Expect(t, info, 10*time.Second)
	if !strings.Contains(line, "level=INFO") || !strings.Contains(line, "path="+payload) {
		t.Errorf("recovery logged as %q, want INFO with the path", line)
	}
	testutil.Eventually(t, 10*time.Second, "Read returning the new value", func() bool {
		v, err := st.Read()
		return err == nil && strings.Join(v.Globs, ",") == "nginx"
	})
	if n := strings.Count(logs.String(), info); n != 1 {
		t.Errorf("%d recovery lines, want 1:\n%s", n, logs.String())
	}
	if n := strings.Count(logs.String(), warn); n != 1 {
		t.Errorf("%d warnings about the unreadable payload after recovery, want 1", n)
	}
}
