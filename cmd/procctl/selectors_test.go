package main

import (
	"strings"
	"testing"
)

// TestSelectorGlobs: procctl writes user:, unit: and cgroup: globs as
// given, and refuses, naming it, one that could never match what its
// prefix selects, writing nothing.
func TestSelectorGlobs(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	env := f.env("/procwatch")
	mustRun(t, env, "init", "sshd")
	good := []string{"user:nobody", "user:4242", "unit:nginx.service", "cgroup:/system.slice/**", "cgroup:**/docker-*.scope"}
	mustRun(t, env, append([]string{"globs", "add"}, good...)...)
	if r := mustRun(t, env, "globs", "list"); r.stdout != "sshd\n"+strings.Join(good, "\n")+"\n" {
		t.Fatalf("globs list after adding the selectors:\n%s", r)
	}
	doc, version := f.payload("/procwatch")
	for _, tc := range []struct {
		glob, reason string
	}{
		{"user:", `empty pattern after "user:"`},
		{"unit:", `empty pattern after "unit:"`},
		{"cgroup:", `empty pattern after "cgroup:"`},
		{"user: nobody", `whitespace after "user:"`},
		{"unit:system.slice/nginx.service", "a unit name has no '/'"},
		{"cgroup:system.slice/*", `write "cgroup:/system.slice/*"`},
		{"cgroup:/system.slice/{a", "unclosed"},
	} {
		r := run(t, env, "globs", "add", "cron", tc.glob)
		if r.code != exitUsage {
			t.Errorf("globs add %q: exit %d, want 2\n%s", tc.glob, r.code, r)
		}
		if !strings.Contains(r.stderr, `invalid glob "`+tc.glob+`"`) || !strings.Contains(r.stderr, tc.reason) {
			t.Errorf("globs add %q: the message does not name it and say %q:\n%s", tc.glob, tc.reason, r.stderr)
		}
		if doc2, v2 := f.payload("/procwatch"); v2 != version || string(doc2) != string(doc) {
			t.Errorf("globs add %q: payload changed: v%d %s -> v%d %s", tc.glob, version, doc, v2, doc2)
		}
	}
	if r := mustRun(t, env, "globs", "add", "--help"); !strings.Contains(r.stdout, "user:") || !strings.Contains(r.stdout, "cgroup:/kubepods.slice/**") {
		t.Errorf("globs add --help does not explain the selectors:\n%s", r.stdout)
	}
}
