package metrics

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"runtime"
	"runtime/debug"
	"sync"
	"sync/atomic"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/procwatch/procwatch/internal/monitor"
	"github.com/procwatch/procwatch/internal/pattern"
	"github.com/procwatch/procwatch/internal/zkstate"
)

const namespace = "procwatch"

// DefaultScrapeScanAge is how old the latest scan may be before a scrape
// scans again. One second keeps scrape-time numbers fresh while capping the
// work any number of scrapers can cause at one scan per second.
const DefaultScrapeScanAge = time.Second

// scrapeScanTimeout bounds a scan run by a scrape; Collect has no context,
// and a scrape should fail fast rather than pile up behind a stuck /proc.
const scrapeScanTimeout = 10 * time.Second

// scanBuckets cover a scan from a small container (well under a
// millisecond) to a busy host with tens of thousands of processes.
var scanBuckets = []float64{.0005, .001, .0025, .005, .01, .025, .05, .1, .25, .5, 1, 2.5}

func desc(name, help string, labels ...string) *prometheus.Desc {
	return prometheus.NewDesc(prometheus.BuildFQName(namespace, "", name), help, labels, nil)
}

var (
	globProcesses = desc("glob_processes", "Number of processes matching the glob.", "glob")
	globThreads   = desc("glob_threads", "Number of threads of the processes matching the glob.", "glob")
	globCPU       = desc("glob_cpu_seconds_total", "CPU time spent by processes that matched the glob, including exited ones.", "glob", "mode")
	globRSS       = desc("glob_resident_memory_bytes", "Resident memory of the processes matching the glob.", "glob")
	globVSize     = desc("glob_virtual_memory_bytes", "Virtual memory of the processes matching the glob.", "glob")
	globFDs       = desc("glob_open_fds", "Open file descriptors of the processes matching the glob.", "glob")
	globRead      = desc("glob_read_bytes_total", "Bytes read from storage by processes that matched the glob, including exited ones.", "glob")
	globWrite     = desc("glob_write_bytes_total", "Bytes written to storage by processes that matched the glob, including exited ones.", "glob")
	globOldest    = desc("glob_oldest_start_time_seconds", "Start time of the oldest process matching the glob, in seconds since the Unix epoch.", "glob")
	globStarts    = desc("glob_process_starts_total", "Processes that began matching the glob after it was configured.", "glob")
	globExits     = desc("glob_process_exits_total", "Processes that stopped matching the glob (exited or exec'd into something else).", "glob")

	globsInForce  = desc("globs", "Number of valid globs in force.")
	invalidGlobs  = desc("invalid_globs", "Number of globs of the list in force skipped because they are invalid.")
	globErrors    = desc("glob_errors_total", "Invalid globs met in the watch list, each counted once when it enters the list in force.")
	stateVersion  = desc("state_version", "ZooKeeper version of the watch list in force; -1 before any was loaded.")
	stateStale    = desc("state_stale", "1 when the watch list in force was not verified against ZooKeeper within the staleness bound (including while running from the cache file).")
	stateAge      = desc("state_age_seconds", "Seconds since the watch list in force was last verified against ZooKeeper.")
	stateChanges  = desc("state_changes_total", "Changes to the watch list received from ZooKeeper, by kind.", "kind")
	stateInvalid  = desc("state_invalid_payloads_total", "Distinct payload versions rejected as invalid; the last good list stays in force.")
	stateHeldBad  = desc("state_invalid", "1 while the payload in ZooKeeper is invalid and the last good list stays in force.")
	zkConnected   = desc("zookeeper_connected", "1 while the agent holds a ZooKeeper session.")
	zkExpirations = desc("zookeeper_session_expirations_total", "ZooKeeper sessions lost, by expiry or a disconnect longer than the session timeout.")
	scanFailures  = desc("scan_failures_total", "Scans that failed as a whole because the process table could not be listed.")
	scanned       = desc("processes_scanned", "Number of processes looked at by the latest scan.")
	buildInfo     = desc("build_info", "A metric with a constant '1' value labeled by version, revision and goversion of procwatch.", "version", "revision", "goversion")
)

// State is the health of the shared watch list, as the agent reports it to
// the Collector at every scrape.
type State struct {
	// Version is the ZooKeeper version of the list in force, -1 when none
	// has been loaded.
	Version int32
	// Stale is set when the list in force was not verified against
	// ZooKeeper within the staleness bound, which includes running from the
	// cache file.
	Stale bool
	// Age is the time since the list was last verified; it is exported only
	// when Verified is set, since a list never verified has no age.
	Age      time.Duration
	Verified bool
	// Invalid is set while the newest payload in ZooKeeper was rejected as
	// invalid, so the list in force is an older one.
	Invalid bool
	// Connected reports a live ZooKeeper session.
	Connected bool
	// SessionExpirations and InvalidPayloads are cumulative counters.
	SessionExpirations uint64
	InvalidPayloads    uint64
}

// Option configures a Collector.
type Option func(*Collector)

// WithState sets where the Collector reads the health of the watch list.
// Without it the procwatch_state_* and procwatch_zookeeper_* series are not
// exported, which only suits tests of the per-glob series.
func WithState(f func() State) Option {
	return func(c *Collector) { c.state = f }
}

// WithBuildInfo sets the version and revision of procwatch_build_info.
func WithBuildInfo(version, revision string) Option {
	return func(c *Collector) { c.version, c.revision = version, revision }
}

// WithScrapeScanAge sets how old the latest scan may be before a scrape
// scans again (default DefaultScrapeScanAge). Zero or less makes scrapes
// only read the latest scan, for agents that scan often enough on their own.
func WithScrapeScanAge(d time.Duration) Option {
	return func(c *Collector) { c.maxAge = d }
}

// WithLogger sets where failed scans are reported. The default discards.
func WithLogger(l *slog.Logger) Option {
	return func(c *Collector) { c.logger = l }
}

// Collector is a prometheus.Collector for one Monitor and the watch list
// behind it. Scans and glob changes should go through its Scan and SetGlobs
// so that every scan's duration and every invalid glob is counted.
type Collector struct {
	mon               *monitor.Monitor
	state             func() State
	version, revision string
	maxAge            time.Duration
	logger            *slog.Logger

	scrapeMu  sync.Mutex // one scrape-time scan at a time; later scrapers reuse it
	durations prometheus.Histogram
	failures  atomic.Uint64
	changes   [3]atomic.Uint64 // by zkstate.ChangeKind - 1

	invalidMu   sync.Mutex
	invalidSeen map[string]struct{} // invalid globs of the list in force
	globErrors  atomic.Uint64
}

// New returns a Collector exporting mon's scans.
func New(mon *monitor.Monitor, opts ...Option) *Collector {
	c := &Collector{
		mon:    mon,
		maxAge: DefaultScrapeScanAge,
		logger: slog.New(slog.DiscardHandler),
		durations: prometheus.NewHistogram(prometheus.HistogramOpts{
			Namespace: namespace,
			Name:      "scan_duration_seconds",
			Help:      "Duration of one scan of the process table: periodic, after a watch list change, or at scrape time.",
			Buckets:   scanBuckets,
		}),
		invalidSeen: map[string]struct{}{},
	}
	for _, o := range opts {
		o(c)
	}
	return c
}

// Scan scans through the Monitor and records the scan.
func (c *Collector) Scan(ctx context.Context) (monitor.ScanResult, error) {
	res, err := guard(func() (monitor.ScanResult, error) { return c.mon.Scan(ctx) })
	c.observe(res, err)
	return res, err
}

// guard turns a panic while scanning into a failed scan. Scans run in the
// agent's own goroutines and in the registry's collecting goroutines, where
// nothing recovers: one malformed /proc entry must not take the agent, and
// the metrics of every glob, down with it.
func guard(scan func() (monitor.ScanResult, error)) (res monitor.ScanResult, err error) {
	defer func() {
		if r := recover(); r != nil {
			res, err = monitor.ScanResult{}, fmt.Errorf("metrics: scan panicked: %v\n%s", r, debug.Stack())
		}
	}()
	return scan()
}

// SetGlobs puts a new glob list in force through the Monitor (which
// re-matches at once) and records the scan and any invalid glob. Invalid
// globs are skipped by the Monitor; the others keep working.
func (c *Collector) SetGlobs(ctx context.Context, globs []string) (monitor.ScanResult, error) {
	res, err := guard(func() (monitor.ScanResult, error) { return c.mon.SetGlobs(ctx, globs) })
	c.observe(res, err)
	invalid := res.InvalidGlobs
	if err != nil && invalid == nil {
		// The Monitor panicked (guard turned it into err) and returned
		// nothing; the list is in force all the same.
		_, invalid = monitor.Compile(globs)
	}
	c.countInvalid(invalid)
	return res, err
}

func (c *Collector) observe(res monitor.ScanResult, err error) {
	if err != nil {
		if !isCanceled(err) {
			c.failures.Add(1)
		}
		return
	}
	c.durations.Observe(res.Duration.Seconds())
}

// isCanceled tells a scan cut short by shutdown or a scrape timeout, which
// says nothing about the host, from a real failure to list processes.
func isCanceled(err error) bool {
	return errors.Is(err, context.Canceled) || errors.Is(err, context.DeadlineExceeded)
}

// countInvalid counts the invalid globs that were not already in the list in
// force, so that re-applying the same list (from the cache file, then from
// ZooKeeper) does not count its invalid globs twice.
func (c *Collector) countInvalid(errs []*pattern.Error) {
	c.invalidMu.Lock()
	defer c.invalidMu.Unlock()
	next := make(map[string]struct{}, len(errs))
	for _, e := range errs {
		next[e.Glob] = struct{}{}
		if _, ok := c.invalidSeen[e.Glob]; !ok {
			c.globErrors.Add(1)
		}
	}
	c.invalidSeen = next
}

// CountChanges adds an event's changes to procwatch_state_changes_total.
func (c *Collector) CountChanges(changes []zkstate.Change) {
	for _, ch := range changes {
		if ch.Kind >= zkstate.Added && ch.Kind <= zkstate.Removed {
			c.changes[ch.Kind-zkstate.Added].Add(1)
		}
	}
}

// Describe implements prometheus.Collector.
func (c *Collector) Describe(ch chan<- *prometheus.Desc) {
	for _, d := range []*prometheus.Desc{
		globProcesses, globThreads, globCPU, globRSS, globVSize, globFDs, globRead, globWrite,
		globOldest, globStarts, globExits, globsInForce, invalidGlobs, globErrors, scanFailures,
		scanned, buildInfo,
	} {
		ch <- d
	}
	if c.state != nil {
		for _, d := range []*prometheus.Desc{
			stateVersion, stateStale, stateAge, stateChanges, stateInvalid, stateHeldBad, zkConnected, zkExpirations,
		} {
			ch <- d
		}
	}
	c.durations.Describe(ch)
}

// Collect implements prometheus.Collector: it exports the latest scan,
// scanning first when that is older than the scrape scan age.
func (c *Collector) Collect(ch chan<- prometheus.Metric) {
	res, ok := c.latest()
	if ok {
		for i := range res.Globs {
			collectGlob(ch, &res.Globs[i])
		}
		ch <- gauge(scanned, float64(res.Scanned))
	}
	ch <- gauge(globsInForce, float64(len(res.Globs)))
	ch <- gauge(invalidGlobs, float64(len(res.InvalidGlobs)))
	ch <- counter(globErrors, float64(c.globErrors.Load()))
	ch <- counter(scanFailures, float64(c.failures.Load()))
	ch <- c.durations
	ch <- gauge(buildInfo, 1, c.version, c.revision, runtime.Version())

	if c.state == nil {
		return
	}
	st := c.state()
	ch <- gauge(stateVersion, float64(st.Version))
	ch <- gauge(stateStale, boolFloat(st.Stale))
	if st.Verified {
		ch <- gauge(stateAge, st.Age.Seconds())
	}
	for k := zkstate.Added; k <= zkstate.Removed; k++ {
		ch <- counter(stateChanges, float64(c.changes[k-zkstate.Added].Load()), k.String())
	}
	ch <- counter(stateInvalid, float64(st.InvalidPayloads))
	ch <- gauge(stateHeldBad, boolFloat(st.Invalid))
	ch <- gauge(zkConnected, boolFloat(st.Connected))
	ch <- counter(zkExpirations, float64(st.SessionExpirations))
}

// latest returns the scan to export, scanning when the latest is too old.
// The mutex makes concurrent scrapes wait for one scan and reuse it rather
// than each starting their own.
func (c *Collector) latest() (monitor.ScanResult, bool) {
	if c.maxAge <= 0 {
		return c.mon.Latest()
	}
	c.scrapeMu.Lock()
	defer c.scrapeMu.Unlock()
	res, ok := c.mon.Latest()
	if ok && time.Since(res.Time) <= c.maxAge {
		return res, ok
	}
	ctx, cancel := context.WithTimeout(context.Background(), scrapeScanTimeout)
	defer cancel()
	fresh, err := c.Scan(ctx)
	if err != nil {
		c.logger.Warn("scan at scrape time failed, exporting the previous scan", "err", err)
		return res, ok
	}
	return fresh, true
}

func collectGlob(ch chan<- prometheus.Metric, g *monitor.GlobStats) {
	ch <- gauge(globProcesses, float64(g.Processes), g.Glob)
	ch <- gauge(globThreads, float64(g.Threads), g.Glob)
	ch <- counter(globCPU, g.CPUUser, g.Glob, "user")
	ch <- counter(globCPU, g.CPUSystem, g.Glob, "system")
	ch <- gauge(globRSS, float64(g.RSS), g.Glob)
	ch <- gauge(globVSize, float64(g.VSize), g.Glob)
	ch <- gauge(globFDs, float64(g.FDs), g.Glob)
	ch <- counter(globRead, float64(g.ReadBytes), g.Glob)
	ch <- counter(globWrite, float64(g.WriteBytes), g.Glob)
	if !g.OldestStart.IsZero() {
		ch <- gauge(globOldest, float64(g.OldestStart.UnixNano())/1e9, g.Glob)
	}
	ch <- counter(globStarts, float64(g.Starts), g.Glob)
	ch <- counter(globExits, float64(g.Exits), g.Glob)
}

func gauge(d *prometheus.Desc, v float64, labels ...string) prometheus.Metric {
	return prometheus.MustNewConstMetric(d, prometheus.GaugeValue, v, labels...)
}

func counter(d *prometheus.Desc, v float64, labels ...string) prometheus.Metric {
	return prometheus.MustNewConstMetric(d, prometheus.CounterValue, v, labels...)
}

func boolFloat(b bool) float64 {
	if b {
		return 1
	}
	return 0
}
