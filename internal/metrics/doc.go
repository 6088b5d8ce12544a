// Package metrics turns what the agent knows into Prometheus metrics. Its
// collectors observe and never steer: the agent puts watch lists in force
// and scans through the monitor, and the Collector reads, at scrape time,
// the monitor's latest scan and counters and the State the agent reports
// (the package imports the monitor and nothing of ZooKeeper).
//
// The Collector emits const metrics at scrape time, so a scrape never sees
// a half-updated set. What it guarantees:
//
//   - Every glob in force is exported on every scrape, with
//     procwatch_glob_processes 0 when nothing matches it, so an alert on a
//     missing process works from the first scrape after a reboot.
//     procwatch_glob_oldest_start_time_seconds is the one per-glob series
//     left out while a glob matches nothing: there is no oldest start.
//     procwatch_glob_states has all five states for every glob, 0 or not;
//     procwatch_glob_proportional_memory_bytes is exported only by an agent
//     reading PSS (--collect.pss), so its absence means "not collected",
//     never 0.
//   - Counters never decrease while a glob stays configured: the monitor
//     carries the last values of exited processes in its totals.
//   - A scrape does bounded work. It exports the monitor's latest scan when
//     it is younger than the scrape scan age (see WithScrapeScanAge), and
//     otherwise the monitor scans once for every scrape that arrives
//     meanwhile (see monitor.Monitor.Fresh); the agent's own periodic scans
//     and re-matches keep the result fresh between scrapes.
//   - procwatch_build_info carries the labels version, revision and
//     goversion. client_golang's version collector is not used: it adds
//     branch, goos, goarch and tags, and its own help text.
//
// The metrics, beyond Go's and the process's own:
//
//	procwatch_glob_processes{glob}                    gauge
//	procwatch_glob_threads{glob}                      gauge
//	procwatch_glob_cpu_seconds_total{glob,mode}       counter, mode=user|system
//	procwatch_glob_resident_memory_bytes{glob}        gauge
//	procwatch_glob_virtual_memory_bytes{glob}         gauge
//	procwatch_glob_open_fds{glob}                     gauge
//	procwatch_glob_read_bytes_total{glob}             counter
//	procwatch_glob_write_bytes_total{glob}            counter
//	procwatch_glob_oldest_start_time_seconds{glob}    gauge, absent while the glob matches nothing
//	procwatch_glob_process_starts_total{glob}         counter
//	procwatch_glob_process_exits_total{glob}          counter
//	procwatch_glob_states{glob,state}                 gauge, state=running|sleeping|waiting|zombie|other, all five always
//	procwatch_glob_context_switches_total{glob,kind}  counter, kind=voluntary|involuntary (main thread)
//	procwatch_glob_page_faults_total{glob,kind}       counter, kind=major|minor
//	procwatch_glob_swap_bytes{glob}                   gauge
//	procwatch_glob_max_fd_ratio{glob}                 gauge, highest open fds / soft limit (0 when none)
//	procwatch_glob_proportional_memory_bytes{glob}    gauge, PSS; only with --collect.pss
//	procwatch_globs                                   gauge, valid globs in force
//	procwatch_invalid_globs                           gauge, globs of the list in force skipped as invalid
//	procwatch_glob_errors_total                       counter, invalid globs met (each counted when it enters the list)
//	procwatch_state_version                           gauge, ZooKeeper version of the list in force, -1 before any
//	procwatch_state_stale                             gauge 0/1
//	procwatch_state_age_seconds                       gauge, since the list was last verified (absent before any)
//	procwatch_state_changes_total{kind}               counter, kind=added|modified|removed
//	procwatch_state_invalid_payloads_total            counter
//	procwatch_state_read_errors_total                 counter, payload reads refused (an ACL), not connection loss
//	procwatch_zookeeper_connected                     gauge 0/1
//	procwatch_zookeeper_session_expirations_total     counter
//	procwatch_scan_duration_seconds                   histogram, every scan (periodic, re-match, scrape)
//	procwatch_scan_failures_total                     counter, scans that could not list the processes
//	procwatch_processes_scanned                       gauge, processes looked at by the latest scan
//	procwatch_group_applies{group}                    gauge 1, per group of the list applying to this agent
//	procwatch_member_updates_total{result}            counter, result=ok|error, rewrites of the member info
//	procwatch_skipped_groups                          gauge, groups that cannot be evaluated (apply to nobody)
//	procwatch_build_info{version,revision,goversion}  gauge 1
//	procwatch_process_events_enabled                  gauge 0/1, following the kernel's process events
//	procwatch_process_events_lost_total               counter, events lost (queue drops + kernel overruns)
//	procwatch_process_events_unidentified_total       counter, execs whose process was reaped before it was read
package metrics
