package main

import (
	"encoding/json"

	"github.com/procwatch/procwatch/internal/watchlist"
	"github.com/procwatch/procwatch/internal/zkstate"
)

// agentView is one live agent as members, status and --wait show it: the
// engine's member fields and the watchlist.AgentInfo the agent publishes
// beside them, flat in JSON as in the node. An agent that has not published
// its info yet (just started, or of a release before member info) has
// AppliedVersion -1 and HasInfo false.
type agentView struct {
	zkstate.Member
	watchlist.AgentInfo
	// Behind is set when the agent's applied version is below the
	// payload's version procctl read.
	Behind bool `json:"behind"`
	// HasInfo is whether the agent published its AgentInfo.
	HasInfo bool `json:"-"`
}

// agentsOf decodes the member info of live instances; current is the
// payload's version, which marks agents behind (-1 marks none).
func agentsOf(ms []zkstate.Member, current int32) []agentView {
	out := make([]agentView, 0, len(ms))
	for _, m := range ms {
		v := agentView{Member: m}
		var probe map[string]json.RawMessage
		if json.Unmarshal(m.Info, &probe) == nil && probe["applied_version"] != nil && json.Unmarshal(m.Info, &v.AgentInfo) == nil {
			v.HasInfo = true
		} else {
			v.AgentInfo = watchlist.AgentInfo{AppliedVersion: -1}
		}
		if v.Labels == nil {
			v.Labels = map[string]string{}
		}
		if v.Groups == nil {
			v.Groups = []string{}
		}
		if v.Missing == nil {
			v.Missing = []string{}
		}
		v.Behind = current >= 0 && v.AppliedVersion < current
		out = append(out, v)
	}
	return out
}

// identity is the agent's identity for targeting.
func (v agentView) identity() watchlist.Identity {
	return watchlist.Identity{Hostname: v.Hostname, Labels: v.Labels}
}

// name is how messages name an agent: its hostname and id.
func (v agentView) name() string {
	if v.Hostname == "" {
		return v.ID
	}
	return v.Hostname + " (" + v.ID + ")"
}
