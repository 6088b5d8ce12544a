package pattern

import (
	"errors"
	"fmt"
	"strings"
	"unicode"
	"unicode/utf8"

	"github.com/gobwas/glob"
)

// MaxLen is the longest glob accepted, in bytes. No real pattern comes near
// it; the cap only keeps a hand-written payload from making every new
// process pay for matching a pathological pattern.
const MaxLen = 1024

// ErrInvalid is matched by every [*Error] with errors.Is, so a CLI can map
// any invalid glob to its "bad input" exit code in one place.
var ErrInvalid = errors.New("invalid glob")

// Error reports one invalid glob and why it is invalid.
type Error struct {
	// Glob is the offending pattern, exactly as given.
	Glob string
	// Reason says what is wrong with it.
	Reason error
}

// Error names the glob, quoted so that whitespace and empty globs show.
func (e *Error) Error() string {
	return fmt.Sprintf("invalid glob %q: %v", e.Glob, e.Reason)
}

// Unwrap returns the reason (for example a *glob.SyntaxError).
func (e *Error) Unwrap() error { return e.Reason }

// Is makes errors.Is(err, ErrInvalid) true for every Error.
func (e *Error) Is(target error) bool { return target == ErrInvalid }

// Pattern is one valid, compiled glob. The zero value matches nothing.
type Pattern struct {
	text string
	kind Kind
	g    *glob.Pattern
}

// String returns the glob exactly as written.
func (p Pattern) String() string { return p.text }

// Kind returns the property of a process the pattern is matched against.
func (p Pattern) Kind() Kind { return p.kind }

// Match reports whether s, the property [Pattern.Kind] names, matches.
func (p Pattern) Match(s string) bool { return p.g != nil && p.g.Match(s) }

// pathCompiler compiles executable-path patterns with shell semantics: '*'
// and '?' stay within one path segment and "**/" spans any number of them.
// That is what people who type paths expect from a shell or a .gitignore:
// "/usr/sbin/*" matches /usr/sbin/nginx but not /usr/sbin/x/nginx, and
// "/opt/**/bin/java" matches /opt/bin/java as well as /opt/jdk/17/bin/java.
//
// Cgroup paths are compiled the same way: "/system.slice/*" is the units
// directly in system.slice, "/kubepods.slice/**" everything below it.
//
// Names, command lines, users and units are compiled without separators: a
// name, a user or a unit has no '/', and a command line is free text in
// which "*" should cross the slashes of the paths it contains
// ("cmdline:java *-jar */app.jar").
var pathCompiler = glob.Compiler{Separators: []rune{'/'}, Globstar: true}

// Parse checks and compiles one glob; an invalid one is an [*Error] naming
// it. Beyond the glob syntax it refuses what could never be a useful
// pattern or would break the exposition of the glob as a Prometheus label
// value (invalid UTF-8) or the one-glob-a-line output of procctl (control
// characters such as newlines).
func Parse(s string) (p Pattern, err error) {
	fail := func(format string, a ...any) (Pattern, error) {
		return Pattern{}, &Error{Glob: s, Reason: fmt.Errorf(format, a...)}
	}
	switch {
	case s == "":
		return fail("empty pattern")
	case len(s) > MaxLen:
		return fail("longer than %d bytes", MaxLen)
	case !utf8.ValidString(s):
		return fail("not valid UTF-8")
	case strings.IndexFunc(s, unicode.IsControl) >= 0:
		return fail("contains a control character")
	}
	p = Pattern{text: s, kind: Name}
	body := s
	if kind, prefix, rest, ok := cutPrefix(s); ok {
		if reason := checkBody(kind, prefix, rest); reason != "" {
			return fail("%s", reason)
		}
		p.kind, body = kind, rest
	} else if strings.Contains(s, "/") {
		p.kind = Exe
	}
	// The globs come from a shared store anyone can write to; whatever the
	// library does with a strange pattern must not take the agent down.
	defer func() {
		if r := recover(); r != nil {
			p, err = fail("pattern could not be compiled: %v", r)
		}
	}()
	var perr error
	if p.kind == Exe || p.kind == Cgroup {
		p.g, perr = pathCompiler.Compile(body)
	} else {
		p.g, perr = glob.Compile(body)
	}
	if perr != nil {
		return Pattern{}, &Error{Glob: s, Reason: perr}
	}
	return p, nil
}

// cutPrefix splits a glob with a kind prefix into its kind, the prefix and
// the pattern after it.
func cutPrefix(s string) (kind Kind, prefix, rest string, ok bool) {
	for _, p := range prefixes {
		if rest, ok := strings.CutPrefix(s, p.prefix); ok {
			return p.kind, p.prefix, rest, true
		}
	}
	return Name, "", s, false
}

// checkBody refuses, with the reason, a pattern after a prefix that could
// never match what that prefix selects: the typos people make ("user:
// nobody", "cgroup:system.slice/*") would otherwise be written, exported as
// a series that stays 0, and read as "nothing runs there".
func checkBody(kind Kind, prefix, body string) string {
	if body == "" {
		return fmt.Sprintf("empty pattern after %q", prefix)
	}
	if kind == Cmdline {
		return "" // free text: spaces and anything else may be meant
	}
	if strings.TrimSpace(body) != body {
		return fmt.Sprintf("whitespace after %q or at the end: no user, unit or cgroup path starts or ends with it", prefix)
	}
	switch kind {
	case Unit:
		if strings.Contains(body, "/") {
			return "a unit name has no '/' (match a cgroup path with \"cgroup:\")"
		}
	case Cgroup:
		// A pattern may begin with a wildcard or a group, which may well
		// produce the leading '/', but never with another literal: '*' and
		// '?' do not match the '/' every cgroup path starts with.
		if !strings.HasPrefix(body, "/") && !strings.HasPrefix(body, "**") &&
			!strings.HasPrefix(body, "{") && !strings.HasPrefix(body, "[") {
			return fmt.Sprintf("a cgroup path starts with '/' (as in /proc/PID/cgroup): write %q", prefix+"/"+body)
		}
	}
	return ""
}
