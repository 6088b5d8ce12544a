package monitor

import (
	"errors"
	"strings"
	"testing"

	"github.com/gobwas/glob"
	"github.com/google/go-cmp/cmp"

	"github.com/procwatch/procwatch/internal/pattern"
)

func TestMatcher(t *testing.T) {
	kcm := Target{
		Name:    processName("kube-controller", "/usr/local/bin/kube-controller-manager", nil),
		Exe:     "/usr/local/bin/kube-controller-manager",
		Cmdline: "/usr/local/bin/kube-controller-manager --leader-elect=true",
	}
	nginx := Target{Name: "nginx", Exe: "/usr/sbin/nginx", Cmdline: "nginx: worker process"}
	deep := Target{Name: "java", Exe: "/opt/jdk/17/bin/java", Cmdline: "/opt/jdk/17/bin/java -jar /srv/app/app.jar"}
	kthread := Target{Name: "kworker/0:1-events"}

	tests := []struct {
		name   string
		globs  []string
		target Target
		want   []string
	}{
		{"full name, not the 15-byte comm", []string{"kube-controller-manager*"}, kcm, []string{"kube-controller-manager*"}},
		{"exact full name", []string{"kube-controller-manager"}, kcm, []string{"kube-controller-manager"}},
		{"the cut comm is not the name", []string{"kube-controller"}, kcm, nil},
		{"name pattern does not see the path", []string{"*bin*"}, kcm, nil},
		{"exe path", []string{"/usr/local/bin/kube-*"}, kcm, []string{"/usr/local/bin/kube-*"}},
		{"star stays in its segment", []string{"/usr/*"}, nginx, nil},
		{"star matches one segment", []string{"/usr/sbin/*"}, nginx, []string{"/usr/sbin/*"}},
		{"double star crosses segments", []string{"/opt/**"}, deep, []string{"/opt/**"}},
		{"globstar matches zero segments", []string{"/opt/**/jdk/17/bin/java"}, deep, []string{"/opt/**/jdk/17/bin/java"}},
		{"globstar matches several segments", []string{"**/bin/java"}, deep, []string{"**/bin/java"}},
		{"relative-looking path pattern matches no absolute path", []string{"*/java"}, deep, nil},
		{"unknown exe matches no path pattern", []string{"**/*", "/**"}, kthread, nil},
		{"name pattern may contain what a kthread name has", []string{"kworker*"}, kthread, []string{"kworker*"}},
		{"cmdline joined by single spaces", []string{"cmdline:*--leader-elect=true"}, kcm, []string{"cmdline:*--leader-elect=true"}},
		{"cmdline star crosses slashes", []string{"cmdline:*java -jar */app.jar"}, deep, []string{"cmdline:*java -jar */app.jar"}},
		{"cmdline with setproctitle text", []string{"cmdline:nginx: worker*"}, nginx, []string{"cmdline:nginx: worker*"}},
		{"cmdline pattern does not see the name", []string{"cmdline:nginx"}, nginx, nil},
		{"several globs each count", []string{"nginx", "ngin?", "/usr/sbin/nginx", "cmdline:*worker*", "apache*"}, nginx,
			[]string{"nginx", "ngin?", "/usr/sbin/nginx", "cmdline:*worker*"}},
		{"alternatives", []string{"{nginx,apache2}"}, nginx, []string{"{nginx,apache2}"}},
		{"character class", []string{"[mn]ginx"}, nginx, []string{"[mn]ginx"}},
		{"duplicates fold", []string{"nginx", "nginx", "nginx"}, nginx, []string{"nginx"}},
		{"invalid globs are skipped, the rest work", []string{"[", "nginx", "{a,b", ""}, nginx, []string{"nginx"}},
		{"case matters", []string{"NGINX"}, nginx, nil},
		{"empty list", nil, nginx, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			m, _ := Compile(tt.globs)
			if diff := cmp.Diff(tt.want, m.MatchingGlobs(tt.target)); diff != "" {
				t.Errorf("MatchingGlobs(%+v) mismatch (-want +got):\n%s", tt.target, diff)
			}
		})
	}
}

func TestCompileReportsInvalidGlobs(t *testing.T) {
	m, errs := Compile([]string{"ok*", "[", "ok*", "[", "{a,b", "", "cmdline:", "bad\nline", "\xff", strings.Repeat("a", pattern.MaxLen+1), "/usr/sbin/*"})
	if diff := cmp.Diff([]string{"ok*", "/usr/sbin/*"}, m.Globs()); diff != "" {
		t.Errorf("Globs() mismatch (-want +got):\n%s", diff)
	}
	var got []string
	for _, e := range errs {
		got = append(got, e.Glob)
		if !errors.Is(e, pattern.ErrInvalid) {
			t.Errorf("errors.Is(%v, pattern.ErrInvalid) = false", e)
		}
		if !strings.Contains(e.Error(), "invalid glob") {
			t.Errorf("error %q does not say what is wrong", e)
		}
	}
	want := []string{"[", "{a,b", "", "cmdline:", "bad\nline", "\xff", strings.Repeat("a", pattern.MaxLen+1)}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("invalid globs mismatch (-want +got):\n%s", diff)
	}
	var syn *glob.SyntaxError
	if !errors.As(errs[0], &syn) {
		t.Errorf("the syntax error of %q is not a *glob.SyntaxError: %v", errs[0].Glob, errs[0])
	}
}

func TestMatcherGenerations(t *testing.T) {
	a, _ := Compile([]string{"x"})
	b, _ := Compile([]string{"x"})
	if a.generation() == 0 || a.generation() == b.generation() {
		t.Errorf("generations %d and %d: want distinct and non-zero", a.generation(), b.generation())
	}
	var nilMatcher *Matcher
	if nilMatcher.Len() != 0 || nilMatcher.Globs() != nil || len(nilMatcher.AppendMatches(nil, Target{Name: "x"})) != 0 {
		t.Error("a nil Matcher must match nothing")
	}
}

func TestAppendMatchesDoesNotAllocate(t *testing.T) {
	m, _ := Compile([]string{"nginx*", "/usr/sbin/*", "cmdline:*worker*", "{a,b}*c", "[a-z]?inx"})
	target := Target{Name: "nginx", Exe: "/usr/sbin/nginx", Cmdline: "nginx: worker process"}
	dst := make([]int, 0, 8)
	if n := testing.AllocsPerRun(100, func() { dst = m.AppendMatches(dst[:0], target) }); n != 0 {
		t.Errorf("AppendMatches allocates %v times per call, want 0", n)
	}
}
