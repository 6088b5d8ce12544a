package zkstate

import (
	"encoding/json"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/procwatch/procwatch/internal/testutil"
	"github.com/procwatch/procwatch/internal/zktest"
)

// agentInfo stands for what an application publishes beside the engine's
// member fields.
type agentInfo struct {
	Hostname       string `json:"hostname"`
	AppliedVersion int32  `json:"applied_version"`
}

// TestMemberInfo: what SetMemberInfo publishes is in the listener node at
// once, beside the engine's fields (the application's hostname replacing
// the engine's), WatchMembers reports the rewrite, and the info survives
// the node's deletion: the re-created node carries it.
func TestMemberInfo(t *testing.T) {
	zks := startZK(t)
	raw := zktest.Connect(t, zks.ConnectString(), 5*time.Second)
	st := createStore[config](t, newSession(t, zks.ConnectString()), testRoot, config{},
		WithMember("procwatch", "9.9.9"), WithMemberID("agent-a"))
	watcher := openStore[config](t, newSession(t, zks.ConnectString()), testRoot, WithoutMembership())
	ctx := testCtx(t, 20*time.Second)
	updates := watcher.WatchMembers(ctx)
	first := <-updates
	if len(first) != 1 || first[0].ID != "agent-a" {
		t.Fatalf("first member list %+v", first)
	}

	if err := st.SetMemberInfo(ctx, agentInfo{Hostname: "web-1", AppliedVersion: 7}); err != nil {
		t.Fatal(err)
	}
	// The rewrite of a node's data, not only a node coming or going, is a
	// change of the member list.
	select {
	case ms := <-updates:
		var got agentInfo
		if len(ms) != 1 || json.Unmarshal(ms[0].Info, &got) != nil || got != (agentInfo{"web-1", 7}) {
			t.Fatalf("after SetMemberInfo, WatchMembers sent %+v", ms)
		}
		if ms[0].Hostname != "web-1" || ms[0].Program != "procwatch" || ms[0].Version != "9.9.9" {
			t.Errorf("engine fields beside the info: %+v", ms[0])
		}
	case <-ctx.Done():
		t.Fatal("WatchMembers did not report the rewritten member info")
	}

	node := testRoot + "/listeners/agent-a"
	if err := raw.Delete(node, -1); err != nil {
		t.Fatal(err)
	}
	testutil.Eventually(t, 5*time.Second, "the re-created node to carry the published info", func() bool {
		data, _, err := raw.Get(node)
		var got agentInfo
		return err == nil && json.Unmarshal(data, &got) == nil && got.AppliedVersion == 7
	})

	for _, bad := range []any{[]string{"not", "an", "object"}, map[string]any{"id": "other"}} {
		if err := st.SetMemberInfo(ctx, bad); err == nil {
			t.Errorf("SetMemberInfo(%v) = nil, want an error", bad)
		}
	}
	err := st.SetMemberInfo(ctx, map[string]string{"big": strings.Repeat("x", MaxMemberInfo)})
	if !errors.Is(err, ErrTooLarge) {
		t.Errorf("oversized member info: %v, want ErrTooLarge", err)
	}
	data, _, _ := raw.Get(node)
	if !strings.Contains(string(data), `"applied_version":7`) {
		t.Errorf("a refused SetMemberInfo changed the node: %s", data)
	}
}
