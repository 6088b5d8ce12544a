package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"strings"
	"time"

	"github.com/procwatch/procwatch/internal/pattern"
	"github.com/procwatch/procwatch/internal/zkopts"
	"github.com/procwatch/procwatch/internal/zkstate"
)

// This file is the one place where errors become exit codes and where
// zkstate's sentinel errors become sentences for people. Commands return
// errors; they never print them or choose an exit code themselves.

// Exit codes of procctl, as its help and the README state them. The line between 1 and 2: exit 2
// means the command line (or the text the operator typed in edit) is wrong
// whatever ZooKeeper holds, so a script knows retrying cannot help and
// nothing was written; exit 1 means the command was well formed but failed
// against the world as it is (unreachable, conflict, timeout, a glob to
// remove that is not in the list, state that already exists).
const (
	exitOK      = 0
	exitFailure = 1
	exitUsage   = 2
)

// report prints err for people and returns the process's exit code.
func report(err error, stderr io.Writer) int {
	if err == nil {
		return exitOK
	}
	code := exitCode(err)
	fmt.Fprintf(stderr, "procctl: %s\n", err)
	var ue *usageError
	if errors.As(err, &ue) && ue.cmdPath != "" {
		fmt.Fprintf(stderr, "Run '%s --help' for usage.\n", ue.cmdPath)
	}
	return code
}

// exitCode maps an error to its exit code.
func exitCode(err error) int {
	var ue *usageError
	var ie *inputError
	switch {
	case err == nil:
		return exitOK
	case errors.As(err, &ue), errors.As(err, &ie), errors.Is(err, pattern.ErrInvalid):
		return exitUsage
	case errors.Is(err, zkstate.ErrTooLarge):
		// The list the operator asked for does not fit in a node: the
		// input has to change, a retry cannot help.
		return exitUsage
	default:
		return exitFailure
	}
}

// forPeople marks errors whose message is already written for the operator,
// so that wrapping them as a ZooKeeper failure would only blur them.
type forPeople interface {
	error
	forPeople()
}

// usageError is a command line that cannot work: an unknown command or flag,
// a wrong number of arguments, a bad -o or --path.
type usageError struct {
	cmdPath string
	err     error
}

func (e *usageError) Error() string { return e.err.Error() }
func (e *usageError) Unwrap() error { return e.err }
func (e *usageError) forPeople()    {}

// inputError is invalid input detected before any write: text from the
// editor that is not a procwatch document, duplicate globs in it, a list
// beyond watchlist.MaxGlobs.
type inputError struct{ err error }

func (e *inputError) Error() string { return e.err.Error() }
func (e *inputError) Unwrap() error { return e.err }
func (e *inputError) forPeople()    {}

// globsError names every invalid glob of the operator's input. It unwraps to
// the *pattern.Errors, so errors.Is(err, pattern.ErrInvalid) holds.
type globsError struct{ errs []*pattern.Error }

func (e *globsError) Error() string {
	parts := make([]string, len(e.errs))
	for i, ge := range e.errs {
		reason := strings.TrimPrefix(fmt.Sprint(ge.Reason), "glob: ")
		parts[i] = fmt.Sprintf("invalid glob %q: %s", ge.Glob, reason)
	}
	return strings.Join(parts, "; ") + "; nothing was written"
}

func (e *globsError) Unwrap() []error {
	errs := make([]error, len(e.errs))
	for i, ge := range e.errs {
		errs[i] = ge
	}
	return errs
}

func (e *globsError) forPeople() {}

// keptError is a failure of edit after which the operator's text survives in
// a file, named in the message so that nothing typed is lost.
type keptError struct {
	file string
	err  error
}

func (e *keptError) Error() string {
	return fmt.Sprintf("%s\nyour edit is kept in %s", e.err, e.file)
}
func (e *keptError) Unwrap() error { return e.err }
func (e *keptError) forPeople()    {}

// notPresentError is globs rm asked to remove globs the list does not hold.
type notPresentError struct {
	root  string
	group string
	globs []string
}

func (e *notPresentError) Error() string {
	list := "the glob list"
	if e.group != "" {
		list = "the globs of group " + e.group
	}
	return fmt.Sprintf("not in %s at %s: %s; nothing was written (use --ignore-missing to remove the others anyway)",
		list, e.root, quoteList(e.globs))
}
func (e *notPresentError) forPeople() {}

// stateExistsError is init on a root that already holds procwatch state.
type stateExistsError struct {
	root    string
	version int32
	detail  string
}

func (e *stateExistsError) Error() string {
	return fmt.Sprintf("procwatch state already exists at %s (%s, version %d); nothing was changed — use `procctl globs set` or `procctl edit` to change it",
		e.root, e.detail, e.version)
}
func (e *stateExistsError) forPeople() {}

// editConflictError is edit's strict compare-and-set finding that someone
// changed the payload while the editor was open.
type editConflictError struct {
	root            string
	edited, current int32
}

func (e *editConflictError) Error() string {
	cur := "a newer version"
	if e.current >= 0 {
		cur = fmt.Sprintf("version %d", e.current)
	}
	return fmt.Sprintf("someone changed %s while you were editing (you edited version %d, it is now at %s); nothing was written — run `procctl edit` again and re-apply your change",
		e.root, e.edited, cur)
}
func (e *editConflictError) forPeople() {}

// invalidStateError is a payload in ZooKeeper that is not a procwatch
// document, written by some other client.
type invalidStateError struct {
	root    string
	version int32
	reason  string
	raw     []byte // the stored text, for edit to show
}

func (e *invalidStateError) Error() string {
	return fmt.Sprintf("the payload at %s/payload (version %d) is not a valid procwatch document: %s; agents keep their last good list — replace it with `procctl globs set` or fix it with `procctl edit`",
		e.root, e.version, e.reason)
}
func (e *invalidStateError) forPeople() {}

// zkError is a failure talking to ZooKeeper, with what its message needs.
type zkError struct {
	servers string
	root    string
	timeout time.Duration
	// detail says why a connection failed (the last dial error), if known.
	detail string
	// tls explains a failed TLS handshake (zkopts.Explain), if that was it.
	tls string
	err error
}

func (e *zkError) Unwrap() error { return e.err }
func (e *zkError) forPeople()    {}

func (e *zkError) Error() string {
	switch err := e.err; {
	case errors.Is(err, context.Canceled):
		return "interrupted"
	case errors.Is(err, zkstate.ErrNotConnected) && e.tls != "":
		// Not "unreachable": the server answered, and what failed is
		// trust, which waiting will not fix.
		return fmt.Sprintf("cannot connect to ZooKeeper at %s: %s (no session within %s)", e.servers, e.tls, e.timeout)
	case errors.Is(err, zkstate.ErrNotConnected):
		detail := fmt.Sprintf("no session within %s", e.timeout)
		if e.detail != "" {
			detail = e.detail + "; " + detail
		}
		return fmt.Sprintf("ZooKeeper at %s is unreachable (%s)", e.servers, detail)
	case errors.Is(err, zkstate.ErrNoState):
		return fmt.Sprintf("no procwatch state at %s — run `procctl init`", e.root)
	case errors.Is(err, zkstate.ErrConflict):
		return fmt.Sprintf("other writers bypassing the lock kept changing %s; nothing was written, try again (%s)", e.root, plain(err))
	case errors.Is(err, zkstate.ErrLockTimeout):
		return fmt.Sprintf("timed out waiting for the write lock under %s/lock (another procctl or agent holds it); nothing was written", e.root)
	case errors.Is(err, zkstate.ErrLockLost):
		return "lost the ZooKeeper session while holding the write lock; nothing was written, try again"
	case errors.Is(err, zkstate.ErrUnknownOutcome):
		return fmt.Sprintf("the connection to ZooKeeper at %s dropped during the write and whether it was applied could not be decided; check with `procctl get`", e.servers)
	case errors.Is(err, zkstate.ErrTooLarge):
		return fmt.Sprintf("the document is too large for ZooKeeper (%s); nothing was written", plain(err))
	case errors.Is(err, zkstate.ErrInvalidPayload):
		return fmt.Sprintf("the payload at %s/payload is not a valid procwatch document (%s); replace it with `procctl globs set` or fix it with `procctl edit`", e.root, plain(err))
	case errors.Is(err, context.DeadlineExceeded):
		return fmt.Sprintf("timed out after %s talking to ZooKeeper at %s (see --timeout)", e.timeout, e.servers)
	case errors.Is(err, zkstate.ErrClosed):
		return fmt.Sprintf("the connection to ZooKeeper at %s was closed", e.servers)
	default:
		return fmt.Sprintf("ZooKeeper at %s, %s: %s", e.servers, e.root, plain(err))
	}
}

// plain drops the package prefixes ("zkstate: ", "zk: ") that mean nothing to
// an operator, keeping the substance of the message.
func plain(err error) string {
	s := err.Error()
	for _, p := range []string{"zkstate: ", "zk: "} {
		s = strings.ReplaceAll(s, p, "")
	}
	return s
}

// permissionError is ZooKeeper refusing an operation for lack of rights:
// no credentials, or credentials the tree's ACL does not grant it. The
// message says who procctl was and what to give it.
type permissionError struct {
	servers, root string
	who           zkopts.Security
	err           error
}

func (e *permissionError) Unwrap() error { return e.err }
func (e *permissionError) forPeople()    {}

func (e *permissionError) Error() string {
	hint := "give the editor's credentials with --zk-auth-file or " + zkopts.EnvAuthFile
	if e.who.Auth != nil {
		hint = fmt.Sprintf("the ACL of %s does not grant %s this right; only the editor identity may change the glob list (see `getAcl %s/payload` in zkCli.sh)",
			e.root, e.who.Auth.Identity(), e.root)
	}
	detail := strings.ReplaceAll(plain(e.err), "permission denied: ", "")
	return fmt.Sprintf("permission denied: ZooKeeper at %s refused %s under %s (%s); nothing was written — %s",
		e.servers, e.who.Identity(), e.root, detail, hint)
}

// quoteList formats globs as "a", "b" for messages.
func quoteList(globs []string) string {
	q := make([]string, len(globs))
	for i, g := range globs {
		q[i] = fmt.Sprintf("%q", g)
	}
	return strings.Join(q, ", ")
}
