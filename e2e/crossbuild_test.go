package e2e

import (
	"os"
	"os/exec"
	"testing"
)

// TestProgramsBuildForMacOS: the agent and procctl build where there is no
// procfs and no netlink (the monitor reads processes through gopsutil
// there), so a Linux-only call in a shared file breaks this test rather
// than an operator's build.
func TestProgramsBuildForMacOS(t *testing.T) {
	cmd := exec.Command(goTool(), "build", "-o", os.DevNull, "./cmd/procwatch", "./cmd/procctl")
	cmd.Dir = repoRoot(t)
	cmd.Env = append(os.Environ(), "GOOS=darwin", "GOARCH=arm64", "CGO_ENABLED=0")
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("GOOS=darwin go build ./cmd/procwatch ./cmd/procctl: %v\n%s", err, out)
	}
}
