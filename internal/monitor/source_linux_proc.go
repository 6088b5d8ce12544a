//go:build linux

package monitor

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"sync"

	"github.com/procwatch/procwatch/internal/pattern"
)

var _ ProcReader = (*LinuxSource)(nil)

// identityReader holds the buffers of LinuxSource.ReadIdentity, apart from
// the scan's, so that a read at an exec never waits for a scan: a process
// that lives a few milliseconds is gone by the time a scan ends.
type identityReader struct {
	mu      sync.Mutex
	statBuf []byte
	fileBuf []byte
	pathBuf []byte
}

// ReadIdentity implements [ProcReader]. It reads the stat file of the
// process, and what need asks for of its executable link, command line,
// status (user) and cgroup (unit, cgroup), and none of the files a scan
// reads for the gauges: at its exec a process has used
// nothing worth counting yet, and a scan that lists it later reads the
// rest. It shares only the user-name cache with scans.
func (s *LinuxSource) ReadIdentity(ctx context.Context, pid int, need pattern.Kinds) (Proc, bool, error) {
	if err := ctx.Err(); err != nil {
		return Proc{}, false, err
	}
	if pid <= 0 {
		return Proc{}, false, fmt.Errorf("monitor: pid %d: not a process id", pid)
	}
	r := &s.ident
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.statBuf == nil {
		r.statBuf, r.fileBuf = make([]byte, 4<<10), make([]byte, 8<<10)
	}
	dirfd, err := openDir(s.root)
	if err != nil {
		return Proc{}, false, fmt.Errorf("monitor: opening %s: %w", s.root, err)
	}
	defer func() { _ = closeFD(dirfd) }()
	name := strconv.AppendInt(nil, int64(pid), 10)
	path := func(file string) []byte {
		r.pathBuf = append(append(r.pathBuf[:0], name...), file...)
		return r.pathBuf
	}
	gone := func(err error) (Proc, bool, error) {
		if isVanished(err) {
			return Proc{}, false, nil
		}
		return Proc{}, false, fmt.Errorf("monitor: reading process %d: %w", pid, err)
	}

	n, err := readFileAt(dirfd, path("/stat\x00"), r.statBuf)
	if err != nil {
		return gone(err)
	}
	var st procStat
	if !parseStat(r.statBuf[:n], &st, false) {
		if n == 0 {
			return Proc{}, false, nil
		}
		return Proc{}, false, fmt.Errorf("monitor: process %d: %w", pid, errBadStat)
	}
	p := Proc{
		PID:        pid,
		StartTicks: st.start,
		StartTime:  s.startTime(&st),
		Comm:       string(st.comm),
		State:      st.state,
		Zombie:     st.state == 'Z',
	}
	// A zombie has no executable or command line left: its comm is all
	// there is, as a scan would name it. Otherwise the executable and the
	// command line are read when a glob in force looks at them, or to
	// complete a comm the kernel may have cut (see processName): with name
	// globs only, most execs cost one read.
	cut := len(p.Comm) >= commLen
	if st.flags&pfKthread == 0 && !p.Zombie && (cut || need.Has(pattern.Exe) || need.Has(pattern.Cmdline)) {
		// Through procfs, as a scan reads them: its reads allocate
		// their own buffers and take no lock of the scan's.
		proc, err := s.fs.Proc(pid)
		if err != nil {
			return gone(err)
		}
		if cut || need.Has(pattern.Exe) {
			// Gone (ENOENT) or another user's (EACCES): unknown.
			exe, _ := proc.Executable()
			p.Exe = cleanExe(exe)
		}
		if cut || need.Has(pattern.Cmdline) {
			cmdline, err := proc.CmdLine()
			if err != nil && !isPermission(err) {
				return gone(err)
			}
			p.Cmdline = cmdline
		}
	}
	p.Name = processName(p.Comm, p.Exe, p.Cmdline)
	if need.Has(pattern.User) {
		if n, err := readHeadAt(dirfd, path("/status\x00"), r.fileBuf); err == nil {
			p.User, _ = s.userOf(r.fileBuf[:n])
		}
	}
	if need.Has(pattern.Unit) || need.Has(pattern.Cgroup) {
		if file, err := os.ReadFile(filepath.Join(s.root, string(name), "cgroup")); err == nil {
			p.Cgroup, p.Unit = cgroupAndUnit(file)
		}
	}
	return p, true, nil
}
