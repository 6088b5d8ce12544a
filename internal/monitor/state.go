package monitor

// ProcState is the class of kernel state a process is counted in by
// procwatch_glob_states. The kernel has more letters than users alert on;
// the classes are those peers (process-exporter, Telegraf's procstat)
// report, with the rare ones folded into StateOther.
type ProcState uint8

// The states, in the order the metrics list them.
const (
	// StateRunning is R: running or runnable (waiting for a CPU).
	StateRunning ProcState = iota
	// StateSleeping is S: sleeping interruptibly, waiting for an event.
	StateSleeping
	// StateWaiting is D: sleeping uninterruptibly, usually on disk or NFS
	// I/O; a process stuck here cannot even be killed.
	StateWaiting
	// StateZombie is Z: exited and not yet reaped by its parent.
	StateZombie
	// StateOther is every other letter: T (stopped), t (stopped by a
	// tracer), I (idle kernel thread), X (dead), and any letter a future
	// kernel adds.
	StateOther
	// NumStates is the number of states, the length of GlobStats.States.
	NumStates
)

var stateNames = [NumStates]string{"running", "sleeping", "waiting", "zombie", "other"}

// String returns the state's value of the state label.
func (s ProcState) String() string {
	if s < NumStates {
		return stateNames[s]
	}
	return "other"
}

// StateOf classifies a kernel state letter (field 3 of /proc/PID/stat).
func StateOf(letter byte) ProcState {
	switch letter {
	case 'R':
		return StateRunning
	case 'S':
		return StateSleeping
	case 'D':
		return StateWaiting
	case 'Z':
		return StateZombie
	default:
		return StateOther
	}
}
