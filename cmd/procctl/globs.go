package main

import (
	"errors"
	"fmt"

	"github.com/procwatch/procwatch/internal/monitor"
	"github.com/spf13/cobra"
)

// globsHelp is the part of every globs command's help that says what a glob
// is and how duplicates are treated, so the rule reads the same everywhere.
var globsHelp = fmt.Sprintf(`A glob without '/' matches the process name ('nginx*'), one with '/'
matches the executable path ('/usr/sbin/*', '/opt/**/bin/java'), and one
prefixed 'cmdline:' matches the command line ('cmdline:java *kafka*').
Every glob is checked before anything is written: if one is invalid, the
command names it, writes nothing and exits with 2. So is the size of the
list: one payload holds at most %d globs (agents reject a longer one),
and a list beyond that, or too large for a ZooKeeper node, is refused the
same way.

procctl never stores a glob twice: duplicates among the arguments are folded
into one (their first position counts).`, monitor.MaxGlobs)

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

// foldGlobs drops repeated globs, keeping the first occurrence of each, and
// never returns nil, so an empty list is stored as [] rather than null.
func foldGlobs(globs []string) []string {
	seen := make(map[string]bool, len(globs))
	out := make([]string, 0, len(globs))
	for _, g := range globs {
		if !seen[g] {
			seen[g] = true
			out = append(out, g)
		}
	}
	return out
}

// validateGlobs checks every glob with the agent's own rules and names all
// the invalid ones at once, so the operator fixes them in one go.
func validateGlobs(globs []string) error {
	var bad []*monitor.GlobError
	for _, s := range globs {
		if err := monitor.ValidateGlob(s); err != nil {
			var ge *monitor.GlobError
			if !errors.As(err, &ge) {
				ge = &monitor.GlobError{Glob: s, Reason: err}
			}
			bad = append(bad, ge)
		}
	}
	if len(bad) > 0 {
		return &globsError{errs: bad}
	}
	return nil
}

// checkDocument refuses, before anything is written, a document the agents
// would reject as a whole, such as one beyond monitor.MaxGlobs.
func checkDocument(w monitor.WatchList) error {
	if err := w.Check(); err != nil {
		return &inputError{fmt.Errorf("%w; nothing was written", err)}
	}
	return nil
}
