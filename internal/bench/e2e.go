package bench

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"time"

	"github.com/procwatch/procwatch/internal/watchlist"
)

// e2eGlobs is the list in force when the end-to-end trials start.
var e2eGlobs = []string{"sshd", "cron*", "systemd-journald", "nginx", "postgres*", "cmdline:*kafka*", "/usr/sbin/rsyslogd", "dockerd", "containerd*", "kubelet"}

// endToEnd is section 2: `procctl globs add` until the agent's /metrics
// shows the glob, beside a raw-client CLI setting a node until a raw
// exporter's /metrics shows it, on the standalone server.
func endToEnd(ctx context.Context, e *env) (sectionResult, error) {
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
	root, rawPath := "/bench/e2e", "/bench/e2e-raw"

	sd, err := startSides(ctx, e, bin, servers, root, rawPath, watchlist.Document{Globs: e2eGlobs}, "procwatch-bench-e2e-")
	if err != nil {
		return res, err
	}
	defer sd.close()
	agent, floor, sc := sd.agent, sd.floor, sd.sc
	// The floor's CLI writes the whole list: keep the one it last wrote.
	rawList := watchlist.Document{Globs: append([]string(nil), e2eGlobs...)}

	zkFlag := strings.Join(servers, ",")
	trials := 50
	if e.cfg.Quick {
		trials = 4
	}
	// With the 2,000 sleeps of sections 5 and 6 still running, if they are,
	// then on the ordinary host, which the target is about.
	variants := []bool{false}
	if e.sleepers != nil {
		variants = []bool{true, false}
	}
	for _, withSleepers := range variants {
		if !withSleepers && e.sleepers != nil {
			e.sleepers.stop()
			e.sleepers = nil
			// Let the agent's periodic scan see them gone.
			if !e.cfg.Quick {
				time.Sleep(6 * time.Second)
			}
		}
		procs := countProcs()
		var pl, fl, pExit, fExit, pAfter Latencies
		for k := range trials + 2 {
			glob := fmt.Sprintf("bench-e2e-%d-%t-*", k, withSleepers)
			for _, side := range []int{k % 2, 1 - k%2} {
				var cmd *exec.Cmd
				var target string
				if side == 0 {
					cmd = exec.Command(filepath.Join(bin, "procctl"), "--zk", zkFlag, "--path", root, "globs", "add", glob)
					target = agent.addr
				} else {
					rawList.Globs = append(rawList.Globs, glob)
					data, _ := json.Marshal(rawList)
					cmd = exec.Command(e.cfg.Self)
					cmd.Env = append(os.Environ(), ChildEnv+"=rawset", "PWB_ZK="+zkFlag, "PWB_PATH="+rawPath, "PWB_DATA="+string(data))
					target = floor.addr
				}
				seen, exited, err := e2eTrial(ctx, sc, cmd, target, glob)
				if err != nil {
					log, _ := os.ReadFile(agent.log)
					return res, fmt.Errorf("trial %d (%s): %w\nagent log:\n%s", k, map[int]string{0: "procctl", 1: "floor"}[side], err, log)
				}
				if k < 2 {
					continue // warm-up: page cache, the servers' JIT
				}
				if side == 0 {
					pl, pExit = append(pl, seen), append(pExit, exited)
					pAfter = append(pAfter, max(0, seen-exited))
				} else {
					fl, fExit = append(fl, seen), append(fExit, exited)
				}
			}
		}
		p99 := pl.Percentile(99)
		row := Row{
			Section: "2 end to end",
			Case:    fmt.Sprintf("`procctl globs add` → agent's /metrics shows it, standalone, host with %d processes: p50 / p99 / max", procs),
			Project: fmtTriple(pl),
			Floor:   fmtTriple(fl),
			Ratio:   "p99 " + fmtRatio(ratio(float64(p99), float64(fl.Percentile(99)))),
			Target:  "p99 < 100 ms",
			Verdict: verdict(p99 < 100*time.Millisecond),
		}
		if withSleepers {
			// The target is for an ordinary host; this row shows what the
			// agent's re-scan of a crowded one adds.
			row.Target, row.Verdict = "", Info
		}
		res.row(row)
		res.note("end to end, host with %d processes: %d trials per side, interleaved, /metrics polled every millisecond over a kept-alive connection. procctl itself ran %s (p50 / p99 / max) from exec to exit, and the glob showed %s after its exit (0 when before); the floor's CLI (raw client: connect, set, close) ran %s. The floor's exporter is one raw session with a GetW loop and an HTTP server (see internal/bench/child.go)",
			procs, len(pl), fmtTriple(pExit), fmtTriple(pAfter), fmtTriple(fExit))
	}
	return res, nil
}

// e2eTrial starts cmd and polls target's /metrics until it shows glob;
// it returns the time from the start to the glob showing, and to cmd's
// exit.
func e2eTrial(ctx context.Context, sc *scraper, cmd *exec.Cmd, target, glob string) (seen, exited time.Duration, err error) {
	want := []byte(fmt.Sprintf("glob=%q", glob))
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL}
	start := time.Now()
	if err := cmd.Start(); err != nil {
		return 0, 0, err
	}
	done := make(chan error, 1)
	go func() { done <- cmd.Wait() }()
	exitedCh := done
	deadline := start.Add(10 * time.Second)
	for seen == 0 || exited == 0 {
		if exitedCh != nil {
			select {
			case err := <-exitedCh:
				exited = time.Since(start)
				exitedCh = nil
				if err != nil {
					return 0, 0, fmt.Errorf("%s: %v: %s", cmd.Path, err, stderr.String())
				}
			default:
			}
		}
		if seen == 0 {
			body, err := sc.metrics(target)
			if err != nil {
				return 0, 0, err
			}
			if bytes.Contains(body, want) {
				seen = time.Since(start)
			}
		}
		if time.Now().After(deadline) || ctx.Err() != nil {
			return 0, 0, fmt.Errorf("%s not on %s/metrics 10 s after the command started", glob, target)
		}
		if seen == 0 {
			time.Sleep(time.Millisecond)
		} else if exitedCh != nil {
			select {
			case err := <-exitedCh:
				exited = time.Since(start)
				exitedCh = nil
				if err != nil {
					return 0, 0, fmt.Errorf("%s: %v: %s", cmd.Path, err, stderr.String())
				}
			case <-time.After(10 * time.Second):
				return 0, 0, fmt.Errorf("%s did not exit", cmd.Path)
			}
		}
	}
	return seen, exited, nil
}

// countProcs is the number of processes on this host now.
func countProcs() int {
	entries, _ := os.ReadDir("/proc")
	n := 0
	for _, e := range entries {
		if c := e.Name()[0]; c >= '0' && c <= '9' {
			n++
		}
	}
	return n
}
