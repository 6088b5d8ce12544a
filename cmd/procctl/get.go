package main

import (
	"context"
	"errors"

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
committed. A payload that is not a valid procwatch document (written by
another client: not JSON, no "globs" array, a key twice or in another case,
more globs than the limit) is shown all the same, as stored and marked
invalid (json: "invalid" holds the reason, and "raw" the text when it is not
JSON); the command then exits 1 and says on stderr what is wrong. Every
agent keeps its last good list meanwhile; replace the payload with
'procctl globs set' or fix it with 'procctl edit'.`,
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
	var inv *invalidStateError
	if errors.As(err, &inv) {
		if perr := o.printer.state(inv.version, inv.raw, inv.reason); perr != nil {
			return perr
		}
		return err
	}
	if err != nil {
		return err
	}
	return o.printer.state(snap.Version, snap.Raw, "")
}
