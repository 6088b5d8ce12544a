package main

import (
	"fmt"
	"os"
	"os/exec"
	"strings"
	"testing"

	"github.com/procwatch/procwatch/internal/testutil"
)

// TestGCPercent: the agent collects at GOGC=25 unless the environment
// says otherwise, as its own go_gc_gogc_percent reports. ZooKeeper is
// unreachable on purpose: /metrics is served before a session exists.
func TestGCPercent(t *testing.T) {
	bin := buildProcwatch(t)
	for _, tc := range []struct {
		env  []string
		want string
	}{
		{nil, "go_gc_gogc_percent 25\n"},
		{[]string{"GOGC=100"}, "go_gc_gogc_percent 100\n"},
	} {
		t.Run(fmt.Sprint(tc.env), func(t *testing.T) {
			addr := freeAddr(t)
			cmd := exec.Command(bin, "--zk", "127.0.0.1:1", "--web.listen-address", addr, "--collect.process-events=false")
			var env []string
			for _, kv := range os.Environ() {
				if !strings.HasPrefix(kv, "GOGC=") {
					env = append(env, kv)
				}
			}
			cmd.Env = append(env, tc.env...)
			var stderr testutil.Buffer
			cmd.Stderr = &stderr
			if err := cmd.Start(); err != nil {
				t.Fatal(err)
			}
			defer func() { _ = cmd.Process.Kill(); _ = cmd.Wait() }()
			if body := scrapeWhenUp(t, addr, &stderr); !strings.Contains(body, tc.want) {
				t.Errorf("with %v, /metrics lacks %q", tc.env, tc.want)
			}
		})
	}
}
