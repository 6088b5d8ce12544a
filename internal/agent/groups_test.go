package agent_test

import (
	"context"
	"encoding/json"
	"slices"
	"testing"
	"time"

	"github.com/procwatch/procwatch/internal/watchlist"
	"github.com/procwatch/procwatch/internal/zkstate"
	"github.com/procwatch/procwatch/internal/zktest"
)

// TestGroupsTargetAgents: two agents of different hostnames and labels
// on one list each export exactly their list in force: the fleet-wide
// globs and those of the groups that apply to them. A group changed by
// the engine, then by a foreign client writing the node, moves the series
// on the agent it concerns, within a second, and leaves the other alone.
func TestGroupsTargetAgents(t *testing.T) {
	cluster := sharedCluster(t)
	root := testRoot(t)
	op := operator(t, cluster.ConnectString(), root, "sshd")

	web := agentConfig(t, root)
	web.Hostname = "WEB-1.example.com"
	web.Labels = map[string]string{"role": "web"}
	db := agentConfig(t, root)
	db.Hostname = "db-1"
	db.Labels = map[string]string{"role": "db", "region": "eu"}
	aw, ad := startReady(t, web), startReady(t, db)

	ctx, cancel := context.WithTimeout(context.Background(), 15*time.Second)
	defer cancel()
	_, err := op.Update(ctx, func(d *watchlist.Document) error {
		d.SetGroup("web", watchlist.Selector{Hosts: []string{"web-*"}}, []string{"nginx*"})
		d.SetGroup("db", watchlist.Selector{Labels: map[string]string{"role": "db"}}, []string{"postgres*", "sshd"})
		d.SetGroup("nobody", watchlist.Selector{Labels: map[string]string{"role": "mail"}}, []string{"postfix"})
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	g := func(glob string) []string { return []string{"glob=" + glob} }
	aw.WaitMetrics(t, time.Second,
		want{Name: "procwatch_globs", Value: 2},
		want{Name: "procwatch_glob_processes", Labels: g("sshd"), Value: 0},
		want{Name: "procwatch_glob_processes", Labels: g("nginx*"), Value: 0},
		want{Name: "procwatch_glob_processes", Labels: g("postgres*"), Absent: true},
		want{Name: "procwatch_glob_processes", Labels: g("postfix"), Absent: true},
		want{Name: "procwatch_group_applies", Labels: []string{"group=web"}, Value: 1},
		want{Name: "procwatch_group_applies", Labels: []string{"group=db"}, Absent: true},
	)
	ad.WaitMetrics(t, time.Second,
		want{Name: "procwatch_globs", Value: 2},
		want{Name: "procwatch_glob_processes", Labels: g("sshd"), Value: 0},
		want{Name: "procwatch_glob_processes", Labels: g("postgres*"), Value: 0},
		want{Name: "procwatch_glob_processes", Labels: g("nginx*"), Absent: true},
		want{Name: "procwatch_group_applies", Labels: []string{"group=db"}, Value: 1},
		want{Name: "procwatch_group_applies", Labels: []string{"group=web"}, Absent: true},
	)

	// A foreign client rewrites the node: web gains a glob, db's selector
	// now wants region=us, and a group with a host glob that does not
	// compile applies to nobody and is counted.
	raw := zktest.Connect(t, cluster.ConnectString(), 10*time.Second)
	doc, _ := json.Marshal(map[string]any{
		"globs": []string{"sshd"},
		"groups": map[string]any{
			"web":    map[string]any{"hosts": []string{"web-*"}, "globs": []string{"nginx*", "php-fpm*"}},
			"db":     map[string]any{"labels": map[string]string{"role": "db", "region": "us"}, "globs": []string{"postgres*"}},
			"broken": map[string]any{"hosts": []string{"db-["}, "globs": []string{"never"}},
		},
	})
	if _, err := raw.Set(root+"/payload", doc, -1); err != nil {
		t.Fatal(err)
	}
	aw.WaitMetrics(t, time.Second,
		want{Name: "procwatch_globs", Value: 3},
		want{Name: "procwatch_glob_processes", Labels: g("php-fpm*"), Value: 0},
		want{Name: "procwatch_skipped_groups", Value: 1},
	)
	ad.WaitMetrics(t, time.Second,
		want{Name: "procwatch_globs", Value: 1},
		want{Name: "procwatch_glob_processes", Labels: g("postgres*"), Absent: true},
		want{Name: "procwatch_glob_processes", Labels: g("php-fpm*"), Absent: true},
		want{Name: "procwatch_group_applies", Labels: []string{"group=db"}, Absent: true},
		want{Name: "procwatch_skipped_groups", Value: 1},
	)
	// The web agent's series did not move for db's change: still 3 globs
	// and the web group.
	mfs, _ := aw.Scrape(t)
	if v, ok := mfs.Value("procwatch_group_applies", "group=web"); !ok || v != 1 {
		t.Errorf("web agent lost its group: %v %v", v, ok)
	}
}

// previousDocument is the watch list as the release before groups decoded
// it: strict, "globs" required, nothing else known.
type previousDocument struct {
	Globs []string `json:"globs"`
}

func (d previousDocument) Check() error {
	if d.Globs == nil {
		return watchlist.ErrGlobsMissing
	}
	return nil
}

func (previousDocument) DecodeStrictly() {}

// TestPreviousReleaseReadsGroups: an agent or procctl of the release before
// groups, on a payload with groups, reads the fleet-wide list as before,
// and its writes keep the groups, which it does not know.
func TestPreviousReleaseReadsGroups(t *testing.T) {
	cluster := sharedCluster(t)
	root := testRoot(t)
	op := operator(t, cluster.ConnectString(), root, "sshd")
	ctx, cancel := context.WithTimeout(context.Background(), 15*time.Second)
	defer cancel()
	if _, err := op.Update(ctx, func(d *watchlist.Document) error {
		d.SetGroup("db", watchlist.Selector{Labels: map[string]string{"role": "db"}}, []string{"postgres*"})
		return nil
	}); err != nil {
		t.Fatal(err)
	}

	sess, err := zkstate.Connect(ctx, []string{cluster.ConnectString()})
	if err != nil {
		t.Fatal(err)
	}
	defer sess.Close()
	old, err := zkstate.Open[previousDocument](ctx, sess, root, zkstate.WithoutMembership())
	if err != nil {
		t.Fatal(err)
	}
	defer old.Close()
	snap, err := old.ConsistentRead(ctx)
	if err != nil {
		t.Fatalf("the previous release cannot read a payload with groups: %v", err)
	}
	if !slices.Equal(snap.Value.Globs, []string{"sshd"}) {
		t.Errorf("the previous release reads globs %q, want [sshd]", snap.Value.Globs)
	}
	if _, err := old.Update(ctx, func(d *previousDocument) error {
		d.Globs = append(d.Globs, "cron")
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	now, err := op.ConsistentRead(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(now.Value.Globs, []string{"sshd", "cron"}) || !slices.Equal(now.Value.Groups["db"].Globs, []string{"postgres*"}) {
		t.Errorf("after a write by the previous release: %+v, want the groups kept", now.Value)
	}
}
