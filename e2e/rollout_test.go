package e2e

import (
	"encoding/json"
	"fmt"
	"os"
	"slices"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/procwatch/procwatch/internal/zktest"
)

// globsOf returns the globs an agent exports procwatch_glob_processes for.
func globsOf(a *agent) ([]string, error) {
	mfs, err := a.scrape()
	if err != nil {
		return nil, err
	}
	var globs []string
	if mf := mfs["procwatch_glob_processes"]; mf != nil {
		for _, m := range mf.GetMetric() {
			for _, l := range m.GetLabel() {
				if l.GetName() == "glob" {
					globs = append(globs, l.GetValue())
				}
			}
		}
	}
	slices.Sort(globs)
	return globs, nil
}

// waitGlobs waits until the agent exports exactly want (sorted) and says
// how long it took.
func waitGlobs(t *testing.T, a *agent, within time.Duration, want ...string) time.Duration {
	t.Helper()
	slices.Sort(want)
	start := time.Now()
	eventually(t, within, fmt.Sprintf("%s to export %q", a.proc.name, want), func() (bool, string) {
		got, err := globsOf(a)
		if err != nil {
			return false, err.Error()
		}
		return slices.Equal(got, want), fmt.Sprint(got)
	}, a.proc)
	return time.Since(start)
}

// TestRolesAndRollouts is fleet targeting and rollout feedback with the
// built binaries: two agents of different hostnames and labels on one
// ZooKeeper each export their list in force, group changes by procctl and
// by kazoo move the agent they concern within a second and leave the other
// alone, and --wait, status and members follow the rollout, including an
// agent that is stopped (SIGSTOP) and catches up after SIGCONT.
func TestRolesAndRollouts(t *testing.T) {
	t.Parallel()
	b := binaries(t)
	zk := zktest.Start(t, 1)
	servers := zk.ConnectString()
	const root = "/fleet"
	tag := fmt.Sprint(os.Getpid())
	fleet, web, db, db2 := "e2e-fleet-"+tag, "e2e-nginx-"+tag, "e2e-postgres-"+tag, "e2e-pgbouncer-"+tag

	runProcctl(t, b, servers, "--path", root, "init", fleet)
	// A long session: the stopped agent must stay a member while stopped.
	common := []string{"--session-timeout", "30s", "--member-update-interval", "1s"}
	aw := startAgent(t, b, "web agent", servers, root, append(common, "--hostname", "web-1", "--label", "role=web")...)
	ad := startAgent(t, b, "db agent", servers, root, append(common, "--hostname", "db-1", "--label", "role=db")...)

	runProcctl(t, b, servers, "--path", root, "groups", "set", "web", "--host", "web-*", web)
	if d := waitGlobs(t, aw, time.Second, fleet, web); d > time.Second {
		t.Errorf("the web group took %s to reach its agent", d)
	}
	runProcctl(t, b, servers, "--path", root, "groups", "set", "db", "--label", "role=db", db)
	waitGlobs(t, ad, time.Second, fleet, db)
	waitGlobs(t, aw, time.Second, fleet, web)

	// A foreign client changes the db group: only the db agent moves.
	doc := fmt.Sprintf(`{"globs": [%q], "groups": {"web": {"hosts": ["web-*"], "globs": [%q]}, "db": {"labels": {"role": "db"}, "globs": [%q, %q]}}}`,
		fleet, web, db, db2)
	kazooSet(t, servers, root+"/payload", []byte(doc))
	start := time.Now()
	waitGlobs(t, ad, time.Second, fleet, db, db2)
	t.Logf("kazoo's change reached the db agent in %s", time.Since(start).Round(time.Millisecond))
	if got, _ := globsOf(aw); !slices.Equal(got, sorted(fleet, web)) {
		t.Errorf("the web agent moved for the db group's change: %q", got)
	}

	// --wait returns once both agents applied the new version.
	r := procctl(t, b, servers, "--path", root, "globs", "add", "--wait", "e2e-extra-"+tag)
	if r.code != 0 || !strings.Contains(r.stderr, "2 agents applied version") {
		t.Fatalf("globs add --wait: exit %d\n%s", r.code, r.stderr)
	}
	t.Logf("procctl --wait: %s", strings.TrimSpace(lastLine(r.stderr)))

	// A stopped agent: --wait gives up at its timeout naming it, status
	// and members show it behind.
	if err := ad.proc.cmd.Process.Signal(syscall.SIGSTOP); err != nil {
		t.Fatal(err)
	}
	stopped := true
	defer func() {
		if stopped {
			_ = ad.proc.cmd.Process.Signal(syscall.SIGCONT)
		}
	}()
	r = procctl(t, b, servers, "--path", root, "globs", "add", "--wait", "--wait-timeout", "2s", "e2e-more-"+tag)
	if r.code != 1 || !strings.Contains(r.stderr, "still behind") || !strings.Contains(r.stderr, "db-1") || strings.Contains(lastLine(r.stderr), "web-1") {
		t.Errorf("--wait with the db agent stopped: want exit 1 naming db-1 only, got exit %d\n%s", r.code, r.stderr)
	}
	status := runProcctl(t, b, servers, "--path", root, "status")
	if !strings.Contains(status, "2 agents, 1 at it, 1 behind") || !strings.Contains(status, "behind: db-1") {
		t.Errorf("status with the db agent stopped:\n%s", status)
	}
	var members []struct {
		Hostname string `json:"hostname"`
		Applied  int32  `json:"applied_version"`
		Behind   bool   `json:"behind"`
		Groups   []string
	}
	if err := json.Unmarshal([]byte(runProcctl(t, b, servers, "--path", root, "members", "-o", "json")), &members); err != nil {
		t.Fatal(err)
	}
	behind := map[string]bool{}
	for _, m := range members {
		behind[m.Hostname] = m.Behind
	}
	if !behind["db-1"] || behind["web-1"] || len(members) != 2 {
		t.Errorf("members with the db agent stopped: %+v", members)
	}

	// SIGCONT: it catches up, and the next --wait passes.
	if err := ad.proc.cmd.Process.Signal(syscall.SIGCONT); err != nil {
		t.Fatal(err)
	}
	stopped = false
	r = procctl(t, b, servers, "--path", root, "globs", "add", "--wait", "e2e-last-"+tag)
	if r.code != 0 || !strings.Contains(r.stderr, "2 agents applied version") {
		t.Errorf("--wait after SIGCONT: exit %d\n%s", r.code, r.stderr)
	}
	if status := runProcctl(t, b, servers, "--path", root, "status"); !strings.Contains(status, "2 agents, 2 at it, 0 behind") {
		t.Errorf("status after the catch-up:\n%s", status)
	}
}

func sorted(s ...string) []string {
	slices.Sort(s)
	return s
}

func lastLine(s string) string {
	lines := strings.Split(strings.TrimSpace(s), "\n")
	return lines[len(lines)-1]
}
