package taskstats

import (
	"os"
	"testing"
	"time"

	"go.uber.org/goleak"
)

// burnEnv makes the test binary, started with it, a child that burns the
// CPU time it names (a Duration) in user mode and exits: a short process
// of known comm ("taskstats.test") and known CPU for the live tests.
const burnEnv = "TASKSTATS_TEST_BURN"

func TestMain(m *testing.M) {
	if s := os.Getenv(burnEnv); s != "" {
		d, err := time.ParseDuration(s)
		if err != nil {
			os.Exit(2)
		}
		burn(d)
		os.Exit(0)
	}
	goleak.VerifyTestMain(m)
}
