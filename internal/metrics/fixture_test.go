package metrics

import (
	"io/fs"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
)

// procFixture is internal/monitor's fixture tree (its fixture_linux_test.go
// documents every process and keeps the tree in step with it). The tests
// here copy it to a temporary directory and change it between scans: a
// process exits, one starts, one burns CPU.
const procFixture = "../monitor/testdata/proc"

// copyProcTree copies the fixture tree to a temporary directory a test may
// change.
func copyProcTree(t *testing.T) string {
	t.Helper()
	dst := filepath.Join(t.TempDir(), "proc")
	copyTree(t, procFixture, dst)
	return dst
}

// copyTree copies files, directories and symlinks (the exe links and fd
// entries, whose targets need not exist) from src to dst.
func copyTree(t *testing.T, src, dst string) {
	t.Helper()
	err := filepath.WalkDir(src, func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(src, path)
		target := filepath.Join(dst, rel)
		switch {
		case d.IsDir():
			return os.MkdirAll(target, 0o755)
		case d.Type()&fs.ModeSymlink != 0:
			link, err := os.Readlink(path)
			if err != nil {
				return err
			}
			return os.Symlink(link, target)
		default:
			data, err := os.ReadFile(path)
			if err != nil {
				return err
			}
			return os.WriteFile(target, data, 0o644)
		}
	})
	if err != nil {
		t.Fatal(err)
	}
}

// setStatCPU rewrites utime and stime (fields 14 and 15, in clock ticks) of
// root/PID/stat, as the kernel's accounting would between two scans.
func setStatCPU(t *testing.T, root string, pid int, utime, stime uint64) {
	t.Helper()
	path := filepath.Join(root, strconv.Itoa(pid), "stat")
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	s := string(data)
	end := strings.LastIndexByte(s, ')')
	fields := strings.Fields(s[end+1:]) // fields[0] is field 3 (state)
	fields[14-3] = strconv.FormatUint(utime, 10)
	fields[15-3] = strconv.FormatUint(stime, 10)
	if err := os.WriteFile(path, []byte(s[:end+1]+" "+strings.Join(fields, " ")+"\n"), 0o644); err != nil {
		t.Fatal(err)
	}
}

// startProc clones process src of root as a new process pid that started
// at startTicks, the way a fork+exec of the same program looks in /proc.
func startProc(t *testing.T, root string, src, pid int, startTicks uint64) {
	t.Helper()
	from, to := filepath.Join(root, strconv.Itoa(src)), filepath.Join(root, strconv.Itoa(pid))
	copyTree(t, from, to)
	path := filepath.Join(to, "stat")
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	s := string(data)
	open, end := strings.IndexByte(s, '('), strings.LastIndexByte(s, ')')
	fields := strings.Fields(s[end+1:])
	fields[22-3] = strconv.FormatUint(startTicks, 10)
	line := strconv.Itoa(pid) + " " + s[open:end+1] + " " + strings.Join(fields, " ") + "\n"
	if err := os.WriteFile(path, []byte(line), 0o644); err != nil {
		t.Fatal(err)
	}
}

// exitProc removes a process from the tree, as its exit does.
func exitProc(t *testing.T, root string, pid int) {
	t.Helper()
	if err := os.RemoveAll(filepath.Join(root, strconv.Itoa(pid))); err != nil {
		t.Fatal(err)
	}
}
