package monitor

import (
	"time"

	"golang.org/x/sys/unix"
)

// monotonic reads CLOCK_MONOTONIC, the clock the kernel stamps process
// events with (procevents.Event.Time) and exit records are received by
// (taskstats.Event.Received), so that what a scan saw can be placed among
// them.
func monotonic() time.Duration {
	var ts unix.Timespec
	if err := unix.ClockGettime(unix.CLOCK_MONOTONIC, &ts); err != nil {
		return 0
	}
	return time.Duration(ts.Nano())
}
