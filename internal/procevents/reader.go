package procevents

import (
	"sync"
	"sync/atomic"

	"github.com/procwatch/procwatch/internal/nlsock"
)

// source is the socket a Reader drains: the connector in production, and a
// scripted one in the queue's tests.
type source interface {
	// receive reads one datagram and calls fn with the payload (cn_msg
	// onward) of each netlink message in it; fn must not keep b. An
	// overrun comes back as nlsock.ErrOverrun.
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
	queue   *nlsock.Queue[Event]
	threads bool
	stats   nlsock.Counters
	rcvbuf  int // the socket's receive buffer, read once: Stats may come after Close

	// seq and ack are the subscription request's. The kernel answers
	// every listener with ack+1 (and its own sequence number), so a random
	// ack tells this socket's answer from another's.
	seq, ack uint32
	answer   chan uint32 // the answer's errno, once
	answered bool        // only the reading goroutine touches it

	eventsOnce sync.Once
	events     <-chan Event
	closing    atomic.Bool
	closeOnce  sync.Once
	stop       chan struct{} // closed by Close
	done       chan struct{} // closed when the reading goroutine has ended
}

func newReader(src source, o options, seq, ack uint32) *Reader {
	r := &Reader{
		src:     src,
		threads: o.threads,
		rcvbuf:  src.readBuffer(),
		seq:     seq,
		ack:     ack,
		answer:  make(chan uint32, 1),
		stop:    make(chan struct{}),
		done:    make(chan struct{}),
	}
	r.queue = nlsock.NewQueue(o.QueueLimit, lostEvent, &r.stats)
	go r.run()
	return r
}

func lostEvent(dropped uint64, overrun bool) Event {
	return Event{Kind: Lost, Lost: dropped, Overrun: overrun}
}

// Ready receives a value when there may be events to Drain, or the reader
// has ended.
func (r *Reader) Ready() <-chan struct{} { return r.queue.Ready() }

// Drain appends the queued events to dst, in the order the kernel sent
// them, and returns it; more is false once the reader has ended (after
// Close, or when the socket failed for good, which Err then tells) and
// nothing is left. A consumer that selects on Ready and drains in batches
// takes a burst with one wake-up.
func (r *Reader) Drain(dst []Event) (_ []Event, more bool) { return r.queue.Drain(dst) }

// Events returns the events one by one, in the order the kernel sent them,
// for a consumer that ranges over them instead of draining batches; use
// one or the other. The channel is closed once the reader has ended and
// every event was received, or at Close, which discards what was not.
func (r *Reader) Events() <-chan Event {
	r.eventsOnce.Do(func() { r.events = nlsock.Forward(r.queue, r.stop) })
	return r.events
}

// Err returns why the reader ended by itself, or nil while it runs and
// after Close.
func (r *Reader) Err() error { return r.queue.Err() }

// Stats returns the reader's counters.
func (r *Reader) Stats() Stats { return r.stats.Stats(r.rcvbuf) }

// Close unsubscribes, closes the socket and waits for the reading
// goroutine to end. Close does not wait for the consumer. It is safe to
// call more than once.
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
		close(r.stop)
	})
	return err
}

func (r *Reader) run() {
	defer close(r.done)
	err := nlsock.ReadLoop(func() error { return r.src.receive(r.handle) }, r.closing.Load, &r.stats, r.queue)
	r.queue.End(err)
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
	r.queue.Put(m.Event)
}
