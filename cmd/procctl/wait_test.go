package main

import (
	"context"
	"fmt"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/procwatch/procwatch/internal/watchlist"
	"github.com/procwatch/procwatch/internal/zkstate"
)

// publish makes a stand-in agent report version v as applied.
func publish(t *testing.T, st *zkstate.Store[watchlist.Document], host string, v int32) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := st.SetMemberInfo(ctx, watchlist.MemberInfo{Hostname: host, AgentInfo: watchlist.AgentInfo{AppliedVersion: v,
		Labels: map[string]string{}, Groups: []string{}, Missing: []string{}, UpdatedAt: time.Now()}}); err != nil {
		t.Fatal(err)
	}
}

// startWrite runs a write command with --wait in the background; the
// channel gets its exit code.
func startWrite(t *testing.T, env envMap, stderr *syncBuffer, args ...string) <-chan int {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	t.Cleanup(cancel)
	var stdout syncBuffer
	done := make(chan int, 1)
	go func() { done <- execute(ctx, env, "", &stdout, stderr, args...) }()
	return done
}

var waitingFor = regexp.MustCompile(`to apply version (\d+)`)

// TestWaitFollowsTheAgents: --wait reports progress as agents apply the
// version written, does not wait for an agent that leaves, says so, and
// exits 0 once all the others have; an agent that stays behind makes it
// exit 1 at --wait-timeout, named.
func TestWaitFollowsTheAgents(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	env := f.env("/procwatch")
	mustRun(t, env, "init", "sshd")
	a, b := openAgent(t, f.servers, "agent-a"), openAgent(t, f.servers, "agent-b")
	publish(t, a, "web-1", 0)
	publish(t, b, "web-2", 0)

	var stderr syncBuffer
	done := startWrite(t, env, &stderr, "globs", "add", "--wait", "cron")
	line := stderr.expect(t, "waiting for 2 of 2 agents", 10*time.Second)
	m := waitingFor.FindStringSubmatch(line)
	if m == nil {
		t.Fatalf("progress line %q names no version", line)
	}
	v, _ := strconv.Atoi(m[1])
	publish(t, a, "web-1", int32(v))
	stderr.expect(t, "waiting for 1 of 2 agents to apply version "+m[1]+": web-2 (agent-b) at version 0", 10*time.Second)
	b.Close()
	stderr.expect(t, "web-2 (agent-b) left before applying version "+m[1], 10*time.Second)
	stderr.expect(t, "1 agent applied version "+m[1]+" in ", 10*time.Second)
	if code := <-done; code != 0 {
		t.Fatalf("--wait exit %d:\n%s", code, stderr.String())
	}

	// An agent that stays behind: exit 1 at the timeout, named, and the
	// write itself is done.
	start := time.Now()
	r := run(t, env, "globs", "add", "--wait", "--wait-timeout", "500ms", "atd")
	if r.code != 1 || !strings.Contains(r.stderr, "after 500ms, 1 agent(s) still behind version") ||
		!strings.Contains(r.stderr, "web-1 (agent-a) at version "+m[1]) || !strings.Contains(r.stderr, "the write itself succeeded") {
		t.Errorf("--wait with an agent behind: %s", r)
	}
	t.Logf("--wait gave up after %s", time.Since(start).Round(time.Millisecond))
	if got := decodeJSON[[]string](t, mustRun(t, env, "globs", "list", "-o", "json")); !strings.Contains(fmt.Sprint(got), "atd") {
		t.Errorf("the write did not happen: %q", got)
	}
	if r := run(t, env, "globs", "add", "--wait-timeout", "0s", "x"); r.code != 2 {
		t.Errorf("--wait-timeout 0s: %s", r)
	}
}

// TestStatusAndMembersShowTheFleet: status counts agents at the current
// version and behind and, per glob, the agents it targets and where it is
// missing; members marks the one behind.
func TestStatusAndMembersShowTheFleet(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	env := f.env("/procwatch")
	mustRun(t, env, "init", "sshd")
	mustRun(t, env, "groups", "set", "web", "--host", "web-*", "nginx")
	_, v := f.payload("/procwatch")
	a, b := openAgent(t, f.servers, "agent-a"), openAgent(t, f.servers, "agent-b")
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := a.SetMemberInfo(ctx, watchlist.MemberInfo{Hostname: "web-1", AgentInfo: watchlist.AgentInfo{AppliedVersion: v,
		Labels: map[string]string{}, Groups: []string{"web"}, Globs: 2, Missing: []string{"nginx"}}}); err != nil {
		t.Fatal(err)
	}
	if err := b.SetMemberInfo(ctx, watchlist.MemberInfo{Hostname: "db-1", AgentInfo: watchlist.AgentInfo{AppliedVersion: v - 1,
		Labels: map[string]string{"role": "db"}, Groups: []string{}, Globs: 1, Missing: []string{}}}); err != nil {
		t.Fatal(err)
	}
	st := mustRun(t, env, "status").stdout
	want := fmt.Sprintf("version %d: 2 agents, 1 at it, 1 behind\n"+
		"behind: db-1 (agent-b) at version %d<%d\n"+
		"GLOB   AGENTS  MISSING ON\n"+
		"sshd   2       -\n"+
		"nginx  1       web-1\n", v, v-1, v)
	if st != want {
		t.Errorf("status:\n%s\nwant:\n%s", st, want)
	}
	js := decodeJSON[statusView](t, mustRun(t, env, "status", "-o", "json"))
	if js.Version != v || js.Agents != 2 || js.Current != 1 || len(js.Behind) != 1 || js.Behind[0].ID != "agent-b" ||
		len(js.Globs) != 2 || js.Globs[1].Glob != "nginx" || js.Globs[1].Targeted != 1 || fmt.Sprint(js.Globs[1].MissingOn) != "[web-1]" {
		t.Errorf("status -o json: %+v", js)
	}
	lines := strings.Split(strings.TrimSpace(mustRun(t, env, "members").stdout), "\n")
	if len(lines) != 3 {
		t.Fatalf("members:\n%s", strings.Join(lines, "\n"))
	}
	// Sorted by the hostname the agents publish, then id.
	if got := strings.Fields(lines[1]); got[0] != "agent-b" || got[1] != "db-1" || got[4] != fmt.Sprintf("%d<%d", v-1, v) || got[5] != "role=db" || got[7] != "-" {
		t.Errorf("members line %q", lines[1])
	}
	if got := strings.Fields(lines[2]); got[0] != "agent-a" || got[1] != "web-1" || got[4] != fmt.Sprint(v) || got[6] != "web" || got[7] != "nginx" {
		t.Errorf("members line %q", lines[2])
	}
}
