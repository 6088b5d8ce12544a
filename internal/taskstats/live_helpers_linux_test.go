package taskstats

import (
	"os"
	"os/exec"
	"testing"
	"time"

	"golang.org/x/sys/unix"
)

// liveWait bounds every wait for the kernel in the live tests.
const liveWait = 10 * time.Second

// burn spins until this process has used d of CPU, as getrusage counts it.
func burn(d time.Duration) {
	x := 0
	for {
		var ru unix.Rusage
		_ = unix.Getrusage(unix.RUSAGE_SELF, &ru)
		if time.Duration(ru.Utime.Nano()+ru.Stime.Nano()) >= d {
			break
		}
		for i := range 100000 {
			x += i
		}
	}
	_ = x
}

// runBurner runs the test binary as a child burning d of CPU and returns
// its pid and the CPU wait4 reported for it.
func runBurner(t *testing.T, d time.Duration) (pid uint32, used time.Duration) {
	t.Helper()
	cmd := exec.Command(os.Args[0], "-test.run=^$")
	cmd.Env = append(os.Environ(), burnEnv+"="+d.String())
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("burner: %v %s", err, out)
	}
	return uint32(cmd.Process.Pid), cmd.ProcessState.UserTime() + cmd.ProcessState.SystemTime()
}

func writeFile(path, s string) error { return os.WriteFile(path, []byte(s), 0o644) }
