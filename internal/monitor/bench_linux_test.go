//go:build linux

package monitor

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"testing"
	"time"

	"github.com/prometheus/procfs"
	"golang.org/x/sys/unix"

	"github.com/procwatch/procwatch/internal/monitor/proctest"
)

// benchGlobs mixes the three kinds of pattern; only the nginx workers that
// manyProcs puts at every 100th pid match (1%).
var benchGlobs = []string{"nginx", "kube-controller-manager*", "/usr/sbin/sshd", "cmdline:*--role=db*", "postgres"}

// BenchmarkScan measures a steady-state scan of a generated tree of 2,000
// and 10,000 processes beside the floor, in the same run: the floor reads
// the directory and one stat file per process with the very syscalls the
// scan uses, and nothing else. scan/floor is the cost of everything the
// monitor adds (parsing, cache lookups, matching, details of the 1% that
// match). Also shown for context: a cold scan (every identity read, as on
// the agent's first scan), the same floor through os.ReadDir and
// os.ReadFile, and prometheus/procfs listing with Stat per process.
//
// allocs/proc is allocations per scan divided by the number of processes,
// matched ones (and their io, fd and snapshot allocations) included.
func BenchmarkScan(b *testing.B) {
	for _, n := range []int{2000, 10000} {
		root := benchTree(b, n)
		m, errs := Compile(benchGlobs)
		if errs != nil {
			b.Fatal(errs)
		}
		var floorNs, scanNs float64
		b.Run(fmt.Sprintf("procs=%d/floor", n), func(b *testing.B) {
			dirBuf, statBuf := make([]byte, 32<<10), make([]byte, 4<<10)
			pathBuf := make([]byte, 0, 64)
			measure(b, n, func() {
				if got := floorScan(b, root, dirBuf, statBuf, pathBuf); got != n {
					b.Fatalf("floor read %d stat files, want %d", got, n)
				}
			})
			floorNs = float64(b.Elapsed().Nanoseconds()) / float64(b.N)
		})
		b.Run(fmt.Sprintf("procs=%d/scan", n), func(b *testing.B) {
			s := warmSource(b, root, m)
			ctx := context.Background()
			measure(b, n, func() {
				snap, err := s.Scan(ctx, m)
				if err != nil || snap.Scanned != n || len(snap.Procs) != n/100 {
					b.Fatalf("scan: %d scanned, %d matched, %v", snap.Scanned, len(snap.Procs), err)
				}
			})
			scanNs = float64(b.Elapsed().Nanoseconds()) / float64(b.N)
		})
		if floorNs > 0 && scanNs > 0 {
			b.Logf("procs=%d: scan/floor = %.2f", n, scanNs/floorNs)
		}
		b.Run(fmt.Sprintf("procs=%d/scan-nomatch", n), func(b *testing.B) {
			// No glob matches: allocs/op is what unmatched processes cost
			// (nothing) plus the per-scan constant.
			none, _ := Compile([]string{"no-such-process", "/no/such/exe", "cmdline:no such command"})
			s := warmSource(b, root, none)
			ctx := context.Background()
			measure(b, n, func() {
				if snap, err := s.Scan(ctx, none); err != nil || snap.Scanned != n || len(snap.Procs) != 0 {
					b.Fatalf("scan: %d scanned, %d matched, %v", snap.Scanned, len(snap.Procs), err)
				}
			})
		})
		b.Run(fmt.Sprintf("procs=%d/scan-cold", n), func(b *testing.B) {
			ctx := context.Background()
			measure(b, n, func() {
				s, err := NewLinuxSource(root)
				if err != nil {
					b.Fatal(err)
				}
				if _, err := s.Scan(ctx, m); err != nil {
					b.Fatal(err)
				}
			})
		})
		b.Run(fmt.Sprintf("procs=%d/floor-os-readfile", n), func(b *testing.B) {
			measure(b, n, func() {
				entries, err := os.ReadDir(root)
				if err != nil {
					b.Fatal(err)
				}
				for _, e := range entries {
					if _, ok := parsePID([]byte(e.Name())); ok {
						if _, err := os.ReadFile(filepath.Join(root, e.Name(), "stat")); err != nil {
							b.Fatal(err)
						}
					}
				}
			})
		})
		b.Run(fmt.Sprintf("procs=%d/procfs-stat", n), func(b *testing.B) {
			fs, err := procfs.NewFS(root)
			if err != nil {
				b.Fatal(err)
			}
			measure(b, n, func() {
				procs, err := fs.AllProcs()
				if err != nil {
					b.Fatal(err)
				}
				for _, p := range procs {
					if _, err := p.Stat(); err != nil {
						b.Fatal(err)
					}
				}
			})
		})
	}
}

// BenchmarkScanVsFloor gives the scan/floor ratio robustly on a busy
// machine: each iteration runs the floor and the scan back to back (in
// alternating order) on one locked OS thread and measures the CPU time each
// takes on it (CLOCK_THREAD_CPUTIME_ID), so that time spent waiting for a
// core, and any slowdown affecting both, cancels out of the ratio. Wall
// times are reported as well. procs=host scans this host's real /proc,
// where the kernel renders each stat file and the ratio is lower.
func BenchmarkScanVsFloor(b *testing.B) {
	for _, n := range []int{2000, 10000} {
		b.Run(fmt.Sprintf("procs=%d", n), func(b *testing.B) {
			pairedScan(b, benchTree(b, n))
		})
	}
	b.Run("procs=host", func(b *testing.B) { pairedScan(b, "/proc") })
}

func pairedScan(b *testing.B, root string) {
	m, _ := Compile(benchGlobs)
	s := warmSource(b, root, m)
	ctx := context.Background()
	dirBuf, statBuf := make([]byte, 32<<10), make([]byte, 4<<10)
	pathBuf := make([]byte, 0, 64)
	runtime.LockOSThread()
	defer runtime.UnlockOSThread()

	var floorCPU, scanCPU, floorWall, scanWall time.Duration
	var scanMallocs uint64
	var ms runtime.MemStats
	procs := 0
	floor := func() {
		c0, w0 := threadCPU(b), time.Now()
		floorScan(b, root, dirBuf, statBuf, pathBuf)
		floorCPU += threadCPU(b) - c0
		floorWall += time.Since(w0)
	}
	scan := func() {
		runtime.ReadMemStats(&ms)
		m0 := ms.Mallocs
		c0, w0 := threadCPU(b), time.Now()
		snap, err := s.Scan(ctx, m)
		if err != nil {
			b.Fatal(err)
		}
		scanCPU += threadCPU(b) - c0
		scanWall += time.Since(w0)
		runtime.ReadMemStats(&ms)
		scanMallocs += ms.Mallocs - m0
		procs += snap.Scanned
	}
	iters := 0
	for b.Loop() {
		if iters%2 == 0 {
			floor()
			scan()
		} else {
			scan()
			floor()
		}
		iters++
	}
	per := func(d time.Duration) float64 { return float64(d.Nanoseconds()) / float64(iters) }
	b.ReportMetric(per(floorCPU), "floor-cpu-ns/op")
	b.ReportMetric(per(scanCPU), "scan-cpu-ns/op")
	b.ReportMetric(per(scanCPU)/per(floorCPU), "scan/floor-cpu")
	b.ReportMetric(per(scanWall)/per(floorWall), "scan/floor-wall")
	b.ReportMetric(float64(scanMallocs)/float64(procs), "scan-allocs/proc")
	b.ReportMetric(float64(procs)/float64(iters), "procs")
}

// benchTree writes manyProcs(n, 100) as a procfs tree for a benchmark.
func benchTree(b *testing.B, n int) string {
	root := filepath.Join(b.TempDir(), "proc")
	if err := proctest.WriteProcRoot(root, manyProcs(n, 100)); err != nil {
		b.Fatal(err)
	}
	return root
}

// warmSource returns a source on root that has scanned it twice with m
// (each process's first and second sighting), as in steady state.
func warmSource(b *testing.B, root string, m *Matcher) *LinuxSource {
	s, err := NewLinuxSource(root)
	if err != nil {
		b.Fatal(err)
	}
	for range 2 {
		if _, err := s.Scan(context.Background(), m); err != nil {
			b.Fatal(err)
		}
	}
	return s
}

// threadCPU is the CPU time consumed so far by the calling OS thread.
func threadCPU(b *testing.B) time.Duration {
	var ts unix.Timespec
	if err := unix.ClockGettime(unix.CLOCK_THREAD_CPUTIME_ID, &ts); err != nil {
		b.Fatal(err)
	}
	return time.Duration(ts.Nano())
}

// measure runs fn b.N times and reports, beside ns/op and allocs/op,
// the figures per process.
func measure(b *testing.B, procs int, fn func()) {
	b.ReportAllocs()
	var before, after runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&before)
	b.ResetTimer()
	for b.Loop() {
		fn()
	}
	b.StopTimer()
	runtime.ReadMemStats(&after)
	ops := float64(b.N) * float64(procs)
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/ops, "ns/proc")
	b.ReportMetric(float64(after.Mallocs-before.Mallocs)/ops, "allocs/proc")
}

// floorScan is the least any scan must do: list the directory and read one
// stat file per process, with the same raw reads as LinuxSource.
func floorScan(b *testing.B, root string, dirBuf, statBuf, pathBuf []byte) int {
	dirfd, err := openDir(root)
	if err != nil {
		b.Fatal(err)
	}
	defer func() { _ = closeFD(dirfd) }()
	read := 0
	visit := func(name []byte) {
		if _, ok := parsePID(name); !ok {
			return
		}
		path := append(pathBuf[:0], name...)
		path = append(path, "/stat\x00"...)
		if _, err := readFileAt(dirfd, path, statBuf); err == nil {
			read++
		}
	}
	for {
		more, err := readDirents(dirfd, dirBuf, visit)
		if err != nil {
			b.Fatal(err)
		}
		if !more {
			return read
		}
	}
}
