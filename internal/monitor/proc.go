package monitor

import (
	"context"
	"errors"
	"io/fs"
	"strings"
	"syscall"
	"time"
)

// Proc is one process as a [Source] saw it during one scan.
type Proc struct {
	// PID is the process ID.
	PID int
	// StartTicks is the start time in clock ticks since boot, field 22 of
	// /proc/PID/stat. With PID it identifies the process across pid reuse.
	// It is 0 from sources that do not know it (gopsutil), which identify
	// the process by StartTime instead.
	StartTicks uint64
	// StartTime is when the process started.
	StartTime time.Time

	// Name is the full process name, the one a pattern without '/' is
	// matched against. It is the kernel's comm when the comm is shorter than
	// 15 bytes, and so complete. A 15-byte comm may have been cut by the
	// kernel (TASK_COMM_LEN), and is then completed from the basename of the
	// executable, else of argv[0], whichever extends it; "kube-controller"
	// becomes "kube-controller-manager".
	//
	// This is the name pgrep, top and ps show, and that psutil and
	// gopsutil report. Taking the executable's basename instead would name a
	// busybox applet "busybox" rather than "sleep", and a python3 started
	// through its /usr/bin/python3 symlink "python3.11". Kernel threads and
	// zombies, which have no executable or command line, are named by comm.
	// A process that renamed itself (prctl PR_SET_NAME, node's
	// process.title) is known by its new name, as in pgrep. A zombie is
	// known by the name it had while alive (see Zombie).
	Name string
	// Comm is the kernel's command name, at most 15 bytes for user
	// processes.
	Comm string
	// Exe is the executable path (readlink /proc/PID/exe) with the kernel's
	// " (deleted)" suffix removed, so a daemon whose binary was replaced by
	// a package upgrade still matches its path. Empty for kernel threads and
	// zombies, and for other users' processes when the agent may not read
	// their exe link.
	Exe string
	// Cmdline is the command line, one element per argument. Empty for
	// kernel threads and zombies.
	Cmdline []string
	// User is the name of the process's real user (the first uid of the
	// Uid line of /proc/PID/status) in the agent's passwd database, or the
	// uid in decimal when it has no name there. Unit is the systemd unit
	// the process runs in ("nginx.service", "session-3.scope"), and Cgroup
	// its cgroup v2 path ("/system.slice/nginx.service"), both from
	// /proc/PID/cgroup. Each is read only while a glob of its kind is in
	// force, then kept for the life of the process (the cgroup as it was
	// when the process was first seen or last exec'd), and is empty when
	// unknown or not read.
	User, Unit, Cgroup string

	// Zombie tells that the process has exited and waits for its parent to
	// reap it. A zombie keeps the Name, Exe and Cmdline it had when it was
	// last seen alive (the kernel no longer shows them), and is named by
	// its Comm if it never was. It is not a live process: the per-glob
	// gauges leave it out (see [GlobStats.Zombies]).
	Zombie bool

	// State is the kernel's state letter of the process's main thread
	// (field 3 of /proc/PID/stat, as ps shows it): R running, S sleeping,
	// D waiting uninterruptibly, Z zombie, and T, t, I, X and others. See
	// [StateOf].
	State byte
	// MinorFaults and MajorFaults are the page faults of all the process's
	// threads since it started (fields 10 and 12 of /proc/PID/stat): minor
	// ones were served from memory, major ones had to read from storage.
	MinorFaults, MajorFaults uint64
	// VoluntarySwitches and InvoluntarySwitches are the context switches
	// of the main thread (voluntary_ctxt_switches and
	// nonvoluntary_ctxt_switches of /proc/PID/status): it gave up the CPU
	// to wait for something, or was preempted. /proc/PID/status counts the
	// main thread only, as gopsutil and process-exporter report it;
	// summing every thread would cost a read per thread.
	VoluntarySwitches, InvoluntarySwitches uint64
	// Swap is the process's memory swapped out, in bytes (VmSwap of
	// /proc/PID/status); 0 for kernel threads and zombies.
	Swap uint64
	// FDLimit is the soft limit on open file descriptors (RLIMIT_NOFILE,
	// "Max open files" of /proc/PID/limits); 0 when unknown, and the
	// largest uint64 when unlimited. Sources read it once per process
	// lifetime (and after an exec): see [LinuxSource].
	FDLimit uint64
	// PSS is the proportional set size in bytes, the resident memory with
	// each shared page divided among the processes sharing it (Pss of
	// /proc/PID/smaps_rollup). It is read only when the Source was made
	// with [WithPSS], since the kernel walks the whole address space to
	// render it; 0 otherwise, and when unreadable.
	PSS uint64

	// CPUUser and CPUSystem are the CPU seconds spent in user and kernel
	// mode since the process started.
	CPUUser, CPUSystem float64
	// RSS is the resident set size in bytes.
	RSS uint64
	// VSize is the virtual memory size in bytes.
	VSize uint64
	// Threads is the number of threads.
	Threads int
	// FDs is the number of open file descriptors; 0 when unreadable.
	FDs int
	// ReadBytes and WriteBytes are the bytes this process caused to be read
	// from and written to the storage layer (read_bytes and write_bytes of
	// /proc/PID/io), 0 when unreadable. rchar and wchar are not used: they
	// count every read and write call, on sockets, pipes and terminals too
	// and including page-cache hits, so a proxy would show gigabytes of
	// "disk" traffic. write_bytes is kept raw (not less
	// cancelled_write_bytes) so that it can only grow.
	ReadBytes, WriteBytes uint64
}

// MatchedProc is a process that matched at least one glob of the scan's
// [Matcher].
type MatchedProc struct {
	Proc
	// Globs are the indices, into the Matcher's Globs, of every glob the
	// process matches.
	Globs []int
}

// Snapshot is what one [Source.Scan] saw.
type Snapshot struct {
	// Procs are the processes matching at least one glob, with details.
	Procs []MatchedProc
	// Scanned is the number of processes looked at, matched or not.
	Scanned int
	// Errors is the number of processes skipped for an unexpected read
	// error. Vanished processes and permission errors are not counted.
	Errors int
	// PSS tells that the source read the PSS of the matched processes
	// (see [WithPSS]), so that a PSS of 0 is a value, not an absence.
	PSS bool
}

// Source reads the processes of one host.
//
// Scan lists every process and returns, with details, those that match at
// least one glob of m. Implementations keep the hot path cheap: every
// process is listed with the minimum needed to identify it, its name,
// executable and command line are cached per process lifetime, its match
// result per Matcher, and details are read only for matched processes.
// A process that vanishes during the scan is left out without error. An
// error means the scan as a whole failed (the process table could not be
// listed, or ctx ended) and the snapshot must not be used: a partial list
// would look like processes exiting.
//
// Implementations are safe for concurrent use; scans are serialized. The
// snapshot's Procs, and their Globs, may be buffers of the source that its
// next Scan reuses: a caller keeps what it needs of them, not the slices.
type Source interface {
	Scan(ctx context.Context, m *Matcher) (Snapshot, error)
}

// commLen is the longest comm the kernel keeps for a user process
// (TASK_COMM_LEN - 1); a comm this long may have been cut.
const commLen = 15

// processName chooses the process name from what was read; see Proc.Name.
func processName(comm, exe string, cmdline []string) string {
	if len(comm) < commLen {
		return comm
	}
	if b := basename(exe); b != "" && strings.HasPrefix(b, comm) {
		return b
	}
	if len(cmdline) > 0 {
		if b := basename(cmdline[0]); strings.HasPrefix(b, comm) {
			return b
		}
	}
	return comm
}

// cleanExe removes the suffix the kernel appends to the exe link of a
// process whose executable file was deleted or replaced.
func cleanExe(link string) string {
	return strings.TrimSuffix(link, " (deleted)")
}

func basename(p string) string {
	if i := strings.LastIndexByte(p, '/'); i >= 0 {
		return p[i+1:]
	}
	return p
}

// isVanished tells whether err means the process is gone, which during a
// scan is normal (node_exporter's isIgnoredError): its directory or file
// no longer exists, or the kernel reports no such process.
func isVanished(err error) bool {
	return errors.Is(err, fs.ErrNotExist) || errors.Is(err, syscall.ESRCH)
}

// isPermission tells whether err means we may not read this file of this
// process, which leaves the value empty but is not an error: an unprivileged
// agent may not read other users' exe links, io or fd directories.
func isPermission(err error) bool {
	return errors.Is(err, fs.ErrPermission) || errors.Is(err, syscall.EACCES) || errors.Is(err, syscall.EPERM)
}

// errFileTooLong reports a /proc file that did not fit the read buffer,
// which no stat or io file of a real kernel comes near.
var errFileTooLong = errors.New("monitor: file larger than the read buffer")
