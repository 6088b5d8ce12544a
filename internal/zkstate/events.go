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

// queued is one item of a subscriber's queue: a transition or a notice.
type queued[T any] struct {
	t *transition[T]
	n *Notice
}

type subscriber[T any] struct {
	fn       func(Event[T])
	noticeFn func(Notice) // nil: the subscriber takes no notices
	limit    int

	mu     sync.Mutex
	queue  []queued[T]
	signal chan struct{}
	done   chan struct{}
	exited chan struct{}
}

// push queues an item without ever blocking the engine. When the queue is
// full the whole backlog collapses into one resync transition, so the
// subscriber loses no change, only the intermediate steps; queued notices
// go with them, the resync event standing for everything in between. It
// reports how many queued items were merged away.
func (s *subscriber[T]) push(item queued[T]) (merged int) {
	s.mu.Lock()
	if len(s.queue) >= s.limit {
		merged = len(s.queue)
		var first, last *transition[T]
		for _, q := range s.queue {
			if q.t != nil {
				if first == nil {
					first = q.t
				}
				last = q.t
			}
		}
		clear(s.queue)
		s.queue = s.queue[:0]
		switch {
		case first != nil && item.t != nil:
			item = queued[T]{t: &transition[T]{from: first.from, to: item.t.to, resync: true}}
		case first != nil:
			s.queue = append(s.queue, queued[T]{t: &transition[T]{from: first.from, to: last.to, resync: true}})
		case item.t != nil:
			item.t = &transition[T]{from: item.t.from, to: item.t.to, resync: true}
		}
	}
	s.queue = append(s.queue, item)
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
			item := s.queue[0]
			s.queue[0] = queued[T]{}
			s.queue = s.queue[1:]
			s.mu.Unlock()
			select {
			case <-s.done:
				return
			default:
			}
			if item.n != nil {
				s.noticeFn(*item.n)
				continue
			}
			s.fn(eventOf(item.t, onDiffErr))
		}
	}
}

func eventOf[T any](t *transition[T], onDiffErr func(error)) Event[T] {
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
	return ev
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
	return s.subscribe(fn, nil)
}

// SubscribeWithNotices is Subscribe that also calls notice, from the same
// goroutine and in order with the events, for what happens to the payload
// without changing the value in force: the node deleted or created again,
// a version rejected as invalid (see Notice). Events chain exactly as for
// Subscribe; notices stand between them. If the server holds an invalid
// document when it is called, the first call is a NoticeInvalid for it.
// When the queue overflows, queued notices are merged away with the
// events, into the one Resync event.
func (s *Store[T]) SubscribeWithNotices(fn func(Event[T]), notice func(Notice)) (Snapshot[T], func()) {
	if notice == nil {
		notice = func(Notice) {}
	}
	return s.subscribe(fn, notice)
}

func (s *Store[T]) subscribe(fn func(Event[T]), notice func(Notice)) (Snapshot[T], func()) {
	sub := &subscriber[T]{
		fn:       fn,
		noticeFn: notice,
		limit:    s.o.queueSize,
		signal:   make(chan struct{}, 1),
		done:     make(chan struct{}),
		exited:   make(chan struct{}),
	}
	// Holding applyMu makes the snapshot and the first queued transition
	// consecutive: nothing can advance in between.
	s.applyMu.Lock()
	cur := s.cur.Load()
	s.subMu.Lock()
	closed := s.isClosed()
	if !closed {
		s.subs[sub] = struct{}{}
		if notice != nil && s.badErr != nil {
			sub.push(queued[T]{n: s.invalidNotice(s.badErr, cur)})
		}
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
		s.pushTo(sub, queued[T]{t: t})
	}
}

// publishNotice hands n to every subscriber that takes notices. Called with
// applyMu held, like publish, so notices keep their place among the events.
func (s *Store[T]) publishNotice(n *Notice) {
	s.subMu.Lock()
	defer s.subMu.Unlock()
	for sub := range s.subs {
		if sub.noticeFn != nil {
			s.pushTo(sub, queued[T]{n: n})
		}
	}
}

func (s *Store[T]) pushTo(sub *subscriber[T], item queued[T]) {
	if n := sub.push(item); n > 0 {
		s.stats.queueDrops.Add(uint64(n))
		s.stats.resyncs.Add(1)
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
