package main

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/spf13/cobra"
)

// defaultWaitTimeout bounds --wait.
const defaultWaitTimeout = 30 * time.Second

// waitFlags are --wait and --wait-timeout, taken by every write command.
type waitFlags struct {
	wait    bool
	timeout time.Duration
}

func addWaitFlags(cmd *cobra.Command, w *waitFlags) {
	cmd.Flags().BoolVar(&w.wait, "wait", false, "after writing, wait until every live agent has applied the new version (progress on stderr; exit 1 at --wait-timeout naming the agents behind)")
	cmd.Flags().DurationVar(&w.timeout, "wait-timeout", defaultWaitTimeout, "how long --wait waits")
	cmd.PreRunE = chainPreRun(cmd.PreRunE, func(cmd *cobra.Command, _ []string) error {
		if w.timeout <= 0 {
			return &usageError{cmdPath: cmd.CommandPath(), err: fmt.Errorf("--wait-timeout must be positive, got %s", w.timeout)}
		}
		return nil
	})
}

// afterWrite ends a write command: printErr is its result's printing;
// then, with --wait, the wait for the agents.
func (g *globalOptions) afterWrite(ctx context.Context, c *conn, w waitFlags, version int32, printErr error) error {
	if printErr != nil {
		return printErr
	}
	return g.waitApplied(ctx, c, w, version)
}

// waitApplied waits, when --wait was given, until every agent live when
// the wait began reports applied_version >= version in its member info.
// An agent that leaves meanwhile is not waited for and is named as gone;
// one that joins meanwhile starts from the newest list anyway. ctx is the
// command's, not bounded by --timeout: the wait has its own bound.
func (g *globalOptions) waitApplied(ctx context.Context, c *conn, w waitFlags, version int32) error {
	if !w.wait {
		return nil
	}
	ctx, cancel := context.WithTimeout(ctx, w.timeout)
	defer cancel()
	start := time.Now()
	var waiting map[string]agentView // by id: agents not yet at version
	total, gone := 0, 0
	for ms := range c.store.WatchMembers(ctx) {
		agents := agentsOf(ms, version)
		live := make(map[string]agentView, len(agents))
		for _, a := range agents {
			live[a.ID] = a
		}
		if waiting == nil {
			waiting = map[string]agentView{}
			for _, a := range agents {
				if a.Behind {
					waiting[a.ID] = a
				}
			}
			total = len(agents)
		}
		for id, a := range waiting {
			now, ok := live[id]
			switch {
			case !ok:
				fmt.Fprintf(g.stderr, "procctl: %s left before applying version %d; not waiting for it\n", a.name(), version)
				delete(waiting, id)
				gone++
			case !now.Behind:
				delete(waiting, id)
			default:
				waiting[id] = now
			}
		}
		if len(waiting) == 0 {
			left := ""
			if gone > 0 {
				left = fmt.Sprintf(" (%d left before)", gone)
			}
			fmt.Fprintf(g.stderr, "procctl: %s applied version %d in %s%s\n", plural(total-gone, "agent"), version,
				time.Since(start).Round(time.Millisecond), left)
			return nil
		}
		fmt.Fprintf(g.stderr, "procctl: waiting for %d of %s to apply version %d: %s\n",
			len(waiting), plural(total, "agent"), version, names(waiting))
	}
	if ctx.Err() == nil {
		return g.zkErr(fmt.Errorf("watching the agents ended early: the connection closed"))
	}
	return &behindError{version: version, timeout: w.timeout, agents: waiting}
}

// names lists agents for messages, each with the version it runs.
func names(agents map[string]agentView) string {
	parts := make([]string, 0, len(agents))
	for _, a := range agents {
		parts = append(parts, fmt.Sprintf("%s at version %d", a.name(), a.AppliedVersion))
	}
	slices.Sort(parts)
	return strings.Join(parts, ", ")
}

// behindError is --wait running out of time with agents still behind.
type behindError struct {
	version int32
	timeout time.Duration
	agents  map[string]agentView
}

func (e *behindError) Error() string {
	return fmt.Sprintf("after %s, %d agent(s) still behind version %d (the write itself succeeded): %s",
		e.timeout, len(e.agents), e.version, names(e.agents))
}
func (e *behindError) forPeople() {}
