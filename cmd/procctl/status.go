package main

import (
	"context"
	"slices"

	"github.com/spf13/cobra"

	"github.com/procwatch/procwatch/internal/watchlist"
)

type statusOptions struct {
	*globalOptions
}

func newStatusCmd(g *globalOptions) *cobra.Command {
	o := &statusOptions{globalOptions: g}
	return &cobra.Command{
		Use:   "status",
		Short: "The fleet at a glance: agents at the current version and behind, and per glob where it is missing",
		Long: `Show the payload's current version, how many live agents have applied it
and which are behind, and for every glob in force somewhere: how many agents
it is targeted at (by the fleet-wide list or their groups) and on which of
them it matched no process at their last scan.

Where a glob is missing is what the agents at the current version report;
an agent behind is counted by the list it would watch at the current version
but its missing globs are of the list it runs. The version is read
linearizably; the agents' reports are at most --member-update-interval old
(the agent's flag, 10 s by default).`,
		Args: usageArgs(cobra.NoArgs),
		RunE: func(cmd *cobra.Command, _ []string) error { return o.run(cmd.Context()) },
	}
}

func (o *statusOptions) run(ctx context.Context) error {
	ctx, c, done, err := o.openBounded(ctx)
	if err != nil {
		return err
	}
	defer done()
	snap, err := c.read(ctx)
	if err != nil {
		return err
	}
	ms, err := c.store.Members(ctx)
	if err != nil {
		return o.zkErr(err)
	}
	return o.printer.status(fleetStatus(snap.Version, snap.Value, agentsOf(ms, snap.Version)))
}

// statusView is what status shows.
type statusView struct {
	Version int32        `json:"version"`
	Agents  int          `json:"agents"`
	Current int          `json:"current"`
	Behind  []agentView  `json:"behind"`
	Globs   []globStatus `json:"globs"`
}

// globStatus is one glob of status: the agents it is targeted at and
// those on which it matched nothing.
type globStatus struct {
	Glob      string   `json:"glob"`
	Targeted  int      `json:"targeted"`
	MissingOn []string `json:"missing_on"`
}

// fleetStatus computes status from the payload and the live agents: the
// targeting of every agent is the agents' own (watchlist.Resolve), applied
// to the current payload.
func fleetStatus(version int32, d watchlist.Document, agents []agentView) statusView {
	st := statusView{Version: version, Agents: len(agents), Behind: []agentView{}, Globs: []globStatus{}}
	index := map[string]int{}
	entry := func(g string) *globStatus {
		i, ok := index[g]
		if !ok {
			i = len(st.Globs)
			index[g] = i
			st.Globs = append(st.Globs, globStatus{Glob: g, MissingOn: []string{}})
		}
		return &st.Globs[i]
	}
	// Every glob of the document is listed, even one no agent watches: a
	// group that selects nobody is worth seeing.
	for _, g := range d.Globs {
		entry(g)
	}
	for _, name := range d.GroupNames() {
		for _, g := range d.Groups[name].Globs {
			entry(g)
		}
	}
	for _, a := range agents {
		if a.Behind {
			st.Behind = append(st.Behind, a)
		} else {
			st.Current++
		}
		for _, g := range d.Resolve(a.identity()).Globs {
			e := entry(g)
			e.Targeted++
			if slices.Contains(a.Missing, g) {
				e.MissingOn = append(e.MissingOn, a.Hostname)
			}
		}
	}
	return st
}
