// Package agent is procwatch's agent, wired as cmd/procwatch runs it and
// testable in-process: Run follows the watch list shared through ZooKeeper
// (internal/zkstate), re-matches the host's processes (internal/monitor) and
// serves the metrics (internal/metrics) over exporter-toolkit's web server.
//
// What it guarantees:
//
//   - A change of the watch list is put in force as soon as its event
//     arrives: the processes are re-matched at once, so /metrics shows the
//     new list within a second of the write, without waiting for a scrape
//     or a periodic scan.
//   - Scans also run every ScanInterval, to follow processes that start and
//     exit between scrapes, and at scrape time when the latest scan is older
//     than a second (see metrics.WithScrapeScanAge); a scrape never causes
//     more than one scan.
//   - With Config.ProcessEvents, the agent follows the kernel's process
//     events (internal/procevents): every exec into a matching process and
//     every exit of one is counted as it happens, not only those a scan
//     sees. Where it cannot subscribe it samples and logs exactly one line
//     with the reason; procwatch_process_events_enabled says which. A
//     burst never blocks it: the reader's queue drops and counts
//     (procwatch_process_events_lost_total), and a loss rescans at once.
//   - Every good list is written to the cache file atomically (temporary
//     file, fsync, rename, directory fsync). At start the cache's list is put
//     in force before ZooKeeper is reached, so an agent restarted during a
//     ZooKeeper outage monitors what it monitored before and is ready; it
//     says so with procwatch_state_stale 1, keeps connecting in the
//     background, and when ZooKeeper answers it registers under listeners/
//     and follows the list there.
//   - An invalid glob written around procctl is skipped, logged and counted
//     (procwatch_invalid_globs, procwatch_glob_errors_total); the other globs
//     keep working. An invalid payload never replaces the list in force.
//   - With credentials (Config.ZKSecurity), the agent's listener node is
//     readable by everyone and writable only by the agent's own identity, and
//     is recreated so after a session expiry; it holds the member info and
//     nothing secret. An agent ZooKeeper refuses (no or wrong credentials)
//     or whose TLS handshake fails says so in an error log line naming the
//     flag to check, and keeps trying.
//   - /healthz answers 200 while the process serves; /readyz answers 200 once
//     a list is in force, from ZooKeeper or the cache file.
//   - When Run's context ends, the Store is closed (its listener node goes
//     at once, not at session expiry), then the session and the web server,
//     and pending spans are flushed; every goroutine Run started has ended
//     when it returns.
package agent
