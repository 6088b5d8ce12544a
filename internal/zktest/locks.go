package zktest

import (
	"errors"
	"fmt"
	"math/rand/v2"
	"net"
	"os"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"
)

// Clusters coordinate through flock(2) on files in one directory per user:
// flock conflicts between two opens of a file in one process (parallel
// subtests) as well as across processes (the test binaries of go test ./...),
// and the kernel drops a lock when its holder dies, so a crashed test binary
// leaves nothing stale behind. The files themselves stay: deleting a lock
// file while another process opens it would let both hold "the" lock.

// lockDir returns the directory of the lock files, creating it if needed.
func lockDir() (string, error) {
	dir := filepath.Join(os.TempDir(), fmt.Sprintf("zktest-%d", os.Getuid()))
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return "", fmt.Errorf("zktest: lock directory: %w", err)
	}
	return dir, nil
}

// lockFile takes an exclusive flock on dir/name, waiting for it if wait is
// set. Without wait the error wraps EWOULDBLOCK when someone else holds it.
func lockFile(dir, name string, wait bool) (*os.File, error) {
	f, err := os.OpenFile(filepath.Join(dir, name), os.O_RDWR|os.O_CREATE, 0o644)
	if err != nil {
		return nil, fmt.Errorf("zktest: %w", err)
	}
	how := syscall.LOCK_EX
	if !wait {
		how |= syscall.LOCK_NB
	}
	if err := syscall.Flock(int(f.Fd()), how); err != nil {
		f.Close()
		return nil, fmt.Errorf("zktest: flock %s: %w", name, err)
	}
	return f, nil
}

// staleAge is how old an unlocked cluster directory must be before a sweep
// removes it; it leaves a new cluster ample time between creating its
// directory and locking it.
const staleAge = time.Minute

var sweepOnce sync.Once

// makeClusterDir creates a cluster's temporary directory and holds a flock on
// a file in it for as long as the cluster lives. A test binary that is killed
// (go test -timeout, CI cancelling a job) runs no cleanup: its servers die
// with it, but their directories stay. The lock tells them apart from live
// ones, so the first start in each process removes those a dead process left.
func makeClusterDir() (dir string, lock *os.File, err error) {
	locks, err := lockDir()
	if err != nil {
		return "", nil, err
	}
	sweepOnce.Do(func() { sweepStale(locks) })
	dir, err = os.MkdirTemp(locks, "cluster-")
	if err != nil {
		return "", nil, fmt.Errorf("zktest: %w", err)
	}
	lock, err = lockFile(dir, "lock", false)
	if err != nil {
		os.RemoveAll(dir)
		return "", nil, err
	}
	return dir, lock, nil
}

// sweepStale removes the cluster directories under locks that no live process
// holds and that are older than staleAge.
func sweepStale(locks string) {
	dirs, _ := filepath.Glob(filepath.Join(locks, "cluster-*"))
	for _, dir := range dirs {
		if fi, err := os.Stat(dir); err != nil || time.Since(fi.ModTime()) < staleAge {
			continue
		}
		lock, err := lockFile(dir, "lock", false)
		if err != nil {
			continue // alive, or already gone
		}
		os.RemoveAll(dir)
		lock.Close()
	}
}

// A JVM spends its first second or so loading classes and compiling on every
// core it can get. Started all at once, as parallel tests and parallel test
// binaries do, they starve each other: eight at once on a busy two-core
// machine took over 30 s, an empty snapshot took 5 s to load, and the
// election timeouts, doubling each round meanwhile, slowed the ensembles
// further. So starts queue for a few machine-wide slots, one per two cores,
// held from launch to serving. Running servers are idle and hold nothing.
func startSlots() int { return max(1, runtime.NumCPU()/2) }

// acquireStartSlot waits for a start slot and returns its release function.
func acquireStartSlot() (release func(), err error) {
	dir, err := lockDir()
	if err != nil {
		return nil, err
	}
	n := startSlots()
	first := rand.IntN(n)
	for i := range n { // a free slot, if any
		f, err := lockFile(dir, fmt.Sprintf("start-%d", (first+i)%n), false)
		if err == nil {
			return func() { f.Close() }, nil
		}
		if !errors.Is(err, syscall.EWOULDBLOCK) {
			return nil, err
		}
	}
	f, err := lockFile(dir, fmt.Sprintf("start-%d", first), true) // else queue for one
	if err != nil {
		return nil, err
	}
	return func() { f.Close() }, nil
}

// Ports are taken from below the kernel's ephemeral range (by default
// 32768-60999), never from it. Every outgoing TCP connection on this machine,
// clients and ZooKeeper peers included, gets a local port from the ephemeral
// range, so a port reserved there can be taken between our check and the
// server's bind. That matters more than it seems: a follower binds its quorum
// port only when it becomes leader, which may be minutes into a test, after a
// Kill. Below the range only listeners compete.
const lowestPort = 10000

// portRange returns [lo, hi) to draw ports from.
func portRange() (lo, hi int) {
	hi = 32768
	if b, err := os.ReadFile("/proc/sys/net/ipv4/ip_local_port_range"); err == nil {
		if f := strings.Fields(string(b)); len(f) == 2 {
			if n, err := strconv.Atoi(f[0]); err == nil {
				hi = n
			}
		}
	}
	if hi-lowestPort < 1000 {
		// An unusual ephemeral range leaves no room below it: draw from
		// everything above lowestPort and rely on the retry in StartCluster.
		hi = 65536
	}
	return lowestPort, hi
}

// portLocks holds ports for a cluster's whole life.
//
// Checking that a port is free is not enough: a follower's quorum port stays
// unbound until that member leads, so another cluster could be handed it in
// the meantime. Each port is therefore also reserved by a flock on a file
// named after it, held until Close.
type portLocks struct {
	ports []int
	files []*os.File
}

// reservePorts reserves n distinct free loopback ports.
func reservePorts(n int) (*portLocks, error) {
	dir, err := lockDir()
	if err != nil {
		return nil, err
	}
	lo, hi := portRange()
	r := &portLocks{}
	for tries := 0; len(r.ports) < n; tries++ {
		if tries == 100*n {
			r.release()
			return nil, fmt.Errorf("zktest: no free port in %d-%d after %d tries", lo, hi-1, tries)
		}
		p := lo + rand.IntN(hi-lo)
		f, err := lockFile(dir, fmt.Sprintf("port-%d", p), false)
		if errors.Is(err, syscall.EWOULDBLOCK) {
			continue // another cluster holds it, or this one already does
		}
		if err != nil {
			r.release()
			return nil, err
		}
		if !bindable(p) {
			f.Close()
			continue // some other program listens there
		}
		r.ports = append(r.ports, p)
		r.files = append(r.files, f)
	}
	return r, nil
}

// bindable reports whether a listener can bind 127.0.0.1:p right now.
func bindable(p int) bool {
	ln, err := net.Listen("tcp", net.JoinHostPort("127.0.0.1", strconv.Itoa(p)))
	if err != nil {
		return false
	}
	ln.Close()
	return true
}

// release gives the ports back. Closing the file drops its flock.
func (r *portLocks) release() {
	for _, f := range r.files {
		f.Close()
	}
	r.files = nil
}
