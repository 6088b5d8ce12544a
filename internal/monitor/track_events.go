package monitor

import "slices"

// The tracker's side of process events. The tracker is the one place that
// decides what is a start and what is an exit, for scans and events alike:
// a process is a start when it becomes a member of a glob and an exit when
// it stops being one, whichever of the two saw it first. A process the
// events announced is already a member when the next scan lists it, so
// that scan counts no second start; a process the events saw exit is no
// longer a member, so the next scan, not listing it, counts no second
// exit; a process a scan saw vanish is no longer indexed, so its exit
// event, coming later, counts nothing; and a process its exit record
// ended, which a scan may still read running (the record comes before the
// process is a zombie), is no member again.

// exec folds in a process read at its exec: it starts in every glob it
// matches now and is not yet a member of, and exits the globs it was a
// member of and no longer matches (it exec'd into something else). p's
// Globs index globs, the Matcher's list the tracker was last updated with.
func (t *tracker) exec(globs []string, p *MatchedProc) {
	key := keyOf(&p.Proc)
	if old, ok := t.pids[p.PID]; ok {
		for gi, g := range globs {
			st := t.globs[g]
			if st == nil {
				continue
			}
			m := st.members[old]
			if m == nil || (old == key && slices.Contains(p.Globs, gi)) {
				continue
			}
			if old == key {
				st.fold(m, &p.Proc)
			}
			st.exits++
			delete(st.members, old)
		}
		delete(t.pids, p.PID)
	}
	joined := false
	for _, gi := range p.Globs {
		st := t.seededGlob(globs, gi)
		if st == nil {
			continue
		}
		joined = true
		m := st.members[key]
		if m == nil {
			m = &member{}
			st.members[key] = m
			st.starts++
		}
		m.seen = t.epoch
		st.fold(m, &p.Proc)
	}
	if joined {
		if t.pids == nil {
			t.pids = make(map[int]procKey)
		}
		t.pids[p.PID] = key
	}
}

// exit folds in the exit of the process pid, announced by its exit event:
// it exits every glob it is a member of. It reports whether it was one.
// What the process used since it was last read is not known (the event
// carries no CPU or I/O), so the totals keep its values as last read.
func (t *tracker) exit(pid int) bool {
	key, ok := t.pids[pid]
	if !ok {
		return false
	}
	delete(t.pids, pid)
	for _, st := range t.globs {
		if st.members[key] != nil {
			st.exits++
			delete(st.members, key)
		}
	}
	return true
}

// reindex rebuilds the pid index from the members after a scan: every
// live process that matched a glob in the snapshot, by its pid.
func (t *tracker) reindex(snap *Snapshot) {
	if t.pids == nil {
		t.pids = make(map[int]procKey)
	}
	clear(t.pids)
	for i := range snap.Procs {
		p := &snap.Procs[i]
		if !p.Zombie && len(p.Globs) > 0 {
			if key := keyOf(&p.Proc); !t.endedByEvents(p.PID, key) {
				t.pids[p.PID] = key
			}
		}
	}
}

// counters copies the glob counters into stats, one per glob of globs in
// order, as they stand after events folded in since the last scan.
func (t *tracker) counters(stats []GlobStats) {
	for i := range stats {
		st := t.globs[stats[i].Glob]
		if st == nil {
			continue
		}
		st.export(&stats[i])
	}
}

// indexed tells whether the process pid is a member of some glob.
func (t *tracker) indexed(pid int) bool {
	_, ok := t.pids[pid]
	return ok
}

// departed is a process the exit event removed from its globs, kept a
// moment so that its exit record, coming later, can still fold in what it
// used last (see Monitor.HandleExitRecord).
type departed struct {
	key   procKey
	globs []departedGlob
}

type departedGlob struct {
	st *globState
	m  *member
}

// exitKeep is exit, keeping what the process was a member of.
func (t *tracker) exitKeep(pid int) (departed, bool) {
	key, ok := t.pids[pid]
	if !ok {
		return departed{}, false
	}
	d := departed{key: key}
	for _, st := range t.globs {
		if m := st.members[key]; m != nil {
			d.globs = append(d.globs, departedGlob{st, m})
		}
	}
	t.exit(pid)
	return d, true
}

// foldDeparted folds what an exit record says a departed process used
// into the globs it was a member of and that are still in force; it
// counts no exit, its exit event did.
func (t *tracker) foldDeparted(d departed, p *Proc) bool {
	for _, g := range d.globs {
		for _, st := range t.globs {
			if st == g.st {
				st.fold(g.m, p)
				break
			}
		}
	}
	return len(d.globs) > 0
}

// exitRecord folds in the exit record of the process pid when it is a
// member and same tells that the record is of that process, not of one
// that reused its pid: what the record says it used last goes into the
// totals (never less than already read), then it exits as at its exit
// event. It reports whether it was a member.
func (t *tracker) exitRecord(pid int, p *Proc, same func(procKey) bool) bool {
	key, ok := t.pids[pid]
	if !ok || !same(key) {
		return false
	}
	for _, st := range t.globs {
		if m := st.members[key]; m != nil {
			st.fold(m, p)
		}
	}
	return t.exit(pid)
}

// lived counts a process that started and exited between two reads,
// known only from its exit record: a start and an exit in each glob of
// p.Globs that had its first scan, with everything it used.
func (t *tracker) lived(globs []string, p *MatchedProc) bool {
	counted := false
	for _, gi := range p.Globs {
		st := t.seededGlob(globs, gi)
		if st == nil {
			continue
		}
		st.starts++
		st.exits++
		st.fold(&member{}, &p.Proc)
		counted = true
	}
	return counted
}

// seededGlob is the state of glob gi of globs, if it had its first scan:
// before that, a process that joins it is no start (the first scan sees
// what already runs). nil for an index out of range.
func (t *tracker) seededGlob(globs []string, gi int) *globState {
	if gi < 0 || gi >= len(globs) {
		return nil
	}
	if st := t.globs[globs[gi]]; st != nil && st.seeded {
		return st
	}
	return nil
}
