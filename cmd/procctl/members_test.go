package main

import (
	"context"
	"os"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"

	"github.com/procwatch/procwatch/internal/watchlist"
	"github.com/procwatch/procwatch/internal/zkstate"
)

// openAgent opens a Store with membership, standing in for a procwatch agent.
func openAgent(t *testing.T, servers, id string) *zkstate.Store[watchlist.Document] {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	sess, err := zkstate.Connect(ctx, []string{servers})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(sess.Close)
	st, err := zkstate.Open[watchlist.Document](ctx, sess, "/procwatch",
		zkstate.WithMember("procwatch", "1.2.3"), zkstate.WithMemberID(id))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	return st
}

func TestMembers(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	env := f.env("/procwatch")
	mustRun(t, env, "init", "sshd")

	r := mustRun(t, env, "members", "-o", "json")
	if strings.TrimSpace(r.stdout) != "[]" {
		t.Errorf("json with no agents = %q", r.stdout)
	}
	r = mustRun(t, env, "members")
	if r.stdout != "" || r.stderr != "procctl: no live agents under /procwatch/listeners\n" {
		t.Errorf("text with no agents:\n%s", r)
	}

	a := openAgent(t, f.servers, "agent-a")
	openAgent(t, f.servers, "agent-b")
	host, _ := os.Hostname()
	pid := strconv.Itoa(os.Getpid())

	r = mustRun(t, env, "members")
	lines := strings.Split(strings.TrimSpace(r.stdout), "\n")
	if len(lines) != 3 {
		t.Fatalf("want a header and two agents (procctl itself never listed):\n%s", r.stdout)
	}
	if got := strings.Fields(lines[0]); !cmp.Equal(got, []string{"ID", "HOST", "PID", "VERSION", "APPLIED", "LABELS", "GROUPS", "MISSING"}) {
		t.Errorf("header %q", lines[0])
	}
	for i, id := range []string{"agent-a", "agent-b"} {
		// These instances publish no agent info: nothing is known of what
		// they applied.
		want := []string{id, host, pid, "1.2.3", "-", "-", "-", "-"}
		if fields := strings.Fields(lines[i+1]); !cmp.Equal(fields, want) {
			t.Errorf("line %q, want %q", lines[i+1], want)
		}
	}

	got := decodeJSON[[]agentView](t, mustRun(t, env, "members", "-o", "json"))
	noInfo := agentView{Member: zkstate.Member{Hostname: host, PID: os.Getpid(), Program: "procwatch", Version: "1.2.3"},
		AgentInfo: watchlist.AgentInfo{Labels: map[string]string{}, AppliedVersion: -1, Groups: []string{}, Missing: []string{}}, Behind: true}
	wantA, wantB := noInfo, noInfo
	wantA.ID, wantB.ID = "agent-a", "agent-b"
	want := []agentView{wantA, wantB}
	if diff := cmp.Diff(want, got, cmpopts.IgnoreFields(zkstate.Member{}, "StartedAt")); diff != "" {
		t.Errorf("json (-want +got):\n%s", diff)
	}
	for _, m := range got {
		if time.Since(m.StartedAt) > time.Minute || m.StartedAt.After(time.Now().Add(time.Second)) {
			t.Errorf("%s started_at %s", m.ID, m.StartedAt)
		}
	}

	// An agent that stops leaves the list.
	a.Close()
	got = decodeJSON[[]agentView](t, mustRun(t, env, "members", "-o", "json"))
	if len(got) != 1 || got[0].ID != "agent-b" {
		t.Errorf("after agent-a closed: %+v", got)
	}
	if r := mustRun(t, env, "members"); strings.Contains(r.stdout, "agent-a") || !strings.Contains(r.stdout, "agent-b") {
		t.Errorf("text after agent-a closed:\n%s", r.stdout)
	}
}
