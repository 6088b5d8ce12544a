package procevents

import (
	"testing"

	"go.uber.org/goleak"

	"github.com/procwatch/procwatch/internal/procevents/proceventstest"
)

func TestMain(m *testing.M) {
	proceventstest.MaybeRunLoad()
	goleak.VerifyTestMain(m)
}
