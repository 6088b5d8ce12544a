package monitor

import (
	"context"
	"math"
	"testing"
	"time"

	"github.com/procwatch/procwatch/internal/procevents"
	"github.com/procwatch/procwatch/internal/taskstats"
)

// record is the exit record of a single-threaded process pid named comm
// that started at start (CLOCK_MONOTONIC) and whose record was read at
// start+life, having used cpu in user mode and written written bytes.
func record(pid int, comm string, start, life time.Duration, cpu time.Duration, written uint64) taskstats.Event {
	return taskstats.Event{Kind: taskstats.Task, Received: start + life, Record: taskstats.Record{
		Version: 16, PID: uint32(pid), TGID: uint32(pid), Comm: comm, Flags: aGroup,
		Elapsed: life, UserCPU: cpu, WriteBytes: written,
	}}
}

// startOf is the CLOCK_MONOTONIC start of proc(pid, ...): StartTicks = pid.
func startOf(pid int) time.Duration { return time.Duration(pid) * (time.Second / userHZ) }

type recordClock struct{ now time.Time }

// scanner returns a function that scans m with src listing procs.
func scanner(t *testing.T, m *Monitor, src *eventSource) func(procs ...Proc) {
	return func(procs ...Proc) {
		t.Helper()
		src.mu.Lock()
		src.procs = procs
		src.mu.Unlock()
		if _, err := m.Scan(context.Background()); err != nil {
			t.Fatal(err)
		}
	}
}

func newRecordMonitor(t *testing.T, src *eventSource, globs ...string) (*Monitor, *recordClock) {
	t.Helper()
	m := New(src)
	clock := &recordClock{now: t0}
	m.records.now = func() time.Time { return clock.now }
	m.records.users.lookup = func(uid string) (string, error) { return map[string]string{"33": "www-data"}[uid], nil }
	if _, err := m.SetGlobs(context.Background(), globs); err != nil {
		t.Fatal(err)
	}
	m.FollowExitRecords(true)
	return m, clock
}

func globOf(t *testing.T, m *Monitor, i int) GlobStats {
	t.Helper()
	res, ok := m.Latest()
	if !ok || len(res.Globs) <= i {
		t.Fatal("no result")
	}
	return res.Globs[i]
}

func handle(t *testing.T, m *Monitor, evs ...any) {
	t.Helper()
	for _, ev := range evs {
		var err error
		switch ev := ev.(type) {
		case procevents.Event:
			err = m.HandleEvent(context.Background(), ev)
		case taskstats.Event:
			err = m.HandleExitRecord(context.Background(), ev)
		}
		if err != nil {
			t.Fatal(err)
		}
	}
}

// TestExitRecordFoldsMemberExactly: a process read at its exec with 10 ms
// of CPU and nothing written exits with 50 ms and 4 KiB written: the glob's
// totals carry the record's values, its start and exit are counted once,
// whether the exit event or the record comes first; a record saying less
// than was read lowers nothing.
func TestExitRecordFoldsMemberExactly(t *testing.T) {
	for _, exitFirst := range []bool{false, true} {
		src := &eventSource{alive: map[int]Proc{10: proc(10, "nginx", 0.01)}}
		m, _ := newRecordMonitor(t, src, "nginx")
		exit := procevents.Event{Kind: procevents.Exit, PID: 10, TGID: 10}
		rec := record(10, "nginx", startOf(10), time.Second, 50*time.Millisecond, 4096)
		handle(t, m, procevents.Event{Kind: procevents.Exec, PID: 10, TGID: 10, Time: startOf(10)})
		if exitFirst {
			handle(t, m, exit, rec)
		} else {
			handle(t, m, rec, exit)
		}
		g := globOf(t, m, 0)
		if g.Starts != 1 || g.Exits != 1 || g.CPUUser != 0.05 || g.WriteBytes != 4096 {
			t.Errorf("exit event first %t: starts %d exits %d cpu %g written %d; want 1 1 0.05 4096", exitFirst, g.Starts, g.Exits, g.CPUUser, g.WriteBytes)
		}
	}
	// Monotonic: the record of a process read with more CPU than the
	// record's sampled time says adds nothing.
	src := &eventSource{alive: map[int]Proc{10: proc(10, "nginx", 0.2)}}
	m, _ := newRecordMonitor(t, src, "nginx")
	handle(t, m, procevents.Event{Kind: procevents.Exec, PID: 10, TGID: 10, Time: startOf(10)},
		record(10, "nginx", startOf(10), time.Second, 150*time.Millisecond, 0))
	if g := globOf(t, m, 0); g.CPUUser != 0.2 || g.Exits != 1 {
		t.Errorf("cpu %g exits %d; want 0.2 as read, and the exit", g.CPUUser, g.Exits)
	}
}

// TestExitRecordCountsRunTime: a record with the scheduler's exact
// on-CPU time is counted at that time, split between user and system in
// the ratio of its tick-sampled times as /proc/PID/stat splits it; the
// sampled times, which can be far off on a busy host, count only when the
// kernel gives no run time.
func TestExitRecordCountsRunTime(t *testing.T) {
	for _, c := range []struct {
		name              string
		user, sys, run    time.Duration
		wantUser, wantSys float64
	}{
		{"sampled over the run time", 120 * time.Millisecond, 40 * time.Millisecond, 100 * time.Millisecond, 0.075, 0.025},
		{"sampled under the run time", 60 * time.Millisecond, 20 * time.Millisecond, 100 * time.Millisecond, 0.075, 0.025},
		{"no system tick", 8 * time.Millisecond, 0, 5 * time.Millisecond, 0.005, 0},
		{"no user tick", 0, 4 * time.Millisecond, 3 * time.Millisecond, 0, 0.003},
		{"no tick at all", 0, 0, 2 * time.Millisecond, 0.002, 0},
		{"no run time", 120 * time.Millisecond, 40 * time.Millisecond, 0, 0.12, 0.04},
	} {
		src := &eventSource{alive: map[int]Proc{}}
		m, _ := newRecordMonitor(t, src, "nginx")
		rec := record(10, "nginx", startOf(10), time.Second, c.user, 0)
		rec.SystemCPU, rec.RunTime = c.sys, c.run
		handle(t, m, procevents.Event{Kind: procevents.Exec, PID: 10, TGID: 10, Time: startOf(10)}, rec)
		g := globOf(t, m, 0)
		if math.Abs(g.CPUUser-c.wantUser) > 1e-9 || math.Abs(g.CPUSystem-c.wantSys) > 1e-9 || g.Exits != 1 {
			t.Errorf("%s: user %g system %g exits %d; want %g %g 1", c.name, g.CPUUser, g.CPUSystem, g.Exits, c.wantUser, c.wantSys)
		}
	}
}

// TestExitRecordIdentifiesUnreadExec: a process gone before its exec
// could be read is counted from its exit record, a start and an exit with
// its CPU and I/O, in the name and user: globs it matches, whether the
// record comes before the exec event or after; nothing is unidentified.
func TestExitRecordIdentifiesUnreadExec(t *testing.T) {
	for _, recordFirst := range []bool{false, true} {
		m, _ := newRecordMonitor(t, &eventSource{}, "pwburst*", "user:www-data", "sshd")
		exec := procevents.Event{Kind: procevents.Exec, PID: 500, TGID: 500, Time: 10*time.Second + time.Millisecond}
		rec := record(500, "pwburst123", 10*time.Second, 6*time.Millisecond, 4*time.Millisecond, 512)
		rec.UID = 33
		if recordFirst {
			handle(t, m, rec, exec)
		} else {
			handle(t, m, exec, rec)
		}
		for i, want := range [][2]uint64{{1, 1}, {1, 1}, {0, 0}} {
			g := globOf(t, m, i)
			if [2]uint64{g.Starts, g.Exits} != want {
				t.Errorf("record first %t: %s [starts exits] = [%d %d], want %v", recordFirst, g.Glob, g.Starts, g.Exits, want)
			}
		}
		if g := globOf(t, m, 0); g.CPUUser != 0.004 || g.WriteBytes != 512 {
			t.Errorf("record first %t: cpu %g written %d; want the record's 0.004 and 512", recordFirst, g.CPUUser, g.WriteBytes)
		}
		if n := m.Stats().EventsUnidentified; n != 0 {
			t.Errorf("record first %t: %d unidentified", recordFirst, n)
		}
	}
}

// TestExitRecordPidReuse: a record of a process that started after the
// exec of the same pid (the pid was reused) identifies nothing, and the
// exec it does not belong to is counted unidentified when it expires; a
// record for a member's pid that started later is not the member's.
func TestExitRecordPidReuse(t *testing.T) {
	m, clock := newRecordMonitor(t, &eventSource{alive: map[int]Proc{10: proc(10, "nginx", 0.01)}}, "pwburst*", "nginx")
	handle(t, m,
		procevents.Event{Kind: procevents.Exec, PID: 500, TGID: 500, Time: 10 * time.Second},
		record(500, "pwburst1", 20*time.Second, time.Millisecond, time.Millisecond, 0),
		procevents.Event{Kind: procevents.Exec, PID: 10, TGID: 10, Time: startOf(10)},
		record(10, "nginx", 30*time.Second, time.Millisecond, time.Second, 0))
	if g := globOf(t, m, 0); g.Starts != 0 || g.Exits != 0 {
		t.Errorf("pwburst* [starts exits] = [%d %d] from a reused pid's record", g.Starts, g.Exits)
	}
	if g := globOf(t, m, 1); g.Starts != 1 || g.Exits != 0 || g.CPUUser != 0.01 {
		t.Errorf("nginx starts %d exits %d cpu %g; want its own start only, the record is of another process", g.Starts, g.Exits, g.CPUUser)
	}
	clock.now = clock.now.Add(recordWait + time.Second)
	if _, err := m.Scan(context.Background()); err != nil {
		t.Fatal(err)
	}
	if n := m.Stats().EventsUnidentified; n != 1 {
		t.Errorf("%d unidentified after the exec's wait; want 1", n)
	}
}

// TestExitRecordCannotDecide: a 15-byte comm may be cut, and a glob on
// the command line cannot be decided from a record: such an exec counts
// as unidentified, no start; without exit records an unread exec is
// unidentified at once.
func TestExitRecordCannotDecide(t *testing.T) {
	m, _ := newRecordMonitor(t, &eventSource{}, "kube-controller*")
	handle(t, m,
		procevents.Event{Kind: procevents.Exec, PID: 500, TGID: 500, Time: 10 * time.Second},
		record(500, "kube-controller", 10*time.Second, time.Millisecond, 0, 0))
	if g := globOf(t, m, 0); g.Starts != 0 || m.Stats().EventsUnidentified != 1 {
		t.Errorf("15-byte comm: starts %d unidentified %d; want 0 and 1", g.Starts, m.Stats().EventsUnidentified)
	}
	m, _ = newRecordMonitor(t, &eventSource{}, "pw*", "cmdline:pw*")
	handle(t, m,
		procevents.Event{Kind: procevents.Exec, PID: 500, TGID: 500, Time: 10 * time.Second},
		record(500, "pw", 10*time.Second, time.Millisecond, 0, 0))
	if g := globOf(t, m, 0); g.Starts != 1 || m.Stats().EventsUnidentified != 1 {
		t.Errorf("beside a cmdline glob: starts %d unidentified %d; want 1 (the name glob) and 1 (the cmdline glob)", g.Starts, m.Stats().EventsUnidentified)
	}
	m.FollowExitRecords(false)
	handle(t, m, procevents.Event{Kind: procevents.Exec, PID: 501, TGID: 501, Time: 11 * time.Second})
	if n := m.Stats().EventsUnidentified; n != 2 {
		t.Errorf("without records: %d unidentified, want 2", n)
	}
}

// TestExitRecordAfterScansCountedIt: when the events lag behind the scans
// (a burst, a slow host), a scan may see a process start and exit (gone,
// or a zombie) before its exec event is handled; the exec then finds it
// gone and its record, whichever comes first, must count it no second
// time, nor call it unidentified.
func TestExitRecordAfterScansCountedIt(t *testing.T) {
	for _, zombie := range []bool{false, true} {
		for _, recordFirst := range []bool{false, true} {
			p := proc(700, "pwburst9", 0.001)
			src := &eventSource{}
			m, _ := newRecordMonitor(t, src, "pwburst*")
			scan := scanner(t, m, src)
			scan(p)
			if zombie {
				z := p
				z.Zombie, z.State = true, 'Z'
				scan(z)
			} else {
				scan()
			}
			exec := procevents.Event{Kind: procevents.Exec, PID: 700, TGID: 700, Time: startOf(700) + time.Millisecond}
			rec := record(700, "pwburst9", startOf(700), 20*time.Millisecond, time.Millisecond, 0)
			if recordFirst {
				handle(t, m, rec, exec)
			} else {
				handle(t, m, exec, rec)
			}
			handle(t, m, procevents.Event{Kind: procevents.Exit, PID: 700, TGID: 700})
			if got := startsExitsOf(t, m); got != [2]uint64{1, 1} {
				t.Errorf("zombie %t, record first %t: [starts exits] = %v, want [1 1]: counted again", zombie, recordFirst, got)
			}
			if n := m.Stats().EventsUnidentified; n != 0 {
				t.Errorf("zombie %t, record first %t: %d unidentified", zombie, recordFirst, n)
			}
		}
	}
}

// TestExecFoldedAfterItsEnd: an exec read while its process was alive can
// be folded after a scan made the process a member and its exit record or
// exit event ended it (the events lag behind); it must not make the
// process a member, and a start, again.
func TestExecFoldedAfterItsEnd(t *testing.T) {
	for _, end := range []string{"record", "exit event then record"} {
		p := proc(800, "pwburst8", 0.001)
		src := &eventSource{alive: map[int]Proc{800: p}}
		m, _ := newRecordMonitor(t, src, "pwburst*")
		src.mu.Lock()
		src.procs = []Proc{p}
		src.mu.Unlock()
		if _, err := m.Scan(context.Background()); err != nil {
			t.Fatal(err)
		}
		rec := record(800, "pwburst8", startOf(800), 20*time.Millisecond, time.Millisecond, 0)
		if end == "record" {
			handle(t, m, rec)
		} else {
			handle(t, m, procevents.Event{Kind: procevents.Exit, PID: 800, TGID: 800}, rec)
		}
		handle(t, m, procevents.Event{Kind: procevents.Exec, PID: 800, TGID: 800, Time: startOf(800) + time.Millisecond})
		if got := startsExitsOf(t, m); got != [2]uint64{1, 1} {
			t.Errorf("%s: [starts exits] = %v, want [1 1]", end, got)
		}
	}
}

// TestLaggingExecAfterScansCountedIt: a starved agent handles the exec of
// a short process long after two scans counted its start and exit, and
// after its exit record came. The scans' count stands however long the
// events lag: the record and the exec, coming later than recordWait, do
// not count the process a second time. Once the events have passed the
// moment the scans saw it gone, what was kept of it is given up.
func TestLaggingExecAfterScansCountedIt(t *testing.T) {
	for _, recordFirst := range []bool{true, false} {
		p := proc(900, "pwburst7", 0.001)
		src := &eventSource{}
		m, clock := newRecordMonitor(t, src, "pwburst*")
		scanned := startOf(900) + 100*time.Millisecond
		m.records.mono = func() time.Duration { return scanned }
		scan := scanner(t, m, src)
		scan(p)
		scan()
		// The events of before the scans are still coming, 6 s late.
		handle(t, m, procevents.Event{Kind: procevents.Exit, PID: 901, TGID: 901, Time: startOf(900)})
		clock.now = clock.now.Add(recordWait + time.Second)
		exec := procevents.Event{Kind: procevents.Exec, PID: 900, TGID: 900, Time: startOf(900) + time.Millisecond}
		rec := record(900, "pwburst7", startOf(900), 20*time.Millisecond, time.Millisecond, 0)
		if recordFirst {
			handle(t, m, rec, exec)
		} else {
			handle(t, m, exec, rec)
		}
		handle(t, m, procevents.Event{Kind: procevents.Exit, PID: 900, TGID: 900, Time: startOf(900) + 20*time.Millisecond})
		if got := startsExitsOf(t, m); got != [2]uint64{1, 1} {
			t.Errorf("record first %t: [starts exits] = %v, want [1 1]: counted again", recordFirst, got)
		}
		if n := m.Stats().EventsUnidentified; n != 0 {
			t.Errorf("record first %t: %d unidentified", recordFirst, n)
		}
		// The events catch up with the scans: nothing is kept any more.
		handle(t, m, procevents.Event{Kind: procevents.Exit, PID: 902, TGID: 902, Time: scanned + time.Millisecond})
		clock.now = clock.now.Add(recordWait + time.Second)
		handle(t, m, procevents.Event{Kind: procevents.Exit, PID: 903, TGID: 903, Time: scanned + 2*time.Millisecond})
		m.mu.Lock()
		kept := m.records.counted.len() + m.records.recent.len() + m.records.unread.len() + m.records.departed.len()
		m.mu.Unlock()
		if kept != 0 {
			t.Errorf("record first %t: %d entries kept after the events passed them", recordFirst, kept)
		}
	}
}

// TestScanBetweenRecordAndZombie: the kernel sends a process's exit
// record before the process becomes a zombie, so a scan in between reads
// it running. Ended by its record, it is no member again: the scan counts
// no second start, and its exit event no second exit. The record may be
// read before the exec (two sockets, two goroutines) or after it.
func TestScanBetweenRecordAndZombie(t *testing.T) {
	for _, recordFirst := range []bool{false, true} {
		p := proc(950, "pwburst6", 0.001)
		src := &eventSource{alive: map[int]Proc{950: p}}
		m, _ := newRecordMonitor(t, src, "pwburst*")
		scan := scanner(t, m, src)
		scan()
		exec := procevents.Event{Kind: procevents.Exec, PID: 950, TGID: 950, Time: startOf(950) + time.Millisecond}
		rec := record(950, "pwburst6", startOf(950), 20*time.Millisecond, time.Millisecond, 0)
		if recordFirst {
			handle(t, m, rec, exec)
		} else {
			handle(t, m, exec, rec)
		}
		scan(p)
		if got := globOf(t, m, 0); got.Starts != 1 || got.Processes != 1 {
			t.Errorf("record first %t: scan after the record: %d starts, %d processes; want 1 start, and the process still listed",
				recordFirst, got.Starts, got.Processes)
		}
		handle(t, m, procevents.Event{Kind: procevents.Exit, PID: 950, TGID: 950, Time: startOf(950) + 21*time.Millisecond})
		z := p
		z.Zombie, z.State = true, 'Z'
		scan(z)
		scan()
		if got := startsExitsOf(t, m); got != [2]uint64{1, 1} {
			t.Errorf("record first %t: [starts exits] = %v, want [1 1]: counted again", recordFirst, got)
		}
	}
}

// TestUnreadExecOfAScannedMember: a scan lists a short process before its
// exec is handled, and by then the process is gone, so the exec cannot be
// read; its exit event and record then end the member the scan made. The
// process was counted, once: its exec is not unidentified when it
// expires.
func TestUnreadExecOfAScannedMember(t *testing.T) {
	p := proc(970, "pwburst5", 0.001)
	src := &eventSource{}
	m, clock := newRecordMonitor(t, src, "pwburst*")
	scan := scanner(t, m, src)
	scan()
	scan(p)
	handle(t, m,
		procevents.Event{Kind: procevents.Exec, PID: 970, TGID: 970, Time: startOf(970) + time.Millisecond},
		procevents.Event{Kind: procevents.Exit, PID: 970, TGID: 970, Time: startOf(970) + 20*time.Millisecond},
		record(970, "pwburst5", startOf(970), 20*time.Millisecond, time.Millisecond, 0))
	clock.now = clock.now.Add(recordWait + time.Second)
	scan()
	if got := startsExitsOf(t, m); got != [2]uint64{1, 1} {
		t.Errorf("[starts exits] = %v, want [1 1]", got)
	}
	if n := m.Stats().EventsUnidentified; n != 0 {
		t.Errorf("%d execs unidentified, want 0: the scan identified it", n)
	}
}
