package monitor

import (
	"testing"

	"github.com/google/go-cmp/cmp"
)

// startsExits reads the tracker's starts and exits per glob, as a scrape
// between scans sees them.
func startsExits(tr *tracker, globs ...string) [][2]uint64 {
	stats := make([]GlobStats, len(globs))
	for i, g := range globs {
		stats[i].Glob = g
	}
	tr.counters(stats)
	out := make([][2]uint64, len(stats))
	for i, s := range stats {
		out[i] = [2]uint64{s.Starts, s.Exits}
	}
	return out
}

// TestTrackerEventsAndScansCountOnce interleaves events and scans in every
// order a scan and an event queue can see one short process in: each way,
// one start and one exit.
func TestTrackerEventsAndScansCountOnce(t *testing.T) {
	globs := []string{"a", "b"}
	p := tp(7, 100, 1, 10, 0)
	tests := []struct {
		name string
		run  func(tr *tracker)
	}{
		{"events only: exec and exit between scans", func(tr *tracker) {
			tr.exec(globs, &p)
			tr.exit(7)
			tr.update(globs, snap())
		}},
		{"a scan lists it before its exec event is handled", func(tr *tracker) {
			tr.update(globs, snap(p))
			tr.exec(globs, &p)
			tr.exit(7)
			tr.update(globs, snap())
		}},
		{"a scan misses it after its exit, before the exit event is handled", func(tr *tracker) {
			tr.exec(globs, &p)
			tr.update(globs, snap())
			tr.exit(7)
		}},
		{"seen by both, exit by event", func(tr *tracker) {
			tr.exec(globs, &p)
			tr.update(globs, snap(p))
			tr.exit(7)
			tr.update(globs, snap())
		}},
		{"read as a zombie at its exec, its exit event after the scan", func(tr *tracker) {
			z := p
			z.Zombie = true
			tr.exec(globs, &z)
			tr.update(globs, snap(z))
			tr.exit(7)
		}},
		{"exit events twice (pid known once)", func(tr *tracker) {
			tr.exec(globs, &p)
			tr.exit(7)
			tr.exit(7)
		}},
		{"already running: a scan lists it, its exit event counts at once", func(tr *tracker) {
			tr.update(globs, snap(p))
			tr.update(globs, snap(p))
			tr.exit(7)
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var tr tracker
			tr.update(globs, snap())
			tt.run(&tr)
			want := [][2]uint64{{1, 1}, {0, 0}}
			if diff := cmp.Diff(want, startsExits(&tr, globs...)); diff != "" {
				t.Errorf("[starts exits] per glob (-want +got):\n%s", diff)
			}
		})
	}
}

// TestTrackerExecIntoAnotherGlob: an exec that changes what a process
// matches is an exit from the globs it leaves and a start in those it
// joins, as a scan would count it; the CPU it used up to the exec stays
// in the old glob's total, and the new glob, like a scan's new member,
// takes the process's CPU since it started.
func TestTrackerExecIntoAnotherGlob(t *testing.T) {
	globs := []string{"a", "b"}
	var tr tracker
	tr.update(globs, snap())
	before := tp(7, 100, 1, 10, 0)
	tr.exec(globs, &before)
	after := tp(7, 100, 3, 10, 1)
	tr.exec(globs, &after)
	if diff := cmp.Diff([][2]uint64{{1, 1}, {1, 0}}, startsExits(&tr, globs...)); diff != "" {
		t.Errorf("[starts exits] per glob (-want +got):\n%s", diff)
	}
	got := tr.update(globs, snap(after))
	if got[0].CPUUser != 3 || got[1].CPUUser != 3 {
		t.Errorf("CPU user a=%g b=%g, want 3 and 3", got[0].CPUUser, got[1].CPUUser)
	}
	if got[1].Starts != 1 || got[0].Exits != 1 {
		t.Errorf("the scan after the exec recounted: %+v", countersOf(got))
	}
}

// TestTrackerExitOfUnmatched: the exit of a process no glob counts, or
// one a scan already saw gone, counts nothing.
func TestTrackerExitOfUnmatched(t *testing.T) {
	globs := []string{"a"}
	var tr tracker
	tr.update(globs, snap(tp(7, 100, 1, 10, 0)))
	tr.update(globs, snap())
	if tr.exit(7) || tr.exit(8) {
		t.Error("exit reported a member")
	}
	if diff := cmp.Diff([][2]uint64{{0, 1}}, startsExits(&tr, globs...)); diff != "" {
		t.Errorf("[starts exits] (-want +got):\n%s", diff)
	}
}
