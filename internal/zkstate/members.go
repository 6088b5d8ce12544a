package zkstate

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"sync"
	"time"

	"github.com/go-zookeeper/zk"
)

// Member is what a live instance publishes in its listener node. It holds
// nothing secret: anyone who can read the tree sees it.
type Member struct {
	ID        string    `json:"id"`
	Hostname  string    `json:"hostname"`
	PID       int       `json:"pid"`
	Program   string    `json:"program"`
	Version   string    `json:"version"`
	StartedAt time.Time `json:"started_at"`
	// Info is the node's data as stored: these fields and whatever the
	// instance published beside them (SetMemberInfo), for the caller to
	// decode into its own type.
	Info json.RawMessage `json:"-"`
}

func (s *Store[T]) initMember() error {
	id := s.o.memberID
	if id == "" {
		var b [8]byte
		if _, err := rand.Read(b[:]); err != nil {
			return fmt.Errorf("zkstate: member id: %w", err)
		}
		id = hex.EncodeToString(b[:])
	}
	host, _ := os.Hostname()
	program := s.o.program
	if program == "" {
		program = filepath.Base(os.Args[0])
	}
	data, err := json.Marshal(Member{
		ID:        id,
		Hostname:  host,
		PID:       os.Getpid(),
		Program:   program,
		Version:   s.o.version,
		StartedAt: time.Now().UTC().Truncate(time.Second),
	})
	if err != nil {
		return fmt.Errorf("zkstate: member info: %w", err)
	}
	s.memberID = id
	s.memberPath = s.listenersPath + "/" + id
	s.memberBase = data
	s.member.set(data)
	return nil
}

// register creates this instance's ephemeral listener node. A node of the
// same name left by an earlier session of ours (declared lost by us, not yet
// expired by the server) is replaced, so the registry shows the live session.
func (s *Store[T]) register(ctx context.Context) error {
	for {
		_, err := s.sess.Create(ctx, s.memberPath, s.member.get(), zk.FlagEphemeral, orWorld(s.o.acls.Member))
		if err == nil {
			return nil
		}
		if !errors.Is(err, zk.ErrNodeExists) {
			return fmt.Errorf("zkstate: register %s: %w", s.memberPath, err)
		}
		ok, st, err := s.sess.Exists(ctx, s.memberPath)
		if err != nil {
			return fmt.Errorf("zkstate: register %s: %w", s.memberPath, err)
		}
		if !ok {
			continue
		}
		if st.EphemeralOwner == s.sess.SessionID() {
			return nil
		}
		err = s.sess.Delete(ctx, s.memberPath, st.Version)
		if err != nil && !errors.Is(err, zk.ErrNoNode) && !errors.Is(err, zk.ErrBadVersion) {
			return fmt.Errorf("zkstate: replace stale %s: %w", s.memberPath, err)
		}
	}
}

// MemberID returns this instance's id in the listeners registry, or "" under
// WithoutMembership.
func (s *Store[T]) MemberID() string { return s.memberID }

// Members lists the live instances, sorted by hostname then id. A node whose
// data is not valid member JSON is listed with its id only.
func (s *Store[T]) Members(ctx context.Context) ([]Member, error) {
	ctx, end := s.scope(ctx)
	defer end()
	var children []string
	err := s.sess.retry(ctx, func(ctx context.Context) (err error) {
		children, err = s.sess.Children(ctx, s.listenersPath)
		return err
	})
	if err != nil {
		return nil, fmt.Errorf("zkstate: list %s: %w", s.listenersPath, err)
	}
	return s.readMembers(ctx, children)
}

func (s *Store[T]) readMembers(ctx context.Context, children []string) ([]Member, error) {
	ms, _, err := s.readMembersW(ctx, children, false)
	return ms, err
}

// readMembersW reads the listener nodes children; with watch, it also
// returns a data watch on each, so that a caller learns of rewritten
// member info as of a node that comes or goes.
func (s *Store[T]) readMembersW(ctx context.Context, children []string, watch bool) ([]Member, []<-chan zk.Event, error) {
	members := make([]Member, 0, len(children))
	var watches []<-chan zk.Event
	for _, c := range children {
		path := s.listenersPath + "/" + c
		var data []byte
		var ch <-chan zk.Event
		err := s.sess.retry(ctx, func(ctx context.Context) (err error) {
			if watch {
				data, _, ch, err = s.sess.GetW(ctx, path)
				return err
			}
			data, _, err = s.sess.Get(ctx, path)
			return err
		})
		if errors.Is(err, zk.ErrNoNode) {
			continue // left while we listed
		}
		if err != nil {
			return nil, nil, fmt.Errorf("zkstate: read member %s: %w", c, err)
		}
		if ch != nil {
			watches = append(watches, ch)
		}
		var m Member
		if json.Unmarshal(data, &m) != nil {
			m = Member{}
		}
		m.ID = c
		m.Info = data
		members = append(members, m)
	}
	sort.Slice(members, func(i, j int) bool {
		if members[i].Hostname != members[j].Hostname {
			return members[i].Hostname < members[j].Hostname
		}
		return members[i].ID < members[j].ID
	})
	return members, watches, nil
}

// WatchMembers sends the full member list now and after every change (an
// instance that comes or goes, or rewrites its member info), until ctx
// ends or the Store closes; then the channel is closed. A reader that falls
// behind gets the latest list, not every intermediate one.
func (s *Store[T]) WatchMembers(ctx context.Context) <-chan []Member {
	out := make(chan []Member, 1)
	s.wg.Add(1)
	go func() {
		defer s.wg.Done()
		defer close(out)
		ctx, end := s.scope(ctx)
		defer end()
		backoff := 100 * time.Millisecond
		var last []Member
		first := true
		for {
			children, childW, err := s.sess.ChildrenW(ctx, s.listenersPath)
			var members []Member
			var dataW []<-chan zk.Event
			if err == nil {
				members, dataW, err = s.readMembersW(ctx, children, true)
			}
			if err != nil {
				if ctx.Err() != nil || errors.Is(err, ErrClosed) {
					return
				}
				select {
				case <-ctx.Done():
					return
				case <-s.closed:
					return
				case <-time.After(backoff):
				}
				backoff = min(backoff*2, 2*time.Second)
				continue
			}
			backoff = 100 * time.Millisecond
			if first || !sameMembers(last, members) {
				first = false
				last = members
				select {
				case <-out: // drop the unread older list
				default:
				}
				out <- members
			}
			if !waitAny(ctx.Done(), s.closed, append(dataW, childW)) {
				return
			}
		}
	}()
	return out
}

// waitAny waits until one of watches fires (true) or done or closed is
// closed (false). The watches that did not fire stay armed on the server
// and fire into their buffered channels later, unread.
func waitAny(done, closed <-chan struct{}, watches []<-chan zk.Event) bool {
	fired := make(chan struct{}, 1)
	stop := make(chan struct{})
	var wg sync.WaitGroup
	for _, w := range watches {
		wg.Go(func() {
			select {
			case <-w:
				select {
				case fired <- struct{}{}:
				default:
				}
			case <-stop:
			}
		})
	}
	defer wg.Wait()
	defer close(stop)
	select {
	case <-done:
		return false
	case <-closed:
		return false
	case <-fired:
		return true
	}
}

func sameMembers(a, b []Member) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		// The data holds every field; the id is the node's name.
		if a[i].ID != b[i].ID || !bytes.Equal(a[i].Info, b[i].Info) {
			return false
		}
	}
	return true
}
