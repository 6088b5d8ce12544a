//go:build linux

package monitor

import (
	"flag"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
)

var update = flag.Bool("update", false, "rewrite testdata/proc from fixtureProcs")

// fixtureBootTime is the btime of testdata/proc/stat.
const fixtureBootTime = 1700000000

// fakeProc describes one process of a fake procfs tree.
type fakeProc struct {
	pid        int
	comm       string
	state      byte // 0 means 'S', sleeping
	flags      uint64
	utime      uint64 // clock ticks
	stime      uint64
	threads    int
	start      uint64 // clock ticks since boot
	vsize      uint64
	rssPages   uint64
	exe        string // target of the exe symlink; "" for none (kernel thread)
	cmdline    []string
	readBytes  uint64
	writeBytes uint64
	fds        int // entries in fd/; 0 leaves fd/ out (git keeps no empty dir)
}

// fixtureProcs is the content of testdata/proc. Run
// `go test -run TestFixtureTree -update` after changing it.
var fixtureProcs = []fakeProc{
	// init, a plain process.
	{pid: 1, comm: "systemd", flags: 0x400100, utime: 150, stime: 250, threads: 1, start: 5,
		vsize: 22_000_000, rssPages: 3000, exe: "/usr/lib/systemd/systemd",
		cmdline: []string{"/sbin/init", "splash"}, readBytes: 1_000_000, writeBytes: 2_000_000, fds: 3},
	// A kernel thread: PF_KTHREAD, no exe, empty cmdline.
	{pid: 2, comm: "kthreadd", flags: 0x208040, threads: 1, start: 5},
	// comm cut to 15 bytes by the kernel; the full name is in exe.
	{pid: 100, comm: "kube-controller", flags: 0x400100, utime: 5000, stime: 1200, threads: 12, start: 1000,
		vsize: 800_000_000, rssPages: 50_000, exe: "/usr/local/bin/kube-controller-manager",
		cmdline:   []string{"/usr/local/bin/kube-controller-manager", "--leader-elect=true", "--v=2"},
		readBytes: 4096, writeBytes: 81920, fds: 5},
	// nginx whose binary was replaced by an upgrade, with setproctitle
	// command lines (one argument containing spaces).
	{pid: 200, comm: "nginx", flags: 0x400140, utime: 20, stime: 10, threads: 1, start: 2000,
		vsize: 50_000_000, rssPages: 1000, exe: "/usr/sbin/nginx (deleted)",
		cmdline: []string{"nginx: master process /usr/sbin/nginx -g daemon off;"}, fds: 6},
	{pid: 201, comm: "nginx", flags: 0x400140, utime: 300, stime: 100, threads: 1, start: 2005,
		vsize: 51_000_000, rssPages: 2000, exe: "/usr/sbin/nginx (deleted)",
		cmdline: []string{"nginx: worker process"}, readBytes: 10, writeBytes: 20, fds: 8},
	// A comm with spaces and parentheses, including a ')'.
	{pid: 300, comm: "x (y) z)", flags: 0x400000, utime: 7, stime: 3, threads: 2, start: 3000,
		vsize: 1_000_000, rssPages: 100, exe: "/usr/bin/weird", cmdline: []string{"weird", "--flag"}, fds: 1},
	// The process tests make exit between two scans.
	{pid: 400, comm: "sleep", flags: 0x400000, utime: 1, stime: 2, threads: 1, start: 5000,
		vsize: 8_000_000, rssPages: 200, exe: "/usr/bin/sleep", cmdline: []string{"sleep", "600"},
		readBytes: 8192, fds: 3},
	// A busybox applet: named by its comm, not by the multi-call binary.
	{pid: 500, comm: "sleep", flags: 0x400000, threads: 1, start: 6000,
		vsize: 1_500_000, rssPages: 100, exe: "/bin/busybox", cmdline: []string{"sleep", "300"}, fds: 3},
	// A script: comm is the script, exe the interpreter behind a symlink.
	{pid: 600, comm: "backup.py", flags: 0x400000, utime: 90, stime: 30, threads: 3, start: 7000,
		vsize: 30_000_000, rssPages: 4000, exe: "/usr/bin/python3.11",
		cmdline: []string{"/usr/bin/python3", "/usr/local/bin/backup.py", "--full"}, writeBytes: 1 << 20, fds: 4},
}

// statLine renders /proc/PID/stat as the kernel does (52 fields).
func (p fakeProc) statLine() string {
	state := p.state
	if state == 0 {
		state = 'S'
	}
	return fmt.Sprintf("%d (%s) %c 1 %d %d 0 -1 %d 100 0 0 0 %d %d 0 0 20 0 %d 0 %d %d %d "+
		"18446744073709551615 1 1 0 0 0 0 0 0 0 0 0 0 17 0 0 0 0 0 0 0 0 0 0 0 0 0 0\n",
		p.pid, p.comm, state, p.pid, p.pid, p.flags, p.utime, p.stime, p.threads, p.start, p.vsize, p.rssPages)
}

// write creates the process's directory under root.
func (p fakeProc) write(root string) error {
	dir := filepath.Join(root, strconv.Itoa(p.pid))
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return err
	}
	var cmdline string
	if len(p.cmdline) > 0 {
		cmdline = strings.Join(p.cmdline, "\x00") + "\x00"
	}
	io := fmt.Sprintf("rchar: %d\nwchar: %d\nsyscr: 10\nsyscw: 10\nread_bytes: %d\nwrite_bytes: %d\ncancelled_write_bytes: 0\n",
		p.readBytes+100, p.writeBytes+100, p.readBytes, p.writeBytes)
	for name, content := range map[string]string{"stat": p.statLine(), "cmdline": cmdline, "io": io} {
		if err := os.WriteFile(filepath.Join(dir, name), []byte(content), 0o644); err != nil {
			return err
		}
	}
	if p.exe != "" {
		if err := os.Symlink(p.exe, filepath.Join(dir, "exe")); err != nil {
			return err
		}
	}
	if p.fds > 0 {
		fdDir := filepath.Join(dir, "fd")
		if err := os.MkdirAll(fdDir, 0o755); err != nil {
			return err
		}
		for i := range p.fds {
			if err := os.Symlink("/dev/null", filepath.Join(fdDir, strconv.Itoa(i))); err != nil {
				return err
			}
		}
	}
	return nil
}

// zombie returns p as it looks once it has exited and before its parent
// reaps it: state Z, no memory, no exe link, an empty command line, no
// open files; the CPU and I/O it used stay.
func (p fakeProc) zombie() fakeProc {
	p.state = 'Z'
	p.threads = 1
	p.vsize, p.rssPages = 0, 0
	p.exe, p.cmdline, p.fds = "", nil, 0
	return p
}

// replaceProc rewrites the directory of process p under root.
func replaceProc(t *testing.T, root string, p fakeProc) {
	t.Helper()
	if err := os.RemoveAll(filepath.Join(root, strconv.Itoa(p.pid))); err != nil {
		t.Fatal(err)
	}
	if err := p.write(root); err != nil {
		t.Fatal(err)
	}
}

// exitProcDir removes process pid from the tree under root, as its parent
// reaping it does.
func exitProcDir(t *testing.T, root string, pid int) {
	t.Helper()
	if err := os.RemoveAll(filepath.Join(root, strconv.Itoa(pid))); err != nil {
		t.Fatal(err)
	}
}

// writeProcRoot writes a fake procfs tree: the global stat file, a few
// entries that are not processes, and the processes.
func writeProcRoot(root string, procs []fakeProc) error {
	if err := os.MkdirAll(root, 0o755); err != nil {
		return err
	}
	stat := fmt.Sprintf("cpu  3692 0 1479 128403 469 0 105 5 0 0\ncpu0 3692 0 1479 128403 469 0 105 5 0 0\n"+
		"intr 0\nctxt 1000\nbtime %d\nprocesses 5000\nprocs_running 1\nprocs_blocked 0\n", fixtureBootTime)
	for name, content := range map[string]string{"stat": stat, "uptime": "5000.00 9000.00\n", "loadavg": "0.00 0.00 0.00 1/100 600\n"} {
		if err := os.WriteFile(filepath.Join(root, name), []byte(content), 0o644); err != nil {
			return err
		}
	}
	if err := os.Symlink("1", filepath.Join(root, "self")); err != nil {
		return err
	}
	for _, p := range procs {
		if err := p.write(root); err != nil {
			return err
		}
	}
	return nil
}

// TestFixtureTree keeps testdata/proc identical to fixtureProcs, so the
// committed tree and the expectations written against fixtureProcs cannot
// drift apart.
func TestFixtureTree(t *testing.T) {
	const dir = "testdata/proc"
	if *update {
		if err := os.RemoveAll(dir); err != nil {
			t.Fatal(err)
		}
		if err := writeProcRoot(dir, fixtureProcs); err != nil {
			t.Fatal(err)
		}
	}
	want := t.TempDir()
	if err := writeProcRoot(want, fixtureProcs); err != nil {
		t.Fatal(err)
	}
	if got, wantTree := treeString(t, dir), treeString(t, want); got != wantTree {
		t.Errorf("testdata/proc differs from fixtureProcs; run go test -run TestFixtureTree -update\n got:\n%s\nwant:\n%s", got, wantTree)
	}
}

// treeString renders a tree (paths, file contents, link targets) for
// comparison.
func treeString(t *testing.T, root string) string {
	t.Helper()
	var b strings.Builder
	err := filepath.WalkDir(root, func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(root, path)
		switch {
		case d.Type()&fs.ModeSymlink != 0:
			target, err := os.Readlink(path)
			if err != nil {
				return err
			}
			fmt.Fprintf(&b, "%s -> %s\n", rel, target)
		case d.Type().IsRegular():
			data, err := os.ReadFile(path)
			if err != nil {
				return err
			}
			fmt.Fprintf(&b, "%s: %q\n", rel, data)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return b.String()
}

// copyProcTree copies testdata/proc to a temporary directory that a test
// may change (delete a process, add one).
func copyProcTree(t *testing.T) string {
	t.Helper()
	dst := filepath.Join(t.TempDir(), "proc")
	copyTree(t, "testdata/proc", dst)
	return dst
}

func copyTree(t *testing.T, src, dst string) {
	t.Helper()
	err := filepath.WalkDir(src, func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(src, path)
		target := filepath.Join(dst, rel)
		switch {
		case d.IsDir():
			return os.MkdirAll(target, 0o755)
		case d.Type()&fs.ModeSymlink != 0:
			link, err := os.Readlink(path)
			if err != nil {
				return err
			}
			return os.Symlink(link, target)
		default:
			data, err := os.ReadFile(path)
			if err != nil {
				return err
			}
			return os.WriteFile(target, data, 0o644)
		}
	})
	if err != nil {
		t.Fatal(err)
	}
}

// manyProcs generates n processes with pids from 1000 up. Every every-th
// one (none if every is 0) is an nginx worker that the benchmark globs
// match; the others have names, executables and command lines no glob
// matches, with a few truncated comms among them.
func manyProcs(n, every int) []fakeProc {
	procs := make([]fakeProc, n)
	for i := range procs {
		p := fakeProc{
			pid: 1000 + i, flags: 0x400000, utime: uint64(i), stime: uint64(i / 2), threads: 1 + i%4,
			start: uint64(10_000 + i), vsize: 10_000_000, rssPages: 500, readBytes: 4096, fds: 3,
		}
		switch {
		case every > 0 && i%every == 0:
			p.comm, p.exe, p.cmdline = "nginx", "/usr/sbin/nginx", []string{"nginx: worker process"}
		case i%10 == 1:
			p.comm = "kube-apiserver-"[:15]
			p.exe = fmt.Sprintf("/usr/local/bin/kube-apiserver-proxy-%d", i)
			p.cmdline = []string{p.exe, "--secure-port=6443", "--v=2"}
		default:
			p.comm = fmt.Sprintf("worker-%d", i)
			p.exe = fmt.Sprintf("/opt/app/bin/worker-%d", i)
			p.cmdline = []string{p.exe, "--queue", strconv.Itoa(i % 7)}
		}
		procs[i] = p
	}
	return procs
}
