package pattern

import (
	"errors"
	"fmt"
	"strings"
	"testing"

	"github.com/gobwas/glob"
)

func TestParse(t *testing.T) {
	for _, tt := range []struct {
		glob string
		kind Kind
	}{
		{"nginx", Name}, {"kube-*", Name}, {"{a,b}", Name}, {"[a-z]*", Name}, {"a b", Name}, {"ünïcödé", Name},
		{"/usr/sbin/*", Exe}, {"/opt/**/java", Exe}, {"{nginx,/usr/sbin/apache2}", Exe},
		{"cmdline:*-jar*", Cmdline}, {"cmdline:java */app.jar", Cmdline}, {"cmdline: leading space", Cmdline},
		{"user:nobody", User}, {"user:4242", User}, {"user:{www-data,nginx}", User}, {"user:*", User},
		{"unit:nginx.service", Unit}, {"unit:session-*.scope", Unit}, {"unit:*", Unit},
		{"cgroup:/system.slice/**", Cgroup}, {"cgroup:/", Cgroup}, {"cgroup:**/docker-*.scope", Cgroup},
		{"cgroup:{/system.slice,/user.slice}/**", Cgroup}, {"cgroup:[/]x", Cgroup},
		// Only the exact lower-case prefix selects: anything else is a name
		// or path pattern, as it was before the prefixes existed.
		{"USER:root", Name}, {"users:root", Name}, {"Cgroup:/x", Exe},
	} {
		p, err := Parse(tt.glob)
		if err != nil {
			t.Errorf("Parse(%q) = %v, want nil", tt.glob, err)
			continue
		}
		if p.Kind() != tt.kind || p.String() != tt.glob {
			t.Errorf("Parse(%q) = kind %d text %q, want kind %d and the glob as written", tt.glob, p.Kind(), p, tt.kind)
		}
	}
	for _, s := range []string{"", "[", "{", "[]", "cmdline:", "cmdline:[", "a\tb", "\x00", "\xc3", strings.Repeat("a", MaxLen+1),
		"user:", "unit:", "cgroup:", "user:[", "unit:{a", "cgroup:/[",
		"user: nobody", "user:nobody ", "unit: nginx.service", "cgroup: /system.slice",
		"unit:system.slice/nginx.service", "unit:*/x",
		"cgroup:system.slice/*", "cgroup:*", "cgroup:?x", "cgroup:\\/x"} {
		_, err := Parse(s)
		if err == nil {
			t.Errorf("Parse(%q) = nil error, want one", s)
			continue
		}
		var pe *Error
		if !errors.As(err, &pe) || pe.Glob != s {
			t.Errorf("Parse(%q) = %v, want an *Error naming it", s, err)
		}
		if !errors.Is(err, ErrInvalid) {
			t.Errorf("errors.Is(Parse(%q), ErrInvalid) = false", s)
		}
		if !strings.Contains(err.Error(), fmt.Sprintf("invalid glob %q", s)) {
			t.Errorf("Parse(%q) = %q, which does not name the glob", s, err)
		}
	}
	_, err := Parse("[oops")
	var syn *glob.SyntaxError
	if !errors.As(err, &syn) {
		t.Errorf("the error of a syntax error unwraps to a *glob.SyntaxError: %v", err)
	}
}

func TestMatch(t *testing.T) {
	for _, tt := range []struct {
		glob, s string
		want    bool
	}{
		{"nginx*", "nginx", true},
		{"nginx*", "xnginx", false},
		{"/usr/sbin/*", "/usr/sbin/nginx", true},
		{"/usr/sbin/*", "/usr/sbin/x/nginx", false}, // '*' stays in a segment
		{"/opt/**/bin/java", "/opt/bin/java", true},
		{"/opt/**/bin/java", "/opt/jdk/17/bin/java", true},
		{"cmdline:java *-jar */app.jar", "java -Xmx1g -jar /srv/app.jar", true}, // '*' crosses '/'
		{"cmdline:*kafka*", "java -jar zookeeper.jar", false},
		{"user:nobody", "nobody", true},
		{"user:nobody", "nobody2", false},
		{"user:42*", "4242", true},
		{"unit:session-*.scope", "session-3.scope", true},
		{"unit:*.service", "nginx.service", true},
		{"unit:*.service", "session-3.scope", false},
		{"cgroup:/system.slice/*", "/system.slice/nginx.service", true},
		{"cgroup:/system.slice/*", "/system.slice/docker.service/abc", false}, // '*' stays in a level
		{"cgroup:/system.slice/*", "/system.slice", false},
		{"cgroup:/kubepods.slice/**", "/kubepods.slice/kubepods-besteffort.slice/pod1.slice/cri-containerd-ab.scope", true},
		{"cgroup:/kubepods.slice/**", "/kubepods.slice", false},
		{"cgroup:/kubepods.slice/**", "/system.slice/kubepods.slice", false},
		{"cgroup:**/docker-*.scope", "/system.slice/docker-0123.scope", true},
		{"cgroup:/", "/", true},
		{"cgroup:/**", "/", true},
		{"cgroup:/**", "/user.slice/user-1000.slice/session-3.scope", true},
	} {
		p, err := Parse(tt.glob)
		if err != nil {
			t.Fatal(err)
		}
		if got := p.Match(tt.s); got != tt.want {
			t.Errorf("%q.Match(%q) = %v, want %v", tt.glob, tt.s, got, tt.want)
		}
	}
	if (Pattern{}).Match("") {
		t.Error("the zero Pattern must match nothing")
	}
}

// FuzzParse checks that no pattern panics, in Parse or in Match: the globs
// come from a store anyone can write to.
func FuzzParse(f *testing.F) {
	for _, s := range []string{"nginx", "kube-*", "/usr/sbin/*", "/opt/**/java", "cmdline:*-jar*", "{a,b}", "[a-z]*",
		"[", "{", "\\", "[!]", "**/", "cmdline:", "user:", "unit:x", "cgroup:/**", "cgroup:**", "user: ", "a/**", "{**/,}x", "[\\]]", "{a,{b,c}}", "?"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		p, err := Parse(s)
		if err != nil {
			if !errors.Is(err, ErrInvalid) {
				t.Fatalf("Parse(%q) = %v, not an invalid-glob error", s, err)
			}
			return
		}
		p.Match(s)
		p.Match("/" + s)
	})
}

func TestKinds(t *testing.T) {
	ks := KindsOf(User, Cgroup)
	for k := Name; k <= Cgroup; k++ {
		if got, want := ks.Has(k), k == User || k == Cgroup; got != want {
			t.Errorf("KindsOf(User, Cgroup).Has(%d) = %v", k, got)
		}
	}
	if ks.With(Unit) != KindsOf(User, Unit, Cgroup) || Kinds(0).Has(Name) {
		t.Error("With adds one kind; the empty set has none")
	}
}

// TestParseSelectorReasons checks that a refused selector says what is
// wrong in words a user can act on.
func TestParseSelectorReasons(t *testing.T) {
	for glob, want := range map[string]string{
		"user:":                  `empty pattern after "user:"`,
		"unit: nginx.service":    `whitespace after "unit:"`,
		"unit:system.slice/a":    `a unit name has no '/'`,
		"cgroup:system.slice/**": `write "cgroup:/system.slice/**"`,
	} {
		if _, err := Parse(glob); err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("Parse(%q) = %v, want an error saying %q", glob, err, want)
		}
	}
}
