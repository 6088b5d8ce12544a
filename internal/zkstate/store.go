package zkstate

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"sync/atomic"
	"time"

	"github.com/go-zookeeper/zk"
	"go.opentelemetry.io/otel"
	"go.opentelemetry.io/otel/trace"

	"github.com/procwatch/procwatch/internal/zkpath"
)

const tracerName = "github.com/procwatch/procwatch/internal/zkstate"

// snapshot is one good version of the document. It is immutable once
// published: readers share it without copying.
type snapshot[T any] struct {
	value   T
	raw     []byte
	version int32
	// mzxid orders documents across the payload node being deleted and
	// re-created, where versions restart.
	mzxid int64
}

// Store shares a value of type T, stored as a JSON document in ZooKeeper,
// between every process that opens the same root. See the package
// documentation for what it guarantees.
type Store[T any] struct {
	sess          *Session
	root          string
	payloadPath   string
	listenersPath string
	lockPath      string
	writesPath    string
	o             options
	initial       *T // the value OpenOrCreate creates the payload with
	validate      func(T) error
	tracer        trace.Tracer
	// beforeCommit, when set by a test, runs just before the write's multi
	// is sent: the one moment a fault must hit to make the outcome unknown.
	beforeCommit func()

	cur      atomic.Pointer[snapshot[T]]
	epoch    time.Time
	verified atomic.Int64 // monotonic ns since epoch of the last check against the server
	invalid  atomic.Bool
	gap      atomic.Bool // the session was lost; the next transition is a resync
	// lost holds the watch loop's reads from SessionLost until the Session
	// reports the new one: what changed meanwhile is published after
	// SessionReestablished reached every subscriber, never before it.
	lost   atomic.Bool
	server atomic.Int32

	// applyMu serialises every move of the local copy, so subscribers see
	// transitions in version order whichever goroutine observed them.
	applyMu    sync.Mutex
	badVersion int32
	badMzxid   int64
	badErr     *InvalidPayloadError
	// czxid identifies the payload node last read (its creation zxid);
	// deleted is set once its deletion was published. See notices.go.
	czxid   int64
	deleted bool

	subMu sync.Mutex
	subs  map[*subscriber[T]]struct{}

	writeSem chan struct{} // one Update or CompareAndSwap at a time in this process
	lock     *Lock         // the write lock under lock/, held under writeSem

	memberID   string
	memberPath string
	memberBase []byte      // the engine's member fields, as JSON
	member     memberState // what the listener node holds

	// receiptPath is this Store's write receipt (see receipts.go); touched
	// only under writeSem.
	receiptPath  string
	receiptReady bool

	// readErrCause is the cause of the last failed payload read that was
	// logged, "" once a read succeeded; owned by the watch loop.
	readErrCause string

	kick     chan struct{}
	resyncCh chan struct{}
	stats    counters

	created      bool // Open created the payload
	helpersReady bool // Open made sure listeners/ and lock/ exist

	unsubscribe func()
	closeOnce   sync.Once
	closedFlag  atomic.Bool
	closed      chan struct{}
	// life ends, with ErrClosed, when the Store closes: every call the
	// Store makes waits on a context under it (see scope).
	life    context.Context
	endLife context.CancelCauseFunc
	wg      sync.WaitGroup
}

// Open opens the shared value under root (for example "/procwatch") on sess,
// which somebody else creates: it waits until the payload exists (or fails
// at once with ErrNoState under WithoutWait). It reads the payload, registers
// this instance under listeners/ (unless WithoutMembership) and arms the
// watch. A payload that is invalid at Open does not fail it: the Store opens
// with no good value (Version -1, Read fails with ErrInvalidPayload) and
// picks up the first good document that appears.
//
// A T that is a Checker has every document read or written checked by it.
//
// ctx bounds only the opening; the Store lives until Close.
func Open[T any](ctx context.Context, sess *Session, root string, opts ...Option) (*Store[T], error) {
	return open[T](ctx, sess, root, nil, opts)
}

// OpenOrCreate is Open that first creates the root, the payload (holding
// initial) and the helper nodes when they are absent, instead of waiting for
// them. An existing payload is never overwritten; Created says which
// happened. initial is held to the same rules as any write: it must pass
// T's Check and fit the size limit.
func OpenOrCreate[T any](ctx context.Context, sess *Session, root string, initial T, opts ...Option) (*Store[T], error) {
	return open(ctx, sess, root, &initial, opts)
}

func open[T any](ctx context.Context, sess *Session, root string, initial *T, opts []Option) (*Store[T], error) {
	o := defaultOptions()
	for _, opt := range opts {
		opt(&o)
	}
	if err := zkpath.ValidateRoot(root); err != nil {
		return nil, fmt.Errorf("zkstate: %w", err)
	}
	tp := o.tracerProvider
	if tp == nil {
		tp = otel.GetTracerProvider()
	}
	s := &Store[T]{
		sess:          sess,
		root:          root,
		payloadPath:   root + "/payload",
		listenersPath: root + "/listeners",
		lockPath:      root + "/lock",
		writesPath:    root + "/writes",
		o:             o,
		initial:       initial,
		validate:      validatorOf[T](),
		tracer:        tp.Tracer(tracerName),
		epoch:         time.Now(),
		subs:          map[*subscriber[T]]struct{}{},
		writeSem:      make(chan struct{}, 1),
		kick:          make(chan struct{}, 1),
		resyncCh:      make(chan struct{}, 1),
		closed:        make(chan struct{}),
		badVersion:    -1,
	}
	s.life, s.endLife = context.WithCancelCause(context.Background())
	var zero T
	s.cur.Store(&snapshot[T]{value: zero, raw: []byte("null"), version: -1})
	s.server.Store(-1)

	if err := sess.waitUsable(ctx); err != nil {
		return nil, err
	}
	if err := s.ensureTree(ctx); err != nil {
		return nil, err
	}
	watch, err := s.firstRead(ctx)
	if err != nil {
		return nil, err
	}
	s.unsubscribe = sess.subscribe(s.onSession, true)
	if o.register {
		if err := s.initMember(); err != nil {
			s.unsubscribe()
			return nil, err
		}
		if err := s.register(ctx); err != nil {
			s.unsubscribe()
			return nil, err
		}
	}
	s.lock = NewLock(sess, s.lockPath, LockTimeout(o.lockTimeout), LockData([]byte(s.memberID)),
		LockACL(o.acls.Owned), LockLogger(o.logger))
	s.wg.Add(2)
	go s.watchLoop(watch)
	go s.sessionLoop()
	if s.memberPath != "" {
		s.wg.Add(1)
		go s.memberLoop()
	}
	return s, nil
}

// ensureTree creates what OpenOrCreate asks for; under Open, only the helper
// nodes under an existing root, so a Store opened before the state exists
// does not invent a root.
func (s *Store[T]) ensureTree(ctx context.Context) error {
	create := func(p string, data []byte, acl []zk.ACL) error { return s.ensureNode(ctx, p, acl) }
	if s.initial != nil {
		for i := 1; i < len(s.root); i++ {
			if s.root[i] == '/' {
				if err := create(s.root[:i], nil, s.o.acls.Root); err != nil {
					return err
				}
			}
		}
		if err := create(s.root, nil, s.o.acls.Root); err != nil {
			return err
		}
		data, err := encodePayload(*s.initial, nil)
		if err != nil {
			return err
		}
		if s.validate != nil {
			if err := s.validate(*s.initial); err != nil {
				return fmt.Errorf("%w: initial value: %w", ErrInvalidPayload, err)
			}
		}
		if len(data) > s.o.maxPayload {
			return fmt.Errorf("%w: initial value is %d bytes, limit %d", ErrTooLarge, len(data), s.o.maxPayload)
		}
		_, err = s.sess.Create(ctx, s.payloadPath, data, 0, orWorld(s.o.acls.Payload))
		switch {
		case err == nil:
			s.created = true
		case !errors.Is(err, zk.ErrNodeExists):
			return fmt.Errorf("zkstate: create %s: %w", s.payloadPath, err)
		}
	} else {
		ok, _, err := s.sess.Exists(ctx, s.root)
		if err != nil {
			return fmt.Errorf("zkstate: check %s: %w", s.root, err)
		}
		if !ok {
			if s.o.noWait {
				return fmt.Errorf("%w at %s", ErrNoState, s.root)
			}
			return nil // firstRead waits for the payload, helpers come later
		}
	}
	if err := create(s.listenersPath, nil, s.o.acls.Listeners); err != nil {
		return err
	}
	if err := create(s.lockPath, nil, s.o.acls.Lock); err != nil {
		return err
	}
	s.helpersReady = true
	return nil
}

// ensureNode creates an empty persistent node unless it exists. It looks
// before creating: ZooKeeper checks the parent's create permission before
// existence, so a read-only instance of a secured tree would otherwise fail
// on nodes that are already there.
func (s *Store[T]) ensureNode(ctx context.Context, p string, acl []zk.ACL) error {
	err := s.sess.retry(ctx, func(ctx context.Context) error {
		if ok, _, err := s.sess.Exists(ctx, p); err != nil || ok {
			return err
		}
		_, err := s.sess.Create(ctx, p, nil, 0, orWorld(acl))
		return err
	})
	if err != nil && !errors.Is(err, zk.ErrNodeExists) {
		return fmt.Errorf("zkstate: create %s: %w", p, err)
	}
	return nil
}

// firstRead reads the payload and arms its watch, waiting for the payload to
// appear unless WithoutWait.
func (s *Store[T]) firstRead(ctx context.Context) (<-chan zk.Event, error) {
	for {
		r, err := s.getW(ctx)
		if err == nil {
			s.advance(r.data, r.stat, r.sent)
			if !s.helpersReady {
				// The root did not exist when Open started.
				for p, acl := range map[string][]zk.ACL{s.listenersPath: s.o.acls.Listeners, s.lockPath: s.o.acls.Lock} {
					if err := s.ensureNode(ctx, p, acl); err != nil {
						return nil, err
					}
				}
			}
			return r.watch, nil
		}
		if !errors.Is(err, zk.ErrNoNode) {
			return nil, fmt.Errorf("zkstate: read %s: %w", s.payloadPath, err)
		}
		if s.o.noWait {
			return nil, fmt.Errorf("%w at %s", ErrNoState, s.root)
		}
		ok, _, appeared, err := s.sess.ExistsW(ctx, s.payloadPath)
		if err != nil {
			return nil, fmt.Errorf("zkstate: wait for %s: %w", s.payloadPath, err)
		}
		if ok {
			continue
		}
		select {
		case <-appeared:
		case <-ctx.Done():
			return nil, fmt.Errorf("%w at %s: %w", ErrNoState, s.root, context.Cause(ctx))
		}
	}
}

// Close stops the Store: its listener node is removed, subscribers stop, and
// every goroutine it started has ended when Close returns. It does not close
// the Session. Calls after Close fail with ErrClosed.
func (s *Store[T]) Close() error {
	s.closeOnce.Do(func() {
		s.closedFlag.Store(true)
		if s.sess.connected.Load() {
			ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
			for _, p := range []string{s.memberPath, s.closingReceipt()} {
				if p != "" {
					_ = s.sess.Delete(ctx, p, -1)
				}
			}
			cancel()
		}
		close(s.closed)
		s.endLife(ErrClosed)
		if s.unsubscribe != nil {
			s.unsubscribe()
		}
		s.stopSubscribers()
		s.wg.Wait()
	})
	return nil
}

// scope returns ctx that also ends, with cause ErrClosed, when the Store
// closes, so that a caller's wait ends with the Store.
func (s *Store[T]) scope(ctx context.Context) (context.Context, context.CancelFunc) {
	ctx, cancel := context.WithCancelCause(ctx)
	stop := context.AfterFunc(s.life, func() { cancel(ErrClosed) })
	return ctx, func() {
		stop()
		cancel(context.Canceled)
	}
}

func (s *Store[T]) isClosed() bool { return s.closedFlag.Load() }

// Created reports whether OpenOrCreate created the payload (it found none),
// as opposed to finding one somebody else made.
func (s *Store[T]) Created() bool { return s.created }
