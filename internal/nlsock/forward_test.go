package nlsock

import (
	"testing"

	"github.com/google/go-cmp/cmp"
)

// Forward delivers in order, across drains, and closes its channel after
// the last message of an ended queue.
func TestForwardDeliversInOrderUntilTheEnd(t *testing.T) {
	q, _ := newTestQueue(100)
	stop := make(chan struct{})
	defer close(stop)
	ch := Forward(q, stop)
	put(q, 0, 3)
	var got []msg
	for range 3 {
		got = append(got, <-ch)
	}
	put(q, 3, 5)
	q.End(nil)
	for m := range ch {
		got = append(got, m)
	}
	if diff := cmp.Diff(numbers(0, 5), got, cmpMsg); diff != "" {
		t.Fatalf("forwarded (-want +got):\n%s", diff)
	}
}

// Stopping ends the forwarding goroutine even when nobody reads (goleak
// checks that it ended).
func TestForwardStopsWithoutAReader(t *testing.T) {
	q, _ := newTestQueue(100)
	stop := make(chan struct{})
	ch := Forward(q, stop)
	put(q, 0, 10)
	close(stop)
	for range ch {
	}
}
