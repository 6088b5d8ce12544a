package main

import (
	"errors"
	"fmt"

	"github.com/spf13/cobra"

	"github.com/procwatch/procwatch/internal/watchlist"
)

// globsHelp is the part of every globs command's help that says what a glob
// is and how duplicates are treated, so the rule reads the same everywhere.
var globsHelp = fmt.Sprintf(`A glob without '/' matches the process name ('nginx*'), one with '/'
matches the executable path ('/usr/sbin/*', '/opt/**/bin/java'), and one
prefixed 'cmdline:' matches the command line ('cmdline:java *kafka*').
Three more prefixes select processes by where they run:
  user:    the process's real user, by name, or by uid when the host has no
           name for it ('user:postgres', 'user:4242')
  unit:    the systemd unit it runs in ('unit:nginx.service',
           'unit:session-*.scope')
  cgroup:  its cgroup v2 path, where '*' stays within one level and '**'
           spans any ('cgroup:/system.slice/*', 'cgroup:/kubepods.slice/**')
Every glob is checked before anything is written: if one is invalid, the
command names it, writes nothing and exits with 2. So is the size of the
list: one payload holds at most %d globs (agents reject a longer one),
and a list beyond that, or too large for a ZooKeeper node, is refused the
same way.

procctl never stores a glob twice: duplicates among the arguments are folded
into one (their first position counts).`, watchlist.MaxGlobs)

func newGlobsCmd(g *globalOptions) *cobra.Command {
	cmd := &cobra.Command{
		Use:   "globs",
		Short: "List and change the globs every agent watches",
		Long:  "List and change the globs every agent watches.\n\n" + globsHelp,
		Args:  cobra.ArbitraryArgs,
		RunE:  groupRunE,
	}
	cmd.AddCommand(
		newGlobsListCmd(g),
		newGlobsAddCmd(g),
		newGlobsRmCmd(g),
		newGlobsSetCmd(g),
	)
	return cmd
}

// checkInput holds a document procctl is about to write to the rules of
// watchlist.Document.Validate, before anything is written: an invalid glob
// or a list the agents would reject as a whole is invalid input (exit 2).
func checkInput(d watchlist.Document) error {
	err := d.Validate()
	var bad *watchlist.InvalidGlobsError
	switch {
	case err == nil:
		return nil
	case errors.As(err, &bad):
		return &globsError{errs: bad.Globs}
	default:
		return &inputError{fmt.Errorf("%w; nothing was written", err)}
	}
}
