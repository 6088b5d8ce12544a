package watchlist

import (
	"fmt"
	"slices"
)

// Edit says what one edit did to a glob list, for the operator who asked
// for it.
type Edit struct {
	// Added are the globs the edit put in the list, in list order.
	Added []string
	// Present are the globs asked to be added that the list already held.
	Present []string
	// Removed are the globs the edit took out of the list.
	Removed []string
	// Missing are the globs asked to be removed that the list did not hold.
	Missing []string
	// Changed is whether the document differs from before: an edit that
	// changes nothing need not be written.
	Changed bool
}

// NoGroupError is an edit of a group the document does not have. Globs
// are never added to a group that does not exist: a group needs a
// selector first (SetGroup), or it would apply to nobody.
type NoGroupError struct{ Group string }

// Error names the group and how to create it.
func (e *NoGroupError) Error() string {
	return fmt.Sprintf("there is no group %q; create it with a selector first (procctl groups set %s --host GLOB | --label KEY=VALUE)", e.Group, e.Group)
}

// Fold drops repeated globs, keeping the first occurrence of each, and
// never returns nil, so that an empty list is stored as [] rather than
// null. Edits fold their arguments: a document written by procctl never
// holds a glob twice.
func Fold(globs []string) []string {
	seen := make(map[string]bool, len(globs))
	out := make([]string, 0, len(globs))
	for _, g := range globs {
		if !seen[g] {
			seen[g] = true
			out = append(out, g)
		}
	}
	return out
}

// GlobsOf returns the glob list of group: the fleet-wide list for "", else
// the group's own globs (never nil).
func (d Document) GlobsOf(group string) ([]string, error) {
	if group == "" {
		return d.Globs, nil
	}
	g, ok := d.Groups[group]
	if !ok {
		return nil, &NoGroupError{Group: group}
	}
	if g.Globs == nil {
		return []string{}, nil
	}
	return g.Globs, nil
}

// Add appends to the list of group ("" for fleet-wide) the globs it does
// not hold yet, in the order given; those it holds stay where they are and
// are reported as Present.
func (d *Document) Add(group string, globs []string) (Edit, error) {
	return d.edit(group, func(l globList) Edit { return l.add(globs) })
}

// Remove takes every occurrence of each glob out of the list of group. A
// glob the list does not hold is reported as Missing; unless
// ignoreMissing, any missing glob makes Remove change nothing at all, so
// that a mistyped glob does not leave half an edit behind. The globs are
// not validated, so that an invalid glob written by another client can be
// removed.
func (d *Document) Remove(group string, globs []string, ignoreMissing bool) (Edit, error) {
	return d.edit(group, func(l globList) Edit { return l.remove(globs, ignoreMissing) })
}

// Set replaces the whole list of group with globs, in the order given
// (folded).
func (d *Document) Set(group string, globs []string) (Edit, error) {
	return d.edit(group, func(l globList) Edit { return l.set(globs) })
}

// edit applies f to the list of group, writing a group's list back into
// the map (which holds Group values).
func (d *Document) edit(group string, f func(globList) Edit) (Edit, error) {
	if group == "" {
		return f(globList{&d.Globs}), nil
	}
	g, ok := d.Groups[group]
	if !ok {
		return Edit{}, &NoGroupError{Group: group}
	}
	e := f(globList{&g.Globs})
	d.Groups[group] = g
	return e, nil
}

// globList is one list of globs being edited: the fleet-wide one or a
// group's. One implementation of the edits serves both.
type globList struct{ p *[]string }

func (l globList) add(globs []string) Edit {
	var e Edit
	if *l.p == nil {
		*l.p = []string{}
	}
	for _, g := range Fold(globs) {
		if slices.Contains(*l.p, g) {
			e.Present = append(e.Present, g)
			continue
		}
		*l.p = append(*l.p, g)
		e.Added = append(e.Added, g)
	}
	e.Changed = len(e.Added) > 0
	return e
}

func (l globList) remove(globs []string, ignoreMissing bool) Edit {
	var e Edit
	for _, g := range Fold(globs) {
		if slices.Contains(*l.p, g) {
			e.Removed = append(e.Removed, g)
		} else {
			e.Missing = append(e.Missing, g)
		}
	}
	if len(e.Missing) > 0 && !ignoreMissing {
		e.Removed = nil
		return e
	}
	kept := make([]string, 0, len(*l.p))
	for _, g := range *l.p {
		if !slices.Contains(e.Removed, g) {
			kept = append(kept, g)
		}
	}
	*l.p = kept
	e.Changed = len(e.Removed) > 0
	return e
}

func (l globList) set(globs []string) Edit {
	globs = Fold(globs)
	e := Edit{Changed: !slices.Equal(*l.p, globs)}
	for _, g := range globs {
		if !slices.Contains(*l.p, g) {
			e.Added = append(e.Added, g)
		}
	}
	for _, g := range *l.p {
		if !slices.Contains(globs, g) && !slices.Contains(e.Removed, g) {
			e.Removed = append(e.Removed, g)
		}
	}
	*l.p = globs
	return e
}
