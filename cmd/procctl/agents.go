package main

import (
	"encoding/json"
	"time"

	"github.com/procwatch/procwatch/internal/watchlist"
	"github.com/procwatch/procwatch/internal/zkstate"
)

// agentView is one live agent as members, status and --wait show it: the
// engine's member fields and the watchlist.AgentInfo the agent publishes
// beside them. An agent that has not published its info yet (just
// started, or of a release before member info) has AppliedVersion -1 and
// HasInfo false.
type agentView struct {
	ID               string            `json:"id"`
	Hostname         string            `json:"hostname"`
	PID              int               `json:"pid"`
	Program          string            `json:"program"`
	Version          string            `json:"version"`
	StartedAt        time.Time         `json:"started_at"`
	Labels           map[string]string `json:"labels"`
	AppliedVersion   int32             `json:"applied_version"`
	Groups           []string          `json:"groups"`
	Globs            int               `json:"globs"`
	Missing          []string          `json:"missing"`
	MissingTruncated int               `json:"missing_truncated,omitempty"`
	UpdatedAt        *time.Time        `json:"updated_at,omitempty"`
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
		v := agentView{ID: m.ID, Hostname: m.Hostname, PID: m.PID, Program: m.Program, Version: m.Version,
			StartedAt: m.StartedAt, AppliedVersion: -1}
		var probe map[string]json.RawMessage
		var info watchlist.AgentInfo
		if json.Unmarshal(m.Info, &probe) == nil && probe["applied_version"] != nil && json.Unmarshal(m.Info, &info) == nil {
			v.HasInfo = true
			v.Hostname = info.Hostname
			v.Labels, v.AppliedVersion, v.Groups, v.Globs = info.Labels, info.AppliedVersion, info.Groups, info.Globs
			v.Missing, v.MissingTruncated = info.Missing, info.MissingTruncated
			if !info.UpdatedAt.IsZero() {
				t := info.UpdatedAt
				v.UpdatedAt = &t
			}
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
