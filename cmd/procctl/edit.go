package main

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"

	"github.com/spf13/cobra"

	"github.com/procwatch/procwatch/internal/watchlist"
	"github.com/procwatch/procwatch/internal/zkstate"
)

type editOptions struct {
	*globalOptions
	wait waitFlags
}

func newEditCmd(g *globalOptions) *cobra.Command {
	o := &editOptions{globalOptions: g}
	cmd := &cobra.Command{
		Use:   "edit",
		Short: "Edit the payload in $EDITOR; written with compare-and-set",
		Long: fmt.Sprintf(`Open the payload, pretty-printed, in $EDITOR (vi if unset; it may carry
arguments, as in EDITOR="code -w"), then write what you saved.

The write is a strict compare-and-set on the version you were shown: if
anybody changed the payload while the editor was open, nothing is written,
the command fails (exit 1) and says so. If what you saved is not valid JSON,
not a procwatch document (it must hold "globs", an array of at most %d
globs, [] for none; no key twice, none in another case), holds an invalid
glob or the same glob twice, nothing is written and the command fails with
exit 2. In every failure your text is kept in the temporary file the
message names, so nothing typed is lost; on success the file is removed. Saving the document unchanged (or
changed only in spacing or key order) writes nothing.

Fields procctl does not know are shown and kept. A payload that is not a
procwatch document (written by another client) is shown as stored, so it can
be repaired here.

--timeout bounds reading and writing, not the time spent in the editor;
Ctrl-C typed in the editor does not abort the write.`, watchlist.MaxGlobs),
		Args: usageArgs(cobra.NoArgs),
		RunE: func(cmd *cobra.Command, _ []string) error { return o.run(cmd.Context()) },
	}
	addWaitFlags(cmd, &o.wait)
	return cmd
}

func (o *editOptions) run(ctx context.Context) error {
	octx, c, done, err := o.openBounded(ctx)
	if err != nil {
		return err
	}
	defer done()
	doc, version, err := o.current(octx, c)
	if err != nil {
		return err
	}

	shown := append(pretty(doc), '\n')
	file, err := o.writeTemp(shown)
	if err != nil {
		return err
	}
	if err := o.runEditor(file); err != nil {
		return &keptError{file: file, err: fmt.Errorf("the editor failed (%v); nothing was written", err)}
	}
	edited, err := os.ReadFile(file)
	if err != nil {
		return &keptError{file: file, err: fmt.Errorf("reading back the edited file: %v; nothing was written", err)}
	}
	if bytes.Equal(edited, shown) || sameJSON(doc, edited) {
		os.Remove(file)
		return o.printer.edited(editResult{Version: version, Changed: false, edited: version})
	}
	if err := checkEdited(edited); err != nil {
		return &keptError{file: file, err: err}
	}

	// A Ctrl-C typed in the editor reached procctl too and cancelled ctx;
	// the operator still expects the save to be written, as git commit
	// does. The write is bounded by --timeout alone.
	wctx, wcancel := context.WithTimeout(context.WithoutCancel(ctx), o.timeout)
	defer wcancel()
	c.warnIfEphemeral(wctx)
	newVersion, err := c.store.CompareAndSwapJSON(wctx, version, edited)
	if errors.Is(err, zkstate.ErrConflict) {
		// The refused write read the server first: this is its version.
		_, info := c.store.DirtyRead()
		current := info.ServerVersion
		return &keptError{file: file, err: &editConflictError{root: o.path, edited: version, current: current}}
	}
	if err != nil {
		return &keptError{file: file, err: o.zkErr(err)}
	}
	os.Remove(file)
	return o.afterWrite(ctx, c, o.wait, newVersion, o.printer.edited(editResult{Version: newVersion, Changed: true, edited: version}))
}

// current returns the document to edit and its version: the newest valid
// one, or, when another client stored something invalid, that text as it
// is, so that edit is where it gets repaired.
func (o *editOptions) current(ctx context.Context, c *conn) ([]byte, int32, error) {
	snap, err := c.read(ctx)
	var inv *invalidStateError
	if errors.As(err, &inv) {
		fmt.Fprintf(o.stderr, "procctl: warning: %v\n", err)
		return inv.raw, inv.version, nil
	}
	if err != nil {
		return nil, -1, err
	}
	return snap.Raw, snap.Version, nil
}

// writeTemp puts the document where the editor can open it: under $TMPDIR,
// with a .json name so editors highlight it, readable by the owner only.
func (o *editOptions) writeTemp(content []byte) (string, error) {
	dir, _ := o.lookupEnv("TMPDIR")
	if dir == "" {
		dir = os.TempDir()
	}
	f, err := os.CreateTemp(dir, "procctl-edit-*.json")
	if err != nil {
		return "", fmt.Errorf("creating the file to edit: %w", err)
	}
	_, err = f.Write(content)
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		os.Remove(f.Name())
		return "", fmt.Errorf("writing the file to edit: %w", err)
	}
	return f.Name(), nil
}

// runEditor runs $EDITOR on file through the shell, as git does, so that
// EDITOR may hold arguments ("code -w", "emacs -nw") and quoting.
func (o *editOptions) runEditor(file string) error {
	editor, _ := o.lookupEnv("EDITOR")
	if editor == "" {
		editor = "vi"
	}
	// Not CommandContext: the editor belongs to the operator, and an
	// interrupt must not kill it under their hands.
	cmd := exec.Command("/bin/sh", "-c", editor+` "$@"`, editor, file)
	cmd.Stdin = o.stdin
	cmd.Stdout = o.stdout
	cmd.Stderr = o.stderr
	return cmd.Run()
}

// checkEdited validates the operator's text before anything is written.
// Every failure is invalid input (exit 2).
func checkEdited(doc []byte) error {
	w, err := decodeDocument(doc)
	var rule *ruleError
	if errors.As(err, &rule) {
		return &inputError{fmt.Errorf("the edited document is invalid: %s; nothing was written", err)}
	}
	if err != nil {
		return &inputError{fmt.Errorf("the edited document is %s; nothing was written", err)}
	}
	if err := checkInput(w); err != nil {
		return err
	}
	seen := make(map[string]bool, len(w.Globs))
	for _, g := range w.Globs {
		if seen[g] {
			return &inputError{fmt.Errorf("glob %q appears more than once; procctl stores each glob once, remove the duplicate; nothing was written", g)}
		}
		seen[g] = true
	}
	return nil
}

// sameJSON reports whether two documents are equal as JSON values, so that
// an edit that only moved spaces or keys does not write a new version.
func sameJSON(a, b []byte) bool {
	changes, err := zkstate.Diff(a, b)
	return err == nil && len(changes) == 0
}
