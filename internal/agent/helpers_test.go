package agent_test

import (
	"context"
	"fmt"
	"net/http"
	"sort"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/procwatch/procwatch/internal/agent"
	"github.com/procwatch/procwatch/internal/agent/agenttest"
	"github.com/procwatch/procwatch/internal/monitor/proctest"
	"github.com/procwatch/procwatch/internal/watchlist"
	"github.com/procwatch/procwatch/internal/zkstate"
)

// agentConfig is the configuration most tests run the agent with: the
// shared server, the test's root, a 4 s session and the host's /proc.
func agentConfig(t *testing.T, root string) agent.Config {
	return agent.Config{
		Servers:        []string{sharedCluster(t).ConnectString()},
		Path:           root,
		SessionTimeout: 4 * time.Second,
		ProcfsRoot:     "/proc",
	}
}

// startReady starts the agent and waits until it is ready: it has a list.
func startReady(t *testing.T, cfg agent.Config) *agenttest.Agent {
	t.Helper()
	a := agenttest.Start(t, cfg)
	a.WaitStatus(t, "/readyz", http.StatusOK, 20*time.Second)
	return a
}

// want is one expected sample of a scrape.
type want = agenttest.Want

var roots atomic.Int64

// testRoot returns a root no other test (or earlier run of this test, with
// -count, against the shared server) has used.
func testRoot(t *testing.T) string {
	name := strings.Map(func(r rune) rune {
		if r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' {
			return r
		}
		return '-'
	}, t.Name())
	return fmt.Sprintf("/%s-%d", name, roots.Add(1))
}

// operator opens the watch list as procctl does, creating it with globs.
func operator(t *testing.T, servers, root string, globs ...string) *zkstate.Store[watchlist.Document] {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 15*time.Second)
	defer cancel()
	sess, err := zkstate.Connect(ctx, strings.Split(servers, ","))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(sess.Close)
	if globs == nil {
		globs = []string{}
	}
	st, err := zkstate.OpenOrCreate[watchlist.Document](ctx, sess, root,
		watchlist.Document{Globs: globs}, zkstate.WithoutMembership())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = st.Close() })
	return st
}

// setGlobs replaces the list through zkstate and returns the new version.
func setGlobs(t *testing.T, st *zkstate.Store[watchlist.Document], globs ...string) int32 {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 15*time.Second)
	defer cancel()
	v, err := st.Update(ctx, func(w *watchlist.Document) error {
		w.Globs = append([]string{}, globs...)
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return v
}

// members lists the ids of the live procwatch instances.
func members(t *testing.T, st *zkstate.Store[watchlist.Document]) []string {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	ms, err := st.Members(ctx)
	if err != nil {
		t.Fatal(err)
	}
	var ids []string
	for _, m := range ms {
		if m.Program == "procwatch" {
			ids = append(ids, m.ID)
		}
	}
	sort.Strings(ids)
	return ids
}

// waitMembers waits until the listeners registry holds n procwatch agents.
func waitMembers(t *testing.T, st *zkstate.Store[watchlist.Document], n int, timeout time.Duration) []string {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), timeout)
	defer cancel()
	var last []zkstate.Member
	for ms := range st.WatchMembers(ctx) {
		last = ms
		var ids []string
		for _, m := range ms {
			if m.Program == "procwatch" {
				ids = append(ids, m.ID)
			}
		}
		if len(ids) == n {
			return ids
		}
	}
	t.Fatalf("listeners: want %d procwatch members within %s, last saw %+v", n, timeout, last)
	return nil
}

// sleepers starts n processes of a copy of sleep named name, so that the
// test's globs match them and nothing else on the host; kill ends them
// sooner than the test's end.
func sleepers(t *testing.T, name string, n int) (kill func()) {
	t.Helper()
	_, kill = proctest.Start(t, proctest.Sleeper(t, name), n)
	return kill
}
