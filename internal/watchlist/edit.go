package watchlist

import "slices"

// Edit says what one edit did to a document, for the operator who asked
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

// Add appends the globs the list does not hold yet, in the order given;
// those it holds stay where they are and are reported as Present.
func (d *Document) Add(globs []string) Edit {
	var e Edit
	if d.Globs == nil {
		d.Globs = []string{}
	}
	for _, g := range Fold(globs) {
		if slices.Contains(d.Globs, g) {
			e.Present = append(e.Present, g)
			continue
		}
		d.Globs = append(d.Globs, g)
		e.Added = append(e.Added, g)
	}
	e.Changed = len(e.Added) > 0
	return e
}

// Remove takes every occurrence of each glob out of the list. A glob the
// list does not hold is reported as Missing; unless ignoreMissing, any
// missing glob makes Remove change nothing at all, so that a mistyped glob
// does not leave half an edit behind. The globs are not validated, so that
// an invalid glob written by another client can be removed.
func (d *Document) Remove(globs []string, ignoreMissing bool) Edit {
	var e Edit
	for _, g := range Fold(globs) {
		if slices.Contains(d.Globs, g) {
			e.Removed = append(e.Removed, g)
		} else {
			e.Missing = append(e.Missing, g)
		}
	}
	if len(e.Missing) > 0 && !ignoreMissing {
		e.Removed = nil
		return e
	}
	kept := make([]string, 0, len(d.Globs))
	for _, g := range d.Globs {
		if !slices.Contains(e.Removed, g) {
			kept = append(kept, g)
		}
	}
	d.Globs = kept
	e.Changed = len(e.Removed) > 0
	return e
}

// Set replaces the whole list with globs, in the order given (folded).
func (d *Document) Set(globs []string) Edit {
	globs = Fold(globs)
	e := Edit{Changed: !slices.Equal(d.Globs, globs)}
	for _, g := range globs {
		if !slices.Contains(d.Globs, g) {
			e.Added = append(e.Added, g)
		}
	}
	for _, g := range d.Globs {
		if !slices.Contains(globs, g) && !slices.Contains(e.Removed, g) {
			e.Removed = append(e.Removed, g)
		}
	}
	d.Globs = globs
	return e
}
