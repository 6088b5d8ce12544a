package agent_test

import (
	"fmt"
	"os/exec"
	"strings"
	"testing"
	"time"

	"github.com/procwatch/procwatch/internal/agent"
	"github.com/procwatch/procwatch/internal/agent/agenttest"
	"github.com/procwatch/procwatch/internal/monitor/proctest"
	"github.com/procwatch/procwatch/internal/testutil"
)

// bursts runs total processes of the executable at path, each sleeping
// for life, started per at a time by a shell that waits for each burst
// before the next: a parent of their own, as a real one would be, so that
// starting them costs the agent under test (in this process) nothing.
func bursts(t *testing.T, path string, total, per int, life string) {
	t.Helper()
	if total%per != 0 {
		t.Fatalf("%d processes in bursts of %d", total, per)
	}
	script := fmt.Sprintf(`i=0; while [ $i -lt %d ]; do j=0; while [ $j -lt %d ]; do "$0" %s & j=$((j+1)); done; wait; i=$((i+1)); done`,
		total/per, per, life)
	if out, err := exec.Command("sh", "-c", script, path).CombinedOutput(); err != nil {
		t.Fatalf("bursts of %s: %v %s", path, err, out)
	}
}

// scanCount is how many scans the agent has made.
func scanCount(t *testing.T, a *agenttest.Agent) float64 {
	t.Helper()
	mfs, _ := a.Scrape(t)
	mf := mfs["procwatch_scan_duration_seconds"]
	if mf == nil || len(mf.GetMetric()) == 0 {
		t.Fatal("no procwatch_scan_duration_seconds")
	}
	return float64(mf.GetMetric()[0].GetHistogram().GetSampleCount())
}

// afterScans waits until the agent has scanned twice more: a scan that
// began after now has folded in what it saw.
func afterScans(t *testing.T, a *agenttest.Agent) {
	t.Helper()
	from := scanCount(t, a)
	agenttestEventually(t, func() bool { return scanCount(t, a) >= from+2 })
}

func agenttestEventually(t *testing.T, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatal("the agent did not scan twice within 30 s")
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// TestLiveProcessEventsCountEveryStart: 1,000 processes of a matched
// name, each living 5 ms, started 20 at a time by a shell, raise
// procwatch_glob_process_starts_total and _exits_total by exactly 1,000
// with process events and exit records: a process reaped before the agent
// could read it is identified from its exit record, with scans every
// 100 ms beside them counting none twice; sampling alone, at the default
// scan interval, sees far fewer, and the test logs how many.
func TestLiveProcessEventsCountEveryStart(t *testing.T) {
	const total = 1000
	cluster := sharedCluster(t)
	name := fmt.Sprintf("pwburst%d", time.Now().UnixNano()%100000)
	path := proctest.Sleeper(t, name)
	glob := name + "*"

	t.Run("events", func(t *testing.T) {
		root := testRoot(t)
		operator(t, cluster.ConnectString(), root, glob)
		cfg := agentConfig(t, root)
		cfg.ProcessEvents = true
		cfg.ScanInterval = 100 * time.Millisecond
		a := startReady(t, cfg)
		a.Log.Expect(t, "following the kernel's process events", 10*time.Second)
		a.WaitMetrics(t, 10*time.Second,
			want{Name: "procwatch_process_events_enabled", Value: 1},
			want{Name: "procwatch_process_exit_stats_enabled", Value: 1},
			want{Name: "procwatch_glob_process_starts_total", Labels: []string{"glob=" + glob}, Value: 0})

		before, _ := a.Scrape(t)
		unknown0, _ := before.Value("procwatch_process_events_unidentified_total")
		start := time.Now()
		bursts(t, path, total, 20, "0.005")
		t.Logf("%d processes in %v", total, time.Since(start).Round(time.Millisecond))
		// Every start has its exit, and scans after the events count none
		// of them again.
		var starts, unknown float64
		testutil.EventuallySaying(t, 20*time.Second, "every start to have its exit", func() (bool, string) {
			mfs, _ := a.Scrape(t)
			starts, _ = mfs.Value("procwatch_glob_process_starts_total", "glob="+glob)
			exits, _ := mfs.Value("procwatch_glob_process_exits_total", "glob="+glob)
			u, _ := mfs.Value("procwatch_process_events_unidentified_total")
			unknown = u - unknown0
			return starts == exits && starts >= total, fmt.Sprintf("starts %g exits %g unidentified %g", starts, exits, unknown)
		})
		afterScans(t, a)
		mfs, _ := a.Scrape(t)
		for _, name := range []string{"procwatch_glob_process_starts_total", "procwatch_glob_process_exits_total"} {
			if v, _ := mfs.Value(name, "glob="+glob); v != starts {
				t.Errorf("%s = %g after two more scans, was %g: counted twice", name, v, starts)
			}
		}
		if starts > total {
			t.Errorf("%g starts of %d processes", starts, total)
		}
		if v, _ := mfs.Value("procwatch_process_events_lost_total"); v != 0 {
			t.Errorf("%g events lost", v)
		}
		// The processes the agent was too slow to read were identified
		// from their exit records; _unidentified_total counts the execs
		// on the host that no record could name (none of this test's).
		t.Logf("process events counted %g of %d starts and exits; %g execs on the host went unidentified", starts, total, unknown)
		if n := strings.Count(a.Log.String(), "process events"); n != 1 {
			t.Errorf("%d log lines about process events, want 1:\n%s", n, a.Log.String())
		}
	})

	t.Run("sampling", func(t *testing.T) {
		root := testRoot(t)
		operator(t, cluster.ConnectString(), root, glob)
		cfg := agentConfig(t, root)
		cfg.ScanInterval = agent.DefaultScanInterval
		a := startReady(t, cfg)
		a.Log.Expect(t, "process events off", 10*time.Second)
		a.WaitMetrics(t, 10*time.Second, want{Name: "procwatch_process_events_enabled", Value: 0})

		bursts(t, path, total, 20, "0.005")
		afterScans(t, a)
		mfs, _ := a.Scrape(t)
		starts, _ := mfs.Value("procwatch_glob_process_starts_total", "glob="+glob)
		exits, _ := mfs.Value("procwatch_glob_process_exits_total", "glob="+glob)
		t.Logf("sampling every %v (and at each scrape older than 1 s) saw %g of %d starts and %g exits", cfg.ScanInterval, starts, total, exits)
		if starts >= total {
			t.Errorf("sampling saw %g starts of %d short processes: the test does not show what events add", starts, total)
		}
		if n := strings.Count(a.Log.String(), "process events"); n != 1 {
			t.Errorf("%d log lines about process events, want 1:\n%s", n, a.Log.String())
		}
	})
}

// TestLiveProcessEventsCrashLoop: a process that crashes 150 ms after it
// starts and is restarted 50 ms later, for 5 s, as a supervisor restarts a
// crash-looping daemon, shows 25 starts and 25 exits with process events.
// These figures feed the ProcwatchRestarting unit test in
// deploy/prometheus/procwatch-alerts_test.yml.
func TestLiveProcessEventsCrashLoop(t *testing.T) {
	const (
		period   = 200 * time.Millisecond
		lifetime = "0.15"
		restarts = 25 // 5 s / 200 ms
	)
	cluster := sharedCluster(t)
	name := fmt.Sprintf("pwcrash%d", time.Now().UnixNano()%100000)
	path := proctest.Sleeper(t, name)
	root := testRoot(t)
	operator(t, cluster.ConnectString(), root, name)
	cfg := agentConfig(t, root)
	cfg.ProcessEvents = true
	cfg.ScanInterval = agent.DefaultScanInterval
	a := startReady(t, cfg)
	a.WaitMetrics(t, 10*time.Second,
		want{Name: "procwatch_process_events_enabled", Value: 1},
		want{Name: "procwatch_glob_process_starts_total", Labels: []string{"glob=" + name}, Value: 0})

	tick := time.NewTicker(period)
	defer tick.Stop()
	start := time.Now()
	for i := range restarts {
		if i > 0 {
			<-tick.C
		}
		if out, err := exec.Command(path, lifetime).CombinedOutput(); err != nil {
			t.Fatalf("%s %s: %v %s", path, lifetime, err, out)
		}
	}
	t.Logf("%d crashes in %v", restarts, time.Since(start).Round(time.Millisecond))
	a.WaitMetrics(t, 10*time.Second,
		want{Name: "procwatch_glob_process_starts_total", Labels: []string{"glob=" + name}, Value: restarts},
		want{Name: "procwatch_glob_process_exits_total", Labels: []string{"glob=" + name}, Value: restarts})
	afterScans(t, a)
	a.WaitMetrics(t, time.Second,
		want{Name: "procwatch_glob_process_starts_total", Labels: []string{"glob=" + name}, Value: restarts},
		want{Name: "procwatch_glob_process_exits_total", Labels: []string{"glob=" + name}, Value: restarts})
}
