//go:build !linux

package monitor

import "time"

// monotonic is 0 where the kernel sends no process events to place a
// scan among.
func monotonic() time.Duration { return 0 }
