package metrics

import (
	"context"
	"fmt"
	"strings"
	"testing"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/testutil"

	"github.com/procwatch/procwatch/internal/monitor"
	"github.com/procwatch/procwatch/internal/monitor/proctest"
)

// healthMetrics are the process health series beside the process count.
var healthMetrics = []string{
	"procwatch_glob_processes", "procwatch_glob_states", "procwatch_glob_context_switches_total",
	"procwatch_glob_page_faults_total", "procwatch_glob_swap_bytes", "procwatch_glob_max_fd_ratio",
	"procwatch_glob_proportional_memory_bytes",
}

const healthHeader = `# HELP procwatch_glob_context_switches_total Context switches of the main thread of processes that matched the glob, including exited ones: voluntary (it waited) or involuntary (it was preempted).
# TYPE procwatch_glob_context_switches_total counter
# HELP procwatch_glob_max_fd_ratio Highest ratio of open file descriptors to the soft limit (RLIMIT_NOFILE) among the processes matching the glob; 0 when none.
# TYPE procwatch_glob_max_fd_ratio gauge
# HELP procwatch_glob_page_faults_total Page faults of processes that matched the glob, including exited ones: minor (served from memory) or major (read from storage).
# TYPE procwatch_glob_page_faults_total counter
# HELP procwatch_glob_processes Number of processes matching the glob.
# TYPE procwatch_glob_processes gauge
# HELP procwatch_glob_proportional_memory_bytes Proportional set size (PSS: resident memory, shared pages divided among their sharers) of the processes matching the glob; exported with --collect.pss.
# TYPE procwatch_glob_proportional_memory_bytes gauge
# HELP procwatch_glob_states Processes matching the glob by the kernel state of their main thread: running (R), sleeping (S), waiting (D, uninterruptible, usually on I/O), zombie (Z, exited and not reaped by its parent; counted here only), other (T, t, I, X and any other).
# TYPE procwatch_glob_states gauge
# HELP procwatch_glob_swap_bytes Swapped-out memory of the processes matching the glob (VmSwap).
# TYPE procwatch_glob_swap_bytes gauge
`

// health is the expected health of one glob. pss < 0 means the series is
// absent.
type health struct {
	name                                 string
	procs                                int
	running, sleeping, waiting, zombie   int
	other                                int
	voluntary, involuntary, minor, major uint64
	swap                                 uint64
	fdRatio                              string
	pss                                  int64
}

// healthExpo renders the expected exposition of the health series.
func healthExpo(globs ...health) string {
	fams := map[string][]string{}
	add := func(family, format string, args ...any) {
		fams[family] = append(fams[family], fmt.Sprintf(format, args...))
	}
	for _, g := range globs {
		add("procwatch_glob_processes", "procwatch_glob_processes{glob=%q} %d", g.name, g.procs)
		for _, s := range []struct {
			state string
			n     int
		}{{"other", g.other}, {"running", g.running}, {"sleeping", g.sleeping}, {"waiting", g.waiting}, {"zombie", g.zombie}} {
			add("procwatch_glob_states", "procwatch_glob_states{glob=%q,state=%q} %d", g.name, s.state, s.n)
		}
		add("procwatch_glob_context_switches_total", `procwatch_glob_context_switches_total{glob=%q,kind="involuntary"} %d`, g.name, g.involuntary)
		add("procwatch_glob_context_switches_total", `procwatch_glob_context_switches_total{glob=%q,kind="voluntary"} %d`, g.name, g.voluntary)
		add("procwatch_glob_page_faults_total", `procwatch_glob_page_faults_total{glob=%q,kind="major"} %d`, g.name, g.major)
		add("procwatch_glob_page_faults_total", `procwatch_glob_page_faults_total{glob=%q,kind="minor"} %d`, g.name, g.minor)
		add("procwatch_glob_swap_bytes", "procwatch_glob_swap_bytes{glob=%q} %d", g.name, g.swap)
		ratio := g.fdRatio
		if ratio == "" {
			ratio = "0"
		}
		add("procwatch_glob_max_fd_ratio", "procwatch_glob_max_fd_ratio{glob=%q} %s", g.name, ratio)
		if g.pss >= 0 {
			add("procwatch_glob_proportional_memory_bytes", "procwatch_glob_proportional_memory_bytes{glob=%q} %d", g.name, g.pss)
		}
	}
	var b strings.Builder
	for _, line := range strings.Split(healthHeader, "\n") {
		if f := strings.Fields(line); len(f) > 2 && f[1] == "TYPE" {
			help := healthHeader[strings.Index(healthHeader, "# HELP "+f[2]+" "):]
			b.WriteString(help[:strings.IndexByte(help, '\n')+1])
			b.WriteString(line + "\n")
			for _, s := range fams[f[2]] {
				b.WriteString(s + "\n")
			}
		}
	}
	return b.String()
}

// sleep400 is the fixture's pid 400 (see internal/monitor's
// fixture_linux_test.go), the process these tests turn into a zombie.
var sleep400 = proctest.FakeProc{PID: 400, Comm: "sleep", Flags: 0x400000, UTime: 1, STime: 2, Threads: 1, Start: 5000,
	VSize: 8_000_000, RSSPages: 200, Exe: "/usr/bin/sleep", Cmdline: []string{"sleep", "600"},
	ReadBytes: 8192, FDs: 3, MinFlt: 150, MajFlt: 2, VoluntarySwitches: 10, InvoluntarySwitches: 3, PSSKB: 600}

// TestCollectorHealth follows the fixture's process health through a
// zombie and exits, with and without PSS: every glob has all five states,
// the zombie counts only in its state, the counters keep what exited
// processes did, and PSS is exported only by a source that reads it.
func TestCollectorHealth(t *testing.T) {
	for _, pss := range []bool{false, true} {
		t.Run(fmt.Sprintf("pss=%v", pss), func(t *testing.T) {
			root := copyProcTree(t)
			src, err := monitor.NewLinuxSource(root, monitor.WithPSS(pss))
			if err != nil {
				t.Fatal(err)
			}
			mon := monitor.New(src)
			reg := prometheus.NewRegistry()
			reg.MustRegister(New(mon, WithScrapeScanAge(0)))
			ctx := context.Background()
			kb := func(n int64) int64 {
				if !pss {
					return -1
				}
				return n << 10
			}
			expect := func(step string, globs ...health) {
				t.Helper()
				if err := testutil.GatherAndCompare(reg, strings.NewReader(healthExpo(globs...)), healthMetrics...); err != nil {
					t.Errorf("%s: %v", step, err)
				}
			}
			scan := func() {
				t.Helper()
				if _, err := mon.Scan(ctx); err != nil {
					t.Fatal(err)
				}
			}
			// nginx: pid 201 holds 8 of its 10 fds; backup.py waits on its
			// disk; "x (y) z)" runs.
			others := []health{
				{name: "nginx", procs: 2, sleeping: 2, fdRatio: "0.8", pss: kb(0)},
				{name: "backup.py", procs: 1, waiting: 1, fdRatio: "0.00390625", pss: kb(0)},
				{name: "x (y)*", procs: 1, running: 1, fdRatio: "0.0009765625", pss: kb(0)},
				{name: "nothing-here*", pss: kb(0)},
			}
			if _, err := mon.SetGlobs(ctx, []string{"sleep", "nginx", "backup.py", "x (y)*", "nothing-here*"}); err != nil {
				t.Fatal(err)
			}
			// pid 400 and pid 500 (3 of its 4 fds open, 16 kB swapped).
			expect("alive", append([]health{{name: "sleep", procs: 2, sleeping: 2,
				voluntary: 14, involuntary: 4, minor: 200, major: 3, swap: 16 << 10, fdRatio: "0.75", pss: kb(900)}}, others...)...)

			// pid 400 exits, having faulted and switched a little more,
			// and its parent does not reap it.
			z := sleep400
			z.MinFlt, z.VoluntarySwitches = 180, 12
			proctest.ReplaceProc(t, root, z.Zombie())
			scan()
			zombie := health{name: "sleep", procs: 1, sleeping: 1, zombie: 1,
				voluntary: 16, involuntary: 4, minor: 230, major: 3, swap: 16 << 10, fdRatio: "0.75", pss: kb(300)}
			expect("pid 400 a zombie", append([]health{zombie}, others...)...)
			scan()
			expect("the zombie seen again", append([]health{zombie}, others...)...)

			// It is reaped, and pid 500 exits: the gauges drop to 0, the
			// counters stay.
			proctest.RemoveProc(t, root, 400)
			proctest.RemoveProc(t, root, 500)
			scan()
			expect("every sleep gone", append([]health{{name: "sleep",
				voluntary: 16, involuntary: 4, minor: 230, major: 3, pss: kb(0)}}, others...)...)
		})
	}
}
