package monitor

import (
	"testing"

	"go.uber.org/goleak"

	"github.com/procwatch/procwatch/internal/procevents/proceventstest"
)

func TestMain(m *testing.M) {
	// The load generator of the process-events benchmark is this binary.
	proceventstest.MaybeRunLoad()
	goleak.VerifyTestMain(m)
}
