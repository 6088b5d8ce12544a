//go:build linux

package monitor

import (
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"testing"

	"github.com/procwatch/procwatch/internal/monitor/proctest"
)

// TestLinuxSourceLiveFDLimit starts a sleep whose fd soft limit a shell
// lowered to 64 and that holds extra files open: its ratio is its fds, as
// the kernel lists them in /proc/PID/fd, over 64.
func TestLinuxSourceLiveFDLimit(t *testing.T) {
	if testing.Short() {
		t.Skip("starts processes")
	}
	sh, err := exec.LookPath("sh")
	if err != nil {
		t.Fatalf("no sh (%v): install it with apt-get install dash", err)
	}
	_, name := sleeperNames("pwf")
	path := proctest.Sleeper(t, name)
	// Ten more descriptors than stdin, stdout and stderr, inherited by
	// the exec'd sleep.
	cmd := exec.Command(sh, "-c", `ulimit -n 64 && exec 3</dev/null 4</dev/null 5</dev/null 6</dev/null 7</dev/null `+
		`8</dev/null 9</dev/null && exec "$0" 300`, path)
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = cmd.Process.Kill(); _ = cmd.Wait() })
	proctest.Settle(t, &exec.Cmd{Path: path, Process: cmd.Process})

	entries, err := os.ReadDir(filepath.Join("/proc", strconv.Itoa(cmd.Process.Pid), "fd"))
	if err != nil {
		t.Fatal(err)
	}
	fds := len(entries)
	if fds < 10 {
		t.Fatalf("the sleep holds %d fds, want at least 10", fds)
	}
	src, err := NewLinuxSource("")
	if err != nil {
		t.Fatal(err)
	}
	mon := New(src)
	res, err := mon.SetGlobs(context.Background(), []string{name})
	if err != nil {
		t.Fatal(err)
	}
	g := res.Globs[0]
	if want := float64(fds) / 64; g.Processes != 1 || g.FDs != uint64(fds) || g.MaxFDRatio != want {
		t.Errorf("processes %d, fds %d, max fd ratio %v; want 1, %d, %d/64 = %v", g.Processes, g.FDs, g.MaxFDRatio, fds, fds, want)
	}
}
