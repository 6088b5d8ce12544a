package main

import (
	"context"

	"github.com/spf13/cobra"

	"github.com/procwatch/procwatch/internal/watchlist"
)

type groupsRmOptions struct {
	*globalOptions
	wait waitFlags
	name string
}

func newGroupsRmCmd(g *globalOptions) *cobra.Command {
	o := &groupsRmOptions{globalOptions: g}
	cmd := &cobra.Command{
		Use:     "rm NAME",
		Aliases: []string{"remove"},
		Short:   "Remove a group and its globs",
		Long: `Remove the group NAME, its selector and its globs: the agents it applied
to stop watching the globs that only it gave them. A group that does not
exist is an error (exit 1).`,
		Example: `  procctl groups rm web`,
		Args:    usageArgs(cobra.ExactArgs(1)),
		RunE: func(cmd *cobra.Command, args []string) error {
			o.name = args[0]
			return o.run(cmd.Context())
		},
	}
	addWaitFlags(cmd, &o.wait)
	return cmd
}

func (o *groupsRmOptions) run(ctx context.Context) error {
	parent := ctx
	ctx, c, done, err := o.openBounded(ctx)
	if err != nil {
		return err
	}
	defer done()
	res := groupResult{verb: "rm", Name: o.name}
	version, err := c.update(ctx, func(d *watchlist.Document) error {
		if !d.RemoveGroup(o.name) {
			// Returning an error makes Update write nothing.
			return &noGroupError{err: &watchlist.NoGroupError{Group: o.name}, rm: true}
		}
		res.Changed = true
		return nil
	})
	if err != nil {
		return err
	}
	res.Version = version
	return o.afterWrite(parent, c, o.wait, res.Version, o.printer.groupWritten(res))
}
