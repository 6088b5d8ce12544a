package main

import (
	"fmt"
	"strings"
	"text/tabwriter"

	"github.com/procwatch/procwatch/internal/watchlist"
)

// applied shows an agent's applied version, with the current one beside
// it when the agent is behind ("11<12"), "-" before it published any.
func applied(a agentView, current int32) string {
	switch {
	case !a.HasInfo:
		return "-"
	case a.Behind:
		return fmt.Sprintf("%d<%d", a.AppliedVersion, current)
	}
	return fmt.Sprint(a.AppliedVersion)
}

// missingOf shows an agent's missing globs, with how many more were cut.
func missingOf(a agentView) string {
	if len(a.Missing) == 0 {
		return "-"
	}
	s := strings.Join(a.Missing, ",")
	if a.MissingTruncated > 0 {
		s += fmt.Sprintf(",+%d", a.MissingTruncated)
	}
	return s
}

func (p textPrinter) members(agents []agentView, current int32) error {
	if len(agents) == 0 {
		return nil
	}
	tw := tabwriter.NewWriter(p.w, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "ID\tHOST\tPID\tVERSION\tAPPLIED\tLABELS\tGROUPS\tMISSING")
	for _, a := range agents {
		pid := "-"
		if a.PID > 0 {
			pid = fmt.Sprint(a.PID)
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\n", a.ID, dash(a.Hostname), pid, dash(a.Version),
			applied(a, current), dash(watchlist.FormatLabels(a.Labels)), dash(strings.Join(a.Groups, ",")), missingOf(a))
	}
	return tw.Flush()
}

func (p textPrinter) status(st statusView) error {
	var b strings.Builder
	fmt.Fprintf(&b, "version %d: %s, %d at it, %d behind\n", st.Version, plural(st.Agents, "agent"), st.Current, len(st.Behind))
	for _, a := range st.Behind {
		fmt.Fprintf(&b, "behind: %s at version %s\n", a.name(), applied(a, st.Version))
	}
	if _, err := fmt.Fprint(p.w, b.String()); err != nil {
		return err
	}
	if len(st.Globs) == 0 {
		return nil
	}
	tw := tabwriter.NewWriter(p.w, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "GLOB\tAGENTS\tMISSING ON")
	for _, g := range st.Globs {
		fmt.Fprintf(tw, "%s\t%d\t%s\n", g.Glob, g.Targeted, dash(strings.Join(g.MissingOn, ",")))
	}
	return tw.Flush()
}

func (p jsonPrinter) members(agents []agentView, _ int32) error {
	if agents == nil {
		agents = []agentView{}
	}
	return p.print(agents)
}

func (p jsonPrinter) status(st statusView) error { return p.print(st) }
