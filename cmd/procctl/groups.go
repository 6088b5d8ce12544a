package main

import (
	"errors"
	"fmt"

	"github.com/spf13/cobra"

	"github.com/procwatch/procwatch/internal/watchlist"
)

const groupsHelp = `A group is a role in the fleet: the globs that the agents its selector
picks watch on top of the fleet-wide list. An agent is picked when its
hostname (--hostname) matches one of the group's --host globs, ignoring
case, and it carries every one of the group's --label KEY=VALUE
(procwatch --label). A group needs at least one of the two. Group names
are 1 to 63 of a-z, 0-9, '_', '.' and '-', starting with a letter or a
digit.`

func newGroupsCmd(g *globalOptions) *cobra.Command {
	cmd := &cobra.Command{
		Use:   "groups",
		Short: "List and change the groups: globs for some agents only",
		Long:  "List and change the groups of the watch list.\n\n" + groupsHelp,
		Args:  cobra.ArbitraryArgs,
		RunE:  groupRunE,
	}
	cmd.AddCommand(
		newGroupsListCmd(g),
		newGroupsSetCmd(g),
		newGroupsRmCmd(g),
	)
	return cmd
}

// addGroupFlag adds --group to a globs command: the group whose globs it
// works on, instead of the fleet-wide list.
func addGroupFlag(cmd *cobra.Command, dst *string, usage string) {
	cmd.Flags().StringVar(dst, "group", "", usage)
	cmd.PreRunE = chainPreRun(cmd.PreRunE, func(cmd *cobra.Command, _ []string) error {
		if !cmd.Flags().Changed("group") {
			return nil
		}
		if err := watchlist.ValidateGroupName(*dst); err != nil {
			return &usageError{cmdPath: cmd.CommandPath(), err: fmt.Errorf("--group: %w", err)}
		}
		return nil
	})
}

func chainPreRun(first, then func(*cobra.Command, []string) error) func(*cobra.Command, []string) error {
	if first == nil {
		return then
	}
	return func(cmd *cobra.Command, args []string) error {
		if err := first(cmd, args); err != nil {
			return err
		}
		return then(cmd, args)
	}
}

// noGroup makes an edit of a group that does not exist a failure for
// people (exit 1: the command line is fine, the list is not what it
// expected), and passes other errors through.
func noGroup(err error) error {
	var ng *watchlist.NoGroupError
	if errors.As(err, &ng) {
		return &noGroupError{err: ng}
	}
	return err
}

// noGroupError is an edit of a group the document does not have; rm says
// only that, the globs commands also how to create one.
type noGroupError struct {
	err *watchlist.NoGroupError
	rm  bool
}

func (e *noGroupError) Error() string {
	if e.rm {
		return fmt.Sprintf("there is no group %q; nothing was written", e.err.Group)
	}
	return e.err.Error() + "; nothing was written"
}
func (e *noGroupError) Unwrap() error { return e.err }
func (e *noGroupError) forPeople()    {}
