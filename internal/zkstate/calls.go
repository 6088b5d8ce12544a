package zkstate

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/go-zookeeper/zk"
)

// The call layer: go-zookeeper's requests with a context first. Each runs
// inside the Session's wait group, so Close waits for it, and returns when
// ctx ends or the Session closes; the request itself then finishes in the
// background, so a request that changes state may still be applied after
// its caller was told ctx ended. Errors keep go-zookeeper's sentinels
// (zk.ErrNoNode, ...) and add zkstate's where one applies (ErrPermission,
// ErrClosed). None is retried: a caller decides what is safe to repeat.

// Get returns the data and stat of the node at path.
func (s *Session) Get(ctx context.Context, path string) ([]byte, *zk.Stat, error) {
	type r struct {
		data []byte
		st   *zk.Stat
	}
	v, err := call(ctx, s, func() (r, error) {
		d, st, err := s.conn.Get(path)
		return r{d, st}, err
	})
	return v.data, v.st, err
}

// GetW is Get that also arms a watch, which fires once at the node's next
// change or deletion.
func (s *Session) GetW(ctx context.Context, path string) ([]byte, *zk.Stat, <-chan zk.Event, error) {
	type r struct {
		data []byte
		st   *zk.Stat
		ch   <-chan zk.Event
	}
	v, err := call(ctx, s, func() (r, error) {
		d, st, ch, err := s.conn.GetW(path)
		return r{d, st, ch}, err
	})
	return v.data, v.st, v.ch, err
}

// Set writes data to path if its version is version (-1: any).
func (s *Session) Set(ctx context.Context, path string, data []byte, version int32) (*zk.Stat, error) {
	return call(ctx, s, func() (*zk.Stat, error) { return s.conn.Set(path, data, version) })
}

// Create creates path with data, flags (zk.FlagEphemeral, ...) and acl, and
// returns the path created (with its sequence number for a sequential node).
func (s *Session) Create(ctx context.Context, path string, data []byte, flags int32, acl []zk.ACL) (string, error) {
	return call(ctx, s, func() (string, error) { return s.conn.Create(path, data, flags, acl) })
}

// Delete removes path if its version is version (-1: any).
func (s *Session) Delete(ctx context.Context, path string, version int32) error {
	_, err := call(ctx, s, func() (struct{}, error) { return struct{}{}, s.conn.Delete(path, version) })
	return err
}

// Exists reports whether path exists, with its stat when it does. It needs
// no READ permission on the node.
func (s *Session) Exists(ctx context.Context, path string) (bool, *zk.Stat, error) {
	type r struct {
		ok bool
		st *zk.Stat
	}
	v, err := call(ctx, s, func() (r, error) {
		ok, st, err := s.conn.Exists(path)
		return r{ok, st}, err
	})
	return v.ok, v.st, err
}

// ExistsW is Exists that also arms a watch, which fires once when the node
// is created, changed or deleted.
func (s *Session) ExistsW(ctx context.Context, path string) (bool, *zk.Stat, <-chan zk.Event, error) {
	type r struct {
		ok bool
		st *zk.Stat
		ch <-chan zk.Event
	}
	v, err := call(ctx, s, func() (r, error) {
		ok, st, ch, err := s.conn.ExistsW(path)
		return r{ok, st, ch}, err
	})
	return v.ok, v.st, v.ch, err
}

// Children returns the names of path's children, in no particular order.
func (s *Session) Children(ctx context.Context, path string) ([]string, error) {
	return call(ctx, s, func() ([]string, error) {
		c, _, err := s.conn.Children(path)
		return c, err
	})
}

// ChildrenW is Children that also arms a watch, which fires once when a
// child is added or removed, or path is deleted.
func (s *Session) ChildrenW(ctx context.Context, path string) ([]string, <-chan zk.Event, error) {
	type r struct {
		c  []string
		ch <-chan zk.Event
	}
	v, err := call(ctx, s, func() (r, error) {
		c, _, ch, err := s.conn.ChildrenW(path)
		return r{c, ch}, err
	})
	return v.c, v.ch, err
}

// Multi applies ops (*zk.CreateRequest, *zk.SetDataRequest,
// *zk.DeleteRequest, *zk.CheckVersionRequest) as one transaction: all or
// none. It is a quorum operation, which is what makes a version check in
// it a linearizable read.
func (s *Session) Multi(ctx context.Context, ops ...any) ([]zk.MultiResponse, error) {
	return call(ctx, s, func() ([]zk.MultiResponse, error) { return s.conn.Multi(ops...) })
}

// GetACL returns the ACL of path and its stat.
func (s *Session) GetACL(ctx context.Context, path string) ([]zk.ACL, *zk.Stat, error) {
	type r struct {
		acl []zk.ACL
		st  *zk.Stat
	}
	v, err := call(ctx, s, func() (r, error) {
		acl, st, err := s.conn.GetACL(path)
		return r{acl, st}, err
	})
	return v.acl, v.st, err
}

// Sync makes the server this client talks to catch up with the leader on
// path, so a read after it is at least as new as anything this client was
// told before. It is not a quorum operation: Sync then Get is not
// linearizable (see Store.ConsistentRead for what is).
func (s *Session) Sync(ctx context.Context, path string) error {
	_, err := call(ctx, s, func() (string, error) { return s.conn.Sync(path) })
	return err
}

// retry runs op, made of the Session's calls, again while it fails only
// for want of a connection (an election, a restarted server): a read or a
// lock step should ride out what the client rides out. op must be safe to
// repeat.
func (s *Session) retry(ctx context.Context, op func(context.Context) error) error {
	backoff := 20 * time.Millisecond
	for {
		err := op(ctx)
		if err == nil || !transient(err) {
			return err
		}
		select {
		case <-ctx.Done():
			return fmt.Errorf("%w (last error: %w)", context.Cause(ctx), err)
		case <-s.closed:
			return ErrClosed
		case <-time.After(backoff):
		}
		backoff = min(backoff*2, time.Second)
		if err := s.waitUsable(ctx); err != nil {
			return err
		}
	}
}

// spawn runs f in the background inside the Session's wait group, so that
// Close waits for it; once the Session is closed it runs nothing, since
// the session's ephemeral nodes are gone with it.
func (s *Session) spawn(f func()) {
	select {
	case <-s.closed:
		return
	default:
	}
	s.wg.Add(1)
	go func() {
		defer s.wg.Done()
		f()
	}()
}

// call runs f, a go-zookeeper request that has no context of its own, and
// returns early when ctx ends or the Session closes. The request then
// finishes in the background; Close waits for it. The result travels in R
// rather than in variables f sets, which the caller would read while an
// abandoned f still writes them.
func call[R any](ctx context.Context, s *Session, f func() (R, error)) (R, error) {
	var zero R
	select {
	case <-s.closed:
		return zero, ErrClosed
	default:
	}
	type result struct {
		r   R
		err error
	}
	done := make(chan result, 1)
	s.wg.Add(1)
	go func() {
		defer s.wg.Done()
		r, err := f()
		done <- result{r, err}
	}()
	select {
	case res := <-done:
		return res.r, mapErr(res.err)
	case <-ctx.Done():
		return zero, context.Cause(ctx)
	case <-s.closed:
		return zero, ErrClosed
	}
}

// transient reports errors after which the same request, sent again, may
// well succeed, and which say nothing about the request having been applied
// except where the caller knows it is idempotent.
func transient(err error) bool {
	return errors.Is(err, zk.ErrNoServer) || errors.Is(err, zk.ErrConnectionClosed) || errors.Is(err, zk.ErrSessionMoved)
}

// mapErr adds zkstate's sentinels to go-zookeeper errors that have one.
func mapErr(err error) error {
	switch {
	case err == nil:
		return nil
	case errors.Is(err, zk.ErrNoAuth), errors.Is(err, zk.ErrAuthFailed):
		return fmt.Errorf("%w: %w", ErrPermission, err)
	case errors.Is(err, zk.ErrClosing):
		return fmt.Errorf("%w: %w", ErrClosed, err)
	}
	return err
}
