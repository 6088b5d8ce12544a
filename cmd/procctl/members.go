package main

import (
	"context"
	"fmt"

	"github.com/spf13/cobra"
)

type membersOptions struct {
	*globalOptions
}

func newMembersCmd(g *globalOptions) *cobra.Command {
	o := &membersOptions{globalOptions: g}
	return &cobra.Command{
		Use:   "members",
		Short: "List the live agents, one per line (json: an array of member info)",
		Long: `List the live agents registered under <path>/listeners: id, host, pid,
program, version and start time, one per line (json: an array of objects
with id, hostname, pid, program, version, started_at).

An agent is listed while its ZooKeeper session lives; one that died
disappears when its session times out. procctl itself never registers.`,
		Args: usageArgs(cobra.NoArgs),
		RunE: func(cmd *cobra.Command, _ []string) error { return o.run(cmd.Context()) },
	}
}

func (o *membersOptions) run(ctx context.Context) error {
	ctx, c, done, err := o.openBounded(ctx)
	if err != nil {
		return err
	}
	defer done()
	ms, err := c.store.Members(ctx)
	if err != nil {
		return o.zkErr(err)
	}
	if len(ms) == 0 && o.output == "text" {
		fmt.Fprintf(o.stderr, "procctl: no live agents under %s/listeners\n", o.path)
	}
	return o.printer.members(ms)
}
