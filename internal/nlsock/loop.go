package nlsock

import "errors"

// ErrOverrun is what a receive returns when the kernel dropped messages
// because the socket's receive buffer was full (ENOBUFS); the socket stays
// usable.
var ErrOverrun = errors.New("receive buffer overrun")

// MaxConsecutiveErrors ends a reader whose reads fail this many times in a
// row with errors other than overruns: such a socket is broken, and a
// loop on it would only burn CPU.
const MaxConsecutiveErrors = 100

// ReadLoop calls receive, which reads one datagram and queues what it
// holds, until closing reports that the reader is being closed (nil is
// returned then) or reads fail MaxConsecutiveErrors times in a row, when
// the last error is returned. An overrun is counted and announced through
// q; another failed read is counted and announced too, since it may have
// cost a datagram.
func ReadLoop[E any](receive func() error, closing func() bool, stats *Counters, q *Queue[E]) error {
	failures := 0
	for {
		err := receive()
		if closing() {
			return nil
		}
		switch {
		case err == nil:
			failures = 0
		case errors.Is(err, ErrOverrun):
			stats.Overruns.Add(1)
			q.Overrun()
		default:
			stats.Errors.Add(1)
			q.Overrun()
			if failures++; failures >= MaxConsecutiveErrors {
				return err
			}
		}
	}
}
