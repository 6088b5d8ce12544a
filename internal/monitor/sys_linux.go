//go:build linux

package monitor

import (
	"bytes"
	"encoding/binary"
	"errors"
	"unsafe"

	"golang.org/x/sys/unix"
)

// These are the raw reads of the hot path. os.ReadDir and os.ReadFile would
// allocate a DirEntry and a name string per entry and an *os.File, a path
// string and a result slice per file, and add an fstat and a poller
// registration per file: several times the budget for a process nobody
// watches. Here a scan reuses one directory buffer and one file buffer.

// openDir opens a directory for readDirents.
func openDir(path string) (int, error) {
	for {
		fd, err := unix.Open(path, unix.O_RDONLY|unix.O_DIRECTORY|unix.O_CLOEXEC, 0)
		if errors.Is(err, unix.EINTR) {
			continue
		}
		return fd, err
	}
}

// readDirents reads the next batch of entries of the directory fd into buf
// and calls fn with each entry name (a view into buf). It returns false at
// the end of the directory.
func readDirents(fd int, buf []byte, fn func(name []byte)) (bool, error) {
	var n int
	var err error
	for {
		n, err = unix.Getdents(fd, buf)
		if !errors.Is(err, unix.EINTR) {
			break
		}
	}
	if err != nil {
		return false, err
	}
	if n <= 0 {
		return false, nil
	}
	// struct linux_dirent64: ino u64, off s64, reclen u16, type u8, name.
	const nameOff = 19
	for off := 0; off+nameOff <= n; {
		reclen := int(binary.NativeEndian.Uint16(buf[off+16:]))
		if reclen <= nameOff || off+reclen > n {
			break // a malformed record: stop rather than read past it
		}
		name := buf[off+nameOff : off+reclen]
		if i := bytes.IndexByte(name, 0); i >= 0 {
			name = name[:i]
		}
		off += reclen
		fn(name)
	}
	return true, nil
}

// openAt opens pathz, a NUL-terminated path relative to the directory
// dirfd. It allocates nothing: unix.Openat would copy the path into a new
// NUL-terminated slice on every call.
func openAt(dirfd int, pathz []byte, flags int) (int, error) {
	for {
		r, _, errno := unix.Syscall6(unix.SYS_OPENAT, uintptr(dirfd),
			uintptr(unsafe.Pointer(&pathz[0])), uintptr(flags|unix.O_CLOEXEC), 0, 0, 0)
		switch errno {
		case 0:
			return int(r), nil
		case unix.EINTR:
			continue
		default:
			return -1, errno
		}
	}
}

// readFileAt reads the file at pathz (see openAt) into buf with a single
// read, and returns the byte count. One read is enough for the small /proc
// files read here, which the kernel renders whole on the first read of a
// large enough buffer (as a regular file is read whole).
func readFileAt(dirfd int, pathz []byte, buf []byte) (int, error) {
	fd, err := openAt(dirfd, pathz, unix.O_RDONLY)
	if err != nil {
		return 0, err
	}
	var n int
	for {
		n, err = unix.Read(fd, buf)
		if !errors.Is(err, unix.EINTR) {
			break
		}
	}
	_ = unix.Close(fd)
	if err != nil {
		return 0, err
	}
	if n >= len(buf) {
		return 0, errFileTooLong
	}
	return n, nil
}

// countDirAt counts the entries, "." and ".." aside, of the directory at
// pathz (see openAt), reading with buf. On a real procfs of Linux 6.2 or
// later the size of /proc/PID/fd is its entry count, which saves listing
// it; sizeIsCount says whether to trust that.
func countDirAt(dirfd int, pathz []byte, buf []byte, sizeIsCount bool) (int, error) {
	fd, err := openAt(dirfd, pathz, unix.O_RDONLY|unix.O_DIRECTORY)
	if err != nil {
		return 0, err
	}
	defer func() { _ = unix.Close(fd) }()
	if sizeIsCount {
		var st unix.Stat_t
		if err := unix.Fstat(fd, &st); err == nil && st.Size > 0 {
			return int(st.Size), nil
		}
	}
	count := 0
	for {
		more, err := readDirents(fd, buf, func(name []byte) {
			if !(len(name) == 1 && name[0] == '.') && !(len(name) == 2 && name[0] == '.' && name[1] == '.') {
				count++
			}
		})
		if err != nil {
			return 0, err
		}
		if !more {
			return count, nil
		}
	}
}

// isRealProcfs tells whether path is a mounted procfs rather than a copy
// (a fixture tree), whose directory sizes mean nothing.
func isRealProcfs(path string) bool {
	var st unix.Statfs_t
	return unix.Statfs(path, &st) == nil && st.Type == unix.PROC_SUPER_MAGIC
}

func closeFD(fd int) error { return unix.Close(fd) }
