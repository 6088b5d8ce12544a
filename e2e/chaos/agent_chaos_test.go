// Package chaos holds the agent-level fault test: two agents and procctl on
// a three-node ensemble that loses its leader while one agent is partitioned
// past its session timeout.
package chaos

import (
	"fmt"
	"io"
	"net/http"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"go.uber.org/goleak"

	"github.com/procwatch/procwatch/internal/agent"
	"github.com/procwatch/procwatch/internal/agent/agenttest"
	"github.com/procwatch/procwatch/internal/testutil"
	"github.com/procwatch/procwatch/internal/zktest"
)

func TestMain(m *testing.M) {
	goleak.VerifyTestMain(m)
}

const root = "/chaos"

// runningAgent is an agent started in-process as cmd/procwatch wires it,
// configured with every member of the ensemble as a production agent is,
// each reached through a proxy that can cut it off.
type runningAgent struct {
	*agenttest.Agent
	name    string
	proxies []*zktest.Proxy
}

func (a *runningAgent) cut() {
	for _, p := range a.proxies {
		p.Cut()
	}
}

func (a *runningAgent) restore() {
	for _, p := range a.proxies {
		p.Restore()
	}
}

func startAgent(t *testing.T, name string, zks *zktest.Cluster, sessionTimeout time.Duration) *runningAgent {
	t.Helper()
	var proxies []*zktest.Proxy
	var servers []string
	for _, s := range zks.Servers() {
		p := zktest.NewProxy(t, s)
		proxies = append(proxies, p)
		servers = append(servers, p.Addr())
	}
	a := &runningAgent{name: name, proxies: proxies}
	a.Agent = agenttest.Start(t, agent.Config{
		Servers:        servers,
		Path:           root,
		SessionTimeout: sessionTimeout,
		ScanInterval:   time.Second,
		ProcfsRoot:     "/proc",
	})
	a.WaitStatus(t, "/readyz", http.StatusOK, 20*time.Second)
	return a
}

// client bounds each scrape: an answer slower than this counts as a
// failed scrape.
var client = &http.Client{Timeout: 2 * time.Second}

func get(url string) (int, string) {
	resp, err := client.Get(url)
	if err != nil {
		return 0, err.Error()
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(body)
}

// shows reports whether the agent's metrics have exactly globs in force.
func (a *runningAgent) shows(globs ...string) bool {
	code, body := get(a.URL + "/metrics")
	if code != http.StatusOK {
		return false
	}
	if !strings.Contains(body, fmt.Sprintf("\nprocwatch_globs %d\n", len(globs))) {
		return false
	}
	for _, g := range globs {
		if !strings.Contains(body, fmt.Sprintf("procwatch_glob_processes{glob=%q}", g)) {
			return false
		}
	}
	return true
}

func buildProcctl(t *testing.T) string {
	t.Helper()
	bin := filepath.Join(t.TempDir(), "procctl")
	out, err := exec.Command("go", "build", "-o", bin, "github.com/procwatch/procwatch/cmd/procctl").CombinedOutput()
	if err != nil {
		t.Fatalf("go build procctl: %v\n%s", err, out)
	}
	return bin
}

// procctl runs the built binary until it succeeds: during an election an
// operator retries too.
func procctl(t *testing.T, bin, servers string, args ...string) {
	t.Helper()
	argv := append([]string{"--zk", servers, "--path", root, "--timeout", "5s"}, args...)
	deadline := time.Now().Add(60 * time.Second)
	for {
		out, err := exec.Command(bin, argv...).CombinedOutput()
		if err == nil {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("procctl %v: %v\n%s", args, err, out)
		}
		t.Logf("procctl %v failed, retrying: %s", args, strings.TrimSpace(string(out)))
	}
}

func TestAgentsThroughLeaderLossAndPartition(t *testing.T) {
	zks := zktest.Start(t, 3, zktest.WithSessionTimeouts(time.Second, 20*time.Second))
	bin := buildProcctl(t)
	procctl(t, bin, zks.ConnectString(), "init", "chaos-g0")

	const sessionTimeout = 3 * time.Second
	a := startAgent(t, "a", zks, sessionTimeout)
	b := startAgent(t, "b", zks, sessionTimeout)
	raw := zktest.Connect(t, zks.ConnectString(), 10*time.Second)
	testutil.Eventually(t, 10*time.Second, "both agents registered", func() bool {
		c, _, err := raw.Children(root + "/listeners")
		return err == nil && len(c) == 2
	})

	// Scrape both agents throughout: /metrics must answer 200 all along.
	var scrapes, failures atomic.Int64
	var failMu sync.Mutex
	var failed []string
	stop := make(chan struct{})
	var scrapers sync.WaitGroup
	for _, ag := range []*runningAgent{a, b} {
		scrapers.Add(1)
		go func() {
			defer scrapers.Done()
			tick := time.NewTicker(50 * time.Millisecond)
			defer tick.Stop()
			for {
				select {
				case <-stop:
					return
				case <-tick.C:
				}
				scrapes.Add(1)
				if code, body := get(ag.URL + "/metrics"); code != http.StatusOK {
					failures.Add(1)
					failMu.Lock()
					failed = append(failed, fmt.Sprintf("%s: %d %.80s", ag.name, code, body))
					failMu.Unlock()
				}
			}
		}()
	}

	// Faults: the leader dies and agent b is cut off past its session.
	leader, err := zks.Leader()
	if err != nil {
		t.Fatal(err)
	}
	if err := zks.Kill(leader); err != nil {
		t.Fatal(err)
	}
	b.cut()
	cutAt := time.Now()
	procctl(t, bin, zks.ConnectString(), "globs", "add", "chaos-g1")
	// Keep b away until its session is surely gone on the server.
	members := func() []string {
		c, _, _ := raw.Children(root + "/listeners")
		return c
	}
	testutil.Eventually(t, 30*time.Second, "b's session to expire", func() bool {
		return time.Since(cutAt) > sessionTimeout && len(members()) == 1
	})
	procctl(t, bin, zks.ConnectString(), "globs", "add", "chaos-g2")
	if err := zks.Restart(leader); err != nil {
		t.Fatal(err)
	}
	b.restore()
	healed := time.Now()

	want := []string{"chaos-g0", "chaos-g1", "chaos-g2"}
	for _, ag := range []*runningAgent{a, b} {
		testutil.Eventually(t, 10*time.Second, ag.name+" to show the latest list", func() bool { return ag.shows(want...) })
		t.Logf("agent %s shows the latest list %v after healing", ag.name, time.Since(healed).Round(time.Millisecond))
	}
	converged := time.Since(healed)
	testutil.Eventually(t, 10*time.Second, "both listener nodes back", func() bool { return len(members()) == 2 })
	registered := time.Since(healed)
	close(stop)
	scrapers.Wait()

	t.Logf("converged %v and re-registered %v after healing; %d scrapes, %d failed", converged.Round(time.Millisecond), registered.Round(time.Millisecond), scrapes.Load(), failures.Load())
	if converged > 2*time.Second {
		t.Errorf("agents converged %v after healing, want within 2s", converged)
	}
	if failures.Load() != 0 {
		t.Errorf("/metrics failed %d of %d times: %v", failures.Load(), scrapes.Load(), failed)
	}
	if got := members(); len(got) != 2 {
		t.Errorf("listener nodes %v, want one per live agent", got)
	}
}
