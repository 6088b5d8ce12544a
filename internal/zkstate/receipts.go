package zkstate

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	mrand "math/rand/v2"
	"time"

	"github.com/go-zookeeper/zk"
)

// Write receipts make every ambiguous write decidable. Each writing Store
// owns one persistent node, <root>/writes/<id>, and every write's multi also
// stores a fresh random token there. If the connection drops during the
// write and the session (with the lock node that would otherwise tell) is
// lost too, the receipt still says whether the write was applied: nobody else
// writes it, and no request of the dead session can be applied any more.
//
// A Store removes its receipt on Close. Receipts of writers that died
// without closing are collected after receiptMaxAge by a later writing Store
// (one in collectEvery looks): an outcome is resolved within seconds, never
// days.

const receiptMaxAge = 24 * time.Hour

// collectEvery: one writing Store in this many collects abandoned receipts.
const collectEvery = 8

func newReceiptToken() ([]byte, error) {
	var b [16]byte
	if _, err := rand.Read(b[:]); err != nil {
		return nil, fmt.Errorf("zkstate: write token: %w", err)
	}
	return []byte(hex.EncodeToString(b[:])), nil
}

// ensureReceipt creates this Store's receipt before its first write. Called
// with writeSem held.
func (s *Store[T]) ensureReceipt(ctx context.Context) error {
	if s.receiptReady {
		return nil
	}
	if s.receiptPath == "" {
		id := s.memberID
		if id == "" {
			var b [8]byte
			if _, err := rand.Read(b[:]); err != nil {
				return fmt.Errorf("zkstate: receipt id: %w", err)
			}
			id = hex.EncodeToString(b[:])
		}
		s.receiptPath = s.writesPath + "/" + id
	}
	create := func(p string, acl []zk.ACL) error {
		err := s.sess.retry(ctx, func(ctx context.Context) error {
			_, err := s.sess.Create(ctx, p, nil, 0, orWorld(acl))
			return err
		})
		if err != nil && !errors.Is(err, zk.ErrNodeExists) {
			return fmt.Errorf("zkstate: create write receipt %s: %w", p, err)
		}
		return nil
	}
	// writes/ exists after the first writer ever: try the receipt first.
	err := create(s.receiptPath, s.o.acls.Owned)
	if errors.Is(err, zk.ErrNoNode) {
		if err = create(s.writesPath, s.o.acls.Writes); err == nil {
			err = create(s.receiptPath, s.o.acls.Owned)
		}
	}
	if err != nil {
		return err
	}
	s.receiptReady = true
	// Collecting costs a listing and a stat per receipt; a short-lived
	// writer such as a command-line tool need not pay it every time.
	if mrand.IntN(collectEvery) == 0 {
		s.wg.Add(1)
		go s.collectReceipts()
	}
	return nil
}

// collectReceipts removes receipts that no write touched for receiptMaxAge:
// their owners are gone.
func (s *Store[T]) collectReceipts() {
	defer s.wg.Done()
	ctx, cancel := context.WithTimeout(s.life, time.Minute)
	defer cancel()
	children, err := s.sess.Children(ctx, s.writesPath)
	if err != nil {
		return
	}
	cutoff := time.Now().Add(-receiptMaxAge).UnixMilli()
	for _, c := range children {
		p := s.writesPath + "/" + c
		if p == s.receiptPath {
			continue
		}
		ok, st, err := s.sess.Exists(ctx, p)
		if err == nil && ok && st.Mtime < cutoff {
			err = s.sess.Delete(ctx, p, st.Version)
		}
		if errors.Is(err, ErrClosed) {
			return
		}
	}
}

// closingReceipt returns the receipt to remove on Close, if any. Close holds
// no writeSem, but runs after every write has returned or been abandoned.
func (s *Store[T]) closingReceipt() string {
	select {
	case s.writeSem <- struct{}{}:
		defer func() { <-s.writeSem }()
		if s.receiptReady {
			return s.receiptPath
		}
	default:
		// A write is still running; its receipt is collected later.
	}
	return ""
}

// Ambiguous writes: a write whose reply was lost is decided here, with the
// lock node while it stands and with the receipt once it is gone.
func ambiguous(err error) bool {
	return errors.Is(err, zk.ErrConnectionClosed) || errors.Is(err, zk.ErrSessionExpired) ||
		errors.Is(err, zk.ErrSessionMoved) || errors.Is(err, zk.ErrClosing)
}

// resolve decides a write whose answer was lost with the connection.
//
// While the lock node still stands at the version the write expected, the
// write has not been applied, but the request may still be on its way:
// resolve refences the lock (Lock.Refence bumps the node's version), after
// which the old request can only fail, and the write is tried again. Once the node is gone (deleted by the write
// itself, or with a lost session, after which no request of that session can
// be applied), the write receipt is final evidence: it holds this write's
// token exactly when the write was applied, whatever other writers did since.
func (s *Store[T]) resolve(ctx context.Context, w *writeRun, expected int32, token []byte, cause error) (int32, outcome, error) {
	s.stats.ambiguousWrites.Add(1)
	unknown := func(err error) (int32, outcome, error) {
		return -1, failed, fmt.Errorf("%w: the connection dropped during the write (%v) and %v", ErrUnknownOutcome, cause, err)
	}
	fence, err := s.lock.Refence(ctx)
	switch {
	case err == nil:
		w.fence = fence
		s.stats.ambiguousResolved.Add(1)
		return -1, again, nil
	case !errors.Is(err, ErrLockLost):
		return unknown(err)
	}
	var data []byte
	err = s.sess.retry(ctx, func(ctx context.Context) (err error) {
		if err := s.sess.Sync(ctx, s.receiptPath); err != nil {
			return err
		}
		data, _, err = s.sess.Get(ctx, s.receiptPath)
		return err
	})
	if err != nil && !errors.Is(err, zk.ErrNoNode) {
		return unknown(fmt.Errorf("reading its receipt failed: %w", err))
	}
	s.stats.ambiguousResolved.Add(1)
	if err == nil && bytes.Equal(data, token) {
		return s.readBack(ctx, expected+1)
	}
	return -1, failed, fmt.Errorf("%w: the session ended during the write, which was not applied", ErrLockLost)
}

// readBack brings the local copy up to at least the version our write made,
// so events for it are published before the caller hears of success.
func (s *Store[T]) readBack(ctx context.Context, version int32) (int32, outcome, error) {
	for s.cur.Load().version < version {
		r, err := s.get(ctx, true)
		if err != nil {
			// The write is known to be applied; the watch will catch up.
			s.kickWatch()
			break
		}
		s.advance(r.data, r.stat, r.sent)
		if r.stat.Version >= version {
			break
		}
	}
	return version, committed, nil
}
