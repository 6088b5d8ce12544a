package main

import (
	"fmt"
	"strings"
	"text/tabwriter"

	"github.com/procwatch/procwatch/internal/watchlist"
)

// groupResult is what groups set or rm did.
type groupResult struct {
	verb    string // "set" or "rm"
	Name    string `json:"group"`
	Version int32  `json:"version"`
	Changed bool   `json:"changed"`
	// Group is the group as written by set (none after rm).
	Group   *watchlist.Group `json:"definition,omitempty"`
	Added   []string         `json:"added,omitempty"`
	Removed []string         `json:"removed,omitempty"`
	Created bool             `json:"created,omitempty"`
}

// groupResultOf is the result of groups set on d.
func groupResultOf(name string, e watchlist.GroupEdit, d watchlist.Document) groupResult {
	g := d.Groups[name]
	return groupResult{verb: "set", Name: name, Changed: e.Changed, Group: &g, Created: e.Created,
		Added: e.Globs.Added, Removed: e.Globs.Removed}
}

// inForceView is what globs list --host/--label shows: the identity asked
// about and what an agent of that identity would watch.
type inForceView struct {
	Hostname string            `json:"hostname"`
	Labels   map[string]string `json:"labels"`
	Version  int32             `json:"version"`
	Groups   []string          `json:"groups"`
	Globs    []inForceGlob     `json:"globs"`
}

type inForceGlob struct {
	Glob string `json:"glob"`
	watchlist.Origin
}

// selector describes a group's selector for people: hosts=a,b labels=k=v.
func selector(g watchlist.Group) string {
	var parts []string
	if len(g.Hosts) > 0 {
		parts = append(parts, "hosts="+strings.Join(g.Hosts, ","))
	}
	if len(g.Labels) > 0 {
		parts = append(parts, "labels="+watchlist.FormatLabels(g.Labels))
	}
	if len(parts) == 0 {
		return "(none: applies to no agent)"
	}
	return strings.Join(parts, " ")
}

func (p textPrinter) groups(d watchlist.Document) error {
	if len(d.Groups) == 0 {
		return nil
	}
	tw := tabwriter.NewWriter(p.w, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "GROUP\tSELECTOR\tGLOBS")
	for _, name := range d.GroupNames() {
		g := d.Groups[name]
		globs := "-"
		if len(g.Globs) > 0 {
			globs = strings.Join(g.Globs, " ")
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\n", name, selector(g), globs)
	}
	return tw.Flush()
}

func (p textPrinter) groupWritten(r groupResult) error {
	var msg string
	switch {
	case r.verb == "rm":
		msg = "removed group " + r.Name
	case r.Created:
		msg = fmt.Sprintf("created group %s (%s)", r.Name, selector(*r.Group))
	case r.Changed:
		msg = fmt.Sprintf("updated group %s (%s)", r.Name, selector(*r.Group))
	default:
		msg = fmt.Sprintf("group %s was already exactly that; nothing written", r.Name)
	}
	if len(r.Added) > 0 {
		msg += "; added " + quoteList(r.Added)
	}
	if len(r.Removed) > 0 {
		msg += "; removed " + quoteList(r.Removed)
	}
	if r.Group != nil {
		msg += "; " + plural(len(r.Group.Globs), "glob") + " in the group"
	}
	_, err := fmt.Fprintf(p.w, "%s at version %d\n", msg, r.Version)
	return err
}

func (p textPrinter) inForce(v inForceView) error {
	tw := tabwriter.NewWriter(p.w, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "GLOB\tFROM")
	for _, g := range v.Globs {
		var from []string
		if g.Fleet {
			from = append(from, "fleet-wide")
		}
		for _, name := range g.Groups {
			from = append(from, "group "+name)
		}
		fmt.Fprintf(tw, "%s\t%s\n", g.Glob, strings.Join(from, ", "))
	}
	return tw.Flush()
}

func (p jsonPrinter) groups(d watchlist.Document) error {
	if d.Groups == nil {
		d.Groups = map[string]watchlist.Group{}
	}
	return p.print(d.Groups)
}

func (p jsonPrinter) groupWritten(r groupResult) error { return p.print(r) }

func (p jsonPrinter) inForce(v inForceView) error {
	if v.Globs == nil {
		v.Globs = []inForceGlob{}
	}
	if v.Groups == nil {
		v.Groups = []string{}
	}
	if v.Labels == nil {
		v.Labels = map[string]string{}
	}
	return p.print(v)
}
