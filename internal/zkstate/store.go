package zkstate

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"sync"
	"sync/atomic"
	"time"

	"github.com/go-zookeeper/zk"
	"go.opentelemetry.io/otel"
	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/codes"
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
	server   atomic.Int32

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

	memberID   string
	memberPath string
	memberData []byte

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
	wg          sync.WaitGroup
}

// Open opens the shared value under root (for example "/procwatch") on sess.
//
// With WithCreate it creates the root, the payload and the helper nodes when
// they are absent; otherwise it waits until the payload exists (or fails at
// once with ErrNoState under WithoutWait). It reads the payload, registers
// this instance under listeners/ (unless WithoutMembership) and arms the
// watch. A payload that is invalid at Open does not fail it: the Store opens
// with no good value (Version -1, Read fails with ErrInvalidPayload) and
// picks up the first good document that appears.
//
// ctx bounds only the opening; the Store lives until Close.
func Open[T any](ctx context.Context, sess *Session, root string, opts ...Option) (*Store[T], error) {
	o := defaultOptions()
	for _, opt := range opts {
		opt.apply(&o)
	}
	validate, err := validatorOf[T](o)
	if err != nil {
		return nil, err
	}
	if o.initial != nil {
		if _, ok := o.initial.(T); !ok {
			var zero T
			return nil, fmt.Errorf("zkstate: WithCreate value of type %T given to a Store of %T", o.initial, zero)
		}
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
		validate:      validate,
		tracer:        tp.Tracer(tracerName),
		epoch:         time.Now(),
		subs:          map[*subscriber[T]]struct{}{},
		writeSem:      make(chan struct{}, 1),
		kick:          make(chan struct{}, 1),
		resyncCh:      make(chan struct{}, 1),
		closed:        make(chan struct{}),
		badVersion:    -1,
	}
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
	s.unsubscribe = sess.subscribe(s.onSession)
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
	s.wg.Add(2)
	go s.watchLoop(watch)
	go s.sessionLoop()
	if s.memberPath != "" {
		s.wg.Add(1)
		go s.memberLoop()
	}
	return s, nil
}

// ensureTree creates what WithCreate asks for; without it, only the helper
// nodes under an existing root, so a Store opened before the state exists
// does not invent a root.
func (s *Store[T]) ensureTree(ctx context.Context) error {
	create := func(p string, data []byte, acl []zk.ACL) error { return s.ensureNode(ctx, p, acl) }
	if s.o.initial != nil {
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
		data, err := encodePayload(s.o.initial.(T), nil)
		if err != nil {
			return err
		}
		if s.validate != nil {
			if err := s.validate(s.o.initial.(T)); err != nil {
				return fmt.Errorf("%w: initial value: %w", ErrInvalidPayload, err)
			}
		}
		if len(data) > s.o.maxPayload {
			return fmt.Errorf("%w: initial value is %d bytes, limit %d", ErrTooLarge, len(data), s.o.maxPayload)
		}
		_, err = call(ctx, s.sess, s.closed, func() (string, error) {
			return s.sess.conn.Create(s.payloadPath, data, 0, orWorld(s.o.acls.Payload))
		})
		switch {
		case err == nil:
			s.created = true
		case !errors.Is(err, zk.ErrNodeExists):
			return fmt.Errorf("zkstate: create %s: %w", s.payloadPath, err)
		}
	} else {
		ok, err := call(ctx, s.sess, s.closed, func() (bool, error) {
			ok, _, err := s.sess.conn.Exists(s.root)
			return ok, err
		})
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
	_, err := retry(ctx, s.sess, s.closed, func() (string, error) {
		if ok, _, err := s.sess.conn.Exists(p); err != nil || ok {
			return "", err
		}
		return s.sess.conn.Create(p, nil, 0, orWorld(acl))
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
		type existsW struct {
			ok bool
			ch <-chan zk.Event
		}
		e, err := call(ctx, s.sess, s.closed, func() (existsW, error) {
			ok, _, ch, err := s.sess.conn.ExistsW(s.payloadPath)
			return existsW{ok, ch}, err
		})
		if err != nil {
			return nil, fmt.Errorf("zkstate: wait for %s: %w", s.payloadPath, err)
		}
		if e.ok {
			continue
		}
		select {
		case <-e.ch:
		case <-ctx.Done():
			return nil, fmt.Errorf("%w at %s: %w", ErrNoState, s.root, context.Cause(ctx))
		}
	}
}

type getResult struct {
	data  []byte
	stat  *zk.Stat
	watch <-chan zk.Event
	sent  time.Duration
}

func (s *Store[T]) getW(ctx context.Context) (getResult, error) {
	sent := s.now()
	return call(ctx, s.sess, s.closed, func() (getResult, error) {
		d, st, ch, err := s.sess.conn.GetW(s.payloadPath)
		return getResult{d, st, ch, sent}, err
	})
}

// get reads the payload without a watch. With fresh it first sends a sync,
// so the answer is at least as new as anything this client was told before.
func (s *Store[T]) get(ctx context.Context, fresh bool) (getResult, error) {
	sent := s.now()
	return retry(ctx, s.sess, s.closed, func() (getResult, error) {
		if fresh {
			if _, err := s.sess.conn.Sync(s.payloadPath); err != nil {
				return getResult{}, err
			}
		}
		d, st, err := s.sess.conn.Get(s.payloadPath)
		return getResult{d, st, nil, sent}, err
	})
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
			_, err := retry(ctx, s.sess, s.closed, func() ([]zk.MultiResponse, error) {
				return s.sess.conn.Multi(&zk.CheckVersionRequest{Path: s.payloadPath, Version: want})
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

// write is the engine behind Update and CompareAndSwap. strict >= 0 makes it
// a strict compare-and-set on that version.
func (s *Store[T]) write(ctx context.Context, name string, strict int32, produce func(base []byte) ([]byte, error)) (version int32, err error) {
	ctx, span := s.tracer.Start(ctx, name)
	retries := 0
	defer func() {
		span.SetAttributes(attribute.Int("zkstate.version", int(version)), attribute.Int("zkstate.retries", retries))
		if err != nil {
			span.RecordError(err)
			span.SetStatus(codes.Error, err.Error())
		}
		span.End()
	}()
	if s.closedFlag.Load() {
		return -1, ErrClosed
	}
	select {
	case s.writeSem <- struct{}{}:
	case <-ctx.Done():
		return -1, context.Cause(ctx)
	case <-s.closed:
		return -1, ErrClosed
	}
	defer func() { <-s.writeSem }()

	lock, err := s.acquireLock(ctx)
	if err != nil {
		return -1, err
	}
	defer s.releaseLock(lock)
	if err := s.ensureReceipt(ctx); err != nil {
		return -1, err
	}

	// The first attempt starts from the local copy, which the watch keeps
	// current: in the usual case that saves a read, and the compare-and-set
	// catches a copy that was behind, after which every attempt reads the
	// server first. After waiting in the lock queue the copy is most likely
	// behind (the holder before us just wrote), so then the server is read
	// at once.
	optimistic := !lock.waited
	fresh := false
	for {
		var data []byte
		var version int32
		if cur := s.cur.Load(); optimistic && cur.version >= 0 && !s.invalid.Load() {
			data, version = cur.raw, cur.version
		} else {
			optimistic = false
			r, err := s.get(ctx, fresh)
			if err != nil {
				if errors.Is(err, zk.ErrNoNode) {
					return -1, fmt.Errorf("%w at %s", ErrNoState, s.root)
				}
				return -1, fmt.Errorf("zkstate: read %s: %w", s.payloadPath, err)
			}
			s.advance(r.data, r.stat, r.sent)
			data, version = r.data, r.stat.Version
		}
		if strict >= 0 && version != strict {
			if optimistic {
				optimistic = false
				continue
			}
			s.stats.conflicts.Add(1)
			return -1, fmt.Errorf("%w: expected version %d, the server has %d", ErrConflict, strict, version)
		}
		base := data
		// The local copy was validated when it was read; only the
		// server's document may be invalid.
		if !optimistic {
			if _, err := s.decode(data); err != nil {
				good := s.cur.Load()
				if good.version < 0 && strict < 0 {
					// Nothing good to apply fn to; CompareAndSwap can replace it.
					return -1, withVersion(err, version)
				}
				s.o.logger.Warn("zkstate: overwriting an invalid payload", "version", version, "base_version", good.version)
				base = good.raw
			}
		}
		out, err := produce(base)
		if err != nil {
			return -1, err
		}
		if bytes.Equal(out, data) {
			if optimistic {
				// Unchanged relative to a copy that may be behind: only
				// the server's current document can say nothing is to do.
				optimistic = false
				continue
			}
			return version, nil
		}
		if len(out) > s.o.maxPayload {
			return -1, fmt.Errorf("%w: %d bytes, limit %d", ErrTooLarge, len(out), s.o.maxPayload)
		}
		v, outcome, err := s.commit(ctx, lock, out, version)
		switch outcome {
		case committed:
			s.stats.updates.Add(1)
			return v, nil
		case conflicted:
			if optimistic {
				// The local copy was behind; no conflict yet.
				optimistic = false
				fresh = true
				continue
			}
			s.stats.conflicts.Add(1)
			if retries >= s.o.maxRetries || strict >= 0 {
				return -1, err
			}
			retries++
			s.stats.retries.Add(1)
			fresh = true
		case again:
			optimistic = false
			fresh = true
		default:
			return -1, err
		}
	}
}

type outcome int

const (
	failed outcome = iota
	committed
	conflicted // a conflict with a writer outside the lock
	again      // a write fenced off after a dropped connection: not applied, try again
)

// commit writes out over version expected in one multi that also deletes
// the lock node at its expected version and stores a fresh token in this
// Store's write receipt. Deleting the lock node is the fence (the multi
// fails if the node went with a lost session) and releases the lock in the
// same transaction, which saves a write. It never abandons the request on
// ctx: its outcome decides what the caller is told.
func (s *Store[T]) commit(ctx context.Context, lock *heldLock, out []byte, expected int32) (int32, outcome, error) {
	token, err := newReceiptToken()
	if err != nil {
		return -1, failed, err
	}
	if s.beforeCommit != nil {
		s.beforeCommit()
	}
	resp, err := s.sess.conn.Multi(
		&zk.DeleteRequest{Path: lock.path, Version: lock.version},
		&zk.SetDataRequest{Path: s.payloadPath, Data: out, Version: expected},
		&zk.SetDataRequest{Path: s.receiptPath, Data: token, Version: -1},
	)
	if err == nil && len(resp) == 3 && resp[1].Stat != nil {
		lock.released = true
		s.advance(out, resp[1].Stat, s.now())
		return resp[1].Stat.Version, committed, nil
	}
	if len(resp) == 3 {
		switch {
		case errors.Is(resp[0].Error, zk.ErrNoNode):
			return -1, failed, fmt.Errorf("%w: lock node %s is gone; nothing was written", ErrLockLost, lock.path)
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
		return s.resolve(ctx, lock, expected, token, err)
	}
	return -1, failed, fmt.Errorf("zkstate: write %s: %w", s.payloadPath, mapErr(err))
}

func ambiguous(err error) bool {
	return errors.Is(err, zk.ErrConnectionClosed) || errors.Is(err, zk.ErrSessionExpired) ||
		errors.Is(err, zk.ErrSessionMoved) || errors.Is(err, zk.ErrClosing)
}

// resolve decides a write whose answer was lost with the connection.
//
// While the lock node still stands at the version the write expected, the
// write has not been applied, but the request may still be on its way: resolve
// bumps the node's version, after which the old request can only fail, and
// the write is tried again. Once the node is gone (deleted by the write
// itself, or with a lost session, after which no request of that session can
// be applied), the write receipt is final evidence: it holds this write's
// token exactly when the write was applied, whatever other writers did since.
func (s *Store[T]) resolve(ctx context.Context, lock *heldLock, expected int32, token []byte, cause error) (int32, outcome, error) {
	s.stats.ambiguousWrites.Add(1)
	unknown := func(err error) (int32, outcome, error) {
		return -1, failed, fmt.Errorf("%w: the connection dropped during the write (%v) and %v", ErrUnknownOutcome, cause, err)
	}
	for {
		if err := s.sess.waitUsable(ctx); err != nil {
			return unknown(err)
		}
		st, err := call(ctx, s.sess, s.closed, func() (*zk.Stat, error) {
			ok, st, err := s.sess.conn.Exists(lock.path)
			if err == nil && !ok {
				return nil, nil
			}
			return st, err
		})
		if err != nil {
			if ctx.Err() != nil || s.closedFlag.Load() {
				return unknown(err)
			}
			continue
		}
		if st == nil {
			break
		}
		lock.version = st.Version
		_, err = call(ctx, s.sess, s.closed, func() (*zk.Stat, error) {
			return s.sess.conn.Set(lock.path, nil, lock.version)
		})
		switch {
		case err == nil:
			lock.version++
			s.stats.ambiguousResolved.Add(1)
			return -1, again, nil
		case ctx.Err() != nil || s.closedFlag.Load():
			return unknown(err)
		}
		// NoNode (the write landed meanwhile, or the session ended) or a
		// connection error: look again.
	}
	data, err := retry(ctx, s.sess, s.closed, func() ([]byte, error) {
		if _, err := s.sess.conn.Sync(s.receiptPath); err != nil {
			return nil, err
		}
		d, _, err := s.sess.conn.Get(s.receiptPath)
		return d, err
	})
	if err != nil && !errors.Is(err, zk.ErrNoNode) {
		return unknown(fmt.Errorf("reading its receipt failed: %w", err))
	}
	s.stats.ambiguousResolved.Add(1)
	lock.released = true // gone either way
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

func (s *Store[T]) kickWatch() {
	select {
	case s.kick <- struct{}{}:
	default:
	}
}

// watchLoop keeps the local copy current: it follows the payload watch,
// re-arms it after every firing, and checks the version every verify
// interval so that a watch lost in a reconnect delays a change but never
// hides it.
func (s *Store[T]) watchLoop(watch <-chan zk.Event) {
	defer s.wg.Done()
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	ticker := time.NewTicker(s.o.verifyInterval)
	defer ticker.Stop()
	backoff := 50 * time.Millisecond
	for {
		if watch == nil {
			r, err := s.getW(ctx)
			switch {
			case err == nil:
				backoff = 50 * time.Millisecond
				s.readRecovered()
				s.advance(r.data, r.stat, r.sent)
				watch = r.watch
			case errors.Is(err, ErrClosed):
				return
			case errors.Is(err, zk.ErrNoNode):
				s.readRecovered()
				s.payloadGone()
				s.o.logger.Warn("zkstate: payload node is missing; keeping the last good value", "path", s.payloadPath)
				type existsW struct {
					ok bool
					ch <-chan zk.Event
				}
				e, err := call(ctx, s.sess, s.closed, func() (existsW, error) {
					ok, _, ch, err := s.sess.conn.ExistsW(s.payloadPath)
					return existsW{ok, ch}, err
				})
				if err == nil && !e.ok {
					watch = e.ch
				}
			case !transient(err) && !errors.Is(err, zk.ErrSessionExpired):
				s.readFailed(err)
			}
			if watch == nil {
				select {
				case <-s.closed:
					return
				case <-s.kick:
				case <-time.After(backoff):
				}
				backoff = min(backoff*2, 2*time.Second)
				continue
			}
		}
		select {
		case <-s.closed:
			return
		case <-watch:
			watch = nil
		case <-s.kick:
			watch = nil
		case <-ticker.C:
			sent := s.now()
			type exists struct {
				ok bool
				st *zk.Stat
			}
			e, err := call(ctx, s.sess, s.closed, func() (exists, error) {
				ok, st, err := s.sess.conn.Exists(s.payloadPath)
				return exists{ok, st}, err
			})
			if err != nil {
				continue
			}
			if !e.ok {
				watch = nil
				continue
			}
			s.applyMu.Lock()
			cur := s.cur.Load()
			same := e.st.Mzxid == cur.mzxid || e.st.Mzxid == s.badMzxid
			s.applyMu.Unlock()
			if same {
				s.markVerified(sent)
			} else {
				watch = nil
			}
		}
	}
}

// readFailed counts a failed read of the payload that is not the
// connection's doing (an ACL that denies this client READ, a node too large
// for the client's buffer) and logs it the first time its cause is seen:
// the loop retries every few seconds, and without this the copy would go
// stale with nothing saying why. Called from the watch loop only.
func (s *Store[T]) readFailed(err error) {
	s.stats.readErrors.Add(1)
	if cause := err.Error(); cause != s.readErrCause {
		s.readErrCause = cause
		s.o.logger.Warn("zkstate: cannot read the payload; keeping the last good value, which goes stale until a read succeeds",
			"path", s.payloadPath, "err", err)
	}
}

// readRecovered says once that the payload can be read again after
// readFailed logged a cause. Called from the watch loop only.
func (s *Store[T]) readRecovered() {
	if s.readErrCause != "" {
		s.readErrCause = ""
		s.o.logger.Info("zkstate: reading the payload works again", "path", s.payloadPath)
	}
}

func (s *Store[T]) onSession(ev SessionEvent) {
	switch ev.Kind {
	case SessionLost:
		s.gap.Store(true)
	case SessionReestablished:
		select {
		case s.resyncCh <- struct{}{}:
		default:
		}
	case SessionReconnected:
		s.kickWatch()
	}
}

// sessionLoop rebuilds what a lost session took along: the listener node and
// the watch; the watch loop's re-read then publishes what changed meanwhile.
func (s *Store[T]) sessionLoop() {
	defer s.wg.Done()
	for {
		select {
		case <-s.closed:
			return
		case <-s.resyncCh:
		}
		s.resync()
	}
}

func (s *Store[T]) resync() {
	ctx, span := s.tracer.Start(context.Background(), "zkstate.Resync")
	defer span.End()
	s.stats.resyncs.Add(1)
	s.kickWatch()
	if s.memberPath == "" {
		return
	}
	backoff := 100 * time.Millisecond
	for {
		err := s.register(ctx)
		if err == nil {
			return
		}
		if errors.Is(err, ErrClosed) {
			return
		}
		span.RecordError(err)
		s.o.logger.Warn("zkstate: re-registering listener node failed; retrying", "path", s.memberPath, "err", err)
		select {
		case <-s.closed:
			return
		case <-time.After(backoff):
		}
		backoff = min(backoff*2, 2*time.Second)
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
					_, _ = call(ctx, s.sess, nil, func() (struct{}, error) {
						return struct{}{}, s.sess.conn.Delete(p, -1)
					})
				}
			}
			cancel()
		}
		close(s.closed)
		if s.unsubscribe != nil {
			s.unsubscribe()
		}
		s.stopSubscribers()
		s.wg.Wait()
	})
	return nil
}

func (s *Store[T]) isClosed() bool { return s.closedFlag.Load() }

// Created reports whether Open created the payload (WithCreate found none),
// as opposed to finding one somebody else made.
func (s *Store[T]) Created() bool { return s.created }

// Root returns the root path the Store was opened on.
func (s *Store[T]) Root() string { return s.root }

// Session returns the Session the Store runs on.
func (s *Store[T]) Session() *Session { return s.sess }
