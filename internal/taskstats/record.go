package taskstats

import (
	"fmt"
	"time"
)

// Kind says what an Event carries.
type Kind uint8

// The kinds of event a Reader delivers.
const (
	// Task is the exit record of one task: its pid, and what it used
	// over its life. For a single-threaded process it is the whole
	// process's.
	Task Kind = iota + 1
	// Group is the record the kernel adds when the last thread of a
	// multi-threaded process exits: the thread group's totals.
	Group
	// Lost says that records between the previous delivered event and
	// the next one are missing: Lost counts those the queue had no room
	// for, and Overrun is set when the kernel dropped an unknown number
	// because the socket's receive buffer was full.
	Lost
)

var kindNames = [...]string{Task: "task", Group: "group", Lost: "lost"}

// String returns the kind's lower-case name.
func (k Kind) String() string {
	if int(k) < len(kindNames) && kindNames[k] != "" {
		return kindNames[k]
	}
	return fmt.Sprintf("kind(%d)", uint8(k))
}

// Record is what the kernel's struct taskstats says of an exited task,
// the fields procwatch uses. Ids are those of the initial PID namespace.
type Record struct {
	// Version is the struct's version as the kernel sent it.
	Version uint16
	// PID is the task (thread) id, PPID its parent's process id. TGID is
	// the id of its process (thread group), 0 when the kernel's struct
	// predates version 13, which added it.
	PID, PPID, TGID uint32
	// UID and GID are the real user and group.
	UID, GID uint32
	// Comm is the task's comm at exit: the executable's basename as
	// execve set it (or a name prctl gave it), cut to 15 bytes.
	Comm string
	// ExitCode is the wait status.
	ExitCode uint32
	// Flags are the ac_flag bits (AFORK, ASU, ACORE, AXSIG, AGROUP).
	Flags uint8
	// BeginTime is when the task started, in seconds since 1970, as the
	// kernel computes it at exit (wall clock less Elapsed).
	BeginTime int64
	// Elapsed is the task's wall-clock life, to the microsecond.
	Elapsed time.Duration
	// UserCPU and SystemCPU are the CPU time spent in user and kernel
	// mode, to the microsecond.
	UserCPU, SystemCPU time.Duration
	// RunTime is the task's time on a CPU to the nanosecond (the
	// scheduler's sum_exec_runtime, cpu_run_virtual_total), which the
	// kernel fills in when built with CONFIG_TASK_DELAY_ACCT, whatever
	// kernel.task_delayacct says (it gates only the delays); 0 otherwise.
	// UserCPU and SystemCPU are sampled at each tick under
	// CONFIG_TICK_CPU_ACCOUNTING, so they may be off by a few ticks on an
	// idle host and by up to half or twice on a busy one; /proc/PID/stat
	// scales them to RunTime's value (cputime_adjust).
	RunTime time.Duration
	// MinorFaults and MajorFaults are its page faults.
	MinorFaults, MajorFaults uint64
	// ReadBytes and WriteBytes are the bytes it caused to be read from
	// and written to storage, as /proc/PID/io's read_bytes and
	// write_bytes; 0 without CONFIG_TASK_IO_ACCOUNTING.
	ReadBytes, WriteBytes uint64
	// VoluntarySwitches and InvoluntarySwitches are its context switches.
	VoluntarySwitches, InvoluntarySwitches uint64
	// ExeDev and ExeInode identify the executable (version 13 on), 0
	// when unknown.
	ExeDev, ExeInode uint64
}

// IsProcess reports whether the record is of a thread-group leader, as
// far as the record tells: a kernel before version 13 does not say, and
// every record counts as a leader's then.
func (r *Record) IsProcess() bool { return r.TGID == 0 || r.PID == r.TGID }

// Event is one delivery of a Reader: an exit record, or a Lost
// indication.
type Event struct {
	Kind Kind
	Record
	// Received is the CLOCK_MONOTONIC time (as procevents.Event.Time
	// counts it) at which the reader took the record off the socket: no
	// earlier than the exit, and close after it unless the reader was
	// starved. Zero for Lost.
	Received time.Duration
	// Lost is how many records the queue dropped before this Lost event.
	Lost uint64
	// Overrun is set on a Lost event when the kernel dropped records too.
	Overrun bool
}

// Started estimates when the task started on the CLOCK_MONOTONIC clock:
// Received less Elapsed. It is no earlier than the true start, and later
// by as long as the record waited in the socket.
func (e *Event) Started() time.Duration { return e.Received - e.Elapsed }

// String gives the event in one line, for logs and test failures.
func (e Event) String() string {
	if e.Kind == Lost {
		return fmt.Sprintf("lost dropped=%d overrun=%t", e.Lost, e.Overrun)
	}
	return fmt.Sprintf("%s pid=%d tgid=%d comm=%q uid=%d user=%v system=%v read=%d write=%d", e.Kind, e.PID, e.TGID, e.Comm, e.UID, e.UserCPU, e.SystemCPU, e.ReadBytes, e.WriteBytes)
}
