package main

import (
	"github.com/spf13/cobra"
)

type groupsListOptions struct {
	*globalOptions
}

func newGroupsListCmd(g *globalOptions) *cobra.Command {
	o := &groupsListOptions{globalOptions: g}
	return &cobra.Command{
		Use:     "list",
		Aliases: []string{"ls"},
		Short:   "Print the groups: name, selector, globs (json: an object by name)",
		Long: `Print the groups, one line per group in name order: its name, its
selector (hosts and labels) and its globs. With -o json, the "groups" object
of the document as stored.

The read is linearizable, as for globs list.

` + groupsHelp,
		Args: usageArgs(cobra.NoArgs),
		RunE: func(cmd *cobra.Command, _ []string) error { return o.run(cmd) },
	}
}

func (o *groupsListOptions) run(cmd *cobra.Command) error {
	snap, err := o.readDocument(cmd.Context())
	if err != nil {
		return err
	}
	return o.printer.groups(snap.Value)
}
