package zkstate

import (
	"strings"
	"testing"
	"time"
)

// TestValueAtTheSizeLimitRoundTrips: the client's send and receive buffers
// start small and grow to what a packet needs, so a value just under the
// payload limit is written through the lock and the multi, and read back
// whole by another session, watch and all.
func TestValueAtTheSizeLimitRoundTrips(t *testing.T) {
	zks := startZK(t)
	writer := createStore(t, newSession(t, zks.ConnectString()), testRoot, noEmptyGlobs{Globs: []string{"a"}})
	reader := createStore(t, newSession(t, zks.ConnectString()), testRoot, noEmptyGlobs{Globs: []string{"a"}})
	ctx := testCtx(t, 20*time.Second)

	// {"globs":["x…x"]} is 14 bytes more than the glob.
	big := strings.Repeat("x", DefaultMaxPayloadSize-14)
	v, err := writer.Update(ctx, func(c *noEmptyGlobs) error {
		c.Globs = []string{big}
		return nil
	})
	if err != nil {
		t.Fatalf("Update of a value of %d bytes: %v", DefaultMaxPayloadSize, err)
	}
	snap, err := reader.ConsistentRead(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if snap.Version != v || len(snap.Value.Globs) != 1 || snap.Value.Globs[0] != big {
		t.Fatalf("read back version %d with %d globs; want version %d with the %d-byte glob", snap.Version, len(snap.Value.Globs), v, len(big))
	}
	// And back to a small value on the same, now grown, buffers.
	if _, err := writer.Update(ctx, func(c *noEmptyGlobs) error {
		c.Globs = []string{"b"}
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	if snap, err := reader.ConsistentRead(ctx); err != nil || len(snap.Value.Globs) != 1 || snap.Value.Globs[0] != "b" {
		t.Fatalf("after shrinking: %+v, %v", snap.Value, err)
	}
}
