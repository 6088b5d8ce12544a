package zkstate

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/go-zookeeper/zk"
	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/codes"
)

// Update applies fn to a private copy of the newest value and writes the
// result, so that concurrent updates from any number of instances are
// applied one after another and none is lost.
//
// One Update or CompareAndSwap runs at a time in this process (a mutex) and
// across all instances (the ZooKeeper lock under lock/). Under the lock fn
// runs on a private copy of the newest value, the result is validated and
// size-checked, and written with the version it was based on; the write is
// fenced by the lock node, so an instance whose session was lost cannot
// commit. The first attempt uses the local copy, which the watch keeps
// current; if the server has moved past it, the copy is brought up to date
// and fn runs again. A conflict with a writer that bypassed the lock is
// retried with a fresh copy (fn runs again) up to WithMaxRetries times, then
// reported as ErrConflict. fn must therefore expect to run more than once. If fn returns an error, nothing is written and the
// error is returned as is. If fn leaves the document unchanged, nothing is
// written. If the server holds an invalid document, fn starts from the last
// good value this Store read (ErrInvalidPayload if it never read one).
//
// If the connection drops while the write is in flight, Update finds out
// whether it was applied and reports that truthfully; only when that cannot
// be decided does it return ErrUnknownOutcome. The local copy and the
// subscribers' events move only after the write committed. The lock node is
// removed on every path; if ctx ends while waiting for the lock, the node is
// removed before Update returns (or in the background while the server is
// unreachable).
//
// It returns the version the value has after the write.
func (s *Store[T]) Update(ctx context.Context, fn func(*T) error) (int32, error) {
	return s.write(ctx, "zkstate.Update", -1, func(base []byte) ([]byte, error) {
		v, err := cloneValue[T](base)
		if err != nil {
			return nil, err
		}
		if err := fn(&v); err != nil {
			return nil, err
		}
		return s.encodeChecked(v, base)
	})
}

// CompareAndSwap writes v only if the server still holds version; otherwise
// it fails with ErrConflict and writes nothing. It takes the same lock as
// Update, so the outcome of a write cut off by a disconnect can be decided.
// Fields of the stored document that T does not know are preserved.
func (s *Store[T]) CompareAndSwap(ctx context.Context, version int32, v T) (int32, error) {
	if version < 0 {
		return -1, fmt.Errorf("zkstate: compare-and-set needs a version >= 0, got %d", version)
	}
	return s.write(ctx, "zkstate.CompareAndSwap", version, func(base []byte) ([]byte, error) {
		return s.encodeChecked(v, base)
	})
}

// CompareAndSwapJSON is CompareAndSwap for a whole document given as JSON,
// as an editor produces it: it must decode into T and pass validation, and is
// stored compacted, unknown fields included.
func (s *Store[T]) CompareAndSwapJSON(ctx context.Context, version int32, doc []byte) (int32, error) {
	if version < 0 {
		return -1, fmt.Errorf("zkstate: compare-and-set needs a version >= 0, got %d", version)
	}
	if _, err := s.decode(doc); err != nil {
		return -1, err
	}
	var buf bytes.Buffer
	if err := json.Compact(&buf, doc); err != nil {
		return -1, fmt.Errorf("%w: %w", ErrInvalidPayload, err)
	}
	out := buf.Bytes()
	return s.write(ctx, "zkstate.CompareAndSwap", version, func([]byte) ([]byte, error) { return out, nil })
}

func (s *Store[T]) encodeChecked(v T, base []byte) ([]byte, error) {
	if s.validate != nil {
		if err := s.validate(v); err != nil {
			return nil, fmt.Errorf("%w: %w", ErrInvalidPayload, err)
		}
	}
	return encodePayload(v, base)
}

// writeRun is the state of one Update or CompareAndSwap across its
// attempts.
type writeRun struct {
	strict  int32 // >= 0: a strict compare-and-set on that version
	produce func(base []byte) ([]byte, error)
	// fence is the write lock's, carried into the commit.
	fence Fence
	// optimistic: the attempt starts from the local copy, which the watch
	// keeps current; in the usual case that saves a read, and the
	// compare-and-set catches a copy that was behind, after which every
	// attempt reads the server first.
	optimistic bool
	// fresh: the next read of the server goes through a sync.
	fresh   bool
	retries int
}

// write is the engine behind Update and CompareAndSwap. strict >= 0 makes it
// a strict compare-and-set on that version. Its steps: enter (one writer in
// this process), the ZooKeeper lock and the receipt, then attempts until one
// is decided.
func (s *Store[T]) write(ctx context.Context, name string, strict int32, produce func(base []byte) ([]byte, error)) (version int32, err error) {
	ctx, end := s.scope(ctx)
	defer end()
	ctx, span := s.tracer.Start(ctx, name)
	w := &writeRun{strict: strict, produce: produce}
	defer func() {
		span.SetAttributes(attribute.Int("zkstate.version", int(version)), attribute.Int("zkstate.retries", w.retries))
		if err != nil {
			span.RecordError(err)
			span.SetStatus(codes.Error, err.Error())
		}
		span.End()
	}()
	leave, err := s.enterWrite(ctx)
	if err != nil {
		return -1, err
	}
	defer leave()
	if w.fence, err = s.takeLock(ctx); err != nil {
		return -1, err
	}
	// The removal of the lock node is not abandoned with ctx: Unlock
	// hands it to the background.
	defer func() { _ = s.lock.Unlock(ctx) }()
	if err := s.ensureReceipt(ctx); err != nil {
		return -1, err
	}
	// After waiting in the lock queue the copy is most likely behind (the
	// holder before us just wrote), so then the server is read at once.
	w.optimistic = !s.lock.Waited()
	for {
		if version, done, err := s.attempt(ctx, w); done {
			return version, err
		}
	}
}

// takeLock takes the write lock, counting the wait, failed or not.
func (s *Store[T]) takeLock(ctx context.Context) (Fence, error) {
	start := time.Now()
	defer func() { s.stats.lockWaitNanos.Add(uint64(time.Since(start))) }()
	f, err := s.lock.Lock(ctx)
	if err == nil {
		s.stats.lockAcquisitions.Add(1)
	}
	return f, err
}

// enterWrite waits for this process's turn to write.
func (s *Store[T]) enterWrite(ctx context.Context) (leave func(), err error) {
	if s.closedFlag.Load() {
		return nil, ErrClosed
	}
	select {
	case s.writeSem <- struct{}{}:
		return func() { <-s.writeSem }, nil
	case <-ctx.Done():
		return nil, context.Cause(ctx)
	case <-s.closed:
		return nil, ErrClosed
	}
}

// attempt makes one try: the base document, the new one, the commit. done
// is false when another attempt must follow.
func (s *Store[T]) attempt(ctx context.Context, w *writeRun) (version int32, done bool, err error) {
	data, version, err := s.writeBase(ctx, w)
	if err != nil {
		return -1, true, err
	}
	if w.strict >= 0 && version != w.strict {
		if w.optimistic {
			w.optimistic = false
			return -1, false, nil
		}
		s.stats.conflicts.Add(1)
		return -1, true, fmt.Errorf("%w: expected version %d, the server has %d", ErrConflict, w.strict, version)
	}
	base, err := s.goodBase(w, data, version)
	if err != nil {
		return -1, true, err
	}
	out, err := w.produce(base)
	if err != nil {
		return -1, true, err
	}
	if bytes.Equal(out, data) {
		if w.optimistic {
			// Unchanged relative to a copy that may be behind: only the
			// server's current document can say nothing is to do.
			w.optimistic = false
			return -1, false, nil
		}
		return version, true, nil
	}
	if len(out) > s.o.maxPayload {
		return -1, true, fmt.Errorf("%w: %d bytes, limit %d", ErrTooLarge, len(out), s.o.maxPayload)
	}
	v, outcome, err := s.commit(ctx, w, out, version)
	return s.settle(w, v, outcome, err)
}

// writeBase returns the document an attempt starts from and its version:
// the local copy while optimistic, else the server's.
func (s *Store[T]) writeBase(ctx context.Context, w *writeRun) ([]byte, int32, error) {
	if cur := s.cur.Load(); w.optimistic && cur.version >= 0 && !s.invalid.Load() {
		return cur.raw, cur.version, nil
	}
	w.optimistic = false
	r, err := s.get(ctx, w.fresh)
	if err != nil {
		if errors.Is(err, zk.ErrNoNode) {
			return nil, -1, fmt.Errorf("%w at %s", ErrNoState, s.root)
		}
		return nil, -1, fmt.Errorf("zkstate: read %s: %w", s.payloadPath, err)
	}
	s.advance(r.data, r.stat, r.sent)
	return r.data, r.stat.Version, nil
}

// goodBase returns what produce starts from: data, or the last good value
// when the server's document is invalid. The local copy was validated when
// it was read; only the server's document may be invalid.
func (s *Store[T]) goodBase(w *writeRun, data []byte, version int32) ([]byte, error) {
	if w.optimistic {
		return data, nil
	}
	if _, err := s.decode(data); err != nil {
		good := s.cur.Load()
		if good.version < 0 && w.strict < 0 {
			// Nothing good to apply fn to; CompareAndSwap can replace it.
			return nil, withVersion(err, version)
		}
		s.o.logger.Warn("zkstate: overwriting an invalid payload", "version", version, "base_version", good.version)
		return good.raw, nil
	}
	return data, nil
}

// settle turns a commit's outcome into the write's result, or into the
// state of the next attempt.
func (s *Store[T]) settle(w *writeRun, v int32, o outcome, err error) (int32, bool, error) {
	switch o {
	case committed:
		s.stats.updates.Add(1)
		return v, true, nil
	case conflicted:
		w.fresh = true
		if w.optimistic {
			// The local copy was behind; no conflict yet.
			w.optimistic = false
			return -1, false, nil
		}
		s.stats.conflicts.Add(1)
		if w.retries >= s.o.maxRetries || w.strict >= 0 {
			return -1, true, err
		}
		w.retries++
		s.stats.retries.Add(1)
		return -1, false, nil
	case again:
		w.optimistic = false
		w.fresh = true
		return -1, false, nil
	}
	return -1, true, err
}

type outcome int

const (
	failed outcome = iota
	committed
	conflicted // a conflict with a writer outside the lock
	again      // a write fenced off after a dropped connection: not applied, try again
)

// commit writes out over version expected in one multi that also deletes
// the lock node under the write's fence and stores a fresh token in this
// Store's write receipt. The fence's Delete fails the multi if the node
// went with a lost session, and releases the lock in the same transaction,
// which saves a write. It never abandons the request on ctx: its outcome
// decides what the caller is told.
func (s *Store[T]) commit(ctx context.Context, w *writeRun, out []byte, expected int32) (int32, outcome, error) {
	token, err := newReceiptToken()
	if err != nil {
		return -1, failed, err
	}
	if s.beforeCommit != nil {
		s.beforeCommit()
	}
	resp, err := s.sess.conn.Multi(
		w.fence.Delete(),
		&zk.SetDataRequest{Path: s.payloadPath, Data: out, Version: expected},
		&zk.SetDataRequest{Path: s.receiptPath, Data: token, Version: -1},
	)
	if err == nil && len(resp) == 3 && resp[1].Stat != nil {
		s.lock.Released()
		s.advance(out, resp[1].Stat, s.now())
		return resp[1].Stat.Version, committed, nil
	}
	if len(resp) == 3 {
		switch {
		case errors.Is(resp[0].Error, zk.ErrNoNode):
			return -1, failed, fmt.Errorf("%w: lock node %s is gone; nothing was written", ErrLockLost, w.fence.Path)
		case errors.Is(resp[1].Error, zk.ErrBadVersion):
			return -1, conflicted, fmt.Errorf("%w: %s changed after version %d by a writer outside the lock", ErrConflict, s.payloadPath, expected)
		case errors.Is(resp[1].Error, zk.ErrNoNode):
			return -1, failed, fmt.Errorf("%w at %s", ErrNoState, s.root)
		case errors.Is(resp[2].Error, zk.ErrNoNode):
			// Our receipt was collected as abandoned: make a new one.
			s.receiptReady = false
			if err := s.ensureReceipt(ctx); err != nil {
				return -1, failed, err
			}
			return -1, again, nil
		}
	}
	if ambiguous(err) {
		return s.resolve(ctx, w, expected, token, err)
	}
	return -1, failed, fmt.Errorf("zkstate: write %s: %w", s.payloadPath, mapErr(err))
}
