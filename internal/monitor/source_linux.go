//go:build linux

package monitor

import (
	"context"
	"errors"
	"fmt"
	"os"
	"sync"
	"time"

	"github.com/prometheus/procfs"
)

// LinuxSource reads processes from a procfs tree (/proc, or --path.procfs
// for an agent in a container, or a fixture tree in tests).
//
// The per-scan hot path, run for every process, is a lean reader of its own:
// one getdents over the root and one open/read/close of /proc/PID/stat per
// process, into reused buffers, parsed by hand. BenchmarkScan shows why:
// procfs.AllProcs with Stat per process costs several times that floor and
// allocates 27 times per process. The details of matched processes (io,
// status, fd count, and the fd limit and PSS below) are read the same lean
// way, so that a broad glob matching most of the host stays cheap too. prometheus/procfs reads what is read once per
// process lifetime (exe link, command line) and the boot time, where its
// allocations do not matter.
//
// The fd soft limit (/proc/PID/limits) is cached per process, (pid, start
// ticks), and read again with its identity: on the first and second
// sightings and after an exec, which covers a daemon raising its own
// limit as it starts. A later prlimit(1) on a running process is seen as
// soon as the process holds at least half its cached limit, where the
// limit is read on every scan, so procwatch_glob_max_fd_ratio is exact
// whenever it is above 0.5, where alerts look; below that, a limit changed
// from outside shows after the process restarts or execs. The PSS
// (smaps_rollup) is read only with [WithPSS].
//
// It is safe for concurrent use; scans are serialized.
type LinuxSource struct {
	root     string
	fs       procfs.FS
	boot     time.Time
	pageSize uint64
	realProc bool // directory sizes of fd/ are fd counts (see countDirAt)
	pss      bool // read smaps_rollup (WithPSS)

	mu      sync.Mutex
	cache   procCache
	dirBuf  []byte // the root listing
	fdBuf   []byte // an fd/ listing, while dirBuf is mid-iteration
	statBuf []byte
	ioBuf   []byte
	fileBuf []byte // status, limits, smaps_rollup
	pathBuf []byte
	sel     selectorReader // user, unit and cgroup

	ident identityReader // ReadIdentity's own buffers

	// procs and globs back the Procs of the last snapshot and their Globs,
	// reused by the next scan (see Source): on a host where most processes
	// match, building them afresh was most of what a scan allocated
	// (16 MB a scan at 10,000 matched processes), and the garbage
	// collector's goal, hence the agent's RSS, grows with it.
	procs []MatchedProc
	globs []int
}

var _ Source = (*LinuxSource)(nil)

// NewLinuxSource returns a Source reading the procfs tree at root ("" means
// /proc). It reads the boot time from root/stat once, to turn start times in
// clock ticks into wall-clock times. Once, because the kernel derives btime
// from the wall clock, so it moves a little with every clock adjustment,
// while a process's start time must stay put: with the pid it identifies
// the process to the counters.
func NewLinuxSource(root string, opts ...SourceOption) (*LinuxSource, error) {
	o := applySourceOptions(opts)
	if root == "" {
		root = procfs.DefaultMountPoint
	}
	fs, err := procfs.NewFS(root)
	if err != nil {
		return nil, fmt.Errorf("monitor: procfs at %s: %w", root, err)
	}
	st, err := fs.Stat()
	if err != nil {
		return nil, fmt.Errorf("monitor: reading boot time from %s/stat: %w", root, err)
	}
	if st.BootTime == 0 {
		return nil, fmt.Errorf("monitor: no btime in %s/stat", root)
	}
	return &LinuxSource{
		root:     root,
		fs:       fs,
		boot:     time.Unix(int64(st.BootTime), 0),
		pageSize: uint64(os.Getpagesize()),
		realProc: isRealProcfs(root),
		pss:      o.pss,
		dirBuf:   make([]byte, 32<<10),
		fdBuf:    make([]byte, 8<<10),
		statBuf:  make([]byte, 4<<10),
		ioBuf:    make([]byte, 1<<10),
		// status is under 2 KiB, but its Cpus_allowed and Groups lines
		// grow with the host's CPUs and the process's groups.
		fileBuf: make([]byte, 16<<10),
		pathBuf: make([]byte, 0, 64),
	}, nil
}

// BootTime is the host's boot time as read from the procfs tree.
func (s *LinuxSource) BootTime() time.Time { return s.boot }

// Scan implements [Source].
func (s *LinuxSource) Scan(ctx context.Context, m *Matcher) (Snapshot, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if err := ctx.Err(); err != nil {
		return Snapshot{}, err
	}
	dirfd, err := openDir(s.root)
	if err != nil {
		return Snapshot{}, fmt.Errorf("monitor: opening %s: %w", s.root, err)
	}
	defer func() { _ = closeFD(dirfd) }()

	s.cache.begin()
	var (
		snap   = Snapshot{Procs: s.procs[:0]}
		ctxErr error
		listed int
	)
	s.globs = s.globs[:0]
	visit := func(name []byte) {
		pid, ok := parsePID(name)
		if !ok || ctxErr != nil {
			return
		}
		// ctx.Err takes a lock: look every few hundred processes, which is
		// still well under a millisecond.
		if listed++; listed%256 == 0 {
			if ctxErr = ctx.Err(); ctxErr != nil {
				return
			}
		}
		s.visit(dirfd, pid, name, m, &snap)
	}
	for {
		more, err := readDirents(dirfd, s.dirBuf, visit)
		if err != nil {
			return Snapshot{}, fmt.Errorf("monitor: listing %s: %w", s.root, err)
		}
		if ctxErr != nil {
			return Snapshot{}, ctxErr
		}
		if !more {
			break
		}
	}
	s.cache.end()
	snap.PSS = s.pss
	s.procs = snap.Procs
	return snap, nil
}

// visit handles one process: the hot path for every process, details for
// the matched ones.
func (s *LinuxSource) visit(dirfd int, pid int32, name []byte, m *Matcher, snap *Snapshot) {
	n, err := readFileAt(dirfd, s.path(name, "/stat\x00"), s.statBuf)
	if err != nil {
		if !isVanished(err) {
			snap.Errors++
		}
		return
	}
	var st procStat
	if !parseStat(s.statBuf[:n], &st, false) {
		// An empty read is a process that exited between open and read.
		if n > 0 {
			snap.Errors++
		}
		return
	}
	e, stale := s.cache.lookup(pid, st.start, st.comm)
	zombie := st.state == 'Z'
	if stale && zombie {
		e.startTime = s.startTime(&st)
		e.setZombie(string(st.comm))
	} else if stale {
		if err := s.readIdentity(pid, &st, e); err != nil {
			s.cache.drop(pid)
			if !isVanished(err) {
				snap.Errors++
			}
			return
		}
	}
	snap.Scanned++
	if need := m.Needs() &^ e.target.read; need&selectorKinds != 0 && !s.readSelectors(dirfd, name, need, e) {
		snap.Errors++
	}
	globs := e.match(m)
	if len(globs) == 0 {
		return
	}
	p, err := s.details(dirfd, pid, name, s.statBuf[:n], e, zombie)
	if err != nil {
		if !isVanished(err) {
			snap.Errors++
		}
		return
	}
	p.User, p.Unit, p.Cgroup = e.target.User, e.target.Unit, e.target.Cgroup
	// Globs are cut from one buffer, each capped at its end, so that an
	// append to one never writes into the next.
	from := len(s.globs)
	s.globs = append(s.globs, globs...)
	snap.Procs = append(snap.Procs, MatchedProc{Proc: p, Globs: s.globs[from:len(s.globs):len(s.globs)]})
}

// readIdentity reads the name, executable and command line of a process.
// Only a vanished process, or an unexpected error reading its command line
// (which every process has, even if empty), fails it.
func (s *LinuxSource) readIdentity(pid int32, st *procStat, e *entry) error {
	e.startTime = s.startTime(st)
	comm := string(st.comm)
	if st.flags&pfKthread != 0 {
		e.setIdentity(comm, "", nil)
		return nil
	}
	p, err := s.fs.Proc(int(pid))
	if err != nil {
		return err
	}
	// A zombie has no exe (ENOENT), and another user's process may not be
	// ours to read (EACCES): the exe is then unknown, which only keeps path
	// patterns from matching it.
	exe, _ := p.Executable()
	cmdline, err := p.CmdLine()
	if err != nil && !isPermission(err) {
		return err
	}
	e.setIdentity(comm, exe, cmdline)
	return nil
}

// startTime turns the clock-tick start time of st into a wall-clock time.
func (s *LinuxSource) startTime(st *procStat) time.Time {
	return s.boot.Add(time.Duration(st.start) * (time.Second / userHZ))
}

// path returns "<pid><file>" in the reused path buffer; file ends in NUL.
func (s *LinuxSource) path(pid []byte, file string) []byte {
	s.pathBuf = append(append(s.pathBuf[:0], pid...), file...)
	return s.pathBuf
}

// details builds the full record of a matched process from its stat file
// (already read), io, status, fd count and limit, and PSS.
func (s *LinuxSource) details(dirfd int, pid int32, name, stat []byte, e *entry, zombie bool) (Proc, error) {
	var st procStat
	if !parseStat(stat, &st, true) {
		return Proc{}, errBadStat
	}
	p := Proc{
		PID:         int(pid),
		StartTicks:  st.start,
		StartTime:   e.startTime,
		Name:        e.target.Name,
		Comm:        e.comm,
		Exe:         e.target.Exe,
		Cmdline:     e.cmdline,
		CPUUser:     float64(st.utime) / userHZ,
		CPUSystem:   float64(st.stime) / userHZ,
		RSS:         st.rss * s.pageSize,
		VSize:       st.vsize,
		Threads:     int(st.threads),
		Zombie:      zombie,
		State:       st.state,
		MinorFaults: st.minflt,
		MajorFaults: st.majflt,
	}
	// io and fd/ need ptrace-read access to the process: without it
	// (another user's process, an unprivileged agent) they stay 0, which
	// keeps the process counted. A missing io file (a kernel without task
	// I/O accounting) is handled the same way, and so is a process that
	// exited since its stat was read: its stat values are moments old, the
	// next scan will see it gone, and the counters never go down anyway.
	if n, err := readFileAt(dirfd, s.path(name, "/io\x00"), s.ioBuf); err == nil {
		p.ReadBytes, p.WriteBytes, _ = parseIO(s.ioBuf[:n])
	}
	// status is world-readable; a zombie's still has its context switches.
	if n, err := readFileAt(dirfd, s.path(name, "/status\x00"), s.fileBuf); err == nil {
		var ps procStatus
		parseStatus(s.fileBuf[:n], &ps)
		p.VoluntarySwitches, p.InvoluntarySwitches, p.Swap = ps.voluntary, ps.involuntary, ps.swap
	}
	// A zombie has closed every file and released its memory: its fd/ is
	// empty or unreadable, and it has no fd limit or PSS worth reading.
	if zombie {
		return p, nil
	}
	if n, err := countDirAt(dirfd, s.path(name, "/fd\x00"), s.fdBuf, s.realProc); err == nil {
		p.FDs = n
	}
	p.FDLimit = s.fdLimit(dirfd, name, e, p.FDs)
	if s.pss {
		if n, err := readFileAt(dirfd, s.path(name, "/smaps_rollup\x00"), s.fileBuf); err == nil {
			p.PSS, _ = parsePSS(s.fileBuf[:n])
		}
	}
	return p, nil
}

// fdLimit returns the fd soft limit of the process of e, from the cache
// unless its identity was read since (see entry.setIdentity) or it holds
// at least half the cached limit, where a limit lowered from outside
// (prlimit) would make the ratio wrong where it matters.
func (s *LinuxSource) fdLimit(dirfd int, name []byte, e *entry, fds int) uint64 {
	if e.limitRead && uint64(fds) < e.fdLimit/2 {
		return e.fdLimit
	}
	// limits needs no ptrace access: it is world-readable.
	n, err := readFileAt(dirfd, s.path(name, "/limits\x00"), s.fileBuf)
	if err != nil {
		return e.fdLimit
	}
	if v, ok := parseFDLimit(s.fileBuf[:n]); ok {
		e.fdLimit, e.limitRead = v, true
	}
	return e.fdLimit
}

var errBadStat = errors.New("monitor: malformed stat file")
