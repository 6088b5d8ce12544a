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
	needs pattern.Kinds
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
// A process whose user, unit or cgroup is unknown matches no glob of that
// kind, not even "user:*": a process outside any systemd unit (a kernel
// thread, a process of a host without systemd) matches no "unit:" glob, and
// a host without cgroup v2 none of "cgroup:". The gopsutil source, used
// off Linux, reads none of the three. The Linux source reads them only
// while a glob of their kind is in force (see [Matcher.Needs]).
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
		m.needs = m.needs.With(g.Kind())
	}
	return m, errs
}

// Needs returns the kinds of the globs held. A Source reads a property that
// costs a file per process beyond what every scan reads (the user, unit and
// cgroup) only when its kind is in the set, so a list without such globs
// costs nothing for them.
func (m *Matcher) Needs() pattern.Kinds {
	if m == nil {
		return 0
	}
	return m.needs
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
	// User is the name of the real user, see [Proc.User]; empty when
	// unknown.
	User string
	// Unit is the systemd unit, see [Proc.Unit]; empty when the process
	// runs in none or it is unknown.
	Unit string
	// Cgroup is the cgroup v2 path, see [Proc.Cgroup]; empty when unknown.
	Cgroup string

	// read holds the kinds among User, Unit and Cgroup a Source has read
	// for this identity, whatever it found, so that it reads each once.
	// Matching does not look at it: an empty field is unknown either way.
	read pattern.Kinds
}

// TargetOf returns the match target of p.
func TargetOf(p *Proc) Target {
	return Target{Name: p.Name, Exe: p.Exe, Cmdline: strings.Join(p.Cmdline, " "),
		User: p.User, Unit: p.Unit, Cgroup: p.Cgroup}
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
		case pattern.User, pattern.Unit, pattern.Cgroup:
			// As with the executable, unknown must not count as a match.
			if s = t.selector(g.Kind()); s == "" {
				continue
			}
		}
		if g.Match(s) {
			dst = append(dst, i)
		}
	}
	return dst
}

// selector returns the property of t a user, unit or cgroup glob matches.
func (t *Target) selector(k pattern.Kind) string {
	switch k {
	case pattern.User:
		return t.User
	case pattern.Unit:
		return t.Unit
	default:
		return t.Cgroup
	}
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
