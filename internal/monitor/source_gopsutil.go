// The gopsutil source is what the agent uses off Linux. On Linux it is the
// oracle the procfs source is compared with (oracle_linux_test.go).

package monitor

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"sync"
	"time"

	"github.com/shirou/gopsutil/v4/common"
	"github.com/shirou/gopsutil/v4/process"
)

// GopsutilSource reads processes through gopsutil, on any operating system
// gopsutil supports. It is slower than [LinuxSource] (gopsutil opens several
// files per process and allocates freely) but applies the same caching, so
// an unmatched process costs its listing, creation time and name per scan.
//
// It is safe for concurrent use; scans are serialized.
type GopsutilSource struct {
	root string
	pss  bool

	mu    sync.Mutex
	cache procCache
}

var _ Source = (*GopsutilSource)(nil)

// NewGopsutilSource returns a Source backed by gopsutil. On Linux, root is
// the procfs tree to read ("" means gopsutil's default, /proc or $HOST_PROC);
// elsewhere it is ignored.
func NewGopsutilSource(root string, opts ...SourceOption) *GopsutilSource {
	return &GopsutilSource{root: root, pss: applySourceOptions(opts).pss}
}

// Scan implements [Source].
func (s *GopsutilSource) Scan(ctx context.Context, m *Matcher) (Snapshot, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.root != "" {
		ctx = context.WithValue(ctx, common.EnvKey, common.EnvMap{common.HostProcEnvKey: s.root})
	}
	pids, err := process.PidsWithContext(ctx)
	if err != nil {
		return Snapshot{}, fmt.Errorf("monitor: listing processes: %w", err)
	}
	s.cache.begin()
	var snap Snapshot
	for i, pid := range pids {
		if i%256 == 0 {
			if err := ctx.Err(); err != nil {
				return Snapshot{}, err
			}
		}
		s.visit(ctx, pid, m, &snap)
	}
	if err := ctx.Err(); err != nil {
		return Snapshot{}, err
	}
	s.cache.end()
	snap.PSS = s.pss
	return snap, nil
}

func (s *GopsutilSource) visit(ctx context.Context, pid int32, m *Matcher, snap *Snapshot) {
	fail := func(err error) {
		if !gone(err) {
			snap.Errors++
		}
	}
	p, err := process.NewProcessWithContext(ctx, pid)
	if err != nil {
		fail(err)
		return
	}
	created, err := p.CreateTimeWithContext(ctx)
	if err != nil {
		fail(err)
		return
	}
	// gopsutil's name is the comm, already completed from the command line
	// when it was cut at 15 bytes; processName completes it from the exe
	// otherwise, as the Linux source does.
	comm, err := p.NameWithContext(ctx)
	if err != nil {
		fail(err)
		return
	}
	e, stale := s.cache.lookup(pid, uint64(created), []byte(comm))
	// The state costs a read of its own, so it is asked for only when the
	// identity is to be read (a zombie keeps the one it had alive) and for
	// matched processes.
	var state byte
	isZombie := func() bool {
		if state == 0 {
			state = '?'
			if st, err := p.StatusWithContext(ctx); err == nil && len(st) > 0 {
				state = stateLetter(st[0])
			}
		}
		return state == 'Z'
	}
	if stale && isZombie() {
		e.startTime = time.UnixMilli(created)
		e.setZombie(comm)
	} else if stale {
		e.startTime = time.UnixMilli(created)
		exe, _ := p.ExeWithContext(ctx)
		cmdline, err := p.CmdlineSliceWithContext(ctx)
		if err != nil && !isPermission(err) {
			s.cache.drop(pid)
			fail(err)
			return
		}
		e.setIdentity(comm, exe, cmdline)
	}
	snap.Scanned++
	globs := e.match(m)
	if len(globs) == 0 {
		return
	}
	proc := Proc{
		PID:       int(pid),
		StartTime: e.startTime,
		Name:      e.target.Name,
		Comm:      e.comm,
		Exe:       e.target.Exe,
		Cmdline:   e.cmdline,
		Zombie:    isZombie(),
		State:     state,
	}
	// As on Linux, a value we may not read is left 0 rather than dropping
	// the process; only a vanished process is left out.
	if t, err := p.TimesWithContext(ctx); err == nil {
		proc.CPUUser, proc.CPUSystem = t.User, t.System
	} else if gone(err) {
		return
	}
	if mem, err := p.MemoryInfoWithContext(ctx); err == nil {
		proc.RSS, proc.VSize = mem.RSS, mem.VMS
	}
	if n, err := p.NumThreadsWithContext(ctx); err == nil {
		proc.Threads = int(n)
	}
	if n, err := p.NumFDsWithContext(ctx); err == nil {
		proc.FDs = int(n)
	}
	if io, err := p.IOCountersWithContext(ctx); err == nil {
		// DiskReadBytes is read_bytes on Linux; gopsutil's ReadBytes is
		// rchar. See Proc.ReadBytes for why storage bytes are reported.
		proc.ReadBytes, proc.WriteBytes = io.DiskReadBytes, io.DiskWriteBytes
	}
	if pf, err := p.PageFaultsWithContext(ctx); err == nil {
		proc.MinorFaults, proc.MajorFaults = pf.MinorFaults, pf.MajorFaults
	}
	if cs, err := p.NumCtxSwitchesWithContext(ctx); err == nil {
		proc.VoluntarySwitches, proc.InvoluntarySwitches = uint64(cs.Voluntary), uint64(cs.Involuntary)
	}
	if !proc.Zombie {
		s.fillLimitAndMaps(ctx, p, e, &proc)
	}
	snap.Procs = append(snap.Procs, MatchedProc{Proc: proc, Globs: slices.Clone(globs)})
}

// fillLimitAndMaps sets the fd limit (cached as the Linux source caches
// it) and, from gopsutil's grouped memory maps (smaps_rollup on Linux),
// the swap and, with WithPSS, the PSS. gopsutil exposes VmSwap of status
// only through its maps, so the swap costs that read here: this source is
// the slow one anyway. Off Linux gopsutil has no maps, and both stay 0.
func (s *GopsutilSource) fillLimitAndMaps(ctx context.Context, p *process.Process, e *entry, proc *Proc) {
	if !e.limitRead || uint64(proc.FDs) >= e.fdLimit/2 {
		if rl, err := p.RlimitWithContext(ctx); err == nil {
			for _, r := range rl {
				if r.Resource == process.RLIMIT_NOFILE {
					// gopsutil reads "unlimited" as the largest uint64,
					// as parseFDLimit does.
					e.fdLimit, e.limitRead = r.Soft, true
				}
			}
		}
	}
	proc.FDLimit = e.fdLimit
	if swap, pss, ok := gopsutilMaps(ctx, p); ok {
		proc.Swap = swap
		if s.pss {
			proc.PSS = pss
		}
	}
}

// stateLetter turns gopsutil's name of a process state back into the
// kernel's letter, for StateOf.
func stateLetter(name string) byte {
	switch name {
	case process.Running:
		return 'R'
	case process.Sleep:
		return 'S'
	case process.Blocked:
		return 'D'
	case process.Zombie:
		return 'Z'
	default:
		return '?'
	}
}

// gone tells whether a gopsutil error means the process no longer exists.
func gone(err error) bool {
	return isVanished(err) || errors.Is(err, process.ErrorProcessNotRunning)
}
