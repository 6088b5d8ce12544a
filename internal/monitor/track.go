package monitor

import "time"

// GlobStats is the aggregate of one glob after a scan: what the metrics
// collector turns into the procwatch_glob_* series.
type GlobStats struct {
	// Glob is the pattern, the value of the glob label.
	Glob string

	// Processes, Threads, RSS, VSize and FDs are gauges summed over the
	// processes matching the glob now.
	Processes int
	Threads   int
	RSS       uint64
	VSize     uint64
	FDs       uint64
	// Zombies is the number of zombies matching the glob now: processes
	// that exited and that their parent has not reaped yet. They are not
	// live, so they count in none of the gauges above; a zombie matches by
	// the identity it had while it was seen alive, or by its comm if it
	// never was.
	Zombies int
	// States counts the processes matching the glob now by the class of
	// their kernel state (see [StateOf]), zombies included: the one
	// aggregate that counts them beside the live processes.
	States [NumStates]int
	// Swap and PSS are gauges summed over the live processes matching the
	// glob now, like RSS; PSS is 0 unless the source reads it (see
	// ScanResult.PSS).
	Swap uint64
	PSS  uint64
	// MaxFDRatio is the highest ratio of open fds to the fd soft limit
	// among the live processes matching the glob now, 0 when none has a
	// known limit: how close the worst of them is to EMFILE.
	MaxFDRatio float64
	// OldestStart is the start time of the oldest matching process, zero
	// when the glob matches nothing (the gauge is then absent).
	OldestStart time.Time

	// CPUUser, CPUSystem, ReadBytes and WriteBytes are counters: the sum,
	// over every process that has matched the glob since it was configured,
	// of its values when last seen. They never decrease while the glob stays
	// configured, even as processes exit.
	CPUUser    float64
	CPUSystem  float64
	ReadBytes  uint64
	WriteBytes uint64
	// MinorFaults, MajorFaults, VoluntarySwitches and InvoluntarySwitches
	// are counters carried across exits like the CPU seconds.
	MinorFaults, MajorFaults               uint64
	VoluntarySwitches, InvoluntarySwitches uint64

	// Starts counts processes that began matching after the glob's first
	// scan: new processes, and processes that exec'd into a match. The
	// processes already matching when the glob was added (or when the agent
	// started) are not starts: nobody saw them start.
	Starts uint64
	// Exits counts processes that stopped matching: they exited, or exec'd
	// into something else. A process that exits is counted when it is
	// first seen a zombie (or gone, if it was reaped between two scans),
	// once: not again when the zombie is reaped.
	Exits uint64
}

// procKey identifies a process across pid reuse.
type procKey struct {
	pid   int
	ticks uint64
	start int64 // StartTime in Unix nanoseconds, for sources without ticks
}

func keyOf(p *Proc) procKey {
	return procKey{pid: p.PID, ticks: p.StartTicks, start: p.StartTime.UnixNano()}
}

// member is what a glob remembers of one process that matches it: the
// high-water marks of its counters, so that each scan adds only what the
// process consumed since, and a process whose io became unreadable does not
// pull a counter down.
type member struct {
	cpuUser, cpuSystem    float64
	readBytes, writeBytes uint64
	minflt, majflt        uint64
	vcsw, ivcsw           uint64
	seen                  uint64
}

// globState carries one glob's counters from scan to scan.
type globState struct {
	seeded                bool // had its first scan: later members are starts
	members               map[procKey]*member
	cpuUser, cpuSystem    float64
	readBytes, writeBytes uint64
	minflt, majflt        uint64
	vcsw, ivcsw           uint64
	starts, exits         uint64
}

// tracker turns snapshots into per-glob statistics. It is pure: what it
// returns depends only on the sequence of glob lists and snapshots given.
type tracker struct {
	epoch uint64
	globs map[string]*globState
	// pids indexes the live members of every glob by pid, for exit
	// events, which name a pid only (see track_events.go).
	pids map[int]procKey
	// scanExits are the processes the last update saw exit (gone or a
	// zombie), for the Monitor: their exec or exit record, handled late,
	// must not count them again.
	scanExits []procKey
	// ended tells whether the events ended the process key (pid) though
	// a scan may still list it alive: the kernel sends a process's exit
	// record before the process becomes a zombie, so a scan in between
	// reads it running. Such a process is no member again, so no second
	// start. nil when nothing ends processes but the scans.
	ended func(pid int, key procKey) bool
}

// update folds one complete snapshot, taken with a Matcher whose Globs are
// globs, into the counters and returns one GlobStats per glob, in order.
//
// A glob that stays in the list keeps its state; a glob that leaves it is
// forgotten, so if it comes back its counters start again (a counter reset,
// which Prometheus handles).
func (t *tracker) update(globs []string, snap *Snapshot) []GlobStats {
	t.epoch++
	t.scanExits = t.scanExits[:0]
	if t.globs == nil {
		t.globs = make(map[string]*globState)
	}
	states := make([]*globState, len(globs))
	for i, g := range globs {
		st := t.globs[g]
		if st == nil {
			st = &globState{members: make(map[procKey]*member)}
			t.globs[g] = st
		}
		states[i] = st
	}
	if len(t.globs) > len(globs) {
		keep := make(map[string]struct{}, len(globs))
		for _, g := range globs {
			keep[g] = struct{}{}
		}
		for g := range t.globs {
			if _, ok := keep[g]; !ok {
				delete(t.globs, g)
			}
		}
	}

	stats := make([]GlobStats, len(globs))
	for i, g := range globs {
		stats[i].Glob = g
	}
	for i := range snap.Procs {
		p := &snap.Procs[i]
		key := keyOf(&p.Proc)
		for _, gi := range p.Globs {
			if gi < 0 || gi >= len(globs) {
				continue
			}
			gs, st := &stats[gi], states[gi]
			if p.Zombie {
				gs.States[StateZombie]++
				gs.Zombies++
				// It exited: what it used last stays in the totals, and its
				// exit is counted now. Its later sightings as a zombie find
				// no member, so they are neither starts nor exits.
				if m := st.members[key]; m != nil {
					st.fold(m, &p.Proc)
					st.exits++
					delete(st.members, key)
					t.scanExits = append(t.scanExits, key)
				}
				continue
			}
			gs.Processes++
			gs.States[StateOf(p.State)]++
			gs.Threads += p.Threads
			gs.Swap += p.Swap
			gs.PSS += p.PSS
			if p.FDLimit > 0 {
				gs.MaxFDRatio = max(gs.MaxFDRatio, float64(max(p.FDs, 0))/float64(p.FDLimit))
			}
			gs.RSS += p.RSS
			gs.VSize += p.VSize
			gs.FDs += uint64(max(p.FDs, 0))
			if gs.OldestStart.IsZero() || p.StartTime.Before(gs.OldestStart) {
				gs.OldestStart = p.StartTime
			}
			m := st.members[key]
			if m == nil && t.endedByEvents(p.PID, key) {
				continue
			}
			if m == nil {
				m = &member{}
				st.members[key] = m
				if st.seeded {
					st.starts++
				}
			}
			m.seen = t.epoch
			st.fold(m, &p.Proc)
		}
	}
	for i, st := range states {
		for k, m := range st.members {
			if m.seen != t.epoch {
				// Its last observed values stay in the totals; only what it
				// used after the previous scan is lost.
				st.exits++
				delete(st.members, k)
				t.scanExits = append(t.scanExits, k)
			}
		}
		st.seeded = true
		st.export(&stats[i])
	}
	t.reindex(snap)
	return stats
}

func (t *tracker) endedByEvents(pid int, key procKey) bool {
	return t.ended != nil && t.ended(pid, key)
}

// export copies the glob's counters into gs.
func (st *globState) export(gs *GlobStats) {
	gs.CPUUser, gs.CPUSystem = st.cpuUser, st.cpuSystem
	gs.ReadBytes, gs.WriteBytes = st.readBytes, st.writeBytes
	gs.MinorFaults, gs.MajorFaults = st.minflt, st.majflt
	gs.VoluntarySwitches, gs.InvoluntarySwitches = st.vcsw, st.ivcsw
	gs.Starts, gs.Exits = st.starts, st.exits
}

// fold adds to the glob's counters what the member used since it was last
// seen.
func (st *globState) fold(m *member, p *Proc) {
	st.cpuUser += growth(&m.cpuUser, p.CPUUser)
	st.cpuSystem += growth(&m.cpuSystem, p.CPUSystem)
	st.readBytes += growth(&m.readBytes, p.ReadBytes)
	st.writeBytes += growth(&m.writeBytes, p.WriteBytes)
	st.minflt += growth(&m.minflt, p.MinorFaults)
	st.majflt += growth(&m.majflt, p.MajorFaults)
	st.vcsw += growth(&m.vcsw, p.VoluntarySwitches)
	st.ivcsw += growth(&m.ivcsw, p.InvoluntarySwitches)
}

// growth raises the high-water mark *hw to v and returns by how much it
// rose: never negative, so a counter built from it never decreases.
func growth[T float64 | uint64](hw *T, v T) T {
	if v <= *hw {
		return 0
	}
	d := v - *hw
	*hw = v
	return d
}
