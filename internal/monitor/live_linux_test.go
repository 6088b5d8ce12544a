//go:build linux

package monitor

import (
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strconv"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"

	"github.com/procwatch/procwatch/internal/monitor/proctest"
	"github.com/procwatch/procwatch/internal/testutil"
)

// sleeperNames returns a name longer than the kernel's 15-byte comm and one
// shorter, both unique to this test binary, even cut to 15 bytes (a process
// that is exiting is known by its cut comm alone).
func sleeperNames(prefix string) (long, short string) {
	pid := strconv.Itoa(os.Getpid())
	return prefix + pid + "-sleeper-with-a-long-name", prefix + pid
}

// startSleepers starts a copy of sleep under each name, all in one
// temporary directory (so the names are unique to the test), settled, and
// stops them when the test ends. A name longer than 15 bytes gets a cut
// comm.
func startSleepers(t *testing.T, names ...string) (dir string, cmds []*exec.Cmd) {
	t.Helper()
	dir = t.TempDir()
	for _, name := range names {
		started, _ := proctest.Start(t, proctest.SleeperIn(t, dir, name), 1)
		cmds = append(cmds, started...)
	}
	return dir, cmds
}

// stopProcess ends one of the sleepers before the test does.
func stopProcess(cmd *exec.Cmd) {
	if cmd.ProcessState == nil {
		_ = cmd.Process.Kill()
		_ = cmd.Wait()
	}
}

// TestLinuxSourceLiveHost scans the real /proc with sleep copies whose names
// are longer and shorter than the 15-byte comm.
func TestLinuxSourceLiveHost(t *testing.T) {
	if testing.Short() {
		t.Skip("starts processes")
	}
	// Names unique to this test binary, so that another one running at
	// the same time does not add its sleepers to our counts.
	long, short := sleeperNames("pwl")
	dir, cmds := startSleepers(t, long, long, short)
	src, err := NewLinuxSource("")
	if err != nil {
		t.Fatal(err)
	}
	if !src.realProc {
		t.Error("/proc is not recognised as procfs")
	}
	mon := New(src)
	ctx := context.Background()
	// long[:15] is the kernel's cut comm: it must not match, the full name
	// is what counts.
	globs := []string{long + "*", long[:15], short, dir + "/*", "cmdline:*" + short + " 300"}
	res, err := mon.SetGlobs(ctx, globs)
	if err != nil {
		t.Fatal(err)
	}
	if res.Errors != 0 {
		t.Errorf("%d processes could not be read", res.Errors)
	}
	counts := func(res ScanResult) []int {
		var out []int
		for _, g := range res.Globs {
			out = append(out, g.Processes)
		}
		return out
	}
	if diff := cmp.Diff([]int{2, 0, 1, 3, 1}, counts(res)); diff != "" {
		t.Fatalf("processes per glob (-want +got):\n%s", diff)
	}

	snap, err := src.Scan(ctx, mustCompile(t, globs))
	if err != nil {
		t.Fatal(err)
	}
	sort.Slice(snap.Procs, func(i, j int) bool { return snap.Procs[i].PID < snap.Procs[j].PID })
	now := time.Now()
	for _, p := range snap.Procs {
		wantName := long
		if p.Exe == filepath.Join(dir, short) {
			wantName = short
		}
		if p.Name != wantName || p.Comm != wantName[:min(len(wantName), 15)] || filepath.Base(p.Exe) != wantName ||
			!cmp.Equal(p.Cmdline, []string{filepath.Join(dir, wantName), "300"}) {
			t.Errorf("pid %d: name %q, comm %q, exe %q, cmdline %q", p.PID, p.Name, p.Comm, p.Exe, p.Cmdline)
		}
		if p.Threads != 1 || p.RSS == 0 || p.VSize == 0 || p.FDs < 3 {
			t.Errorf("pid %d: threads %d, rss %d, vsize %d, fds %d", p.PID, p.Threads, p.RSS, p.VSize, p.FDs)
		}
		if d := now.Sub(p.StartTime); d < -time.Second || d > time.Minute {
			t.Errorf("pid %d started %v ago", p.PID, d)
		}
	}

	// One long-named process ends: the counts drop, the exit is counted.
	stopProcess(cmds[0])
	res, err = mon.Scan(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff([]int{1, 0, 1, 2, 1}, counts(res)); diff != "" {
		t.Errorf("processes per glob after an exit (-want +got):\n%s", diff)
	}
	if res.Globs[0].Exits != 1 || res.Globs[3].Exits != 1 || res.Globs[2].Exits != 0 {
		t.Errorf("exits = %d, %d, %d; want 1, 1, 0", res.Globs[0].Exits, res.Globs[3].Exits, res.Globs[2].Exits)
	}
}

func mustCompile(t *testing.T, globs []string) *Matcher {
	t.Helper()
	m, errs := Compile(globs)
	if errs != nil {
		t.Fatal(errs)
	}
	return m
}

// TestMonitorLiveZombies makes real zombies, of a long and a short name,
// of processes seen alive once: neither counts as a process, each exit is
// counted once, when it turns zombie, and not again when it is reaped.
func TestMonitorLiveZombies(t *testing.T) {
	long, short := sleeperNames("pwz")
	dir := t.TempDir()
	longPID, endLong := proctest.StartOrphanable(t, proctest.SleeperIn(t, dir, long))
	shortPID, endShort := proctest.StartOrphanable(t, proctest.SleeperIn(t, dir, short))
	src, err := NewLinuxSource("")
	if err != nil {
		t.Fatal(err)
	}
	mon := New(src)
	ctx := context.Background()
	type row struct {
		Glob              string
		Processes         int
		Threads           int
		FDs               uint64
		Zombies           int
		Starts, Exits     uint64
		HasOldest, HasRSS bool
	}
	rows := func(res ScanResult) []row {
		var out []row
		for _, g := range res.Globs {
			out = append(out, row{g.Glob, g.Processes, g.Threads, g.FDs, g.Zombies, g.Starts, g.Exits,
				!g.OldestStart.IsZero(), g.RSS > 0})
			// The states count the zombies, and the live processes by
			// their state: sleeping, for a sleep.
			want := [NumStates]int{StateSleeping: g.Processes, StateZombie: g.Zombies}
			if g.States != want {
				t.Errorf("glob %q: states %v, want %v", g.Glob, g.States, want)
			}
		}
		return out
	}
	scan := func() ScanResult {
		t.Helper()
		res, err := mon.Scan(ctx)
		if err != nil {
			t.Fatal(err)
		}
		return res
	}
	globs := []string{long + "*", short, dir + "/*"}
	res, err := mon.SetGlobs(ctx, globs)
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff([]row{
		{globs[0], 1, 1, 3, 0, 0, 0, true, true},
		{globs[1], 1, 1, 3, 0, 0, 0, true, true},
		{globs[2], 2, 2, 6, 0, 0, 0, true, true},
	}, rows(res), cmpopts.IgnoreFields(row{}, "FDs")); diff != "" {
		t.Fatalf("alive (-want +got):\n%s", diff)
	}

	proctest.Zombify(t, longPID)
	proctest.Zombify(t, shortPID)
	zombies := []row{
		{globs[0], 0, 0, 0, 1, 0, 1, false, false},
		{globs[1], 0, 0, 0, 1, 0, 1, false, false},
		{globs[2], 0, 0, 0, 2, 0, 2, false, false},
	}
	for i := range 2 {
		if diff := cmp.Diff(zombies, rows(scan())); diff != "" {
			t.Errorf("zombies, scan %d (-want +got):\n%s", i+1, diff)
		}
	}

	endLong()
	endShort()
	for _, pid := range []int{longPID, shortPID} {
		testutil.Eventually(t, 5*time.Second, "zombie "+strconv.Itoa(pid)+" reaped", func() bool {
			_, err := os.Stat(filepath.Join("/proc", strconv.Itoa(pid)))
			return os.IsNotExist(err)
		})
	}
	for i := range zombies {
		zombies[i].Zombies = 0
	}
	if diff := cmp.Diff(zombies, rows(scan())); diff != "" {
		t.Errorf("reaped (-want +got):\n%s", diff)
	}
}
