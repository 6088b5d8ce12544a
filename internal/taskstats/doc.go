// Package taskstats reads the kernel's exit records: for every task that
// exits on the host, what struct taskstats says of it (pid, comm, user,
// CPU, I/O, page faults, context switches), from the generic netlink
// family TASKSTATS. The process events connector (internal/procevents)
// tells that a pid exited and nothing more; the exit record tells who it
// was and what it used, even when the process was reaped before anyone
// could read /proc.
//
// # Guarantees
//
// Open registers for the records of every possible CPU
// (/sys/devices/system/cpu/possible, so CPUs brought online later are
// covered too) and returns once the kernel has confirmed the
// registration. From then on every exit's record is either delivered (by
// Drain or on Events) or covered by a Lost event delivered in its place, before any
// later record, as procevents does for its events:
//
//   - One goroutine drains the socket as fast as the kernel sends and never
//     waits for the consumer. The queue grows as a burst needs, up to its
//     bound (WithQueueSize), and shrinks once drained; when it is full,
//     records are dropped and counted (Stats.Dropped), and a Lost event
//     saying how many follows the last record queued before them.
//   - When the socket's receive buffer (WithReadBuffer) fills, the kernel
//     drops records and says so with ENOBUFS: the reader counts an
//     overrun (Stats.Overruns), delivers a Lost event with Overrun set,
//     and reads on.
//
// Only the records of thread-group leaders are queued (Kind Task), and
// the thread group's totals the kernel adds when the last thread of a
// multi-threaded process exits (Kind Group); the other threads' records
// are read and counted in Stats.Received only. Close deregisters, ends the
// goroutine and closes Events.
//
// # What a record says
//
// Record holds the fields of struct taskstats (include/uapi/linux/
// taskstats.h) procwatch uses, decoded at their documented offsets: a
// field is read only when the struct's version has it and the payload
// holds it, so that an older kernel's shorter struct decodes and a newer
// one's longer struct is read as far as this package knows it. The comm
// is cut by the kernel to 15 bytes; a shorter comm is the whole basename
// execve gave it. CPU times are what the kernel samples at each tick
// (under CONFIG_TICK_CPU_ACCOUNTING), and RunTime the scheduler's exact
// total on a kernel with CONFIG_TASK_DELAY_ACCT. Received is the
// CLOCK_MONOTONIC time at which the reader took the record off the
// socket, which with Elapsed bounds the task's start (Event.Started): a
// consumer can tell a reused pid from the process it knew.
//
// # When it cannot
//
// Registering needs CAP_NET_ADMIN (the family's command is
// GENL_ADMIN_PERM) and the host's network namespace, where alone the
// family exists. Open tells each case by an error wrapping
// ErrNotPermitted, ErrNamespace, ErrUnsupported (another OS, no
// CONFIG_TASKSTATS) or ErrNoAnswer, with the reason in its text.
//
// # Why a package of its own
//
// The records could be delivered on procevents' Events channel as one
// more kind of event. They are not, because the two sources fail apart:
// since Linux 6.6 the connector needs no capability while the records
// always need CAP_NET_ADMIN, so an agent may well follow the events
// without the records, and says so; and a record is some 200 bytes
// against an event's 80, which would grow every slot of the connector's
// queue. The agent reads both channels in one loop and hands each to the
// monitor, which matches a record with its pid's exec or exit in either
// order.
//
// # Why mdlayher/genetlink
//
// The family lookup and the registration go through
// github.com/mdlayher/genetlink; the records are drained from the
// underlying mdlayher/netlink socket with a fixed buffer, as procevents
// drains the connector, so that ENOBUFS is an error the reader counts and
// reads past. The struct's decoder (Decode, DecodeStats) is this
// package's, fuzzed by FuzzDecode on messages captured from the kernel.
package taskstats
