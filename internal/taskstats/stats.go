package taskstats

import "sync/atomic"

// Stats are a Reader's counters since Open, for a caller to export.
type Stats struct {
	// Received counts the exit messages read from the socket, of every
	// task, threads included.
	Received uint64
	// Delivered counts the events put in the queue, Lost events included.
	Delivered uint64
	// Dropped counts the records the queue had no room for.
	Dropped uint64
	// Overruns counts the times the kernel reported that it dropped
	// records (ENOBUFS: the socket's receive buffer was full); how many
	// is not known.
	Overruns uint64
	// Malformed counts messages that did not decode.
	Malformed uint64
	// Errors counts other failed reads of the socket.
	Errors uint64
	// ReadBuffer is the socket's receive buffer in bytes, as the kernel
	// reports it (twice what was asked: it counts its own bookkeeping).
	ReadBuffer int
}

type counters struct {
	received, delivered, dropped, overruns, malformed, errors atomic.Uint64
}
