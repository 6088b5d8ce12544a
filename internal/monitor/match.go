package monitor

import (
	"errors"
	"fmt"
	"strings"
	"sync/atomic"
	"unicode"
	"unicode/utf8"

	"github.com/gobwas/glob"
)

// CmdlinePrefix marks a glob that matches the command line rather than the
// process name or executable path.
const CmdlinePrefix = "cmdline:"

// MaxGlobLen is the longest glob accepted, in bytes. No real pattern comes
// near it; the cap only keeps a hand-written payload from making every new
// process pay for matching a pathological pattern.
const MaxGlobLen = 1024

// ErrInvalidGlob is matched by every [*GlobError] with errors.Is, so a CLI can
// map any invalid glob to its "bad input" exit code in one place.
var ErrInvalidGlob = errors.New("monitor: invalid glob")

// GlobError reports one invalid glob and why it is invalid.
type GlobError struct {
	// Glob is the offending pattern, exactly as given.
	Glob string
	// Reason says what is wrong with it.
	Reason error
}

// Error names the glob, quoted so that whitespace and empty globs show.
func (e *GlobError) Error() string {
	return fmt.Sprintf("monitor: invalid glob %q: %v", e.Glob, e.Reason)
}

// Unwrap returns the reason (for example a *glob.SyntaxError).
func (e *GlobError) Unwrap() error { return e.Reason }

// Is makes errors.Is(err, ErrInvalidGlob) true for every GlobError.
func (e *GlobError) Is(target error) bool { return target == ErrInvalidGlob }

// globKind says which property of a process a pattern is matched against.
type globKind uint8

const (
	kindName globKind = iota
	kindExe
	kindCmdline
)

// compiledGlob is one valid, compiled pattern.
type compiledGlob struct {
	text string
	kind globKind
	p    *glob.Pattern
}

// pathCompiler compiles executable-path patterns with shell semantics: '*'
// and '?' stay within one path segment and "**/" spans any number of them.
// That is what people who type paths expect from a shell or a .gitignore:
// "/usr/sbin/*" matches /usr/sbin/nginx but not /usr/sbin/x/nginx, and
// "/opt/**/bin/java" matches /opt/bin/java as well as /opt/jdk/17/bin/java.
//
// Names and command lines are compiled without separators: a name has no
// '/', and a command line is free text in which "*" should cross the
// slashes of the paths it contains ("cmdline:java *-jar */app.jar").
var pathCompiler = glob.Compiler{Separators: []rune{'/'}, Globstar: true}

// ValidateGlob reports whether s is a glob the agent will accept, as a
// [*GlobError] naming s. procctl calls it before writing, so that an invalid
// glob never reaches ZooKeeper.
func ValidateGlob(s string) error {
	_, err := compileGlob(s)
	return err
}

// compileGlob checks and compiles one pattern. Beyond the glob syntax it
// refuses what could never be a useful pattern or would break the exposition
// of the glob as a Prometheus label value (invalid UTF-8) or the one-glob-a-
// line output of procctl (control characters such as newlines).
func compileGlob(s string) (g compiledGlob, err error) {
	fail := func(format string, a ...any) (compiledGlob, error) {
		return compiledGlob{}, &GlobError{Glob: s, Reason: fmt.Errorf(format, a...)}
	}
	switch {
	case s == "":
		return fail("empty pattern")
	case len(s) > MaxGlobLen:
		return fail("longer than %d bytes", MaxGlobLen)
	case !utf8.ValidString(s):
		return fail("not valid UTF-8")
	case strings.IndexFunc(s, unicode.IsControl) >= 0:
		return fail("contains a control character")
	}
	g = compiledGlob{text: s, kind: kindName}
	pattern := s
	if rest, ok := strings.CutPrefix(s, CmdlinePrefix); ok {
		if rest == "" {
			return fail("empty pattern after %q", CmdlinePrefix)
		}
		g.kind, pattern = kindCmdline, rest
	} else if strings.Contains(s, "/") {
		g.kind = kindExe
	}
	// The globs come from a shared store anyone can write to; whatever the
	// library does with a strange pattern must not take the agent down.
	defer func() {
		if r := recover(); r != nil {
			g, err = fail("pattern could not be compiled: %v", r)
		}
	}()
	var perr error
	if g.kind == kindExe {
		g.p, perr = pathCompiler.Compile(pattern)
	} else {
		g.p, perr = glob.Compile(pattern)
	}
	if perr != nil {
		return compiledGlob{}, &GlobError{Glob: s, Reason: perr}
	}
	return g, nil
}

// matcherGen numbers Matchers so that a cached match result can tell which
// Matcher it was computed for; 0 is never used, so it can mean "none".
var matcherGen atomic.Uint64

// Matcher is a compiled glob list. It is immutable and safe for concurrent
// use; compile a new one when the list changes.
type Matcher struct {
	gen   uint64
	globs []compiledGlob
}

// Compile compiles a glob list once, for every later match.
//
// Each glob is one of:
//
//   - a pattern without '/', matched against the process name (see
//     [Proc.Name]: the full name, not the 15-byte comm), so
//     "kube-controller-manager*" matches kube-controller-manager;
//   - a pattern containing '/', matched against the executable path with
//     shell semantics: '*' and '?' stay within a path segment and "**/"
//     spans segments ("/usr/sbin/*", "/opt/**/bin/java"); a pattern such as
//     "{nginx,/usr/sbin/apache2}" is therefore a path pattern as a whole;
//   - "cmdline:" followed by a pattern matched against the command line, its
//     arguments joined by single spaces, where '*' crosses '/'.
//
// Kernel threads have no executable and an empty command line, and their
// names may contain '/' ("ksoftirqd/0"): only a name pattern without '/',
// such as "ksoftirqd*", matches them. A process whose executable cannot be
// read (see [Proc.Exe]) matches no path pattern.
//
// Duplicates are folded: the Matcher holds each distinct glob once, in the
// order of its first occurrence, so each is exported as one series. Invalid
// globs are skipped and reported, one [*GlobError] per distinct invalid glob,
// so that one bad entry written by someone else does not stop the others.
// A nil or empty list gives a Matcher that matches nothing.
func Compile(globs []string) (*Matcher, []*GlobError) {
	m := &Matcher{gen: matcherGen.Add(1)}
	var errs []*GlobError
	seen := make(map[string]struct{}, len(globs))
	for _, s := range globs {
		if _, dup := seen[s]; dup {
			continue
		}
		seen[s] = struct{}{}
		g, err := compileGlob(s)
		if err != nil {
			var ge *GlobError
			if !errors.As(err, &ge) {
				ge = &GlobError{Glob: s, Reason: err}
			}
			errs = append(errs, ge)
			continue
		}
		m.globs = append(m.globs, g)
	}
	return m, errs
}

// Len is the number of distinct valid globs.
func (m *Matcher) Len() int {
	if m == nil {
		return 0
	}
	return len(m.globs)
}

// Globs returns the distinct valid globs in order; indices returned by
// [Matcher.AppendMatches] refer to it.
func (m *Matcher) Globs() []string {
	if m == nil {
		return nil
	}
	out := make([]string, len(m.globs))
	for i, g := range m.globs {
		out[i] = g.text
	}
	return out
}

// Target is what the globs are matched against.
type Target struct {
	// Name is the process name, see [Proc.Name].
	Name string
	// Exe is the executable path, empty when unknown.
	Exe string
	// Cmdline is the command line, arguments joined by single spaces.
	Cmdline string
}

// TargetOf returns the match target of p.
func TargetOf(p *Proc) Target {
	return Target{Name: p.Name, Exe: p.Exe, Cmdline: strings.Join(p.Cmdline, " ")}
}

// AppendMatches appends to dst the index (into [Matcher.Globs]) of every glob
// t matches, and returns the extended slice. It does not allocate unless dst
// must grow, which is why the hot path uses it.
func (m *Matcher) AppendMatches(dst []int, t Target) []int {
	if m == nil {
		return dst
	}
	for i := range m.globs {
		g := &m.globs[i]
		var s string
		switch g.kind {
		case kindName:
			s = t.Name
		case kindExe:
			// An unknown executable (kernel thread, or another user's
			// process when not privileged) matches no path pattern, not
			// even "**": "we could not tell" must not count as a match.
			if t.Exe == "" {
				continue
			}
			s = t.Exe
		case kindCmdline:
			s = t.Cmdline
		}
		if g.p.Match(s) {
			dst = append(dst, i)
		}
	}
	return dst
}

// MatchingGlobs returns the globs t matches, in list order.
func (m *Matcher) MatchingGlobs(t Target) []string {
	var out []string
	for _, i := range m.AppendMatches(nil, t) {
		out = append(out, m.globs[i].text)
	}
	return out
}

// generation identifies this Matcher to the per-process match cache.
func (m *Matcher) generation() uint64 {
	if m == nil {
		return 0
	}
	return m.gen
}
