package bench

import (
	"bufio"
	"bytes"
	"context"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/procwatch/procwatch/internal/watchlist"
)

// footprintSection is section 6: a running agent watching the 2,000 live
// sleep processes with 50 globs, scraped every second for a minute, beside
// the floor's exporter (a raw session and one stat read per process per
// scrape) scraped the same way at the same time.
func footprintSection(ctx context.Context, e *env) (sectionResult, error) {
	var res sectionResult
	bin, err := e.binaries()
	if err != nil {
		return res, err
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
	agent, floor, sc := sd.agent, sd.floor, sd.sc

	seconds := 60
	if e.cfg.Quick {
		seconds = 3
	}
	// Let both settle (first scans, connection set-up) before measuring.
	for range 2 {
		for _, c := range []*child{agent, floor} {
			if _, err := sc.metrics(c.addr); err != nil {
				return res, err
			}
		}
		time.Sleep(time.Second)
	}
	kids := []*child{agent, floor}
	u0 := make([]procUsage, 2)
	rss := make([][]float64, 2)
	scrape := make([]Latencies, 2)
	for i, c := range kids {
		if u0[i], err = readProcUsage(c.pid()); err != nil {
			return res, err
		}
	}
	var lastAgentBody []byte
	start := time.Now()
	for s := range seconds {
		for j := range kids {
			i := (j + s) % 2
			t0 := time.Now()
			body, err := sc.metrics(kids[i].addr)
			if err != nil {
				return res, fmt.Errorf("scraping the %s: %w", kids[i].name, err)
			}
			scrape[i] = append(scrape[i], time.Since(t0))
			if i == 0 {
				lastAgentBody = body
			}
			u, err := readProcUsage(kids[i].pid())
			if err != nil {
				return res, err
			}
			rss[i] = append(rss[i], float64(u.rss))
		}
		time.Sleep(time.Until(start.Add(time.Duration(s+1) * time.Second)))
	}
	elapsed := time.Since(start)
	cpu := make([]float64, 2)
	for i, c := range kids {
		u1, err := readProcUsage(c.pid())
		if err != nil {
			return res, err
		}
		cpu[i] = 100 * (u1.cpu - u0[i].cpu).Seconds() / elapsed.Seconds()
	}
	matched, globs := agentTotals(lastAgentBody)
	if globs != len(sl.globs) || matched < len(sl.cmds) {
		return res, fmt.Errorf("the agent exports %d globs matching %d processes, want %d globs matching at least %d", globs, matched, len(sl.globs), len(sl.cmds))
	}
	mean := func(xs []float64) float64 {
		s := 0.0
		for _, x := range xs {
			s += x
		}
		return s / float64(len(xs))
	}
	maxOf := func(xs []float64) float64 {
		m := 0.0
		for _, x := range xs {
			m = max(m, x)
		}
		return m
	}
	res.row(Row{
		Section: "6 footprint",
		Case:    fmt.Sprintf("agent, %d sleeps, %d globs, scraped every 1 s for %d s: RSS mean / max", len(sl.cmds), len(sl.globs), seconds),
		Project: fmt.Sprintf("%s / %s", fmtBytes(mean(rss[0])), fmtBytes(maxOf(rss[0]))),
		Floor:   fmt.Sprintf("%s / %s", fmtBytes(mean(rss[1])), fmtBytes(maxOf(rss[1]))),
		Ratio:   "mean " + fmtRatio(ratio(mean(rss[0]), mean(rss[1]))),
		Verdict: Info,
	})
	res.row(Row{
		Section: "6 footprint",
		Case:    "same agent: CPU, % of one core",
		Project: fmt.Sprintf("%.1f%%", cpu[0]),
		Floor:   fmt.Sprintf("%.1f%%", cpu[1]),
		Ratio:   fmtRatio(ratio(cpu[0], cpu[1])),
		Verdict: Info,
	})
	res.note("footprint: both processes scraped alternately each second for %s; the agent's /metrics (%s, %d globs, %d processes matched) took %s to fetch (p50 / p99 / max), the floor's %s. The floor exporter holds a raw ZooKeeper session watching the list and reads the process table (directory + one stat file per process) at a scrape when its last read is a second old, as the agent re-scans",
		elapsed.Round(time.Millisecond), fmtBytes(float64(len(lastAgentBody))), globs, matched, fmtTriple(scrape[0]), fmtTriple(scrape[1]))
	return res, nil
}

// agentTotals sums procwatch_glob_processes over the globs of a /metrics
// page and counts the globs.
func agentTotals(body []byte) (matched, globs int) {
	sc := bufio.NewScanner(bytes.NewReader(body))
	sc.Buffer(make([]byte, 64<<10), 1<<20)
	for sc.Scan() {
		line := sc.Text()
		if !strings.HasPrefix(line, "procwatch_glob_processes{") {
			continue
		}
		i := strings.LastIndexByte(line, ' ')
		v, err := strconv.ParseFloat(line[i+1:], 64)
		if err == nil {
			matched += int(v)
			globs++
		}
	}
	return matched, globs
}
