package main

import (
	"context"

	"github.com/spf13/cobra"

	"github.com/procwatch/procwatch/internal/watchlist"
)

type globsAddOptions struct {
	*globalOptions
	wait  waitFlags
	group string
	globs []string
}

func newGlobsAddCmd(g *globalOptions) *cobra.Command {
	o := &globsAddOptions{globalOptions: g}
	cmd := &cobra.Command{
		Use:   "add [--group G] GLOB...",
		Short: "Add globs to the end of the list; those already in it are left alone",
		Long: `Add globs to the end of the list, in the order given. A glob the list
already holds is left where it is and reported as already present; adding
only globs that are all present writes nothing.

The write takes the list's lock and compares versions, so operators adding
at the same time never lose each other's globs.

` + globsHelp,
		Example: `  procctl globs add sshd 'nginx*' 'cmdline:java *kafka*'
  procctl globs add --group db barman`,
		Args: usageArgs(cobra.MinimumNArgs(1)),
		RunE: func(cmd *cobra.Command, args []string) error {
			o.globs = args
			return o.run(cmd.Context())
		},
	}
	addGroupFlag(cmd, &o.group, "add to the globs of group G (which must exist) instead of the fleet-wide list")
	addWaitFlags(cmd, &o.wait)
	return cmd
}

func (o *globsAddOptions) run(ctx context.Context) error {
	if err := checkInput(watchlist.Document{Globs: watchlist.Fold(o.globs)}); err != nil {
		return err
	}
	parent := ctx
	ctx, c, done, err := o.openBounded(ctx)
	if err != nil {
		return err
	}
	defer done()

	var res writeResult
	version, err := c.update(ctx, func(d *watchlist.Document) error {
		// Update may run this again on a newer list: start over each time.
		e, err := d.Add(o.group, o.globs)
		if err != nil {
			return noGroup(err)
		}
		res = resultOf("add", o.group, e, *d)
		return checkInput(*d)
	})
	if err != nil {
		return err
	}
	res.Version = version
	return o.afterWrite(parent, c, o.wait, res.Version, o.printer.written(res))
}
