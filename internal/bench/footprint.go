package bench

import (
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/procwatch/procwatch/internal/watchlist"
)

// footprintLarge is how many sleeps the second half of the footprint
// section runs with, in the same 50 groups: 10,000 processes the globs
// match.
const footprintLarge = 10000

// exporter is one side of the footprint section: a running program, how
// many processes its /metrics page says it sees, and what the scrapes
// measured of it.
type exporter struct {
	*child
	// seen reads the processes a /metrics page counts: matched by the
	// globs for the agent and process-exporter, all of them for the floor
	// and node_exporter.
	seen func(body []byte) int

	rss     []float64
	scrapes Latencies
	cpu     time.Duration
	elapsed time.Duration // from the first CPU reading to the last
	body    int           // size of the last page
	procs   int           // processes the last page counts
	// anon and file split the last RSS reading: heap and stacks, and
	// pages of mapped files (the binary's, mostly).
	anon, file uint64
}

func (x *exporter) cpuPerScrape() time.Duration { return x.cpu / time.Duration(max(len(x.scrapes), 1)) }

func meanOf(xs []float64) float64 {
	s := 0.0
	for _, x := range xs {
		s += x
	}
	return s / float64(max(len(xs), 1))
}

func maxOf(xs []float64) float64 {
	m := 0.0
	for _, x := range xs {
		m = max(m, x)
	}
	return m
}

// footprintSection is section 6: the agent watching the live sleep
// processes with 50 globs, beside the floor's exporter (a raw session and
// one stat read per process per scrape), process-exporter configured with
// the same globs and node_exporter's processes collector, all running at
// once and scraped in turn every second: first with the 2,000 sleeps, then
// with 10,000.
func footprintSection(ctx context.Context, e *env) (sectionResult, error) {
	var res sectionResult
	bin, err := e.binaries()
	if err != nil {
		return res, err
	}
	// The peers first: a missing one fails the section before anything
	// is started, with how to install it.
	for _, p := range []struct{ bin, pkg string }{{processExporterBin, "prometheus-process-exporter"}, {nodeExporterBin, "prometheus-node-exporter"}} {
		if err := requirePeer(p.bin, p.pkg); err != nil {
			return res, err
		}
	}
	sl, err := e.getSleepers()
	if err != nil {
		return res, err
	}
	cl, err := e.clusters.get(1)
	if err != nil {
		return res, err
	}
	servers := cl.Servers()
	root, rawPath := "/bench/footprint", "/bench/footprint-raw"
	list := watchlist.Document{Globs: sl.globs}

	sd, err := startSides(ctx, e, bin, servers, root, rawPath, list, "procwatch-bench-fp-")
	if err != nil {
		return res, err
	}
	defer sd.close()
	pe, err := startProcessExporter(ctx, sd.logDir, sl.globs)
	if err != nil {
		return res, err
	}
	defer pe.stop()
	ne, err := startNodeExporter(ctx, sd.logDir)
	if err != nil {
		return res, err
	}
	defer ne.stop()

	matched := func(name string) func([]byte) int {
		return func(b []byte) int { v, _ := sumMetric(b, name); return int(v) }
	}
	newSides := func() []*exporter {
		return []*exporter{
			{child: sd.agent, seen: matched("procwatch_glob_processes")},
			{child: sd.floor, seen: matched("floor_processes_scanned")},
			{child: pe, seen: matched("namedprocess_namegroup_num_procs")},
			{child: ne, seen: matched("node_processes_pids")},
		}
	}

	seconds, large, largeSeconds := 60, footprintLarge, 30
	if e.cfg.Quick {
		seconds, large, largeSeconds = 3, 2*len(sl.cmds), 3
	}
	small := newSides()
	if err := settle(ctx, sd.sc, small, len(sl.cmds)); err != nil {
		return res, err
	}
	if err := measureFootprint(ctx, sd.sc, small, seconds); err != nil {
		return res, err
	}
	if err := checkGlobs(sd, len(sl.globs)); err != nil {
		return res, err
	}
	footprintRows(&res, small, fmt.Sprintf("%d sleeps, %d globs matching them", len(sl.cmds), len(sl.globs)), seconds)

	start := time.Now()
	stopMore, err := sl.grow(large - len(sl.cmds))
	if err != nil {
		return res, err
	}
	// The 8,000 more are this section's alone: the end-to-end section
	// after it wants the host of 2,000.
	defer stopMore()
	e.logf("footprint: %d sleep processes in all, the new ones started in %s", large, time.Since(start).Round(time.Millisecond))
	big := newSides()
	if err := settle(ctx, sd.sc, big, large); err != nil {
		return res, err
	}
	if err := measureFootprint(ctx, sd.sc, big, largeSeconds); err != nil {
		return res, err
	}
	footprintRows(&res, big, fmt.Sprintf("%d sleeps, the same %d globs matching them", large, len(sl.globs)), largeSeconds)

	if err := binaryRows(&res, e, bin); err != nil {
		return res, err
	}
	res.note("footprint: the agent, the floor's exporter, process-exporter and node_exporter run at once on the same sleeps; each is scraped once a second on a schedule of its own, a quarter second apart, as Prometheus scrapes its targets (a scrape that takes longer skips the ticks it misses, and one under way at the end of the phase completes and counts), and RSS (VmRSS) is read after each scrape; CPU per scrape is each process's CPU time (utime + stime, every thread) over the phase divided by its scrapes, so it includes whatever the program does between scrapes. The floor exporter holds a raw ZooKeeper session watching the list and reads the process table (directory + one stat file per process) at a scrape when its last read is a second old, as the agent re-scans. process-exporter (Debian's package; -version says: %s) has one group per glob (comm for a name, a regular expression on the command line for a pattern) and runs with -gather-smaps=false -threads=false, so that it reads what the agent reads; node_exporter runs with --collector.disable-defaults --collector.processes and counts every process, matching nothing",
		peerVersion(processExporterBin, "-version"))
	return res, nil
}

// settle scrapes every side each second until its page counts at least
// want processes (first scans, connections, new processes seen), for a
// minute at most.
func settle(ctx context.Context, sc *scraper, xs []*exporter, want int) error {
	deadline := time.Now().Add(time.Minute)
	for {
		behind := ""
		for _, x := range xs {
			body, err := sc.metrics(x.addr)
			if err != nil {
				return fmt.Errorf("scraping %s: %w", x.name, err)
			}
			if n := x.seen(body); n < want {
				behind += fmt.Sprintf(" %s sees %d;", x.name, n)
			}
		}
		if behind == "" {
			return nil
		}
		if time.Now().After(deadline) || ctx.Err() != nil {
			return fmt.Errorf("after a minute not every exporter sees the %d sleeps:%s", want, behind)
		}
		time.Sleep(time.Second)
	}
}

// measureFootprint scrapes every side once a second for seconds, each on
// its own schedule as Prometheus scrapes its targets (the sides a quarter
// second apart), reading its RSS after each scrape and its CPU time over
// the whole. A side whose scrape takes longer than a second skips the
// ticks it misses: process-exporter's scrape of 10,000 processes takes
// seconds on a busy machine, and its figures are per completed scrape.
func measureFootprint(ctx context.Context, sc *scraper, xs []*exporter, seconds int) error {
	u0 := make([]procUsage, len(xs))
	for i, x := range xs {
		var err error
		if u0[i], err = readProcUsage(x.pid()); err != nil {
			return err
		}
	}
	start := time.Now()
	ctx, cancel := context.WithTimeout(ctx, time.Duration(seconds)*time.Second)
	defer cancel()
	errs := make([]error, len(xs))
	var wg sync.WaitGroup
	for i, x := range xs {
		wg.Go(func() {
			select {
			case <-time.After(time.Duration(i) * time.Second / time.Duration(len(xs))):
			case <-ctx.Done():
				return
			}
			tick := time.NewTicker(time.Second)
			defer tick.Stop()
			for {
				t0 := time.Now()
				// A scrape under way when the window closes completes and
				// counts, as the CPU read after it includes its work.
				body, err := sc.metrics(x.addr)
				if err != nil {
					errs[i] = fmt.Errorf("scraping %s: %w", x.name, err)
					return
				}
				x.scrapes = append(x.scrapes, time.Since(t0))
				x.body, x.procs = len(body), x.seen(body)
				u, err := readProcUsage(x.pid())
				if err != nil {
					errs[i] = err
					return
				}
				x.rss = append(x.rss, float64(u.rss))
				select {
				case <-tick.C:
				case <-ctx.Done():
					return
				}
			}
		})
	}
	wg.Wait()
	if err := errors.Join(errs...); err != nil {
		return err
	}
	elapsed := time.Since(start)
	for i, x := range xs {
		u1, err := readProcUsage(x.pid())
		if err != nil {
			return err
		}
		x.cpu, x.elapsed = u1.cpu-u0[i].cpu, elapsed
		if x.anon, x.file, err = readRSSSplit(x.pid()); err != nil {
			return err
		}
		if len(x.scrapes) == 0 {
			return fmt.Errorf("%s completed no scrape in %d s", x.name, seconds)
		}
	}
	return nil
}

// readRSSSplit reads RssAnon and RssFile of pid, in bytes.
func readRSSSplit(pid int) (anon, file uint64, err error) {
	status, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/status")
	if err != nil {
		return 0, 0, err
	}
	for line := range strings.SplitSeq(string(status), "\n") {
		k, v, ok := strings.Cut(line, ":")
		if !ok {
			continue
		}
		kb, _ := strconv.ParseUint(strings.TrimSuffix(strings.TrimSpace(v), " kB"), 10, 64)
		switch k {
		case "RssAnon":
			anon = kb << 10
		case "RssFile":
			file = kb << 10
		}
	}
	return anon, file, nil
}

// checkGlobs checks that the agent exports every glob.
func checkGlobs(sd *sides, want int) error {
	body, err := sd.sc.metrics(sd.agent.addr)
	if err != nil {
		return err
	}
	if _, globs := sumMetric(body, "procwatch_glob_processes"); globs != want {
		return fmt.Errorf("the agent exports %d globs, want %d", globs, want)
	}
	return nil
}

// footprintRows adds one phase's rows: the agent against the floor, then
// against each peer, RSS and CPU per scrape.
func footprintRows(res *sectionResult, xs []*exporter, phase string, seconds int) {
	agent := xs[0]
	rssFig := func(x *exporter) string {
		return fmt.Sprintf("%s / %s", fmtBytes(meanOf(x.rss)), fmtBytes(maxOf(x.rss)))
	}
	cpuFig := func(x *exporter) string {
		return fmt.Sprintf("%s (%.1f%% of a core, %d scrapes)", fmtDur(x.cpuPerScrape()), 100*x.cpu.Seconds()/x.elapsed.Seconds(), len(x.scrapes))
	}
	for i, x := range xs[1:] {
		against := "floor"
		if i > 0 {
			against = x.name
		}
		rss := Row{
			Section: "6 footprint",
			Case:    fmt.Sprintf("%s, scraped every 1 s for %d s: RSS mean / max, procwatch vs %s", phase, seconds, against),
			Project: rssFig(agent),
			Floor:   rssFig(x),
			Ratio:   "mean " + fmtRatio(ratio(meanOf(agent.rss), meanOf(x.rss))),
			Verdict: Info,
		}
		if x.name == "process-exporter" {
			r := ratio(meanOf(agent.rss), meanOf(x.rss))
			rss.Target, rss.Verdict = "mean ≤ 1.0×", verdict(r <= 1.0)
		}
		res.row(rss)
		res.row(Row{
			Section: "6 footprint",
			Case:    fmt.Sprintf("same: CPU per scrape, procwatch vs %s", against),
			Project: cpuFig(agent),
			Floor:   cpuFig(x),
			Ratio:   fmtRatio(ratio(float64(agent.cpuPerScrape()), float64(x.cpuPerScrape()))),
			Verdict: Info,
		})
	}
	var fetch, split string
	for _, x := range xs {
		fetch += fmt.Sprintf("; %s %s (page %s, %d processes)", x.name, fmtTriple(x.scrapes), fmtBytes(float64(x.body)), x.procs)
		split += fmt.Sprintf("; %s %s + %s", x.name, fmtBytes(float64(x.anon)), fmtBytes(float64(x.file)))
	}
	res.note("footprint, %s: time to fetch /metrics, p50 / p99 / max%s. RSS at the end, anonymous + file-backed (RssAnon + RssFile):%s", phase, fetch[1:], split[1:])
}

// binaryRows adds the sizes of the binaries compared: the agent as make
// build builds it, and the peers as Debian ships them.
func binaryRows(res *sectionResult, e *env, binDir string) error {
	agent, err := readBinaryInfo(binDir + "/procwatch")
	if err != nil {
		return err
	}
	pe, err := readBinaryInfo(processExporterBin)
	if err != nil {
		return err
	}
	ne, err := readBinaryInfo(nodeExporterBin)
	if err != nil {
		return err
	}
	res.row(Row{
		Section: "6 footprint",
		Case:    "binary size: procwatch as make build builds it, vs process-exporter",
		Project: agent.String(),
		Floor:   pe.String(),
		Ratio:   fmtRatio(ratio(float64(agent.size), float64(pe.size))),
		Verdict: Info,
	})
	res.row(Row{
		Section: "6 footprint",
		Case:    "same, vs node_exporter",
		Project: agent.String(),
		Floor:   ne.String(),
		Ratio:   fmtRatio(ratio(float64(agent.size), float64(ne.size))),
		Verdict: Info,
	})
	if self, err := readBinaryInfo(e.cfg.Self); err == nil {
		res.note("footprint: the floor's exporter is this harness's own binary, %s, of which it runs only the raw exporter; its RSS holds only the pages that touches", self)
	}
	return nil
}

// peerVersion is the first line a peer prints for its version flag.
func peerVersion(bin, flag string) string {
	out, err := exec.Command(bin, flag).CombinedOutput()
	if err != nil {
		return bin
	}
	line, _, _ := strings.Cut(strings.TrimSpace(string(out)), "\n")
	return line
}
