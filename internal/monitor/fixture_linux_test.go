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

	"github.com/procwatch/procwatch/internal/monitor/proctest"
)

var update = flag.Bool("update", false, "rewrite testdata/proc from fixtureProcs")

// fixtureBootTime is the btime of testdata/proc/stat.
const fixtureBootTime = proctest.BootTime

// fakeProc is one process of a fake procfs tree.
type fakeProc = proctest.FakeProc

// fixtureProcs is the content of testdata/proc. Run
// `go test -run TestFixtureTree -update` after changing it.
var fixtureProcs = []fakeProc{
	// init, a plain process.
	{PID: 1, Comm: "systemd", Flags: 0x400100, UTime: 150, STime: 250, Threads: 1, Start: 5,
		VSize: 22_000_000, RSSPages: 3000, Exe: "/usr/lib/systemd/systemd",
		Cmdline: []string{"/sbin/init", "splash"}, ReadBytes: 1_000_000, WriteBytes: 2_000_000, FDs: 3},
	// A kernel thread: PF_KTHREAD, no exe, empty cmdline.
	{PID: 2, Comm: "kthreadd", Flags: 0x208040, Threads: 1, Start: 5},
	// comm cut to 15 bytes by the kernel; the full name is in exe.
	{PID: 100, Comm: "kube-controller", Flags: 0x400100, UTime: 5000, STime: 1200, Threads: 12, Start: 1000,
		VSize: 800_000_000, RSSPages: 50_000, Exe: "/usr/local/bin/kube-controller-manager",
		Cmdline:   []string{"/usr/local/bin/kube-controller-manager", "--leader-elect=true", "--v=2"},
		ReadBytes: 4096, WriteBytes: 81920, FDs: 5,
		MinFlt: 12000, MajFlt: 30, VoluntarySwitches: 5000, InvoluntarySwitches: 700, SwapKB: 2048, FDLimit: 1 << 20, PSSKB: 150000},
	// nginx whose binary was replaced by an upgrade, with setproctitle
	// command lines (one argument containing spaces).
	{PID: 200, Comm: "nginx", Flags: 0x400140, UTime: 20, STime: 10, Threads: 1, Start: 2000,
		VSize: 50_000_000, RSSPages: 1000, Exe: "/usr/sbin/nginx (deleted)",
		Cmdline: []string{"nginx: master process /usr/sbin/nginx -g daemon off;"}, FDs: 6},
	{PID: 201, Comm: "nginx", Flags: 0x400140, UTime: 300, STime: 100, Threads: 1, Start: 2005,
		VSize: 51_000_000, RSSPages: 2000, Exe: "/usr/sbin/nginx (deleted)",
		Cmdline: []string{"nginx: worker process"}, ReadBytes: 10, WriteBytes: 20, FDs: 8,
		// Close to its fd limit: 8 of 10.
		FDLimit: 10},
	// A comm with spaces and parentheses, including a ')'; running.
	{PID: 300, Comm: "x (y) z)", State: 'R', Flags: 0x400000, UTime: 7, STime: 3, Threads: 2, Start: 3000,
		VSize: 1_000_000, RSSPages: 100, Exe: "/usr/bin/weird", Cmdline: []string{"weird", "--flag"}, FDs: 1},
	// The process tests make exit between two scans.
	{PID: 400, Comm: "sleep", Flags: 0x400000, UTime: 1, STime: 2, Threads: 1, Start: 5000,
		VSize: 8_000_000, RSSPages: 200, Exe: "/usr/bin/sleep", Cmdline: []string{"sleep", "600"},
		ReadBytes: 8192, FDs: 3,
		MinFlt: 150, MajFlt: 2, VoluntarySwitches: 10, InvoluntarySwitches: 3, PSSKB: 600},
	// A busybox applet: named by its comm, not by the multi-call binary.
	{PID: 500, Comm: "sleep", Flags: 0x400000, Threads: 1, Start: 6000,
		VSize: 1_500_000, RSSPages: 100, Exe: "/bin/busybox", Cmdline: []string{"sleep", "300"}, FDs: 3,
		MinFlt: 50, MajFlt: 1, VoluntarySwitches: 4, InvoluntarySwitches: 1, SwapKB: 16, FDLimit: 4, PSSKB: 300},
	// A script: comm is the script, exe the interpreter behind a symlink;
	// waiting on its disk.
	{PID: 600, Comm: "backup.py", State: 'D', Flags: 0x400000, UTime: 90, STime: 30, Threads: 3, Start: 7000,
		VSize: 30_000_000, RSSPages: 4000, Exe: "/usr/bin/python3.11",
		Cmdline: []string{"/usr/bin/python3", "/usr/local/bin/backup.py", "--full"}, WriteBytes: 1 << 20, FDs: 4},
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
		if err := proctest.WriteProcRoot(dir, fixtureProcs); err != nil {
			t.Fatal(err)
		}
	}
	want := t.TempDir()
	if err := proctest.WriteProcRoot(want, fixtureProcs); err != nil {
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
	proctest.CopyTree(t, "testdata/proc", dst)
	return dst
}

// manyProcs generates n processes with pids from 1000 up. Every every-th
// one (none if every is 0) is an nginx worker that the benchmark globs
// match; the others have names, executables and command lines no glob
// matches, with a few truncated comms among them.
func manyProcs(n, every int) []fakeProc {
	procs := make([]fakeProc, n)
	for i := range procs {
		p := fakeProc{
			PID: 1000 + i, Flags: 0x400000, UTime: uint64(i), STime: uint64(i / 2), Threads: 1 + i%4,
			Start: uint64(10_000 + i), VSize: 10_000_000, RSSPages: 500, ReadBytes: 4096, FDs: 3,
		}
		switch {
		case every > 0 && i%every == 0:
			p.Comm, p.Exe, p.Cmdline = "nginx", "/usr/sbin/nginx", []string{"nginx: worker process"}
		case i%10 == 1:
			p.Comm = "kube-apiserver-"[:15]
			p.Exe = fmt.Sprintf("/usr/local/bin/kube-apiserver-proxy-%d", i)
			p.Cmdline = []string{p.Exe, "--secure-port=6443", "--v=2"}
		default:
			p.Comm = fmt.Sprintf("worker-%d", i)
			p.Exe = fmt.Sprintf("/opt/app/bin/worker-%d", i)
			p.Cmdline = []string{p.Exe, "--queue", strconv.Itoa(i % 7)}
		}
		procs[i] = p
	}
	return procs
}
