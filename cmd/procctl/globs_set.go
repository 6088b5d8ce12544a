package main

import (
	"context"
	"errors"
	"slices"

	"github.com/spf13/cobra"

	"github.com/procwatch/procwatch/internal/watchlist"
	"github.com/procwatch/procwatch/internal/zkstate"
)

type globsSetOptions struct {
	*globalOptions
	wait  waitFlags
	group string
	globs []string
}

func newGlobsSetCmd(g *globalOptions) *cobra.Command {
	o := &globsSetOptions{globalOptions: g}
	cmd := &cobra.Command{
		Use:   "set [--group G] GLOB...",
		Short: "Replace the whole list",
		Long: `Replace the whole list with the globs given, in that order ('set a a b'
stores ["a","b"]). Setting the list it already holds writes nothing.

At least one glob is required, so that a stray 'procctl globs set' cannot
silently stop all monitoring; empty the list with 'procctl globs rm' or
'procctl edit'. Other fields of the document are kept.

A payload that is not a valid procwatch document (written by another
client; see 'procctl get') is replaced as a whole by {"globs": [...]}: this
is how to repair it without an editor. Its other fields are not kept then;
to keep them, repair it with 'procctl edit' instead. With --group, only
the group's globs are replaced, and an invalid payload is not: repair it
first.

` + globsHelp,
		Example: `  procctl globs set sshd 'nginx*'
  procctl globs set --group web 'nginx*' 'php-fpm*'`,
		Args: usageArgs(cobra.MinimumNArgs(1)),
		RunE: func(cmd *cobra.Command, args []string) error {
			o.globs = args
			return o.run(cmd.Context())
		},
	}
	addGroupFlag(cmd, &o.group, "replace the globs of group G (which must exist) instead of the fleet-wide list")
	addWaitFlags(cmd, &o.wait)
	return cmd
}

// replaceAttempts bounds how often set re-reads a payload that other
// clients keep changing between its read and its compare-and-set.
const replaceAttempts = 3

func (o *globsSetOptions) run(ctx context.Context) error {
	globs := watchlist.Fold(o.globs)
	if err := checkInput(watchlist.Document{Globs: globs}); err != nil {
		return err
	}
	parent := ctx
	ctx, c, done, err := o.openBounded(ctx)
	if err != nil {
		return err
	}
	defer done()

	var res writeResult
	for attempt := 1; ; attempt++ {
		var version int32
		version, err = c.update(ctx, func(d *watchlist.Document) error {
			e, err := d.Set(o.group, globs)
			if err != nil {
				return noGroup(err)
			}
			res = resultOf("set", o.group, e, *d)
			return checkInput(*d)
		})
		var inv *invalidStateError
		if !errors.As(err, &inv) || o.group != "" {
			if err != nil {
				return err
			}
			res.Version = version
			return o.afterWrite(parent, c, o.wait, res.Version, o.printer.written(res))
		}
		// Nothing valid to build on, and set needs nothing: replace the
		// document, but only the version found invalid, so that a fix
		// somebody else makes meanwhile is not overwritten.
		version, err = c.store.CompareAndSwap(ctx, inv.version, watchlist.Document{Globs: slices.Clone(globs)})
		if errors.Is(err, zkstate.ErrConflict) && attempt < replaceAttempts {
			continue
		}
		if err != nil {
			return c.invalidState(err)
		}
		replaced := inv.version
		res = writeResult{verb: "set", Version: version, Changed: true, Globs: slices.Clone(globs),
			Added: slices.Clone(globs), Replaced: &replaced}
		return o.afterWrite(parent, c, o.wait, res.Version, o.printer.written(res))
	}
}
