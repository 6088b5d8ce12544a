//go:build linux

package monitor

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"testing"
)

// BenchmarkScanSelectors shows what a user: or cgroup: glob costs beside a
// name glob, on a generated tree of 2,000 processes (every 100th one of
// uid 33 in nginx.service) and on this host's /proc:
//
//   - steady: a warmed source, as between two list changes. The user and
//     cgroup are kept per process, so the rows should be alike.
//   - cold: a new source each time, every identity read, as on the agent's
//     first scan or when a list with a selector replaces one without: the
//     difference to the name row is the price of reading status (user) or
//     cgroup (unit and cgroup path) once per process.
func BenchmarkScanSelectors(b *testing.B) {
	const n = 2000
	tree := benchTree(b, n)
	for i, p := range manyProcs(n, 100) {
		uid, cgroup := 1000+i%50, fmt.Sprintf("0::/user.slice/user-%d.slice/session-%d.scope\n", 1000+i%50, i%20)
		if i%100 == 0 {
			uid, cgroup = 33, "0::/system.slice/nginx.service\n"
		}
		dir := filepath.Join(tree, strconv.Itoa(p.PID))
		writeBenchFile(b, filepath.Join(dir, "status"), statusOf(p.Comm, uid))
		writeBenchFile(b, filepath.Join(dir, "cgroup"), cgroup)
	}
	lists := []struct {
		name  string
		globs []string
	}{
		{"name", []string{"nginx"}},
		{"user", []string{"user:www-data"}},
		{"cgroup", []string{"cgroup:/system.slice/nginx.service"}},
		{"user+unit", []string{"user:www-data", "unit:nginx.service"}},
	}
	for _, root := range []struct{ name, path string }{{fmt.Sprintf("procs=%d", n), tree}, {"procs=host", "/proc"}} {
		procs := n
		if root.path == "/proc" {
			s := newBenchSource(b, root.path)
			snap, err := s.Scan(context.Background(), nil)
			if err != nil {
				b.Fatal(err)
			}
			procs = snap.Scanned
		}
		for _, l := range lists {
			m, errs := Compile(l.globs)
			if errs != nil {
				b.Fatal(errs)
			}
			b.Run(root.name+"/steady/"+l.name, func(b *testing.B) {
				s := warmSource(b, root.path, m)
				measure(b, procs, func() {
					if _, err := s.Scan(context.Background(), m); err != nil {
						b.Fatal(err)
					}
				})
			})
			b.Run(root.name+"/cold/"+l.name, func(b *testing.B) {
				measure(b, procs, func() {
					s := newBenchSource(b, root.path)
					if _, err := s.Scan(context.Background(), m); err != nil {
						b.Fatal(err)
					}
				})
			})
		}
	}
}

func newBenchSource(b *testing.B, root string) *LinuxSource {
	s, err := NewLinuxSource(root)
	if err != nil {
		b.Fatal(err)
	}
	s.sel.users.lookup = benchPasswd
	return s
}

// benchPasswd stands for a passwd database that is already in memory: the
// lookups are once per uid, not per process, and are measured apart.
func benchPasswd(uid string) (string, error) {
	if uid == "33" {
		return "www-data", nil
	}
	return "u" + uid, nil
}

func writeBenchFile(b *testing.B, path, content string) {
	b.Helper()
	if err := os.WriteFile(path, []byte(content), 0o644); err != nil {
		b.Fatal(err)
	}
}

// BenchmarkUserLookup is the cost of one uid-to-name lookup through
// os/user, the price of the first process of each uid (and of a nameless
// uid every userRetry): with cgo, the C library's getpwuid_r; without (the
// static build of the container image), Go reading /etc/passwd.
func BenchmarkUserLookup(b *testing.B) {
	for _, uid := range []string{"0", "65534", "4242"} {
		b.Run("uid="+uid, func(b *testing.B) {
			for b.Loop() {
				_, _ = lookupUser(uid)
			}
		})
	}
}
