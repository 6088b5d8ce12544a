package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
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

What changes no glob is said too: "payload deleted; keeping version 6",
"version 7 invalid: <reason>; keeping version 6" (agents keep the last
valid list), "payload recreated at version 0" (versions start afresh).

With -o json, every line of stdout is one JSON object whose "type" is
"start" (version, payload), "change" (from, to, kind, path, old, new),
"resync" or "rewrite" (from, to: a write that changed nothing), "session"
(state), "notice" (notice: deleted, invalid or recreated; version, kept,
and for invalid the reason), or "error" (error: why watch ended; it is on
stderr too, and the exit code says it).

--timeout bounds only connecting; watching lasts until interrupted.`,
		Args: usageArgs(cobra.NoArgs),
		RunE: func(cmd *cobra.Command, _ []string) error {
			err := o.run(cmd.Context())
			if err != nil && o.output == "json" {
				// A pipeline reading stdout learns why the stream ended.
				_ = writeJSONLine(o.stdout, errorLine{Type: "error", Error: err.Error()})
			}
			return err
		},
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

	// Every line goes through one FIFO, printed by one goroutine: callbacks
	// must not block (they delay the Session's and the Store's own
	// handling), and a session line comes before the changes it causes
	// because the Session calls its subscribers before its Stores.
	lines := newQueue[func() error]()
	stopSess := c.sess.Subscribe(func(ev zkstate.SessionEvent) {
		lines.push(func() error { return o.printer.session(ev) })
	})
	snap, stopEvents := c.store.SubscribeWithNotices(func(ev zkstate.Event[watchlist.Document]) {
		lines.push(func() error { return o.printer.event(ev) })
	}, func(n zkstate.Notice) {
		lines.push(func() error { return o.notice(n) })
	})
	if snap.Version < 0 {
		fmt.Fprintf(o.stderr, "procctl: warning: the payload at %s/payload is not a valid procwatch document; showing changes from the first valid one\n", o.path)
	}
	// The start line is printed before the goroutine that prints what the
	// subscriptions queued starts, so it comes first.
	writeErr := o.printer.watchStart(o.path, snap.Version, snap.Raw)
	failed := make(chan struct{})
	if writeErr != nil {
		close(failed)
	}
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		for {
			fns, ok := lines.wait()
			if !ok {
				return
			}
			for _, print := range fns {
				if writeErr != nil {
					continue // the output is gone (a closed pipe)
				}
				if writeErr = print(); writeErr != nil {
					close(failed)
				}
			}
		}
	}()

	select {
	case <-ctx.Done():
	case <-failed:
	}
	stopEvents()
	stopSess()
	lines.close()
	wg.Wait()
	return writeErr
}

// noticeLine is a notice of watch -o json.
type noticeLine struct {
	Type    string `json:"type"`
	Notice  string `json:"notice"`
	Version int32  `json:"version"`
	Kept    int32  `json:"kept"`
	Reason  string `json:"reason,omitempty"`
}

// errorLine is the error that ended watch -o json.
type errorLine struct {
	Type  string `json:"type"`
	Error string `json:"error"`
}

// notice prints what happened to the payload that no change line shows.
func (o *watchOptions) notice(n zkstate.Notice) error {
	reason := ""
	if n.Kind == zkstate.NoticeInvalid {
		reason = invalidReason(n.Err)
	}
	if o.output == "json" {
		return writeJSONLine(o.stdout, noticeLine{Type: "notice", Notice: n.Kind.String(), Version: n.Version, Kept: n.KeptVersion, Reason: reason})
	}
	keeping := fmt.Sprintf("keeping version %d", n.KeptVersion)
	if n.KeptVersion < 0 {
		keeping = "no valid version yet"
	}
	var err error
	switch n.Kind {
	case zkstate.NoticeDeleted:
		_, err = fmt.Fprintf(o.stdout, "payload deleted; %s\n", keeping)
	case zkstate.NoticeInvalid:
		_, err = fmt.Fprintf(o.stdout, "version %d invalid: %s; %s\n", n.Version, reason, keeping)
	case zkstate.NoticeRecreated:
		_, err = fmt.Fprintf(o.stdout, "payload recreated at version %d\n", n.Version)
	}
	return err
}

// invalidReason says why a version was rejected, in the words procctl get
// uses for the same document.
func invalidReason(err error) string {
	var ip *zkstate.InvalidPayloadError
	if errors.As(err, &ip) && ip.Raw != nil {
		return whyInvalid(ip.Raw)
	}
	if err == nil {
		return "rejected by procwatch"
	}
	return err.Error()
}

func writeJSONLine(w io.Writer, v any) error {
	b, err := json.Marshal(v)
	if err != nil {
		return err
	}
	_, err = w.Write(append(b, '\n'))
	return err
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
