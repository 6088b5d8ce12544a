package procevents

import (
	"errors"
	"fmt"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/procwatch/procwatch/internal/nlsock"
)

// scripted is a source that hands the reader what a test sends it: a
// datagram of messages, or a read error.
type scripted struct {
	reads    chan any // [][]byte or error
	consumed chan struct{}
	closed   chan struct{}
}

func newScripted() *scripted {
	return &scripted{reads: make(chan any), consumed: make(chan struct{}), closed: make(chan struct{})}
}

func (s *scripted) receive(fn func([]byte)) error {
	select {
	case r := <-s.reads:
		defer func() { s.consumed <- struct{}{} }()
		if err, ok := r.(error); ok {
			return err
		}
		for _, b := range r.([][]byte) {
			fn(b)
		}
		return nil
	case <-s.closed:
		return errors.New("closed")
	}
}

func (s *scripted) control(op, seq, ack uint32) error { return nil }
func (s *scripted) readBuffer() int                   { return 0 }
func (s *scripted) close() error                      { close(s.closed); return nil }

// send hands the reader one read and waits until it has been handled, so
// that what the test looks at next is the reader's state after it.
func (s *scripted) send(r any) {
	s.reads <- r
	<-s.consumed
}

func execs(from, n int) [][]byte {
	var out [][]byte
	for pid := from; pid < from+n; pid++ {
		out = append(out, procMsg(procEventExec, uint32(pid), uint32(pid)))
	}
	return out
}

func newScriptedReader(t *testing.T, o options) (*Reader, *scripted) {
	t.Helper()
	src := newScripted()
	r := newReader(src, o, 1, 1)
	t.Cleanup(func() { r.Close() })
	return r, src
}

// drain takes what is queued now, without waiting.
func drain(r *Reader) []string {
	batch, _ := r.Drain(nil)
	var got []string
	for _, e := range batch {
		got = append(got, e.String())
	}
	return got
}

// A full queue drops and counts, never blocks the reader, and the consumer
// learns of the gap at its place: right after the events queued before it.
func TestFullQueueDropsCountsAndAnnouncesTheGap(t *testing.T) {
	o := defaultOptions()
	o.QueueLimit = 3
	r, src := newScriptedReader(t, o)

	src.send(execs(100, 5)) // 3 fit, 2 dropped
	src.send(execs(105, 1)) // still full: dropped
	want := []string{"exec pid=100 tgid=100", "exec pid=101 tgid=101", "exec pid=102 tgid=102", "lost dropped=3 overrun=false"}
	if diff := cmp.Diff(want, drain(r)); diff != "" {
		t.Fatalf("queued (-want +got):\n%s", diff)
	}
	src.send(execs(200, 4)) // three fit, one dropped
	want = []string{"exec pid=200 tgid=200", "exec pid=201 tgid=201", "exec pid=202 tgid=202", "lost dropped=1 overrun=false"}
	if diff := cmp.Diff(want, drain(r)); diff != "" {
		t.Fatalf("after a second gap (-want +got):\n%s", diff)
	}
	st := r.Stats()
	if st.Received != 10 || st.Dropped != 4 || st.Delivered != 8 {
		t.Errorf("stats %+v; want 10 received, 4 dropped, 8 delivered (2 of them Lost)", st)
	}
}

// An overrun (ENOBUFS) is counted, reading goes on, and the consumer is
// told at once, between the events before and after it.
func TestOverrunIsCountedAndAnnounced(t *testing.T) {
	r, src := newScriptedReader(t, defaultOptions())
	src.send(execs(100, 1))
	src.send(fmt.Errorf("recvmsg: %w", nlsock.ErrOverrun))
	src.send(execs(101, 1))
	want := []string{"exec pid=100 tgid=100", "lost dropped=0 overrun=true", "exec pid=101 tgid=101"}
	if diff := cmp.Diff(want, drain(r)); diff != "" {
		t.Fatalf("events (-want +got):\n%s", diff)
	}
	if st := r.Stats(); st.Overruns != 1 || r.Err() != nil {
		t.Errorf("stats %+v, err %v; want one overrun and a reader still running", st, r.Err())
	}
}

// Events delivers the same events one by one, and is closed when the
// reader ends by itself, after the last of them.
func TestEventsForwardsInOrderUntilTheReaderEnds(t *testing.T) {
	r, src := newScriptedReader(t, defaultOptions())
	src.send(execs(100, 3))
	broken := errors.New("recvmsg: bad file descriptor")
	for range nlsock.MaxConsecutiveErrors {
		src.send(broken)
	}
	// The source returns the last error before the reader announces it:
	// wait until the reader has ended, or a consumer draining in between
	// would rightly see the run of failures as two gaps.
	<-r.done
	var got []string
	for e := range r.Events() {
		got = append(got, e.String())
	}
	want := []string{"exec pid=100 tgid=100", "exec pid=101 tgid=101", "exec pid=102 tgid=102", "lost dropped=0 overrun=true"}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Fatalf("events (-want +got):\n%s", diff)
	}
}

// Threads other than the leader start and end no process: by default they
// are not queued; WithThreads queues them.
func TestThreadEventsOnlyWhenAsked(t *testing.T) {
	thread := [][]byte{procMsg(procEventFork, 10, 10, 12, 10), procMsg(procEventExit, 12, 10, 0, 0, 10, 10)}
	r, src := newScriptedReader(t, defaultOptions())
	src.send(thread)
	if got := drain(r); len(got) != 0 {
		t.Errorf("thread events queued by default: %q", got)
	}
	o := defaultOptions()
	WithThreads()(&o)
	r, src = newScriptedReader(t, o)
	src.send(thread)
	if got := drain(r); len(got) != 2 {
		t.Errorf("with WithThreads, queued %q; want the fork and exit of the thread", got)
	}
}

// Garbage is counted and skipped; a socket that keeps failing ends the
// reader with its error and closes the queue.
func TestMalformedIsCountedAndABrokenSocketEndsTheReader(t *testing.T) {
	r, src := newScriptedReader(t, defaultOptions())
	src.send([][]byte{{1, 2, 3}})
	if st := r.Stats(); st.Malformed != 1 {
		t.Errorf("stats %+v; want one malformed", st)
	}
	broken := errors.New("recvmsg: bad file descriptor")
	for range nlsock.MaxConsecutiveErrors {
		src.send(broken)
	}
	for _, more := r.Drain(nil); more; _, more = r.Drain(nil) {
		<-r.Ready()
	}
	if err := r.Err(); !errors.Is(err, broken) {
		t.Fatalf("Err = %v; want the socket's error", err)
	}
}

func TestOptionsAreChecked(t *testing.T) {
	for _, opt := range []Option{WithQueueSize(0), WithReadBuffer(-1), WithAnswerTimeout(0)} {
		o := defaultOptions()
		opt(&o)
		if err := o.validate(); err == nil {
			t.Errorf("options %+v accepted", o)
		}
	}
}
