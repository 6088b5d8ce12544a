package main

import (
	"context"

	"github.com/spf13/cobra"
)

type getOptions struct {
	*globalOptions
}

func newGetCmd(g *globalOptions) *cobra.Command {
	o := &getOptions{globalOptions: g}
	return &cobra.Command{
		Use:   "get",
		Short: "Print the payload and its version (json: {\"version\":N,\"payload\":{...}})",
		Long: `Print the payload document and its ZooKeeper version, exactly as stored,
including fields this version of procctl does not know.

The read is linearizable: it shows the newest document ZooKeeper has
committed. A payload that is not a procwatch document (written by another
client) is an error (exit 1) that says what is wrong; fix it with
'procctl edit'.`,
		Args: usageArgs(cobra.NoArgs),
		RunE: func(cmd *cobra.Command, _ []string) error { return o.run(cmd.Context()) },
	}
}

func (o *getOptions) run(ctx context.Context) error {
	ctx, c, done, err := o.openBounded(ctx)
	if err != nil {
		return err
	}
	defer done()
	snap, err := c.read(ctx)
	if err != nil {
		return err
	}
	return o.printer.state(snap.Version, snap.Raw)
}
