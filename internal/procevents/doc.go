// Package procevents reads the kernel's process events: every fork, exec,
// comm change and exit on the host, as it happens, from the process
// events connector (NETLINK_CONNECTOR, group CN_IDX_PROC). Sampling /proc
// misses a process that lives between two scans; the events do not.
//
// # Guarantees
//
// Open returns once the kernel has confirmed the subscription. From then
// on every event of a thread-group leader is either delivered (by Drain,
// in batches after Ready, or one by one on Events), in the order the
// kernel sent it, or covered by a Lost event delivered in its place,
// before any later event. Nothing is lost silently:
//
//   - One goroutine drains the socket as fast as the kernel sends and never
//     waits for the consumer. The queue grows as a burst needs, up to its
//     bound (WithQueueSize), and shrinks once drained; when it is full,
//     events are dropped and counted (Stats.Dropped), and a Lost event
//     saying how many follows the last event queued before them.
//   - When the socket's receive buffer (WithReadBuffer) fills because the
//     reader was not scheduled, the kernel drops events and says so with
//     ENOBUFS: the reader counts an overrun (Stats.Overruns), delivers a
//     Lost event with Overrun set, and reads on.
//   - A Lost event means "rebuild what you know from /proc". It comes at
//     the next Drain, one for a gap however many drops and overruns it
//     saw.
//
// Close unsubscribes, ends the goroutine and closes Events. A socket that
// fails for good (not an overrun) ends the reader too; Err says why.
//
// # Threads
//
// Only thread-group leaders (PID == TGID, Event.IsProcess) say anything
// about processes: a process starts with its fork and exec, and ends with
// the exit of its leader. By default the reader queues only their events,
// so that a threaded server spawning workers does not fill the queue;
// WithThreads queues every thread's. A multi-threaded process whose leader
// calls pthread_exit ends, for the events, at that exit, while its other
// threads may run on; /proc still lists it.
//
// # When it cannot
//
// The connector exists only in the host's (initial) network namespace,
// and the kernel takes subscriptions only from the initial PID and user
// namespaces; before Linux 6.6 it also requires CAP_NET_ADMIN. Open tells
// each case by an error wrapping ErrNamespace, ErrNotPermitted,
// ErrUnsupported (another OS, no CONFIG_PROC_EVENTS) or ErrNoAnswer, with
// the reason in its text, so that a caller falling back to sampling logs
// err.Error() as its one line. The namespace check compares the links in
// /proc/self/ns with the kernel's initial namespaces before any socket is
// opened; where that proves nothing (pid 1's links unreadable), the
// kernel's refusal (ECONNREFUSED outside the host's network namespace, no
// answer outside its PID or user namespace) decides.
//
// # How the agent uses it
//
// The agent opens a Reader at start (unless --collect.process-events=false);
// on an error it samples as before, exports procwatch_process_events_enabled
// 0 and logs the error once. With a Reader it:
//
//  1. scans /proc once after Open returns, to know the processes that
//     already run: none can start unseen after that;
//  2. hands every event to monitor.Monitor.HandleEvent, which on an Exec
//     that IsProcess reads /proc/PID (stat, exe, cmdline, and status or
//     cgroup for user:, unit: and cgroup: globs) at once, without waiting
//     for a scan, and counts a start in each glob it now matches. The
//     exec event carries no name: a process already reaped by then waits
//     for its exit record (internal/taskstats, read beside this Reader
//     when the agent has CAP_NET_ADMIN), which names it by comm and uid;
//     without one it is counted as unidentified;
//  3. on an Exit that IsProcess, counts an exit for the globs its process
//     was counted in, by an exec or a scan, unless its exit record did
//     first (monitor.Monitor.HandleExitRecord), which also folds in the
//     process's final CPU and I/O;
//  4. on a Lost event, runs a full scan at once, treating what appeared
//     and vanished since the last one as sampling does, and exports
//     Stats.Dropped + Stats.Overruns as procwatch_process_events_lost_total;
//  5. keeps its periodic scans for the gauges (memory, CPU, threads),
//     which no event carries.
//
// # Why mdlayher/netlink
//
// The socket is github.com/mdlayher/netlink, maintained, which lets the
// reader size the receive buffer, read with a fixed buffer (no peek per
// message) and see ENOBUFS as an error it can count and read past. The
// connector's messages it does not know; the small decoder here
// (Decode, fuzzed by FuzzDecode on messages captured from the kernel)
// reads them in the host's byte order. vishvananda/netlink's
// ProcEventMonitor decodes them but blocks its reader on a full channel
// (so the kernel drops events unannounced), ends for good on any error
// ENOBUFS included, and gives no control of the receive buffer.
package procevents
