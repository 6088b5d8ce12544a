package proctest

import (
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
)

// BootTime is the btime of the stat file WriteProcRoot writes.
const BootTime = 1700000000

// FakeProc describes one process of a fake procfs tree, written as the
// kernel shows it.
type FakeProc struct {
	PID        int
	Comm       string
	State      byte // 0 means 'S', sleeping
	Flags      uint64
	UTime      uint64 // clock ticks
	STime      uint64
	Threads    int
	Start      uint64 // clock ticks since boot
	VSize      uint64
	RSSPages   uint64
	Exe        string // target of the exe symlink; "" for none (kernel thread)
	Cmdline    []string
	ReadBytes  uint64
	WriteBytes uint64
	FDs        int // entries in fd/; 0 leaves fd/ out (git keeps no empty dir)

	MinFlt, MajFlt uint64 // stat fields 10 and 12
	// VoluntarySwitches and InvoluntarySwitches go to status.
	VoluntarySwitches, InvoluntarySwitches uint64
	SwapKB                                 uint64 // VmSwap of status
	FDLimit                                uint64 // soft "Max open files" of limits; 0 means 1024
	PSSKB                                  uint64 // Pss of smaps_rollup
}

// StatLine renders /proc/PID/stat as the kernel does (52 fields).
func (p FakeProc) StatLine() string {
	state := p.State
	if state == 0 {
		state = 'S'
	}
	return fmt.Sprintf("%d (%s) %c 1 %d %d 0 -1 %d %d 0 %d 0 %d %d 0 0 20 0 %d 0 %d %d %d "+
		"18446744073709551615 1 1 0 0 0 0 0 0 0 0 0 0 17 0 0 0 0 0 0 0 0 0 0 0 0 0 0\n",
		p.PID, p.Comm, state, p.PID, p.PID, p.Flags, p.MinFlt, p.MajFlt, p.UTime, p.STime, p.Threads, p.Start, p.VSize, p.RSSPages)
}

// hasMemory tells whether the process has an address space: kernel
// threads and zombies have none, and no Vm lines in status.
func (p FakeProc) hasMemory() bool { return p.Exe != "" && p.State != 'Z' }

// Status renders /proc/PID/status as the kernel does, with the lines the
// monitor reads among the others.
func (p FakeProc) Status() string {
	state := p.State
	if state == 0 {
		state = 'S'
	}
	var b strings.Builder
	fmt.Fprintf(&b, "Name:\t%s\nUmask:\t0022\nState:\t%c\nTgid:\t%d\nNgid:\t0\nPid:\t%d\nPPid:\t1\nTracerPid:\t0\n"+
		"Uid:\t0\t0\t0\t0\nGid:\t0\t0\t0\t0\nFDSize:\t64\nGroups:\t \n", p.Comm, state, p.PID, p.PID)
	if p.hasMemory() {
		fmt.Fprintf(&b, "VmPeak:\t%8d kB\nVmSize:\t%8d kB\nVmRSS:\t%8d kB\nVmSwap:\t%8d kB\n",
			p.VSize>>10, p.VSize>>10, p.RSSPages*4, p.SwapKB)
	}
	fmt.Fprintf(&b, "Threads:\t%d\nSigQ:\t0/31308\nCpus_allowed:\tff\nCpus_allowed_list:\t0-7\n"+
		"voluntary_ctxt_switches:\t%d\nnonvoluntary_ctxt_switches:\t%d\n",
		max(p.Threads, 1), p.VoluntarySwitches, p.InvoluntarySwitches)
	return b.String()
}

// Limits renders /proc/PID/limits as the kernel does.
func (p FakeProc) Limits() string {
	soft := p.FDLimit
	if soft == 0 {
		soft = 1024
	}
	row := func(name, soft, hard, unit string) string {
		return fmt.Sprintf("%-25s %-20s %-20s %-10s\n", name, soft, hard, unit)
	}
	return row("Limit", "Soft Limit", "Hard Limit", "Units") +
		row("Max cpu time", "unlimited", "unlimited", "seconds") +
		row("Max file size", "unlimited", "unlimited", "bytes") +
		row("Max processes", "31308", "31308", "processes") +
		row("Max open files", fmt.Sprint(soft), "524288", "files") +
		row("Max locked memory", "8388608", "8388608", "bytes")
}

// SmapsRollup renders /proc/PID/smaps_rollup, empty for a process without
// an address space.
func (p FakeProc) SmapsRollup() string {
	if !p.hasMemory() {
		return ""
	}
	return fmt.Sprintf("55d0c0a00000-7ffd5c3fe000 ---p 00000000 00:00 0                          [rollup]\n"+
		"Rss:            %8d kB\nPss:            %8d kB\nPss_Anon:       %8d kB\nSwap:           %8d kB\n",
		p.RSSPages*4, p.PSSKB, p.PSSKB/2, p.SwapKB)
}

// Write creates the process's directory under root.
func (p FakeProc) Write(root string) error {
	dir := filepath.Join(root, strconv.Itoa(p.PID))
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return err
	}
	var cmdline string
	if len(p.Cmdline) > 0 {
		cmdline = strings.Join(p.Cmdline, "\x00") + "\x00"
	}
	io := fmt.Sprintf("rchar: %d\nwchar: %d\nsyscr: 10\nsyscw: 10\nread_bytes: %d\nwrite_bytes: %d\ncancelled_write_bytes: 0\n",
		p.ReadBytes+100, p.WriteBytes+100, p.ReadBytes, p.WriteBytes)
	files := map[string]string{
		"stat": p.StatLine(), "cmdline": cmdline, "io": io,
		"status": p.Status(), "limits": p.Limits(), "smaps_rollup": p.SmapsRollup(),
	}
	for name, content := range files {
		if err := os.WriteFile(filepath.Join(dir, name), []byte(content), 0o644); err != nil {
			return err
		}
	}
	if p.Exe != "" {
		if err := os.Symlink(p.Exe, filepath.Join(dir, "exe")); err != nil {
			return err
		}
	}
	if p.FDs > 0 {
		fdDir := filepath.Join(dir, "fd")
		if err := os.MkdirAll(fdDir, 0o755); err != nil {
			return err
		}
		for i := range p.FDs {
			if err := os.Symlink("/dev/null", filepath.Join(fdDir, strconv.Itoa(i))); err != nil {
				return err
			}
		}
	}
	return nil
}

// Zombie returns p as it looks once it has exited and before its parent
// reaps it: state Z, no memory, no exe link, an empty command line, no
// open files; the CPU and I/O it used stay.
func (p FakeProc) Zombie() FakeProc {
	p.State = 'Z'
	p.Threads = 1
	p.VSize, p.RSSPages = 0, 0
	p.Exe, p.Cmdline, p.FDs = "", nil, 0
	return p
}

// WriteProcRoot writes a fake procfs tree: the global stat file (btime
// BootTime), a few entries that are not processes, and the processes.
func WriteProcRoot(root string, procs []FakeProc) error {
	if err := os.MkdirAll(root, 0o755); err != nil {
		return err
	}
	stat := fmt.Sprintf("cpu  3692 0 1479 128403 469 0 105 5 0 0\ncpu0 3692 0 1479 128403 469 0 105 5 0 0\n"+
		"intr 0\nctxt 1000\nbtime %d\nprocesses 5000\nprocs_running 1\nprocs_blocked 0\n", BootTime)
	for name, content := range map[string]string{"stat": stat, "uptime": "5000.00 9000.00\n", "loadavg": "0.00 0.00 0.00 1/100 600\n"} {
		if err := os.WriteFile(filepath.Join(root, name), []byte(content), 0o644); err != nil {
			return err
		}
	}
	if err := os.Symlink("1", filepath.Join(root, "self")); err != nil {
		return err
	}
	for _, p := range procs {
		if err := p.Write(root); err != nil {
			return err
		}
	}
	return nil
}

// ReplaceProc rewrites the directory of process p under root, as an exec
// or a change of state between two scans shows.
func ReplaceProc(t testing.TB, root string, p FakeProc) {
	t.Helper()
	RemoveProc(t, root, p.PID)
	if err := p.Write(root); err != nil {
		t.Fatal(err)
	}
}

// RemoveProc removes process pid from the tree under root, as its exit
// (and its parent reaping it) does.
func RemoveProc(t testing.TB, root string, pid int) {
	t.Helper()
	if err := os.RemoveAll(filepath.Join(root, strconv.Itoa(pid))); err != nil {
		t.Fatal(err)
	}
}

// CopyTree copies files, directories and symlinks (the exe links and fd
// entries, whose targets need not exist) from src to dst, so that a test
// may change a copy of a committed fixture tree.
func CopyTree(t testing.TB, src, dst string) {
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
