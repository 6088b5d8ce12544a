package agent

import (
	"context"
	"sync/atomic"

	"github.com/procwatch/procwatch/internal/metrics"
	"github.com/procwatch/procwatch/internal/procevents"
	"github.com/procwatch/procwatch/internal/taskstats"
)

// processEvents is the agent's subscription to the kernel's process events,
// when it has one: the monitor folds every exec and exit in between scans,
// so that starts and exits are exact rather than sampled.
type processEvents struct {
	reader  *procevents.Reader // nil when the agent samples only
	enabled atomic.Bool
	// records are the kernel's exit records, when they can be had beside
	// the events: they identify a process reaped before it could be read,
	// and carry its final CPU and I/O.
	records   *taskstats.Reader
	recordsOn atomic.Bool
}

// openEvents subscribes to the process events unless the configuration
// turns them off, and logs exactly one line saying whether the agent
// follows them or samples, and why. It must run before the first scan:
// a process started after Open returned is then either seen by that scan
// or announced by an event.
func (a *agent) openEvents(ctx context.Context) {
	if !a.cfg.ProcessEvents {
		a.log.Info("process events off (--collect.process-events=false): starts and exits are sampled from /proc at each scan")
		return
	}
	r, err := procevents.Open(ctx)
	if err != nil {
		a.log.Warn("process events unavailable, starts and exits are sampled from /proc at each scan", "reason", err.Error())
		return
	}
	a.events.reader = r
	a.events.enabled.Store(true)
	rec, err := taskstats.Open(ctx)
	if err != nil {
		a.log.Info("following the kernel's process events: every start and exit is counted; without exit records, a process reaped before it could be read goes unidentified and exited processes keep the CPU and I/O last read",
			"read_buffer_bytes", r.Stats().ReadBuffer, "exit_records", err.Error())
		return
	}
	a.events.records = rec
	a.events.recordsOn.Store(true)
	a.mon.FollowExitRecords(true)
	a.log.Info("following the kernel's process events: every start and exit is counted, with exit records for the CPU and I/O of exited processes",
		"read_buffer_bytes", r.Stats().ReadBuffer, "exit_records_read_buffer_bytes", rec.Stats().ReadBuffer)
}

// followEvents hands every event to the monitor until ctx ends or the
// reader fails for good, when the agent falls back to sampling and says so.
// The readers drain the kernel into their own bounded queues, so a slow
// event here (a read of /proc, a rescan after a loss) delays only the
// queue, never the kernel; a burst is taken in one batch per wake-up.
func (a *agent) followEvents(ctx context.Context) {
	r := a.events.reader
	var recordsReady <-chan struct{}
	if a.events.records != nil {
		recordsReady = a.events.records.Ready()
	}
	failing := false
	report := func(what string, err error) {
		switch {
		case err != nil && ctx.Err() == nil && !failing:
			a.log.Warn("handling a process event failed", "event", what, "err", err)
			failing = true
		case err == nil && failing:
			a.log.Info("handling process events works again")
			failing = false
		}
	}
	handleRecord := func(rec taskstats.Event) {
		if rec.Kind == taskstats.Lost {
			a.log.Debug("exit records lost, scanning /proc", "dropped", rec.Lost, "overrun", rec.Overrun)
		}
		report(rec.String(), a.mon.HandleExitRecord(ctx, rec))
	}
	handleEvent := func(ev procevents.Event) {
		if ev.Kind == procevents.Lost {
			a.log.Debug("process events lost, scanning /proc", "dropped", ev.Lost, "overrun", ev.Overrun)
		}
		report(ev.String(), a.mon.HandleEvent(ctx, ev))
	}
	var events []procevents.Event
	var records []taskstats.Event
	for {
		select {
		case <-ctx.Done():
			return
		case <-recordsReady:
			if !handleBatch(ctx, &records, a.events.records.Drain, handleRecord) {
				recordsReady = nil
				if ctx.Err() == nil {
					a.events.recordsOn.Store(false)
					a.mon.FollowExitRecords(false)
					a.log.Error("exit records ended, processes reaped before they are read go unidentified from now on", "err", a.events.records.Err())
				}
			}
		case <-r.Ready():
			if !handleBatch(ctx, &events, r.Drain, handleEvent) {
				if ctx.Err() == nil {
					a.events.enabled.Store(false)
					a.log.Error("process events ended, starts and exits are sampled from /proc from now on", "err", r.Err())
				}
				return
			}
		}
	}
}

// handleBatch drains a reader into *batch and hands each item to handle,
// stopping early once ctx ends; it reports whether the reader goes on.
// The batch is kept for the next wake-up unless a burst grew it: an idle
// agent does not hold the memory of its largest burst.
func handleBatch[E any](ctx context.Context, batch *[]E, drain func([]E) ([]E, bool), handle func(E)) (more bool) {
	items, more := drain((*batch)[:0])
	for _, e := range items {
		if ctx.Err() != nil {
			break
		}
		handle(e)
	}
	if cap(items) > 256 {
		items = nil
	}
	clear(items)
	*batch = items[:0]
	return more
}

// closeEvents ends the subscription.
func (a *agent) closeEvents() {
	if r := a.events.records; r != nil {
		if err := r.Close(); err != nil {
			a.log.Debug("closing the exit records socket", "err", err)
		}
	}
	if r := a.events.reader; r != nil {
		if err := r.Close(); err != nil {
			a.log.Debug("closing the process events socket", "err", err)
		}
	}
}

// eventsState is what the collector exports of the subscription.
func (a *agent) eventsState() metrics.ProcessEvents {
	st := metrics.ProcessEvents{Enabled: a.events.enabled.Load(), ExitStats: a.events.recordsOn.Load()}
	if r := a.events.reader; r != nil {
		s := r.Stats()
		st.Lost = s.Dropped + s.Overruns
	}
	if r := a.events.records; r != nil {
		s := r.Stats()
		st.Lost += s.Dropped + s.Overruns
	}
	return st
}
