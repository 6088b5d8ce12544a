package bench

import (
	"bytes"
	"errors"
	"fmt"
	"os"
	"strconv"
	"strings"
	"time"

	"golang.org/x/sys/unix"
)

// clockTicks is USER_HZ, the unit of the CPU times in /proc/PID/stat. It is
// 100 on every Linux architecture Go supports.
const clockTicks = 100

// pidStat holds the fields of /proc/PID/stat this package uses.
type pidStat struct {
	comm         string
	ppid         int
	utime, stime uint64 // clock ticks
	start        uint64 // clock ticks since boot
	rssPages     uint64
}

// readPIDStat reads /proc/PID/stat.
func readPIDStat(pid int) (pidStat, error) {
	data, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/stat")
	if err != nil {
		return pidStat{}, err
	}
	return parsePIDStat(data)
}

func parsePIDStat(data []byte) (pidStat, error) {
	open, close := bytes.IndexByte(data, '('), bytes.LastIndexByte(data, ')')
	if open < 0 || close < open {
		return pidStat{}, errors.New("bench: malformed stat")
	}
	// Fields after the comm, from field 3 (state) on.
	f := strings.Fields(string(data[close+1:]))
	if len(f) < 22 {
		return pidStat{}, errors.New("bench: short stat")
	}
	num := func(i int) uint64 { n, _ := strconv.ParseUint(f[i-3], 10, 64); return n }
	return pidStat{
		comm:     string(data[open+1 : close]),
		ppid:     int(num(4)),
		utime:    num(14),
		stime:    num(15),
		start:    num(22),
		rssPages: num(24),
	}, nil
}

// selfStatCPU is this process's CPU time as /proc/self/stat reports it, in
// clock ticks (10 ms): what an operator's tools see.
func selfStatCPU() (time.Duration, error) {
	st, err := readPIDStat(os.Getpid())
	if err != nil {
		return 0, err
	}
	return time.Duration(st.utime+st.stime) * (time.Second / clockTicks), nil
}

// processCPU is this process's CPU time, all threads, with nanosecond
// resolution (CLOCK_PROCESS_CPUTIME_ID): unlike a thread clock it includes
// the garbage collector's work on other threads.
func processCPU() time.Duration {
	var ts unix.Timespec
	if err := unix.ClockGettime(unix.CLOCK_PROCESS_CPUTIME_ID, &ts); err != nil {
		panic(fmt.Sprintf("bench: CLOCK_PROCESS_CPUTIME_ID: %v", err))
	}
	return time.Duration(ts.Nano())
}

// procUsage samples another process's CPU time and resident memory.
type procUsage struct {
	cpu time.Duration
	rss uint64 // bytes
}

// readProcUsage reads the CPU time (clock ticks) and VmRSS of pid.
func readProcUsage(pid int) (procUsage, error) {
	st, err := readPIDStat(pid)
	if err != nil {
		return procUsage{}, err
	}
	u := procUsage{cpu: time.Duration(st.utime+st.stime) * (time.Second / clockTicks)}
	status, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/status")
	if err != nil {
		return procUsage{}, err
	}
	for line := range strings.SplitSeq(string(status), "\n") {
		if v, ok := strings.CutPrefix(line, "VmRSS:"); ok {
			kb, _ := strconv.ParseUint(strings.TrimSuffix(strings.TrimSpace(v), " kB"), 10, 64)
			u.rss = kb << 10
		}
	}
	return u, nil
}
