package procevents

import (
	"os"
	"testing"

	"go.uber.org/goleak"
)

func TestMain(m *testing.M) {
	if rate := os.Getenv(loadChild); rate != "" {
		os.Exit(runLoadChild(rate))
	}
	goleak.VerifyTestMain(m)
}
