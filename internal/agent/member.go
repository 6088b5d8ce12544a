package agent

import (
	"context"
	"sync/atomic"
	"time"

	"github.com/procwatch/procwatch/internal/watchlist"
	"github.com/procwatch/procwatch/internal/zkstate"
)

// memberWriteTimeout bounds one rewrite of the member info; a ZooKeeper
// that does not answer costs a retry at the next interval, never a scan.
const memberWriteTimeout = 5 * time.Second

// memberFeed is how the agent's member info is kept current: the version
// in force is published at once (kick), the missing globs at most once per
// Config.MemberInterval, and a failed write is retried at the next tick.
type memberFeed struct {
	kick   chan struct{}
	ok     atomic.Uint64
	failed atomic.Uint64
}

func newMemberFeed() *memberFeed { return &memberFeed{kick: make(chan struct{}, 1)} }

// notify asks for a rewrite now, without waiting.
func (f *memberFeed) notify() {
	select {
	case f.kick <- struct{}{}:
	default:
	}
}

// memberLoop publishes the member info of store until ctx ends: at once
// when notified (a new version in force, the Store joined), else every
// MemberInterval when what it would publish changed (the missing set) or
// the last write failed. It runs beside the scans and never holds them up.
func (a *agent) memberLoop(ctx context.Context, store *zkstate.Store[watchlist.Document]) {
	t := time.NewTicker(a.cfg.MemberInterval)
	defer t.Stop()
	var last watchlist.AgentInfo
	published, failing := false, false
	for {
		info := a.memberInfo()
		if !published || !info.SameState(last) {
			info.UpdatedAt = time.Now().UTC().Truncate(time.Millisecond)
			wctx, cancel := context.WithTimeout(ctx, memberWriteTimeout)
			err := store.SetMemberInfo(wctx, watchlist.MemberInfo{Hostname: a.cfg.Hostname, AgentInfo: info})
			cancel()
			switch {
			case err == nil:
				a.members.ok.Add(1)
				last, published = info, true
				if failing {
					a.log.Info("member info written again", "applied_version", info.AppliedVersion)
					failing = false
				}
			case ctx.Err() != nil:
				return
			default:
				// Logged when it starts failing, counted every time.
				a.members.failed.Add(1)
				if !failing {
					a.log.Warn("writing the member info failed; retrying at the next interval",
						"interval", a.cfg.MemberInterval, "err", err)
					failing = true
				}
			}
		}
		select {
		case <-ctx.Done():
			return
		case <-a.members.kick:
		case <-t.C:
		}
	}
}

// memberInfo is what the agent publishes now: its identity, the version
// in force and which of its globs matched nothing at the latest scan.
func (a *agent) memberInfo() watchlist.AgentInfo {
	a.mu.Lock()
	info := watchlist.AgentInfo{
		Labels:         a.cfg.Labels,
		AppliedVersion: a.appliedVersion,
		Groups:         a.groups,
		Globs:          a.globsInForce,
	}
	a.mu.Unlock()
	if info.Labels == nil {
		info.Labels = map[string]string{}
	}
	if info.Groups == nil {
		info.Groups = []string{}
	}
	var missing []string
	if res, ok := a.mon.Latest(); ok {
		for _, g := range res.Globs {
			if g.Processes == 0 {
				missing = append(missing, g.Glob)
			}
		}
	}
	info.SetMissing(missing)
	return info
}
