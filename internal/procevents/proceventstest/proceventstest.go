//go:build unix

// Package proceventstest gives benchmarks of process events what they
// share: a load generator of process starts in a process of its own, a
// bare reader of the connector (the floor any reader is measured
// against), and this process's CPU time. It does not import procevents,
// so that procevents' own tests can use it.
//
// A benchmark package using StartLoad calls MaybeRunLoad first in its
// TestMain: the generator is the test binary itself, run again.
package proceventstest

import (
	"io"
	"os"
	"os/exec"
	"strconv"
	"sync"
	"testing"
	"time"

	"golang.org/x/sys/unix"
)

// loadEnv names the environment variable that makes the test binary a
// load generator: it starts that many /bin/true per second until its
// stdin closes.
const loadEnv = "PROCEVENTSTEST_LOAD_PER_SECOND"

// maxLoad bounds a generator whose parent died without closing its stdin.
const maxLoad = 10 * time.Minute

// MaybeRunLoad runs the load generator and exits when this process was
// started as one by StartLoad; otherwise it returns at once. Call it first
// in TestMain.
func MaybeRunLoad() {
	if rate := os.Getenv(loadEnv); rate != "" {
		os.Exit(runLoad(rate))
	}
}

// StartLoad runs a load generator of perSecond process starts per second
// (/bin/true, from a process of its own so that its CPU is not this
// process's) until the benchmark or test ends.
func StartLoad(tb testing.TB, perSecond int) {
	tb.Helper()
	cmd := exec.Command(os.Args[0])
	cmd.Env = append(os.Environ(), loadEnv+"="+strconv.Itoa(perSecond))
	stdin, err := cmd.StdinPipe()
	if err != nil {
		tb.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() {
		stdin.Close()
		if err := cmd.Wait(); err != nil {
			tb.Errorf("load generator: %v (does TestMain call proceventstest.MaybeRunLoad?)", err)
		}
	})
}

func runLoad(rate string) int {
	perSecond, err := strconv.Atoi(rate)
	if err != nil || perSecond < 1 {
		return 2
	}
	stop := make(chan struct{})
	go func() {
		_, _ = io.Copy(io.Discard, os.Stdin)
		close(stop)
	}()
	// Ticks of 10 ms hand out tokens to a few workers, so that a slow
	// start does not lower the rate.
	tokens := make(chan struct{}, perSecond)
	var wg sync.WaitGroup
	for range 8 {
		wg.Go(func() {
			for range tokens {
				_ = exec.Command("/bin/true").Run()
			}
		})
	}
	tick := time.NewTicker(10 * time.Millisecond)
	end := time.After(maxLoad)
	owed := 0.0
loop:
	for {
		select {
		case <-tick.C:
			for owed += float64(perSecond) / 100; owed >= 1; owed-- {
				select {
				case tokens <- struct{}{}:
				default: // behind: the rate is a ceiling
				}
			}
		case <-stop:
			break loop
		case <-end:
			break loop
		}
	}
	tick.Stop()
	close(tokens)
	wg.Wait()
	return 0
}

// CPUTime is this process's user and system CPU so far (its threads only,
// not its children's).
func CPUTime(tb testing.TB) time.Duration {
	var ru unix.Rusage
	if err := unix.Getrusage(unix.RUSAGE_SELF, &ru); err != nil {
		tb.Fatal(err)
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}
