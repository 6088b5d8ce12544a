package zkstate

import (
	"testing"
	"time"

	"github.com/procwatch/procwatch/internal/testutil"
	"github.com/procwatch/procwatch/internal/zktest"
)

// TestDeletedListenerNodeComesBack: a listener node deleted by someone else
// while the session lives is re-created at once, and so is listeners/ when
// the whole tree was removed and the payload made again, so the instance is
// not missing from the registry until its next session loss.
func TestDeletedListenerNodeComesBack(t *testing.T) {
	zks := startZK(t)
	raw := zktest.Connect(t, zks.ConnectString(), 5*time.Second)
	st := createStore[config](t, newSession(t, zks.ConnectString()), testRoot, config{},
		WithMemberID("agent-a"), WithVerifyInterval(time.Hour))
	node := testRoot + "/listeners/agent-a"
	back := func(what string) {
		t.Helper()
		testutil.Eventually(t, 5*time.Second, what, func() bool {
			ok, _, err := raw.Exists(node)
			return err == nil && ok
		})
	}
	if err := raw.Delete(node, -1); err != nil {
		t.Fatal(err)
	}
	back("the deleted listener node to be re-created (by its watch: the verify interval is an hour)")
	// The node is there a moment before the counter moves.
	testutil.Eventually(t, 5*time.Second, "Reregistrations to reach 1", func() bool { return st.Stats().Reregistrations >= 1 })
	if got := st.Stats().Reregistrations; got != 1 {
		t.Errorf("Reregistrations = %d, want 1", got)
	}

	for _, p := range []string{node, testRoot + "/listeners"} {
		if err := raw.Delete(p, -1); err != nil {
			t.Fatalf("delete %s: %v", p, err)
		}
	}
	back("the listener node and listeners/ to be re-created")
}
