package procevents

import (
	"io"
	"os"
	"os/exec"
	"strconv"
	"sync"
	"time"
)

// loadChild names the environment variable that makes the test binary a
// load generator: it starts that many /bin/true per second, from a process
// of its own so that its CPU is not the reader's, until its stdin closes.
const loadChild = "PROCEVENTS_TEST_LOAD_PER_SECOND"

// maxLoad bounds a generator whose parent died without closing its stdin.
const maxLoad = 10 * time.Minute

func runLoadChild(rate string) int {
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
