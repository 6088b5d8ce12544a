package metrics

import (
	"strings"
	"sync"
	"testing"

	"github.com/prometheus/client_golang/prometheus/testutil"
)

// TestCollectorGroups: one procwatch_group_applies series per group that
// applies to the agent, following the agent's State from one scrape to
// the next, and the count of groups that could not be evaluated.
func TestCollectorGroups(t *testing.T) {
	root := copyProcTree(t)
	var (
		mu sync.Mutex
		st = State{Version: 1}
	)
	_, reg := newFixtureCollector(t, root, WithScrapeScanAge(0),
		WithState(func() State { mu.Lock(); defer mu.Unlock(); return st }))
	check := func(step, want string) {
		t.Helper()
		if err := testutil.GatherAndCompare(reg, strings.NewReader(want), "procwatch_group_applies", "procwatch_skipped_groups"); err != nil {
			t.Errorf("%s: %v", step, err)
		}
	}
	check("no groups", `
# HELP procwatch_skipped_groups Number of groups of the watch list that could not be evaluated (a host glob that does not compile) and so apply to no agent.
# TYPE procwatch_skipped_groups gauge
procwatch_skipped_groups 0
`)
	mu.Lock()
	st = State{Version: 2, Groups: []string{"db", "web"}, SkippedGroups: 1}
	mu.Unlock()
	check("two groups apply, one skipped", `
# HELP procwatch_group_applies 1 for each group of the watch list that applies to this agent (its globs are in force here).
# TYPE procwatch_group_applies gauge
procwatch_group_applies{group="db"} 1
procwatch_group_applies{group="web"} 1
# HELP procwatch_skipped_groups Number of groups of the watch list that could not be evaluated (a host glob that does not compile) and so apply to no agent.
# TYPE procwatch_skipped_groups gauge
procwatch_skipped_groups 1
`)
	mu.Lock()
	st = State{Version: 3, Groups: []string{"web"}}
	mu.Unlock()
	check("db no longer applies", `
# HELP procwatch_group_applies 1 for each group of the watch list that applies to this agent (its globs are in force here).
# TYPE procwatch_group_applies gauge
procwatch_group_applies{group="web"} 1
# HELP procwatch_skipped_groups Number of groups of the watch list that could not be evaluated (a host glob that does not compile) and so apply to no agent.
# TYPE procwatch_skipped_groups gauge
procwatch_skipped_groups 0
`)
}
