package watchlist

import (
	"errors"
	"fmt"
	"maps"
	"slices"
	"strings"
	"unicode/utf8"

	"github.com/gobwas/glob"
)

// Group is a role in the fleet: the globs that agents matching its
// selector watch on top of the fleet-wide list. An agent is selected when
// every pair of Labels equals its label of that key and, when Hosts is
// given, its hostname matches one of the Hosts globs, ignoring case.
//
// A group with neither Hosts nor Labels selects nobody: writers refuse one
// (Validate), readers let it select nobody.
type Group struct {
	// Hosts are hostname globs (gobwas/glob syntax, '*' spans dots too),
	// matched case-insensitively; any one matching is enough.
	Hosts []string `json:"hosts,omitempty"`
	// Labels must all equal the agent's labels of the same keys.
	Labels map[string]string `json:"labels,omitempty"`
	// Globs are the process globs the group's agents watch. Absent or null
	// reads as none; procctl writes [].
	Globs []string `json:"globs"`
}

// MaxGroupName is the longest group name, as for a DNS label.
const MaxGroupName = 63

// ValidateGroupName checks a group name: 1 to 63 of [a-z0-9_.-], starting
// with a letter or a digit. Names are lower case so that "Web" and "web"
// cannot be two groups an operator tells apart only by eye.
func ValidateGroupName(name string) error {
	if name == "" {
		return errors.New("a group name must not be empty")
	}
	if len(name) > MaxGroupName {
		return fmt.Errorf("group name %q is %d bytes, more than %d", name, len(name), MaxGroupName)
	}
	if !isLowerAlnum(name[0]) {
		return fmt.Errorf("group name %q must start with a lower-case letter or a digit", name)
	}
	for _, c := range name {
		if c >= utf8.RuneSelf || !isLowerAlnum(byte(c)) && c != '_' && c != '.' && c != '-' {
			return fmt.Errorf("group name %q holds %q: only a-z, 0-9, '_', '.' and '-' are allowed", name, c)
		}
	}
	return nil
}

func isLowerAlnum(c byte) bool { return 'a' <= c && c <= 'z' || '0' <= c && c <= '9' }

// compileHost compiles a hostname glob for case-insensitive matching:
// hostnames are matched lower-cased, so the glob is lower-cased too.
func compileHost(h string) (*glob.Pattern, error) {
	if strings.TrimSpace(h) == "" {
		return nil, errors.New("a host glob must not be empty")
	}
	g, err := glob.Compile(strings.ToLower(h))
	if err != nil {
		return nil, fmt.Errorf("host glob %q: %w", h, err)
	}
	return g, nil
}

// GroupError is a group that breaks the rules writers are held to. It
// names the group and what is wrong, for an operator to fix.
type GroupError struct {
	Group  string
	Reason error
}

// Error names the group and the reason.
func (e *GroupError) Error() string {
	return fmt.Sprintf("group %q: %v", e.Group, e.Reason)
}

// Unwrap returns the reason.
func (e *GroupError) Unwrap() error { return e.Reason }

// validate checks the group's selector, the part of a group that is not
// its process globs: a name by ValidateGroupName, at least one of Hosts
// and Labels, every host glob compiling, every label valid.
func (g Group) validate(name string) error {
	var errs []error
	if err := ValidateGroupName(name); err != nil {
		errs = append(errs, err)
	}
	if len(g.Hosts) == 0 && len(g.Labels) == 0 {
		errs = append(errs, errors.New("it has neither hosts nor labels, so it would apply to no agent; give --host or --label"))
	}
	for _, h := range g.Hosts {
		if _, err := compileHost(h); err != nil {
			errs = append(errs, err)
		}
	}
	for _, k := range sortedKeys(g.Labels) {
		if err := ValidateLabel(k, g.Labels[k]); err != nil {
			errs = append(errs, err)
		}
	}
	if len(errs) == 0 {
		return nil
	}
	return &GroupError{Group: name, Reason: errors.Join(errs...)}
}

// GroupNames returns the names of the document's groups, sorted: the
// order every listing and every union of groups uses.
func (d Document) GroupNames() []string { return sortedKeys(d.Groups) }

func sortedKeys[V any](m map[string]V) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	return keys
}

// Selector is the part of a group that says which agents it applies to.
type Selector struct {
	Hosts  []string
	Labels map[string]string
}

// GroupEdit says what SetGroup did.
type GroupEdit struct {
	// Created is whether the group is new.
	Created bool
	// Globs is what happened to the group's globs (nothing unless they
	// were given).
	Globs Edit
	// Changed is whether the document differs from before.
	Changed bool
}

// SetGroup creates the group name or replaces its selector; when globs is
// not nil it also replaces the group's globs (folded), else a new group
// starts with none and an existing one keeps its own. The result is not
// validated: writers call Validate on the whole document.
func (d *Document) SetGroup(name string, sel Selector, globs []string) GroupEdit {
	old, exists := d.Groups[name]
	g := Group{Hosts: slices.Clone(sel.Hosts), Labels: cloneLabels(sel.Labels), Globs: old.Globs}
	if g.Globs == nil {
		g.Globs = []string{}
	}
	var e GroupEdit
	if globs != nil {
		e.Globs = globList{&g.Globs}.set(globs)
	}
	e.Created = !exists
	e.Changed = !exists || e.Globs.Changed || !slices.Equal(old.Hosts, g.Hosts) || !maps.Equal(old.Labels, g.Labels)
	if d.Groups == nil {
		d.Groups = map[string]Group{}
	}
	d.Groups[name] = g
	return e
}

// RemoveGroup deletes the group name, reporting whether it existed. The
// document keeps an empty "groups" object rather than none, so the key a
// foreign writer put there does not come and go.
func (d *Document) RemoveGroup(name string) bool {
	if _, ok := d.Groups[name]; !ok {
		return false
	}
	delete(d.Groups, name)
	return true
}

// cloneLabels copies a selector's labels, nil when there are none so that
// the document omits the key.
func cloneLabels(m map[string]string) map[string]string {
	if len(m) == 0 {
		return nil
	}
	return maps.Clone(m)
}
