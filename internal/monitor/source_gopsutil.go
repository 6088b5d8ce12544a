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

	mu    sync.Mutex
	cache procCache
}

var _ Source = (*GopsutilSource)(nil)

// NewGopsutilSource returns a Source backed by gopsutil. On Linux, root is
// the procfs tree to read ("" means gopsutil's default, /proc or $HOST_PROC);
// elsewhere it is ignored.
func NewGopsutilSource(root string) *GopsutilSource {
	return &GopsutilSource{root: root}
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
	zombie, knownZombie := false, false
	isZombie := func() bool {
		if !knownZombie {
			knownZombie = true
			st, err := p.StatusWithContext(ctx)
			zombie = err == nil && slices.Contains(st, process.Zombie)
		}
		return zombie
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
	snap.Procs = append(snap.Procs, MatchedProc{Proc: proc, Globs: slices.Clone(globs)})
}

// gone tells whether a gopsutil error means the process no longer exists.
func gone(err error) bool {
	return isVanished(err) || errors.Is(err, process.ErrorProcessNotRunning)
}
