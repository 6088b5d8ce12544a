package monitor

import (
	"context"
	"fmt"
	"runtime/debug"
	"slices"
	"time"

	"github.com/procwatch/procwatch/internal/pattern"
	"github.com/procwatch/procwatch/internal/procevents"
	"github.com/procwatch/procwatch/internal/taskstats"
)

// ProcReader is a [Source] that can read who one process is between
// scans, by pid: what the Monitor needs to follow process events.
// [LinuxSource] is one.
type ProcReader interface {
	// ReadIdentity reads the identity of the process pid without waiting
	// for a scan: its name, start time and what the kinds of glob in need
	// look at (executable, command line, user, unit, cgroup), which alone
	// are sure to be filled in.
	// found is false when the process is gone (reaped, so not even a
	// zombie).
	ReadIdentity(ctx context.Context, pid int, need pattern.Kinds) (p Proc, found bool, err error)
}

// HandleEvent folds one of the kernel's process events (see
// internal/procevents) into the counters, between scans, so that
// procwatch_glob_process_starts_total and _exits_total count every process
// of a glob however short its life:
//
//   - an Exec of a process reads it from the Source at once, while it
//     still lives, and counts a start in each glob it now matches and is
//     not already counted in (a scan may have seen it first), and an exit
//     from each glob it matched before the exec and matches no more;
//   - an Exit of a process counts an exit from each glob it was counted
//     in, by a scan or an exec; the exit of a process no glob counts
//     (a scan already saw it gone, or it never matched) counts nothing;
//   - a Lost event scans at once, since the events it stands for are gone
//     and the counters must be rebuilt from /proc.
//
// A process gone before its exec could be read is matched by nothing,
// since the exec event carries no name: it is counted in
// Stats.EventsUnidentified. The Source must be a [ProcReader] for execs to
// count. Events of threads other than a process's leader, forks (a
// process that forks without exec is seen by scans) and comm changes are
// ignored. The error is that of the read or the scan.
func (m *Monitor) HandleEvent(ctx context.Context, ev procevents.Event) (err error) {
	if ev.Kind == procevents.Lost {
		m.stats.countRescan()
		_, err := m.Scan(ctx)
		return err
	}
	if !ev.IsProcess() || (ev.Kind != procevents.Exec && ev.Kind != procevents.Exit) {
		return nil
	}
	// The read goes through /proc like a scan, in the agent's event loop
	// where nothing recovers.
	defer func() {
		if r := recover(); r != nil {
			err = fmt.Errorf("monitor: %s panicked: %v\n%s", ev, r, debug.Stack())
		}
	}()
	if ev.Kind == procevents.Exit {
		m.fold(pendingEvent{kind: pendingExit, pid: int(ev.PID), at: ev.Time})
		return nil
	}
	pr, ok := m.src.(ProcReader)
	matcher := m.current.Load()
	if !ok || matcher.Len() == 0 {
		return nil
	}
	p, found, err := pr.ReadIdentity(ctx, int(ev.PID), matcher.Needs())
	if err != nil {
		return err
	}
	if !found {
		// Its exit record may say who it was (exit_records.go); it may
		// also have matched before its exec: its exit event comes next.
		m.fold(pendingEvent{kind: pendingUnread, pid: int(ev.PID), at: ev.Time})
		return nil
	}
	m.fold(pendingEvent{pid: int(ev.PID), proc: p, at: ev.Time})
	return nil
}

// pendingEvent is an exec read from /proc, an exec that could not be, an
// exit, or an exit record, waiting to be folded into the counters.
type pendingEvent struct {
	kind   pendingKind
	pid    int
	proc   Proc             // pendingExec
	at     time.Duration    // the event's time (CLOCK_MONOTONIC); 0 for a record
	record *taskstats.Event // pendingRecord
}

type pendingKind uint8

const (
	pendingExec pendingKind = iota
	pendingExit
	pendingUnread
	pendingRecord
)

// fold queues e and folds the queue in at once unless a scan holds the
// Monitor, in which case the scan folds it in as it ends. The reads at
// the following execs therefore never wait for a scan: a process living a
// few milliseconds would be gone (reaped) by the time a scan of a busy
// host ends. The queue keeps the events' order, so that an exit is folded
// after the exec of its process.
func (m *Monitor) fold(e pendingEvent) {
	m.pendingMu.Lock()
	m.pending = append(m.pending, e)
	m.pendingMu.Unlock()
	if m.mu.TryLock() {
		m.foldPendingLocked()
		m.unlock()
	}
}

// unlock releases mu, first folding in the events queued while it was
// held. An event queued after that fold, while mu was still held, failed
// its TryLock: it is folded here too, by whoever then takes mu, so that no
// event waits for the next scan.
func (m *Monitor) unlock() {
	for {
		m.foldPendingLocked()
		m.mu.Unlock()
		m.pendingMu.Lock()
		more := len(m.pending) > 0
		m.pendingMu.Unlock()
		if !more || !m.mu.TryLock() {
			return
		}
	}
}

// foldPendingLocked folds in the queued events; m.mu is held.
func (m *Monitor) foldPendingLocked() {
	m.pendingMu.Lock()
	pending := m.pending
	m.pending = nil
	m.pendingMu.Unlock()
	m.expireRecordsLocked()
	if len(pending) == 0 {
		return
	}
	changed := false
	var globs []string
	for i := range pending {
		e := &pending[i]
		if e.kind != pendingRecord {
			m.records.passEvent(e.at)
		}
		switch e.kind {
		case pendingExit:
			if !m.records.on {
				changed = m.tracker.exit(e.pid) || changed
				continue
			}
			if d, ok := m.tracker.exitKeep(e.pid); ok {
				m.records.departed.put(e.pid, d, m.records.clock(), recordCap, nil)
				changed = true
			}
			continue
		case pendingUnread:
			changed = m.foldUnreadLocked(e.pid, e.at) || changed
			continue
		case pendingRecord:
			changed = m.foldRecordLocked(e.pid, e.record) || changed
			continue
		}
		p := &e.proc
		if m.endedLocked(e.pid, keyOf(p)) {
			// Read alive at its exec, folded after a scan, its exit
			// event or its record ended it: counted already.
			continue
		}
		matches := m.matcher.AppendMatches(nil, TargetOf(p))
		if len(matches) == 0 && !m.tracker.indexed(e.pid) {
			continue
		}
		if globs == nil {
			globs = m.matcher.Globs()
		}
		m.tracker.exec(globs, &MatchedProc{Proc: *p, Globs: matches})
		m.foldExecRecordLocked(e.pid)
		changed = true
	}
	if changed {
		m.refreshLatest()
	}
}

// refreshLatest puts the counters the events moved into a copy of the
// latest result, so that a scrape between scans sees them. The gauges stay
// those of the last scan.
func (m *Monitor) refreshLatest() {
	old := m.latest.Load()
	if old == nil {
		return
	}
	res := *old
	res.Globs = slices.Clone(res.Globs)
	m.tracker.counters(res.Globs)
	m.latest.Store(&res)
}
