package bench

import (
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"time"
)

// eventsFlag is the agent's switch for process events (default on).
const eventsFlag = "--collect.process-events"

// eventsGlob is the name the load's processes run under, the one glob of
// the agents of section 8.
const eventsGlob = "pwb-ev"

// agentHasFlag tells whether the agent binary of binDir lists flag in its
// --help.
func agentHasFlag(binDir, flag string) bool {
	out, _ := exec.Command(filepath.Join(binDir, "procwatch"), "--help").CombinedOutput()
	return strings.Contains(string(out), strings.TrimLeft(flag, "-"))
}

// startLoad starts perSecond short processes per second, each the
// program writeShortLived puts in dir under the name eventsGlob, until the
// returned stop is called; stop returns how many were started. Workers take
// tokens handed out every 10 ms, so that one slow start does not lower the
// rate, which is a ceiling: a token nobody takes is dropped. They fork and
// exec with syscall.ForkExec (vfork, no pipes, no goroutine per child),
// which here starts a seventh more a second than os/exec (2,230 against
// 1,950 at most, with nothing else running).
func startLoad(dir string, perSecond int) (stop func() int, what string, err error) {
	path := filepath.Join(dir, eventsGlob)
	if what, err = writeShortLived(path); err != nil {
		return nil, "", err
	}
	argv := []string{path}
	attr := &syscall.ProcAttr{Env: []string{}}
	tokens := make(chan struct{}, perSecond)
	done := make(chan struct{})
	var started atomic.Int64
	var wg sync.WaitGroup
	for range 8 {
		wg.Go(func() {
			for range tokens {
				pid, err := syscall.ForkExec(path, argv, attr)
				if err != nil {
					continue
				}
				started.Add(1)
				var ws syscall.WaitStatus
				for {
					if _, err := syscall.Wait4(pid, &ws, 0, nil); !errors.Is(err, syscall.EINTR) {
						break
					}
				}
			}
		})
	}
	wg.Go(func() {
		defer close(tokens)
		tick := time.NewTicker(10 * time.Millisecond)
		defer tick.Stop()
		owed := 0.0
		for {
			select {
			case <-done:
				return
			case <-tick.C:
				for owed += float64(perSecond) / 100; owed >= 1; owed-- {
					select {
					case tokens <- struct{}{}:
					default:
					}
				}
			}
		}
	})
	return func() int {
		close(done)
		wg.Wait()
		return int(started.Load())
	}, what, nil
}

// eventsSide is one agent of section 8 and what was measured of it.
type eventsSide struct {
	*child
	label          string
	idle, loaded   time.Duration // CPU over each window
	starts0        float64       // starts_total of eventsGlob before the load
	counted        int           // starts it counted during the load
	missed0        [2]float64    // unidentified and lost events before the load
	missed         [2]int        // unidentified execs and lost events during the load
	eventsEnabled  float64       // procwatch_process_events_enabled, -1 if absent
	startsExported bool
}

// eventsSection is section 8: agents watching a name that about 1,000
// short processes a second run under, one with process events and one
// sampling (--collect.process-events=false), beside the floor, a bare
// netlink reader of the same events. All three run at once, first idle
// and then under the load; the CPU of each is read over both windows, and
// the agents' starts_total against the starts made.
func eventsSection(ctx context.Context, e *env) (sectionResult, error) {
	var res sectionResult
	bin, err := e.binaries()
	if err != nil {
		return res, err
	}
	cl, err := e.clusters.get(1)
	if err != nil {
		return res, err
	}
	servers := cl.Servers()
	logDir, err := os.MkdirTemp("", "procwatch-bench-ev-")
	if err != nil {
		return res, err
	}
	defer func() { _ = os.RemoveAll(logDir) }()

	hasFlag := agentHasFlag(bin, eventsFlag)
	type spec struct {
		label, root string
		args        []string
	}
	specs := []spec{{"agent without process events (--collect.process-events=false)", "/bench/events-off", []string{eventsFlag + "=false"}}}
	if hasFlag {
		specs = append([]spec{{"agent with process events", "/bench/events-on", []string{eventsFlag + "=true"}}}, specs...)
	} else {
		specs[0] = spec{"agent as built, sampling /proc (it has no --collect.process-events flag)", "/bench/events-off", nil}
	}
	var agents []*eventsSide
	defer func() {
		for _, a := range agents {
			a.stop()
		}
	}()
	for _, s := range specs {
		if err := writeWatchList(ctx, servers, s.root, []string{eventsGlob}); err != nil {
			return res, err
		}
		c, err := startAgent(ctx, bin, logDir, servers, s.root, "/proc", s.args...)
		if err != nil {
			return res, err
		}
		agents = append(agents, &eventsSide{child: c, label: s.label, eventsEnabled: -1})
	}
	floor, err := startNetlinkFloor(e.cfg.Self, logDir)
	if err != nil {
		return res, err
	}
	floorDone := false
	defer func() {
		if !floorDone {
			floor.stop()
		}
	}()

	sc := newScraper()
	defer sc.close()
	idleSeconds, loadSeconds, rate := 5, 20, 1000
	if e.cfg.Quick {
		idleSeconds, loadSeconds, rate = 1, 2, 200
	}
	pids := []int{floor.pid()}
	for _, a := range agents {
		pids = append(pids, a.pid())
	}
	// window runs for seconds, scraping the agents once a second (a
	// scrape makes an agent re-scan, as in use), and returns each
	// process's CPU over it, the floor first.
	window := func(seconds int) ([]time.Duration, error) {
		u0 := make([]procUsage, len(pids))
		for i, p := range pids {
			if u0[i], err = readProcUsage(p); err != nil {
				return nil, err
			}
		}
		start := time.Now()
		for s := range seconds {
			for j := range agents {
				a := agents[(j+s)%len(agents)]
				if _, err := sc.metrics(a.addr); err != nil {
					return nil, fmt.Errorf("scraping the %s: %w", a.label, err)
				}
			}
			if err := ctx.Err(); err != nil {
				return nil, err
			}
			time.Sleep(time.Until(start.Add(time.Duration(s+1) * time.Second)))
		}
		cpu := make([]time.Duration, len(pids))
		for i, p := range pids {
			u1, err := readProcUsage(p)
			if err != nil {
				return nil, err
			}
			cpu[i] = u1.cpu - u0[i].cpu
		}
		return cpu, nil
	}
	// startsOf reads an agent's starts_total, and what it says it could
	// not count: execs it could not identify, events it lost.
	startsOf := func(a *eventsSide) (float64, [2]float64, bool, error) {
		body, err := sc.metrics(a.addr)
		if err != nil {
			return 0, [2]float64{}, false, err
		}
		if v, n := sumMetric(body, "procwatch_process_events_enabled"); n > 0 {
			a.eventsEnabled = v
		}
		unidentified, _ := sumMetric(body, "procwatch_process_events_unidentified_total")
		lost, _ := sumMetric(body, "procwatch_process_events_lost_total")
		v, n := sumMetric(body, "procwatch_glob_process_starts_total")
		return v, [2]float64{unidentified, lost}, n > 0, nil
	}

	idle, err := window(idleSeconds)
	if err != nil {
		return res, err
	}
	for _, a := range agents {
		if a.starts0, a.missed0, _, err = startsOf(a); err != nil {
			return res, err
		}
	}
	stopLoad, loadWhat, err := startLoad(logDir, rate)
	if err != nil {
		return res, err
	}
	loaded, err := window(loadSeconds)
	started := stopLoad()
	if err != nil {
		return res, err
	}
	// Events of the last starts are on their way; the agents count them
	// within a scan interval at most.
	time.Sleep(2 * time.Second)
	for _, a := range agents {
		v, missed, ok, err := startsOf(a)
		if err != nil {
			return res, err
		}
		a.counted, a.startsExported = int(v-a.starts0), ok
		a.missed = [2]int{int(missed[0] - a.missed0[0]), int(missed[1] - a.missed0[1])}
	}
	floorDone = true
	messages, execs, err := floor.finish()
	if err != nil {
		return res, err
	}
	for i, a := range agents {
		a.idle, a.loaded = idle[i+1], loaded[i+1]
	}

	perSecond := float64(started) / float64(loadSeconds)
	pct := func(d time.Duration, seconds int) string {
		return fmt.Sprintf("%.1f%%", 100*d.Seconds()/float64(seconds))
	}
	floorFig := fmt.Sprintf("%s (%d messages, %d execs)", pct(loaded[0], loadSeconds), messages, execs)
	if !hasFlag {
		res.row(Row{
			Section: "8 process events",
			Case:    fmt.Sprintf("agent with process events, %.0f starts/s for %d s: CPU, %% of one core", perSecond, loadSeconds),
			Project: "not measured: the agent built from this tree has no " + eventsFlag + " flag",
			Floor:   floorFig,
			Verdict: Info,
		})
	}
	for _, a := range agents {
		counted := fmt.Sprintf("%d of %d starts counted", a.counted, started)
		if !a.startsExported {
			counted = "no starts_total exported"
		}
		if a.eventsEnabled >= 0 {
			counted += fmt.Sprintf(", process_events_enabled %g", a.eventsEnabled)
		}
		if a.eventsEnabled > 0 {
			counted += fmt.Sprintf(", %d execs on the host unidentified, %d events lost", a.missed[0], a.missed[1])
		}
		res.row(Row{
			Section: "8 process events",
			Case:    fmt.Sprintf("%s, %.0f starts/s of the glob's name for %d s: CPU, %% of one core", a.label, perSecond, loadSeconds),
			Project: fmt.Sprintf("%s (%s)", pct(a.loaded, loadSeconds), counted),
			Floor:   floorFig,
			Ratio:   fmtRatio(ratio(float64(a.loaded), float64(loaded[0]))),
			Verdict: Info,
		})
	}
	var idleFigs []string
	for _, a := range agents {
		idleFigs = append(idleFigs, fmt.Sprintf("%s %s", a.label, pct(a.idle, idleSeconds)))
	}
	res.note("process events: the agents and the floor (a blocking recvmsg loop on a connector socket subscribed to process events, counting messages and the execs among them: %s of this harness) ran at the same time, first idle for %d s, then for %d s while this harness started %s, named %s, at up to %d a second (%d started, %.0f/s), the agents scraped once a second throughout; CPU is utime + stime of each process over the window. Idle: %s, floor %s. Starts counted are the rise of procwatch_glob_process_starts_total over the load, read 2 s after it stopped",
		"internal/bench/netlink.go", idleSeconds, loadSeconds, loadWhat, eventsGlob, rate, started, perSecond, strings.Join(idleFigs, ", "), pct(idle[0], idleSeconds))
	return res, nil
}
