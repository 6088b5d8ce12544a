package main

import (
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

func TestInit(t *testing.T) {
	t.Parallel()
	f := newFixture(t)

	t.Run("creates the state with the globs, folded", func(t *testing.T) {
		env := f.env("/procwatch")
		r := mustRun(t, env, "init", "sshd", "nginx*", "sshd")
		if want := "created /procwatch; 2 globs at version 0\n"; r.stdout != want {
			t.Errorf("text = %q, want %q", r.stdout, want)
		}
		doc, v := f.payload("/procwatch")
		if string(doc) != `{"globs":["sshd","nginx*"]}` || v != 0 {
			t.Errorf("payload v%d %s", v, doc)
		}
	})

	t.Run("refuses existing state and changes nothing", func(t *testing.T) {
		env := f.env("/procwatch")
		mustRun(t, env, "globs", "add", "cron")
		doc, v := f.payload("/procwatch")
		r := run(t, env, "init", "other")
		if r.code != exitFailure {
			t.Fatalf("exit %d, want 1\n%s", r.code, r)
		}
		want := "procctl: procwatch state already exists at /procwatch (3 globs, version 1); nothing was changed — use `procctl globs set` or `procctl edit` to change it\n"
		if r.stderr != want {
			t.Errorf("stderr = %q, want %q", r.stderr, want)
		}
		if doc2, v2 := f.payload("/procwatch"); v2 != v || string(doc2) != string(doc) {
			t.Errorf("payload changed: v%d %s -> v%d %s", v, doc, v2, doc2)
		}
		// An invalid payload is existing state too.
		f.setPayload("/procwatch", "garbage")
		r = run(t, env, "init")
		if r.code != exitFailure || !strings.Contains(r.stderr, "already exists at /procwatch (a payload that is not a procwatch document") {
			t.Errorf("init over an invalid payload:\n%s", r)
		}
	})

	t.Run("no globs, nested path, json", func(t *testing.T) {
		env := f.env("/deep/down/pw")
		r := mustRun(t, env, "init", "-o", "json")
		got := decodeJSON[writeJSON](t, r)
		if diff := cmp.Diff(writeJSON{Version: 0, Changed: true, Globs: []string{}}, got); diff != "" {
			t.Errorf("json (-want +got):\n%s", diff)
		}
		if doc, _ := f.payload("/deep/down/pw"); string(doc) != `{"globs":[]}` {
			t.Errorf("payload %s", doc)
		}
		if r := mustRun(t, env, "globs", "add", "x"); !strings.Contains(r.stdout, `added "x"`) {
			t.Errorf("add after init: %s", r)
		}
	})

	t.Run("an invalid glob creates nothing", func(t *testing.T) {
		r := run(t, f.env("/never"), "init", "ok", "[")
		if r.code != exitUsage || !strings.Contains(r.stderr, `invalid glob "["`) {
			t.Errorf("%s", r)
		}
		if ok, _, _ := f.raw.Exists("/never"); ok {
			t.Error("/never was created")
		}
	})
}
