package taskstats

import (
	"context"
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

// openLive opens a Reader on this host, or fails saying what it needs.
func openLive(t *testing.T) *Reader {
	t.Helper()
	r, err := Open(context.Background())
	if err != nil {
		t.Fatalf("exit records are needed here: run the tests as root on the host, on a kernel with CONFIG_TASKSTATS: %v", err)
	}
	return r
}

// spinShell runs a shell of one thread that spins for about 100 ms of CPU
// and returns its pid and the CPU wait4 reported for it.
func spinShell(t *testing.T) (pid uint32, used time.Duration) {
	t.Helper()
	sh := exec.Command("/bin/sh", "-c", "i=0; while [ $i -lt 100000 ]; do i=$((i+1)); done")
	if err := sh.Run(); err != nil {
		t.Fatal(err)
	}
	return uint32(sh.Process.Pid), sh.ProcessState.UserTime() + sh.ProcessState.SystemTime()
}
