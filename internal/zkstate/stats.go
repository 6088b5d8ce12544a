package zkstate

import (
	"sync/atomic"
	"time"
)

type counters struct {
	updates           atomic.Uint64
	conflicts         atomic.Uint64
	retries           atomic.Uint64
	lockAcquisitions  atomic.Uint64
	lockWaitNanos     atomic.Uint64
	resyncs           atomic.Uint64
	invalidPayloads   atomic.Uint64
	queueDrops        atomic.Uint64
	transitions       atomic.Uint64
	ambiguousWrites   atomic.Uint64
	ambiguousResolved atomic.Uint64
	reregistrations   atomic.Uint64
	readErrors        atomic.Uint64
}

// Stats are cumulative counters of a Store, for a caller to export (for
// example as Prometheus counters). They only grow.
type Stats struct {
	// Updates is the number of writes this Store committed.
	Updates uint64
	// Conflicts counts compare-and-set failures: a strict CompareAndSwap on
	// an old version, or a writer that bypassed the lock.
	Conflicts uint64
	// Retries counts Update attempts repeated after a conflict.
	Retries uint64
	// LockAcquisitions and LockWait: how often the write lock was taken and
	// the total time spent waiting for it (including failed waits).
	LockAcquisitions uint64
	LockWait         time.Duration
	// Resyncs counts full resynchronisations: after a lost session, and for
	// every subscriber whose queue overflowed.
	Resyncs uint64
	// SessionExpirations counts sessions lost by the Session under this Store.
	SessionExpirations uint64
	// InvalidPayloads counts distinct rejected document versions.
	InvalidPayloads uint64
	// QueueDrops counts queued events merged away by subscriber overflow.
	QueueDrops uint64
	// Transitions counts moves of the local copy to a newer good version.
	Transitions uint64
	// AmbiguousWrites counts writes whose reply was lost with the
	// connection; AmbiguousResolved those whose outcome was then decided.
	AmbiguousWrites   uint64
	AmbiguousResolved uint64
	// Reregistrations counts listener nodes re-created after someone else
	// deleted them while the session lived.
	Reregistrations uint64
	// ReadErrors counts failed reads of the payload by the watch loop that
	// the connection does not explain, such as an ACL denying this client
	// READ: while they last the copy is not verified and goes stale.
	ReadErrors uint64
}

// Stats returns the Store's counters.
func (s *Store[T]) Stats() Stats {
	c := &s.stats
	return Stats{
		Updates:            c.updates.Load(),
		Conflicts:          c.conflicts.Load(),
		Retries:            c.retries.Load(),
		LockAcquisitions:   c.lockAcquisitions.Load(),
		LockWait:           time.Duration(c.lockWaitNanos.Load()),
		Resyncs:            c.resyncs.Load(),
		SessionExpirations: s.sess.Expirations(),
		InvalidPayloads:    c.invalidPayloads.Load(),
		QueueDrops:         c.queueDrops.Load(),
		Transitions:        c.transitions.Load(),
		AmbiguousWrites:    c.ambiguousWrites.Load(),
		AmbiguousResolved:  c.ambiguousResolved.Load(),
		Reregistrations:    c.reregistrations.Load(),
		ReadErrors:         c.readErrors.Load(),
	}
}
