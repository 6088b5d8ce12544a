package zkstate

import (
	"context"
	"errors"
	"time"

	"github.com/go-zookeeper/zk"
)

// memberLoop keeps this instance's listener node in place for as long as
// the Store is open. Anyone may delete it (zkCli's deleteall, a tree
// removed and made again with procctl init), and without this the instance
// would stay out of the registry until its next session loss. An exists
// watch on the node brings it back at once; the verify timer looks again,
// so a lost watch delays the repair by one verify interval at most.
func (s *Store[T]) memberLoop() {
	defer s.wg.Done()
	tick := time.NewTicker(s.o.verifyInterval)
	defer tick.Stop()
	for {
		watch := s.keepMember()
		select {
		case <-s.closed:
			return
		case <-watch: // nil when the check failed: the timer decides
		case <-tick.C:
		}
	}
}

// keepMember re-creates the listener node when it is gone, and returns a
// watch that fires when it next changes (nil when it could not look).
func (s *Store[T]) keepMember() <-chan zk.Event {
	ctx, cancel := context.WithTimeout(s.life, s.o.verifyInterval)
	defer cancel()
	ok, _, watch, err := s.sess.ExistsW(ctx, s.memberPath)
	if err != nil {
		return nil
	}
	// A node held by an older session of ours is the session-loss path's
	// to replace (resync); only a node that is gone is repaired here.
	if ok || !s.sess.Connected() {
		return watch
	}
	// The whole tree may have been removed and made again without
	// listeners/; the root itself is not ours to make.
	if err := s.ensureNode(ctx, s.listenersPath, s.o.acls.Listeners); err != nil && !errors.Is(err, zk.ErrNoNode) {
		s.o.logger.Warn("zkstate: listener node is gone and its parent cannot be made", "path", s.listenersPath, "err", err)
		return watch
	}
	if err := s.register(ctx); err != nil {
		if !errors.Is(err, ErrClosed) {
			s.o.logger.Warn("zkstate: listener node is gone and re-creating it failed; retrying", "path", s.memberPath, "err", err)
		}
		return watch
	}
	s.stats.reregistrations.Add(1)
	s.o.logger.Info("zkstate: listener node was deleted; re-created it", "path", s.memberPath)
	return watch
}
