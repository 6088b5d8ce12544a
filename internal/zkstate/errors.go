package zkstate

import (
	"errors"
	"fmt"
)

// Sentinel errors. Every error returned by this package that belongs to one of
// these classes wraps the sentinel, so callers test with errors.Is and read the
// wrapped message for the detail.
var (
	// ErrStale is returned by Read when the local copy has not been verified
	// against ZooKeeper within the freshness bound (see WithMaxStaleness).
	ErrStale = errors.New("zkstate: local copy is stale")

	// ErrConflict is returned when a compare-and-set found another version on
	// the server: by CompareAndSwap at once, by Update after its retries.
	// Nothing was written.
	ErrConflict = errors.New("zkstate: version conflict")

	// ErrTooLarge is returned before anything is sent when the encoded value
	// exceeds the payload limit (DefaultMaxPayloadSize).
	ErrTooLarge = errors.New("zkstate: payload too large")

	// ErrLockTimeout is returned when the write lock could not be taken within
	// the lock timeout (see WithLockTimeout).
	ErrLockTimeout = errors.New("zkstate: timed out waiting for the write lock")

	// ErrLockLost is returned when the session that held the write lock ended
	// before the write was sent or decided. Nothing was written.
	ErrLockLost = errors.New("zkstate: write lock lost with the session")

	// ErrClosed is returned by every method of a closed Store or Session.
	ErrClosed = errors.New("zkstate: closed")

	// ErrInvalidPayload marks a document that is not valid JSON, does not fit
	// the Go type, or fails validation. A Store never replaces its last good
	// value with one.
	ErrInvalidPayload = errors.New("zkstate: invalid payload")

	// ErrNoState is returned when the payload node does not exist and the Store
	// was asked not to create it or wait for it (see WithoutWait).
	ErrNoState = errors.New("zkstate: no state")

	// ErrUnknownOutcome is returned when a write was in flight while the
	// connection dropped and it could not be decided afterwards whether it was
	// applied. It is returned only when the evidence is truly ambiguous; the
	// usual case is resolved and reported as success or failure.
	ErrUnknownOutcome = errors.New("zkstate: write outcome unknown")

	// ErrNotConnected is returned when no ZooKeeper session could be
	// established before the context ended.
	ErrNotConnected = errors.New("zkstate: not connected to ZooKeeper")

	// ErrPermission is returned when ZooKeeper refuses an operation because of
	// its ACL or missing credentials.
	ErrPermission = errors.New("zkstate: permission denied")
)

// InvalidPayloadError describes a document on the server that was rejected:
// its version, its text as stored and why. It matches ErrInvalidPayload with
// errors.Is, so callers that only need the class need not know it; a tool
// that wants to show or repair the document finds everything here.
type InvalidPayloadError struct {
	// Version is the payload node's version, -1 for a document that was
	// never stored (one a write was refused for).
	Version int32
	// Raw is the document exactly as stored, for a tool to show or repair.
	Raw []byte
	// Reason says why it is invalid: a JSON error, a strict-decoding
	// error, or what the type's rules (its Check) returned.
	Reason error
}

// Error names the version, when known, and why it is invalid.
func (e *InvalidPayloadError) Error() string {
	if e.Version < 0 {
		return fmt.Sprintf("zkstate: invalid payload: %v", e.Reason)
	}
	return fmt.Sprintf("zkstate: invalid payload at version %d: %v", e.Version, e.Reason)
}

// Is makes errors.Is(err, ErrInvalidPayload) hold.
func (e *InvalidPayloadError) Is(target error) bool { return target == ErrInvalidPayload }

// Unwrap returns the reason.
func (e *InvalidPayloadError) Unwrap() error { return e.Reason }
