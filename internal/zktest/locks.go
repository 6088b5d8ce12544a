package zktest

import (
	"errors"
	"fmt"
	"math/rand/v2"
	"net"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
)

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
// the meantime. Each port is therefore reserved with an exclusive flock on a
// file named after it, held until Close. flock conflicts between open files
// in one process (parallel subtests) and across processes (the test binaries
// of go test ./...), and the kernel drops it when the holder dies, so a
// crashed test binary leaves no stale reservation. The files stay: deleting a
// lock file while another process opens it would let both hold "the" lock.
type portLocks struct {
	ports []int
	files []*os.File
}

// reservePorts reserves n distinct free loopback ports.
func reservePorts(n int) (*portLocks, error) {
	dir := filepath.Join(os.TempDir(), fmt.Sprintf("zktest-ports-%d", os.Getuid()))
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return nil, fmt.Errorf("zktest: port reservations: %w", err)
	}
	lo, hi := portRange()
	r := &portLocks{}
	for tries := 0; len(r.ports) < n; tries++ {
		if tries == 100*n {
			r.release()
			return nil, fmt.Errorf("zktest: no free port in %d-%d after %d tries", lo, hi-1, tries)
		}
		p := lo + rand.IntN(hi-lo)
		f, err := lockPort(dir, p)
		if err != nil {
			continue // another cluster holds it (or we do already)
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

// lockPort takes the flock for port p, or fails if someone holds it.
func lockPort(dir string, p int) (*os.File, error) {
	f, err := os.OpenFile(filepath.Join(dir, strconv.Itoa(p)), os.O_RDWR|os.O_CREATE, 0o644)
	if err != nil {
		return nil, err
	}
	if err := syscall.Flock(int(f.Fd()), syscall.LOCK_EX|syscall.LOCK_NB); err != nil {
		f.Close()
		if errors.Is(err, syscall.EWOULDBLOCK) {
			return nil, err
		}
		return nil, fmt.Errorf("zktest: flock port %d: %w", p, err)
	}
	return f, nil
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
