package main

import (
	"context"

	"github.com/spf13/cobra"

	"github.com/procwatch/procwatch/internal/watchlist"
)

type groupsSetOptions struct {
	*globalOptions
	wait   waitFlags
	name   string
	hosts  []string
	labels []string
	globs  []string
}

func newGroupsSetCmd(g *globalOptions) *cobra.Command {
	o := &groupsSetOptions{globalOptions: g}
	cmd := &cobra.Command{
		Use:   "set NAME [--host GLOB]... [--label KEY=VALUE]... [GLOB...]",
		Short: "Create a group, or replace its selector (and its globs when given)",
		Long: `Create the group NAME, or replace its selector: the --host globs and the
--label pairs given replace the old ones. Globs given after the name
replace the group's globs; without any, a new group starts with none and an
existing one keeps its own (add them with 'procctl globs add --group').

Everything is checked before anything is written (exit 2): the name, a
selector with at least one --host or --label, the host globs, the labels
and the process globs.

` + groupsHelp,
		Example: `  procctl groups set web --host 'web-*' --host 'edge-??' 'nginx*'
  procctl groups set db --label role=db 'postgres*' pgbouncer
  procctl groups set db --label role=db --label region=eu`,
		Args: usageArgs(cobra.MinimumNArgs(1)),
		RunE: func(cmd *cobra.Command, args []string) error {
			o.name, o.globs = args[0], args[1:]
			return o.run(cmd)
		},
	}
	f := cmd.Flags()
	f.StringArrayVar(&o.hosts, "host", nil, "a hostname glob of the agents the group applies to (repeatable; any one matching is enough)")
	f.StringArrayVar(&o.labels, "label", nil, "KEY=VALUE every agent of the group must carry (repeatable; all must match)")
	addWaitFlags(cmd, &o.wait)
	return cmd
}

func (o *groupsSetOptions) run(cmd *cobra.Command) error {
	labels, err := watchlist.ParseLabels(o.labels)
	if err != nil {
		return &usageError{cmdPath: cmd.CommandPath(), err: err}
	}
	sel := watchlist.Selector{Hosts: o.hosts, Labels: labels}
	var globs []string
	if len(o.globs) > 0 {
		globs = watchlist.Fold(o.globs)
	}
	// The group alone, checked before connecting: bad input is exit 2 and
	// nothing is sent.
	var probe watchlist.Document
	probe.Globs = []string{}
	probe.SetGroup(o.name, sel, globs)
	if err := checkInput(probe); err != nil {
		return err
	}
	return o.write(cmd.Context(), sel, globs)
}

func (o *groupsSetOptions) write(ctx context.Context, sel watchlist.Selector, globs []string) error {
	parent := ctx
	ctx, c, done, err := o.openBounded(ctx)
	if err != nil {
		return err
	}
	defer done()
	var res groupResult
	version, err := c.update(ctx, func(d *watchlist.Document) error {
		e := d.SetGroup(o.name, sel, globs)
		res = groupResultOf(o.name, e, *d)
		return checkInput(*d)
	})
	if err != nil {
		return err
	}
	res.Version = version
	return o.afterWrite(parent, c, o.wait, res.Version, o.printer.groupWritten(res))
}
