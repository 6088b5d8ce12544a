package zkstate

import (
	"errors"
	"time"

	"github.com/go-zookeeper/zk"
)

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
	ctx := s.life
	ticker := time.NewTicker(s.o.verifyInterval)
	defer ticker.Stop()
	backoff := 50 * time.Millisecond
	for {
		for watch == nil && s.lost.Load() {
			// The client may hold a new session before the Session has
			// said so; reading then would publish the resync ahead of
			// SessionReestablished. resync kicks once it is said.
			select {
			case <-s.closed:
				return
			case <-s.kick:
			}
		}
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
				ok, _, created, err := s.sess.ExistsW(ctx, s.payloadPath)
				if err == nil && !ok {
					watch = created
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
			ok, st, err := s.sess.Exists(ctx, s.payloadPath)
			if err != nil {
				continue
			}
			if !ok {
				watch = nil
				continue
			}
			s.applyMu.Lock()
			cur := s.cur.Load()
			same := st.Mzxid == cur.mzxid || st.Mzxid == s.badMzxid
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
		s.lost.Store(true)
	case SessionReestablished:
		s.lost.Store(false)
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
	ctx, span := s.tracer.Start(s.life, "zkstate.Resync")
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
