package nlsock

import "sync"

// Feed is the consumer's side of a reader's Queue. A reader embeds it, so
// that both readers offer the same ways to consume: batches with Drain
// after Ready, or one by one on Events.
type Feed[E any] struct {
	queue  *Queue[E]
	stop   <-chan struct{}
	once   sync.Once
	events <-chan E
}

// NewFeed returns the consumer's side of q; closing stop, at the reader's
// Close, ends the forwarding behind Events.
func NewFeed[E any](q *Queue[E], stop <-chan struct{}) *Feed[E] {
	return &Feed[E]{queue: q, stop: stop}
}

// Ready receives a value when there may be something to Drain, or the
// reader has ended.
func (f *Feed[E]) Ready() <-chan struct{} { return f.queue.Ready() }

// Drain appends what is queued to dst, in the order the kernel sent it,
// and returns it; more is false once the reader has ended (after Close, or
// when the socket failed for good, which Err then tells) and nothing is
// left. A consumer that selects on Ready and drains takes a burst with one
// wake-up.
func (f *Feed[E]) Drain(dst []E) (_ []E, more bool) { return f.queue.Drain(dst) }

// Events returns what is queued one by one, in the order the kernel sent
// it, for a consumer that ranges over a channel instead of draining
// batches; use one or the other. The channel is closed once the reader has
// ended and everything was received, or at Close, which discards what was
// not.
func (f *Feed[E]) Events() <-chan E {
	f.once.Do(func() { f.events = Forward(f.queue, f.stop) })
	return f.events
}

// Err returns why the reader ended by itself, or nil while it runs and
// after Close.
func (f *Feed[E]) Err() error { return f.queue.Err() }
