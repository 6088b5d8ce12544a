package zkstate

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/go-zookeeper/zk"
	"github.com/google/go-cmp/cmp"
	"github.com/procwatch/procwatch/internal/testutil"
	"github.com/procwatch/procwatch/internal/zktest"
)

// TestSecureTree: with SecureACLs only the editor writes; an agent without
// the editor's credentials still follows changes and registers itself; an
// anonymous client is refused with ErrPermission and writes nothing.
func TestSecureTree(t *testing.T) {
	zks := startZK(t)
	acls := SecureACLs(DigestID("editor", "s3cret"), DigestID("agent", "agentpw"))
	editorSess := newSession(t, zks.ConnectString(), WithAuth("digest", []byte("editor:s3cret")))
	editor := createStore[config](t, editorSess, "/secure", config{Globs: []string{"a"}}, WithACLs(acls), WithoutMembership())

	agentSess := newSession(t, zks.ConnectString(), WithAuth("digest", []byte("agent:agentpw")))
	agent := openStore[config](t, agentSess, "/secure", WithACLs(acls), WithMemberID("agent-1"))
	rec := record(t, agent)

	anon := openStore[config](t, newSession(t, zks.ConnectString()), "/secure", WithoutMembership())
	ctx := testCtx(t, 10*time.Second)
	_, err := anon.Update(ctx, func(c *config) error { c.Globs = append(c.Globs, "evil"); return nil })
	if !errors.Is(err, ErrPermission) {
		t.Fatalf("anonymous Update = %v, want ErrPermission", err)
	}
	_, err = agent.Update(ctx, func(c *config) error { c.Globs = append(c.Globs, "evil"); return nil })
	if !errors.Is(err, ErrPermission) {
		t.Fatalf("agent Update = %v, want ErrPermission", err)
	}
	raw := zktest.Connect(t, zks.ConnectString(), 5*time.Second)
	if _, err := raw.Set("/secure/payload", []byte(`{"globs":["evil"]}`), -1); !errors.Is(err, zk.ErrNoAuth) {
		t.Fatalf("raw anonymous Set = %v, want ErrNoAuth", err)
	}
	noLockNodes(t, raw, "/secure/lock")

	v, err := editor.Update(ctx, func(c *config) error { c.Globs = append(c.Globs, "b"); return nil })
	if err != nil {
		t.Fatalf("editor Update: %v", err)
	}
	evs := rec.waitVersion(t, 2*time.Second, v)
	if got := evs[len(evs)-1].Value.Globs; !cmp.Equal(got, []string{"a", "b"}) {
		t.Errorf("agent sees %v", got)
	}
	if ok, _, err := raw.Exists("/secure/listeners/agent-1"); err != nil || !ok {
		t.Errorf("agent's listener node missing: %v", err)
	}
	// Nothing is world-writable.
	for _, p := range []string{"/secure", "/secure/payload", "/secure/lock", "/secure/listeners", "/secure/writes", "/secure/listeners/agent-1"} {
		acl, _, err := raw.GetACL(p)
		if err != nil {
			t.Fatalf("GetACL %s: %v", p, err)
		}
		for _, a := range acl {
			if a.Scheme == "world" && a.Perms&^zk.PermRead != 0 {
				t.Errorf("%s grants world %v", p, a)
			}
		}
	}

	// Credentials survive a session expiry: the agent's node comes back
	// under the ACL, and the editor still writes.
	proxy := zktest.NewProxy(t, zks.ConnectString())
	cutSess := newSession(t, proxy.Addr(), WithSessionTimeout(2*time.Second), WithAuth("digest", []byte("agent:agentpw")))
	lost := make(chan struct{})
	var once sync.Once
	defer cutSess.Subscribe(func(ev SessionEvent) {
		if ev.Kind == SessionReestablished {
			once.Do(func() { close(lost) })
		}
	})()
	openStore[config](t, cutSess, "/secure", WithACLs(acls), WithMemberID("agent-2"))
	member := "/secure/listeners/agent-2"
	proxy.Cut()
	testutil.Eventually(t, 15*time.Second, "the server to expire the cut agent", func() bool {
		ok, _, err := raw.Exists(member)
		return err == nil && !ok
	})
	proxy.Restore()
	select {
	case <-lost:
	case <-ctx.Done():
		t.Fatal("no new session after the cut")
	}
	testutil.Eventually(t, 10*time.Second, "listener node re-created after expiry", func() bool {
		ok, _, err := raw.Exists(member)
		return err == nil && ok
	})
	acl, _, err := raw.GetACL(member)
	if err != nil {
		t.Fatal(err)
	}
	// The server masks digests for readers that do not hold them: compare
	// scheme, user and permissions.
	user := func(a []zk.ACL) []string {
		var out []string
		for _, e := range a {
			out = append(out, fmt.Sprintf("%s:%s:%d", e.Scheme, strings.SplitN(e.ID, ":", 2)[0], e.Perms))
		}
		return out
	}
	if !cmp.Equal(user(acl), user(acls.Member)) {
		t.Errorf("re-created node has ACL %v, want %v", user(acl), user(acls.Member))
	}
	if _, err := editor.Update(ctx, func(c *config) error { c.Globs = append(c.Globs, "c"); return nil }); err != nil {
		t.Fatalf("editor Update after the agent's expiry: %v", err)
	}
}

// TestAuthWhenStartedDuringOutage: credentials given to a Session that
// starts while no server answers are still sent once one does; nothing goes
// out anonymously before.
func TestAuthWhenStartedDuringOutage(t *testing.T) {
	zks := startZK(t)
	acls := SecureACLs(DigestID("editor", "s3cret"), DigestID("agent", "agentpw"))
	editorSess := newSession(t, zks.ConnectString(), WithAuth("digest", []byte("editor:s3cret")))
	createStore[config](t, editorSess, "/outage", config{Globs: []string{"a"}}, WithACLs(acls), WithoutMembership())

	proxy := zktest.NewProxy(t, zks.ConnectString())
	proxy.Cut()
	sess, err := NewSession([]string{proxy.Addr()}, WithSessionTimeout(2*time.Second), WithAuth("digest", []byte("agent:agentpw")))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(sess.Close)
	// Let the client fail a full pass over its servers, which is what used
	// to drop the credentials.
	testutil.Eventually(t, 10*time.Second, "a failed connection attempt", func() bool { return sess.LastDialError() != nil || !sess.Connected() })
	short, cancel := context.WithTimeout(context.Background(), 1500*time.Millisecond)
	defer cancel()
	if err := sess.WaitConnected(short); !errors.Is(err, ErrNotConnected) {
		t.Fatalf("WaitConnected during the outage = %v, want ErrNotConnected", err)
	}
	proxy.Restore()
	st := openStore[config](t, sess, "/outage", WithACLs(acls), WithMemberID("late-agent"))
	raw := zktest.Connect(t, zks.ConnectString(), 5*time.Second)
	if ok, _, err := raw.Exists("/outage/listeners/late-agent"); err != nil || !ok {
		t.Fatalf("agent not registered after the outage: %v", err)
	}
	if got, err := st.Read(); err != nil || !cmp.Equal(got.Globs, []string{"a"}) {
		t.Errorf("Read = %v, %v", got.Globs, err)
	}
}
