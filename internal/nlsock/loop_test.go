package nlsock

import (
	"errors"
	"fmt"
	"testing"
)

var errTest = errors.New("recvmsg: bad file descriptor")

// A read loop counts overruns and goes on; it ends with the error of a
// socket that fails MaxConsecutiveErrors times in a row, and a success in
// between starts the count again.
func TestReadLoopCountsOverrunsAndEndsOnABrokenSocket(t *testing.T) {
	q, c := newTestQueue(10)
	reads := []error{fmt.Errorf("recvmsg: %w", ErrOverrun), nil}
	for range MaxConsecutiveErrors - 1 {
		reads = append(reads, errTest)
	}
	reads = append(reads, nil)
	for range MaxConsecutiveErrors {
		reads = append(reads, errTest)
	}
	i := 0
	err := ReadLoop(func() error { i++; return reads[i-1] }, func() bool { return false }, c, q)
	if !errors.Is(err, errTest) || i != len(reads) {
		t.Fatalf("ended with %v after %d reads; want the socket's error after all %d", err, i, len(reads))
	}
	if o, e := c.Overruns.Load(), c.Errors.Load(); o != 1 || e != 2*MaxConsecutiveErrors-1 {
		t.Errorf("overruns %d, errors %d; want 1 and %d", o, e, 2*MaxConsecutiveErrors-1)
	}
	if got, _ := q.Drain(nil); len(got) != 1 || !got[0].overrun {
		t.Errorf("queued %v; want one Lost for the reads that failed", got)
	}
}

// A read that returns because the reader is closing ends the loop without
// an error, whatever the read said.
func TestReadLoopEndsQuietlyWhenClosing(t *testing.T) {
	q, c := newTestQueue(10)
	closing := false
	err := ReadLoop(func() error { closing = true; return errTest }, func() bool { return closing }, c, q)
	if err != nil || c.Errors.Load() != 0 {
		t.Fatalf("ended with %v, %d errors counted; want nil and none", err, c.Errors.Load())
	}
}
