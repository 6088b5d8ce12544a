package bench

import (
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
)

// fixtureBootTime is the btime of generated trees.
const fixtureBootTime = 1700000000

// fakeProc is one process of a generated procfs tree.
type fakeProc struct {
	pid            int
	comm           string
	utime, stime   uint64
	threads        int
	start          uint64
	exe            string
	cmdline        []string
	readBytes, fds int
}

// statLine renders /proc/PID/stat as the kernel does (52 fields).
func (p fakeProc) statLine() string {
	return fmt.Sprintf("%d (%s) S 1 %d %d 0 -1 %d 100 0 0 0 %d %d 0 0 20 0 %d 0 %d %d %d "+
		"18446744073709551615 1 1 0 0 0 0 0 0 0 0 0 0 17 0 0 0 0 0 0 0 0 0 0 0 0 0 0\n",
		p.pid, p.comm, p.pid, p.pid, 0x400000, p.utime, p.stime, p.threads, p.start, 10_000_000, 500)
}

func (p fakeProc) write(root string) error {
	dir := filepath.Join(root, strconv.Itoa(p.pid))
	if err := os.MkdirAll(filepath.Join(dir, "fd"), 0o755); err != nil {
		return err
	}
	io := fmt.Sprintf("rchar: %d\nwchar: 100\nsyscr: 10\nsyscw: 10\nread_bytes: %d\nwrite_bytes: 0\ncancelled_write_bytes: 0\n",
		p.readBytes+100, p.readBytes)
	files := map[string]string{
		"stat":    p.statLine(),
		"cmdline": strings.Join(p.cmdline, "\x00") + "\x00",
		"io":      io,
	}
	for name, content := range files {
		if err := os.WriteFile(filepath.Join(dir, name), []byte(content), 0o644); err != nil {
			return err
		}
	}
	if err := os.Symlink(p.exe, filepath.Join(dir, "exe")); err != nil {
		return err
	}
	for i := range p.fds {
		if err := os.Symlink("/dev/null", filepath.Join(dir, "fd", strconv.Itoa(i))); err != nil {
			return err
		}
	}
	return nil
}

// fixtureGlobs are the globs of the fixture scans: the three kinds of
// pattern, of which only the nginx workers at every 100th process match.
var fixtureGlobs = []string{"nginx", "kube-controller-manager*", "/usr/sbin/sshd", "cmdline:*--role=db*", "postgres"}

// writeFixture writes a procfs tree of n processes under root, shaped as
// internal/monitor's benchmark tree (manyProcs there, which is not
// exported): every 100th process is an nginx worker that fixtureGlobs
// match (1%), every tenth has a comm cut to 15 bytes, the others are
// workers no glob matches; plus the global stat file the source reads the
// boot time from.
func writeFixture(root string, n int) error {
	if err := os.MkdirAll(root, 0o755); err != nil {
		return err
	}
	stat := fmt.Sprintf("cpu  3692 0 1479 128403 469 0 105 5 0 0\nintr 0\nctxt 1000\nbtime %d\nprocesses 5000\n", fixtureBootTime)
	if err := os.WriteFile(filepath.Join(root, "stat"), []byte(stat), 0o644); err != nil {
		return err
	}
	if err := os.WriteFile(filepath.Join(root, "uptime"), []byte("5000.00 9000.00\n"), 0o644); err != nil {
		return err
	}
	for i := range n {
		p := fakeProc{pid: 1000 + i, utime: uint64(i), stime: uint64(i / 2), threads: 1 + i%4, start: uint64(10_000 + i), readBytes: 4096, fds: 3}
		switch {
		case i%100 == 0:
			p.comm, p.exe, p.cmdline = "nginx", "/usr/sbin/nginx", []string{"nginx: worker process"}
		case i%10 == 1:
			p.comm = "kube-apiserver-"
			p.exe = fmt.Sprintf("/usr/local/bin/kube-apiserver-proxy-%d", i)
			p.cmdline = []string{p.exe, "--secure-port=6443", "--v=2"}
		default:
			p.comm = fmt.Sprintf("worker-%d", i)
			p.exe = fmt.Sprintf("/opt/app/bin/worker-%d", i)
			p.cmdline = []string{p.exe, "--queue", strconv.Itoa(i % 7)}
		}
		if err := p.write(root); err != nil {
			return err
		}
	}
	return nil
}
