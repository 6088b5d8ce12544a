package nlsock

import "sync"

// initialCapacity is what a queue holds before it first grows. A quiet host
// queues a handful of messages between two drains; the limit is for bursts.
const initialCapacity = 64

// Queue is the bounded, lossy queue between a reading goroutine, which
// must never wait, and its consumer. It grows by doubling up to its limit
// as a burst needs and gives the burst's memory back once the burst is
// drained, so an idle reader holds a few kilobytes rather than its limit.
// What finds the queue full is dropped, counted, and announced to the
// consumer by one Lost message at the place of the gap, before any later
// message. Its methods are safe for concurrent use.
type Queue[E any] struct {
	limit int
	lost  func(dropped uint64, overrun bool) E // makes the Lost message
	stats *Counters                            // Delivered and Dropped

	mu      sync.Mutex
	items   []E
	dropped uint64 // dropped since the last Lost message
	overrun bool   // the kernel dropped messages since the last Lost message
	ended   bool
	err     error
	ready   chan struct{} // holds a token while there is something to drain
}

// NewQueue returns a queue of at most limit messages; lost makes the
// message that announces a gap, and stats counts what is delivered (Lost
// messages included) and dropped.
func NewQueue[E any](limit int, lost func(dropped uint64, overrun bool) E, stats *Counters) *Queue[E] {
	return &Queue[E]{
		limit: limit,
		lost:  lost,
		stats: stats,
		ready: make(chan struct{}, 1),
	}
}

// Put queues e, or drops it when the queue is full, and reports whether
// it was queued. A gap owed to the consumer is announced first; when only
// the announcement fits, e is dropped.
func (q *Queue[E]) Put(e E) bool {
	q.mu.Lock()
	if q.ended {
		q.mu.Unlock()
		return false
	}
	ok := q.flushLostLocked() && q.appendLocked(e)
	if !ok {
		q.dropped++
		q.stats.Dropped.Add(1)
	}
	q.mu.Unlock()
	q.signal()
	return ok
}

// Overrun records that the kernel dropped messages (ENOBUFS). The Lost
// message that announces it goes before the next message queued, or at the
// end of the next Drain, whichever comes first: one per gap, however many
// overruns the gap saw.
func (q *Queue[E]) Overrun() {
	q.mu.Lock()
	q.overrun = true
	q.mu.Unlock()
	q.signal()
}

// End marks the queue ended, with the reason when the reader failed; what
// is queued stays to be drained. Later Puts are refused: no reader is left
// to make them.
func (q *Queue[E]) End(err error) {
	q.mu.Lock()
	if !q.ended {
		q.ended, q.err = true, err
	}
	q.mu.Unlock()
	q.signal()
}

// Err returns the reason End was given.
func (q *Queue[E]) Err() error {
	q.mu.Lock()
	defer q.mu.Unlock()
	return q.err
}

// Ready receives a value when there may be messages to drain or the queue
// has ended; a consumer selects on it and then calls Drain.
func (q *Queue[E]) Ready() <-chan struct{} { return q.ready }

// Drain appends what is queued to dst, in order, and empties the queue; a
// gap that opened after the last queued message is announced at its end
// rather than at the next Put, so the consumer learns of it now. more is
// false once the queue has ended and nothing was left.
func (q *Queue[E]) Drain(dst []E) (_ []E, more bool) {
	q.mu.Lock()
	defer q.mu.Unlock()
	if q.ended {
		// An ended queue stays ready, so that a consumer waiting on
		// Ready comes to the Drain that tells it so.
		defer q.signal()
	}
	n := len(q.items)
	dst = append(dst, q.items...)
	if cap(q.items) > initialCapacity {
		// A burst grew the queue: give its memory back.
		q.items = nil
	} else {
		clear(q.items)
		q.items = q.items[:0]
	}
	if q.dropped > 0 || q.overrun {
		dst = append(dst, q.lost(q.dropped, q.overrun))
		q.stats.Delivered.Add(1)
		q.dropped, q.overrun = 0, false
		n++
	}
	return dst, !q.ended || n > 0
}

func (q *Queue[E]) appendLocked(e E) bool {
	if q.ended || len(q.items) >= q.limit {
		return false
	}
	if len(q.items) == cap(q.items) {
		c := min(max(2*cap(q.items), initialCapacity), q.limit)
		grown := make([]E, len(q.items), c)
		copy(grown, q.items)
		q.items = grown
	}
	q.items = append(q.items, e)
	q.stats.Delivered.Add(1)
	return true
}

// flushLostLocked queues the Lost message owed to the consumer, if any,
// and reports whether later messages may follow: none may go before it,
// or the consumer could not tell where the gap is.
func (q *Queue[E]) flushLostLocked() bool {
	if q.dropped == 0 && !q.overrun {
		return true
	}
	if !q.appendLocked(q.lost(q.dropped, q.overrun)) {
		return false
	}
	q.dropped, q.overrun = 0, false
	return true
}

func (q *Queue[E]) signal() {
	select {
	case q.ready <- struct{}{}:
	default:
	}
}
