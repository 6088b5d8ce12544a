package metrics

import (
	"context"
	"fmt"
	"os"
	"runtime"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/testutil"
	dto "github.com/prometheus/client_model/go"

	"github.com/procwatch/procwatch/internal/monitor"
	"github.com/procwatch/procwatch/internal/monitor/proctest"
)

// globMetrics are the per-glob series and the scan summary, compared
// exactly; the histogram is checked apart, its durations being real.
var globMetrics = []string{
	"procwatch_glob_processes", "procwatch_glob_threads", "procwatch_glob_cpu_seconds_total",
	"procwatch_glob_resident_memory_bytes", "procwatch_glob_virtual_memory_bytes",
	"procwatch_glob_open_fds", "procwatch_glob_read_bytes_total", "procwatch_glob_write_bytes_total",
	"procwatch_glob_oldest_start_time_seconds", "procwatch_glob_process_starts_total",
	"procwatch_glob_process_exits_total", "procwatch_globs", "procwatch_invalid_globs",
	"procwatch_glob_errors_total", "procwatch_processes_scanned", "procwatch_scan_failures_total",
}

// newFixtureCollector returns the Monitor a test drives, as the agent
// does, and a registry holding a Collector observing it.
func newFixtureCollector(t *testing.T, root string, opts ...Option) (*monitor.Monitor, *prometheus.Registry) {
	t.Helper()
	src, err := monitor.NewLinuxSource(root)
	if err != nil {
		t.Fatal(err)
	}
	mon := monitor.New(src)
	reg := prometheus.NewRegistry()
	reg.MustRegister(New(mon, opts...))
	return mon, reg
}

// globHeader is the HELP and TYPE lines of the per-glob series, in the order
// the text format sorts families.
const globHeader = `# HELP procwatch_glob_cpu_seconds_total CPU time spent by processes that matched the glob, including exited ones.
# TYPE procwatch_glob_cpu_seconds_total counter
# HELP procwatch_glob_errors_total Invalid globs met in the watch list, each counted once when it enters the list in force.
# TYPE procwatch_glob_errors_total counter
# HELP procwatch_glob_oldest_start_time_seconds Start time of the oldest process matching the glob, in seconds since the Unix epoch.
# TYPE procwatch_glob_oldest_start_time_seconds gauge
# HELP procwatch_glob_open_fds Open file descriptors of the processes matching the glob.
# TYPE procwatch_glob_open_fds gauge
# HELP procwatch_glob_process_exits_total Processes that stopped matching the glob (exited or exec'd into something else).
# TYPE procwatch_glob_process_exits_total counter
# HELP procwatch_glob_process_starts_total Processes that began matching the glob after it was configured.
# TYPE procwatch_glob_process_starts_total counter
# HELP procwatch_glob_processes Number of processes matching the glob.
# TYPE procwatch_glob_processes gauge
# HELP procwatch_glob_read_bytes_total Bytes read from storage by processes that matched the glob, including exited ones.
# TYPE procwatch_glob_read_bytes_total counter
# HELP procwatch_glob_resident_memory_bytes Resident memory of the processes matching the glob.
# TYPE procwatch_glob_resident_memory_bytes gauge
# HELP procwatch_glob_threads Number of threads of the processes matching the glob.
# TYPE procwatch_glob_threads gauge
# HELP procwatch_glob_virtual_memory_bytes Virtual memory of the processes matching the glob.
# TYPE procwatch_glob_virtual_memory_bytes gauge
# HELP procwatch_glob_write_bytes_total Bytes written to storage by processes that matched the glob, including exited ones.
# TYPE procwatch_glob_write_bytes_total counter
# HELP procwatch_globs Number of valid globs in force.
# TYPE procwatch_globs gauge
# HELP procwatch_invalid_globs Number of globs of the list in force skipped because they are invalid.
# TYPE procwatch_invalid_globs gauge
# HELP procwatch_processes_scanned Number of processes looked at by the latest scan.
# TYPE procwatch_processes_scanned gauge
# HELP procwatch_scan_failures_total Scans that failed as a whole because the process table could not be listed.
# TYPE procwatch_scan_failures_total counter
`

// expo builds expected exposition text family by family, so a test lists
// only the samples it cares about and the families still come out whole.
type expo map[string][]string

func (e expo) add(family, format string, args ...any) {
	e[family] = append(e[family], fmt.Sprintf(format, args...))
}

// String renders the families in sorted order, each under its HELP and TYPE
// lines taken from globHeader and stateHeader.
func (e expo) String() string {
	headers := map[string]string{}
	for _, line := range strings.Split(globHeader+stateHeader, "\n") {
		if f := strings.Fields(line); len(f) > 2 {
			headers[f[2]] += line + "\n"
		}
	}
	names := make([]string, 0, len(e))
	for n := range e {
		names = append(names, n)
	}
	slices.Sort(names)
	var b strings.Builder
	for _, n := range names {
		b.WriteString(headers[n])
		for _, l := range e[n] {
			b.WriteString(l + "\n")
		}
	}
	return b.String()
}

// glob is the expected state of one glob.
type glob struct {
	name             string
	procs, threads   int
	user, system     string // as the text format prints them
	rssPages, vsize  uint64
	fds, read, write uint64
	oldest           string // "" while the glob matches nothing
	starts, exits    uint64
}

func (e expo) addGlob(g glob) {
	l := fmt.Sprintf("{glob=%q}", g.name)
	e.add("procwatch_glob_processes", "procwatch_glob_processes%s %d", l, g.procs)
	e.add("procwatch_glob_threads", "procwatch_glob_threads%s %d", l, g.threads)
	e.add("procwatch_glob_cpu_seconds_total", "procwatch_glob_cpu_seconds_total{glob=%q,mode=\"system\"} %s", g.name, g.system)
	e.add("procwatch_glob_cpu_seconds_total", "procwatch_glob_cpu_seconds_total{glob=%q,mode=\"user\"} %s", g.name, g.user)
	e.add("procwatch_glob_resident_memory_bytes", "procwatch_glob_resident_memory_bytes%s %d", l, g.rssPages*uint64(os.Getpagesize()))
	e.add("procwatch_glob_virtual_memory_bytes", "procwatch_glob_virtual_memory_bytes%s %d", l, g.vsize)
	e.add("procwatch_glob_open_fds", "procwatch_glob_open_fds%s %d", l, g.fds)
	e.add("procwatch_glob_read_bytes_total", "procwatch_glob_read_bytes_total%s %d", l, g.read)
	e.add("procwatch_glob_write_bytes_total", "procwatch_glob_write_bytes_total%s %d", l, g.write)
	if g.oldest != "" {
		e.add("procwatch_glob_oldest_start_time_seconds", "procwatch_glob_oldest_start_time_seconds%s %s", l, g.oldest)
	}
	e.add("procwatch_glob_process_starts_total", "procwatch_glob_process_starts_total%s %d", l, g.starts)
	e.add("procwatch_glob_process_exits_total", "procwatch_glob_process_exits_total%s %d", l, g.exits)
}

func (e expo) addSummary(globs, invalid, globErrors, scanned int) {
	e.add("procwatch_globs", "procwatch_globs %d", globs)
	e.add("procwatch_invalid_globs", "procwatch_invalid_globs %d", invalid)
	e.add("procwatch_glob_errors_total", "procwatch_glob_errors_total %d", globErrors)
	e.add("procwatch_processes_scanned", "procwatch_processes_scanned %d", scanned)
	e.add("procwatch_scan_failures_total", "procwatch_scan_failures_total 0")
}

const stateHeader = `# HELP procwatch_state_version ZooKeeper version of the watch list in force; -1 before any was loaded.
# TYPE procwatch_state_version gauge
# HELP procwatch_state_stale 1 when the watch list in force was not verified against ZooKeeper within the staleness bound (including while running from the cache file).
# TYPE procwatch_state_stale gauge
# HELP procwatch_state_age_seconds Seconds since the watch list in force was last verified against ZooKeeper.
# TYPE procwatch_state_age_seconds gauge
# HELP procwatch_state_changes_total Changes to the watch list received from ZooKeeper, by kind.
# TYPE procwatch_state_changes_total counter
# HELP procwatch_state_invalid_payloads_total Distinct payload versions rejected as invalid; the last good list stays in force.
# TYPE procwatch_state_invalid_payloads_total counter
# HELP procwatch_state_invalid 1 while the payload in ZooKeeper is invalid and the last good list stays in force.
# TYPE procwatch_state_invalid gauge
# HELP procwatch_zookeeper_connected 1 while the agent holds a ZooKeeper session.
# TYPE procwatch_zookeeper_connected gauge
# HELP procwatch_zookeeper_session_expirations_total ZooKeeper sessions lost, by expiry or a disconnect longer than the session timeout.
# TYPE procwatch_zookeeper_session_expirations_total counter
# HELP procwatch_build_info A metric with a constant '1' value labeled by version, revision and goversion of procwatch.
# TYPE procwatch_build_info gauge
`

// The fixture's processes (see internal/monitor/fixture_linux_test.go):
// kube-controller-manager (pid 100) has the comm "kube-controller", cut to
// 15 bytes by the kernel; "sleep" matches pid 400 (/usr/bin/sleep) and pid
// 500 (a busybox applet); nothing matches "nothing-here*"; "[" is invalid.
var fixtureGlobs = []string{"kube-controller-manager*", "sleep", "nothing-here*", "["}

var kubeGlob = glob{
	name: "kube-controller-manager*", procs: 1, threads: 12, user: "50", system: "12",
	rssPages: 50_000, vsize: 800_000_000, fds: 5, read: 4096, write: 81920,
	oldest: "1.70000001e+09", // boot 1700000000 + 1000 ticks
}

var nothingGlob = glob{name: "nothing-here*", user: "0", system: "0"}

// TestCollectorAcrossExit follows the fixture through three scans: the
// globs are set, pid 400 burns CPU, then pid 400 exits while a new sleep
// (pid 700) starts. The counters keep what pid 400 spent.
func TestCollectorAcrossExit(t *testing.T) {
	root := copyProcTree(t)
	// CPU values that are exact in binary, so that sums compare exactly.
	setStatCPU(t, root, 400, 25, 50)
	mon, reg := newFixtureCollector(t, root, WithScrapeScanAge(0))
	ctx := context.Background()
	scan := func() {
		t.Helper()
		if _, err := mon.Scan(ctx); err != nil {
			t.Fatal(err)
		}
	}
	// Only the sleep glob changes from scan to scan; scanned is the
	// summary's process count.
	expect := func(what string, sleep glob, scanned int) {
		t.Helper()
		want := expo{}
		want.addGlob(kubeGlob)
		want.addGlob(sleep)
		want.addGlob(nothingGlob)
		want.addSummary(3, 1, 1, scanned)
		compare(t, what, reg, want)
	}

	if _, err := mon.SetGlobs(ctx, fixtureGlobs); err != nil {
		t.Fatal(err)
	}
	expect("after SetGlobs", glob{
		name: "sleep", procs: 2, threads: 2, user: "0.25", system: "0.5",
		rssPages: 300, vsize: 9_500_000, fds: 6, read: 8192,
		oldest: "1.70000005e+09", // pid 400, 5000 ticks after boot
	}, 9)

	setStatCPU(t, root, 400, 75, 150)
	scan()
	expect("after pid 400 spent CPU", glob{
		name: "sleep", procs: 2, threads: 2, user: "0.75", system: "1.5",
		rssPages: 300, vsize: 9_500_000, fds: 6, read: 8192,
		oldest: "1.70000005e+09",
	}, 9)

	proctest.RemoveProc(t, root, 400)
	startProc(t, root, 500, 700, 8000)
	scan()
	expect("after pid 400 exited and pid 700 started", glob{
		// pid 400's CPU and I/O stay in the counters; it counts as an exit
		// and pid 700 as a start; the oldest is now pid 500.
		name: "sleep", procs: 2, threads: 2, user: "0.75", system: "1.5",
		rssPages: 200, vsize: 3_000_000, fds: 6, read: 8192,
		oldest: "1.70000006e+09", starts: 1, exits: 1,
	}, 9)

	proctest.RemoveProc(t, root, 500)
	proctest.RemoveProc(t, root, 700)
	scan()
	expect("after every sleep exited", glob{
		// Nothing matches any more: processes 0, no oldest start, and the
		// counters still hold what every sleep spent.
		name: "sleep", user: "0.75", system: "1.5", read: 8192, starts: 1, exits: 3,
	}, 7)

	if got := histogramCount(t, reg); got != 4 {
		t.Errorf("procwatch_scan_duration_seconds count = %d, want 4 (one per scan)", got)
	}
}

func compare(t *testing.T, step string, reg prometheus.Gatherer, want expo) {
	t.Helper()
	if err := testutil.GatherAndCompare(reg, strings.NewReader(want.String()), globMetrics...); err != nil {
		t.Errorf("%s: %v", step, err)
	}
}

func histogramCount(t *testing.T, g prometheus.Gatherer) uint64 {
	t.Helper()
	mfs, err := g.Gather()
	if err != nil {
		t.Fatal(err)
	}
	for _, mf := range mfs {
		if mf.GetName() == "procwatch_scan_duration_seconds" {
			if mf.GetType() != dto.MetricType_HISTOGRAM {
				t.Fatalf("procwatch_scan_duration_seconds is a %v, want a histogram", mf.GetType())
			}
			return mf.GetMetric()[0].GetHistogram().GetSampleCount()
		}
	}
	t.Fatal("procwatch_scan_duration_seconds missing")
	return 0
}

// TestCollectorGlobChanges: a list change keeps the counters of globs that
// stay, drops the series of a removed glob, adds a new glob at zero, and
// counts each invalid glob once, when it enters the list.
func TestCollectorGlobChanges(t *testing.T) {
	root := copyProcTree(t)
	mon, reg := newFixtureCollector(t, root, WithScrapeScanAge(0))
	ctx := context.Background()
	if _, err := mon.SetGlobs(ctx, []string{"nginx", "{a,b"}); err != nil {
		t.Fatal(err)
	}
	// The same list again (as when the cache's list is confirmed by
	// ZooKeeper) counts no new error.
	if _, err := mon.SetGlobs(ctx, []string{"nginx", "{a,b"}); err != nil {
		t.Fatal(err)
	}
	startProc(t, root, 201, 202, 9000)
	if _, err := mon.SetGlobs(ctx, []string{"nginx", "{a,b", "[", "", "nothing-here*"}); err != nil {
		t.Fatal(err)
	}
	want := expo{}
	want.addGlob(glob{
		// pid 202 started while nginx was configured: a start.
		name: "nginx", procs: 3, threads: 3, user: "6.2", system: "2.1",
		rssPages: 5000, vsize: 152_000_000, fds: 22, read: 20, write: 40,
		oldest: "1.70000002e+09", starts: 1,
	})
	want.addGlob(nothingGlob)
	want.addSummary(2, 3, 3, 10)
	compare(t, "after the list grew", reg, want)

	if _, err := mon.SetGlobs(ctx, []string{"nothing-here*"}); err != nil {
		t.Fatal(err)
	}
	want = expo{}
	want.addGlob(nothingGlob)
	want.addSummary(1, 0, 3, 10)
	compare(t, "after nginx and the invalid globs were removed", reg, want)
}

// TestCollectorState exports what the state func reports, and the changes
// counted from events.
func TestCollectorState(t *testing.T) {
	root := copyProcTree(t)
	var (
		mu sync.Mutex
		st = State{Version: -1, Stale: true}
	)
	_, reg := newFixtureCollector(t, root, WithScrapeScanAge(0), WithBuildInfo("v1.2.3", "abc123"),
		WithState(func() State { mu.Lock(); defer mu.Unlock(); return st }))
	stateNames := []string{
		"procwatch_state_version", "procwatch_state_stale", "procwatch_state_age_seconds",
		"procwatch_state_changes_total", "procwatch_state_invalid_payloads_total", "procwatch_state_invalid",
		"procwatch_zookeeper_connected", "procwatch_zookeeper_session_expirations_total",
		"procwatch_build_info",
	}
	want := func(version int32, stale int, age string, added, modified, removed, invalid, held, connected, expirations int) expo {
		e := expo{}
		e.add("procwatch_state_version", "procwatch_state_version %d", version)
		e.add("procwatch_state_stale", "procwatch_state_stale %d", stale)
		if age != "" {
			e.add("procwatch_state_age_seconds", "procwatch_state_age_seconds %s", age)
		}
		e.add("procwatch_state_changes_total", `procwatch_state_changes_total{kind="added"} %d`, added)
		e.add("procwatch_state_changes_total", `procwatch_state_changes_total{kind="modified"} %d`, modified)
		e.add("procwatch_state_changes_total", `procwatch_state_changes_total{kind="removed"} %d`, removed)
		e.add("procwatch_state_invalid_payloads_total", "procwatch_state_invalid_payloads_total %d", invalid)
		e.add("procwatch_state_invalid", "procwatch_state_invalid %d", held)
		e.add("procwatch_zookeeper_connected", "procwatch_zookeeper_connected %d", connected)
		e.add("procwatch_zookeeper_session_expirations_total", "procwatch_zookeeper_session_expirations_total %d", expirations)
		e.add("procwatch_build_info", `procwatch_build_info{goversion=%q,revision="abc123",version="v1.2.3"} 1`, runtime.Version())
		return e
	}
	check := func(step string, e expo) {
		t.Helper()
		if err := testutil.GatherAndCompare(reg, strings.NewReader(e.String()), stateNames...); err != nil {
			t.Errorf("%s: %v", step, err)
		}
	}
	check("before any list", want(-1, 1, "", 0, 0, 0, 0, 0, 0, 0))

	mu.Lock()
	st = State{Version: 7, Age: 1500 * time.Millisecond, Verified: true, Connected: true, SessionExpirations: 2, InvalidPayloads: 1, Invalid: true,
		Changes: Changes{Added: 2, Modified: 1, Removed: 1}}
	mu.Unlock()
	check("connected", want(7, 0, "1.5", 2, 1, 1, 1, 1, 1, 2))
}

// TestScrapeScans: a scrape scans only when the latest scan is older than
// the scrape scan age, and concurrent scrapes share that scan.
func TestScrapeScans(t *testing.T) {
	root := copyProcTree(t)
	ctx := context.Background()

	t.Run("fresh result reused", func(t *testing.T) {
		mon, reg := newFixtureCollector(t, root, WithScrapeScanAge(time.Hour))
		if _, err := mon.SetGlobs(ctx, []string{"sleep"}); err != nil {
			t.Fatal(err)
		}
		var wg sync.WaitGroup
		for range 8 {
			wg.Go(func() {
				if _, err := reg.Gather(); err != nil {
					t.Error(err)
				}
			})
		}
		wg.Wait()
		if got := histogramCount(t, reg); got != 1 {
			t.Errorf("scans = %d after 8 scrapes of a fresh result, want 1 (the SetGlobs scan)", got)
		}
	})

	t.Run("old result rescanned", func(t *testing.T) {
		dir := copyProcTree(t)
		mon, reg := newFixtureCollector(t, dir, WithScrapeScanAge(time.Nanosecond))
		if _, err := mon.SetGlobs(ctx, []string{"sleep"}); err != nil {
			t.Fatal(err)
		}
		startProc(t, dir, 500, 700, 8000)
		// No Scan call: the scrape itself must see pid 700.
		e := expo{}
		e.add("procwatch_glob_processes", `procwatch_glob_processes{glob="sleep"} 3`)
		if err := testutil.GatherAndCompare(reg, strings.NewReader(e.String()), "procwatch_glob_processes"); err != nil {
			t.Error(err)
		}
	})

	t.Run("no scan yet", func(t *testing.T) {
		_, reg := newFixtureCollector(t, root)
		e := expo{}
		e.addSummary(0, 0, 0, 9)
		if err := testutil.GatherAndCompare(reg, strings.NewReader(e.String()), globMetrics...); err != nil {
			t.Error(err)
		}
	})
}

// TestScanFailure: a procfs root that cannot be listed counts a failure and
// keeps the last good result.
func TestScanFailure(t *testing.T) {
	root := copyProcTree(t)
	mon, reg := newFixtureCollector(t, root, WithScrapeScanAge(0))
	ctx := context.Background()
	if _, err := mon.SetGlobs(ctx, []string{"sleep"}); err != nil {
		t.Fatal(err)
	}
	if err := os.RemoveAll(root); err != nil {
		t.Fatal(err)
	}
	if _, err := mon.Scan(ctx); err == nil {
		t.Fatal("Scan of a removed procfs root succeeded")
	}
	e := expo{}
	e.add("procwatch_glob_processes", `procwatch_glob_processes{glob="sleep"} 2`)
	e.add("procwatch_scan_failures_total", "procwatch_scan_failures_total 1")
	if err := testutil.GatherAndCompare(reg, strings.NewReader(e.String()),
		"procwatch_glob_processes", "procwatch_scan_failures_total"); err != nil {
		t.Error(err)
	}
}

// TestLint runs client_golang's promlint over everything the registry of
// the agent exports.
func TestLint(t *testing.T) {
	root := copyProcTree(t)
	src, err := monitor.NewLinuxSource(root)
	if err != nil {
		t.Fatal(err)
	}
	mon := monitor.New(src)
	c := New(mon, WithState(func() State { return State{Version: 3, Verified: true} }))
	if _, err := mon.SetGlobs(context.Background(), fixtureGlobs); err != nil {
		t.Fatal(err)
	}
	reg, err := NewRegistry(c)
	if err != nil {
		t.Fatal(err)
	}
	problems, err := testutil.GatherAndLint(reg)
	if err != nil {
		t.Fatal(err)
	}
	for _, p := range problems {
		t.Errorf("lint: %s: %s", p.Metric, p.Text)
	}
}

// panickySource is a Source with a bug.
type panickySource struct{}

func (panickySource) Scan(context.Context, *monitor.Matcher) (monitor.Snapshot, error) {
	panic("bad /proc entry")
}

// TestScanPanicIsAFailure: a panic while scanning becomes a failed scan,
// counted, instead of a crash of the agent.
func TestScanPanicIsAFailure(t *testing.T) {
	mon := monitor.New(panickySource{})
	reg := prometheus.NewRegistry()
	reg.MustRegister(New(mon, WithScrapeScanAge(time.Nanosecond)))
	if _, err := mon.SetGlobs(context.Background(), []string{"sshd", "["}); err == nil || !strings.Contains(err.Error(), "bad /proc entry") {
		t.Errorf("SetGlobs err = %v, want the panic as an error", err)
	}
	if _, err := mon.Scan(context.Background()); err == nil {
		t.Error("Scan of a panicking source succeeded")
	}
	e := expo{}
	// Two scans by hand and one at scrape time.
	e.add("procwatch_scan_failures_total", "procwatch_scan_failures_total 3")
	e.add("procwatch_glob_errors_total", "procwatch_glob_errors_total 1")
	if err := testutil.GatherAndCompare(reg, strings.NewReader(e.String()), "procwatch_scan_failures_total", "procwatch_glob_errors_total"); err != nil {
		t.Error(err)
	}
}
