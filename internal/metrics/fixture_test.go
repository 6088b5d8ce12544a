package metrics

import (
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/procwatch/procwatch/internal/monitor/proctest"
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
	proctest.CopyTree(t, procFixture, dst)
	return dst
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
	proctest.CopyTree(t, from, to)
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
