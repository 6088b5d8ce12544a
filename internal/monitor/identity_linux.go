//go:build linux

package monitor

import (
	"errors"
	"os"
	"path/filepath"

	"golang.org/x/sys/unix"

	"github.com/procwatch/procwatch/internal/pattern"
)

// selectorReader holds what a LinuxSource needs to read the user, unit and
// cgroup of processes: the uid-to-name cache and the read buffers.
//
// The three are read once per process identity (when it is first seen,
// on its second sighting and after an exec, as the name and command line
// are, see procCache.lookup) and only while a glob of their kind is in
// force: a process's cgroup and user are fixed at those moments for the
// rest of its life. That misses a process that moves to another cgroup
// later (a runtime placing a process it started, systemd-run --scope
// adopting one) or that calls setuid long after it started (daemons
// usually drop privileges at once, before the second sighting). Reading
// them on every scan would instead add two file reads per process to every
// scan, tripling the cost of the scan for what rarely changes: the agent
// trades that late change for a cheap scan, and a restart of the process
// (or of the agent) shows the new value.
type selectorReader struct {
	users     userNames
	statusBuf []byte // the head of a status file, where the Uid line is
	cgroupBuf []byte
}

// readSelectors reads into the entry's target the user, unit and cgroup
// that need asks for and the target lacks. A process that vanished, or
// whose files may not be read, is left unknown there, which matches
// nothing; only a file that was read but not understood makes it return
// false, for the scan to count.
func (s *LinuxSource) readSelectors(dirfd int, name []byte, need pattern.Kinds, e *entry) bool {
	t := &e.target
	missing := need &^ t.read
	ok := true
	if missing.Has(pattern.User) {
		t.read = t.read.With(pattern.User)
		if s.sel.statusBuf == nil {
			s.sel.statusBuf = make([]byte, 1<<10)
		}
		n, err := readHeadAt(dirfd, s.path(name, "/status\x00"), s.sel.statusBuf)
		switch {
		case err == nil && n > 0:
			user, found := s.userOf(s.sel.statusBuf[:n])
			if !found {
				ok = false
				break
			}
			t.User = user
		case err != nil && !isVanished(err) && !isPermission(err):
			ok = false
		}
	}
	if missing.Has(pattern.Unit) || missing.Has(pattern.Cgroup) {
		t.read = t.read.With(pattern.Unit).With(pattern.Cgroup)
		if s.sel.cgroupBuf == nil {
			s.sel.cgroupBuf = make([]byte, 8<<10)
		}
		var file []byte
		n, err := readFileAt(dirfd, s.path(name, "/cgroup\x00"), s.sel.cgroupBuf)
		if errors.Is(err, errFileTooLong) {
			// Long kubepods paths in each of a dozen v1 hierarchies.
			file, err = os.ReadFile(filepath.Join(s.root, string(name), "cgroup"))
		} else {
			file = s.sel.cgroupBuf[:n]
		}
		switch {
		case err == nil:
			t.Cgroup, t.Unit = cgroupAndUnit(file)
		case !isVanished(err) && !isPermission(err):
			ok = false
		}
	}
	return ok
}

// userOf names the real user of the process whose status file begins
// with head: found is false when head has no Uid line.
func (s *LinuxSource) userOf(head []byte) (user string, found bool) {
	uid, found := parseRealUID(head)
	if !found {
		return "", false
	}
	return s.sel.users.name(uid), true
}

// readHeadAt reads the beginning of the file at pathz (see openAt) into buf
// with a single read, however long the file is.
func readHeadAt(dirfd int, pathz []byte, buf []byte) (int, error) {
	fd, err := openAt(dirfd, pathz, unix.O_RDONLY)
	if err != nil {
		return 0, err
	}
	defer func() { _ = unix.Close(fd) }()
	for {
		n, err := unix.Read(fd, buf)
		if !errors.Is(err, unix.EINTR) {
			return n, err
		}
	}
}
