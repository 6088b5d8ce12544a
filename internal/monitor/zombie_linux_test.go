//go:build linux

package monitor

import (
	"context"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/procwatch/procwatch/internal/monitor/proctest"
)

// zombieRow is what a zombie changes in a glob's aggregate.
type zombieRow struct {
	Glob             string
	Processes        int
	Threads          int
	Zombies          int
	Starts, Exits    uint64
	CPUUser          float64
	ReadBytes        uint64
	HasOldestStarted bool
}

func zombieRows(res ScanResult) []zombieRow {
	var out []zombieRow
	for _, g := range res.Globs {
		out = append(out, zombieRow{g.Glob, g.Processes, g.Threads, g.Zombies, g.Starts, g.Exits,
			g.CPUUser, g.ReadBytes, !g.OldestStart.IsZero()})
	}
	return out
}

// TestMonitorFixtureZombies turns fixture processes of a long name (its
// comm cut to 15 bytes) and of a short name into zombies, and adds zombies
// never seen alive: no zombie counts as a process, each matches by the
// identity it had alive (or its comm), and each exit is counted once.
func TestMonitorFixtureZombies(t *testing.T) {
	root := copyProcTree(t)
	mon := New(newFixtureSource(t, root))
	ctx := context.Background()
	globs := []string{
		"kube-controller-manager*", "/usr/local/bin/*", "sleep", "cmdline:sleep 600",
		"defunct*", "prometheus-node-exporter*", "prometheus-node",
	}
	scan := func(what string, want []zombieRow) {
		t.Helper()
		res, err := mon.Scan(ctx)
		if err != nil {
			t.Fatal(err)
		}
		if diff := cmp.Diff(want, zombieRows(res)); diff != "" {
			t.Errorf("%s (-want +got):\n%s", what, diff)
		}
	}
	if _, err := mon.SetGlobs(ctx, globs); err != nil {
		t.Fatal(err)
	}
	scan("alive", []zombieRow{
		{globs[0], 1, 12, 0, 0, 0, 50, 4096, true},
		{globs[1], 1, 12, 0, 0, 0, 50, 4096, true},
		{globs[2], 2, 2, 0, 0, 0, 0.01, 8192, true},
		{globs[3], 1, 1, 0, 0, 0, 0.01, 8192, true},
		{globs[4], 0, 0, 0, 0, 0, 0, 0, false},
		{globs[5], 0, 0, 0, 0, 0, 0, 0, false},
		{globs[6], 0, 0, 0, 0, 0, 0, 0, false},
	})

	// kube-controller-manager (100) and sleep 600 (400) exit and turn
	// zombie, having used a little more CPU; two zombies appear that were
	// never seen alive, one with a comm cut from a longer name.
	kube, sleep := fixtureProcs[2].Zombie(), fixtureProcs[6].Zombie()
	kube.UTime += 100
	sleep.UTime += 100
	proctest.ReplaceProc(t, root, kube)
	proctest.ReplaceProc(t, root, sleep)
	proctest.ReplaceProc(t, root, fakeProc{PID: 700, Comm: "defunct-job", Flags: 0x400000, Start: 8000}.Zombie())
	proctest.ReplaceProc(t, root, fakeProc{PID: 701, Comm: "prometheus-node", Flags: 0x400000, Start: 8001}.Zombie())
	zombies := []zombieRow{
		{globs[0], 0, 0, 1, 0, 1, 51, 4096, false},
		{globs[1], 0, 0, 1, 0, 1, 51, 4096, false},
		{globs[2], 1, 1, 1, 0, 1, 1.01, 8192, true},
		{globs[3], 0, 0, 1, 0, 1, 1.01, 8192, false},
		{globs[4], 0, 0, 1, 0, 0, 0, 0, false},
		{globs[5], 0, 0, 0, 0, 0, 0, 0, false},
		{globs[6], 0, 0, 1, 0, 0, 0, 0, false},
	}
	scan("zombies", zombies)
	scan("zombies, seen again", zombies)

	// Their parents reap them: the exits are not counted again.
	for _, pid := range []int{100, 400, 700, 701} {
		proctest.RemoveProc(t, root, pid)
	}
	for i := range zombies {
		zombies[i].Zombies = 0
	}
	scan("reaped", zombies)
}
