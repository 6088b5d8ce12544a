package bench

import (
	"context"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"runtime/pprof"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/procwatch/procwatch/internal/zktest"
)

// Config says what Run measures and where it reports progress.
type Config struct {
	// Sections are the section numbers to run (1-8); empty runs them
	// all.
	Sections []int
	// Quick shrinks every count and duration to a smoke test of the
	// harness itself; its figures mean nothing.
	Quick bool
	// ModuleDir is the root of the procwatch module, where the agent and
	// procctl are built from (sections 2 and 6).
	ModuleDir string
	// Self is an executable that runs this package's child programs when
	// started with ChildEnv set (see RunChild); default os.Executable().
	Self string
	// ProfileDir, when set, receives a CPU profile and an allocation profile
	// of this process per section (N-name.cpu.pprof, N-name.allocs.pprof).
	ProfileDir string
	// Log receives progress lines; nil discards them.
	Log io.Writer
}

// env is what the sections share during one run.
type env struct {
	cfg      Config
	clusters clusters
	load     *loadSampler

	binOnce sync.Once
	binDir  string
	binErr  error

	sleepers *sleepers
}

func (e *env) logf(format string, args ...any) {
	if e.cfg.Log != nil {
		fmt.Fprintf(e.cfg.Log, "%s bench: %s\n", time.Now().Format("15:04:05"), fmt.Sprintf(format, args...))
	}
}

// binaries builds procwatch and procctl once per run, into a temporary
// directory, so the figures are those of the checked-out code.
func (e *env) binaries() (string, error) {
	e.binOnce.Do(func() {
		dir, err := os.MkdirTemp("", "procwatch-bench-bin-")
		if err != nil {
			e.binErr = err
			return
		}
		e.binDir = dir
		start := time.Now()
		// make build, so that the figures are those of the binaries
		// procwatch ships (static, stripped).
		cmd := exec.Command("make", "-s", "build", "BINDIR="+dir)
		cmd.Dir = e.cfg.ModuleDir
		if out, err := cmd.CombinedOutput(); err != nil {
			e.binErr = fmt.Errorf("building procwatch and procctl: %v\n%s", err, out)
			return
		}
		e.logf("built procwatch and procctl in %s", time.Since(start).Round(time.Millisecond))
	})
	return e.binDir, e.binErr
}

type section struct {
	num  int
	name string
	run  func(context.Context, *env) (sectionResult, error)
	// casesProfiled sections profile their measurements themselves
	// (profileCase), leaving out a set-up that would swamp them.
	casesProfiled bool
}

// The order sections run in: the in-process CPU measurements first, while
// no ZooKeeper client of this process is busy, then the ones that share
// the 2,000 live processes (end to end runs with them, then without), then
// the ZooKeeper-heavy ones, and last the process events, whose load of
// 1,000 process starts a second would disturb the others.
var sections = []section{
	{7, "diff", diffSection, false},
	{4, "reads", readsSection, false},
	{5, "scan", scanSection, false},
	{6, "footprint", footprintSection, false},
	{2, "e2e", endToEnd, false},
	{1, "propagation", propagation, true},
	{3, "contention", contention, false},
	{8, "events", eventsSection, false},
}

// Run measures the sections cfg asks for and returns the report; a section
// that fails is listed in Report.Failures and the others still run. The
// error is for a run that could not start at all.
func Run(ctx context.Context, cfg Config) (*Report, error) {
	if cfg.Self == "" {
		self, err := os.Executable()
		if err != nil {
			return nil, err
		}
		cfg.Self = self
	}
	if cfg.ModuleDir == "" {
		cfg.ModuleDir = "."
	}
	e := &env{cfg: cfg}
	defer e.clusters.close()
	defer func() {
		if e.sleepers != nil {
			e.sleepers.stop()
		}
		if e.binDir != "" {
			_ = os.RemoveAll(e.binDir)
		}
	}()
	if cfg.ProfileDir != "" {
		if err := os.MkdirAll(cfg.ProfileDir, 0o755); err != nil {
			return nil, err
		}
	}

	rep := &Report{Machine: describeMachine(), Started: time.Now()}
	e.load = startLoadSampler(2 * time.Second)
	for _, s := range sections {
		if len(cfg.Sections) > 0 && !slices.Contains(cfg.Sections, s.num) {
			continue
		}
		if err := ctx.Err(); err != nil {
			return nil, err
		}
		start := time.Now()
		e.logf("section %d (%s), load average %.1f", s.num, s.name, e.load.current())
		stopProfile := func() {}
		if !s.casesProfiled {
			stopProfile = e.profileCase(fmt.Sprintf("%d-%s", s.num, s.name))
		}
		res, err := s.run(ctx, e)
		stopProfile()
		rep.add(res)
		if s.num == 2 && e.sleepers != nil {
			// Sections 5, 6 and 2 want the 2,000 extra processes; the
			// ZooKeeper sections after them should share the machine with
			// as little as possible.
			e.sleepers.stop()
			e.sleepers = nil
		}
		if err != nil {
			rep.Failures = append(rep.Failures, fmt.Sprintf("%d %s: %v", s.num, s.name, err))
			e.logf("section %d (%s) FAILED after %s: %v", s.num, s.name, time.Since(start).Round(time.Millisecond), err)
			continue
		}
		e.logf("section %d (%s) done in %s", s.num, s.name, time.Since(start).Round(time.Millisecond))
	}
	if e.sleepers != nil {
		e.sleepers.stop()
		e.sleepers = nil
	}
	rep.Load = e.load.Stop()
	if cl := e.clusters.standalone; cl != nil {
		if info, err := zktest.Srvr(cl.Addr(0), 2*time.Second); err == nil {
			rep.Machine.ZooKeeper = strings.SplitN(info.Version, "-", 2)[0] + " (Debian package, -Xmx128m, forceSync=no, loopback)"
		}
	}
	slices.SortStableFunc(rep.Rows, func(a, b Row) int { return strings.Compare(a.Section[:1], b.Section[:1]) })
	rep.Duration = time.Since(rep.Started)
	return rep, nil
}

// profileCase starts a CPU profile named name when profiling, and returns
// what stops it and writes the allocation profile beside it.
func (e *env) profileCase(name string) func() {
	if e.cfg.ProfileDir == "" {
		return func() {}
	}
	base := filepath.Join(e.cfg.ProfileDir, name)
	f, err := os.Create(base + ".cpu.pprof")
	if err != nil {
		e.logf("profile: %v", err)
		return func() {}
	}
	if err := pprof.StartCPUProfile(f); err != nil {
		e.logf("profile: %v", err)
		_ = f.Close()
		return func() {}
	}
	return func() {
		pprof.StopCPUProfile()
		_ = f.Close()
		// The allocation profile is cumulative since the run started;
		// compare with the previous one using pprof -base.
		if a, err := os.Create(base + ".allocs.pprof"); err == nil {
			_ = pprof.Lookup("allocs").WriteTo(a, 0)
			_ = a.Close()
		}
	}
}
