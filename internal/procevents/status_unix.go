//go:build unix

package procevents

import "syscall"

// Status returns the wait status of an Exit, to ask whether the process
// exited normally (Exited, ExitStatus) or was killed (Signaled, Signal).
func (e Event) Status() syscall.WaitStatus {
	return syscall.WaitStatus(e.ExitCode)
}
