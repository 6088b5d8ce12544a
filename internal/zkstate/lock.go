package zkstate

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"sort"
	"strings"
	"time"

	"github.com/go-zookeeper/zk"
)

// The write lock is the classic ZooKeeper recipe, written here because
// go-zookeeper's zk.Lock has no timeout or cancel and can leak its node:
// every contender creates an EPHEMERAL_SEQUENTIAL child of lock/, the lowest
// sequence holds the lock, and each waiter watches only its predecessor, so a
// release wakes one waiter instead of all of them.
//
// The node name carries a random prefix (go-zookeeper's "protected" create),
// so a create whose reply was lost to a disconnect can still be found and
// removed.
//
// Holding the node is not enough to write safely: a session can be lost while
// its owner still believes it holds the lock. Writes therefore go in a multi
// that deletes the lock node at its expected version (see commit), which
// fails if the node is gone and releases the lock with the write.

const lockPrefix = "lock-"

// heldLock is the write lock of one Update or CompareAndSwap.
type heldLock struct {
	path string
	// prefix is the guid part of the name; ambiguous is set when a create
	// reply was lost, so a duplicate node may exist and is swept on release.
	prefix    string
	ambiguous bool
	// released is set once the node is gone: a committed write deletes it
	// in the same transaction.
	released bool
	// waited is set when another held the lock when we queued.
	waited bool
	// version is the lock node's data version, which a write deletes the
	// node at; resolving an ambiguous write bumps it to fence off the old
	// request.
	version int32
}

// acquireLock takes the write lock, waiting at most the lock timeout (or less
// if ctx ends first). If it fails or ctx ends, the half-made lock node is
// removed before it returns, or by a background cleanup when the server is
// unreachable, so it never blocks other writers for longer than the session.
func (s *Store[T]) acquireLock(ctx context.Context) (*heldLock, error) {
	start := time.Now()
	defer func() { s.stats.lockWaitNanos.Add(uint64(time.Since(start))) }()

	lctx, cancel := context.WithTimeoutCause(ctx, s.o.lockTimeout, ErrLockTimeout)
	defer cancel()

	if err := s.sess.waitUsable(lctx); err != nil {
		return nil, lockErr(lctx, err)
	}
	held, err := s.createLockNode(lctx)
	if err != nil {
		return nil, lockErr(lctx, err)
	}
	path := held.path
	name := path[strings.LastIndex(path, "/")+1:]
	for {
		children, err := retry(lctx, s.sess, s.closed, func() ([]string, error) {
			c, _, err := s.sess.conn.Children(s.lockPath)
			return c, err
		})
		if err != nil {
			s.releaseLock(held)
			return nil, lockErr(lctx, err)
		}
		sortLockNodes(children)
		idx := -1
		for i, c := range children {
			if c == name {
				idx = i
				break
			}
		}
		if idx < 0 {
			// Our node is gone: the session ended while we waited. Queue
			// again with the new session.
			if held, err = s.createLockNode(lctx); err != nil {
				return nil, lockErr(lctx, err)
			}
			path = held.path
			name = path[strings.LastIndex(path, "/")+1:]
			continue
		}
		if idx == 0 {
			s.stats.lockAcquisitions.Add(1)
			return held, nil
		}
		pred := s.lockPath + "/" + children[idx-1]
		type existsW struct {
			ok bool
			ch <-chan zk.Event
		}
		r, err := retry(lctx, s.sess, s.closed, func() (existsW, error) {
			ok, _, ch, err := s.sess.conn.ExistsW(pred)
			return existsW{ok, ch}, err
		})
		if err != nil {
			s.releaseLock(held)
			return nil, lockErr(lctx, err)
		}
		if !r.ok {
			continue
		}
		held.waited = true
		select {
		case <-r.ch:
		case <-lctx.Done():
			s.releaseLock(held)
			return nil, lockErr(lctx, context.Cause(lctx))
		case <-s.closed:
			s.releaseLock(held)
			return nil, ErrClosed
		}
	}
}

// createLockNode creates this contender's node, named with a random guid so
// that a create whose reply was lost can be found again. If ctx ends while
// the create is in flight, a cleanup removes whatever it created.
func (s *Store[T]) createLockNode(ctx context.Context) (*heldLock, error) {
	var b [16]byte
	if _, err := rand.Read(b[:]); err != nil {
		return nil, fmt.Errorf("zkstate: lock guid: %w", err)
	}
	guid := hex.EncodeToString(b[:])
	prefix := "_c_" + guid + "-"
	ambiguous := false
	for {
		type result struct {
			path string
			err  error
		}
		done := make(chan result, 1)
		s.wg.Add(1)
		go func() {
			defer s.wg.Done()
			p, err := s.sess.conn.Create(s.lockPath+"/"+prefix+lockPrefix, []byte(s.memberID), zk.FlagEphemeral|zk.FlagSequence, orWorld(s.o.acls.Owned))
			done <- result{p, err}
		}()
		var r result
		select {
		case r = <-done:
		case <-ctx.Done():
			s.sweepLockNodes(prefix, "")
			return nil, context.Cause(ctx)
		case <-s.closed:
			s.sweepLockNodes(prefix, "")
			return nil, ErrClosed
		}
		switch {
		case r.err == nil:
			return &heldLock{path: r.path, prefix: prefix, ambiguous: ambiguous}, nil
		case errors.Is(r.err, zk.ErrConnectionClosed):
			// The create may have been applied: look for it.
			ambiguous = true
			if p, err := s.findLockNode(ctx, prefix); err != nil {
				s.sweepLockNodes(prefix, "")
				return nil, err
			} else if p != "" {
				return &heldLock{path: p, prefix: prefix, ambiguous: true}, nil
			}
		case errors.Is(r.err, zk.ErrNoServer), errors.Is(r.err, zk.ErrSessionExpired):
			// Not applied, or applied to a session that is gone.
		default:
			return nil, mapErr(r.err)
		}
		if err := s.sess.waitUsable(ctx); err != nil {
			s.sweepLockNodes(prefix, "")
			return nil, err
		}
	}
}

func (s *Store[T]) findLockNode(ctx context.Context, prefix string) (string, error) {
	children, err := retry(ctx, s.sess, s.closed, func() ([]string, error) {
		if _, err := s.sess.conn.Sync(s.lockPath); err != nil {
			return nil, err
		}
		c, _, err := s.sess.conn.Children(s.lockPath)
		return c, err
	})
	if err != nil {
		return "", err
	}
	for _, c := range children {
		if strings.HasPrefix(c, prefix) {
			return s.lockPath + "/" + c, nil
		}
	}
	return "", nil
}

// sweepLockNodes removes, in the background, every lock node carrying this
// contender's guid except keep: a create abandoned by a cancelled context or
// applied after its reply was lost must not stay in the queue, where it
// would become the lowest node and stall every writer until our session
// ends.
func (s *Store[T]) sweepLockNodes(prefix, keep string) {
	s.wg.Add(1)
	go func() {
		defer s.wg.Done()
		ctx, cancel := context.WithTimeout(context.Background(), 2*s.sess.Timeout()+5*time.Second)
		defer cancel()
		// Let an in-flight create land (or fail) first: requests of one
		// session are applied in order, so after this sync it is visible.
		children, err := retry(ctx, s.sess, s.sess.closed, func() ([]string, error) {
			if _, err := s.sess.conn.Sync(s.lockPath); err != nil {
				return nil, err
			}
			c, _, err := s.sess.conn.Children(s.lockPath)
			return c, err
		})
		if err != nil {
			return
		}
		for _, c := range children {
			if p := s.lockPath + "/" + c; strings.HasPrefix(c, prefix) && p != keep {
				s.deleteLockNode(p)
			}
		}
	}()
}

// releaseLock removes the lock node. When the server cannot be reached the
// removal is retried in the background until it succeeds or the session,
// and with it the ephemeral node, is gone: a lock node left behind would
// stall every writer in the fleet.
//
// The caller does not wait for the removal: a later attempt of this
// instance queues behind the node until it is gone, so nothing is gained by
// keeping the caller a round trip longer.
func (s *Store[T]) releaseLock(l *heldLock) {
	path := l.path
	if l.ambiguous {
		s.sweepLockNodes(l.prefix, path)
	}
	if l.released {
		return
	}
	s.wg.Add(1)
	go func() {
		defer s.wg.Done()
		s.deleteLockNode(path)
	}()
}

func (s *Store[T]) deleteLockNode(path string) {
	backoff := 50 * time.Millisecond
	for {
		err := s.sess.conn.Delete(path, -1)
		switch {
		case err == nil, errors.Is(err, zk.ErrNoNode), errors.Is(err, zk.ErrSessionExpired),
			errors.Is(err, zk.ErrClosing):
			return
		}
		select {
		case <-s.sess.closed:
			return
		case <-time.After(backoff):
		}
		if backoff < time.Second {
			backoff *= 2
		}
		s.o.logger.Warn("zkstate: retrying removal of lock node", "path", path, "err", err)
	}
}

// lockErr reports a lock wait that ran out of time as ErrLockTimeout, while
// keeping the caller's own cancellation recognisable.
func lockErr(ctx context.Context, err error) error {
	if errors.Is(err, ErrLockTimeout) || !errors.Is(context.Cause(ctx), ErrLockTimeout) {
		return err
	}
	return fmt.Errorf("%w: %w", ErrLockTimeout, err)
}

// sortLockNodes orders lock children by their sequence number, the last ten
// digits of the name: the random prefix of protected nodes must not decide
// the order.
func sortLockNodes(names []string) {
	seq := func(n string) string {
		if len(n) >= 10 {
			return n[len(n)-10:]
		}
		return n
	}
	sort.Slice(names, func(i, j int) bool { return seq(names[i]) < seq(names[j]) })
}
