package metrics

import (
	"strings"
	"sync"
	"testing"

	"github.com/prometheus/client_golang/prometheus/testutil"
)

// TestCollectorProcessEvents: without process events the gauge says 0 and
// nothing is lost; with them it says 1 and the losses follow the agent's
// count from one scrape to the next.
func TestCollectorProcessEvents(t *testing.T) {
	const help = `# HELP procwatch_process_events_enabled 1 while the agent follows the kernel's process events (exact starts and exits), 0 when it only samples /proc; the agent logs why at start.
# TYPE procwatch_process_events_enabled gauge
procwatch_process_events_enabled %s
# HELP procwatch_process_events_lost_total Process events lost: those the agent's queue had no room for, plus one for each time the kernel reported dropping some (ENOBUFS, number unknown). Each loss forces a full scan; starts and exits of processes that lived only in the gap are missed.
# TYPE procwatch_process_events_lost_total counter
procwatch_process_events_lost_total %s
`
	names := []string{"procwatch_process_events_enabled", "procwatch_process_events_lost_total"}
	want := func(enabled, lost string) string {
		return strings.Replace(strings.Replace(help, "%s", enabled, 1), "%s", lost, 1)
	}
	root := copyProcTree(t)
	_, off := newFixtureCollector(t, root, WithScrapeScanAge(0))
	if err := testutil.GatherAndCompare(off, strings.NewReader(want("0", "0")), names...); err != nil {
		t.Errorf("without events: %v", err)
	}
	var (
		mu sync.Mutex
		ev = ProcessEvents{Enabled: true}
	)
	_, on := newFixtureCollector(t, root, WithScrapeScanAge(0),
		WithProcessEvents(func() ProcessEvents { mu.Lock(); defer mu.Unlock(); return ev }))
	if err := testutil.GatherAndCompare(on, strings.NewReader(want("1", "0")), names...); err != nil {
		t.Errorf("with events: %v", err)
	}
	mu.Lock()
	ev.Lost = 42
	mu.Unlock()
	if err := testutil.GatherAndCompare(on, strings.NewReader(want("1", "42")), names...); err != nil {
		t.Errorf("after losses: %v", err)
	}
}
