package procevents

import (
	"errors"
	"sync"
	"sync/atomic"

	"github.com/procwatch/procwatch/internal/nlsock"
)

// errOverrun is what a source returns when the kernel dropped messages
// because the socket's receive buffer was full (ENOBUFS); the socket stays
// usable.
var errOverrun = errors.New("procevents: receive buffer overrun")

// maxConsecutiveErrors ends the reader when reads fail this many times in a
// row with errors other than overruns: such a socket is broken, and a loop
// on it would only burn CPU.
const maxConsecutiveErrors = 100

// source is the socket a Reader drains: the connector in production, and a
// scripted one in the queue's tests.
type source interface {
	// receive reads one datagram and calls fn with the payload (cn_msg
	// onward) of each netlink message in it; fn must not keep b.
	receive(fn func(b []byte)) error
	// control sends a PROC_CN_MCAST_* request.
	control(op, seq, ack uint32) error
	readBuffer() int
	close() error
}

// Reader is a subscription to the kernel's process events. One goroutine
// drains the socket into a bounded queue as fast as the kernel sends, and
// never waits for the consumer: what the queue has no room for is dropped,
// counted, and announced by a Lost event. Its methods are safe for
// concurrent use.
type Reader struct {
	src     source
	events  chan Event
	threads bool
	stats   nlsock.Counters
	rcvbuf  int // the socket's receive buffer, read once: Stats may come after Close

	// seq and ack are the subscription request's. The kernel answers
	// every listener with ack+1 (and its own sequence number), so a random
	// ack tells this socket's answer from another's.
	seq, ack uint32
	answer   chan uint32 // the answer's errno, once

	// Only the reading goroutine touches these.
	lost     uint64 // events dropped since the last Lost event
	overrun  bool   // the kernel dropped events since the last Lost event
	answered bool

	closing   atomic.Bool
	closeOnce sync.Once
	done      chan struct{}
	err       error // why the reader ended, set before done is closed
}

func newReader(src source, o options, seq, ack uint32) *Reader {
	r := &Reader{
		src:     src,
		events:  make(chan Event, o.queueSize),
		threads: o.threads,
		rcvbuf:  src.readBuffer(),
		seq:     seq,
		ack:     ack,
		answer:  make(chan uint32, 1),
		done:    make(chan struct{}),
	}
	go r.run()
	return r
}

// Events returns the queue of events, in the order the kernel sent them.
// It is closed when the reader ends: after Close, or when the socket fails
// for good, which Err then tells.
func (r *Reader) Events() <-chan Event { return r.events }

// Err returns why the reader ended by itself, or nil while it runs and
// after Close.
func (r *Reader) Err() error {
	select {
	case <-r.done:
		return r.err
	default:
		return nil
	}
}

// Stats returns the reader's counters.
func (r *Reader) Stats() Stats { return r.stats.Stats(r.rcvbuf) }

// Close unsubscribes, closes the socket and waits for the reading
// goroutine to end; Events is closed then, with the events still queued
// readable. Close does not wait for the consumer. It is safe to call more
// than once.
func (r *Reader) Close() error {
	var err error
	r.closeOnce.Do(func() {
		r.closing.Store(true)
		// Without PROC_CN_MCAST_IGNORE the kernel keeps counting this
		// socket as a listener after it is gone, and goes on building
		// events for nobody. The answer is not awaited: the socket closes
		// right after.
		_ = r.src.control(procCnMcastIgnore, r.seq+1, r.ack)
		err = r.src.close()
		<-r.done
	})
	return err
}

func (r *Reader) run() {
	defer close(r.done)
	defer close(r.events)
	failures := 0
	for {
		err := r.src.receive(r.handle)
		if r.closing.Load() {
			return
		}
		switch {
		case err == nil:
			failures = 0
		case errors.Is(err, errOverrun):
			r.stats.Overruns.Add(1)
			r.overrun = true
			r.flushLost()
		default:
			r.stats.Errors.Add(1)
			// A failed read may have cost a datagram.
			r.overrun = true
			if failures++; failures >= maxConsecutiveErrors {
				r.err = err
				return
			}
		}
	}
}

// handle takes one connector message off the socket.
func (r *Reader) handle(b []byte) {
	r.stats.Received.Add(1)
	m, err := decode(b)
	if err != nil {
		r.stats.Malformed.Add(1)
		return
	}
	switch {
	case m.Kind == ack:
		if !r.answered && m.ack == r.ack+1 {
			r.answered = true
			r.answer <- m.ackErr
		}
		return
	case m.Kind == Other:
		return
	case !r.threads && !m.IsProcess():
		return
	}
	if !r.flushLost() {
		r.drop()
		return
	}
	select {
	case r.events <- m.Event:
		r.stats.Delivered.Add(1)
	default:
		r.drop()
	}
}

func (r *Reader) drop() {
	r.stats.Dropped.Add(1)
	r.lost++
}

// flushLost queues the Lost event owed to the consumer, if any, and says
// whether the queue is free for further events: none may go before it, or
// the consumer could not tell where the gap is.
func (r *Reader) flushLost() bool {
	if r.lost == 0 && !r.overrun {
		return true
	}
	select {
	case r.events <- Event{Kind: Lost, Lost: r.lost, Overrun: r.overrun}:
		r.stats.Delivered.Add(1)
		r.lost, r.overrun = 0, false
		return true
	default:
		return false
	}
}
