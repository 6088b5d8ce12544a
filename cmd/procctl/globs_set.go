package main

import (
	"context"
	"slices"

	"github.com/procwatch/procwatch/internal/monitor"
	"github.com/spf13/cobra"
)

type globsSetOptions struct {
	*globalOptions
	globs []string
}

func newGlobsSetCmd(g *globalOptions) *cobra.Command {
	o := &globsSetOptions{globalOptions: g}
	return &cobra.Command{
		Use:   "set GLOB...",
		Short: "Replace the whole list",
		Long: `Replace the whole list with the globs given, in that order ('set a a b'
stores ["a","b"]). Setting the list it already holds writes nothing.

At least one glob is required, so that a stray 'procctl globs set' cannot
silently stop all monitoring; empty the list with 'procctl globs rm' or
'procctl edit'. Other fields of the document are kept.

` + globsHelp,
		Example: `  procctl globs set sshd 'nginx*'`,
		Args:    usageArgs(cobra.MinimumNArgs(1)),
		RunE: func(cmd *cobra.Command, args []string) error {
			o.globs = args
			return o.run(cmd.Context())
		},
	}
}

func (o *globsSetOptions) run(ctx context.Context) error {
	globs := foldGlobs(o.globs)
	if err := validateGlobs(globs); err != nil {
		return err
	}
	ctx, c, done, err := o.openBounded(ctx)
	if err != nil {
		return err
	}
	defer done()

	var res writeResult
	version, err := c.update(ctx, func(w *monitor.WatchList) error {
		res = writeResult{verb: "set", Changed: !slices.Equal(w.Globs, globs)}
		for _, g := range globs {
			if !slices.Contains(w.Globs, g) {
				res.Added = append(res.Added, g)
			}
		}
		for _, g := range w.Globs {
			if !slices.Contains(globs, g) && !slices.Contains(res.Removed, g) {
				res.Removed = append(res.Removed, g)
			}
		}
		w.Globs = slices.Clone(globs)
		res.Globs = slices.Clone(globs)
		return nil
	})
	if err != nil {
		return err
	}
	res.Version = version
	return o.printer.written(res)
}
