package agent

import (
	"context"
	"encoding/json"
	"errors"
	"io/fs"
	"slices"
	"time"

	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/codes"
	"go.opentelemetry.io/otel/trace"

	"github.com/procwatch/procwatch/internal/metrics"
	"github.com/procwatch/procwatch/internal/watchlist"
	"github.com/procwatch/procwatch/internal/zkopts"
	"github.com/procwatch/procwatch/internal/zkstate"
)

// tracerName is the instrumentation scope of the agent's spans.
const tracerName = "github.com/procwatch/procwatch/internal/agent"

// RematchSpan is the name of the span around putting a watch list in force
// (compiling it and re-matching the host's processes); the monitor's
// spans are its children.
const RematchSpan = "procwatch.rematch"

// Sources of a list put in force, the procwatch.source attribute of
// RematchSpan.
const (
	sourceCache    = "cache"
	sourceJoin     = "zookeeper-join"
	sourceChange   = "zookeeper-change"
	maxJoinBackoff = 30 * time.Second
)

// loadCache puts the cache file's list in force, so that an agent starting
// while ZooKeeper is away monitors what it monitored before.
func (a *agent) loadCache(ctx context.Context) {
	if a.cfg.CacheFile == "" {
		return
	}
	c, err := readCache(a.cfg.CacheFile)
	switch {
	case errors.Is(err, fs.ErrNotExist):
		a.log.Info("no cache file yet; it is written at the first list from ZooKeeper", "cache_file", a.cfg.CacheFile)
		return
	case err != nil:
		a.log.Warn("ignoring unreadable cache file", "err", err)
		return
	case c.Root != "" && c.Root != a.cfg.Path:
		a.log.Warn("ignoring cache file of another root", "cache_file", a.cfg.CacheFile, "cache_root", c.Root, "path", a.cfg.Path)
		return
	}
	a.applyMu.Lock()
	defer a.applyMu.Unlock()
	a.cachedVer, a.hasCachedVer = c.Version, true
	a.mu.Lock()
	a.fromCache = &c
	a.mu.Unlock()
	ctx, span := a.startRematch(ctx, sourceCache, c.Version)
	defer span.End()
	a.apply(ctx, span, c.Payload, c.Version)
	a.log.InfoContext(ctx, "loaded the watch list from the cache file",
		"cache_file", a.cfg.CacheFile, "version", c.Version, "saved_at", c.SavedAt, "globs", c.Payload.Globs)
}

// join opens the shared list, retrying until ctx ends, then follows it.
// Open itself waits for a session and for the payload to exist, so while
// ZooKeeper is down this costs nothing but the client's reconnect attempts.
func (a *agent) join(ctx context.Context) {
	wctx, cancel := context.WithTimeout(ctx, a.cfg.SessionTimeout)
	err := a.sess.WaitConnected(wctx)
	cancel()
	if err != nil && ctx.Err() == nil {
		args := []any{"zk", a.sess.Servers(), "running_from_cache", a.ready.Load(), "err", err}
		if why := zkopts.Explain(a.sess.LastDialError()); why != "" {
			// A certificate the agent does not trust is a configuration
			// error, not an outage: say so plainly.
			a.log.Error("cannot connect to ZooKeeper: "+why+"; still trying in the background", args...)
		} else {
			a.log.Warn("ZooKeeper is not reachable yet; still trying in the background", args...)
		}
	}
	// The document's own rules (strict, "globs" present, at most
	// MaxGlobs) come with watchlist.Document: zkstate applies them.
	opts := []zkstate.Option{
		zkstate.WithMember("procwatch", a.cfg.Version),
		zkstate.WithLogger(a.log.With("component", "zkstate")),
		zkstate.WithTracerProvider(a.tp),
	}
	if acl := a.cfg.ZKSecurity.OwnACL(); acl != nil {
		// Only this agent's listener node: the rest of the tree is the
		// editor's, created by procctl init.
		opts = append(opts, zkstate.WithACLs(zkstate.ACLs{Member: acl}))
	}
	opts = append(opts, a.cfg.storeOptions...)
	backoff := 500 * time.Millisecond
	for {
		store, err := zkstate.Open[watchlist.Document](ctx, a.sess, a.cfg.Path, opts...)
		if err == nil {
			a.follow(ctx, store)
			return
		}
		if ctx.Err() != nil {
			return
		}
		if errors.Is(err, zkstate.ErrPermission) {
			// Retried all the same: an administrator may fix the ACL.
			a.log.Error("ZooKeeper refused this agent ("+a.cfg.ZKSecurity.Identity()+") under "+a.cfg.Path+
				": it must be allowed to create its node under listeners/ — give the agents' credentials with --zk-auth-file; retrying",
				"retry_in", backoff, "err", err)
		} else {
			a.log.Warn("opening the watch list failed; retrying", "path", a.cfg.Path, "retry_in", backoff, "err", err)
		}
		t := time.NewTimer(backoff)
		select {
		case <-ctx.Done():
			t.Stop()
			return
		case <-t.C:
		}
		backoff = min(2*backoff, maxJoinBackoff)
	}
}

// follow subscribes to the list's changes, puts the current one in force and
// keeps the member info current until ctx ends. applyMu is held across
// Subscribe and the snapshot, so that an event arriving meanwhile waits and
// is applied after the snapshot it follows.
func (a *agent) follow(ctx context.Context, store *zkstate.Store[watchlist.Document]) {
	a.subscribe(ctx, store)
	a.memberLoop(ctx, store)
}

func (a *agent) subscribe(ctx context.Context, store *zkstate.Store[watchlist.Document]) {
	a.applyMu.Lock()
	defer a.applyMu.Unlock()
	snap, cancel := store.Subscribe(func(ev zkstate.Event[watchlist.Document]) { a.onEvent(ctx, ev) })
	a.mu.Lock()
	a.store, a.cancelSub = store, cancel
	a.mu.Unlock()
	a.log.Info("joined", "zk", a.sess.Servers(), "path", a.cfg.Path, "member", store.MemberID(), "version", snap.Version)
	if snap.Version < 0 {
		// The payload on the server is invalid: keep the cache's list (if
		// any) until a good one arrives as an event.
		a.log.Warn("the watch list in ZooKeeper is invalid; keeping the list in force until it is fixed", "path", a.cfg.Path)
		return
	}
	ctx, span := a.startRematch(ctx, sourceJoin, snap.Version)
	defer span.End()
	if a.hasApplied {
		// Coming from the cache file: what changed while this agent was
		// away counts as changes, as after a reconnect.
		old, _ := json.Marshal(a.applied)
		cur, _ := json.Marshal(snap.Value)
		if changes, err := zkstate.Diff(old, cur); err == nil {
			a.countChanges(changes)
			span.SetAttributes(attribute.Int("procwatch.changes", len(changes)))
		}
	}
	a.apply(ctx, span, snap.Value, snap.Version)
}

// onEvent puts a changed list in force at once, not at the next scan or
// scrape, so /metrics shows the new list within the second.
func (a *agent) onEvent(ctx context.Context, ev zkstate.Event[watchlist.Document]) {
	a.applyMu.Lock()
	defer a.applyMu.Unlock()
	ctx, span := a.startRematch(ctx, sourceChange, ev.ToVersion)
	defer span.End()
	span.SetAttributes(
		attribute.Int("procwatch.from_version", int(ev.FromVersion)),
		attribute.Int("procwatch.changes", len(ev.Changes)),
		attribute.Bool("procwatch.resync", ev.Resync),
	)
	a.countChanges(ev.Changes)
	changes := make([]string, len(ev.Changes))
	for i, c := range ev.Changes {
		changes[i] = c.String()
	}
	a.log.InfoContext(ctx, "watch list changed", "from_version", ev.FromVersion, "to_version", ev.ToVersion,
		"resync", ev.Resync, "changes", changes)
	a.apply(ctx, span, ev.Value, ev.ToVersion)
}

func (a *agent) startRematch(ctx context.Context, source string, version int32) (context.Context, trace.Span) {
	return a.tracer.Start(ctx, RematchSpan, trace.WithAttributes(
		attribute.String("procwatch.source", source),
		attribute.Int("procwatch.version", int(version)),
	))
}

// apply puts list in force (re-matching at once), records it in the cache
// file and marks the agent ready. What is in force is the list resolved
// for this agent's identity: the fleet-wide globs and those of the groups
// that apply to it. The caller holds applyMu.
func (a *agent) apply(ctx context.Context, span trace.Span, list watchlist.Document, version int32) {
	r := list.Resolve(watchlist.Identity{Hostname: a.cfg.Hostname, Labels: a.cfg.Labels})
	for _, g := range r.Skipped {
		a.log.WarnContext(ctx, "skipping a group that cannot be evaluated; it applies to no agent until fixed",
			"group", g.Group, "err", g.Reason, "version", version)
	}
	if !a.hasApplied || !slices.Equal(r.Groups, a.inForce.Groups) {
		a.log.InfoContext(ctx, "groups applying to this agent", "groups", r.Groups,
			"hostname", a.cfg.Hostname, "labels", watchlist.FormatLabels(a.cfg.Labels), "version", version)
	}
	span.SetAttributes(attribute.StringSlice("procwatch.groups", r.Groups))
	if !a.hasApplied || !slices.Equal(r.Globs, a.inForce.Globs) {
		res, err := a.mon.SetGlobs(ctx, r.Globs)
		for _, g := range res.InvalidGlobs {
			a.log.WarnContext(ctx, "skipping invalid glob; the others are in force", "glob", g.Glob, "err", g.Reason, "version", version)
		}
		span.SetAttributes(
			attribute.Int("procwatch.globs", len(res.Globs)),
			attribute.Int("procwatch.invalid_globs", len(res.InvalidGlobs)),
			attribute.Int("procwatch.processes_matched", res.Matched),
		)
		if err != nil && ctx.Err() == nil {
			// The list is in force anyway; the next scan may succeed.
			a.log.ErrorContext(ctx, "re-matching processes failed", "err", err)
			span.RecordError(err)
			span.SetStatus(codes.Error, "re-match failed")
		}
	}
	a.inForce = r
	a.mu.Lock()
	a.groups, a.skipped = r.Groups, len(r.Skipped)
	a.appliedVersion, a.globsInForce = version, len(r.Globs)
	a.mu.Unlock()
	a.members.notify()
	a.applied, a.hasApplied = list, true
	if !a.ready.Swap(true) && a.cfg.OnReady != nil {
		a.cfg.OnReady()
	}
	if a.cfg.CacheFile == "" || (a.hasCachedVer && a.cachedVer == version) {
		return
	}
	err := writeCache(a.cfg.CacheFile, cacheFile{Root: a.cfg.Path, Version: version, SavedAt: time.Now().UTC(), Payload: list})
	if err != nil {
		a.log.ErrorContext(ctx, "writing the cache file failed", "cache_file", a.cfg.CacheFile, "err", err)
		return
	}
	a.cachedVer, a.hasCachedVer = version, true
}

// countChanges adds an event's changes to procwatch_state_changes_total.
func (a *agent) countChanges(changes []zkstate.Change) {
	for _, ch := range changes {
		if ch.Kind >= zkstate.Added && ch.Kind <= zkstate.Removed {
			a.changes[ch.Kind-zkstate.Added].Add(1)
		}
	}
}

// leave stops following the list and closes the Store, which removes this
// instance's listener node at once rather than at session expiry.
func (a *agent) leave() {
	a.mu.Lock()
	store, cancel := a.store, a.cancelSub
	a.store, a.cancelSub = nil, nil
	a.mu.Unlock()
	if store == nil {
		return
	}
	cancel()
	if err := store.Close(); err != nil {
		a.log.Warn("closing the watch list", "err", err)
	}
}

// state reports the list's health for the collector: the Store's view once
// it holds a good list, the cache file's (stale by definition) before.
func (a *agent) state() metrics.State {
	a.mu.Lock()
	store, cached := a.store, a.fromCache
	groups, skipped := a.groups, a.skipped
	a.mu.Unlock()
	st := metrics.State{
		Version:            -1,
		Stale:              true,
		Connected:          a.sess.Connected(),
		SessionExpirations: a.sess.Expirations(),
		Changes: metrics.Changes{
			Added:    a.changes[zkstate.Added-zkstate.Added].Load(),
			Modified: a.changes[zkstate.Modified-zkstate.Added].Load(),
			Removed:  a.changes[zkstate.Removed-zkstate.Added].Load(),
		},
		Groups:        groups,
		SkippedGroups: skipped,
		MemberUpdates: metrics.MemberUpdates{OK: a.members.ok.Load(), Errors: a.members.failed.Load()},
	}
	if store != nil {
		_, info := store.DirtyRead()
		stats := store.Stats()
		st.InvalidPayloads, st.ReadErrors = stats.InvalidPayloads, stats.ReadErrors
		st.Invalid = info.Invalid
		if info.Version >= 0 {
			st.Version, st.Stale, st.Age, st.Verified = info.Version, info.Stale, info.Age, true
			return st
		}
	}
	if cached != nil {
		st.Version = cached.Version
		if !cached.SavedAt.IsZero() {
			st.Age, st.Verified = time.Since(cached.SavedAt), true
		}
	}
	return st
}
