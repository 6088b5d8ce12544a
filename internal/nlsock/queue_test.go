package nlsock

import (
	"testing"

	"github.com/google/go-cmp/cmp"
)

// msg is a test message: a number, or a Lost announcement.
type msg struct {
	n       int
	lost    uint64
	overrun bool
	isLost  bool
}

func lostMsg(dropped uint64, overrun bool) msg {
	return msg{lost: dropped, overrun: overrun, isLost: true}
}

func newTestQueue(limit int) (*Queue[msg], *Counters) {
	c := new(Counters)
	return NewQueue(limit, lostMsg, c), c
}

func put(q *Queue[msg], from, to int) {
	for n := from; n < to; n++ {
		q.Put(msg{n: n})
	}
}

func numbers(from, to int) []msg {
	var out []msg
	for n := from; n < to; n++ {
		out = append(out, msg{n: n})
	}
	return out
}

var cmpMsg = cmp.AllowUnexported(msg{})

// What finds the queue full is dropped and counted, and the consumer
// learns of the gap from one Lost message right after what came before it.
func TestQueueDropsCountsAndAnnouncesTheGapInPlace(t *testing.T) {
	q, c := newTestQueue(3)
	put(q, 0, 5)
	got, more := q.Drain(nil)
	want := append(numbers(0, 3), lostMsg(2, false))
	if diff := cmp.Diff(want, got, cmpMsg); diff != "" || !more {
		t.Fatalf("drained (-want +got), more %t:\n%s", more, diff)
	}
	if d, l := c.Delivered.Load(), c.Dropped.Load(); d != 4 || l != 2 {
		t.Errorf("delivered %d, dropped %d; want 4 (one of them Lost) and 2", d, l)
	}
	if got, _ := q.Drain(nil); len(got) != 0 {
		t.Errorf("a second drain gave %v; want nothing, the gap was announced once", got)
	}
}

// Overruns between two messages make one Lost message, before the next.
func TestQueueAnnouncesARunOfOverrunsOnce(t *testing.T) {
	q, _ := newTestQueue(10)
	put(q, 0, 1)
	q.Overrun()
	q.Overrun()
	put(q, 1, 2)
	got, _ := q.Drain(nil)
	want := []msg{{n: 0}, lostMsg(0, true), {n: 1}}
	if diff := cmp.Diff(want, got, cmpMsg); diff != "" {
		t.Fatalf("drained (-want +got):\n%s", diff)
	}
}

// The queue grows only as a burst needs, never past its limit, and gives
// the burst's memory back once it is drained.
func TestQueueGrowsToItsLimitAndShrinksAfterTheBurst(t *testing.T) {
	q, _ := newTestQueue(1000)
	put(q, 0, 1)
	if c := cap(q.items); c != initialCapacity {
		t.Fatalf("capacity %d after one message; want %d", c, initialCapacity)
	}
	put(q, 1, 2000)
	if n, c := len(q.items), cap(q.items); n != 1000 || c != 1000 {
		t.Fatalf("%d queued in a capacity of %d after a burst of 2000; want 1000 in 1000", n, c)
	}
	got, _ := q.Drain(nil)
	if len(got) != 1001 || got[1000] != lostMsg(1000, false) {
		t.Fatalf("drained %d, last %+v; want 1000 and a Lost of 1000", len(got), got[len(got)-1])
	}
	put(q, 0, 1)
	if c := cap(q.items); c > initialCapacity {
		t.Errorf("capacity %d after the burst was drained; want it back to %d", c, initialCapacity)
	}
}

// Ready wakes a consumer for what is queued and for the end; an ended
// queue keeps what was queued, refuses more, and stays ready.
func TestQueueReadyAndEnd(t *testing.T) {
	q, c := newTestQueue(10)
	put(q, 0, 2)
	<-q.Ready()
	q.End(errTest)
	if q.Put(msg{n: 9}) {
		t.Fatal("an ended queue took a message")
	}
	got, more := q.Drain(nil)
	if diff := cmp.Diff(numbers(0, 2), got, cmpMsg); diff != "" || !more {
		t.Fatalf("after End, drained (-want +got), more %t:\n%s", more, diff)
	}
	<-q.Ready()
	if got, more := q.Drain(nil); len(got) != 0 || more {
		t.Fatalf("the last drain gave %v, more %t; want nothing and the end", got, more)
	}
	<-q.Ready()
	if q.Err() != errTest || c.Delivered.Load() != 2 {
		t.Errorf("err %v, delivered %d; want the reason given to End and the two messages before it", q.Err(), c.Delivered.Load())
	}
}
