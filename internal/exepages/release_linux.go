package exepages

import (
	"fmt"
	"os"

	"golang.org/x/sys/unix"
)

// Release drops the resident pages of the executable's read-only file
// mappings from the process (see the package comment for which mappings
// and why that is safe). It returns what it released; an error means
// /proc/self could not be read or the kernel refused, and nothing that was
// not released is harmed.
func Release() (Released, error) {
	exe, err := os.Readlink("/proc/self/exe")
	if err != nil {
		return Released{}, fmt.Errorf("exepages: %w", err)
	}
	smaps, err := os.ReadFile("/proc/self/smaps")
	if err != nil {
		return Released{}, fmt.Errorf("exepages: %w", err)
	}
	maps, err := parseSmaps(smaps)
	if err != nil {
		return Released{}, err
	}
	var r Released
	for _, m := range releasable(maps, exe) {
		if _, _, errno := unix.Syscall(unix.SYS_MADVISE, m.start, m.end-m.start, unix.MADV_DONTNEED); errno != 0 {
			return r, fmt.Errorf("exepages: madvise %#x-%#x: %w", m.start, m.end, errno)
		}
		r.Mappings++
		r.Bytes += m.rss
	}
	return r, nil
}
