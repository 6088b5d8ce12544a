// Command procctl is the operator's CLI for procwatch's shared glob list in
// ZooKeeper: it lists, changes, edits and watches the list every agent
// follows, and shows which agents are alive.
//
// Exit codes: 0 success; 1 operational failure (ZooKeeper unreachable, a
// conflict, a timeout, state missing or already there); 2 bad usage or
// invalid input (an unknown flag, a wrong number of arguments, an invalid
// glob), in which case nothing was written.
package main

import (
	"context"
	"os"
	"os/signal"
	"syscall"
)

// version and revision are set at release builds with
// -ldflags "-X main.version=... -X main.revision=..."; left empty,
// buildinfo falls back to what the Go toolchain stamped into the binary.
var version, revision string

// main is only wiring: everything worth testing is reachable through
// newRootCmd, which the tests run in-process, and report, which is the one
// place errors become exit codes.
func main() {
	// SIGINT and SIGTERM cancel the context instead of killing the process,
	// so watch ends with exit 0 and a write in flight finishes truthfully.
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	root := newRootCmd(os.Stdin, os.Stdout, os.Stderr, os.LookupEnv)
	err := root.ExecuteContext(ctx)
	stop()
	os.Exit(report(err, os.Stderr))
}
