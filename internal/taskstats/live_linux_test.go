package taskstats

import (
	"context"
	"os/exec"
	"strings"
	"testing"
	"time"
)

// cpuSlack is a few ticks (4 ms each at HZ=250): what a record's CPU may
// be off by on an idle host, and what the exit's own teardown, which runs
// after the record is taken, adds to wait4's total.
const cpuSlack = 12 * time.Millisecond

// cpuNear tells whether a record's tick-sampled CPU got is about the exact
// used. Under CONFIG_TICK_CPU_ACCOUNTING each tick charges a whole tick to
// the task running at it, so on a busy host a task that is preempted at
// ticks and resumes between them is charged up to twice its run time, and
// one woken and preempted between ticks can be charged little (176 ms
// sampled for 156 ms run, 140 ms for 106 ms, and 88 ms for a thread
// group's 103 ms were seen beside other test suites on 2 cores).
func cpuNear(got, used time.Duration) bool {
	return got > 0 && got >= used/2-cpuSlack && got <= 2*used+cpuSlack
}

// TestLiveReaderSeesEveryExit: a Reader registered on this host delivers
// the exit records of a few short processes it starts: a shell of one
// thread that spins, with comm "sh", its pid, and about the CPU wait4
// reports for it, and its exact run time; and the test binary burning CPU
// in several threads, whose thread group's record carries about what it
// burned.
func TestLiveReaderSeesEveryExit(t *testing.T) {
	r, err := Open(context.Background())
	if err != nil {
		t.Fatalf("exit records are needed here: run the tests as root on the host, on a kernel with CONFIG_TASKSTATS: %v", err)
	}
	defer r.Close()

	want := map[uint32]time.Duration{}
	comm := map[uint32]string{}
	for range 3 {
		sh := exec.Command("/bin/sh", "-c", "i=0; while [ $i -lt 100000 ]; do i=$((i+1)); done")
		if err := sh.Run(); err != nil {
			t.Fatal(err)
		}
		pid := uint32(sh.Process.Pid)
		want[pid] = sh.ProcessState.UserTime() + sh.ProcessState.SystemTime()
		comm[pid] = "sh"
	}
	goPID, goUsed := runBurner(t, 100*time.Millisecond)

	ctx, cancel := context.WithTimeout(context.Background(), liveWait)
	defer cancel()
	seenGroup := false
	for (len(want) > 0 || !seenGroup) && ctx.Err() == nil {
		var ev Event
		select {
		case ev = <-r.Events():
		case <-ctx.Done():
			continue
		}
		switch {
		case ev.Kind == Lost:
			t.Fatalf("records lost on a quiet host: %v", ev)
		case ev.Kind == Task && ev.PID != ev.TGID:
			t.Fatalf("a thread's record was delivered: %v", ev)
		case ev.Kind == Group && ev.TGID == goPID:
			seenGroup = true
			if got := ev.UserCPU + ev.SystemCPU; !cpuNear(got, goUsed) {
				t.Errorf("the burner's group record: %v of CPU; wait4 said %v", got, goUsed)
			}
		case ev.Kind == Task:
			used, ok := want[ev.PID]
			if !ok {
				continue
			}
			delete(want, ev.PID)
			got := ev.UserCPU + ev.SystemCPU
			if ev.Comm != comm[ev.PID] || ev.TGID != ev.PID || !cpuNear(got, used) {
				t.Errorf("record %v; want comm %q and about the %v of CPU wait4 reported", ev, comm[ev.PID], used)
			}
			// RunTime, what the agent counts, is exact: wait4's total
			// (which scales the sampled times to it) less the exit's
			// teardown after the record, 0.5-4.4 ms here; wait4 reports
			// to the microsecond. The kernel fills it in when built with
			// CONFIG_TASK_DELAY_ACCT, whatever kernel.task_delayacct says.
			if ev.RunTime < used-cpuSlack || ev.RunTime > used+time.Microsecond {
				t.Errorf("record %v: RunTime %v, want the %v wait4 reported less at most %v of teardown (a kernel with CONFIG_TASK_DELAY_ACCT)", ev, ev.RunTime, used, cpuSlack)
			}
			// A task is charged at most the ticks of its life, so its
			// sampled time passes its elapsed time by a tick at most.
			if ev.Started() > ev.Received || ev.Elapsed+cpuSlack < got {
				t.Errorf("record %v: started %v, received %v", ev, ev.Started(), ev.Received)
			}
		}
	}
	if len(want) > 0 || !seenGroup {
		t.Fatalf("no record within %v of %d shells (group record of the burner seen: %t)", liveWait, len(want), seenGroup)
	}
	if s := r.Stats(); s.Malformed != 0 || s.Dropped != 0 || s.Overruns != 0 || s.ReadBuffer < 4<<20 {
		t.Errorf("stats %+v", s)
	}
	if err := r.Close(); err != nil {
		t.Errorf("Close: %v", err)
	}
	for range r.Events() {
	}
	if r.Err() != nil {
		t.Errorf("Err after Close: %v", r.Err())
	}
}

// TestLiveOpenExplainsTheMask: a CPU list the kernel would not take is
// refused before any socket is opened, naming the file.
func TestLiveOpenExplainsTheMask(t *testing.T) {
	path := t.TempDir() + "/possible"
	if err := writeFile(path, "0-x\n"); err != nil {
		t.Fatal(err)
	}
	_, err := Open(context.Background(), withCPUPossible(path))
	if err == nil || !strings.Contains(err.Error(), path) {
		t.Fatalf("Open with a bad CPU list: %v", err)
	}
}
