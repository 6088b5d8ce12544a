package e2e

import (
	"encoding/json"
	"fmt"
	"maps"
	"os"
	"slices"
	"testing"
	"time"

	"github.com/procwatch/procwatch/internal/zktest"
)

// TestPrometheusFollowsTheSharedList is the whole system at work: a real
// ZooKeeper, two agents, procctl and a second ZooKeeper client changing the
// shared list, and Debian's Prometheus scraping both agents, with the alert
// rules of deploy/prometheus loaded. Each change is checked where an operator
// sees it: in Prometheus's HTTP API.
func TestPrometheusFollowsTheSharedList(t *testing.T) {
	t.Parallel()
	b := binaries(t)
	zk := zktest.Start(t, 1)
	servers := zk.ConnectString()
	const root = "/procwatch"

	// Process names are matched host-wide: the pid keeps them apart from
	// those of any other test binary running on this machine. Both are
	// longer than the kernel's 15-byte comm, so a match also proves the
	// agents read the full executable name.
	target := fmt.Sprintf("procwatch-e2e-target-%d", os.Getpid())
	missing := fmt.Sprintf("procwatch-e2e-missing-%d", os.Getpid())

	runProcctl(t, b, servers, "--path", root, "init")
	sleeper(t, target)
	agents := []*agent{
		startAgent(t, b, "agent 1", servers, root),
		startAgent(t, b, "agent 2", servers, root),
	}
	addrs := []string{agents[0].addr, agents[1].addr}
	watch := []*proc{agents[0].proc, agents[1].proc}

	prom := startPrometheus(t, addrs, []string{repoFile(t, "deploy/prometheus/procwatch-alerts.yml")})
	watch = append(watch, prom.proc)

	// waitQuery waits until expr gives one sample per agent, each with
	// value want, or no sample at all when want is "".
	waitQuery := func(timeout time.Duration, expr, want string) {
		t.Helper()
		wantBy := sameForAll(addrs, want)
		if want == "" {
			wantBy = map[string]string{}
		}
		start := time.Now()
		eventually(t, timeout, expr+" = "+fmt.Sprint(wantBy), func() (bool, string) {
			s, err := prom.query(expr)
			if err != nil {
				return false, err.Error()
			}
			got := byInstance(s)
			return maps.Equal(got, wantBy), fmt.Sprint(got)
		}, watch...)
		t.Logf("Prometheus: %s = %v after %s", expr, wantBy, time.Since(start).Round(time.Millisecond))
	}
	// waitAlert waits until alertname is in state for every agent, with the
	// labels given.
	waitAlert := func(alertname, state string, labels map[string]string) {
		t.Helper()
		start := time.Now()
		eventually(t, 30*time.Second, fmt.Sprintf("%s %s %v on both agents", alertname, state, labels), func() (bool, string) {
			as, err := prom.alerts()
			if err != nil {
				return false, err.Error()
			}
			seen := map[string]bool{}
			var all []string
			for _, a := range as {
				all = append(all, fmt.Sprintf("%s/%s%v", a.Labels["alertname"], a.State, a.Labels))
				if a.Labels["alertname"] != alertname || a.State != state {
					continue
				}
				match := true
				for k, v := range labels {
					match = match && a.Labels[k] == v
				}
				if match {
					seen[a.Labels["instance"]] = true
				}
			}
			return seen[addrs[0]] && seen[addrs[1]], fmt.Sprint(all)
		}, watch...)
		t.Logf("Prometheus: alert %s %s %v after %s", alertname, state, labels, time.Since(start).Round(time.Millisecond))
	}

	waitQuery(30*time.Second, `up{job="procwatch"}`, "1")

	// procctl adds a glob: both agents count the process, and Prometheus
	// has it from both.
	runProcctl(t, b, servers, "--path", root, "globs", "add", target)
	waitQuery(20*time.Second, fmt.Sprintf(`procwatch_glob_processes{glob=%q}`, target), "1")

	// Both agents are live members of the registry procctl reads.
	var members []struct {
		PID     int    `json:"pid"`
		Program string `json:"program"`
	}
	if err := json.Unmarshal([]byte(runProcctl(t, b, servers, "--path", root, "members", "-o", "json")), &members); err != nil {
		t.Fatal(err)
	}
	var pids []int
	for _, m := range members {
		pids = append(pids, m.PID)
	}
	slices.Sort(pids)
	wantPIDs := []int{agents[0].proc.pid(), agents[1].proc.pid()}
	slices.Sort(wantPIDs)
	if !slices.Equal(pids, wantPIDs) {
		t.Errorf("procctl members lists pids %v; want the agents' %v", pids, wantPIDs)
	}

	// procctl removes it: the agents stop exporting its series, Prometheus
	// marks them stale at the next scrape, and the query comes back empty.
	runProcctl(t, b, servers, "--path", root, "globs", "rm", target)
	waitQuery(20*time.Second, fmt.Sprintf(`procwatch_glob_processes{glob=%q}`, target), "")

	// kazoo, a client that shares no code with procwatch, writes the
	// payload directly: both agents follow it to the version kazoo made.
	version := kazooSet(t, servers, root+"/payload", fmt.Appendf(nil, `{"globs": [%q, %q]}`, target, missing))
	waitQuery(20*time.Second, "procwatch_state_version", fmt.Sprint(version))
	waitQuery(20*time.Second, fmt.Sprintf(`procwatch_glob_processes{glob=%q}`, target), "1")
	waitQuery(20*time.Second, fmt.Sprintf(`procwatch_glob_processes{glob=%q}`, missing), "0")
	// The glob that matches nothing is what ProcwatchProcessMissing is for;
	// it waits a minute before firing, so here it is pending.
	waitAlert("ProcwatchProcessMissing", "pending", map[string]string{"glob": missing})

	// A payload that is not a watch list: both agents reject it, count it,
	// keep the last good list, and the alert fires.
	kazooSet(t, servers, root+"/payload", []byte(`{"globs": "not a list"`))
	waitQuery(20*time.Second, "procwatch_state_invalid_payloads_total > 0", "1")
	waitAlert("ProcwatchInvalidPayload", "firing", nil)
	waitQuery(5*time.Second, fmt.Sprintf(`procwatch_glob_processes{glob=%q}`, target), "1")
	waitQuery(5*time.Second, "procwatch_state_version", fmt.Sprint(version))
}
