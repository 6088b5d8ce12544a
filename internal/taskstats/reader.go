package taskstats

import (
	"errors"
	"sync"
	"sync/atomic"
	"time"

	"github.com/procwatch/procwatch/internal/nlsock"
)

// errOverrun is what a source returns when the kernel dropped messages
// because the socket's receive buffer was full (ENOBUFS); the socket stays
// usable.
var errOverrun = errors.New("taskstats: receive buffer overrun")

// maxConsecutiveErrors ends the reader when reads fail this many times in
// a row with errors other than overruns: such a socket is broken.
const maxConsecutiveErrors = 100

// The netlink message types the reader tells apart.
const nlmsgError = 2 // NLMSG_ERROR, also the acknowledgement

// source is the socket a Reader drains: the TASKSTATS family's in
// production, a scripted one in the queue's tests.
type source interface {
	// receive reads one datagram and calls fn with the type, sequence
	// number and payload of each netlink message in it; fn must not
	// keep b. An error the kernel sent as an NLMSG_ERROR is returned.
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
type Reader struct {
	src    source
	events chan Event
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
	lost     uint64
	overrun  bool
	answered bool
	answer   error

	started   atomic.Bool
	closing   atomic.Bool
	closeOnce sync.Once
	done      chan struct{}
	err       error
}

func newReader(src source, o options, mask string, seq uint32, mono0 time.Duration) *Reader {
	return &Reader{
		src:    src,
		events: make(chan Event, o.queueSize),
		rcvbuf: src.readBuffer(),
		mask:   mask,
		seq:    seq,
		mono0:  mono0,
		wall0:  time.Now(),
		done:   make(chan struct{}),
	}
}

// awaitAnswer reads until the kernel has answered the registration with
// sequence number r.seq, queueing the records that come before the answer
// as any other. It runs before the reading goroutine starts.
func (r *Reader) awaitAnswer() error {
	for !r.answered {
		if err := r.src.receive(r.handle); err != nil {
			if errors.Is(err, errOverrun) {
				r.stats.Overruns.Add(1)
				r.overrun = true
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

// Close deregisters, closes the socket and waits for the reading
// goroutine to end; Events is closed then, with the events still queued
// readable. It is safe to call more than once.
func (r *Reader) Close() error {
	var err error
	r.closeOnce.Do(func() {
		r.closing.Store(true)
		// Without the deregistration the kernel keeps the listener until
		// it next fails to send to the closed socket. The answer is not
		// awaited: the socket closes right after.
		_ = r.src.register(r.mask, true, r.seq+1)
		err = r.src.close()
		select {
		case <-r.done:
		default:
			if !r.running() {
				// Open failed before the goroutine started.
				close(r.events)
				close(r.done)
			} else {
				<-r.done
			}
		}
	})
	return err
}

// running reports whether the reading goroutine was started: Open starts
// it once the registration is answered.
func (r *Reader) running() bool { return r.started.Load() }

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
			r.overrun = true
			if failures++; failures >= maxConsecutiveErrors {
				r.err = err
				return
			}
		}
	}
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

func (r *Reader) deliver(e Event) {
	if !r.flushLost() {
		r.drop()
		return
	}
	select {
	case r.events <- e:
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
// whether the queue is free for further events: none may go before it.
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
