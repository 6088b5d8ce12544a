package bench

import (
	"bytes"
	"encoding/binary"
	"errors"
	"unsafe"

	"golang.org/x/sys/unix"
)

// floorScanner is the least any process scan must do: list the procfs
// root and read one stat file per process, with the same raw system calls
// internal/monitor's LinuxSource uses (getdents64 into one reused buffer,
// openat/read/close into another), and nothing else: no parsing, no cache,
// no matching.
type floorScanner struct {
	dirBuf, statBuf, statusBuf, pathBuf []byte
	// limitsRead holds the pids whose limits file was read: like the
	// agent, which caches the fd limit per process, the floor reads it
	// once per process.
	limitsRead map[string]struct{}
}

func newFloorScanner() *floorScanner {
	return &floorScanner{dirBuf: make([]byte, 32<<10), statBuf: make([]byte, 4<<10), statusBuf: make([]byte, 16<<10),
		pathBuf: make([]byte, 0, 64), limitsRead: map[string]struct{}{}}
}

// scan lists root and reads every process's stat file; it returns how many
// it read. With details, it also reads the io and status files and opens
// the fd directory (one fstat, whose size is the fd count on Linux 6.2 and
// later) of every process for which details returns true, given the stat
// text, and its limits file the first time it sees the process: what
// internal/monitor's LinuxSource reads for a matched process (details in
// source_linux.go), with no parsing.
func (f *floorScanner) scan(root string, details func(stat []byte) bool) (int, error) {
	dirfd, err := unix.Open(root, unix.O_RDONLY|unix.O_DIRECTORY|unix.O_CLOEXEC, 0)
	if err != nil {
		return 0, err
	}
	defer func() { _ = unix.Close(dirfd) }()
	read := 0
	for {
		n, err := unix.Getdents(dirfd, f.dirBuf)
		if errors.Is(err, unix.EINTR) {
			continue
		}
		if err != nil {
			return read, err
		}
		if n <= 0 {
			return read, nil
		}
		const nameOff = 19 // linux_dirent64: ino, off, reclen, type, name
		for off := 0; off+nameOff <= n; {
			reclen := int(binary.NativeEndian.Uint16(f.dirBuf[off+16:]))
			if reclen <= nameOff || off+reclen > n {
				break
			}
			name := f.dirBuf[off+nameOff : off+reclen]
			if i := bytes.IndexByte(name, 0); i >= 0 {
				name = name[:i]
			}
			off += reclen
			if len(name) == 0 || name[0] < '0' || name[0] > '9' {
				continue
			}
			m, err := f.readAt(dirfd, name, "/stat\x00", f.statBuf, 0)
			if err != nil {
				continue // vanished
			}
			read++
			if details != nil && details(f.statBuf[:m]) {
				var ioBuf [1024]byte
				_, _ = f.readAt(dirfd, name, "/io\x00", ioBuf[:], 0)
				_, _ = f.readAt(dirfd, name, "/status\x00", f.statusBuf, 0)
				if fd, err := f.openAt(dirfd, name, "/fd\x00", unix.O_RDONLY|unix.O_DIRECTORY); err == nil {
					var st unix.Stat_t
					_ = unix.Fstat(fd, &st)
					_ = unix.Close(fd)
				}
				if _, ok := f.limitsRead[string(name)]; !ok {
					_, _ = f.readAt(dirfd, name, "/limits\x00", f.statusBuf, 0)
					f.limitsRead[string(name)] = struct{}{}
				}
			}
		}
	}
}

// openAt opens <pid><file> relative to dirfd without allocating.
func (f *floorScanner) openAt(dirfd int, pid []byte, file string, flags int) (int, error) {
	f.pathBuf = append(append(f.pathBuf[:0], pid...), file...)
	for {
		r, _, errno := unix.Syscall6(unix.SYS_OPENAT, uintptr(dirfd), uintptr(unsafe.Pointer(&f.pathBuf[0])),
			uintptr(flags|unix.O_CLOEXEC), 0, 0, 0)
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

// readAt reads <pid><file> into buf with one read.
func (f *floorScanner) readAt(dirfd int, pid []byte, file string, buf []byte, flags int) (int, error) {
	fd, err := f.openAt(dirfd, pid, file, unix.O_RDONLY|flags)
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
	return n, err
}
