package agent

import (
	"context"
	"sync/atomic"

	"github.com/procwatch/procwatch/internal/metrics"
	"github.com/procwatch/procwatch/internal/procevents"
)

// processEvents is the agent's subscription to the kernel's process events,
// when it has one: the monitor folds every exec and exit in between scans,
// so that starts and exits are exact rather than sampled.
type processEvents struct {
	reader  *procevents.Reader // nil when the agent samples only
	enabled atomic.Bool
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
	a.log.Info("following the kernel's process events: every start and exit is counted", "read_buffer_bytes", r.Stats().ReadBuffer)
}

// followEvents hands every event to the monitor until ctx ends or the
// reader fails for good, when the agent falls back to sampling and says so.
// The reader drains the kernel into its own bounded queue, so a slow
// event here (a read of /proc, a rescan after a loss) delays only the
// queue, never the kernel.
func (a *agent) followEvents(ctx context.Context) {
	r := a.events.reader
	failing := false
	for {
		var ev procevents.Event
		var ok bool
		select {
		case <-ctx.Done():
			return
		case ev, ok = <-r.Events():
		}
		if !ok {
			if ctx.Err() == nil {
				a.events.enabled.Store(false)
				a.log.Error("process events ended, starts and exits are sampled from /proc from now on", "err", r.Err())
			}
			return
		}
		if ev.Kind == procevents.Lost {
			a.log.Debug("process events lost, scanning /proc", "dropped", ev.Lost, "overrun", ev.Overrun)
		}
		err := a.mon.HandleEvent(ctx, ev)
		switch {
		case err != nil && ctx.Err() == nil && !failing:
			a.log.Warn("handling a process event failed", "event", ev.String(), "err", err)
			failing = true
		case err == nil && failing:
			a.log.Info("handling process events works again")
			failing = false
		}
	}
}

// closeEvents ends the subscription.
func (a *agent) closeEvents() {
	if r := a.events.reader; r != nil {
		if err := r.Close(); err != nil {
			a.log.Debug("closing the process events socket", "err", err)
		}
	}
}

// eventsState is what the collector exports of the subscription.
func (a *agent) eventsState() metrics.ProcessEvents {
	st := metrics.ProcessEvents{Enabled: a.events.enabled.Load()}
	if r := a.events.reader; r != nil {
		s := r.Stats()
		st.Lost = s.Dropped + s.Overruns
	}
	return st
}
