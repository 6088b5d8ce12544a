package bench

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"time"

	"github.com/procwatch/procwatch/internal/monitor"
)

// newMonitor returns a Monitor of the procfs tree at root with globs in
// force, after a warm-up scan, so that what is measured next is the
// steady state an agent spends its life in.
func newMonitor(ctx context.Context, root string, globs []string) (*monitor.Monitor, error) {
	src, err := monitor.NewLinuxSource(root)
	if err != nil {
		return nil, err
	}
	m := monitor.New(src)
	if _, err := m.SetGlobs(ctx, globs); err != nil {
		return nil, err
	}
	if _, err := m.Scan(ctx); err != nil {
		return nil, err
	}
	return m, nil
}

// scanCost is what one side's scans cost.
type scanCost struct {
	cpu, wall time.Duration // totals
	mallocs   uint64
	bytes     uint64
	scans     int
	procs     int // processes per scan, as the side counted them
}

func (c scanCost) cpuPerScan() time.Duration { return c.cpu / time.Duration(max(c.scans, 1)) }
func (c scanCost) allocsPerScan() float64    { return float64(c.mallocs) / float64(max(c.scans, 1)) }

// measureScan runs fn once and adds its process CPU time, wall time and
// allocations to c.
func (c *scanCost) measure(fn func() (int, error)) error {
	var m0, m1 runtime.MemStats
	runtime.ReadMemStats(&m0)
	c0, w0 := processCPU(), time.Now()
	procs, err := fn()
	c.cpu += processCPU() - c0
	c.wall += time.Since(w0)
	runtime.ReadMemStats(&m1)
	c.mallocs += m1.Mallocs - m0.Mallocs
	c.bytes += m1.TotalAlloc - m0.TotalAlloc
	c.scans++
	c.procs = procs
	return err
}

// scanSection is section 5: the agent's scan (Monitor.Scan) beside the
// floor on generated trees of 2,000 and 10,000 processes, and on this
// host's /proc with 2,000 real sleep processes.
func scanSection(ctx context.Context, e *env) (sectionResult, error) {
	var res sectionResult
	tmp, err := os.MkdirTemp("", "procwatch-bench-proc-")
	if err != nil {
		return res, err
	}
	defer func() { _ = os.RemoveAll(tmp) }()

	sizes := map[int]int{2000: 150, 10000: 40}
	order := []int{2000, 10000}
	if e.cfg.Quick {
		sizes, order = map[int]int{300: 10}, []int{300}
	}
	for _, n := range order {
		root := filepath.Join(tmp, fmt.Sprintf("proc-%d", n))
		start := time.Now()
		if err := writeFixture(root, n); err != nil {
			return res, err
		}
		e.logf("scan: generated a tree of %d processes in %s", n, time.Since(start).Round(time.Millisecond))
		mon, err := newMonitor(ctx, root, fixtureGlobs)
		if err != nil {
			return res, err
		}
		fl := newFloorScanner()
		var proj, floor scanCost
		project := func() (int, error) {
			r, err := mon.Scan(ctx)
			return r.Scanned, err
		}
		floorFn := func() (int, error) { return fl.scan(root, nil) }
		for k := range sizes[n] {
			for _, side := range []int{k % 2, 1 - k%2} {
				if side == 0 {
					err = proj.measure(project)
				} else {
					err = floor.measure(floorFn)
				}
				if err != nil {
					return res, err
				}
			}
		}
		if proj.procs != n || floor.procs != n {
			return res, fmt.Errorf("scan of %d processes: the monitor saw %d, the floor %d", n, proj.procs, floor.procs)
		}
		r := ratio(float64(proj.cpu), float64(floor.cpu))
		res.row(Row{
			Section: "5 scan",
			Case:    fmt.Sprintf("generated tree, %d processes (1%% matched): CPU per scan, allocs", n),
			Project: fmt.Sprintf("%s, %.0f allocs (%.3f/proc)", fmtDur(proj.cpuPerScan()), proj.allocsPerScan(), proj.allocsPerScan()/float64(n)),
			Floor:   fmt.Sprintf("%s, %.0f allocs", fmtDur(floor.cpuPerScan()), floor.allocsPerScan()),
			Ratio:   fmtRatio(r),
			Target:  "≤ 1.2×",
			Verdict: verdict(r <= 1.2),
		})
		res.note("scan, generated tree of %d processes: %d scans per side, interleaved, process CPU time (CLOCK_PROCESS_CPUTIME_ID, so the garbage collector counts); wall-time ratio %s; %s allocated per scan",
			n, proj.scans, fmtRatio(ratio(float64(proj.wall), float64(floor.wall))), fmtBytes(float64(proj.bytes)/float64(proj.scans)))
	}

	// The live host.
	sl, err := e.getSleepers()
	if err != nil {
		return res, err
	}
	blocks, per := 10, 10
	if e.cfg.Quick {
		blocks, per = 2, 3
	}
	for _, live := range []struct {
		name  string
		globs []string
		// details says whether the agent reads the details of the sleeps
		// (the globs match them), and so whether the floor must too.
		details bool
	}{
		{"50 globs matching the 2,000 sleeps", sl.globs, true},
		{"5 globs matching none of them", fixtureGlobs, false},
	} {
		mon, err := newMonitor(ctx, "/proc", live.globs)
		if err != nil {
			return res, err
		}
		fl := newFloorScanner()
		var isSleeper func([]byte) bool
		if live.details {
			isSleeper = func(stat []byte) bool { return bytes.Contains(stat, []byte("(pwb-g")) }
		}
		var proj, floor, statOnly scanCost
		var projStat, floorStat, statOnlyStat time.Duration
		matched := 0
		run := func(c *scanCost, acc *time.Duration, fn func() (int, error)) error {
			s0, err := selfStatCPU()
			if err != nil {
				return err
			}
			for range per {
				if err := c.measure(fn); err != nil {
					return err
				}
			}
			s1, err := selfStatCPU()
			*acc += s1 - s0
			return err
		}
		sides := []func() error{
			func() error {
				return run(&proj, &projStat, func() (int, error) {
					r, err := mon.Scan(ctx)
					matched = r.Matched
					return r.Scanned, err
				})
			},
			func() error {
				return run(&floor, &floorStat, func() (int, error) { return fl.scan("/proc", isSleeper) })
			},
		}
		if live.details {
			// The stat-only floor beside, for what the details cost.
			sides = append(sides, func() error {
				return run(&statOnly, &statOnlyStat, func() (int, error) { return fl.scan("/proc", nil) })
			})
		}
		for k := range blocks {
			for j := range sides {
				if err := sides[(j+k)%len(sides)](); err != nil {
					return res, err
				}
			}
		}
		scans := time.Duration(proj.scans)
		r := ratio(float64(projStat), float64(floorStat))
		row := Row{
			Section: "5 scan",
			Case:    fmt.Sprintf("live /proc, %d processes incl. %d sleeps, %s: CPU per scan (/proc/self/stat), allocs", proj.procs, len(sl.cmds), live.name),
			Project: fmt.Sprintf("%s, %.0f allocs", fmtDur(projStat/scans), proj.allocsPerScan()),
			Floor:   fmt.Sprintf("%s, 0 allocs", fmtDur(floorStat/scans)),
			Ratio:   fmtRatio(r),
			Target:  "≤ 1.2×",
			Verdict: verdict(r <= 1.2),
		}
		if live.details {
			row.Case = fmt.Sprintf("live /proc, %d processes incl. %d sleeps, %s (floor reads stat, io, status, fd count and limits of the matched): CPU per scan (/proc/self/stat), allocs",
				proj.procs, len(sl.cmds), live.name)
			row.Target, row.Verdict = "≤ 1.5×", verdict(r <= 1.5)
		}
		res.row(row)
		if live.details {
			res.note("scan, live host, %s: %d processes matched; %d scans per side in %d interleaved blocks; by CLOCK_PROCESS_CPUTIME_ID procwatch %s and floor %s per scan; the floor reads, for the 2,000 sleeps, what internal/monitor reads for a matched process (io, status, the fd directory's size, limits once per process); a floor reading only the stat files costs %s per scan, procwatch/that = %s",
				live.name, matched, proj.scans, blocks, fmtDur(proj.cpuPerScan()), fmtDur(floor.cpuPerScan()),
				fmtDur(statOnlyStat/scans), fmtRatio(ratio(float64(projStat), float64(statOnlyStat))))
		} else {
			res.note("scan, live host, %s: %d processes matched; %d scans per side in %d interleaved blocks; by CLOCK_PROCESS_CPUTIME_ID procwatch %s and floor %s per scan (stat files only: no process is matched)",
				live.name, matched, proj.scans, blocks, fmtDur(proj.cpuPerScan()), fmtDur(floor.cpuPerScan()))
		}
	}
	return res, nil
}
