package procevents

import (
	"fmt"
	"os"
	"os/exec"
	"sync"
	"testing"
	"time"

	"github.com/procwatch/procwatch/internal/testutil"
)

// startBursts runs /bin/true workers×each times, workers at once, and
// returns the pids it started.
func startBursts(t *testing.T, workers, each int) map[int32]bool {
	t.Helper()
	var (
		mu   sync.Mutex
		pids = map[int32]bool{}
		wg   sync.WaitGroup
		errs = make(chan error, workers)
	)
	for range workers {
		wg.Go(func() {
			for range each {
				cmd := exec.Command("/bin/true")
				if err := cmd.Start(); err != nil {
					errs <- err
					return
				}
				mu.Lock()
				pids[int32(cmd.Process.Pid)] = true
				mu.Unlock()
				if err := cmd.Wait(); err != nil {
					errs <- err
					return
				}
			}
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Fatalf("running /bin/true: %v", err)
	}
	if len(pids) != workers*each {
		t.Fatalf("%d distinct pids for %d processes: a pid was reused within the test", len(pids), workers*each)
	}
	return pids
}

// tally counts, per pid, the process events a consumer saw.
type tally struct {
	mu                sync.Mutex
	forks, execs, exs map[int32]int
	lost              []Event
	exitCodes         map[int32]uint32
	parents           map[int32]int32
}

func newTally() *tally {
	return &tally{forks: map[int32]int{}, execs: map[int32]int{}, exs: map[int32]int{}, exitCodes: map[int32]uint32{}, parents: map[int32]int32{}}
}

func (c *tally) consume(r *Reader) {
	for e := range r.Events() {
		c.mu.Lock()
		switch e.Kind {
		case Fork:
			c.forks[e.PID]++
			c.parents[e.PID] = e.ParentTGID
		case Exec:
			c.execs[e.PID]++
		case Exit:
			c.exs[e.PID]++
			c.exitCodes[e.PID] = e.ExitCode
		case Lost:
			c.lost = append(c.lost, e)
		}
		c.mu.Unlock()
	}
}

// of counts the events of the given pids: how many pids had exactly one
// fork, exec and exit, and what else was seen.
func (c *tally) of(pids map[int32]bool) (complete int, seen string) {
	c.mu.Lock()
	defer c.mu.Unlock()
	var forks, execs, exits, odd int
	for pid := range pids {
		forks += c.forks[pid]
		execs += c.execs[pid]
		exits += c.exs[pid]
		if c.forks[pid] == 1 && c.execs[pid] == 1 && c.exs[pid] == 1 {
			complete++
		} else if c.forks[pid] > 1 || c.execs[pid] > 1 || c.exs[pid] > 1 {
			odd++
		}
	}
	return complete, fmt.Sprintf("%d forks, %d execs, %d exits of %d pids (%d pids with repeats); %d Lost events", forks, execs, exits, len(pids), odd, len(c.lost))
}

// Every one of 1,000 short processes started in bursts is seen to fork,
// exec and exit exactly once, with nothing lost, at the default sizes.
func TestLiveThousandProcesses(t *testing.T) {
	r := openLive(t)
	c := newTally()
	done := make(chan struct{})
	go func() { defer close(done); c.consume(r) }()

	pids := startBursts(t, 10, 100)
	testutil.EventuallySaying(t, liveWait, "an exec and an exit of each of the 1,000 processes", func() (bool, string) {
		complete, seen := c.of(pids)
		return complete == len(pids), seen
	})
	r.Close()
	<-done
	if complete, seen := c.of(pids); complete != 1000 {
		t.Fatalf("want exactly one fork, exec and exit of each of 1,000 processes; saw %s", seen)
	}
	for pid := range pids {
		if c.exitCodes[pid] != 0 || c.parents[pid] != int32(os.Getpid()) {
			t.Fatalf("process %d: exit code %#x, parent %d; want a clean exit and this test as its parent", pid, c.exitCodes[pid], c.parents[pid])
		}
	}
	st := r.Stats()
	if len(c.lost) != 0 || st.Dropped != 0 || st.Overruns != 0 || st.Malformed != 0 || st.Errors != 0 {
		t.Fatalf("losses at the default sizes: Lost events %v, stats %+v", c.lost, st)
	}
	t.Logf("stats %+v", st)
}

// A burst into a tiny queue that nobody reads does not hold the reader up:
// it drains the socket on, drops and counts what does not fit, and the
// consumer, when it comes back, finds a Lost event that accounts for every
// dropped event before any later one.
func TestLiveBurstIntoATinyQueue(t *testing.T) {
	const queue = 4
	r := openLive(t, WithQueueSize(queue))
	pids := startBursts(t, 4, 50)
	// The reader drains the socket while nobody reads the queue: it sees
	// the 600 events of the burst and keeps only 4.
	testutil.EventuallySaying(t, liveWait, "the reader to read the burst's events with the queue full", func() (bool, string) {
		st := r.Stats()
		return st.Dropped >= uint64(3*len(pids)-queue), fmt.Sprintf("%+v", st)
	})
	for range queue {
		if e := <-r.Events(); e.Kind == Lost {
			t.Fatalf("a Lost event among the first %d, queued before the queue was full: %v", queue, e)
		}
	}
	// The next process's fork finds room, after the Lost event.
	after := startBursts(t, 1, 1)
	var lost uint64
	for {
		e := next(t, r)
		if e.Kind == Lost {
			// Other processes of the host fork too: while this loop
			// drains, the tiny queue may fill again, and a further Lost
			// event then accounts for what was dropped since.
			if e.Lost == 0 && !e.Overrun {
				t.Fatalf("a Lost event %v that accounts for nothing", e)
			}
			lost += e.Lost
			continue
		}
		if e.IsProcess() && after[e.PID] {
			if lost == 0 {
				t.Fatalf("%v came before the Lost event", e)
			}
			break
		}
		if lost == 0 {
			t.Fatalf("event %v before the Lost event, with the queue drained", e)
		}
	}
	st := r.Stats()
	if lost < uint64(3*len(pids)-queue) || st.Dropped < lost {
		t.Fatalf("Lost event counted %d dropped, stats %+v; want at least the %d events that did not fit", lost, st, 3*len(pids)-queue)
	}
	t.Logf("Lost event: %d dropped; stats %+v", lost, st)
}

// next waits for the reader's next event, failing the test after liveWait.
func next(t *testing.T, r *Reader) Event {
	t.Helper()
	select {
	case e, ok := <-r.Events():
		if !ok {
			t.Fatalf("the reader ended: %v", r.Err())
		}
		return e
	case <-time.After(liveWait):
		t.Fatalf("no event within %v; stats %+v", liveWait, r.Stats())
	}
	panic("unreachable")
}
