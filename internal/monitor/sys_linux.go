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

// readFileAt reads the file at pathz, a NUL-terminated path relative to the
// directory dirfd, into buf with a single read, and returns the byte count.
// One read is enough for a /proc stat file, which the kernel renders whole
// on the first read of a large enough buffer (and for a small regular file).
// It allocates nothing: unix.Openat would copy the path into a new
// NUL-terminated slice on every call.
func readFileAt(dirfd int, pathz []byte, buf []byte) (int, error) {
	var fd uintptr
	for {
		r, _, errno := unix.Syscall6(unix.SYS_OPENAT, uintptr(dirfd),
			uintptr(unsafe.Pointer(&pathz[0])), uintptr(unix.O_RDONLY|unix.O_CLOEXEC), 0, 0, 0)
		if errno == unix.EINTR {
			continue
		}
		if errno != 0 {
			return 0, errno
		}
		fd = r
		break
	}
	var n int
	var err error
	for {
		n, err = unix.Read(int(fd), buf)
		if !errors.Is(err, unix.EINTR) {
			break
		}
	}
	_ = unix.Close(int(fd))
	if err != nil {
		return 0, err
	}
	if n >= len(buf) {
		return 0, errFileTooLong
	}
	return n, nil
}

var errFileTooLong = errors.New("monitor: file larger than the read buffer")

func closeFD(fd int) error { return unix.Close(fd) }
