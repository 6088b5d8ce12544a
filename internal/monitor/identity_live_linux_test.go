//go:build linux

package monitor

import (
	"bufio"
	"fmt"
	"os"
	"os/exec"
	"os/user"
	"path"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/procwatch/procwatch/internal/monitor/proctest"
)

// startAs starts sleep as the real user uid (and group gid) through
// setpriv, waits until it runs sleep, and stops it when the test ends.
func startAs(t *testing.T, uid, gid string) int {
	t.Helper()
	setpriv, err := exec.LookPath("setpriv")
	if err != nil {
		t.Fatalf("no setpriv to start a process as another user (%v): install it with apt-get install util-linux", err)
	}
	sleep, err := exec.LookPath("sleep")
	if err != nil {
		t.Fatalf("no sleep binary (%v): install it with apt-get install coreutils", err)
	}
	cmd := exec.Command(setpriv, "--reuid="+uid, "--regid="+gid, "--clear-groups", sleep, "300")
	var stderr strings.Builder
	cmd.Stderr = &stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = cmd.Process.Kill(); _ = cmd.Wait() })
	proctest.Settle(t, &exec.Cmd{Path: sleep, Process: cmd.Process})
	if exe, _ := os.Readlink(fmt.Sprintf("/proc/%d/exe", cmd.Process.Pid)); exe != sleep {
		t.Fatalf("setpriv --reuid=%s did not run %s (exe %q; the tests must run as root): %s", uid, sleep, exe, stderr.String())
	}
	return cmd.Process.Pid
}

// matchedGlobs scans the live host with globs and returns, per pid given,
// the globs it matched.
func matchedGlobs(t *testing.T, globs []string, pids ...int) map[int][]string {
	t.Helper()
	src, err := NewLinuxSource("")
	if err != nil {
		t.Fatal(err)
	}
	m := mustCompile(t, globs)
	snap := scanOrFail(t, src, m)
	out := map[int][]string{}
	for _, pid := range pids {
		out[pid] = nil
	}
	for _, p := range snap.Procs {
		if _, ok := out[p.PID]; ok {
			for _, i := range p.Globs {
				out[p.PID] = append(out[p.PID], m.Globs()[i])
			}
		}
	}
	return out
}

// TestLiveUserSelector: a process run as nobody is matched by user:nobody
// and not by user:root; one run as a uid without a name by that number.
func TestLiveUserSelector(t *testing.T) {
	if testing.Short() {
		t.Skip("starts processes")
	}
	nobody, err := user.Lookup("nobody")
	if err != nil {
		t.Fatalf("this host has no user nobody (%v): the test needs the standard passwd entry", err)
	}
	// The first uid from 4242 up that this host has no name for.
	nameless := 4242
	for ; ; nameless++ {
		if _, err := user.LookupId(strconv.Itoa(nameless)); err != nil {
			break
		}
	}
	asNobody := startAs(t, nobody.Uid, nobody.Gid)
	asNameless := startAs(t, strconv.Itoa(nameless), strconv.Itoa(nameless))
	number := "user:" + strconv.Itoa(nameless)
	got := matchedGlobs(t, []string{"user:nobody", "user:root", number, "user:*"}, asNobody, asNameless, os.Getpid())
	for pid, want := range map[int]string{asNobody: "user:nobody user:*", asNameless: number + " user:*", os.Getpid(): "user:root user:*"} {
		if g := strings.Join(got[pid], " "); g != want {
			t.Errorf("pid %d matches %q, want %q", pid, g, want)
		}
	}
}

// ownCgroup returns the cgroup v2 path of this process and where the
// cgroup v2 hierarchy is mounted.
func ownCgroup(t *testing.T) (cgroupPath, mount string) {
	t.Helper()
	b, err := os.ReadFile("/proc/self/cgroup")
	if err != nil {
		t.Fatal(err)
	}
	cgroupPath, _ = parseCgroups(b)
	if cgroupPath == "" {
		t.Fatalf("/proc/self/cgroup has no cgroup v2 line (0::): the test needs a kernel with cgroup v2 mounted:\n%s", b)
	}
	f, err := os.Open("/proc/self/mountinfo")
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		// id parent maj:min root mountpoint options ... - fstype source
		fields := strings.Fields(sc.Text())
		for i, f := range fields {
			if f == "-" && i+1 < len(fields) && fields[i+1] == "cgroup2" && len(fields) > 4 {
				return cgroupPath, fields[4]
			}
		}
	}
	t.Fatal("no cgroup2 mount in /proc/self/mountinfo: mount it with mount -t cgroup2 none /sys/fs/cgroup")
	return "", ""
}

// TestLiveCgroupSelector: this process's own cgroup path matches a cgroup:
// glob made of it, and one of its parent with "/**"; its unit, if it runs
// in one, matches unit:. A process moved into a new child cgroup matches
// that path and not the parent's exact one.
func TestLiveCgroupSelector(t *testing.T) {
	if testing.Short() {
		t.Skip("starts processes")
	}
	own, mount := ownCgroup(t)
	parent := path.Dir(own)
	below := strings.TrimSuffix(parent, "/") + "/**"
	globs := []string{"cgroup:" + own, "cgroup:" + below}
	want := "cgroup:" + own + " cgroup:" + below
	if unit := unitOf(own); unit != "" {
		globs = append(globs, "unit:"+unit)
		want += " unit:" + unit
	}
	got := matchedGlobs(t, append(globs, "cgroup:/no/such/cgroup"), os.Getpid())
	if g := strings.Join(got[os.Getpid()], " "); g != want {
		t.Errorf("this process (cgroup %s) matches %q, want %q", own, g, want)
	}

	// A child cgroup of our own, with a sleep in it.
	child := path.Join(own, fmt.Sprintf("procwatch-test-%d", os.Getpid()))
	dir := filepath.Join(mount, child)
	if err := os.Mkdir(dir, 0o755); err != nil {
		t.Fatalf("creating cgroup %s (the test must run as root, on cgroup v2): %v", dir, err)
	}
	t.Cleanup(func() {
		if err := os.Remove(dir); err != nil {
			t.Errorf("removing cgroup %s: %v", dir, err)
		}
	})
	// Registered after the removal, so it runs before it: an empty cgroup
	// can be removed.
	cmds, _ := proctest.Start(t, proctest.Sleeper(t, "cgroup-sleeper"), 1)
	pid := cmds[0].Process.Pid
	if err := os.WriteFile(filepath.Join(dir, "cgroup.procs"), []byte(strconv.Itoa(pid)), 0o644); err != nil {
		t.Fatalf("moving %d into %s: %v", pid, dir, err)
	}
	if b, _ := os.ReadFile(fmt.Sprintf("/proc/%d/cgroup", pid)); !strings.Contains(string(b), "0::"+child+"\n") {
		t.Fatalf("the kernel did not move %d into %s: %s", pid, child, b)
	}
	got = matchedGlobs(t, []string{"cgroup:" + child, "cgroup:" + strings.TrimSuffix(own, "/") + "/procwatch-test-*", "cgroup:" + own}, pid)
	if g, w := strings.Join(got[pid], " "), "cgroup:"+child+" cgroup:"+strings.TrimSuffix(own, "/")+"/procwatch-test-*"; g != w {
		t.Errorf("the process in %s matches %q, want %q", child, g, w)
	}
}
