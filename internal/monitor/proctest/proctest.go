// Package proctest gives tests processes to look at: real ones, copies of
// sleep under names of the test's choosing, so that a glob matches them and
// nothing else on the host, settled before they are looked at; and fake
// ones, procfs trees written as the kernel shows them (procfs.go).
package proctest

import (
	"bufio"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/procwatch/procwatch/internal/testutil"
)

// Sleeper copies the host's sleep binary to a temporary directory under
// name and returns its path. The test fails, saying how to get one, when
// the host has no sleep.
func Sleeper(t testing.TB, name string) string {
	t.Helper()
	return SleeperIn(t, t.TempDir(), name)
}

// SleeperIn is Sleeper in dir; a copy already there is reused.
func SleeperIn(t testing.TB, dir, name string) string {
	t.Helper()
	path := filepath.Join(dir, name)
	if _, err := os.Stat(path); err == nil {
		return path
	}
	sleep, err := exec.LookPath("sleep")
	if err != nil {
		t.Fatalf("no sleep binary to copy (%v): install it with apt-get install coreutils", err)
	}
	copyExecutable(t, sleep, path)
	return path
}

// Start starts n processes of the executable at path, each sleeping for
// five minutes, waits until each has settled (see Settle) and stops and
// reaps them when the test ends. The returned func does that sooner; a
// zombie still shows in /proc, so they are reaped, not only killed.
func Start(t testing.TB, path string, n int) (cmds []*exec.Cmd, kill func()) {
	t.Helper()
	for range n {
		cmd := exec.Command(path, "300")
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		cmds = append(cmds, cmd)
	}
	killed := false
	kill = func() {
		if killed {
			return
		}
		killed = true
		for _, c := range cmds {
			_ = c.Process.Kill()
		}
		for _, c := range cmds {
			_ = c.Wait()
		}
	}
	t.Cleanup(kill)
	Settle(t, cmds...)
	return cmds, kill
}

// Settle waits (up to 5 s) until each process runs its own executable and
// sleeps: before exec it is a copy of the test binary, and until sleep
// reaches its nanosleep (or, for "sleep infinity", its pause) the dynamic
// loader is still mapping libraries, so its name, fds, rss and vsize are
// still moving.
func Settle(t testing.TB, cmds ...*exec.Cmd) {
	t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for _, cmd := range cmds {
		pidDir := filepath.Join("/proc", strconv.Itoa(cmd.Process.Pid))
		want := cmd.Path
		for {
			exe, _ := os.Readlink(filepath.Join(pidDir, "exe"))
			wchan, _ := os.ReadFile(filepath.Join(pidDir, "wchan"))
			sleeping := strings.Contains(string(wchan), "sleep") || strings.Contains(string(wchan), "pause")
			if exe == want && sleeping || time.Now().After(deadline) {
				break
			}
			time.Sleep(5 * time.Millisecond) // /proc offers no event for this
		}
	}
}

func copyExecutable(t testing.TB, src, dst string) {
	t.Helper()
	in, err := os.Open(src)
	if err != nil {
		t.Fatal(err)
	}
	defer in.Close()
	out, err := os.OpenFile(dst, os.O_CREATE|os.O_WRONLY|os.O_EXCL, 0o755)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := io.Copy(out, in); err != nil {
		t.Fatal(err)
	}
	if err := out.Close(); err != nil {
		t.Fatal(err)
	}
}

// StartOrphanable starts the executable at path (sleeping five minutes) as
// the child of a parent that never reaps its children, and returns the
// child's pid. Killing the child then leaves a zombie in /proc until the
// parent ends, which it does when the test ends (its child is then reaped
// by init), or when endParent is called. The parent is a shell that execs
// into sleep, so nothing waits for the child.
func StartOrphanable(t testing.TB, path string) (pid int, endParent func()) {
	t.Helper()
	sleep, err := exec.LookPath("sleep")
	if err != nil {
		t.Fatalf("no sleep binary (%v): install it with apt-get install coreutils", err)
	}
	sh, err := exec.LookPath("sh")
	if err != nil {
		t.Fatalf("no sh (%v): install it with apt-get install dash", err)
	}
	parent := exec.Command(sh, "-c", `"$1" 300 & echo $!; exec "$2" 300`, "sh", path, sleep)
	out, err := parent.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := parent.Start(); err != nil {
		t.Fatal(err)
	}
	ended := false
	endParent = func() {
		if !ended {
			ended = true
			_ = parent.Process.Kill()
			_ = parent.Wait()
		}
	}
	t.Cleanup(endParent)
	line, err := bufio.NewReader(out).ReadString('\n')
	if err != nil {
		t.Fatalf("reading the child's pid from its parent: %v", err)
	}
	pid, err = strconv.Atoi(strings.TrimSpace(line))
	if err != nil {
		t.Fatalf("child pid %q: %v", line, err)
	}
	child := &exec.Cmd{Path: path, Process: &os.Process{Pid: pid}}
	Settle(t, child)
	return pid, endParent
}

// Zombify kills the process pid, a child of a parent that does not reap it
// (see StartOrphanable), and waits (up to 5 s) until it is a zombie.
func Zombify(t testing.TB, pid int) {
	t.Helper()
	if err := syscall.Kill(pid, syscall.SIGKILL); err != nil {
		t.Fatalf("killing %d: %v", pid, err)
	}
	stat := filepath.Join("/proc", strconv.Itoa(pid), "stat")
	testutil.EventuallySaying(t, 5*time.Second, "process "+strconv.Itoa(pid)+" to turn zombie", func() (bool, string) {
		b, err := os.ReadFile(stat)
		if err != nil {
			t.Fatalf("process %d vanished instead of turning zombie: %v", pid, err)
		}
		i := strings.LastIndexByte(string(b), ')')
		return i >= 0 && strings.HasPrefix(string(b[i+1:]), " Z"), string(b)
	})
}
