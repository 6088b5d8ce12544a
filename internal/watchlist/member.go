package watchlist

import (
	"maps"
	"slices"
	"time"
)

// MaxMissing is how many missing globs member info lists; the rest are
// counted in MissingTruncated, so that the node stays small (4 KiB) with
// a list of any length.
const MaxMissing = 100

// AgentInfo is what an agent publishes about itself beside the engine's
// member fields (id, hostname, pid, program, version, started_at): who it
// is for targeting and how far it has got with the list. procctl members,
// status and --wait read it; it holds nothing secret. The agent's
// --hostname, the one groups match, is published in place of the engine's
// hostname (see MemberInfo).
type AgentInfo struct {
	// Labels are the agent's --label pairs.
	Labels map[string]string `json:"labels"`
	// AppliedVersion is the payload version in force on the agent, -1
	// before any.
	AppliedVersion int32 `json:"applied_version"`
	// Groups are the names of the groups applying to the agent.
	Groups []string `json:"groups"`
	// Globs is how many globs are in force.
	Globs int `json:"globs"`
	// Missing are the globs in force that matched no process at the last
	// scan, at most MaxMissing of them.
	Missing []string `json:"missing"`
	// MissingTruncated is how many more were missing.
	MissingTruncated int `json:"missing_truncated,omitempty"`
	// UpdatedAt is when the agent wrote this.
	UpdatedAt time.Time `json:"updated_at"`
}

// SetMissing records missing as the missing globs, cut to MaxMissing.
func (a *AgentInfo) SetMissing(missing []string) {
	a.MissingTruncated = max(0, len(missing)-MaxMissing)
	a.Missing = slices.Clone(missing[:min(len(missing), MaxMissing)])
	if a.Missing == nil {
		a.Missing = []string{}
	}
}

// SameState reports whether a and b say the same thing, whenever each was
// written: an agent need not rewrite what it has published.
func (a AgentInfo) SameState(b AgentInfo) bool {
	return a.AppliedVersion == b.AppliedVersion && a.Globs == b.Globs &&
		a.MissingTruncated == b.MissingTruncated && slices.Equal(a.Groups, b.Groups) &&
		slices.Equal(a.Missing, b.Missing) && maps.Equal(a.Labels, b.Labels)
}

// MemberInfo is what an agent writes in its listener node beside the
// engine's fields: its AgentInfo, and its --hostname in place of the OS
// hostname the engine would show.
type MemberInfo struct {
	Hostname string `json:"hostname"`
	AgentInfo
}
