package zkstate_test

import (
	"context"
	"fmt"
	"time"

	"github.com/procwatch/procwatch/internal/zkstate"
	"github.com/procwatch/procwatch/internal/zktest"
)

// WatchList is the document the example shares.
type WatchList struct {
	Globs []string `json:"globs"`
}

// Two processes share a watch list: one edits it, the other is told exactly
// what changed.
func Example() {
	zks, err := zktest.StartCluster(1)
	if err != nil {
		fmt.Println(err)
		return
	}
	defer zks.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()

	// The editor creates the state if nobody has yet.
	editorSess, err := zkstate.Connect(ctx, []string{zks.ConnectString()})
	if err != nil {
		fmt.Println(err)
		return
	}
	defer editorSess.Close()
	editor, err := zkstate.OpenOrCreate[WatchList](ctx, editorSess, "/procwatch",
		WatchList{Globs: []string{"sshd", "nginx*", "cron"}})
	if err != nil {
		fmt.Println(err)
		return
	}
	defer editor.Close()

	// An agent on another session subscribes to changes.
	agentSess, err := zkstate.Connect(ctx, []string{zks.ConnectString()})
	if err != nil {
		fmt.Println(err)
		return
	}
	defer agentSess.Close()
	agent, err := zkstate.Open[WatchList](ctx, agentSess, "/procwatch")
	if err != nil {
		fmt.Println(err)
		return
	}
	defer agent.Close()
	events := make(chan zkstate.Event[WatchList], 1)
	start, unsubscribe := agent.Subscribe(func(ev zkstate.Event[WatchList]) { events <- ev })
	defer unsubscribe()
	fmt.Println("agent starts with", start.Value.Globs)

	// Update runs under the lock with compare-and-set: no edit is lost.
	if _, err := editor.Update(ctx, func(w *WatchList) error {
		w.Globs = []string{"sshd", "cron", "postgres*"}
		return nil
	}); err != nil {
		fmt.Println(err)
		return
	}
	ev := <-events
	for _, c := range ev.Changes {
		fmt.Println(c)
	}
	fmt.Println("agent now watches", ev.Value.Globs)
	// Output:
	// agent starts with [sshd nginx* cron]
	// removed /globs/1 "nginx*"
	// added /globs/2 "postgres*"
	// agent now watches [sshd cron postgres*]
}
