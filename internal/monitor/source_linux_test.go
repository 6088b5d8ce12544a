//go:build linux

package monitor

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"slices"
	"sort"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"

	"github.com/procwatch/procwatch/internal/monitor/proctest"
)

func newFixtureSource(t *testing.T, root string) *LinuxSource {
	t.Helper()
	s, err := NewLinuxSource(root)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

func scanOrFail(t *testing.T, s Source, m *Matcher) Snapshot {
	t.Helper()
	snap, err := s.Scan(context.Background(), m)
	if err != nil {
		t.Fatalf("Scan: %v", err)
	}
	return snap
}

// matchSummary renders a snapshot as pid -> name and matched globs.
type matchSummary struct {
	PID   int
	Name  string
	Globs []string
}

func summarize(m *Matcher, snap Snapshot) []matchSummary {
	globs := m.Globs()
	var out []matchSummary
	for _, p := range snap.Procs {
		s := matchSummary{PID: p.PID, Name: p.Name}
		for _, i := range p.Globs {
			s.Globs = append(s.Globs, globs[i])
		}
		out = append(out, s)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].PID < out[j].PID })
	return out
}

func TestLinuxSourceFixture(t *testing.T) {
	s := newFixtureSource(t, "testdata/proc")
	if got, want := s.BootTime(), time.Unix(fixtureBootTime, 0); !got.Equal(want) {
		t.Errorf("BootTime() = %v, want %v", got, want)
	}
	m, errs := Compile([]string{
		"kube-controller-manager*", "kube-controller", "nginx", "/usr/sbin/nginx", "cmdline:nginx: worker*",
		"sleep", "/bin/busybox", "kthreadd", "backup.py", "python*", "systemd", "x (y)*", "/usr/**",
	})
	if errs != nil {
		t.Fatal(errs)
	}
	snap := scanOrFail(t, s, m)
	if snap.Scanned != len(fixtureProcs) || snap.Errors != 0 {
		t.Errorf("Scanned, Errors = %d, %d; want %d, 0", snap.Scanned, snap.Errors, len(fixtureProcs))
	}
	want := []matchSummary{
		{1, "systemd", []string{"systemd", "/usr/**"}},
		{2, "kthreadd", []string{"kthreadd"}},
		{100, "kube-controller-manager", []string{"kube-controller-manager*", "/usr/**"}},
		{200, "nginx", []string{"nginx", "/usr/sbin/nginx", "/usr/**"}},
		{201, "nginx", []string{"nginx", "/usr/sbin/nginx", "cmdline:nginx: worker*", "/usr/**"}},
		{300, "x (y) z)", []string{"x (y)*", "/usr/**"}},
		{400, "sleep", []string{"sleep", "/usr/**"}},
		{500, "sleep", []string{"sleep", "/bin/busybox"}},
		{600, "backup.py", []string{"backup.py", "/usr/**"}},
	}
	if diff := cmp.Diff(want, summarize(m, snap)); diff != "" {
		t.Errorf("matches mismatch (-want +got):\n%s", diff)
	}

	page := uint64(os.Getpagesize())
	byPID := map[int]Proc{}
	for _, p := range snap.Procs {
		byPID[p.PID] = p.Proc
	}
	wantProcs := map[int]Proc{
		100: {
			PID: 100, StartTicks: 1000, StartTime: time.Unix(fixtureBootTime+10, 0),
			Name: "kube-controller-manager", Comm: "kube-controller", Exe: "/usr/local/bin/kube-controller-manager",
			Cmdline: []string{"/usr/local/bin/kube-controller-manager", "--leader-elect=true", "--v=2"},
			CPUUser: 50, CPUSystem: 12, RSS: 50_000 * page, VSize: 800_000_000, Threads: 12, FDs: 5,
			ReadBytes: 4096, WriteBytes: 81920,
			State: 'S', MinorFaults: 12000, MajorFaults: 30, VoluntarySwitches: 5000, InvoluntarySwitches: 700,
			Swap: 2048 << 10, FDLimit: 1 << 20,
		},
		200: {
			PID: 200, StartTicks: 2000, StartTime: time.Unix(fixtureBootTime+20, 0),
			Name: "nginx", Comm: "nginx", Exe: "/usr/sbin/nginx",
			Cmdline: []string{"nginx: master process /usr/sbin/nginx -g daemon off;"},
			CPUUser: 0.2, CPUSystem: 0.1, RSS: 1000 * page, VSize: 50_000_000, Threads: 1, FDs: 6,
			State: 'S', FDLimit: 1024,
		},
		2: {PID: 2, StartTicks: 5, StartTime: time.Unix(fixtureBootTime, 50*int64(time.Millisecond)),
			Name: "kthreadd", Comm: "kthreadd", Threads: 1, State: 'S', FDLimit: 1024},
	}
	for pid, want := range wantProcs {
		if diff := cmp.Diff(want, byPID[pid]); diff != "" {
			t.Errorf("pid %d mismatch (-want +got):\n%s", pid, diff)
		}
	}
	if snap.PSS {
		t.Error("a source without WithPSS says it read PSS")
	}

	// With WithPSS, smaps_rollup is read for matched processes; a kernel
	// thread's is empty.
	withPSS, err := NewLinuxSource("testdata/proc", WithPSS(true))
	if err != nil {
		t.Fatal(err)
	}
	snap = scanOrFail(t, withPSS, m)
	pss := map[int]uint64{}
	for _, p := range snap.Procs {
		pss[p.PID] = p.PSS
	}
	if want := map[int]uint64{1: 0, 2: 0, 100: 150000 << 10, 200: 0, 201: 0, 300: 0, 400: 600 << 10, 500: 300 << 10, 600: 0}; !snap.PSS || !cmp.Equal(want, pss) {
		t.Errorf("with WithPSS: PSS read %v, by pid %v; want true, %v", snap.PSS, pss, want)
	}
}

// TestLinuxSourceReadsOnlyWhatItNeeds removes the files an unmatched
// process's scan must not need, and the files a cached identity must not
// need again.
func TestLinuxSourceReadsOnlyWhatItNeeds(t *testing.T) {
	root := copyProcTree(t)
	s := newFixtureSource(t, root)
	m, _ := Compile([]string{"nginx"})
	scanOrFail(t, s, m)
	scanOrFail(t, s, m) // the second sighting re-reads identities once
	for _, pid := range []string{"1", "100", "300", "400", "500", "600"} {
		for _, f := range []string{"io", "fd", "cmdline", "exe", "status", "limits", "smaps_rollup"} {
			if err := os.RemoveAll(filepath.Join(root, pid, f)); err != nil {
				t.Fatal(err)
			}
		}
	}
	for _, pid := range []string{"200", "201"} {
		for _, f := range []string{"cmdline", "exe"} {
			if err := os.RemoveAll(filepath.Join(root, pid, f)); err != nil {
				t.Fatal(err)
			}
		}
	}
	snap := scanOrFail(t, s, m)
	if snap.Scanned != len(fixtureProcs) || snap.Errors != 0 {
		t.Errorf("Scanned, Errors = %d, %d; want %d, 0", snap.Scanned, snap.Errors, len(fixtureProcs))
	}
	want := []matchSummary{{200, "nginx", []string{"nginx"}}, {201, "nginx", []string{"nginx"}}}
	if diff := cmp.Diff(want, summarize(m, snap)); diff != "" {
		t.Errorf("matches mismatch (-want +got):\n%s", diff)
	}
	if p := snap.Procs[0]; p.Exe != "/usr/sbin/nginx" || len(p.Cmdline) != 1 {
		t.Errorf("cached identity lost: %+v", p.Proc)
	}

	// The fd limit is cached per process: pid 200, far from its limit,
	// keeps the one first read when a prlimit raises it. pid 201 holds 8
	// of its 10 fds, so its limit is read on every scan, and the raise
	// shows.
	raised := proctest.FakeProc{FDLimit: 64}.Limits()
	for _, pid := range []string{"200", "201"} {
		if err := os.WriteFile(filepath.Join(root, pid, "limits"), []byte(raised), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	snap = scanOrFail(t, s, m)
	limits := map[int]uint64{}
	for _, p := range snap.Procs {
		limits[p.PID] = p.FDLimit
	}
	if got := []uint64{limits[200], limits[201]}; !slices.Equal(got, []uint64{1024, 64}) {
		t.Errorf("fd limits of pids 200, 201 = %v, want the cached 1024 and the re-read 64", got)
	}
}

func TestLinuxSourceIdentityCache(t *testing.T) {
	root := copyProcTree(t)
	s := newFixtureSource(t, root)
	m, _ := Compile([]string{"cmdline:*title*", "sleep", "exec-target"})
	write := func(pid, file, content string) {
		t.Helper()
		if err := os.WriteFile(filepath.Join(root, pid, file), []byte(content), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	names := func() []matchSummary {
		t.Helper()
		return summarize(m, scanOrFail(t, s, m))
	}

	// First sighting, before "setproctitle".
	if diff := cmp.Diff([]matchSummary{{400, "sleep", []string{"sleep"}}, {500, "sleep", []string{"sleep"}}}, names()); diff != "" {
		t.Errorf("scan 1 (-want +got):\n%s", diff)
	}
	// The process sets its title: the second sighting sees it.
	write("201", "cmdline", "nginx: worker process title\x00")
	if diff := cmp.Diff([]matchSummary{
		{201, "nginx", []string{"cmdline:*title*"}}, {400, "sleep", []string{"sleep"}}, {500, "sleep", []string{"sleep"}},
	}, names()); diff != "" {
		t.Errorf("scan 2 (-want +got):\n%s", diff)
	}
	// After that the identity is cached: a later title change alone is not
	// read (this is the price of not reading cmdline every scan)...
	write("201", "cmdline", "nginx: worker process\x00")
	if got := names(); len(got) != 3 {
		t.Errorf("scan 3: cached identity not used: %+v", got)
	}
	// ...but exec, which changes the comm, is.
	p400 := fixtureProcs[6]
	p400.Comm = "exec-target"
	write("400", "stat", p400.StatLine())
	if diff := cmp.Diff([]matchSummary{
		{201, "nginx", []string{"cmdline:*title*"}}, {400, "exec-target", []string{"exec-target"}}, {500, "sleep", []string{"sleep"}},
	}, names()); diff != "" {
		t.Errorf("scan 4 (-want +got):\n%s", diff)
	}
	// A reused pid (same pid, new start time) is a new process.
	p500 := fixtureProcs[7]
	p500.Start = 9999
	write("500", "stat", p500.StatLine())
	write("500", "cmdline", "other\x00")
	if err := os.Remove(filepath.Join(root, "500", "exe")); err != nil {
		t.Fatal(err)
	}
	scanOrFail(t, s, m)
	if e := s.cache.entries[500]; e == nil || e.start != 9999 || e.exe() != "" || e.reads != 1 {
		t.Errorf("reused pid entry = %+v, want a fresh one", e)
	}
	// A process gone from the listing is evicted.
	if err := os.RemoveAll(filepath.Join(root, "600")); err != nil {
		t.Fatal(err)
	}
	scanOrFail(t, s, m)
	if _, ok := s.cache.entries[600]; ok || len(s.cache.entries) != len(fixtureProcs)-1 {
		t.Errorf("cache holds %d entries (600 present: %v), want %d without 600", len(s.cache.entries), ok, len(fixtureProcs)-1)
	}
	// Every entry's match is for the current Matcher.
	for pid, e := range s.cache.entries {
		if e.gen != m.generation() {
			t.Errorf("pid %d matched for generation %d, want %d", pid, e.gen, m.generation())
		}
	}
}

func (e *entry) exe() string { return e.target.Exe }

func TestLinuxSourceVanishingProcesses(t *testing.T) {
	root := copyProcTree(t)
	s := newFixtureSource(t, root)
	m, _ := Compile([]string{"**", "/**"})
	// Gone between readdir and the stat read.
	if err := os.Remove(filepath.Join(root, "100", "stat")); err != nil {
		t.Fatal(err)
	}
	// Exiting: the stat read returns nothing.
	if err := os.WriteFile(filepath.Join(root, "200", "stat"), nil, 0o644); err != nil {
		t.Fatal(err)
	}
	// Gone between the stat read and the identity read.
	if err := os.Remove(filepath.Join(root, "300", "cmdline")); err != nil {
		t.Fatal(err)
	}
	// A zombie: no exe; and unreadable io and fds.
	for _, f := range []string{"exe", "io", "fd"} {
		if err := os.RemoveAll(filepath.Join(root, "400", f)); err != nil {
			t.Fatal(err)
		}
	}
	snap := scanOrFail(t, s, m)
	if snap.Errors != 0 || snap.Scanned != len(fixtureProcs)-3 {
		t.Errorf("Scanned, Errors = %d, %d; want %d, 0", snap.Scanned, snap.Errors, len(fixtureProcs)-3)
	}
	if _, ok := s.cache.entries[300]; ok {
		t.Error("a process whose identity could not be read stays cached")
	}
	var zombie *MatchedProc
	for i := range snap.Procs {
		if snap.Procs[i].PID == 400 {
			zombie = &snap.Procs[i]
		}
	}
	if zombie == nil || zombie.Exe != "" || zombie.FDs != 0 || zombie.ReadBytes != 0 || zombie.Name != "sleep" || len(zombie.Globs) != 1 {
		t.Errorf("zombie = %+v, want named sleep, no exe, no io or fds, matching the name glob only", zombie)
	}

	// A file that is not a stat file is an error, counted but not fatal.
	if err := os.WriteFile(filepath.Join(root, "500", "stat"), []byte("garbage"), 0o644); err != nil {
		t.Fatal(err)
	}
	snap = scanOrFail(t, s, m)
	if snap.Errors != 1 {
		t.Errorf("Errors = %d, want 1", snap.Errors)
	}
}

func TestLinuxSourceFailures(t *testing.T) {
	if _, err := NewLinuxSource(filepath.Join(t.TempDir(), "missing")); err == nil {
		t.Error("NewLinuxSource on a missing root succeeded")
	}
	root := copyProcTree(t)
	s := newFixtureSource(t, root)
	m, _ := Compile([]string{"sleep"})
	scanOrFail(t, s, m)
	entries := len(s.cache.entries)

	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if _, err := s.Scan(ctx, m); !errors.Is(err, context.Canceled) {
		t.Errorf("Scan with a cancelled context = %v, want context.Canceled", err)
	}
	if err := os.RemoveAll(root); err != nil {
		t.Fatal(err)
	}
	if _, err := s.Scan(context.Background(), m); err == nil {
		t.Error("Scan of a removed root succeeded")
	}
	if len(s.cache.entries) != entries {
		t.Errorf("a failed scan changed the cache: %d entries, want %d", len(s.cache.entries), entries)
	}
}

// TestLinuxSourceCancelMidScan cancels during a scan of many processes: the
// scan fails rather than return a partial list, and the cache is kept.
func TestLinuxSourceCancelMidScan(t *testing.T) {
	root := filepath.Join(t.TempDir(), "proc")
	if err := proctest.WriteProcRoot(root, manyProcs(600, 0)); err != nil {
		t.Fatal(err)
	}
	s := newFixtureSource(t, root)
	m, _ := Compile([]string{"x"})
	scanOrFail(t, s, m)
	// Err is checked once at the start, then every 256 processes.
	ctx := &countdownCtx{Context: context.Background(), left: 2}
	if _, err := s.Scan(ctx, m); !errors.Is(err, context.Canceled) {
		t.Errorf("Scan = %v, want context.Canceled", err)
	}
	if ctx.left >= 0 {
		t.Errorf("the scan looked at the context %d times too few", ctx.left+1)
	}
	if len(s.cache.entries) != 600 {
		t.Errorf("a cancelled scan changed the cache: %d entries, want 600", len(s.cache.entries))
	}
}

// countdownCtx is cancelled once Err has been asked left times.
type countdownCtx struct {
	context.Context
	left int
}

func (c *countdownCtx) Err() error {
	if c.left--; c.left < 0 {
		return context.Canceled
	}
	return nil
}

// TestMonitorFixtureExit runs the Monitor over a fixture tree in which a
// process exits between two scans and another starts: the counters carry
// the exited process's final values.
func TestMonitorFixtureExit(t *testing.T) {
	root := copyProcTree(t)
	m := New(newFixtureSource(t, root))
	ctx := context.Background()
	res, err := m.SetGlobs(ctx, []string{"sleep", "kube-controller-manager*", "redis-server"})
	if err != nil {
		t.Fatal(err)
	}
	page := uint64(os.Getpagesize())
	sleepStart := time.Unix(fixtureBootTime+50, 0) // pid 400, 5000 ticks
	want := []GlobStats{
		{Glob: "sleep", Processes: 2, Threads: 2, RSS: 300 * page, VSize: 9_500_000, FDs: 6, OldestStart: sleepStart,
			CPUUser: 0.01, CPUSystem: 0.02, ReadBytes: 8192,
			// pid 500 holds 3 of its 4 fds.
			States: [NumStates]int{StateSleeping: 2}, Swap: 16 << 10, MaxFDRatio: 0.75,
			MinorFaults: 200, MajorFaults: 3, VoluntarySwitches: 14, InvoluntarySwitches: 4},
		{Glob: "kube-controller-manager*", Processes: 1, Threads: 12, RSS: 50_000 * page, VSize: 800_000_000, FDs: 5,
			OldestStart: time.Unix(fixtureBootTime+10, 0), CPUUser: 50, CPUSystem: 12, ReadBytes: 4096, WriteBytes: 81920,
			States: [NumStates]int{StateSleeping: 1}, Swap: 2 << 20, MaxFDRatio: 5.0 / (1 << 20),
			MinorFaults: 12000, MajorFaults: 30, VoluntarySwitches: 5000, InvoluntarySwitches: 700},
		{Glob: "redis-server"},
	}
	if diff := cmp.Diff(want, res.Globs); diff != "" {
		t.Fatalf("first scan (-want +got):\n%s", diff)
	}

	// pid 400 exits; a new sleep, pid 700, starts.
	if err := os.RemoveAll(filepath.Join(root, "400")); err != nil {
		t.Fatal(err)
	}
	if err := (fakeProc{PID: 700, Comm: "sleep", Flags: 0x400000, UTime: 3, Threads: 1, Start: 8000,
		Exe: "/usr/bin/sleep", Cmdline: []string{"sleep", "1"}, ReadBytes: 100, FDs: 3,
		State: 'R', MinFlt: 7, VoluntarySwitches: 1}).Write(root); err != nil {
		t.Fatal(err)
	}
	res, err = m.Scan(ctx)
	if err != nil {
		t.Fatal(err)
	}
	want[0] = GlobStats{Glob: "sleep", Processes: 2, Threads: 2, RSS: 100 * page, VSize: 1_500_000, FDs: 6,
		OldestStart: time.Unix(fixtureBootTime+60, 0), // pid 500 is now the oldest
		CPUUser:     0.04, CPUSystem: 0.02, ReadBytes: 8292, Starts: 1, Exits: 1,
		// pid 400's faults and switches stay; pid 700's are added.
		States: [NumStates]int{StateRunning: 1, StateSleeping: 1}, Swap: 16 << 10, MaxFDRatio: 0.75,
		MinorFaults: 207, MajorFaults: 3, VoluntarySwitches: 15, InvoluntarySwitches: 4}
	if diff := cmp.Diff(want, res.Globs, cmpopts.EquateApprox(0, 1e-9)); diff != "" {
		t.Fatalf("after the exit (-want +got):\n%s", diff)
	}

	// Everything exits: the gauges drop, the counters stay, OldestStart is
	// absent.
	for _, pid := range []string{"500", "700", "100"} {
		if err := os.RemoveAll(filepath.Join(root, pid)); err != nil {
			t.Fatal(err)
		}
	}
	res, err = m.Scan(ctx)
	if err != nil {
		t.Fatal(err)
	}
	want[0] = GlobStats{Glob: "sleep", CPUUser: 0.04, CPUSystem: 0.02, ReadBytes: 8292, Starts: 1, Exits: 3,
		MinorFaults: 207, MajorFaults: 3, VoluntarySwitches: 15, InvoluntarySwitches: 4}
	want[1] = GlobStats{Glob: "kube-controller-manager*", CPUUser: 50, CPUSystem: 12, ReadBytes: 4096, WriteBytes: 81920, Exits: 1,
		MinorFaults: 12000, MajorFaults: 30, VoluntarySwitches: 5000, InvoluntarySwitches: 700}
	if diff := cmp.Diff(want, res.Globs, cmpopts.EquateApprox(0, 1e-9)); diff != "" {
		t.Fatalf("after every exit (-want +got):\n%s", diff)
	}
}
