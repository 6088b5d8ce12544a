package watchlist

import (
	"encoding/json"
	"fmt"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
)

func TestAgentInfoMissingIsBounded(t *testing.T) {
	var missing []string
	for i := range MaxMissing + 7 {
		missing = append(missing, fmt.Sprintf("g%d", i))
	}
	var a AgentInfo
	a.SetMissing(missing)
	if len(a.Missing) != MaxMissing || a.MissingTruncated != 7 || a.Missing[0] != "g0" {
		t.Errorf("missing %d, truncated %d", len(a.Missing), a.MissingTruncated)
	}
	a.SetMissing(nil)
	if a.Missing == nil || a.MissingTruncated != 0 {
		t.Errorf("SetMissing(nil) = %#v, %d; want [] (stored as [], not null) and 0", a.Missing, a.MissingTruncated)
	}
	// 100 missing globs of the longest sensible size stay well within the
	// 4 KiB the listener node allows with everything else.
	a.SetMissing(missing)
	b, _ := json.Marshal(a)
	if len(b) > 4096 {
		t.Errorf("member info of %d bytes", len(b))
	}
}

func TestAgentInfoSameState(t *testing.T) {
	a := AgentInfo{Labels: map[string]string{"role": "db"}, AppliedVersion: 3, Groups: []string{"db"}, Globs: 2, Missing: []string{"x"}, UpdatedAt: time.Unix(1, 0)}
	b := a
	b.UpdatedAt = time.Unix(99, 0)
	if !a.SameState(b) {
		t.Error("infos differing only in time are not the same state")
	}
	for name, change := range map[string]func(*AgentInfo){
		"version": func(x *AgentInfo) { x.AppliedVersion = 4 },
		"missing": func(x *AgentInfo) { x.Missing = nil },
		"groups":  func(x *AgentInfo) { x.Groups = []string{"db", "web"} },
		"labels":  func(x *AgentInfo) { x.Labels = map[string]string{"role": "web"} },
		"globs":   func(x *AgentInfo) { x.Globs = 3 },
	} {
		c := a
		change(&c)
		if a.SameState(c) {
			t.Errorf("a change of %s is the same state", name)
		}
	}
	if diff := cmp.Diff(a, b, cmp.Comparer(func(x, y time.Time) bool { return true })); diff != "" {
		t.Error(diff)
	}
}
