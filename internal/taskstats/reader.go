package taskstats

import (
	"errors"
	"sync"
	"sync/atomic"
	"time"

	"github.com/procwatch/procwatch/internal/nlsock"
)

// The netlink message types the reader tells apart.
const nlmsgError = 2 // NLMSG_ERROR, also the acknowledgement

// source is the socket a Reader drains: the TASKSTATS family's in
// production, a scripted one in the queue's tests.
type source interface {
	// receive reads one datagram and calls fn with the type, sequence
	// number and payload of each netlink message in it; fn must not
	// keep b. An error the kernel sent as an NLMSG_ERROR is returned, an
	// overrun as nlsock.ErrOverrun.
	receive(fn func(typ uint16, seq uint32, b []byte)) error
	// register sends the registration (or, with deregister, its end)
	// for the CPUs of mask, with sequence number seq.
	register(mask string, deregister bool, seq uint32) error
	// family is the message type of the family's messages.
	family() uint16
	readBuffer() int
	close() error
}

// Reader is a registration for the kernel's exit records. One goroutine
// drains the socket into a bounded queue as fast as the kernel sends, and
// never waits for the consumer: what the queue has no room for is
// dropped, counted, and announced by a Lost event. Its methods are safe
// for concurrent use.
//
// The events are consumed with the methods of the embedded nlsock.Feed:
// Drain in batches after Ready, or Events one by one; Err says why the
// reader ended by itself.
type Reader struct {
	src    source
	*feed  // Ready, Drain, Events, Err
	queue  *nlsock.Queue[Event]
	stats  nlsock.Counters
	rcvbuf int
	mask   string
	seq    uint32

	// mono0 and wall0 turn the Go clock into CLOCK_MONOTONIC for
	// Event.Received, without a system call per record: Go's monotonic
	// clock is CLOCK_MONOTONIC.
	mono0 time.Duration
	wall0 time.Time

	// Only the reading goroutine (or Open, before it starts) touches
	// these.
	answered bool
	answer   error

	started   atomic.Bool
	closing   atomic.Bool
	closeOnce sync.Once
	stop      chan struct{} // closed by Close
	done      chan struct{} // closed when the reading goroutine has ended
}

func newReader(src source, o options, mask string, seq uint32, mono0 time.Duration) *Reader {
	r := &Reader{
		src:    src,
		rcvbuf: src.readBuffer(),
		mask:   mask,
		seq:    seq,
		mono0:  mono0,
		wall0:  time.Now(),
		stop:   make(chan struct{}),
		done:   make(chan struct{}),
	}
	r.queue = nlsock.NewQueue(o.QueueLimit, lostEvent, &r.stats)
	r.feed = nlsock.NewFeed(r.queue, r.stop)
	return r
}

// feed names the embedded consumer's side, so that its methods are the
// Reader's without the field being exported.
type feed = nlsock.Feed[Event]

func lostEvent(dropped uint64, overrun bool) Event {
	return Event{Kind: Lost, Lost: dropped, Overrun: overrun}
}

// awaitAnswer reads until the kernel has answered the registration with
// sequence number r.seq, queueing the records that come before the answer
// as any other. It runs before the reading goroutine starts.
func (r *Reader) awaitAnswer() error {
	for !r.answered {
		if err := r.src.receive(r.handle); err != nil {
			if errors.Is(err, nlsock.ErrOverrun) {
				r.stats.Overruns.Add(1)
				r.queue.Overrun()
				continue
			}
			return err
		}
	}
	return r.answer
}

// start runs the reading goroutine.
func (r *Reader) start() {
	r.started.Store(true)
	go r.run()
}

// Stats returns the reader's counters.
func (r *Reader) Stats() Stats { return r.stats.Stats(r.rcvbuf) }

// Close deregisters, closes the socket and waits for the reading
// goroutine to end. It is safe to call more than once.
func (r *Reader) Close() error {
	var err error
	r.closeOnce.Do(func() {
		r.closing.Store(true)
		// Without the deregistration the kernel keeps the listener until
		// it next fails to send to the closed socket. The answer is not
		// awaited: the socket closes right after.
		_ = r.src.register(r.mask, true, r.seq+1)
		err = r.src.close()
		if r.running() {
			<-r.done
		} else {
			// Open failed before the goroutine started.
			r.queue.End(nil)
			close(r.done)
		}
		close(r.stop)
	})
	return err
}

// running reports whether the reading goroutine was started: Open starts
// it once the registration is answered.
func (r *Reader) running() bool { return r.started.Load() }

func (r *Reader) run() {
	defer close(r.done)
	err := nlsock.ReadLoop(func() error { return r.src.receive(r.handle) }, r.closing.Load, &r.stats, r.queue)
	r.queue.End(err)
}

// handle takes one netlink message off the socket.
func (r *Reader) handle(typ uint16, seq uint32, b []byte) {
	if typ == nlmsgError {
		// A success acknowledgement; refusals come as errors of receive.
		if seq == r.seq {
			r.answered = true
		}
		return
	}
	if typ != r.src.family() {
		return
	}
	r.stats.Received.Add(1)
	m, err := Decode(b)
	if err != nil {
		r.stats.Malformed.Add(1)
		return
	}
	now := r.mono0 + time.Since(r.wall0)
	if m.Task.IsProcess() {
		r.deliver(Event{Kind: Task, Record: m.Task, Received: now})
	}
	if m.HasGroup {
		r.deliver(Event{Kind: Group, Record: m.Group, Received: now})
	}
}

func (r *Reader) deliver(e Event) { r.queue.Put(e) }
