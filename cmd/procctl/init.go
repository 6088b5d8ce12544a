package main

import (
	"context"
	"errors"
	"fmt"
	"slices"

	"github.com/procwatch/procwatch/internal/monitor"
	"github.com/procwatch/procwatch/internal/zkstate"
	"github.com/spf13/cobra"
)

type initOptions struct {
	*globalOptions
	globs []string
}

func newInitCmd(g *globalOptions) *cobra.Command {
	o := &initOptions{globalOptions: g}
	return &cobra.Command{
		Use:   "init [GLOB...]",
		Short: "Create the procwatch state with an initial glob list",
		Long: `Create the procwatch state under --path (the root, the payload holding
{"globs": [...]}, and the helper nodes), with the globs given, possibly none.

If the state already exists, init refuses (exit 1) and changes nothing:
change an existing list with 'procctl globs set' or 'procctl edit'. There is
no --force; delete the root with zkCli.sh if you really mean to start over.

` + globsHelp,
		Example: `  procctl init sshd 'nginx*'`,
		Args:    usageArgs(cobra.ArbitraryArgs),
		RunE: func(cmd *cobra.Command, args []string) error {
			o.globs = args
			return o.run(cmd.Context())
		},
	}
}

func (o *initOptions) run(ctx context.Context) error {
	globs := foldGlobs(o.globs)
	if err := validateGlobs(globs); err != nil {
		return err
	}
	ctx, cancel := o.opContext(ctx)
	defer cancel()
	sess, err := o.connect(ctx)
	if err != nil {
		return err
	}
	defer sess.Close()
	base := []zkstate.Option{zkstate.WithoutMembership(), zkstate.WithLockTimeout(o.lockTimeout(ctx))}

	// Probe first: Open with WithCreate leaves an existing payload alone but
	// does not say whether it created one.
	st, err := zkstate.Open[monitor.WatchList](ctx, sess, o.path, append(base, zkstate.WithoutWait())...)
	if err == nil {
		defer st.Close()
		snap, rerr := st.ConsistentRead(ctx)
		detail := plural(len(snap.Value.Globs), "glob")
		if errors.Is(rerr, zkstate.ErrInvalidPayload) {
			detail = "a payload that is not a procwatch document"
		} else if rerr != nil {
			return o.zkErr(rerr)
		}
		return &stateExistsError{root: o.path, version: snap.Version, detail: detail}
	}
	if !errors.Is(err, zkstate.ErrNoState) {
		return o.zkErr(err)
	}

	st, err = zkstate.Open[monitor.WatchList](ctx, sess, o.path, append(base, zkstate.WithCreate(monitor.WatchList{Globs: globs}))...)
	if err != nil {
		return o.zkErr(err)
	}
	defer st.Close()
	snap, err := st.ConsistentRead(ctx)
	if err != nil && !errors.Is(err, zkstate.ErrInvalidPayload) {
		return o.zkErr(err)
	}
	// Another init may have created the state between the probe and the
	// create; what is stored then is theirs, and we must not claim it.
	if err != nil || snap.Version != 0 || !slices.Equal(snap.Value.Globs, globs) {
		return &stateExistsError{root: o.path, version: snap.Version,
			detail: fmt.Sprintf("created by another client a moment ago, with %s", plural(len(snap.Value.Globs), "glob"))}
	}
	return o.printer.written(writeResult{verb: "init", root: o.path, Version: snap.Version, Changed: true,
		Globs: globs, Added: globs})
}
