package zkstate

import (
	"fmt"

	"github.com/go-zookeeper/zk"
)

// NoticeKind says what a Notice reports.
type NoticeKind int

const (
	// NoticeDeleted: the payload node is gone. The last good value stays
	// in force (and goes stale) until a payload appears again.
	NoticeDeleted NoticeKind = iota + 1
	// NoticeRecreated: a payload node exists again after one was deleted.
	// Its versions start afresh, so the next event's ToVersion may be
	// lower than its FromVersion.
	NoticeRecreated
	// NoticeInvalid: a version was rejected (not JSON, does not fit the
	// type, fails validation); the last good value stays in force.
	NoticeInvalid
)

// String returns the kind in lower case, for logs and JSON.
func (k NoticeKind) String() string {
	switch k {
	case NoticeDeleted:
		return "deleted"
	case NoticeRecreated:
		return "recreated"
	case NoticeInvalid:
		return "invalid"
	}
	return fmt.Sprintf("NoticeKind(%d)", int(k))
}

// Notice reports something that happened to the payload without changing
// the value in force, which no Event can show: see SubscribeWithNotices.
type Notice struct {
	Kind NoticeKind
	// Version is the node's version the notice is about: the last one seen
	// before a deletion, the first one read of a re-created node, the
	// rejected one.
	Version int32
	// KeptVersion is the version of the value in force, -1 when no good
	// document was read yet.
	KeptVersion int32
	// Err says why a version was rejected (an *InvalidPayloadError);
	// nil for the other kinds.
	Err error
}

// invalidNotice describes the rejected document of err while cur is kept.
func (s *Store[T]) invalidNotice(err *InvalidPayloadError, cur *snapshot[T]) *Notice {
	return &Notice{Kind: NoticeInvalid, Version: err.Version, KeptVersion: cur.version, Err: err}
}

// noteNode publishes the deletion and re-creation of the payload node that
// a read of it reveals: a node with another creation zxid than the one
// last read is a new node, whether or not the deletion was seen. Called
// with applyMu held, before the read's document is applied, so the notices
// come before the event they explain.
func (s *Store[T]) noteNode(stat *zk.Stat) {
	if s.czxid != 0 && stat.Czxid != s.czxid {
		if !s.deleted {
			s.publishNotice(&Notice{Kind: NoticeDeleted, Version: s.server.Load(), KeptVersion: s.cur.Load().version})
		}
		s.publishNotice(&Notice{Kind: NoticeRecreated, Version: stat.Version, KeptVersion: s.cur.Load().version})
	}
	s.czxid, s.deleted = stat.Czxid, false
}

// payloadGone publishes the deletion of the payload node once, when the
// watch loop finds it missing.
func (s *Store[T]) payloadGone() {
	s.applyMu.Lock()
	defer s.applyMu.Unlock()
	if s.deleted || s.czxid == 0 {
		return
	}
	s.deleted = true
	s.publishNotice(&Notice{Kind: NoticeDeleted, Version: s.server.Load(), KeptVersion: s.cur.Load().version})
}
