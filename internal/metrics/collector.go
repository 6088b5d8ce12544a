package metrics

import (
	"context"
	"log/slog"
	"runtime"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/procwatch/procwatch/internal/monitor"
)

const namespace = "procwatch"

// DefaultScrapeScanAge is how old the latest scan may be before a scrape
// asks the monitor for a new one. One second keeps scrape-time numbers
// fresh while capping the work any number of scrapers can cause at one scan
// per second.
const DefaultScrapeScanAge = time.Second

// scrapeScanTimeout bounds a scan run for a scrape; Collect has no context,
// and a scrape should fail fast rather than pile up behind a stuck /proc.
const scrapeScanTimeout = 10 * time.Second

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
	globStates    = desc("glob_states", "Processes matching the glob by the kernel state of their main thread: running (R), sleeping (S), waiting (D, uninterruptible, usually on I/O), zombie (Z, exited and not reaped by its parent; counted here only), other (T, t, I, X and any other).", "glob", "state")
	globSwitches  = desc("glob_context_switches_total", "Context switches of the main thread of processes that matched the glob, including exited ones: voluntary (it waited) or involuntary (it was preempted).", "glob", "kind")
	globFaults    = desc("glob_page_faults_total", "Page faults of processes that matched the glob, including exited ones: minor (served from memory) or major (read from storage).", "glob", "kind")
	globSwap      = desc("glob_swap_bytes", "Swapped-out memory of the processes matching the glob (VmSwap).", "glob")
	globFDRatio   = desc("glob_max_fd_ratio", "Highest ratio of open file descriptors to the soft limit (RLIMIT_NOFILE) among the processes matching the glob; 0 when none.", "glob")
	globPSS       = desc("glob_proportional_memory_bytes", "Proportional set size (PSS: resident memory, shared pages divided among their sharers) of the processes matching the glob; exported with --collect.pss.", "glob")

	globsInForce  = desc("globs", "Number of valid globs in force.")
	invalidGlobs  = desc("invalid_globs", "Number of globs of the list in force skipped because they are invalid.")
	globErrors    = desc("glob_errors_total", "Invalid globs met in the watch list, each counted once when it enters the list in force.")
	stateVersion  = desc("state_version", "ZooKeeper version of the watch list in force; -1 before any was loaded.")
	stateStale    = desc("state_stale", "1 when the watch list in force was not verified against ZooKeeper within the staleness bound (including while running from the cache file).")
	stateAge      = desc("state_age_seconds", "Seconds since the watch list in force was last verified against ZooKeeper.")
	stateChanges  = desc("state_changes_total", "Changes to the watch list received from ZooKeeper, by kind.", "kind")
	stateInvalid  = desc("state_invalid_payloads_total", "Distinct payload versions rejected as invalid; the last good list stays in force.")
	stateReadErrs = desc("state_read_errors_total", "Failed reads of the payload not explained by the connection (for example an ACL denying READ); while they last the list in force goes stale.")
	stateHeldBad  = desc("state_invalid", "1 while the payload in ZooKeeper is invalid and the last good list stays in force.")
	zkConnected   = desc("zookeeper_connected", "1 while the agent holds a ZooKeeper session.")
	zkExpirations = desc("zookeeper_session_expirations_total", "ZooKeeper sessions lost, by expiry or a disconnect longer than the session timeout.")
	scanFailures  = desc("scan_failures_total", "Scans that failed as a whole because the process table could not be listed.")
	scanned       = desc("processes_scanned", "Number of processes looked at by the latest scan.")
	scanDuration  = desc("scan_duration_seconds", "Duration of one scan of the process table: periodic, after a watch list change, or at scrape time.")
	groupApplies  = desc("group_applies", "1 for each group of the watch list that applies to this agent (its globs are in force here).", "group")
	memberUpdates = desc("member_updates_total", "Rewrites of this agent's member info in ZooKeeper (its applied version and missing globs), by result; a failed one is retried.", "result")
	skippedGroups = desc("skipped_groups", "Number of groups of the watch list that could not be evaluated (a host glob that does not compile) and so apply to no agent.")
	eventsEnabled = desc("process_events_enabled", "1 while the agent follows the kernel's process events (exact starts and exits), 0 when it only samples /proc; the agent logs why at start.")
	exitStatsOn   = desc("process_exit_stats_enabled", "1 while the agent also reads the kernel's exit records (taskstats; needs CAP_NET_ADMIN): a process reaped before the agent could read /proc is then identified from its record, and exited processes' final CPU and I/O are exact; the agent's log line about process events says why when 0.")
	eventsLost    = desc("process_events_lost_total", "Process events lost: those the agent's queue had no room for, plus one for each time the kernel reported dropping some (ENOBUFS, number unknown). Each loss forces a full scan; starts and exits of processes that lived only in the gap are missed.")
	eventsUnknown = desc("process_events_unidentified_total", "Execs the process events announced whose process was gone (reaped) before the agent could read who it was: starts and exits that procwatch_glob_process_starts_total and _exits_total may miss. It rises when the agent is starved of CPU while processes live a few milliseconds.")
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
	// SessionExpirations, InvalidPayloads and ReadErrors are cumulative
	// counters.
	SessionExpirations uint64
	InvalidPayloads    uint64
	ReadErrors         uint64
	// Changes counts the changes to the list received, by kind.
	Changes Changes
	// Groups are the names of the groups that apply to this agent.
	Groups []string
	// SkippedGroups is how many groups of the list in force could not be
	// evaluated and apply to nobody.
	SkippedGroups int
	// MemberUpdates counts the rewrites of the agent's member info.
	MemberUpdates MemberUpdates
}

// MemberUpdates counts rewrites of the member info by result, the result
// label of procwatch_member_updates_total.
type MemberUpdates struct {
	OK, Errors uint64
}

// Changes counts changes to the watch list by kind, the kind label of
// procwatch_state_changes_total.
type Changes struct {
	Added, Modified, Removed uint64
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
// asks the monitor for a new one (default DefaultScrapeScanAge). Zero or
// less makes scrapes only read the latest scan, for agents that scan often
// enough on their own.
func WithScrapeScanAge(d time.Duration) Option {
	return func(c *Collector) { c.maxAge = d }
}

// ProcessEvents is the state of the agent's subscription to the kernel's
// process events, read at every scrape.
type ProcessEvents struct {
	// Enabled is set while the events are followed.
	Enabled bool
	// ExitStats is set while the kernel's exit records are read too.
	ExitStats bool
	// Lost counts the events lost (see procwatch_process_events_lost_total),
	// exit records included.
	Lost uint64
}

// WithProcessEvents sets where the Collector reads the state of the
// process events. Without it procwatch_process_events_enabled is 0 and
// nothing is lost.
func WithProcessEvents(f func() ProcessEvents) Option {
	return func(c *Collector) { c.events = f }
}

// WithLogger sets where failed scrape-time scans are reported. The default
// discards.
func WithLogger(l *slog.Logger) Option {
	return func(c *Collector) { c.logger = l }
}

// Collector is a prometheus.Collector for one Monitor and the watch list
// behind it. It only observes: the agent puts lists in force and scans
// through the Monitor, and the Collector reads, at scrape time, the
// Monitor's latest result and counters and the State the agent reports.
type Collector struct {
	mon               *monitor.Monitor
	state             func() State
	version, revision string
	maxAge            time.Duration
	logger            *slog.Logger
	events            func() ProcessEvents
}

// New returns a Collector exporting mon's scans.
func New(mon *monitor.Monitor, opts ...Option) *Collector {
	c := &Collector{
		mon:    mon,
		maxAge: DefaultScrapeScanAge,
		logger: slog.New(slog.DiscardHandler),
	}
	for _, o := range opts {
		o(c)
	}
	return c
}

// Describe implements prometheus.Collector.
func (c *Collector) Describe(ch chan<- *prometheus.Desc) {
	for _, d := range []*prometheus.Desc{
		globProcesses, globThreads, globCPU, globRSS, globVSize, globFDs, globRead, globWrite,
		globOldest, globStarts, globExits, globStates, globSwitches, globFaults, globSwap, globFDRatio, globPSS, globsInForce, invalidGlobs, globErrors, scanFailures,
		scanned, buildInfo, scanDuration, eventsEnabled, exitStatsOn, eventsLost, eventsUnknown,
	} {
		ch <- d
	}
	if c.state != nil {
		for _, d := range []*prometheus.Desc{
			stateVersion, stateStale, stateAge, stateChanges, stateInvalid, stateHeldBad, zkConnected, zkExpirations,
			groupApplies, skippedGroups, memberUpdates,
		} {
			ch <- d
		}
	}
}

// Collect implements prometheus.Collector: it exports the monitor's latest
// scan, no older than the scrape scan age (see [monitor.Monitor.Fresh]).
func (c *Collector) Collect(ch chan<- prometheus.Metric) {
	res, ok := c.latest()
	if ok {
		for i := range res.Globs {
			collectGlob(ch, &res.Globs[i], res.PSS)
		}
		ch <- gauge(scanned, float64(res.Scanned))
	}
	// The stats are read after the scan above, so that a scrape's own scan
	// is in the histogram it exports.
	stats := c.mon.Stats()
	ch <- gauge(globsInForce, float64(len(res.Globs)))
	ch <- gauge(invalidGlobs, float64(len(res.InvalidGlobs)))
	ch <- counter(globErrors, float64(stats.GlobErrors))
	ch <- counter(scanFailures, float64(stats.Failures))
	ch <- histogram(scanDuration, &stats)
	ch <- gauge(buildInfo, 1, c.version, c.revision, runtime.Version())
	var ev ProcessEvents
	if c.events != nil {
		ev = c.events()
	}
	ch <- gauge(eventsEnabled, boolFloat(ev.Enabled))
	ch <- gauge(exitStatsOn, boolFloat(ev.ExitStats))
	ch <- counter(eventsLost, float64(ev.Lost))
	ch <- counter(eventsUnknown, float64(stats.EventsUnidentified))

	if c.state == nil {
		return
	}
	st := c.state()
	ch <- gauge(stateVersion, float64(st.Version))
	ch <- gauge(stateStale, boolFloat(st.Stale))
	if st.Verified {
		ch <- gauge(stateAge, st.Age.Seconds())
	}
	ch <- counter(stateChanges, float64(st.Changes.Added), "added")
	ch <- counter(stateChanges, float64(st.Changes.Modified), "modified")
	ch <- counter(stateChanges, float64(st.Changes.Removed), "removed")
	ch <- counter(stateInvalid, float64(st.InvalidPayloads))
	ch <- counter(stateReadErrs, float64(st.ReadErrors))
	ch <- gauge(stateHeldBad, boolFloat(st.Invalid))
	ch <- gauge(zkConnected, boolFloat(st.Connected))
	ch <- counter(zkExpirations, float64(st.SessionExpirations))
	for _, g := range st.Groups {
		ch <- gauge(groupApplies, 1, g)
	}
	ch <- gauge(skippedGroups, float64(st.SkippedGroups))
	ch <- counter(memberUpdates, float64(st.MemberUpdates.OK), "ok")
	ch <- counter(memberUpdates, float64(st.MemberUpdates.Errors), "error")
}

// latest returns the scan to export: the monitor's latest, or a new one
// when that is older than the scrape scan age.
func (c *Collector) latest() (monitor.ScanResult, bool) {
	ctx, cancel := context.WithTimeout(context.Background(), scrapeScanTimeout)
	defer cancel()
	res, ok, err := c.mon.Fresh(ctx, c.maxAge)
	if err != nil {
		c.logger.Warn("scan at scrape time failed, exporting the previous scan", "err", err)
	}
	return res, ok
}

func histogram(d *prometheus.Desc, st *monitor.Stats) prometheus.Metric {
	buckets := make(map[float64]uint64, len(monitor.ScanDurationBuckets))
	for i, le := range monitor.ScanDurationBuckets {
		buckets[le] = st.DurationBuckets[i]
	}
	return prometheus.MustNewConstHistogram(d, st.Scans, st.DurationSum, buckets)
}

func collectGlob(ch chan<- prometheus.Metric, g *monitor.GlobStats, pss bool) {
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
	for s := range monitor.NumStates {
		ch <- gauge(globStates, float64(g.States[s]), g.Glob, s.String())
	}
	ch <- counter(globSwitches, float64(g.VoluntarySwitches), g.Glob, "voluntary")
	ch <- counter(globSwitches, float64(g.InvoluntarySwitches), g.Glob, "involuntary")
	ch <- counter(globFaults, float64(g.MinorFaults), g.Glob, "minor")
	ch <- counter(globFaults, float64(g.MajorFaults), g.Glob, "major")
	ch <- gauge(globSwap, float64(g.Swap), g.Glob)
	ch <- gauge(globFDRatio, g.MaxFDRatio, g.Glob)
	if pss {
		ch <- gauge(globPSS, float64(g.PSS), g.Glob)
	}
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
