package watchlist

import (
	"slices"
	"strings"
)

// Identity is what targeting knows of an agent: its hostname and labels
// (--hostname, --label).
type Identity struct {
	Hostname string
	Labels   map[string]string
}

// Origin says where a glob in force came from: the fleet-wide list, one or
// more groups, or both.
type Origin struct {
	// Fleet is whether the fleet-wide list holds the glob.
	Fleet bool `json:"fleet"`
	// Groups are the applying groups that hold the glob, sorted.
	Groups []string `json:"groups,omitempty"`
}

// InForce is the list an agent watches: the fleet-wide globs, then the
// globs of each group that applies to it (groups in name order), each
// glob once, in first-seen order.
type InForce struct {
	// Globs are the globs in force, each once.
	Globs []string
	// Origins has one entry per glob of Globs, at the same index.
	Origins []Origin
	// Groups are the names of the groups that apply, sorted.
	Groups []string
	// Skipped are groups that could not be evaluated (a host glob someone
	// else wrote that does not compile): they apply to nobody, and the
	// agent says so rather than guess.
	Skipped []*GroupError
}

// Resolve is targeting: the list in force on an agent of identity id.
// A group applies when it has a selector (Hosts or Labels), every label
// of it equals id's label of that key, and, when Hosts is given, id's
// hostname matches one of them, ignoring case. It never fails: a group it
// cannot evaluate is reported in Skipped and applies to nobody.
func (d Document) Resolve(id Identity) InForce {
	var r InForce
	index := make(map[string]int, len(d.Globs))
	add := func(g, group string) {
		i, seen := index[g]
		if !seen {
			i = len(r.Globs)
			index[g] = i
			r.Globs = append(r.Globs, g)
			r.Origins = append(r.Origins, Origin{})
		}
		o := &r.Origins[i]
		if group == "" {
			o.Fleet = true
		} else if !slices.Contains(o.Groups, group) {
			o.Groups = append(o.Groups, group)
		}
	}
	for _, g := range d.Globs {
		add(g, "")
	}
	host := strings.ToLower(id.Hostname)
	for _, name := range d.GroupNames() {
		grp := d.Groups[name]
		applies, err := grp.selects(host, id.Labels)
		if err != nil {
			r.Skipped = append(r.Skipped, &GroupError{Group: name, Reason: err})
			continue
		}
		if !applies {
			continue
		}
		r.Groups = append(r.Groups, name)
		for _, g := range grp.Globs {
			add(g, name)
		}
	}
	if r.Globs == nil {
		r.Globs = []string{}
	}
	return r
}

// selects reports whether the group applies to an agent of the lower-cased
// hostname host and labels.
func (g Group) selects(host string, labels map[string]string) (bool, error) {
	if len(g.Hosts) == 0 && len(g.Labels) == 0 {
		return false, nil
	}
	if !labelsMatch(g.Labels, labels) {
		return false, nil
	}
	if len(g.Hosts) == 0 {
		return true, nil
	}
	// Compile every glob before matching any, so that an invalid one
	// skips the group whatever its position.
	matched := false
	for _, h := range g.Hosts {
		m, err := compileHost(h)
		if err != nil {
			return false, err
		}
		matched = matched || m.Match(host)
	}
	return matched, nil
}
