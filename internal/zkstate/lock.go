package zkstate

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"log/slog"
	"sort"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/go-zookeeper/zk"
)

// The lock is the classic ZooKeeper recipe, written here because
// go-zookeeper's zk.Lock has no timeout or cancel and can leak its node:
// every contender creates an EPHEMERAL_SEQUENTIAL child of the lock
// directory, the lowest sequence holds the lock, and each waiter watches
// only its predecessor, so a release wakes one waiter instead of all of
// them.
//
// The node name carries a random prefix (go-zookeeper's "protected"
// create), so a create whose reply was lost to a disconnect can still be
// found and removed.
//
// Holding the node is not enough to write safely: a session can be lost
// while its owner still believes it holds the lock. A write therefore
// carries the lock's Fence into its multi, which then fails if the node is
// gone.

const lockPrefix = "lock-"

// Lock is a ZooKeeper lock on a Session, as etcd's concurrency.Mutex is on a
// lease: a node in dir that exists while it is held and goes with the
// session. One caller holds a Lock at a time; contenders use a Lock each,
// on one Session or many.
type Lock struct {
	sess *Session
	dir  string
	o    lockOptions

	mu     sync.Mutex
	node   *lockNode // while held
	waited atomic.Bool
	// beforeWatch, when set by a test, runs between listing the queue and
	// arming the watch on the predecessor.
	beforeWatch func()
}

// lockNode is the node of one hold of a Lock.
type lockNode struct {
	path string
	// session is the session the node was created in, which it goes with.
	session int64
	// prefix is the guid part of the name; ambiguous is set when a create
	// reply was lost, so a duplicate node may exist and is swept on Unlock.
	prefix    string
	ambiguous bool
	// released is set once the node is known to be gone.
	released bool
	// version is the node's data version, which the Fence holds; Refence
	// bumps it.
	version int32
}

type lockOptions struct {
	timeout time.Duration
	data    []byte
	acl     []zk.ACL
	logger  *slog.Logger
}

// LockOption configures a Lock.
type LockOption func(*lockOptions)

// LockTimeout bounds each wait for the lock; past it Lock fails with
// ErrLockTimeout. Without it only the context bounds the wait.
func LockTimeout(d time.Duration) LockOption {
	return func(o *lockOptions) { o.timeout = d }
}

// LockData is what the lock node holds, for an operator looking at the
// queue: who waits or holds (zkstate's Stores put their member id).
func LockData(data []byte) LockOption {
	return func(o *lockOptions) { o.data = append([]byte(nil), data...) }
}

// LockACL sets the ACL of the lock nodes (default: open to everyone).
func LockACL(acl []zk.ACL) LockOption {
	return func(o *lockOptions) { o.acl = acl }
}

// LockLogger sets where a removal that has to be retried is reported. The
// default discards.
func LockLogger(l *slog.Logger) LockOption {
	return func(o *lockOptions) {
		if l != nil {
			o.logger = l
		}
	}
}

// NewLock returns a Lock whose nodes are children of dir, which must exist.
// It sends nothing until Lock.
func NewLock(sess *Session, dir string, opts ...LockOption) *Lock {
	o := lockOptions{logger: discardLogger()}
	for _, opt := range opts {
		opt(&o)
	}
	return &Lock{sess: sess, dir: dir, o: o}
}

// Fence is the proof of holding a Lock that a write carries into its
// multi, so that it commits only while the lock is held: a holder whose
// session was lost may not know it yet, but its fence no longer passes.
type Fence struct {
	// Path is the lock node.
	Path string
	// Version is the lock node's data version.
	Version int32
}

// Check is the multi operation that fails unless the lock is still held
// under this fence.
func (f Fence) Check() *zk.CheckVersionRequest {
	return &zk.CheckVersionRequest{Path: f.Path, Version: f.Version}
}

// Delete is the multi operation that, like Check, fails unless the lock is
// still held under this fence, and releases the lock in the same
// transaction when the multi commits, which saves a write. After such a
// commit, tell the Lock with Released.
func (f Fence) Delete() *zk.DeleteRequest {
	return &zk.DeleteRequest{Path: f.Path, Version: f.Version}
}

// Lock takes the lock, waiting at most the LockTimeout (or less if ctx
// ends first), and returns the fence of this hold. If it fails or ctx ends,
// the half-made lock node is removed before it returns, or by a background
// cleanup when the server is unreachable, so it never blocks other
// contenders for longer than the session. A node of ours that disappears
// while we wait (the session was lost) is never taken as held: Lock queues
// again with the new session.
func (l *Lock) Lock(ctx context.Context) (Fence, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.node != nil {
		return Fence{}, fmt.Errorf("zkstate: lock %s is already held by this Lock", l.dir)
	}
	l.waited.Store(false)
	if l.o.timeout > 0 {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeoutCause(ctx, l.o.timeout, ErrLockTimeout)
		defer cancel()
	}
	n, err := l.acquire(ctx)
	if err != nil {
		return Fence{}, lockErr(ctx, err)
	}
	l.node = n
	return Fence{Path: n.path, Version: n.version}, nil
}

func (l *Lock) acquire(ctx context.Context) (*lockNode, error) {
	if err := l.sess.waitUsable(ctx); err != nil {
		return nil, err
	}
	n, err := l.createNode(ctx)
	if err != nil {
		return nil, err
	}
	for {
		name := n.path[strings.LastIndex(n.path, "/")+1:]
		var children []string
		err := l.sess.retry(ctx, func(ctx context.Context) (err error) {
			children, err = l.sess.Children(ctx, l.dir)
			return err
		})
		if err != nil {
			l.abandon(n)
			return nil, err
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
			if n, err = l.createNode(ctx); err != nil {
				return nil, err
			}
			continue
		}
		if idx == 0 {
			return n, nil
		}
		pred := l.dir + "/" + children[idx-1]
		if l.beforeWatch != nil {
			l.beforeWatch()
		}
		var ok bool
		var watch <-chan zk.Event
		err = l.sess.retry(ctx, func(ctx context.Context) (err error) {
			ok, _, watch, err = l.sess.ExistsW(ctx, pred)
			return err
		})
		if err != nil {
			l.abandon(n)
			return nil, err
		}
		if !ok || l.sess.SessionID() != n.session {
			// The predecessor went, or the session did since the listing
			// (a retry rode out its loss), and our node with it: waiting
			// for the predecessor would keep us out of the queue.
			continue
		}
		l.waited.Store(true)
		select {
		case <-watch:
		case <-ctx.Done():
			l.abandon(n)
			return nil, context.Cause(ctx)
		case <-l.sess.closed:
			return nil, ErrClosed
		}
	}
}

// Waited reports whether the last Lock, or the one still waiting, had to
// wait for another holder: a holder that waited most likely follows one
// that just wrote.
func (l *Lock) Waited() bool { return l.waited.Load() }

// Released tells the Lock that its node went in a committed multi with the
// fence's Delete: the lock is no longer held, and Unlock sends nothing for
// it.
func (l *Lock) Released() {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.node != nil {
		l.node.released = true
	}
}

// Refence makes every request already sent with the current fence fail,
// by bumping the lock node's version, and returns the fence to use from
// now on: after a write's reply was lost with the connection, the request
// may still be on its way, and this makes it harmless. It fails with
// ErrLockLost when the node is gone (with the session, or by a committed
// Delete of the fence); then no request of the old fence can be applied
// any more either. It waits for a usable connection, until ctx ends.
func (l *Lock) Refence(ctx context.Context) (Fence, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	n := l.node
	if n == nil || n.released {
		return Fence{}, fmt.Errorf("%w: lock %s is not held", ErrLockLost, l.dir)
	}
	for {
		if err := l.sess.waitUsable(ctx); err != nil {
			return Fence{}, err
		}
		ok, st, err := l.sess.Exists(ctx, n.path)
		if err != nil {
			if ctx.Err() != nil {
				return Fence{}, err
			}
			continue
		}
		if !ok {
			n.released = true
			return Fence{}, fmt.Errorf("%w: lock node %s is gone", ErrLockLost, n.path)
		}
		_, err = l.sess.Set(ctx, n.path, nil, st.Version)
		switch {
		case err == nil:
			n.version = st.Version + 1
			return Fence{Path: n.path, Version: n.version}, nil
		case ctx.Err() != nil:
			return Fence{}, err
		}
		// NoNode (a write landed meanwhile, or the session ended), a
		// version moved by a request of ours, or a connection error: look
		// again.
	}
}

// Unlock releases the lock by removing its node, and returns once the node
// is gone. If it cannot (ctx ends, the client is disconnected), the removal
// goes on in the background until it succeeds or the session, and with it
// the node, is gone, and Unlock returns why it stopped waiting: a lock node
// left behind would stall every contender. Unlock of a Lock not held does
// nothing.
func (l *Lock) Unlock(ctx context.Context) error {
	l.mu.Lock()
	n := l.node
	l.node = nil
	l.mu.Unlock()
	if n == nil {
		return nil
	}
	if n.ambiguous {
		l.sweep(n.prefix, n.path)
	}
	if n.released {
		return nil
	}
	if !l.sess.Connected() {
		// The request would only queue until the client reconnects.
		l.sess.spawn(func() { l.deleteNode(n.path) })
		return fmt.Errorf("%w: unlock %s goes on in the background", ErrNotConnected, n.path)
	}
	err := l.sess.Delete(ctx, n.path, -1)
	if err == nil || errors.Is(err, zk.ErrNoNode) || errors.Is(err, zk.ErrSessionExpired) || errors.Is(err, ErrClosed) {
		return nil
	}
	l.sess.spawn(func() { l.deleteNode(n.path) })
	return fmt.Errorf("zkstate: unlock %s (removal goes on in the background): %w", n.path, err)
}

// createNode creates this contender's node, named with a random guid so
// that a create whose reply was lost can be found again. If ctx ends while
// the create is in flight, a cleanup removes whatever it created.
func (l *Lock) createNode(ctx context.Context) (*lockNode, error) {
	var b [16]byte
	if _, err := rand.Read(b[:]); err != nil {
		return nil, fmt.Errorf("zkstate: lock guid: %w", err)
	}
	prefix := "_c_" + hex.EncodeToString(b[:]) + "-"
	ambiguous := false
	for {
		path, err := l.sess.Create(ctx, l.dir+"/"+prefix+lockPrefix, l.o.data, zk.FlagEphemeral|zk.FlagSequence, orWorld(l.o.acl))
		switch {
		case err == nil:
			return &lockNode{path: path, session: l.sess.SessionID(), prefix: prefix, ambiguous: ambiguous}, nil
		case ctx.Err() != nil, errors.Is(err, ErrClosed):
			// The create may still land: sweep it.
			l.sweep(prefix, "")
			return nil, err
		case errors.Is(err, zk.ErrConnectionClosed):
			// The create may have been applied: look for it.
			ambiguous = true
			if p, err := l.findNode(ctx, prefix); err != nil {
				l.sweep(prefix, "")
				return nil, err
			} else if p != "" {
				return &lockNode{path: p, session: l.sess.SessionID(), prefix: prefix, ambiguous: true}, nil
			}
		case errors.Is(err, zk.ErrNoServer), errors.Is(err, zk.ErrSessionExpired):
			// Not applied, or applied to a session that is gone.
		default:
			return nil, err
		}
		if err := l.sess.waitUsable(ctx); err != nil {
			l.sweep(prefix, "")
			return nil, err
		}
	}
}

// syncedChildren lists dir after a sync, so that every request this
// session sent before (a create whose reply was lost) is visible.
func (l *Lock) syncedChildren(ctx context.Context) ([]string, error) {
	var children []string
	err := l.sess.retry(ctx, func(ctx context.Context) (err error) {
		if err := l.sess.Sync(ctx, l.dir); err != nil {
			return err
		}
		children, err = l.sess.Children(ctx, l.dir)
		return err
	})
	return children, err
}

func (l *Lock) findNode(ctx context.Context, prefix string) (string, error) {
	children, err := l.syncedChildren(ctx)
	if err != nil {
		return "", err
	}
	for _, c := range children {
		if strings.HasPrefix(c, prefix) {
			return l.dir + "/" + c, nil
		}
	}
	return "", nil
}

// sweep removes, in the background, every lock node carrying this
// contender's guid except keep: a create abandoned by a cancelled context or
// applied after its reply was lost must not stay in the queue, where it
// would become the lowest node and stall every contender until our session
// ends.
func (l *Lock) sweep(prefix, keep string) {
	l.sess.spawn(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 2*l.sess.Timeout()+5*time.Second)
		defer cancel()
		// Let an in-flight create land (or fail) first: requests of one
		// session are applied in order, so after this sync it is visible.
		children, err := l.syncedChildren(ctx)
		if err != nil {
			return
		}
		for _, c := range children {
			if p := l.dir + "/" + c; strings.HasPrefix(c, prefix) && p != keep {
				l.deleteNode(p)
			}
		}
	})
}

// abandon removes the node of a wait that failed, in the background: the
// caller's context has most likely ended, and a later Lock of this
// instance queues behind the node until it is gone.
func (l *Lock) abandon(n *lockNode) {
	if n.ambiguous {
		l.sweep(n.prefix, n.path)
	}
	l.sess.spawn(func() { l.deleteNode(n.path) })
}

// deleteNode removes path, retrying until it is gone or the Session closes.
func (l *Lock) deleteNode(path string) {
	backoff := 50 * time.Millisecond
	for {
		err := l.sess.Delete(context.Background(), path, -1)
		switch {
		case err == nil, errors.Is(err, zk.ErrNoNode), errors.Is(err, zk.ErrSessionExpired),
			errors.Is(err, ErrClosed):
			return
		}
		select {
		case <-l.sess.closed:
			return
		case <-time.After(backoff):
		}
		if backoff < time.Second {
			backoff *= 2
		}
		l.o.logger.Warn("zkstate: retrying removal of lock node", "path", path, "err", err)
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
