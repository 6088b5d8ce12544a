package main

import (
	"context"

	"github.com/spf13/cobra"

	"github.com/procwatch/procwatch/internal/watchlist"
)

type globsRmOptions struct {
	*globalOptions
	wait          waitFlags
	group         string
	globs         []string
	ignoreMissing bool
}

func newGlobsRmCmd(g *globalOptions) *cobra.Command {
	o := &globsRmOptions{globalOptions: g}
	cmd := &cobra.Command{
		Use:     "rm [--group G] GLOB...",
		Aliases: []string{"remove"},
		Short:   "Remove globs from the list",
		Long: `Remove globs from the list, every occurrence of each.

A glob the list does not hold is an error (exit 1, not 2: the command line is
fine, the list is not what it expected) and then nothing is removed at all;
with --ignore-missing the others are removed and the missing ones reported.

The globs are not checked for validity, so that an invalid glob written by
another client can be removed. Repeated arguments count once.`,
		Example: `  procctl globs rm 'nginx*'
  procctl globs rm --ignore-missing old-daemon`,
		Args: usageArgs(cobra.MinimumNArgs(1)),
		RunE: func(cmd *cobra.Command, args []string) error {
			o.globs = args
			return o.run(cmd.Context())
		},
	}
	addGroupFlag(cmd, &o.group, "remove from the globs of group G instead of the fleet-wide list")
	cmd.Flags().BoolVar(&o.ignoreMissing, "ignore-missing", false, "remove the globs that are present and only report the others")
	addWaitFlags(cmd, &o.wait)
	return cmd
}

func (o *globsRmOptions) run(ctx context.Context) error {
	parent := ctx
	ctx, c, done, err := o.openBounded(ctx)
	if err != nil {
		return err
	}
	defer done()

	var res writeResult
	version, err := c.update(ctx, func(d *watchlist.Document) error {
		e, err := d.Remove(o.group, o.globs, o.ignoreMissing)
		if err != nil {
			return noGroup(err)
		}
		if len(e.Missing) > 0 && !o.ignoreMissing {
			// Returning an error makes Update write nothing.
			return &notPresentError{root: o.path, group: o.group, globs: e.Missing}
		}
		res = resultOf("rm", o.group, e, *d)
		return nil
	})
	if err != nil {
		return err
	}
	res.Version = version
	return o.afterWrite(parent, c, o.wait, res.Version, o.printer.written(res))
}
