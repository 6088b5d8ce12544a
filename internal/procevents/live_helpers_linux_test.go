package procevents

import (
	"context"
	"testing"
	"time"
)

// liveWait bounds every wait for events a test caused: far more than the
// kernel needs, so that a lost event fails the test rather than hangs it.
const liveWait = 30 * time.Second

// openLive subscribes for a test, failing with what the test needs when
// the kernel refuses.
func openLive(t testing.TB, opts ...Option) *Reader {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), liveWait)
	defer cancel()
	r, err := Open(ctx, opts...)
	if err != nil {
		t.Fatalf("process events are needed here: run the tests as root (or with CAP_NET_ADMIN) on the host, in its network, PID and user namespaces, on Linux with CONFIG_PROC_EVENTS: %v", err)
	}
	t.Cleanup(func() {
		if err := r.Close(); err != nil {
			t.Errorf("Close: %v", err)
		}
	})
	return r
}
