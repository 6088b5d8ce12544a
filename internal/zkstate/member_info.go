package zkstate

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"sync"

	"github.com/go-zookeeper/zk"
)

// MaxMemberInfo is the most a listener node may hold: member info is read
// by every listing of the fleet, so it stays small whatever an instance
// publishes.
const MaxMemberInfo = 4096

// memberState is what this instance publishes in its listener node: the
// engine's fields (Member) and the caller's (SetMemberInfo), merged. The
// node is created, re-created after a session loss or a deletion, and
// rewritten from it, so whoever writes the node writes the latest.
type memberState struct {
	mu   sync.Mutex
	data []byte
}

func (m *memberState) get() []byte {
	m.mu.Lock()
	defer m.mu.Unlock()
	return m.data
}

func (m *memberState) set(data []byte) {
	m.mu.Lock()
	m.data = data
	m.mu.Unlock()
}

// SetMemberInfo publishes info beside the engine's member fields in this
// instance's listener node, and keeps it for every re-registration (a new
// session, a deleted node). info must encode as a JSON object; its keys
// replace the engine's of the same name (an application may publish a
// hostname of its own), except "id", which is the node's name. The whole
// node is at most MaxMemberInfo bytes (ErrTooLarge, nothing written).
//
// It writes at once and returns the write's error; a node that is gone is
// not an error, since the engine re-creates it with this info. Readers
// decode Member.Info into their own type.
func (s *Store[T]) SetMemberInfo(ctx context.Context, info any) error {
	if s.memberPath == "" {
		return errors.New("zkstate: SetMemberInfo on a Store opened WithoutMembership")
	}
	data, err := mergeMemberInfo(s.memberBase, info)
	if err != nil {
		return err
	}
	s.member.set(data)
	ctx, end := s.scope(ctx)
	defer end()
	_, err = s.sess.Set(ctx, s.memberPath, data, -1)
	if errors.Is(err, zk.ErrNoNode) {
		return nil
	}
	if err != nil {
		return fmt.Errorf("zkstate: publish member info %s: %w", s.memberPath, err)
	}
	return nil
}

// mergeMemberInfo returns base with info's keys laid over it.
func mergeMemberInfo(base []byte, info any) ([]byte, error) {
	extra, err := json.Marshal(info)
	if err != nil {
		return nil, fmt.Errorf("zkstate: member info: %w", err)
	}
	var fields map[string]json.RawMessage
	if err := json.Unmarshal(base, &fields); err != nil {
		return nil, fmt.Errorf("zkstate: member info: %w", err)
	}
	var over map[string]json.RawMessage
	if t := bytes.TrimSpace(extra); len(t) == 0 || t[0] != '{' || json.Unmarshal(extra, &over) != nil {
		return nil, fmt.Errorf("zkstate: member info must encode as a JSON object, not %.40s", extra)
	}
	if _, ok := over["id"]; ok {
		return nil, errors.New(`zkstate: member info may not set "id": it is the listener node's name`)
	}
	for k, v := range over {
		fields[k] = v
	}
	data, err := json.Marshal(fields)
	if err != nil {
		return nil, fmt.Errorf("zkstate: member info: %w", err)
	}
	if len(data) > MaxMemberInfo {
		return nil, fmt.Errorf("%w: member info of %d bytes, more than %d", ErrTooLarge, len(data), MaxMemberInfo)
	}
	return data, nil
}
