//go:build unix

package procevents

import "testing"

func TestExitStatus(t *testing.T) {
	e := Event{Kind: Exit, ExitCode: 3 << 8}
	if s := e.Status(); !s.Exited() || s.ExitStatus() != 3 {
		t.Errorf("status of exit code %#x: exited %t status %d; want exit status 3", e.ExitCode, s.Exited(), s.ExitStatus())
	}
	e.ExitCode = 9
	if s := e.Status(); !s.Signaled() || s.Signal() != 9 {
		t.Errorf("status of exit code %#x: signaled %t signal %d; want killed by signal 9", e.ExitCode, s.Signaled(), s.Signal())
	}
}
