package agent_test

import (
	"context"
	"encoding/json"
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/procwatch/procwatch/internal/watchlist"
	"github.com/procwatch/procwatch/internal/zkstate"
	"github.com/procwatch/procwatch/internal/zktest"
)

// waitInfo waits until the one procwatch member under st publishes info
// that ok accepts, and returns it.
func waitInfo(t *testing.T, st *zkstate.Store[watchlist.Document], within time.Duration, what string, ok func(watchlist.AgentInfo) bool) watchlist.AgentInfo {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), within)
	defer cancel()
	var last []zkstate.Member
	for ms := range st.WatchMembers(ctx) {
		last = ms
		for _, m := range ms {
			var info watchlist.AgentInfo
			if m.Program == "procwatch" && json.Unmarshal(m.Info, &info) == nil && ok(info) {
				return info
			}
		}
	}
	var seen []string
	for _, m := range last {
		seen = append(seen, string(m.Info))
	}
	t.Fatalf("within %s, no member info with %s; last seen %s", within, what, seen)
	return watchlist.AgentInfo{}
}

// TestMemberInfoFollowsTheAgent: the agent publishes who it is, the
// version in force, the groups applying and the globs that match nothing:
// at once for a new version, and within the member update interval when
// only the missing set changed.
func TestMemberInfoFollowsTheAgent(t *testing.T) {
	cluster := sharedCluster(t)
	root := testRoot(t)
	short, _ := names("mi")
	op := operator(t, cluster.ConnectString(), root, short)

	cfg := agentConfig(t, root)
	cfg.Hostname = "db-3"
	cfg.Labels = map[string]string{"role": "db"}
	cfg.ScanInterval = 100 * time.Millisecond
	cfg.MemberInterval = 200 * time.Millisecond
	a := startReady(t, cfg)

	info := waitInfo(t, op, 10*time.Second, "version 0", func(i watchlist.AgentInfo) bool { return i.AppliedVersion == 0 })
	want := watchlist.AgentInfo{Labels: map[string]string{"role": "db"}, AppliedVersion: 0,
		Groups: []string{}, Globs: 1, Missing: []string{short}, UpdatedAt: info.UpdatedAt}
	if !info.SameState(want) || time.Since(info.UpdatedAt) > time.Minute {
		t.Errorf("member info %+v, want %+v", info, want)
	}

	// A new version, here a group that applies: published at once, not
	// at the next interval.
	ctx, cancel := context.WithTimeout(context.Background(), 15*time.Second)
	defer cancel()
	v, err := op.Update(ctx, func(d *watchlist.Document) error {
		d.SetGroup("db", watchlist.Selector{Labels: map[string]string{"role": "db"}}, []string{"postgres-" + short})
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	start := time.Now()
	info = waitInfo(t, op, 5*time.Second, fmt.Sprintf("version %d", v), func(i watchlist.AgentInfo) bool { return i.AppliedVersion == v })
	t.Logf("version %d in the member info %s after the write", v, time.Since(start))
	if !slices.Equal(info.Groups, []string{"db"}) || info.Globs != 2 || !slices.Equal(info.Missing, []string{short, "postgres-" + short}) {
		t.Errorf("member info after the group: %+v", info)
	}

	// The missing set changes with the processes, the version does not.
	kill := sleepers(t, short, 1)
	waitInfo(t, op, 5*time.Second, short+" no longer missing", func(i watchlist.AgentInfo) bool {
		return i.AppliedVersion == v && slices.Equal(i.Missing, []string{"postgres-" + short})
	})
	kill()
	waitInfo(t, op, 5*time.Second, short+" missing again", func(i watchlist.AgentInfo) bool {
		return slices.Contains(i.Missing, short)
	})
	mfs, _ := a.Scrape(t)
	if ok, _ := mfs.Value("procwatch_member_updates_total", "result=ok"); ok < 4 {
		t.Errorf("procwatch_member_updates_total{result=ok} = %v, want at least the 4 rewrites seen", ok)
	}
	if bad, present := mfs.Value("procwatch_member_updates_total", "result=error"); !present || bad != 0 {
		t.Errorf("procwatch_member_updates_total{result=error} = %v (present %v), want 0", bad, present)
	}
}

// TestMemberInfoFailureIsCountedAndRetried: with ZooKeeper cut off, a
// rewrite of the member info fails, is counted, and does not hold up the
// scans (the gauge follows the processes meanwhile); once ZooKeeper is back
// the rewrite is retried and lands.
func TestMemberInfoFailureIsCountedAndRetried(t *testing.T) {
	cluster := sharedCluster(t)
	root := testRoot(t)
	short, _ := names("mf")
	op := operator(t, cluster.ConnectString(), root, short)
	proxy := zktest.NewProxy(t, cluster.ConnectString())
	cfg := agentConfig(t, root)
	cfg.Servers = []string{proxy.Addr()}
	cfg.SessionTimeout = 20 * time.Second
	cfg.ScanInterval = 100 * time.Millisecond
	cfg.MemberInterval = 200 * time.Millisecond
	a := startReady(t, cfg)
	waitInfo(t, op, 10*time.Second, short+" missing", func(i watchlist.AgentInfo) bool { return slices.Equal(i.Missing, []string{short}) })

	proxy.Cut()
	sleepers(t, short, 1)
	a.WaitMetrics(t, 5*time.Second, want{Name: "procwatch_glob_processes", Labels: []string{"glob=" + short}, Value: 1})
	a.WaitMetrics(t, 15*time.Second, want{Name: "procwatch_member_updates_total", Labels: []string{"result=error"}, Value: 1, AtLeast: true})
	proxy.Restore()
	waitInfo(t, op, 20*time.Second, "nothing missing", func(i watchlist.AgentInfo) bool { return len(i.Missing) == 0 })
	if log := a.Log.String(); !strings.Contains(log, "writing the member info failed") || !strings.Contains(log, "member info written again") {
		t.Errorf("the failure and the recovery are not both logged:\n%s", a.Log.String())
	}
}
