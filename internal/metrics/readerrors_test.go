package metrics

import (
	"strings"
	"testing"

	"github.com/prometheus/client_golang/prometheus/testutil"
)

// TestCollectorReadErrors exports the payload reads the agent's Store saw
// refused as a counter, so an ACL that hides the list from an agent shows
// on a dashboard and not only in its log.
func TestCollectorReadErrors(t *testing.T) {
	root := copyProcTree(t)
	_, reg := newFixtureCollector(t, root, WithScrapeScanAge(0),
		WithState(func() State { return State{Version: 3, ReadErrors: 4} }))
	want := `# HELP procwatch_state_read_errors_total Failed reads of the payload not explained by the connection (for example an ACL denying READ); while they last the list in force goes stale.
# TYPE procwatch_state_read_errors_total counter
procwatch_state_read_errors_total 4
`
	if err := testutil.GatherAndCompare(reg, strings.NewReader(want), "procwatch_state_read_errors_total"); err != nil {
		t.Error(err)
	}
}
