package monitor

import (
	"context"
	"fmt"
	"runtime/debug"
	"time"

	"github.com/procwatch/procwatch/internal/pattern"
	"github.com/procwatch/procwatch/internal/taskstats"
)

// How long the Monitor keeps what waits for its other half: an exec whose
// process was gone before it could be read (until its exit record comes),
// an exit record of a pid not known yet (until its exec comes), and a
// member the exit event removed (until its record folds in what it used
// last). The two sources are read by different goroutines, so either half
// may come first, but within milliseconds of the other unless the agent is
// starved: what is still waiting after recordWait is given up, an exec
// then counted unidentified. What tells that a process was counted
// already is kept longer when the events lag: see expireRecordsLocked.
const (
	recordWait = 5 * time.Second
	// maxEventLag bounds how long the events' stream may lag behind the
	// scans: past it the queues have overflowed (a Lost event, a scan)
	// long before, so what waits for the stream to pass it is given up.
	maxEventLag = time.Minute
	// recordCap bounds each of the three: past it the oldest is given up.
	recordCap = 8192
	// recordSlack is how long a record may have waited in the socket: its
	// estimated start (Event.Started) is that much later than the true
	// one at most, for the checks that tell a reused pid apart.
	recordSlack = 2 * time.Second
	// aGroup is ac_flag's AGROUP: the record's task was the last of its
	// process.
	aGroup = 0x20
)

// userNamer is a Source that names uids as its scans do, so that a
// process identified from its exit record has the user a scan would give
// it. [LinuxSource] is one.
type userNamer interface {
	UserName(uid uint32) string
}

// recordState is what the Monitor keeps of exit records; the fold holds
// m.mu over it.
type recordState struct {
	on       bool // exit records are followed: an unread exec waits for its record
	now      func() time.Time
	users    userNames // when the Source names no uids
	unread   fifo[time.Duration]
	recent   fifo[*taskstats.Event]
	departed fifo[departed]
	// counted are processes a scan saw exit, their start and exit
	// counted: an exec of theirs handled after that scan finds them gone
	// and must not wait for their record, nor the record count them again.
	counted fifo[ended]
	// execClock is the time (CLOCK_MONOTONIC) of the latest process event
	// folded in. The events come in the order the kernel sent them, so
	// once it passes the moment a process was known to have ended, no exec
	// of that process can come any more.
	execClock time.Duration
	mono      func() time.Duration // CLOCK_MONOTONIC; monotonic unless a test sets it
}

// ended is a process counted as ended, and when it was known to have
// ended at the latest (CLOCK_MONOTONIC).
type ended struct {
	key procKey
	by  time.Duration
}

// passEvent notes that a process event of time at was folded in.
func (rs *recordState) passEvent(at time.Duration) {
	rs.execClock = max(rs.execClock, at)
}

// FollowExitRecords tells the Monitor whether [Monitor.HandleExitRecord]
// is fed: while it is, an exec whose process was gone before it could be
// read waits for its exit record rather than being counted unidentified
// at once. Turn it off when the records end.
func (m *Monitor) FollowExitRecords(on bool) {
	m.mu.Lock()
	m.records.on = on
	m.unlock()
}

// HandleExitRecord folds one of the kernel's exit records (see
// internal/taskstats) into the counters, between scans:
//
//   - the record of a process that is a member of globs folds its final
//     CPU, I/O, faults and switches into them (never less than already
//     read) and exits it, unless its exit event did first, in which case
//     it folds only what it used;
//   - the record of a process whose exec was announced but which was gone
//     before it could be read identifies it: name globs match its comm
//     when shorter than 15 bytes, user: globs its uid; it then counts a
//     start and an exit, with what it used, in each glob it matches. Globs
//     of other kinds cannot be decided from a record: the exec counts as
//     unidentified when such globs are in force or the comm may be cut;
//   - a record whose exec has not been handled yet waits for it;
//   - a Lost event scans at once, as for lost process events.
//
// The record of a leader whose other threads live on is ignored: the
// record of the thread group comes when its last thread exits. The error
// is the scan's.
func (m *Monitor) HandleExitRecord(ctx context.Context, ev taskstats.Event) (err error) {
	if ev.Kind == taskstats.Lost {
		m.stats.countRescan()
		_, err := m.Scan(ctx)
		return err
	}
	defer func() {
		if r := recover(); r != nil {
			err = fmt.Errorf("monitor: exit record %s panicked: %v\n%s", ev, r, debug.Stack())
		}
	}()
	pid := int(ev.PID)
	switch {
	case ev.Kind == taskstats.Group:
		pid = int(ev.TGID)
	case !ev.IsProcess():
		return nil
	case ev.Version >= 12 && ev.Flags&aGroup == 0:
		// A leader gone before its threads.
		return nil
	}
	if pid <= 0 {
		return nil
	}
	m.fold(pendingEvent{kind: pendingRecord, pid: pid, record: &ev})
	return nil
}

// foldRecordLocked folds in an exit record; m.mu is held.
func (m *Monitor) foldRecordLocked(pid int, ev *taskstats.Event) bool {
	rs := &m.records
	if m.endMemberByRecordLocked(pid, ev) {
		rs.unread.take(pid)
		return true
	}
	if d, ok := rs.departed.take(pid); ok {
		if sameStart(d.key, ev) {
			rs.counted.put(pid, ended{d.key, ev.Received}, rs.clock(), recordCap, nil)
			p := procOfRecord(ev)
			return m.tracker.foldDeparted(d, &p)
		}
	}
	if e, ok := rs.counted.peek(pid); ok && sameStart(e.key, ev) {
		// Kept until it expires: the exec of the same process may still
		// be folded after this.
		rs.unread.take(pid)
		return false
	}
	if at, ok := rs.unread.peek(pid); ok && sameExec(at, ev) {
		rs.unread.take(pid)
		return m.livedLocked(ev)
	}
	rs.recent.put(pid, ev, rs.clock(), recordCap, nil)
	return false
}

// foldUnreadLocked handles an exec whose process was gone before it
// could be read: its record, if it came first, identifies it; else it
// waits for its record, or is unidentified at once when no records come.
func (m *Monitor) foldUnreadLocked(pid int, at time.Duration) bool {
	rs := &m.records
	if e, ok := rs.counted.peek(pid); ok && execOf(e.key, at) {
		// A scan counted it while its exec waited in the queue.
		return false
	}
	if ev, ok := rs.recent.peek(pid); ok && sameExec(at, ev) {
		rs.recent.take(pid)
		return m.livedLocked(ev)
	}
	if key, ok := m.tracker.pids[pid]; ok && execOf(key, at) {
		// A scan read it, and made it a member, while its exec waited in
		// the queue: it is identified, and its exit event or record ends
		// it.
		return false
	}
	if !rs.on {
		m.stats.countUnidentified()
		return false
	}
	rs.unread.put(pid, at, rs.clock(), recordCap, func(time.Duration) { m.stats.countUnidentified() })
	return false
}

// foldExecRecordLocked applies a record that came before the exec of its
// process, which the exec has just made a member.
func (m *Monitor) foldExecRecordLocked(pid int) bool {
	ev, ok := m.records.recent.peek(pid)
	if !ok {
		return false
	}
	if m.endMemberByRecordLocked(pid, ev) {
		m.records.recent.take(pid)
		return true
	}
	return false
}

// endMemberByRecordLocked ends the member pid with its exit record, if
// the record is of that process, and remembers it as counted: the kernel
// sends the record before the process is a zombie, so a scan may still
// read it running, and an exec of it read alive may be folded later;
// neither must make it a member, and a start, again. m.mu is held.
func (m *Monitor) endMemberByRecordLocked(pid int, ev *taskstats.Event) bool {
	key, member := m.tracker.pids[pid]
	p := procOfRecord(ev)
	if !member || !m.tracker.exitRecord(pid, &p, func(k procKey) bool { return sameStart(k, ev) }) {
		return false
	}
	m.records.counted.put(pid, ended{key, ev.Received}, m.records.clock(), recordCap, nil)
	return true
}

// livedLocked counts a process known only from its exit record.
func (m *Monitor) livedLocked(ev *taskstats.Event) bool {
	if ev.Kind == taskstats.Group {
		// A thread group's record has no comm or user.
		m.stats.countUnidentified()
		return false
	}
	p := procOfRecord(ev)
	nameKnown := len(ev.Comm) < taskstats.CommCut
	var user string
	needs := m.matcher.Needs()
	if needs.Has(pattern.User) {
		user = m.userName(ev.UID)
		p.User = user
	}
	matches := m.matcher.appendRecordMatches(nil, ev.Comm, nameKnown, user)
	if !nameKnown && needs.Has(pattern.Name) || needs.Has(pattern.Exe) || needs.Has(pattern.Cmdline) ||
		needs.Has(pattern.Unit) || needs.Has(pattern.Cgroup) {
		m.stats.countUnidentified()
	}
	if len(matches) == 0 {
		return false
	}
	return m.tracker.lived(m.matcher.Globs(), &MatchedProc{Proc: p, Globs: matches})
}

func (m *Monitor) userName(uid uint32) string {
	if un, ok := m.src.(userNamer); ok {
		return un.UserName(uid)
	}
	return m.records.users.name(uid)
}

// expireRecordsLocked gives up what waited too long; m.mu is held.
func (m *Monitor) expireRecordsLocked() {
	rs := &m.records
	if rs.unread.len()+rs.recent.len()+rs.departed.len()+rs.counted.len() == 0 {
		return
	}
	now := rs.clock()
	before, lagged := now.Add(-recordWait), now.Add(-maxEventLag)
	rs.unread.expire(before, func(time.Duration) { m.stats.countUnidentified() })
	rs.departed.expire(before, nil)
	// A process counted as ended, and a record waiting for its exec, are
	// given up once the events have passed the moment the process had
	// ended by, not merely after recordWait: when the agent is starved,
	// an exec may be handled long after its process was counted by a
	// scan, and finding neither it would count the process again from its
	// record.
	passed := func(by time.Duration, at time.Time) bool {
		return at.Before(before) && (!rs.on || by < rs.execClock || at.Before(lagged))
	}
	rs.recent.expireWhile(func(ev *taskstats.Event, at time.Time) bool { return passed(ev.Received, at) }, nil)
	rs.counted.expireWhile(func(e ended, at time.Time) bool { return passed(e.by, at) }, nil)
}

// endedLocked tells whether the process key was a member that has ended
// since (a scan saw it go, or its exit event or record came); m.mu is
// held.
func (m *Monitor) endedLocked(pid int, key procKey) bool {
	rs := &m.records
	if e, ok := rs.counted.peek(pid); ok && e.key == key {
		return true
	}
	d, ok := rs.departed.peek(pid)
	return ok && d.key == key
}

// noteScanExitsLocked remembers the exits the last scan counted, for the
// execs read before it and folded after it, and for late exit records;
// m.mu is held.
func (m *Monitor) noteScanExitsLocked() {
	rs := &m.records
	if len(m.tracker.scanExits) == 0 {
		return
	}
	by := rs.monotonic()
	for _, k := range m.tracker.scanExits {
		rs.counted.put(k.pid, ended{k, by}, rs.clock(), recordCap, nil)
	}
}

func (rs *recordState) monotonic() time.Duration {
	if rs.mono != nil {
		return rs.mono()
	}
	return monotonic()
}

func (rs *recordState) clock() time.Time {
	if rs.now != nil {
		return rs.now()
	}
	return time.Now()
}

// appendRecordMatches appends the globs a process known from its exit
// record matches: name globs by its comm when it is whole, user: globs by
// its user. Globs of other kinds match nothing: a record cannot say.
func (m *Matcher) appendRecordMatches(dst []int, comm string, nameKnown bool, user string) []int {
	if m == nil {
		return dst
	}
	for i := range m.globs {
		g := &m.globs[i]
		switch g.Kind() {
		case pattern.Name:
			if nameKnown && g.Match(comm) {
				dst = append(dst, i)
			}
		case pattern.User:
			if user != "" && g.Match(user) {
				dst = append(dst, i)
			}
		}
	}
	return dst
}

// procOfRecord is what the record says of its process, as a scan would
// have read it at the exit. When the kernel gives it, the exact on-CPU
// time is split between user and system as the kernel splits it for
// /proc/PID/stat; otherwise the tick-sampled times are taken as they are.
// A thread group's switches are every thread's, where /proc counts the
// main thread's: they are left out.
func procOfRecord(ev *taskstats.Event) Proc {
	user, sys := ev.UserCPU, ev.SystemCPU
	if ev.RunTime > 0 {
		user, sys = splitRunTime(user, sys, ev.RunTime)
	}
	p := Proc{
		PID:         int(ev.PID),
		Name:        ev.Comm,
		Comm:        ev.Comm,
		StartTime:   time.Unix(ev.BeginTime, 0),
		CPUUser:     user.Seconds(),
		CPUSystem:   sys.Seconds(),
		ReadBytes:   ev.ReadBytes,
		WriteBytes:  ev.WriteBytes,
		MinorFaults: ev.MinorFaults,
		MajorFaults: ev.MajorFaults,
	}
	if ev.Kind == taskstats.Task {
		p.VoluntarySwitches, p.InvoluntarySwitches = ev.VoluntarySwitches, ev.InvoluntarySwitches
	}
	return p
}

// splitRunTime divides rt between user and system in the ratio of the
// sampled utime and stime, as the kernel's cputime_adjust does.
func splitRunTime(utime, stime, rt time.Duration) (user, sys time.Duration) {
	switch {
	case stime == 0:
		return rt, 0
	case utime == 0:
		return 0, rt
	}
	sys = time.Duration(float64(rt) * float64(stime) / float64(utime+stime))
	return rt - sys, sys
}

// sameExec reports whether an exec at at (CLOCK_MONOTONIC) can be of the
// task ev records: after its start and before its exit, given how long
// the record may have waited.
func sameExec(at time.Duration, ev *taskstats.Event) bool {
	return at <= ev.Received && at+recordSlack >= ev.Started()
}

// execOf reports whether an exec at at (CLOCK_MONOTONIC) can be of the
// process k identifies: not before it started. A source without start
// ticks cannot tell, and says yes.
func execOf(k procKey, at time.Duration) bool {
	if k.ticks == 0 {
		return true
	}
	const tick = time.Second / userHZ
	return at+tick >= time.Duration(k.ticks)*tick
}

// sameStart reports whether the process k identifies can be the one ev
// records, by start time: a reused pid started after the one it
// replaces exited. StartTicks count CLOCK_BOOTTIME, which is
// CLOCK_MONOTONIC unless the host suspended.
func sameStart(k procKey, ev *taskstats.Event) bool {
	if k.ticks == 0 {
		d := k.start/int64(time.Second) - ev.BeginTime
		return d >= -2 && d <= 2
	}
	const tick = time.Second / userHZ
	start := time.Duration(k.ticks) * tick
	est := ev.Started()
	return est >= start-tick-50*time.Millisecond && est <= start+tick+recordSlack
}
