package monitor

import (
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/procwatch/procwatch/internal/pattern"
)

func TestMatcherSelectors(t *testing.T) {
	nginx := Target{Name: "nginx", Exe: "/usr/sbin/nginx", User: "www-data", Unit: "nginx.service", Cgroup: "/system.slice/nginx.service"}
	session := Target{Name: "bash", Exe: "/usr/bin/bash", User: "1000", Unit: "session-3.scope",
		Cgroup: "/user.slice/user-1000.slice/session-3.scope"}
	kthread := Target{Name: "kworker/0:1", User: "root", Cgroup: "/"}
	unknown := Target{Name: "x", Exe: "/usr/bin/x"}
	tests := []struct {
		name   string
		globs  []string
		target Target
		want   []string
	}{
		{"user by name", []string{"user:www-data", "user:root"}, nginx, []string{"user:www-data"}},
		{"user by the number of a nameless uid", []string{"user:1000", "user:10[0-9][0-9]"}, session, []string{"user:1000", "user:10[0-9][0-9]"}},
		{"unit", []string{"unit:nginx.service", "unit:*.scope"}, nginx, []string{"unit:nginx.service"}},
		{"unit glob", []string{"unit:session-*.scope"}, session, []string{"unit:session-*.scope"}},
		{"cgroup star stays in one level", []string{"cgroup:/system.slice/*", "cgroup:/user.slice/*"}, session, nil},
		{"cgroup globstar spans levels", []string{"cgroup:/user.slice/**", "cgroup:/system.slice/**"}, session, []string{"cgroup:/user.slice/**"}},
		{"cgroup exact", []string{"cgroup:/system.slice/nginx.service"}, nginx, []string{"cgroup:/system.slice/nginx.service"}},
		{"the root cgroup", []string{"cgroup:/", "cgroup:/**"}, kthread, []string{"cgroup:/", "cgroup:/**"}},
		{"no unit matches no unit glob", []string{"unit:*", "unit:**"}, kthread, nil},
		{"unknown matches nothing, not even *", []string{"user:*", "unit:*", "cgroup:**", "cgroup:/**"}, unknown, nil},
		{"a selector does not see the name", []string{"user:nginx", "unit:nginx", "cgroup:**/nginx"}, nginx, nil},
		{"the name does not see the selectors", []string{"www-data", "nginx.service"}, nginx, nil},
		{"several kinds each count", []string{"nginx", "/usr/sbin/nginx", "user:www-data", "unit:nginx.service", "cgroup:/system.slice/**"}, nginx,
			[]string{"nginx", "/usr/sbin/nginx", "user:www-data", "unit:nginx.service", "cgroup:/system.slice/**"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			m, errs := Compile(tt.globs)
			if errs != nil {
				t.Fatal(errs)
			}
			if diff := cmp.Diff(tt.want, m.MatchingGlobs(tt.target)); diff != "" {
				t.Errorf("MatchingGlobs(%+v) mismatch (-want +got):\n%s", tt.target, diff)
			}
		})
	}
}

func TestMatcherNeeds(t *testing.T) {
	for _, tt := range []struct {
		globs []string
		want  pattern.Kinds
	}{
		{nil, 0},
		{[]string{"nginx", "/usr/sbin/*", "cmdline:x"}, pattern.KindsOf(pattern.Name, pattern.Exe, pattern.Cmdline)},
		{[]string{"user:root"}, pattern.KindsOf(pattern.User)},
		{[]string{"sshd", "unit:*.service", "cgroup:/**"}, pattern.KindsOf(pattern.Name, pattern.Unit, pattern.Cgroup)},
		{[]string{"user:", "cgroup:x"}, 0}, // invalid globs need nothing
	} {
		m, _ := Compile(tt.globs)
		if got := m.Needs(); got != tt.want {
			t.Errorf("Compile(%q).Needs() = %b, want %b", tt.globs, got, tt.want)
		}
	}
	var nilMatcher *Matcher
	if nilMatcher.Needs() != 0 {
		t.Error("a nil Matcher needs nothing")
	}
}

func TestTargetOfCarriesSelectors(t *testing.T) {
	p := Proc{Name: "nginx", User: "www-data", Unit: "nginx.service", Cgroup: "/system.slice/nginx.service"}
	m, _ := Compile([]string{"user:www-data", "unit:nginx.service", "cgroup:/system.slice/*"})
	if got := m.MatchingGlobs(TargetOf(&p)); len(got) != 3 {
		t.Errorf("TargetOf(%+v) matches %q, want all three selectors", p, got)
	}
}
