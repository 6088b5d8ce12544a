package nlsock

import "sync/atomic"

// Stats are a netlink reader's counters since it opened, for a caller to
// export. A message is an event of the process connector or an exit
// record, as the reader reads.
type Stats struct {
	// Received counts the messages read from the socket, of every kind
	// and every thread.
	Received uint64
	// Delivered counts the events put in the queue, Lost events included.
	Delivered uint64
	// Dropped counts the events the queue had no room for.
	Dropped uint64
	// Overruns counts the times the kernel reported that it dropped
	// messages (ENOBUFS: the socket's receive buffer was full); how many
	// it dropped is not known.
	Overruns uint64
	// Malformed counts messages that did not decode.
	Malformed uint64
	// Errors counts other failed reads of the socket.
	Errors uint64
	// ReadBuffer is the socket's receive buffer in bytes, as the kernel
	// reports it (twice what was asked: it counts its own bookkeeping).
	ReadBuffer int
}

// Counters are the live counters behind Stats, updated by the reading
// goroutine and read by anyone.
type Counters struct {
	Received, Delivered, Dropped, Overruns, Malformed, Errors atomic.Uint64
}

// Stats returns the counters as they stand, with the socket's buffer size.
func (c *Counters) Stats(readBuffer int) Stats {
	return Stats{
		Received:   c.Received.Load(),
		Delivered:  c.Delivered.Load(),
		Dropped:    c.Dropped.Load(),
		Overruns:   c.Overruns.Load(),
		Malformed:  c.Malformed.Load(),
		Errors:     c.Errors.Load(),
		ReadBuffer: readBuffer,
	}
}
