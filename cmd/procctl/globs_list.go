package main

import (
	"errors"
	"fmt"

	"github.com/spf13/cobra"

	"github.com/procwatch/procwatch/internal/watchlist"
)

type globsListOptions struct {
	*globalOptions
}

func newGlobsListCmd(g *globalOptions) *cobra.Command {
	o := &globsListOptions{globalOptions: g}
	return &cobra.Command{
		Use:     "list",
		Aliases: []string{"ls"},
		Short:   "Print the glob list, one glob per line (json: an array)",
		Long: `Print the glob list, one glob per line (json: an array).

The read is linearizable: it shows the newest list ZooKeeper has committed,
never an older copy. Globs in the list that the agents cannot use (written by
another client) are listed, and named in a warning on stderr.`,
		Args: usageArgs(cobra.NoArgs),
		RunE: func(cmd *cobra.Command, _ []string) error { return o.run(cmd) },
	}
}

func (o *globsListOptions) run(cmd *cobra.Command) error {
	ctx, cancel := o.opContext(cmd.Context())
	defer cancel()
	c, err := o.open(ctx)
	if err != nil {
		return err
	}
	defer c.Close()
	snap, err := c.read(ctx)
	if err != nil {
		return err
	}
	if err := o.printer.globs(snap.Value.Globs); err != nil {
		return err
	}
	// The list is shown as stored, but the operator should know which
	// entries every agent skips.
	var bad *watchlist.InvalidGlobsError
	if errors.As(watchlist.ValidateGlobs(snap.Value.Globs), &bad) {
		for _, e := range bad.Globs {
			fmt.Fprintf(o.stderr, "procctl: warning: agents skip invalid glob %q: %v\n", e.Glob, e.Reason)
		}
	}
	return nil
}
