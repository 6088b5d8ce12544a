package bench

import (
	"bytes"
	"fmt"
	"os"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"
)

// LoadSummary says how busy the machine was during a run, so that a reader
// can judge the figures: the load average, how busy the CPUs were, and the
// processes outside this run that used the most CPU.
type LoadSummary struct {
	LoadMin, LoadMean, LoadMax float64
	// Busy is the share of all CPUs' time not idle (nor iowait) over the run.
	Busy float64
	// Others are the busiest processes that are not this run's (not this
	// process nor its descendants), alive at both ends of the run, with
	// their CPU use in percent of one core.
	Others []ProcCPU
}

// ProcCPU is one process's average CPU use.
type ProcCPU struct {
	PID     int
	Comm    string
	Percent float64
}

// String is the summary as one line of the report.
func (l LoadSummary) String() string {
	s := fmt.Sprintf("load average (1 min) %.1f–%.1f, mean %.1f; all CPUs %.0f%% busy", l.LoadMin, l.LoadMax, l.LoadMean, 100*l.Busy)
	if len(l.Others) > 0 {
		var parts []string
		for _, o := range l.Others {
			parts = append(parts, fmt.Sprintf("%s %.0f%%", o.Comm, o.Percent))
		}
		s += "; busiest processes outside the run (% of one core): " + strings.Join(parts, ", ")
	}
	return s
}

// loadSampler samples /proc/loadavg every few seconds and compares
// /proc/stat and every process's CPU time between start and stop.
type loadSampler struct {
	stop chan struct{}
	done chan struct{}

	mu     sync.Mutex
	loads  []float64
	start  cpuTimes
	procs0 map[procKey]procTimes
	t0     time.Time
}

type cpuTimes struct{ busy, total uint64 }

type procKey struct {
	pid   int
	start uint64
}

type procTimes struct {
	ppid  int
	comm  string
	ticks uint64
}

func startLoadSampler(every time.Duration) *loadSampler {
	s := &loadSampler{stop: make(chan struct{}), done: make(chan struct{}), start: readCPUTimes(), procs0: readProcTimes(), t0: time.Now()}
	s.sample()
	go func() {
		defer close(s.done)
		t := time.NewTicker(every)
		defer t.Stop()
		for {
			select {
			case <-s.stop:
				return
			case <-t.C:
				s.sample()
			}
		}
	}()
	return s
}

func (s *loadSampler) sample() {
	data, err := os.ReadFile("/proc/loadavg")
	if err != nil {
		return
	}
	f := strings.Fields(string(data))
	if len(f) == 0 {
		return
	}
	if v, err := strconv.ParseFloat(f[0], 64); err == nil {
		s.mu.Lock()
		s.loads = append(s.loads, v)
		s.mu.Unlock()
	}
}

// current returns the latest 1-minute load average sampled.
func (s *loadSampler) current() float64 {
	s.mu.Lock()
	defer s.mu.Unlock()
	if len(s.loads) == 0 {
		return 0
	}
	return s.loads[len(s.loads)-1]
}

// Stop ends sampling and summarises the run.
func (s *loadSampler) Stop() LoadSummary {
	close(s.stop)
	<-s.done
	s.sample()
	end, procs1 := readCPUTimes(), readProcTimes()
	elapsed := time.Since(s.t0)

	var l LoadSummary
	s.mu.Lock()
	if len(s.loads) > 0 {
		l.LoadMin, l.LoadMax = slices.Min(s.loads), slices.Max(s.loads)
		sum := 0.0
		for _, v := range s.loads {
			sum += v
		}
		l.LoadMean = sum / float64(len(s.loads))
	}
	s.mu.Unlock()
	if d := end.total - s.start.total; d > 0 {
		l.Busy = float64(end.busy-s.start.busy) / float64(d)
	}

	self := os.Getpid()
	parent := map[int]int{}
	for k, v := range procs1 {
		parent[k.pid] = v.ppid
	}
	ours := func(pid int) bool {
		for range 64 {
			if pid == self {
				return true
			}
			p, ok := parent[pid]
			if !ok || p == 0 {
				return false
			}
			pid = p
		}
		return false
	}
	for k, v := range procs1 {
		v0, ok := s.procs0[k]
		if !ok || ours(k.pid) || v.ticks <= v0.ticks {
			continue
		}
		pct := 100 * float64(v.ticks-v0.ticks) / clockTicks / elapsed.Seconds()
		if pct >= 1 {
			l.Others = append(l.Others, ProcCPU{PID: k.pid, Comm: v.comm, Percent: pct})
		}
	}
	slices.SortFunc(l.Others, func(a, b ProcCPU) int {
		switch {
		case a.Percent > b.Percent:
			return -1
		case a.Percent < b.Percent:
			return 1
		}
		return 0
	})
	if len(l.Others) > 5 {
		l.Others = l.Others[:5]
	}
	return l
}

// readCPUTimes reads the aggregate line of /proc/stat.
func readCPUTimes() cpuTimes {
	data, err := os.ReadFile("/proc/stat")
	if err != nil {
		return cpuTimes{}
	}
	line, _, _ := bytes.Cut(data, []byte("\n"))
	f := strings.Fields(string(line))
	var c cpuTimes
	for i, v := range f[1:] {
		n, _ := strconv.ParseUint(v, 10, 64)
		c.total += n
		// user nice system idle iowait irq softirq steal ...
		if i != 3 && i != 4 && i < 8 {
			c.busy += n
		}
	}
	return c
}

// readProcTimes reads utime+stime of every process.
func readProcTimes() map[procKey]procTimes {
	out := map[procKey]procTimes{}
	entries, err := os.ReadDir("/proc")
	if err != nil {
		return out
	}
	for _, e := range entries {
		pid, err := strconv.Atoi(e.Name())
		if err != nil {
			continue
		}
		st, err := readPIDStat(pid)
		if err != nil {
			continue
		}
		out[procKey{pid, st.start}] = procTimes{ppid: st.ppid, comm: st.comm, ticks: st.utime + st.stime}
	}
	return out
}
