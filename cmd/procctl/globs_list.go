package main

import (
	"errors"
	"fmt"

	"github.com/spf13/cobra"

	"github.com/procwatch/procwatch/internal/watchlist"
)

type globsListOptions struct {
	*globalOptions
	group  string
	host   string
	labels []string
}

func newGlobsListCmd(g *globalOptions) *cobra.Command {
	o := &globsListOptions{globalOptions: g}
	cmd := &cobra.Command{
		Use:     "list",
		Aliases: []string{"ls"},
		Short:   "Print the glob list, one glob per line (json: an array)",
		Long: `Print the glob list, one glob per line (json: an array).

The read is linearizable: it shows the newest list ZooKeeper has committed,
never an older copy. Globs in the list that the agents cannot use (written by
another client) are listed, and named in a warning on stderr.

With --group, the globs of that group. With --host and/or --label, what an
agent of that hostname and those labels would watch, and why: the
fleet-wide globs and those of every group that applies to it, each once,
with where it comes from (json: the groups that apply and, per glob,
"fleet" and "groups").`,
		Example: `  procctl globs list
  procctl globs list --group db
  procctl globs list --host web-3 --label role=web`,
		Args: usageArgs(cobra.NoArgs),
		RunE: func(cmd *cobra.Command, _ []string) error { return o.run(cmd) },
	}
	addGroupFlag(cmd, &o.group, "list the globs of group G instead of the fleet-wide list")
	cmd.Flags().StringVar(&o.host, "host", "", "list what an agent of this --hostname would watch")
	cmd.Flags().StringArrayVar(&o.labels, "label", nil, "KEY=VALUE of the agent to list for (repeatable)")
	cmd.MarkFlagsMutuallyExclusive("group", "host")
	cmd.MarkFlagsMutuallyExclusive("group", "label")
	return cmd
}

func (o *globsListOptions) run(cmd *cobra.Command) error {
	labels, err := watchlist.ParseLabels(o.labels)
	if err != nil {
		return &usageError{cmdPath: cmd.CommandPath(), err: err}
	}
	targeting := cmd.Flags().Changed("host") || cmd.Flags().Changed("label")
	snap, err := o.readDocument(cmd.Context())
	if err != nil {
		return err
	}
	if targeting {
		return o.inForce(snap.Version, snap.Value, labels)
	}
	globs, err := snap.Value.GlobsOf(o.group)
	if err != nil {
		return noGroup(err)
	}
	if err := o.printer.globs(globs); err != nil {
		return err
	}
	o.warnInvalid(globs)
	return nil
}

// warnInvalid names on stderr the globs of a list as stored that every
// agent skips.
func (o *globsListOptions) warnInvalid(globs []string) {
	var bad *watchlist.InvalidGlobsError
	if errors.As(watchlist.ValidateGlobs(globs), &bad) {
		for _, e := range bad.Globs {
			fmt.Fprintf(o.stderr, "procctl: warning: agents skip invalid glob %q: %v\n", e.Glob, e.Reason)
		}
	}
}

// inForce shows what an agent of --host and --label would watch: the same
// targeting (watchlist.Resolve) the agents apply.
func (o *globsListOptions) inForce(version int32, d watchlist.Document, labels map[string]string) error {
	r := d.Resolve(watchlist.Identity{Hostname: o.host, Labels: labels})
	v := inForceView{Hostname: o.host, Labels: labels, Version: version, Groups: r.Groups}
	for i, g := range r.Globs {
		v.Globs = append(v.Globs, inForceGlob{Glob: g, Origin: r.Origins[i]})
	}
	if err := o.printer.inForce(v); err != nil {
		return err
	}
	for _, sk := range r.Skipped {
		fmt.Fprintf(o.stderr, "procctl: warning: agents skip group %q, whose selector cannot be evaluated: %v\n", sk.Group, sk.Reason)
	}
	o.warnInvalid(r.Globs)
	return nil
}
