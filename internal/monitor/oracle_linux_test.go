//go:build linux

package monitor

import (
	"context"
	"fmt"
	"math"
	"os"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/procwatch/procwatch/internal/testutil"
)

// TestLinuxSourceAgainstGopsutil scans the live host with both sources and
// compares what they say of a few sleep processes: gopsutil is the oracle
// for the hand-written Linux reader.
func TestLinuxSourceAgainstGopsutil(t *testing.T) {
	if testing.Short() {
		t.Skip("starts processes")
	}
	long, short := sleeperNames("pwo")
	_, cmds := startSleepers(t, long, long, short)
	// A sleep just started may still be faulting its pages in: the two
	// sources read RSS a moment apart and would see it grow (1.66 against
	// 1.92 MB was seen). Compare once every sleeper's RSS holds still.
	for _, c := range cmds {
		statm := fmt.Sprintf("/proc/%d/statm", c.Process.Pid)
		last := ""
		testutil.EventuallySaying(t, 10*time.Second, "the sleeper's RSS to hold still", func() (bool, string) {
			b, err := os.ReadFile(statm)
			if err != nil {
				return false, err.Error()
			}
			prev := last
			last = string(b)
			time.Sleep(20 * time.Millisecond)
			return last == prev, last
		})
	}
	m := mustCompile(t, []string{long + "*", short})
	lin, err := NewLinuxSource("")
	if err != nil {
		t.Fatal(err)
	}
	gop := NewGopsutilSource("")
	ctx := context.Background()

	// Both sources see the same processes with the same identity.
	byPID := func(s Source) map[int]MatchedProc {
		t.Helper()
		snap, err := s.Scan(ctx, m)
		if err != nil {
			t.Fatal(err)
		}
		out := map[int]MatchedProc{}
		for _, p := range snap.Procs {
			out[p.PID] = p
		}
		return out
	}
	got, want := byPID(lin), byPID(gop)
	if len(got) != len(cmds) || len(want) != len(cmds) {
		t.Fatalf("linux source matched %d processes, gopsutil %d, want %d", len(got), len(want), len(cmds))
	}
	for pid, w := range want {
		g, ok := got[pid]
		if !ok {
			t.Errorf("pid %d: missing from the linux source", pid)
			continue
		}
		type identity struct {
			Name, Exe string
			Cmdline   []string
			Globs     []int
			Threads   int
			FDs       int
		}
		gi := identity{g.Name, g.Exe, g.Cmdline, g.Globs, g.Threads, g.FDs}
		wi := identity{w.Name, w.Exe, w.Cmdline, w.Globs, w.Threads, w.FDs}
		if diff := cmp.Diff(wi, gi); diff != "" {
			t.Errorf("pid %d (-gopsutil +linux):\n%s", pid, diff)
		}
		// gopsutil reads rss from statm and we from stat: the same
		// counter, read a moment apart.
		if d := math.Abs(float64(g.RSS) - float64(w.RSS)); d > 0.1*float64(w.RSS)+64<<10 {
			t.Errorf("pid %d: rss %d, gopsutil %d", pid, g.RSS, w.RSS)
		}
		if d := math.Abs(float64(g.VSize) - float64(w.VSize)); d > 0.1*float64(w.VSize) {
			t.Errorf("pid %d: vsize %d, gopsutil %d", pid, g.VSize, w.VSize)
		}
		if d := g.StartTime.Sub(w.StartTime).Abs(); d > time.Second {
			t.Errorf("pid %d: start %v, gopsutil %v", pid, g.StartTime, w.StartTime)
		}
		if math.Abs(g.CPUUser-w.CPUUser) > 0.05 || math.Abs(g.CPUSystem-w.CPUSystem) > 0.05 {
			t.Errorf("pid %d: cpu %v/%v, gopsutil %v/%v", pid, g.CPUUser, g.CPUSystem, w.CPUUser, w.CPUSystem)
		}
		if g.ReadBytes != w.ReadBytes || g.WriteBytes != w.WriteBytes {
			t.Errorf("pid %d: io %d/%d, gopsutil %d/%d", pid, g.ReadBytes, g.WriteBytes, w.ReadBytes, w.WriteBytes)
		}
		// A settled sleep neither faults nor switches, so both readers
		// see the same counts; gopsutil takes the swap from smaps_rollup
		// and the limit through its own parser of limits.
		type health struct {
			State                                  ProcState
			MinorFaults, MajorFaults               uint64
			VoluntarySwitches, InvoluntarySwitches uint64
			Swap, FDLimit                          uint64
		}
		gh := health{StateOf(g.State), g.MinorFaults, g.MajorFaults, g.VoluntarySwitches, g.InvoluntarySwitches, g.Swap, g.FDLimit}
		wh := health{StateOf(w.State), w.MinorFaults, w.MajorFaults, w.VoluntarySwitches, w.InvoluntarySwitches, w.Swap, w.FDLimit}
		if diff := cmp.Diff(wh, gh); diff != "" {
			t.Errorf("pid %d health (-gopsutil +linux):\n%s", pid, diff)
		}
		if g.MinorFaults == 0 || g.VoluntarySwitches == 0 || g.FDLimit == 0 {
			t.Errorf("pid %d: minor faults %d, voluntary switches %d, fd limit %d; a started sleep has all three",
				pid, g.MinorFaults, g.VoluntarySwitches, g.FDLimit)
		}
	}

	// With PSS, both read it from smaps_rollup: a sleep's is above 0 and
	// at most its RSS. The two reads are moments apart, and a shared
	// page's share changes whenever another process maps or drops it (a
	// test suite beside this one starting processes): they agree within a
	// tenth, not to the byte (274,432 against 273,408 was seen).
	pssLin, err := NewLinuxSource("", WithPSS(true))
	if err != nil {
		t.Fatal(err)
	}
	got, want = byPID(pssLin), byPID(NewGopsutilSource("", WithPSS(true)))
	for pid, g := range got {
		if w := want[pid].PSS; g.PSS == 0 || g.PSS > g.RSS || max(g.PSS, w)-min(g.PSS, w) > g.PSS/10 {
			t.Errorf("pid %d: pss %d (rss %d), gopsutil %d", pid, g.PSS, g.RSS, want[pid].PSS)
		}
	}

	// Both see an exit.
	stopProcess(cmds[0])
	if got, want := byPID(lin), byPID(gop); len(got) != len(cmds)-1 || len(want) != len(cmds)-1 {
		t.Errorf("after an exit: linux source %d processes, gopsutil %d, want %d", len(got), len(want), len(cmds)-1)
	}
}

// TestGopsutilSourceScansHost checks the gopsutil source on its own: the
// whole host scans without failing, and scanned counts agree roughly with
// the Linux source.
func TestGopsutilSourceScansHost(t *testing.T) {
	lin, err := NewLinuxSource("")
	if err != nil {
		t.Fatal(err)
	}
	m := mustCompile(t, []string{"**"})
	a, err := lin.Scan(context.Background(), m)
	if err != nil {
		t.Fatal(err)
	}
	b, err := NewGopsutilSource("").Scan(context.Background(), m)
	if err != nil {
		t.Fatal(err)
	}
	// The two scans follow each other, and gopsutil's takes seconds on a
	// host of thousands of processes: what started and exited meanwhile
	// (on a shared test host, hundreds) is the tolerance, 20 plus 5%.
	if d, tol := a.Scanned-b.Scanned, 20+a.Scanned/20; d < -tol || d > tol {
		t.Errorf("linux source scanned %d processes, gopsutil %d (tolerance %d)", a.Scanned, b.Scanned, tol)
	}
	if len(b.Procs) != b.Scanned {
		t.Errorf("'**' matched %d of %d processes", len(b.Procs), b.Scanned)
	}
}
