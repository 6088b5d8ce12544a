package procevents_test

import (
	"context"
	"log/slog"

	"github.com/procwatch/procwatch/internal/procevents"
)

// A consumer counts process starts and exits exactly, and rescans /proc
// when told events were lost. Without the events it says why once and
// samples instead.
func ExampleOpen() {
	r, err := procevents.Open(context.Background())
	if err != nil {
		slog.Info("process events off, sampling /proc", "reason", err)
		return
	}
	defer r.Close()
	var starts, exits, rescans int
	for e := range r.Events() {
		switch {
		case e.Kind == procevents.Lost:
			rescans++ // a full scan of /proc rebuilds what the gap hid
		case e.Kind == procevents.Exec && e.IsProcess():
			starts++ // read /proc/<e.PID> now, while the process lives
		case e.Kind == procevents.Exit && e.IsProcess():
			exits++
		}
	}
	_, _, _ = starts, exits, rescans
}
