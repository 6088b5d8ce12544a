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
//
// The events are consumed with the methods of the embedded nlsock.Feed:
// Drain in batches after Ready, or Events one by one; Err says why the
// reader ended by itself.
type Reader struct {
	src     source
	*feed   // Ready, Drain, Events, Err
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

	closing   atomic.Bool
	closeOnce sync.Once
	stop      chan struct{} // closed by Close
	done      chan struct{} // closed when the reading goroutine has ended
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
	r.feed = nlsock.NewFeed(r.queue, r.stop)
	go r.run()
	return r
}

// feed names the embedded consumer's side, so that its methods are the
// Reader's without the field being exported.
type feed = nlsock.Feed[Event]

func lostEvent(dropped uint64, overrun bool) Event {
	return Event{Kind: Lost, Lost: dropped, Overrun: overrun}
}

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
