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
		Long: `List the live agents registered under <path>/listeners, one per line: id,
hostname, pid, version, the payload version each has applied (marked
"11<12" when behind the current 12), its labels, the groups applying to it
and the globs in force there that matched no process at its last scan.
With -o json, an array of member info: id, hostname, pid, program, version,
started_at, labels, applied_version, groups, globs, missing,
missing_truncated, updated_at, and behind.

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
	snap, err := c.read(ctx)
	current := snap.Version
	if err != nil {
		// An invalid payload does not hide the agents: none is marked
		// behind then.
		current = -1
	}
	ms, err := c.store.Members(ctx)
	if err != nil {
		return o.zkErr(err)
	}
	if len(ms) == 0 && o.output == "text" {
		fmt.Fprintf(o.stderr, "procctl: no live agents under %s/listeners\n", o.path)
	}
	return o.printer.members(agentsOf(ms, current), current)
}
