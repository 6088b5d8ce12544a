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
		{"cmdline:*-jar*", Cmdline}, {"cmdline:java */app.jar", Cmdline},
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
	for _, s := range []string{"", "[", "{", "[]", "cmdline:", "cmdline:[", "a\tb", "\x00", "\xc3", strings.Repeat("a", MaxLen+1)} {
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
		"[", "{", "\\", "[!]", "**/", "cmdline:", "a/**", "{**/,}x", "[\\]]", "{a,{b,c}}", "?"} {
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
