package zkstate

import (
	"encoding/json"
	"sync"
)

// Event describes one observed transition of the shared value, from the
// version this instance held before to the one it holds now.
//
// Events of one subscriber chain: each FromVersion is the previous event's
// ToVersion, in version order, with no gap or repeat. ZooKeeper watches fire
// once, so one event may span several server versions; its Changes are then
// the merged difference. An event may carry no Changes when a writer stored
// an identical document.
type Event[T any] struct {
	FromVersion int32
	ToVersion   int32
	// Changes turn the document at FromVersion into the one at ToVersion
	// when applied in order (see Diff).
	Changes []Change
	// Value is the decoded value at ToVersion. Treat it as read-only: it is
	// shared with every reader of the Store.
	Value T
	// Resync is set when the event stands for more than the watch saw: the
	// subscriber's queue overflowed and was merged, or the session was lost
	// and the event covers what changed meanwhile. Old and New then hold
	// both whole documents.
	Resync bool
	Old    json.RawMessage
	New    json.RawMessage
}

// Snapshot is the shared value at one version.
type Snapshot[T any] struct {
	Value   T
	Version int32
	// Raw is the document as stored, unknown fields included. Read-only.
	Raw json.RawMessage
}

// transition is one advance of the local copy, shared by every subscriber;
// the diff is computed at most once, by whichever subscriber needs it first.
type transition[T any] struct {
	from, to *snapshot[T]
	resync   bool

	once    sync.Once
	changes []Change
	err     error
}

func (t *transition[T]) diff() ([]Change, error) {
	t.once.Do(func() { t.changes, t.err = Diff(t.from.raw, t.to.raw) })
	return t.changes, t.err
}

type subscriber[T any] struct {
	fn    func(Event[T])
	limit int

	mu     sync.Mutex
	queue  []*transition[T]
	signal chan struct{}
	done   chan struct{}
	exited chan struct{}
}

// push queues t without ever blocking the engine. When the queue is full the
// whole backlog collapses into one resync transition, so the subscriber loses
// no change, only the intermediate steps. It reports how many queued
// transitions were merged away.
func (s *subscriber[T]) push(t *transition[T]) (merged int) {
	s.mu.Lock()
	if len(s.queue) >= s.limit {
		merged = len(s.queue)
		first := s.queue[0]
		clear(s.queue)
		s.queue = append(s.queue[:0], &transition[T]{from: first.from, to: t.to, resync: true})
	} else {
		s.queue = append(s.queue, t)
	}
	s.mu.Unlock()
	select {
	case s.signal <- struct{}{}:
	default:
	}
	return merged
}

func (s *subscriber[T]) run(onDiffErr func(error)) {
	defer close(s.exited)
	for {
		select {
		case <-s.done:
			return
		case <-s.signal:
		}
		for {
			s.mu.Lock()
			if len(s.queue) == 0 {
				s.mu.Unlock()
				break
			}
			t := s.queue[0]
			s.queue[0] = nil
			s.queue = s.queue[1:]
			s.mu.Unlock()
			select {
			case <-s.done:
				return
			default:
			}
			changes, err := t.diff()
			if err != nil {
				onDiffErr(err)
			}
			ev := Event[T]{
				FromVersion: t.from.version,
				ToVersion:   t.to.version,
				Changes:     changes,
				Value:       t.to.value,
				Resync:      t.resync,
			}
			if t.resync {
				ev.Old, ev.New = t.from.raw, t.to.raw
			}
			s.fn(ev)
		}
	}
}

func (s *subscriber[T]) stop() {
	select {
	case <-s.done:
	default:
		close(s.done)
	}
	<-s.exited
}

// Subscribe calls fn, from a goroutine of its own, for every change of the
// value after the returned snapshot, in version order: the first event's
// FromVersion is the snapshot's Version. fn may be slow without delaying the
// Store or other subscribers; past the queue size (WithQueueSize) its backlog
// is merged into one Resync event. The returned cancel stops delivery and
// waits for a running fn to return; do not call it from fn itself.
func (s *Store[T]) Subscribe(fn func(Event[T])) (Snapshot[T], func()) {
	sub := &subscriber[T]{
		fn:     fn,
		limit:  s.o.queueSize,
		signal: make(chan struct{}, 1),
		done:   make(chan struct{}),
		exited: make(chan struct{}),
	}
	// Holding applyMu makes the snapshot and the first queued transition
	// consecutive: nothing can advance in between.
	s.applyMu.Lock()
	cur := s.cur.Load()
	s.subMu.Lock()
	closed := s.isClosed()
	if !closed {
		s.subs[sub] = struct{}{}
	}
	s.subMu.Unlock()
	s.applyMu.Unlock()
	snap := Snapshot[T]{Value: cur.value, Version: cur.version, Raw: cur.raw}
	if closed {
		close(sub.exited)
		return snap, func() {}
	}
	s.wg.Add(1)
	go func() {
		defer s.wg.Done()
		sub.run(func(err error) {
			s.o.logger.Error("zkstate: diff failed", "err", err)
		})
	}()
	var once sync.Once
	return snap, func() {
		once.Do(func() {
			s.subMu.Lock()
			delete(s.subs, sub)
			s.subMu.Unlock()
			sub.stop()
		})
	}
}

// publish hands t to every subscriber. Called with applyMu held, so every
// subscriber sees transitions in the order the local copy moved.
func (s *Store[T]) publish(t *transition[T]) {
	s.subMu.Lock()
	defer s.subMu.Unlock()
	for sub := range s.subs {
		if n := sub.push(t); n > 0 {
			s.stats.queueDrops.Add(uint64(n))
			s.stats.resyncs.Add(1)
		}
	}
}

func (s *Store[T]) stopSubscribers() {
	s.subMu.Lock()
	subs := make([]*subscriber[T], 0, len(s.subs))
	for sub := range s.subs {
		subs = append(subs, sub)
	}
	clear(s.subs)
	s.subMu.Unlock()
	for _, sub := range subs {
		sub.stop()
	}
}
