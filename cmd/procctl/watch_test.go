package main

import (
	"bufio"
	"context"
	"encoding/json"
	"io"
	"os/exec"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/go-zookeeper/zk"
	"github.com/google/go-cmp/cmp"

	"github.com/procwatch/procwatch/internal/zktest"
)

const waitOutput = 30 * time.Second

// watcher is a procctl watch running in-process until stop.
type watcher struct {
	stdout, stderr *syncBuffer
	cancel         context.CancelFunc
	done           chan int
}

func startWatch(t *testing.T, env envMap, args ...string) *watcher {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	w := &watcher{stdout: &syncBuffer{}, stderr: &syncBuffer{}, cancel: cancel, done: make(chan int, 1)}
	go func() {
		w.done <- execute(ctx, env, "", w.stdout, w.stderr, append([]string{"watch"}, args...)...)
	}()
	t.Cleanup(func() { w.stop(t) })
	return w
}

// stop cancels the watch, as an interrupt does, and returns its exit code.
func (w *watcher) stop(t *testing.T) int {
	t.Helper()
	w.cancel()
	select {
	case code := <-w.done:
		w.done <- code // later calls see the same code
		return code
	case <-time.After(waitOutput):
		t.Fatalf("watch did not end after cancel; output:\n%s", w.stdout)
		return -1
	}
}

func TestWatchPrintsChangesFromOtherClients(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	env := f.env("/procwatch")
	mustRun(t, env, "init", "sshd")
	w := startWatch(t, env)
	w.stdout.expect(t, "watching /procwatch at version 0 (1 glob)", waitOutput)

	mustRun(t, env, "globs", "add", "nginx*", "cron")
	w.stdout.expect(t, `v0→v1 added /globs/1 "nginx*"`, waitOutput)
	w.stdout.expect(t, `v0→v1 added /globs/2 "cron"`, waitOutput)

	// A raw ZooKeeper write, as zkCli.sh would make, bypassing the lock.
	f.setPayload("/procwatch", `{"globs":["sshd*","nginx*","cron"]}`)
	w.stdout.expect(t, `v1→v2 modified /globs/0 "sshd" -> "sshd*"`, waitOutput)

	mustRun(t, env, "globs", "rm", "nginx*")
	w.stdout.expect(t, `v2→v3 removed /globs/1 "nginx*"`, waitOutput)

	// A write of the same document is a new version with no change.
	f.setPayload("/procwatch", `{"globs":["sshd*","cron"]}`)
	w.stdout.expect(t, "v3→v4 rewritten without changes", waitOutput)

	if code := w.stop(t); code != 0 {
		t.Errorf("exit %d after interrupt, want 0\nstderr:\n%s", code, w.stderr)
	}
	want := `watching /procwatch at version 0 (1 glob); one line per change until interrupted
v0→v1 added /globs/1 "nginx*"
v0→v1 added /globs/2 "cron"
v1→v2 modified /globs/0 "sshd" -> "sshd*"
v2→v3 removed /globs/1 "nginx*"
v3→v4 rewritten without changes
`
	if diff := cmp.Diff(want, w.stdout.String()); diff != "" {
		t.Errorf("output (-want +got):\n%s", diff)
	}
}

func TestWatchJSON(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	env := f.env("/procwatch")
	mustRun(t, env, "init", "sshd")
	w := startWatch(t, env, "-o", "json")
	w.stdout.expect(t, `"type":"start"`, waitOutput)
	f.setPayload("/procwatch", `{"globs":["sshd","x"]}`)
	w.stdout.expect(t, `"type":"change"`, waitOutput)
	mustRun(t, env, "globs", "set", "y")
	w.stdout.expect(t, `"to":2`, waitOutput)
	if code := w.stop(t); code != 0 {
		t.Errorf("exit %d", code)
	}
	var got []map[string]any
	for _, line := range strings.Split(strings.TrimSpace(w.stdout.String()), "\n") {
		var m map[string]any
		if err := json.Unmarshal([]byte(line), &m); err != nil {
			t.Fatalf("line %q is not one JSON object: %v", line, err)
		}
		got = append(got, m)
	}
	want := []map[string]any{
		{"type": "start", "version": 0.0, "payload": map[string]any{"globs": []any{"sshd"}}},
		{"type": "change", "from": 0.0, "to": 1.0, "kind": "added", "path": "/globs/1", "new": "x"},
		{"type": "change", "from": 1.0, "to": 2.0, "kind": "modified", "path": "/globs/0", "old": "sshd", "new": "y"},
		{"type": "change", "from": 1.0, "to": 2.0, "kind": "removed", "path": "/globs/1", "old": "x"},
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("json lines (-want +got):\n%s", diff)
	}
}

// foreignChanges does to the payload, as zkCli.sh or kazoo would, what
// changes no glob in force: garbage written, the node deleted and made
// again. Each step waits for watch's line about it, so the steps cannot
// merge into one.
func foreignChanges(t *testing.T, f *fixture, w *watcher, invalid, good, deleted, recreated string) {
	t.Helper()
	f.setPayload("/procwatch", `{"globs": [1`)
	w.stdout.expect(t, invalid, waitOutput)
	f.setPayload("/procwatch", `{"globs":["sshd","nginx"]}`)
	w.stdout.expect(t, good, waitOutput)
	if err := f.raw.Delete("/procwatch/payload", -1); err != nil {
		t.Fatalf("raw delete: %v", err)
	}
	w.stdout.expect(t, deleted, waitOutput)
	if _, err := f.raw.Create("/procwatch/payload", []byte(`{"globs":["cron"]}`), 0, zk.WorldACL(zk.PermAll)); err != nil {
		t.Fatalf("raw create: %v", err)
	}
	w.stdout.expect(t, recreated, waitOutput)
}

// TestWatchPrintsNotices: a payload deleted, a version skipped as invalid
// and a payload made again each get a line, in order with the changes.
func TestWatchPrintsNotices(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	env := f.env("/procwatch")
	mustRun(t, env, "init", "sshd")
	w := startWatch(t, env)
	w.stdout.expect(t, "watching /procwatch at version 0", waitOutput)
	foreignChanges(t, f, w, "version 1 invalid:", `v0→v2 added /globs/1 "nginx"`,
		"payload deleted", `v2→v0 removed`)
	if code := w.stop(t); code != 0 {
		t.Errorf("exit %d after interrupt, want 0\nstderr:\n%s", code, w.stderr)
	}
	want := `watching /procwatch at version 0 (1 glob); one line per change until interrupted
version 1 invalid: not valid JSON: line 1, column 13: unexpected end of JSON input; keeping version 0
v0→v2 added /globs/1 "nginx"
payload deleted; keeping version 2
payload recreated at version 0
v2→v0 modified /globs/0 "sshd" -> "cron"
v2→v0 removed /globs/1 "nginx"
`
	if diff := cmp.Diff(want, w.stdout.String()); diff != "" {
		t.Errorf("output (-want +got):\n%s", diff)
	}
}

// jsonLines parses every line of out as one JSON object, failing the test
// on the first that is not: a pipeline must be able to parse all of stdout.
func jsonLines(t *testing.T, out string) []map[string]any {
	t.Helper()
	var got []map[string]any
	for _, line := range strings.Split(strings.TrimSpace(out), "\n") {
		var m map[string]any
		if err := json.Unmarshal([]byte(line), &m); err != nil {
			t.Fatalf("line %q is not one JSON object: %v\nstdout:\n%s", line, err, out)
		}
		got = append(got, m)
	}
	return got
}

func TestWatchJSONNotices(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	env := f.env("/procwatch")
	mustRun(t, env, "init", "sshd")
	w := startWatch(t, env, "-o", "json")
	w.stdout.expect(t, `"type":"start"`, waitOutput)
	foreignChanges(t, f, w, `"notice":"invalid"`, `"kind":"added"`, `"notice":"deleted"`, `"kind":"removed"`)
	if code := w.stop(t); code != 0 {
		t.Errorf("exit %d", code)
	}
	want := []map[string]any{
		{"type": "start", "version": 0.0, "payload": map[string]any{"globs": []any{"sshd"}}},
		{"type": "notice", "notice": "invalid", "version": 1.0, "kept": 0.0, "reason": "not valid JSON: line 1, column 13: unexpected end of JSON input"},
		{"type": "change", "from": 0.0, "to": 2.0, "kind": "added", "path": "/globs/1", "new": "nginx"},
		{"type": "notice", "notice": "deleted", "version": 2.0, "kept": 2.0},
		{"type": "notice", "notice": "recreated", "version": 0.0, "kept": 2.0},
		{"type": "change", "from": 2.0, "to": 0.0, "kind": "modified", "path": "/globs/0", "old": "sshd", "new": "cron"},
		{"type": "change", "from": 2.0, "to": 0.0, "kind": "removed", "path": "/globs/1", "old": "nginx"},
	}
	if diff := cmp.Diff(want, jsonLines(t, w.stdout.String())); diff != "" {
		t.Errorf("json lines (-want +got):\n%s", diff)
	}
}

// TestWatchJSONError: the error that ends a watch is a JSON line on stdout
// too, beside the message on stderr and the exit code.
func TestWatchJSONError(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	r := run(t, f.env("/nothing-here"), "watch", "-o", "json")
	if r.code != 1 {
		t.Fatalf("exit %d, want 1: %s", r.code, r)
	}
	got := jsonLines(t, r.stdout)
	if len(got) != 1 || got[0]["type"] != "error" {
		t.Fatalf("stdout %v, want one error line", got)
	}
	msg, _ := got[0]["error"].(string)
	if msg == "" || !strings.Contains(r.stderr, msg) {
		t.Errorf("error line %q, want the message procctl printed on stderr:\n%s", msg, r.stderr)
	}
}

func TestWatchSurvivesReconnectAndSessionLoss(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	env := f.env("/procwatch")
	mustRun(t, env, "init", "sshd")
	proxy := zktest.NewProxy(t, f.servers)
	wenv := envMap{envZK: proxy.Addr(), envPath: "/procwatch"}
	w := startWatch(t, wenv, "--session-timeout", "2s")
	w.stdout.expect(t, "watching /procwatch at version 0", waitOutput)

	// A short cut: the session survives; a change made meanwhile by another
	// client still shows.
	proxy.Cut()
	w.stdout.expect(t, "-- disconnected from ZooKeeper; reconnecting", waitOutput)
	f.setPayload("/procwatch", `{"globs":["sshd","during-cut"]}`)
	proxy.Restore()
	w.stdout.expect(t, "-- reconnected to ZooKeeper with the same session", waitOutput)
	w.stdout.expect(t, `v0→v1 added /globs/1 "during-cut"`, waitOutput)

	// Silence longer than the session timeout: the session is lost; what
	// changed meanwhile arrives as a resync once a new session exists.
	proxy.Blackhole()
	w.stdout.expect(t, "-- ZooKeeper session lost", waitOutput)
	f.setPayload("/procwatch", `{"globs":["sshd","during-cut","during-loss-1"]}`)
	f.setPayload("/procwatch", `{"globs":["during-cut","during-loss-1","during-loss-2"]}`)
	proxy.Restore()
	w.stdout.expect(t, "-- new ZooKeeper session; resynced", waitOutput)
	w.stdout.expect(t, "v1→v3 resynced", waitOutput)
	w.stdout.expect(t, `v1→v3 removed /globs/0 "sshd"`, waitOutput)
	w.stdout.expect(t, `v1→v3 added /globs/1 "during-loss-1"`, waitOutput)
	w.stdout.expect(t, `v1→v3 added /globs/2 "during-loss-2"`, waitOutput)

	// And it keeps watching.
	mustRun(t, env, "globs", "add", "after")
	w.stdout.expect(t, `v3→v4 added /globs/3 "after"`, waitOutput)
	if code := w.stop(t); code != 0 {
		t.Errorf("exit %d", code)
	}
}

// TestWatchBinaryInterrupted runs the built binary: SIGINT and SIGTERM end a
// watch with exit 0.
func TestWatchBinaryInterrupted(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	env := f.env("/procwatch")
	mustRun(t, env, "init", "sshd")
	for _, sig := range []syscall.Signal{syscall.SIGINT, syscall.SIGTERM} {
		t.Run(sig.String(), func(t *testing.T) {
			cmd := exec.Command(procctlBinary(t), "watch")
			cmd.Env = binaryEnv(env)
			out, err := cmd.StdoutPipe()
			if err != nil {
				t.Fatal(err)
			}
			var stderr syncBuffer
			cmd.Stderr = &stderr
			if err := cmd.Start(); err != nil {
				t.Fatal(err)
			}
			lines := make(chan string, 100)
			go func() {
				defer close(lines)
				sc := bufio.NewScanner(out)
				for sc.Scan() {
					lines <- sc.Text()
				}
				io.Copy(io.Discard, out)
			}()
			next := func() string {
				select {
				case l := <-lines:
					return l
				case <-time.After(waitOutput):
					cmd.Process.Kill()
					t.Fatalf("no output line; stderr:\n%s", stderr.String())
					return ""
				}
			}
			if l := next(); !strings.HasPrefix(l, "watching /procwatch at version") {
				t.Fatalf("first line %q", l)
			}
			r := mustRun(t, env, "globs", "add", "sig-"+strings.ToLower(sig.String()))
			if l := next(); !strings.Contains(l, `added /globs/`) || !strings.Contains(l, `"sig-`) {
				t.Errorf("change line %q after %s", l, r.stdout)
			}
			if err := cmd.Process.Signal(sig); err != nil {
				t.Fatal(err)
			}
			for range lines {
			}
			if err := cmd.Wait(); err != nil {
				t.Errorf("watch after %s: %v (want exit 0); stderr:\n%s", sig, err, stderr.String())
			}
		})
	}
}
