package taskstats

import (
	"context"
	"os/exec"
	"strings"
	"testing"
	"time"
)

// cpuSlack is how far a record's CPU may fall short of what wait4
// reports: with CONFIG_TICK_CPU_ACCOUNTING the kernel samples user and
// system time at each tick (4 ms at HZ=250), while wait4 scales them to
// the scheduler's exact total.
const cpuSlack = 12 * time.Millisecond

// cpuStray is how far a record's sampled CPU may be from the exact used:
// cpuSlack and a fifth of used, since on a busy host the ticks a process
// is charged stray further from its run time (176 ms sampled for 156 ms
// run, and 88 ms for a thread group's 103 ms, were seen beside other test
// suites).
func cpuStray(used time.Duration) time.Duration { return cpuSlack + used/5 }

// cpuNear tells whether a record's sampled CPU got is about the exact used.
func cpuNear(got, used time.Duration) bool {
	return got >= used-cpuStray(used) && got <= used+cpuStray(used)
}

// TestLiveReaderSeesEveryExit: a Reader registered on this host delivers
// the exit records of a few short processes it starts: a shell of one
// thread that spins, with comm "sh", its pid, and about the CPU wait4
// reports for it; and the test binary burning CPU in several threads,
// whose thread group's record carries at least what it burned.
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
			if got := ev.UserCPU + ev.SystemCPU; got < goUsed-cpuStray(goUsed) {
				t.Errorf("the burner's group record: %v of CPU; wait4 said %v", got, goUsed)
			}
		case ev.Kind == Task:
			used, ok := want[ev.PID]
			if !ok {
				continue
			}
			delete(want, ev.PID)
			got := ev.UserCPU + ev.SystemCPU
			if ev.Comm != comm[ev.PID] || ev.TGID != ev.PID || !cpuNear(got, used) || got == 0 {
				t.Errorf("record %v; want comm %q and about the %v of CPU wait4 reported", ev, comm[ev.PID], used)
			}
			// Sampled by ticks, user + system time can pass the elapsed
			// time by as much as the sampling's error.
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
