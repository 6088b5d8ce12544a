package monitor

import (
	"strings"
	"time"
)

// entry is what a source remembers of one process between scans: the
// identity that is expensive to read (exe link, command line) and the match
// result, which is only recomputed when the Matcher or the identity changes.
// An unmatched process in a steady state therefore costs one stat read, one
// map lookup and a few comparisons per scan, and no allocation.
type entry struct {
	// start tells a reused pid from the process the entry was made for: the
	// clock-tick start time on Linux, the creation time in milliseconds
	// from gopsutil.
	start     uint64
	startTime time.Time
	comm      string
	cmdline   []string // never modified in place: Procs share it
	target    Target
	// reads counts identity reads, capped at 2; see procCache.lookup.
	reads uint8
	// seen is the scan epoch in which the process was last listed.
	seen uint64
	// gen is the Matcher generation matches was computed for.
	gen     uint64
	matches []int
	// fdLimit is the soft RLIMIT_NOFILE last read for the process, valid
	// while limitRead is set: see LinuxSource.fdLimit for when it is read
	// again.
	fdLimit   uint64
	limitRead bool
}

// setIdentity records a freshly read identity and invalidates the match.
func (e *entry) setIdentity(comm, exe string, cmdline []string) {
	exe = cleanExe(exe)
	e.comm = comm
	e.cmdline = cmdline
	e.target = Target{
		Name:    processName(comm, exe, cmdline),
		Exe:     exe,
		Cmdline: strings.Join(cmdline, " "),
	}
	if e.reads < 2 {
		e.reads++
	}
	// A process sets its limits as it starts (Go's runtime raises the fd
	// soft limit to the hard one before main), and exec is where a
	// wrapper's "ulimit -n" takes effect: the limit is read again
	// whenever the identity is.
	e.limitRead = false
	e.gen = 0
	e.matches = e.matches[:0]
}

// setZombie makes the entry of a process seen as a zombie final. A zombie
// has no executable and an empty command line, so reading them again would
// turn a "kube-controller-manager" into a "kube-controller" and move it out
// of its globs: the identity seen while it was alive stays. Only a zombie
// never seen alive (or one that exec'd since, whose comm changed) is named
// by its comm alone. Either way it is never read again: a zombie does not
// change.
func (e *entry) setZombie(comm string) {
	if e.reads == 0 || e.comm != comm {
		e.setIdentity(comm, "", nil)
	}
	e.reads = 2
}

// match returns the indices of the globs of m this process matches, from the
// cache unless m is a different Matcher than last time.
func (e *entry) match(m *Matcher) []int {
	if g := m.generation(); e.gen != g {
		e.matches = m.AppendMatches(e.matches[:0], e.target)
		e.gen = g
	}
	return e.matches
}

// procCache maps pids to entries. The entries of processes a complete scan
// did not list are evicted, in batches: see end.
type procCache struct {
	entries    map[int32]*entry
	epoch      uint64
	live       int // entries seen in the current scan
	sinceSweep int // scans ended with dead entries left in place
}

func (c *procCache) begin() {
	if c.entries == nil {
		c.entries = make(map[int32]*entry)
	}
	c.epoch++
	c.live = 0
}

// end follows a complete scan and evicts the entries of the processes it
// did not list, once they are worth a walk over the whole map: one dead
// entry in 16, or after 16 scans. A walk costs about as much per entry as
// the map lookup each process costs anyway, so walking on every scan with
// an exit (most scans, on a busy host) would add several percent to the
// scan for a few bytes of memory. A dead entry left in place is harmless:
// a new process reusing its pid has another start time and gets a fresh
// entry.
func (c *procCache) end() {
	dead := len(c.entries) - c.live
	if dead <= 0 {
		c.sinceSweep = 0
		return
	}
	if c.sinceSweep++; dead*16 >= len(c.entries) || c.sinceSweep >= 16 {
		c.sweep()
		c.sinceSweep = 0
	}
}

// lookup returns the entry of the process (pid, start) with comm, creating
// it if needed, marks it seen, and tells whether its identity must be read.
//
// The identity is read when the process is first seen, again on its second
// sighting, and again whenever its comm changes. The second read catches a
// process first seen between fork and setproctitle (a postgres backend, an
// nginx worker), whose command line was still its parent's. The comm check
// catches exec, which keeps pid and start time but always sets a new comm.
func (c *procCache) lookup(pid int32, start uint64, comm []byte) (*entry, bool) {
	e := c.entries[pid]
	if e == nil || e.start != start {
		e = &entry{start: start}
		c.entries[pid] = e
	}
	if e.seen != c.epoch {
		e.seen = c.epoch
		c.live++
	}
	return e, e.reads < 2 || e.comm != string(comm)
}

// drop forgets a process whose identity could not be read (it vanished), so
// that it is read afresh if the pid shows up again.
func (c *procCache) drop(pid int32) {
	if e, ok := c.entries[pid]; ok {
		if e.seen == c.epoch {
			c.live--
		}
		delete(c.entries, pid)
	}
}

// sweep evicts the processes the scan just completed did not list. It must
// only follow a complete scan: after a partial one it would evict live
// processes and read their identity again.
func (c *procCache) sweep() {
	for pid, e := range c.entries {
		if e.seen != c.epoch {
			delete(c.entries, pid)
		}
	}
}
