package zkstate

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/go-zookeeper/zk"
	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/codes"
)

// getResult is a read of the payload, with when it was sent: a read
// verifies the copy as of then, not as of its answer.
type getResult struct {
	data  []byte
	stat  *zk.Stat
	watch <-chan zk.Event
	sent  time.Duration
}

// getW reads the payload and arms its watch.
func (s *Store[T]) getW(ctx context.Context) (getResult, error) {
	r := getResult{sent: s.now()}
	var err error
	r.data, r.stat, r.watch, err = s.sess.GetW(ctx, s.payloadPath)
	return r, err
}

// get reads the payload without a watch. With fresh it first sends a sync,
// so the answer is at least as new as anything this client was told before.
func (s *Store[T]) get(ctx context.Context, fresh bool) (getResult, error) {
	r := getResult{sent: s.now()}
	err := s.sess.retry(ctx, func(ctx context.Context) (err error) {
		if fresh {
			if err := s.sess.Sync(ctx, s.payloadPath); err != nil {
				return err
			}
		}
		r.data, r.stat, err = s.sess.Get(ctx, s.payloadPath)
		return err
	})
	return r, err
}

func (s *Store[T]) now() time.Duration { return time.Since(s.epoch) }

func (s *Store[T]) markVerified(at time.Duration) {
	for {
		old := s.verified.Load()
		if int64(at) <= old || s.verified.CompareAndSwap(old, int64(at)) {
			return
		}
	}
}

// advance moves the local copy to what the server returned, if it is newer,
// and publishes the transition. Invalid documents never replace the last good
// value; they are counted and logged once per version.
func (s *Store[T]) advance(data []byte, stat *zk.Stat, sent time.Duration) {
	s.applyMu.Lock()
	defer s.applyMu.Unlock()
	cur := s.cur.Load()
	if stat.Mzxid <= cur.mzxid {
		if stat.Mzxid == cur.mzxid {
			s.markVerified(sent)
			s.gap.Store(false)
		}
		return
	}
	if stat.Mzxid <= s.badMzxid {
		if stat.Mzxid == s.badMzxid {
			s.markVerified(sent)
			s.gap.Store(false)
		}
		return
	}
	s.noteNode(stat)
	s.server.Store(stat.Version)
	v, err := s.decode(data)
	if err != nil {
		s.badVersion, s.badMzxid = stat.Version, stat.Mzxid
		s.badErr = withVersion(err, stat.Version)
		s.invalid.Store(true)
		s.stats.invalidPayloads.Add(1)
		s.markVerified(sent)
		s.o.logger.Error("zkstate: ignoring invalid payload, keeping the last good value",
			"path", s.payloadPath, "version", stat.Version, "kept_version", cur.version, "err", err)
		s.publishNotice(s.invalidNotice(s.badErr, cur))
		return
	}
	next := &snapshot[T]{value: v, raw: bytes.Clone(data), version: stat.Version, mzxid: stat.Mzxid}
	s.cur.Store(next)
	s.invalid.Store(false)
	s.badVersion, s.badMzxid, s.badErr = -1, 0, nil
	s.markVerified(sent)
	s.stats.transitions.Add(1)
	s.publish(&transition[T]{from: cur, to: next, resync: s.gap.Swap(false)})
}

// withVersion sets the version of a decode error.
func withVersion(err error, version int32) *InvalidPayloadError {
	var ip *InvalidPayloadError
	if errors.As(err, &ip) {
		c := *ip
		c.Version = version
		return &c
	}
	return &InvalidPayloadError{Version: version, Reason: err}
}

// Read returns the local value without a round trip. It fails with ErrStale
// when the value has not been verified against ZooKeeper within the
// staleness bound (a monotonic clock measures it), so a partitioned instance
// notices instead of serving an old value forever. The value is shared:
// treat it as read-only.
func (s *Store[T]) Read() (T, error) {
	cur := s.cur.Load()
	if s.closedFlag.Load() {
		return cur.value, ErrClosed
	}
	if cur.version < 0 {
		return cur.value, fmt.Errorf("%w: no valid document at %s yet", ErrInvalidPayload, s.payloadPath)
	}
	if age := s.now() - time.Duration(s.verified.Load()); age > s.o.maxStaleness {
		return cur.value, fmt.Errorf("%w: last verified %s ago, bound %s", ErrStale, age.Round(time.Millisecond), s.o.maxStaleness)
	}
	return cur.value, nil
}

// Info describes the local copy, as DirtyRead returns it.
type Info struct {
	// Version of the value returned; -1 when no good document was read yet.
	Version int32
	// ServerVersion is the newest version seen on the server, good or not.
	ServerVersion int32
	// Age is the time since the copy was last verified against the server.
	Age time.Duration
	// Stale is Age beyond the staleness bound: Read would fail.
	Stale bool
	// Invalid is set while the server holds a document that was rejected.
	Invalid bool
	// Connected reports whether the session is up right now.
	Connected bool
}

// DirtyRead returns the local value and what is known of its freshness. It
// never fails and never blocks, so it is what a monitor should use to keep
// working while ZooKeeper is away. The value is shared: treat it as
// read-only.
func (s *Store[T]) DirtyRead() (T, Info) {
	cur := s.cur.Load()
	age := s.now() - time.Duration(s.verified.Load())
	return cur.value, Info{
		Version:       cur.version,
		ServerVersion: s.server.Load(),
		Age:           age,
		Stale:         age > s.o.maxStaleness,
		Invalid:       s.invalid.Load(),
		Connected:     s.sess.connected.Load(),
	}
}

// ConsistentRead returns a linearizable read: the value was the newest one on
// the server at some instant between the call and its return.
//
// A ZooKeeper sync followed by a get is not enough (sync is not a quorum
// operation, so a deposed leader's follower can still serve an old value);
// ConsistentRead instead sends a multi holding a version check of the
// payload, which the leader orders among all writes with a quorum. If the
// check fails, it fetches the newer document and checks again. The cost is
// one transaction on the ensemble per call.
//
// If the server holds an invalid document, it returns the last good snapshot
// with an error wrapping ErrInvalidPayload.
func (s *Store[T]) ConsistentRead(ctx context.Context) (Snapshot[T], error) {
	ctx, span := s.tracer.Start(ctx, "zkstate.ConsistentRead")
	defer span.End()
	snap, err := s.consistentRead(ctx)
	if err != nil {
		span.RecordError(err)
		span.SetStatus(codes.Error, err.Error())
	}
	span.SetAttributes(attribute.Int("zkstate.version", int(snap.Version)))
	return snap, err
}

func (s *Store[T]) consistentRead(ctx context.Context) (Snapshot[T], error) {
	if s.closedFlag.Load() {
		return Snapshot[T]{}, ErrClosed
	}
	ctx, end := s.scope(ctx)
	defer end()
	for {
		s.applyMu.Lock()
		cur := s.cur.Load()
		want := cur.version
		bad := s.invalid.Load()
		badErr := s.badErr
		if bad {
			want = s.badVersion
		}
		s.applyMu.Unlock()
		snap := Snapshot[T]{Value: cur.value, Version: cur.version, Raw: cur.raw}
		if want >= 0 {
			sent := s.now()
			err := s.sess.retry(ctx, func(ctx context.Context) error {
				_, err := s.sess.Multi(ctx, &zk.CheckVersionRequest{Path: s.payloadPath, Version: want})
				return err
			})
			switch {
			case err == nil:
				s.markVerified(sent)
				if bad && badErr != nil {
					return snap, badErr
				}
				return snap, nil
			case errors.Is(err, zk.ErrNoNode):
				return snap, fmt.Errorf("%w at %s", ErrNoState, s.root)
			case !errors.Is(err, zk.ErrBadVersion):
				return snap, fmt.Errorf("zkstate: consistent read of %s: %w", s.payloadPath, err)
			}
		}
		// Behind: fetch through a sync so the retry does not spin on a
		// lagging follower.
		r, err := s.get(ctx, true)
		if err != nil {
			if errors.Is(err, zk.ErrNoNode) {
				return snap, fmt.Errorf("%w at %s", ErrNoState, s.root)
			}
			return snap, fmt.Errorf("zkstate: consistent read of %s: %w", s.payloadPath, err)
		}
		s.advance(r.data, r.stat, r.sent)
	}
}
