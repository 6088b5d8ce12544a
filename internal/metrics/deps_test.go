package metrics

import (
	"os/exec"
	"strings"
	"testing"
)

// TestImportsOnlyTheMonitor keeps the arrow of the design: metrics reads the
// monitor only, and nothing of ZooKeeper reaches it.
func TestImportsOnlyTheMonitor(t *testing.T) {
	out, err := exec.Command("go", "list", "-deps", ".").Output()
	if err != nil {
		t.Fatalf("go list -deps: %v", err)
	}
	for _, dep := range strings.Fields(string(out)) {
		if strings.Contains(dep, "zkstate") || strings.Contains(dep, "zookeeper") ||
			strings.HasPrefix(dep, "github.com/procwatch/procwatch/internal/agent") {
			t.Errorf("metrics depends on %s", dep)
		}
	}
}
