package monitor

import (
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
)

var t0 = time.Unix(1700000000, 0)

// tp builds a matched process for the tracker: start is in seconds after
// t0, cpu is user seconds (system is half of it), io is read bytes (write
// is twice that).
func tp(pid int, start int, cpu float64, io uint64, globs ...int) MatchedProc {
	return MatchedProc{
		Proc: Proc{
			PID: pid, StartTicks: uint64(start) * userHZ, StartTime: t0.Add(time.Duration(start) * time.Second),
			CPUUser: cpu, CPUSystem: cpu / 2, ReadBytes: io, WriteBytes: 2 * io,
			Threads: 2, RSS: 1000, VSize: 5000, FDs: 3, State: 'S',
		},
		Globs: globs,
	}
}

func snap(procs ...MatchedProc) *Snapshot { return &Snapshot{Procs: procs, Scanned: len(procs) + 10} }

// counters is the part of GlobStats a test usually checks.
type counters struct {
	Glob      string
	Processes int
	CPUUser   float64
	ReadBytes uint64
	Starts    uint64
	Exits     uint64
}

func countersOf(stats []GlobStats) []counters {
	out := make([]counters, len(stats))
	for i, s := range stats {
		out[i] = counters{s.Glob, s.Processes, s.CPUUser, s.ReadBytes, s.Starts, s.Exits}
	}
	return out
}

func TestTrackerEveryGlobPresent(t *testing.T) {
	var tr tracker
	got := tr.update([]string{"a", "b"}, snap())
	want := []GlobStats{{Glob: "a"}, {Glob: "b"}}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("mismatch (-want +got):\n%s", diff)
	}
}

func TestTrackerGauges(t *testing.T) {
	var tr tracker
	got := tr.update([]string{"a", "b"}, snap(tp(1, 50, 1, 10, 0, 1), tp(2, 20, 2, 20, 0)))
	want := []GlobStats{
		{Glob: "a", Processes: 2, Threads: 4, RSS: 2000, VSize: 10000, FDs: 6, OldestStart: t0.Add(20 * time.Second),
			CPUUser: 3, CPUSystem: 1.5, ReadBytes: 30, WriteBytes: 60, States: [NumStates]int{StateSleeping: 2}},
		{Glob: "b", Processes: 1, Threads: 2, RSS: 1000, VSize: 5000, FDs: 3, OldestStart: t0.Add(50 * time.Second),
			CPUUser: 1, CPUSystem: 0.5, ReadBytes: 10, WriteBytes: 20, States: [NumStates]int{StateSleeping: 1}},
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("mismatch (-want +got):\n%s", diff)
	}
}

func TestTrackerSequence(t *testing.T) {
	globs := []string{"a", "b"}
	steps := []struct {
		name  string
		globs []string
		snap  *Snapshot
		want  []counters
	}{
		{"first scan: present processes are not starts", globs, snap(tp(1, 1, 10, 100, 0), tp(2, 2, 5, 50, 0, 1)),
			[]counters{{"a", 2, 15, 150, 0, 0}, {"b", 1, 5, 50, 0, 0}}},
		{"growth is added", globs, snap(tp(1, 1, 12, 110, 0), tp(2, 2, 6, 50, 0, 1)),
			[]counters{{"a", 2, 18, 160, 0, 0}, {"b", 1, 6, 50, 0, 0}}},
		{"a new process is a start", globs, snap(tp(1, 1, 12, 110, 0), tp(2, 2, 6, 50, 0, 1), tp(3, 30, 1, 1, 1)),
			[]counters{{"a", 2, 18, 160, 0, 0}, {"b", 2, 7, 51, 1, 0}}},
		{"an exit keeps the final values", globs, snap(tp(1, 1, 12, 110, 0), tp(3, 30, 1, 1, 1)),
			[]counters{{"a", 1, 18, 160, 0, 1}, {"b", 1, 7, 51, 1, 1}}},
		{"an unreadable value does not pull a counter down", globs, snap(tp(1, 1, 12, 0, 0), tp(3, 30, 1, 1, 1)),
			[]counters{{"a", 1, 18, 160, 0, 1}, {"b", 1, 7, 51, 1, 1}}},
		{"and counts only growth past the old mark when it is back", globs, snap(tp(1, 1, 12, 115, 0), tp(3, 30, 1, 1, 1)),
			[]counters{{"a", 1, 18, 165, 0, 1}, {"b", 1, 7, 51, 1, 1}}},
		{"pid reuse is an exit and a start", globs, snap(tp(1, 1, 12, 115, 0), tp(3, 40, 0.5, 0, 1)),
			[]counters{{"a", 1, 18, 165, 0, 1}, {"b", 1, 7.5, 51, 2, 2}}},
		{"a process that stops matching is an exit", globs, snap(tp(1, 1, 13, 115), tp(3, 40, 0.5, 0, 1)),
			[]counters{{"a", 0, 18, 165, 0, 2}, {"b", 1, 7.5, 51, 2, 2}}},
		{"a process that starts matching is a start", globs, snap(tp(1, 1, 14, 115, 0), tp(3, 40, 0.5, 0, 1)),
			[]counters{{"a", 1, 32, 280, 1, 2}, {"b", 1, 7.5, 51, 2, 2}}},
		{"a staying glob keeps its counters, a new one starts from what runs", []string{"b", "c"},
			snap(tp(1, 1, 14, 115, 0, 1), tp(3, 40, 0.5, 0, 0, 1)),
			[]counters{{"b", 2, 21.5, 166, 3, 2}, {"c", 2, 14.5, 115, 0, 0}}},
		{"the new glob counts starts after its first scan", []string{"b", "c"},
			snap(tp(1, 1, 14, 115, 0, 1), tp(3, 40, 0.5, 0, 0, 1), tp(4, 50, 0, 0, 1)),
			[]counters{{"b", 2, 21.5, 166, 3, 2}, {"c", 3, 14.5, 115, 1, 0}}},
		{"a removed glob that comes back starts again", []string{"a", "b", "c"},
			snap(tp(1, 1, 14, 115, 0, 2), tp(3, 40, 0.5, 0, 1, 2), tp(4, 50, 0, 0, 2)),
			[]counters{{"a", 1, 14, 115, 0, 0}, {"b", 1, 21.5, 166, 3, 3}, {"c", 3, 14.5, 115, 1, 0}}},
	}
	var tr tracker
	for _, s := range steps {
		got := countersOf(tr.update(s.globs, s.snap))
		if diff := cmp.Diff(s.want, got); diff != "" {
			t.Fatalf("%s: mismatch (-want +got):\n%s", s.name, diff)
		}
	}
	if len(tr.globs) != 3 {
		t.Errorf("tracker holds %d globs, want 3", len(tr.globs))
	}
}

func TestTrackerIgnoresOutOfRangeGlobIndex(t *testing.T) {
	var tr tracker
	got := countersOf(tr.update([]string{"a"}, snap(tp(1, 1, 1, 1, 0, 5, -1))))
	if diff := cmp.Diff([]counters{{"a", 1, 1, 1, 0, 0}}, got); diff != "" {
		t.Errorf("mismatch (-want +got):\n%s", diff)
	}
}

// TestTrackerZombie: a member that turns zombie leaves the gauges and
// counts as one exit, its last CPU and I/O kept; its later sightings and its
// reaping count nothing more, and a zombie never seen alive is no start.
func TestTrackerZombie(t *testing.T) {
	var tr tracker
	zombie := func(p MatchedProc) MatchedProc {
		p.Zombie, p.Threads, p.RSS, p.VSize, p.FDs = true, 1, 0, 0, 0
		return p
	}
	tr.update([]string{"a"}, snap(tp(1, 10, 1, 10, 0), tp(2, 20, 1, 10, 0)))
	got := tr.update([]string{"a"}, snap(zombie(tp(1, 10, 3, 30, 0)), tp(2, 20, 1, 10, 0), zombie(tp(3, 30, 5, 5, 0))))
	want := []GlobStats{{Glob: "a", Processes: 1, Threads: 2, RSS: 1000, VSize: 5000, FDs: 3, Zombies: 2,
		States:      [NumStates]int{StateSleeping: 1, StateZombie: 2},
		OldestStart: t0.Add(20 * time.Second), CPUUser: 4, CPUSystem: 2, ReadBytes: 40, WriteBytes: 80, Exits: 1}}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("turned zombie (-want +got):\n%s", diff)
	}
	got = tr.update([]string{"a"}, snap(zombie(tp(1, 10, 3, 30, 0)), tp(2, 20, 1, 10, 0), zombie(tp(3, 30, 5, 5, 0))))
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("zombie seen again (-want +got):\n%s", diff)
	}
	got = tr.update([]string{"a"}, snap(tp(2, 20, 1, 10, 0)))
	want[0].Zombies, want[0].States[StateZombie] = 0, 0
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("reaped (-want +got):\n%s", diff)
	}
}

// TestTrackerHealth: states are counted by class, swap and PSS summed over
// live processes, the fd ratio is the worst one with a known limit, and
// faults and switches are carried across an exit, a zombie's final values
// included.
func TestTrackerHealth(t *testing.T) {
	health := func(p MatchedProc, state byte, minflt, vcsw uint64, fds int, limit uint64) MatchedProc {
		p.State, p.MinorFaults, p.MajorFaults = state, minflt, minflt/10
		p.VoluntarySwitches, p.InvoluntarySwitches = vcsw, vcsw/2
		p.Swap, p.PSS, p.FDs, p.FDLimit = 4096, 800, fds, limit
		if state == 'Z' {
			p.Zombie, p.Swap, p.PSS, p.FDs = true, 0, 0, 0
		}
		return p
	}
	type row struct {
		States                     [NumStates]int
		Swap, PSS                  uint64
		MaxFDRatio                 float64
		MinFlt, MajFlt, VCSw, ICSw uint64
	}
	rowOf := func(g GlobStats) row {
		return row{g.States, g.Swap, g.PSS, g.MaxFDRatio, g.MinorFaults, g.MajorFaults, g.VoluntarySwitches, g.InvoluntarySwitches}
	}
	var tr tracker
	steps := []struct {
		name string
		snap *Snapshot
		want row
	}{
		{"every state class", snap(
			health(tp(1, 1, 0, 0, 0), 'R', 100, 10, 8, 10),
			health(tp(2, 2, 0, 0, 0), 'S', 200, 20, 3, 0), // unknown limit: no ratio
			health(tp(3, 3, 0, 0, 0), 'D', 300, 30, 1, 1024),
			health(tp(4, 4, 0, 0, 0), 'T', 400, 40, 1, 1024),
			health(tp(5, 5, 0, 0, 0), 'I', 500, 50, 1, 1024),
		), row{[NumStates]int{1, 1, 1, 0, 2}, 5 * 4096, 5 * 800, 0.8, 1500, 150, 150, 75}},
		{"pid 1 turns zombie having faulted more, pid 2 exits", snap(
			health(tp(1, 1, 0, 0, 0), 'Z', 150, 15, 0, 0),
			health(tp(3, 3, 0, 0, 0), 'D', 300, 30, 1, 1024),
			health(tp(4, 4, 0, 0, 0), 'T', 400, 40, 1, 1024),
			health(tp(5, 5, 0, 0, 0), 'I', 500, 50, 1, 1024),
		), row{[NumStates]int{0, 0, 1, 1, 2}, 3 * 4096, 3 * 800, 1.0 / 1024, 1550, 155, 155, 77}},
		{"everything gone", snap(), row{MinFlt: 1550, MajFlt: 155, VCSw: 155, ICSw: 77}},
	}
	for _, s := range steps {
		got := tr.update([]string{"a"}, s.snap)
		if diff := cmp.Diff(s.want, rowOf(got[0])); diff != "" {
			t.Errorf("%s (-want +got):\n%s", s.name, diff)
		}
	}
}
