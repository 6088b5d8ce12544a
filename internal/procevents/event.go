package procevents

import (
	"fmt"
	"time"
)

// Kind says what happened to a process, or that events were lost.
type Kind uint8

// The kinds of event a Reader delivers. The kernel reports more (uid, gid,
// sid, ptrace, coredump changes); the decoder names them Other and the
// reader does not queue them, since no process is started or ended by them.
const (
	// Other is a connector event of a kind this package does not deliver.
	Other Kind = iota
	// Fork is a new task: PID and TGID are the child's, ParentPID and
	// ParentTGID the task that forked it. A new process has PID == TGID;
	// a new thread has the TGID of its process.
	Fork
	// Exec is a successful execve: the process now runs a new program.
	// The kernel reports it for the thread-group leader (PID == TGID),
	// also when another thread called execve.
	Exec
	// Exit is a task's exit. ExitCode is its wait status; for the exit of
	// a thread-group leader, ParentPID and ParentTGID are its parent.
	Exit
	// Comm is a change of the task's comm (prctl PR_SET_NAME, or execve
	// setting it from the file name); Comm holds the new value.
	Comm
	// Lost says that events between the previous delivered event and the
	// next one are missing: Lost counts the ones the queue had no room
	// for, and Overrun is set when the kernel dropped an unknown number
	// because the socket's receive buffer was full. A consumer that keeps
	// state from events must rebuild it (a full scan of /proc).
	Lost
	// ack is the kernel's answer to a subscription request; the reader
	// consumes it and never delivers it.
	ack
)

var kindNames = [...]string{Other: "other", Fork: "fork", Exec: "exec", Exit: "exit", Comm: "comm", Lost: "lost", ack: "ack"}

// String returns the kind's lower-case name.
func (k Kind) String() string {
	if int(k) < len(kindNames) {
		return kindNames[k]
	}
	return fmt.Sprintf("kind(%d)", uint8(k))
}

// Event is one process event. Which fields are set depends on Kind; the
// process ids are those of the initial PID namespace, as /proc shows them
// on the host.
type Event struct {
	Kind Kind
	// Time is the kernel's CLOCK_MONOTONIC at the event: time since boot,
	// not counting suspend. Zero for Lost.
	Time time.Duration
	// CPU is the CPU the event was reported on.
	CPU uint32
	// PID and TGID are the task the event is about (for Fork, the child).
	PID, TGID int32
	// ParentPID and ParentTGID are the parent, for Fork and Exit.
	ParentPID, ParentTGID int32
	// Comm is the task's new comm, for Comm: at most 15 bytes, as the
	// kernel keeps it.
	Comm string
	// ExitCode is the wait status of an Exit (see syscall.WaitStatus).
	ExitCode uint32
	// ExitSignal is the signal the parent is sent at an Exit (SIGCHLD for
	// a process, normally 0 for a thread); it is not the signal that
	// killed the task, which ExitCode holds.
	ExitSignal uint32
	// Lost is how many events the queue dropped before this Lost event.
	Lost uint64
	// Overrun is set on a Lost event when the kernel dropped events too.
	Overrun bool
}

// IsProcess reports whether the event concerns a process rather than one
// of its other threads: the thread-group leader (PID == TGID). A process
// is started by a Fork that IsProcess and a later Exec, and is gone at the
// Exit that IsProcess; forks and exits of its other threads say nothing
// about the process. Lost events are never about a process.
func (e Event) IsProcess() bool {
	switch e.Kind {
	case Fork, Exec, Exit, Comm:
		return e.PID == e.TGID
	}
	return false
}

// String gives the event in one line, for logs and test failures.
func (e Event) String() string {
	switch e.Kind {
	case Fork:
		return fmt.Sprintf("fork pid=%d tgid=%d parent=%d/%d", e.PID, e.TGID, e.ParentPID, e.ParentTGID)
	case Exec:
		return fmt.Sprintf("exec pid=%d tgid=%d", e.PID, e.TGID)
	case Exit:
		return fmt.Sprintf("exit pid=%d tgid=%d code=%#x signal=%d parent=%d/%d", e.PID, e.TGID, e.ExitCode, e.ExitSignal, e.ParentPID, e.ParentTGID)
	case Comm:
		return fmt.Sprintf("comm pid=%d tgid=%d comm=%q", e.PID, e.TGID, e.Comm)
	case Lost:
		return fmt.Sprintf("lost dropped=%d overrun=%t", e.Lost, e.Overrun)
	}
	return fmt.Sprintf("%s pid=%d tgid=%d", e.Kind, e.PID, e.TGID)
}
