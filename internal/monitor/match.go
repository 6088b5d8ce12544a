package monitor

import (
	"errors"
	"strings"
	"sync/atomic"

	"github.com/procwatch/procwatch/internal/pattern"
)

// matcherGen numbers Matchers so that a cached match result can tell which
// Matcher it was computed for; 0 is never used, so it can mean "none".
var matcherGen atomic.Uint64

// Matcher is a compiled glob list. It is immutable and safe for concurrent
// use; compile a new one when the list changes.
type Matcher struct {
	gen   uint64
	globs []pattern.Pattern
}

// Compile compiles a glob list once, for every later match. What each glob
// means, and what makes one invalid, is package pattern's: the same rules
// procctl checks before writing.
//
// Kernel threads have no executable and an empty command line, and their
// names may contain '/' ("ksoftirqd/0"): only a name pattern without '/',
// such as "ksoftirqd*", matches them. A process whose executable cannot be
// read (see [Proc.Exe]) matches no path pattern.
//
// Duplicates are folded: the Matcher holds each distinct glob once, in the
// order of its first occurrence, so each is exported as one series. Invalid
// globs are skipped and reported, one [*pattern.Error] per distinct invalid
// glob, so that one bad entry written by someone else does not stop the
// others. A nil or empty list gives a Matcher that matches nothing.
func Compile(globs []string) (*Matcher, []*pattern.Error) {
	m := &Matcher{gen: matcherGen.Add(1)}
	var errs []*pattern.Error
	seen := make(map[string]struct{}, len(globs))
	for _, s := range globs {
		if _, dup := seen[s]; dup {
			continue
		}
		seen[s] = struct{}{}
		g, err := pattern.Parse(s)
		if err != nil {
			var ge *pattern.Error
			if !errors.As(err, &ge) {
				ge = &pattern.Error{Glob: s, Reason: err}
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
		out[i] = g.String()
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
		switch g.Kind() {
		case pattern.Name:
			s = t.Name
		case pattern.Exe:
			// An unknown executable (kernel thread, or another user's
			// process when not privileged) matches no path pattern, not
			// even "**": "we could not tell" must not count as a match.
			if t.Exe == "" {
				continue
			}
			s = t.Exe
		case pattern.Cmdline:
			s = t.Cmdline
		}
		if g.Match(s) {
			dst = append(dst, i)
		}
	}
	return dst
}

// MatchingGlobs returns the globs t matches, in list order.
func (m *Matcher) MatchingGlobs(t Target) []string {
	var out []string
	for _, i := range m.AppendMatches(nil, t) {
		out = append(out, m.globs[i].String())
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
