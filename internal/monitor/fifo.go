package monitor

import "time"

// fifo is a map by pid whose entries expire in the order they were put,
// bounded: what the Monitor keeps of exit records and execs waiting for
// each other.
type fifo[V any] struct {
	m   map[int]fifoEntry[V]
	q   []fifoKey
	seq uint64
}

type fifoEntry[V any] struct {
	v   V
	at  time.Time
	seq uint64
}

type fifoKey struct {
	pid int
	seq uint64
}

func (f *fifo[V]) len() int { return len(f.m) }

// put keeps v for pid, in place of what it held; past most entries the
// oldest is given up, through evict when not nil.
func (f *fifo[V]) put(pid int, v V, at time.Time, most int, evict func(V)) {
	if f.m == nil {
		f.m = make(map[int]fifoEntry[V])
	}
	f.seq++
	f.m[pid] = fifoEntry[V]{v: v, at: at, seq: f.seq}
	f.q = append(f.q, fifoKey{pid, f.seq})
	for len(f.m) > most {
		f.pop(evict)
	}
	if len(f.q) > 2*len(f.m)+64 {
		// Entries taken leave their keys behind: drop them.
		q := f.q[:0]
		for _, k := range f.q {
			if e, ok := f.m[k.pid]; ok && e.seq == k.seq {
				q = append(q, k)
			}
		}
		f.q = q
	}
}

func (f *fifo[V]) peek(pid int) (V, bool) {
	e, ok := f.m[pid]
	return e.v, ok
}

func (f *fifo[V]) take(pid int) (V, bool) {
	e, ok := f.m[pid]
	if ok {
		delete(f.m, pid)
	}
	return e.v, ok
}

// pop gives up the oldest entry.
func (f *fifo[V]) pop(evict func(V)) {
	for len(f.q) > 0 {
		k := f.q[0]
		f.q = f.q[1:]
		if e, ok := f.m[k.pid]; ok && e.seq == k.seq {
			delete(f.m, k.pid)
			if evict != nil {
				evict(e.v)
			}
			return
		}
	}
}

// expire gives up the entries put before before.
func (f *fifo[V]) expire(before time.Time, evict func(V)) {
	f.expireWhile(func(_ V, at time.Time) bool { return at.Before(before) }, evict)
}

// expireWhile gives up the oldest entries for as long as gone says so of
// them, through evict when not nil.
func (f *fifo[V]) expireWhile(gone func(v V, at time.Time) bool, evict func(V)) {
	for len(f.q) > 0 {
		k := f.q[0]
		e, ok := f.m[k.pid]
		live := ok && e.seq == k.seq
		if live && !gone(e.v, e.at) {
			return
		}
		f.q = f.q[1:]
		if live {
			delete(f.m, k.pid)
			if evict != nil {
				evict(e.v)
			}
		}
	}
}
