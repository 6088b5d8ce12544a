package e2e

import (
	"os/exec"
	"strings"
	"testing"
	"time"
)

// TestProcessEventsOrSampling runs the shipped binary three ways on the
// real kernel and reads the one line it logs about process events: it
// follows them in the host's namespaces; in a network namespace of its
// own (as a pod without hostNetwork) it samples and names the namespace;
// with --collect.process-events=false it samples and names the flag.
// ZooKeeper is unreachable on purpose: the line comes at start, before
// the agent serves or reaches ZooKeeper.
func TestProcessEventsOrSampling(t *testing.T) {
	t.Parallel()
	b := binaries(t)
	unshare, err := exec.LookPath("unshare")
	if err != nil {
		t.Fatal("unshare is missing: run `make deps` (apt-get install util-linux)")
	}
	agentArgs := func(extra ...string) []string {
		return append([]string{b.procwatch, "--zk", "127.0.0.1:1", "--web.listen-address", ":0", "--scan-interval", "0"}, extra...)
	}
	for _, tc := range []struct {
		name string
		argv []string
		want []string // in the one line about process events
	}{
		{"host namespaces", agentArgs(), []string{"following the kernel's process events"}},
		{"own network namespace", append([]string{unshare, "--net"}, agentArgs()...),
			[]string{"process events unavailable", "sampled from /proc", "not in the host's namespaces", "network namespace"}},
		{"turned off", agentArgs("--collect.process-events=false"), []string{"process events off", "--collect.process-events=false"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			p := startProc(t, "procwatch", tc.argv)
			line := p.out.Expect(t, "process events", 15*time.Second)
			for _, w := range tc.want {
				if !strings.Contains(line, w) {
					t.Errorf("the line about process events lacks %q:\n%s", w, line)
				}
			}
			// The line comes before the web server starts: by the time it
			// listens, a second line would have been written.
			p.out.Expect(t, "Listening on", 15*time.Second)
			if n := strings.Count(p.out.String(), "process events"); n != 1 {
				t.Errorf("%d lines about process events, want 1:\n%s", n, p.out.String())
			}
		})
	}
}
