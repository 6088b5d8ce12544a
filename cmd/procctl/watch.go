package main

import (
	"context"
	"fmt"
	"sync"

	"github.com/spf13/cobra"

	"github.com/procwatch/procwatch/internal/watchlist"
	"github.com/procwatch/procwatch/internal/zkstate"
)

type watchOptions struct {
	*globalOptions
}

func newWatchCmd(g *globalOptions) *cobra.Command {
	o := &watchOptions{globalOptions: g}
	return &cobra.Command{
		Use:   "watch",
		Short: "Print one line per change of the payload, as it happens, until interrupted",
		Long: `Print the version watched from, then one line per change of the payload
as it happens, until interrupted (Ctrl-C or SIGTERM end it with exit 0):

  v3→v4 added /globs/2 "nginx*"
  v4→v5 modified /globs/0 "sshd" -> "sshd*"
  v5→v6 removed /globs/1 "rsync*"

Changes made by any client count, zkCli.sh included. When ZooKeeper only
reports the newest of several quick changes, or after a lost session, the
line "vA→vB resynced" introduces their merged difference; lines starting
with "--" report the connection (disconnected, reconnected, session lost,
new session).

With -o json, every line is one JSON object whose "type" is "start"
(version, payload), "change" (from, to, kind, path, old, new), "resync" or
"rewrite" (from, to: a write that changed nothing), or "session" (state).

--timeout bounds only connecting; watching lasts until interrupted.`,
		Args: usageArgs(cobra.NoArgs),
		RunE: func(cmd *cobra.Command, _ []string) error { return o.run(cmd.Context()) },
	}
}

func (o *watchOptions) run(ctx context.Context) error {
	octx, cancel := o.opContext(ctx)
	c, err := o.open(octx)
	cancel()
	if err != nil {
		return err
	}
	defer c.Close()

	// One mutex keeps every line, and the lines of one event, whole and in
	// the order printed; failed says the output is gone (a closed pipe).
	var mu sync.Mutex
	var writeErr error
	failed := make(chan struct{})
	emit := func(f func() error) {
		mu.Lock()
		defer mu.Unlock()
		if writeErr != nil {
			return
		}
		if err := f(); err != nil {
			writeErr = err
			close(failed)
		}
	}

	// Session callbacks must not block (they delay the Store's own
	// handling), so they only queue; this goroutine prints.
	sq := newQueue[zkstate.SessionEvent]()
	stopSess := c.sess.Subscribe(sq.push)
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		for {
			evs, ok := sq.wait()
			if !ok {
				return
			}
			for _, ev := range evs {
				emit(func() error { return o.printer.session(ev) })
			}
		}
	}()

	// Holding the mutex across Subscribe makes the start line come before
	// the first event, which Subscribe may deliver at once.
	mu.Lock()
	snap, stopEvents := c.store.Subscribe(func(ev zkstate.Event[watchlist.Document]) {
		emit(func() error { return o.printer.event(ev) })
	})
	if snap.Version < 0 {
		fmt.Fprintf(o.stderr, "procctl: warning: the payload at %s/payload is not a valid procwatch document; showing changes from the first valid one\n", o.path)
	}
	if err := o.printer.watchStart(o.path, snap.Version, snap.Raw); err != nil {
		writeErr = err
		close(failed)
	}
	mu.Unlock()

	select {
	case <-ctx.Done():
	case <-failed:
	}
	stopEvents()
	stopSess()
	sq.close()
	wg.Wait()
	mu.Lock()
	defer mu.Unlock()
	return writeErr
}

// queue is an unbounded FIFO between a callback that must not block and the
// goroutine that consumes it.
type queue[T any] struct {
	mu     sync.Mutex
	items  []T
	closed bool
	signal chan struct{}
}

func newQueue[T any]() *queue[T] { return &queue[T]{signal: make(chan struct{}, 1)} }

func (q *queue[T]) push(v T) {
	q.mu.Lock()
	q.items = append(q.items, v)
	q.mu.Unlock()
	q.notify()
}

func (q *queue[T]) close() {
	q.mu.Lock()
	q.closed = true
	q.mu.Unlock()
	q.notify()
}

func (q *queue[T]) notify() {
	select {
	case q.signal <- struct{}{}:
	default:
	}
}

// wait returns the queued items, blocking until there are some; ok is false
// once the queue is closed and drained.
func (q *queue[T]) wait() (items []T, ok bool) {
	for {
		q.mu.Lock()
		items, q.items = q.items, nil
		closed := q.closed
		q.mu.Unlock()
		if len(items) > 0 {
			return items, true
		}
		if closed {
			return nil, false
		}
		<-q.signal
	}
}
