package main

import (
	"encoding/json"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/procwatch/procwatch/internal/watchlist"
)

func TestGroupsCommands(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	const root = "/groups"
	env := f.env(root)
	mustRun(t, env, "init", "sshd")
	// A field of a newer release, written by another client, survives
	// every write below.
	data, _ := f.payload(root)
	var raw map[string]any
	if err := json.Unmarshal(data, &raw); err != nil {
		t.Fatal(err)
	}
	raw["future"] = "kept"
	b, _ := json.Marshal(raw)
	f.setPayload(root, string(b))

	doc := func() watchlist.Document {
		t.Helper()
		data, _ := f.payload(root)
		var d watchlist.Document
		if err := json.Unmarshal(data, &d); err != nil {
			t.Fatal(err)
		}
		return d
	}

	r := mustRun(t, env, "groups", "set", "web", "--host", "web-*", "--host", "EDGE-??", "nginx*", "nginx*")
	if want := `created group web (hosts=web-*,EDGE-??); added "nginx*"; 1 glob in the group at version 2` + "\n"; r.stdout != want {
		t.Errorf("groups set: %q, want %q", r.stdout, want)
	}
	mustRun(t, env, "groups", "set", "db", "--label", "role=db", "postgres*")
	mustRun(t, env, "globs", "add", "--group", "db", "pgbouncer", "postgres*")

	want := map[string]watchlist.Group{
		"web": {Hosts: []string{"web-*", "EDGE-??"}, Globs: []string{"nginx*"}},
		"db":  {Labels: map[string]string{"role": "db"}, Globs: []string{"postgres*", "pgbouncer"}},
	}
	if diff := cmp.Diff(want, doc().Groups); diff != "" {
		t.Errorf("stored groups (-want +got):\n%s", diff)
	}
	if diff := cmp.Diff(want, decodeJSON[map[string]watchlist.Group](t, mustRun(t, env, "groups", "list", "-o", "json"))); diff != "" {
		t.Errorf("groups list -o json (-want +got):\n%s", diff)
	}
	r = mustRun(t, env, "groups", "list")
	wantText := "GROUP  SELECTOR             GLOBS\n" +
		"db     labels=role=db       postgres* pgbouncer\n" +
		"web    hosts=web-*,EDGE-??  nginx*\n"
	if r.stdout != wantText {
		t.Errorf("groups list:\n%s\nwant:\n%s", r.stdout, wantText)
	}

	t.Run("globs of a group", func(t *testing.T) {
		if diff := cmp.Diff([]string{"postgres*", "pgbouncer"}, decodeJSON[[]string](t, mustRun(t, env, "globs", "list", "--group", "db", "-o", "json"))); diff != "" {
			t.Errorf("globs list --group db (-want +got):\n%s", diff)
		}
		r := mustRun(t, env, "globs", "rm", "--group", "db", "pgbouncer")
		if !strings.Contains(r.stdout, "1 glob in group db at version") {
			t.Errorf("globs rm --group: %q", r.stdout)
		}
		mustRun(t, env, "globs", "set", "--group", "web", "nginx*", "php-fpm*")
		d := doc()
		if diff := cmp.Diff([]string{"nginx*", "php-fpm*"}, d.Groups["web"].Globs); diff != "" {
			t.Errorf("web globs (-want +got):\n%s", diff)
		}
		if diff := cmp.Diff([]string{"sshd"}, d.Globs); diff != "" {
			t.Errorf("the fleet-wide list changed (-want +got):\n%s", diff)
		}
	})

	t.Run("a selector replaced keeps the globs", func(t *testing.T) {
		mustRun(t, env, "groups", "set", "db", "--label", "role=db", "--label", "region=eu")
		if diff := cmp.Diff(watchlist.Group{Labels: map[string]string{"role": "db", "region": "eu"}, Globs: []string{"postgres*"}}, doc().Groups["db"]); diff != "" {
			t.Errorf("db (-want +got):\n%s", diff)
		}
	})

	t.Run("what an agent would watch, and why", func(t *testing.T) {
		r := mustRun(t, env, "globs", "list", "--host", "Web-3", "--label", "role=db", "--label", "region=eu")
		wantText := "GLOB       FROM\n" +
			"sshd       fleet-wide\n" +
			"postgres*  group db\n" +
			"nginx*     group web\n" +
			"php-fpm*   group web\n"
		if r.stdout != wantText {
			t.Errorf("globs list --host:\n%s\nwant:\n%s", r.stdout, wantText)
		}
		got := decodeJSON[inForceView](t, mustRun(t, env, "globs", "list", "--host", "db-1", "-o", "json"))
		if diff := cmp.Diff(inForceView{Hostname: "db-1", Labels: map[string]string{}, Version: got.Version, Groups: []string{},
			Globs: []inForceGlob{{Glob: "sshd", Origin: watchlist.Origin{Fleet: true}}}}, got); diff != "" {
			t.Errorf("globs list --host db-1 -o json (-want +got):\n%s", diff)
		}
	})

	t.Run("bad input is exit 2 and writes nothing", func(t *testing.T) {
		_, before := f.payload(root)
		for _, tt := range []struct {
			args []string
			msg  string
		}{
			{[]string{"groups", "set", "Web", "--host", "w"}, `group "Web"`},
			{[]string{"groups", "set", "api", "nginx"}, "neither hosts nor labels"},
			{[]string{"groups", "set", "api", "--host", "api-["}, `host glob "api-["`},
			{[]string{"groups", "set", "api", "--label", "role"}, "want KEY=VALUE"},
			{[]string{"groups", "set", "api", "--host", "a", "[x"}, `invalid glob "[x"`},
			{[]string{"globs", "add", "--group", "No", "x"}, "--group"},
			{[]string{"groups", "set"}, "requires at least 1 arg"},
		} {
			r := run(t, env, tt.args...)
			if r.code != 2 || !strings.Contains(r.stderr, tt.msg) {
				t.Errorf("procctl %s: want exit 2 saying %q, got %s", strings.Join(tt.args, " "), tt.msg, r)
			}
		}
		if _, after := f.payload(root); after != before {
			t.Errorf("version %d -> %d: bad input wrote", before, after)
		}
	})

	t.Run("a group that does not exist is exit 1 and writes nothing", func(t *testing.T) {
		_, before := f.payload(root)
		for _, args := range [][]string{
			{"globs", "add", "--group", "api", "x"},
			{"globs", "rm", "--group", "api", "x"},
			{"globs", "set", "--group", "api", "x"},
			{"globs", "list", "--group", "api"},
			{"groups", "rm", "api"},
		} {
			r := run(t, env, args...)
			if r.code != 1 || !strings.Contains(r.stderr, `there is no group "api"`) {
				t.Errorf("procctl %s: want exit 1 naming the group, got %s", strings.Join(args, " "), r)
			}
		}
		if _, after := f.payload(root); after != before {
			t.Errorf("version %d -> %d", before, after)
		}
	})

	t.Run("rm", func(t *testing.T) {
		r := mustRun(t, env, "groups", "rm", "web")
		if !strings.HasPrefix(r.stdout, "removed group web at version ") {
			t.Errorf("groups rm: %q", r.stdout)
		}
		if _, ok := doc().Groups["web"]; ok {
			t.Error("web is still there")
		}
	})

	data, _ = f.payload(root)
	if !strings.Contains(string(data), `"future":"kept"`) {
		t.Errorf("a field of a newer release was lost: %s", data)
	}
}
