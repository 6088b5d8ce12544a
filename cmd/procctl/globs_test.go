package main

import (
	"context"
	"encoding/json"
	"errors"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/procwatch/procwatch/internal/watchlist"
)

// globsJSON runs a command with -o json and decodes its output.
func decodeJSON[T any](t *testing.T, r result) T {
	t.Helper()
	var v T
	if err := json.Unmarshal([]byte(r.stdout), &v); err != nil {
		t.Fatalf("output is not the JSON expected (%v):\n%s", err, r)
	}
	return v
}

type writeJSON struct {
	Version int32    `json:"version"`
	Changed bool     `json:"changed"`
	Globs   []string `json:"globs"`
	Added   []string `json:"added"`
	Removed []string `json:"removed"`
	Present []string `json:"already_present"`
	Missing []string `json:"not_present"`
}

func TestGlobsCommands(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	env := f.env("/procwatch")
	mustRun(t, env, "init", "sshd", "nginx*")

	list := func() []string {
		t.Helper()
		return decodeJSON[[]string](t, mustRun(t, env, "globs", "list", "-o", "json"))
	}

	t.Run("list text and json", func(t *testing.T) {
		r := mustRun(t, env, "globs", "list")
		if r.stdout != "sshd\nnginx*\n" {
			t.Errorf("text = %q", r.stdout)
		}
		r = mustRun(t, env, "globs", "list", "-o", "json")
		if diff := cmp.Diff([]string{"sshd", "nginx*"}, decodeJSON[[]string](t, r)); diff != "" {
			t.Errorf("json (-want +got):\n%s", diff)
		}
	})

	t.Run("add folds duplicates and leaves present globs alone", func(t *testing.T) {
		_, before := f.payload("/procwatch")
		r := mustRun(t, env, "globs", "add", "a*", "a*", "sshd", "/usr/sbin/cron", "cmdline:java *kafka*")
		want := `added "a*", "/usr/sbin/cron", "cmdline:java *kafka*"; already present "sshd"; 5 globs at version 1` + "\n"
		if r.stdout != want {
			t.Errorf("text = %q, want %q", r.stdout, want)
		}
		if diff := cmp.Diff([]string{"sshd", "nginx*", "a*", "/usr/sbin/cron", "cmdline:java *kafka*"}, list()); diff != "" {
			t.Errorf("list (-want +got):\n%s", diff)
		}
		if _, after := f.payload("/procwatch"); after != before+1 {
			t.Errorf("version %d -> %d, want one write", before, after)
		}
	})

	t.Run("add of present globs writes nothing", func(t *testing.T) {
		_, before := f.payload("/procwatch")
		r := mustRun(t, env, "globs", "add", "-o", "json", "sshd", "a*")
		got := decodeJSON[writeJSON](t, r)
		want := writeJSON{Version: before, Changed: false, Globs: list(), Present: []string{"sshd", "a*"}}
		if diff := cmp.Diff(want, got); diff != "" {
			t.Errorf("json (-want +got):\n%s", diff)
		}
		if _, after := f.payload("/procwatch"); after != before {
			t.Errorf("version moved %d -> %d", before, after)
		}
	})

	t.Run("rm of a missing glob is an error and removes nothing", func(t *testing.T) {
		doc, before := f.payload("/procwatch")
		r := run(t, env, "globs", "rm", "a*", "nosuch")
		if r.code != exitFailure {
			t.Fatalf("exit %d, want 1\n%s", r.code, r)
		}
		want := `procctl: not in the glob list at /procwatch: "nosuch"; nothing was written (use --ignore-missing to remove the others anyway)` + "\n"
		if r.stderr != want {
			t.Errorf("stderr = %q, want %q", r.stderr, want)
		}
		if doc2, after := f.payload("/procwatch"); after != before || string(doc2) != string(doc) {
			t.Errorf("payload changed: v%d %s -> v%d %s", before, doc, after, doc2)
		}
	})

	t.Run("rm --ignore-missing removes the others", func(t *testing.T) {
		_, before := f.payload("/procwatch")
		r := mustRun(t, env, "globs", "rm", "--ignore-missing", "-o", "json", "a*", "nosuch", "a*")
		got := decodeJSON[writeJSON](t, r)
		want := writeJSON{Version: before + 1, Changed: true,
			Globs:   []string{"sshd", "nginx*", "/usr/sbin/cron", "cmdline:java *kafka*"},
			Removed: []string{"a*"}, Missing: []string{"nosuch"}}
		if diff := cmp.Diff(want, got); diff != "" {
			t.Errorf("json (-want +got):\n%s", diff)
		}
		r = mustRun(t, env, "globs", "rm", "/usr/sbin/cron")
		if want := `removed "/usr/sbin/cron"; 3 globs at version `; !strings.HasPrefix(r.stdout, want) {
			t.Errorf("text = %q, want prefix %q", r.stdout, want)
		}
	})

	t.Run("set replaces the list and folds duplicates", func(t *testing.T) {
		r := mustRun(t, env, "globs", "set", "x", "y", "x")
		if !strings.HasPrefix(r.stdout, `replaced the list; added "x", "y"; removed "sshd", "nginx*", "cmdline:java *kafka*"; 2 globs at version `) {
			t.Errorf("text = %q", r.stdout)
		}
		if diff := cmp.Diff([]string{"x", "y"}, list()); diff != "" {
			t.Errorf("list (-want +got):\n%s", diff)
		}
		_, before := f.payload("/procwatch")
		got := decodeJSON[writeJSON](t, mustRun(t, env, "globs", "set", "-o", "json", "x", "y"))
		if got.Changed || got.Version != before {
			t.Errorf("setting the same list wrote: %+v (version before %d)", got, before)
		}
	})

	t.Run("rm of every glob leaves an empty list, not null", func(t *testing.T) {
		mustRun(t, env, "globs", "rm", "x", "y")
		doc, _ := f.payload("/procwatch")
		if string(doc) != `{"globs":[]}` {
			t.Errorf("payload = %s", doc)
		}
		if r := mustRun(t, env, "globs", "list"); r.stdout != "" {
			t.Errorf("text list of an empty list = %q", r.stdout)
		}
		if r := mustRun(t, env, "globs", "list", "-o", "json"); strings.TrimSpace(r.stdout) != "[]" {
			t.Errorf("json list of an empty list = %q", r.stdout)
		}
	})

	t.Run("fields procctl does not know survive its writes", func(t *testing.T) {
		f.setPayload("/procwatch", `{"globs":["sshd"],"future":{"k":[1,2]}}`)
		mustRun(t, env, "globs", "add", "cron")
		mustRun(t, env, "globs", "rm", "sshd")
		mustRun(t, env, "globs", "set", "cron", "atd")
		doc, _ := f.payload("/procwatch")
		if string(doc) != `{"future":{"k":[1,2]},"globs":["cron","atd"]}` && string(doc) != `{"globs":["cron","atd"],"future":{"k":[1,2]}}` {
			t.Errorf("payload = %s", doc)
		}
	})

	t.Run("an invalid glob another client wrote is listed, warned about, and removable", func(t *testing.T) {
		f.setPayload("/procwatch", `{"globs":["cron","[broken"]}`)
		r := mustRun(t, env, "globs", "list")
		if r.stdout != "cron\n[broken\n" || !strings.Contains(r.stderr, `warning: agents skip invalid glob "[broken"`) {
			t.Errorf("list:\n%s", r)
		}
		mustRun(t, env, "globs", "rm", "[broken")
		if diff := cmp.Diff([]string{"cron"}, list()); diff != "" {
			t.Errorf("list (-want +got):\n%s", diff)
		}
	})
}

func TestInvalidGlobWritesNothing(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	env := f.env("/procwatch")
	mustRun(t, env, "init", "sshd")
	doc, version := f.payload("/procwatch")
	for _, args := range [][]string{
		{"globs", "add", "good*", "[bad"},
		{"globs", "set", "good*", "{a,b"},
		{"globs", "add", "-o", "json", "cmdline:"},
		{"init", "[bad"},
	} {
		r := run(t, env, args...)
		bad := args[len(args)-1]
		if r.code != exitUsage {
			t.Errorf("%v: exit %d, want 2\n%s", args, r.code, r)
		}
		if !strings.Contains(r.stderr, `invalid glob "`+bad+`"`) {
			t.Errorf("%v: message does not name %q:\n%s", args, bad, r.stderr)
		}
		if doc2, v2 := f.payload("/procwatch"); v2 != version || string(doc2) != string(doc) {
			t.Errorf("%v: payload changed: v%d %s -> v%d %s", args, version, doc, v2, doc2)
		}
	}
}

// TestWriteLockTimeout: an operator held up by another writer's lock for
// longer than --timeout gets exit 1, a message saying so, and no write.
func TestWriteLockTimeout(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	env := f.env("/procwatch")
	mustRun(t, env, "init", "sshd")

	// Another instance holds the lock: its Update function waits.
	st := openAgent(t, f.servers, "lock-holder")
	holding, release := make(chan struct{}), make(chan struct{})
	done := make(chan error, 1)
	go func() {
		_, err := st.Update(context.Background(), func(*watchlist.Document) error {
			close(holding)
			<-release
			return errors.New("changed my mind")
		})
		done <- err
	}()
	<-holding
	doc, version := f.payload("/procwatch")
	r := run(t, env, "--timeout", "1500ms", "globs", "add", "late")
	close(release)
	<-done
	if r.code != exitFailure {
		t.Fatalf("exit %d, want 1\n%s", r.code, r)
	}
	want := "procctl: timed out waiting for the write lock under /procwatch/lock (another procctl or agent holds it); nothing was written\n"
	if r.stderr != want {
		t.Errorf("stderr = %q, want %q", r.stderr, want)
	}
	if doc2, v2 := f.payload("/procwatch"); v2 != version || string(doc2) != string(doc) {
		t.Errorf("payload changed: v%d %s -> v%d %s", version, doc, v2, doc2)
	}
	// Once the holder is gone, the same command goes through.
	mustRun(t, env, "globs", "add", "late")
}
