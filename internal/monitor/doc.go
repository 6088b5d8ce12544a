// Package monitor reads a host's processes and aggregates them per glob.
//
// It is split the way process-exporter splits it: a [Source] reads processes
// (the Linux one from a procfs tree, a gopsutil one everywhere else), a
// [Matcher] decides purely which globs a process belongs to, and a [Monitor]
// joins them and keeps the per-glob counters the metrics collector exports.
// The package knows nothing of ZooKeeper: the agent hands it a glob list
// and drives its scans; an exporter only reads [Monitor.Latest] (or
// [Monitor.Fresh], bounded by age) and [Monitor.Stats].
//
// What it guarantees:
//
//   - Every scan lists every process, but reads only its stat file (the
//     directory entry and /proc/PID/stat). The name, executable and command
//     line are read once per process lifetime (and re-read when its comm
//     changes, which is what exec does), and the match result is cached per
//     process and [Matcher]. The detailed files (io, status, the fd count
//     and limit, and smaps_rollup with [WithPSS]) are read only for
//     processes that match at least one glob, and the fd limit only once
//     per process lifetime unless the process nears it.
//
//   - A process that vanishes during a scan is not an error, and permission
//     errors on another user's exe, io or fd directory only leave those
//     values empty.
//
//   - Every configured glob is present in every [ScanResult], with zeros when
//     nothing matches it.
//
//   - A zombie (a process that exited and that its parent has not reaped)
//     is not a live process: it counts in no gauge, only in
//     [GlobStats.Zombies] and under [StateZombie] in [GlobStats.States].
//     It matches by the identity it had while it was
//     seen alive, or by its comm if it never was, whatever the length of
//     its name, and its exit is counted once, when it is first seen a
//     zombie.
//
//   - Counters (CPU seconds, I/O bytes, page faults, context switches,
//     starts, exits) never decrease while a
//     glob stays configured: an exited process's last observed values stay in
//     its globs' totals.
//
//   - With the kernel's process events ([Monitor.HandleEvent]), a start is
//     counted at every exec into a match and an exit at every exit of a
//     counted process, between scans too. One rule, the tracker's, decides
//     for scans and events alike: a process is a start when it becomes a
//     member of a glob and an exit when it stops being one, so a process
//     that both saw is counted once. The read at an exec never waits for a
//     scan; a process reaped before it could be read is counted in
//     [Stats.EventsUnidentified], and a lost event rescans at once.
//
//   - The user, systemd unit and cgroup of a process are read only while a
//     glob of their kind is in force, and then once per process identity,
//     like its name: a process that changes cgroup or calls setuid long
//     after it started keeps the value first read (see selectorReader).
//
// Matching rules (see [Compile]): a pattern without '/' matches the process
// name, a pattern with '/' matches the executable path, and a pattern
// prefixed "cmdline:" matches the command line joined by single spaces.
// The prefixes "user:" (the real user's name from the passwd database, or
// the uid in decimal when it has none), "unit:" (the systemd unit or scope)
// and "cgroup:" (the cgroup v2 path) select by who runs a process and where.
package monitor
