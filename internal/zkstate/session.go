package zkstate

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"maps"
	"net"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/go-zookeeper/zk"
)

// SessionEventKind says what happened to a Session.
type SessionEventKind int

const (
	// SessionConnected is the first session established by a Session.
	SessionConnected SessionEventKind = iota + 1
	// SessionDisconnected means the connection dropped; the session may live on.
	SessionDisconnected
	// SessionReconnected means the connection came back with the same session:
	// ephemeral nodes and watches survived.
	SessionReconnected
	// SessionLost means the session is gone: the server said it expired, or
	// the client was disconnected for longer than the session timeout (the Go
	// client only learns of an expiry after it reconnects, so waiting for the
	// server's word would keep a partitioned instance believing in ephemeral
	// nodes that no longer exist).
	SessionLost
	// SessionReestablished follows SessionLost: a usable session exists again,
	// and everything tied to the old one (ephemeral nodes, watches, locks)
	// must be rebuilt.
	SessionReestablished
)

// String returns the kind in lower case, for logs.
func (k SessionEventKind) String() string {
	switch k {
	case SessionConnected:
		return "connected"
	case SessionDisconnected:
		return "disconnected"
	case SessionReconnected:
		return "reconnected"
	case SessionLost:
		return "lost"
	case SessionReestablished:
		return "reestablished"
	}
	return fmt.Sprintf("SessionEventKind(%d)", int(k))
}

// SessionEvent is one transition of a Session, delivered in order and never
// dropped (unlike go-zookeeper's six-slot event channel).
type SessionEvent struct {
	Kind      SessionEventKind
	SessionID int64
}

// Session is a ZooKeeper connection with the session semantics zkstate needs:
// it waits for a real session, turns the client's state changes into ordered
// SessionEvents, and declares a session lost after a disconnect longer than
// the session timeout. Several Stores may share one Session.
type Session struct {
	conn    *zk.Conn
	servers string
	o       sessionOptions

	connected   atomic.Bool
	expirations atomic.Uint64
	lastDialErr atomic.Pointer[error]

	// The client's event callback must never block, so it only appends raw
	// events here; dispatch turns them into SessionEvents in order.
	qmu    sync.Mutex
	queue  []zk.Event
	signal chan struct{}

	// Owned by the dispatch goroutine.
	sessionID int64
	lost      bool
	everUp    bool
	lossTimer *time.Timer

	smu    sync.Mutex
	subs   map[int]sessionSub
	nextID int

	hasSession chan struct{} // closed at the first session
	firstOnce  sync.Once
	// authDone is closed once every WithAuth credential was accepted (or
	// refused for good, then authErr says so): until then the Session is
	// not usable, so that nothing is sent anonymously.
	authDone chan struct{}
	authErr  error

	closeOnce sync.Once
	closed    chan struct{}
	wg        sync.WaitGroup // dispatch and every call still in flight
}

// NewSession starts connecting to servers (host:port, comma separated or
// several entries) and returns at once; the client keeps trying in the
// background until Close. Use WaitConnected, or Connect, to wait for a
// session.
func NewSession(servers []string, opts ...SessionOption) (*Session, error) {
	o := defaultSessionOptions()
	for _, opt := range opts {
		opt(&o)
	}
	var list []string
	for _, s := range servers {
		for _, part := range strings.Split(s, ",") {
			if part = strings.TrimSpace(part); part != "" {
				list = append(list, part)
			}
		}
	}
	if len(list) == 0 {
		return nil, errors.New("zkstate: no ZooKeeper servers given")
	}
	s := &Session{
		servers:    strings.Join(list, ","),
		o:          o,
		signal:     make(chan struct{}, 1),
		subs:       map[int]sessionSub{},
		hasSession: make(chan struct{}),
		authDone:   make(chan struct{}),
		closed:     make(chan struct{}),
	}
	dial := o.dialer
	if dial == nil {
		dial = net.DialTimeout
	}
	// Remember why the last dial failed, so "unreachable" can say why.
	dialer := func(network, address string, timeout time.Duration) (net.Conn, error) {
		c, err := dial(network, address, timeout)
		if err != nil {
			err = fmt.Errorf("%s: %w", address, err)
			s.lastDialErr.Store(&err)
			return nil, err
		}
		s.lastDialErr.Store(nil)
		return c, nil
	}
	conn, _, err := zk.Connect(list, o.timeout,
		zk.WithEventCallback(s.onEvent),
		zk.WithLogger(zkLogger{s.o.logger}),
		zk.WithLogInfo(false),
		zk.WithDialer(dialer),
		zk.WithMaxBufferSize(o.maxBuffer),
	)
	if err != nil {
		return nil, fmt.Errorf("zkstate: connect to %s: %w", s.servers, err)
	}
	s.conn = conn
	if len(o.auth) == 0 {
		close(s.authDone)
	} else {
		s.wg.Add(1)
		go s.addAuth()
	}
	s.wg.Add(1)
	go s.dispatch()
	return s, nil
}

// Connect is NewSession followed by WaitConnected; if no session is
// established before ctx ends, the connection is closed and an error wrapping
// ErrNotConnected names the servers.
func Connect(ctx context.Context, servers []string, opts ...SessionOption) (*Session, error) {
	s, err := NewSession(servers, opts...)
	if err != nil {
		return nil, err
	}
	if err := s.WaitConnected(ctx); err != nil {
		s.Close()
		return nil, err
	}
	return s, nil
}

// WaitConnected blocks until the Session has had its first session, or ctx
// ends (ErrNotConnected, naming the servers), or the Session is closed.
func (s *Session) WaitConnected(ctx context.Context) error {
	for _, ch := range []chan struct{}{s.hasSession, s.authDone} {
		select {
		case <-ch:
		case <-s.closed:
			return ErrClosed
		case <-ctx.Done():
			return s.unreachable(ctx)
		}
	}
	return s.authErr
}

// addAuth sends the WithAuth credentials until the server has accepted each
// once; go-zookeeper then replays them after every reconnect and on every
// new session. A single AddAuth is not enough: while no server answers the
// client fails queued requests (ErrNoServer), and it replays only
// credentials that were accepted, so an instance started during an outage
// would otherwise stay anonymous for good.
func (s *Session) addAuth() {
	defer s.wg.Done()
	defer close(s.authDone)
	for _, a := range s.o.auth {
		backoff := 100 * time.Millisecond
		for {
			err := s.conn.AddAuth(a.scheme, a.auth)
			if err == nil {
				break
			}
			if errors.Is(err, zk.ErrClosing) {
				return
			}
			if errors.Is(err, zk.ErrAuthFailed) || errors.Is(err, zk.ErrNoAuth) {
				s.authErr = fmt.Errorf("%w: ZooKeeper at %s refused the %s credentials: %w", ErrPermission, s.servers, a.scheme, err)
				s.o.logger.Error("zkstate: ZooKeeper refused the credentials", "scheme", a.scheme, "err", err)
				return
			}
			select {
			case <-s.closed:
				return
			case <-time.After(backoff):
			}
			backoff = min(2*backoff, 2*time.Second)
		}
	}
}

// unreachable builds the error for a wait that ctx ended: it wraps
// ErrNotConnected and the context's cause, and names the last dial failure.
func (s *Session) unreachable(ctx context.Context) error {
	if last := s.LastDialError(); last != nil {
		return fmt.Errorf("%w: ZooKeeper at %s is unreachable (%w; last attempt: %w)", ErrNotConnected, s.servers, context.Cause(ctx), last)
	}
	return fmt.Errorf("%w: ZooKeeper at %s is unreachable (%w)", ErrNotConnected, s.servers, context.Cause(ctx))
}

// LastDialError returns why the most recent attempt to open a TCP connection
// failed, or nil if none has failed.
func (s *Session) LastDialError() error {
	if p := s.lastDialErr.Load(); p != nil {
		return *p
	}
	return nil
}

// waitUsable blocks until the Session is connected now (not merely once).
func (s *Session) waitUsable(ctx context.Context) error {
	select {
	case <-s.authDone:
		if s.authErr != nil {
			return s.authErr
		}
	case <-s.closed:
		return ErrClosed
	case <-ctx.Done():
		return s.unreachable(ctx)
	}
	for {
		if s.connected.Load() {
			return nil
		}
		ch, cancel := s.notify()
		if s.connected.Load() {
			cancel()
			return nil
		}
		select {
		case <-ch:
			cancel()
		case <-s.closed:
			cancel()
			return ErrClosed
		case <-ctx.Done():
			cancel()
			return s.unreachable(ctx)
		}
	}
}

// notify returns a channel that receives a value at the next SessionEvent.
func (s *Session) notify() (<-chan struct{}, func()) {
	ch := make(chan struct{}, 1)
	cancel := s.subscribe(func(SessionEvent) {
		select {
		case ch <- struct{}{}:
		default:
		}
	}, false)
	return ch, cancel
}

// Servers returns the server list as given, comma separated, for messages.
func (s *Session) Servers() string { return s.servers }

// Connected reports whether the client holds a live session right now.
func (s *Session) Connected() bool { return s.connected.Load() }

// Expirations returns how many sessions were lost, by the server's expiry or
// by a disconnect longer than the session timeout.
func (s *Session) Expirations() uint64 { return s.expirations.Load() }

// SessionID returns the current session id, 0 while none exists.
func (s *Session) SessionID() int64 { return s.conn.SessionID() }

// Timeout returns the session timeout the Session asked for.
func (s *Session) Timeout() time.Duration { return s.o.timeout }

// Subscribe calls fn for every SessionEvent, in order, from one goroutine.
// fn must not block: it delays every other subscriber. The returned func
// removes the subscription.
//
// fn sees each event before the Stores on the Session act on it, so what a
// Store delivers because of it (the resync after SessionReestablished, say)
// comes after fn's call: a watcher that queues both in one FIFO prints the
// session line first.
func (s *Session) Subscribe(fn func(SessionEvent)) (cancel func()) {
	return s.subscribe(fn, false)
}

// subscriber is one subscription; stores are called after everyone else.
type sessionSub struct {
	fn    func(SessionEvent)
	store bool
}

func (s *Session) subscribe(fn func(SessionEvent), store bool) func() {
	s.smu.Lock()
	id := s.nextID
	s.nextID++
	s.subs[id] = sessionSub{fn: fn, store: store}
	s.smu.Unlock()
	return func() {
		s.smu.Lock()
		delete(s.subs, id)
		s.smu.Unlock()
	}
}

// Close ends the session: ephemeral nodes it owns disappear at once, every
// call in flight returns, and every goroutine of the Session has ended when
// Close returns. Stores using it should be closed first.
func (s *Session) Close() {
	s.closeOnce.Do(func() {
		close(s.closed)
		s.conn.Close()
		s.wg.Wait()
	})
}

func (s *Session) onEvent(ev zk.Event) {
	if ev.Type != zk.EventSession {
		return
	}
	s.qmu.Lock()
	s.queue = append(s.queue, ev)
	s.qmu.Unlock()
	select {
	case s.signal <- struct{}{}:
	default:
	}
}

func (s *Session) dispatch() {
	defer s.wg.Done()
	lossC := make(chan struct{}, 1)
	for {
		select {
		case <-s.closed:
			if s.lossTimer != nil {
				s.lossTimer.Stop()
			}
			s.connected.Store(false)
			return
		case <-lossC:
			if !s.connected.Load() && !s.lost && s.everUp {
				s.declareLost()
			}
		case <-s.signal:
			s.qmu.Lock()
			q := s.queue
			s.queue = nil
			s.qmu.Unlock()
			for _, ev := range q {
				s.handle(ev, lossC)
			}
		}
	}
}

func (s *Session) handle(ev zk.Event, lossC chan struct{}) {
	switch ev.State {
	case zk.StateHasSession:
		id := s.conn.SessionID()
		if s.lossTimer != nil {
			s.lossTimer.Stop()
		}
		wasUp := s.everUp
		prev := s.sessionID
		s.sessionID = id
		s.everUp = true
		s.connected.Store(true)
		switch {
		case !wasUp:
			s.firstOnce.Do(func() { close(s.hasSession) })
			s.emit(SessionEvent{Kind: SessionConnected, SessionID: id})
		case s.lost || (prev != 0 && prev != id):
			if !s.lost {
				s.expirations.Add(1)
				s.emit(SessionEvent{Kind: SessionLost, SessionID: prev})
			}
			s.lost = false
			s.o.logger.Info("zkstate: connected to ZooKeeper with a new session", "server", ev.Server,
				"session", fmt.Sprintf("0x%x", id))
			s.emit(SessionEvent{Kind: SessionReestablished, SessionID: id})
		default:
			s.o.logger.Info("zkstate: reconnected to ZooKeeper; the session survived", "server", ev.Server,
				"session", fmt.Sprintf("0x%x", id))
			s.emit(SessionEvent{Kind: SessionReconnected, SessionID: id})
		}
	case zk.StateDisconnected:
		if !s.connected.Load() {
			return
		}
		s.connected.Store(false)
		// Said at once, at INFO: until the session is declared lost (a
		// session timeout later) nothing else would show that the state
		// has stopped following ZooKeeper.
		s.o.logger.Info("zkstate: disconnected from ZooKeeper; reconnecting", "server", ev.Server,
			"session", fmt.Sprintf("0x%x", s.sessionID), "session_timeout", s.o.timeout)
		s.emit(SessionEvent{Kind: SessionDisconnected, SessionID: s.sessionID})
		if s.lossTimer != nil {
			s.lossTimer.Stop()
		}
		s.lossTimer = time.AfterFunc(s.o.timeout, func() {
			select {
			case lossC <- struct{}{}:
			default:
			}
		})
	case zk.StateExpired:
		s.connected.Store(false)
		if !s.lost && s.everUp {
			s.declareLost()
		}
	case zk.StateAuthFailed:
		s.o.logger.Error("zkstate: ZooKeeper authentication failed", "servers", s.servers)
	}
}

func (s *Session) declareLost() {
	s.lost = true
	s.expirations.Add(1)
	s.o.logger.Warn("zkstate: ZooKeeper session lost", "session", fmt.Sprintf("0x%x", s.sessionID), "timeout", s.o.timeout)
	s.emit(SessionEvent{Kind: SessionLost, SessionID: s.sessionID})
}

// emit calls the subscribers in the order they subscribed, the Stores last
// (see Subscribe).
func (s *Session) emit(ev SessionEvent) {
	s.smu.Lock()
	ids := slices.Sorted(maps.Keys(s.subs))
	fns := make([]func(SessionEvent), 0, len(ids))
	for _, store := range []bool{false, true} {
		for _, id := range ids {
			if sub := s.subs[id]; sub.store == store {
				fns = append(fns, sub.fn)
			}
		}
	}
	s.smu.Unlock()
	for _, fn := range fns {
		fn(ev)
	}
}

// zkLogger sends go-zookeeper's log lines to slog at debug level: the client
// logs every reconnect attempt, which is noise at the default level; zkstate
// reports what matters itself.
type zkLogger struct{ l *slog.Logger }

// Printf logs one line of the client at debug level.
func (z zkLogger) Printf(format string, args ...any) {
	z.l.Debug("zookeeper client: " + fmt.Sprintf(format, args...))
}
