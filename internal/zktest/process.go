package zktest

import (
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"runtime"
	"syscall"
	"time"
)

// process is one running JVM.
type process struct {
	proc *os.Process
	done chan struct{} // closed once the JVM has exited and been reaped
	err  error         // the result of Wait; read it only after done is closed
}

// startProcess starts argv with its output going to out, and closes out once
// the process has exited.
//
// The child must die with the test binary, whatever way the binary ends: a
// failed test, a panic, `go test -timeout`, a SIGKILL from CI. t.Cleanup and
// Close cover the orderly exits only. For the rest the kernel helps:
// Pdeathsig=SIGKILL asks it to kill the child when its parent dies. But Linux
// means the parent *thread*, the one that forked, not the process; and the Go
// runtime ends a thread when a goroutine exits while locked to it (another
// package's LockOSThread would do). Forked from an arbitrary goroutine, a
// server could therefore be killed in the middle of a test. So the child is
// forked by a goroutine that locks itself to its thread and stays there,
// blocked in Wait, for as long as the child lives: no other goroutine can run
// on that thread, so it ends only when the whole process does. The goroutine
// returns still locked once the child is gone, which retires the thread; that
// is harmless and keeps the rule simple.
//
// Setpgid gives the JVM its own process group, so a Ctrl-C at the terminal
// reaches only the test binary, whose cleanups then stop the servers in order,
// instead of every server dying under a test that is still asserting on them.
func startProcess(argv []string, dir string, out io.WriteCloser) (*process, error) {
	p := &process{done: make(chan struct{})}
	started := make(chan error, 1)
	go func() {
		runtime.LockOSThread() // never unlocked, see above
		cmd := exec.Command(argv[0], argv[1:]...)
		cmd.Dir = dir
		cmd.Stdout = out
		cmd.Stderr = out
		cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true, Pdeathsig: syscall.SIGKILL}
		if err := cmd.Start(); err != nil {
			out.Close()
			started <- err
			return
		}
		p.proc = cmd.Process
		started <- nil
		p.err = cmd.Wait()
		out.Close()
		close(p.done)
	}()
	if err := <-started; err != nil {
		return nil, err
	}
	return p, nil
}

// exited reports whether the process has exited.
func (p *process) exited() bool {
	select {
	case <-p.done:
		return true
	default:
		return false
	}
}

// kill sends SIGKILL and waits until the process has been reaped, so that its
// ports and files are free when kill returns. os.Process signals through a
// pidfd, so a process that already exited cannot be confused with a new one
// that got the same PID.
func (p *process) kill() error {
	if err := p.proc.Signal(syscall.SIGKILL); err != nil && !errors.Is(err, os.ErrProcessDone) {
		// Waiting would hang forever on a process that cannot be killed.
		return fmt.Errorf("zktest: SIGKILL pid %d: %w", p.proc.Pid, err)
	}
	<-p.done
	return nil
}

// stop sends SIGTERM, which lets the JVM run its shutdown hooks, and falls
// back to SIGKILL when the process is still there after grace.
func (p *process) stop(grace time.Duration) error {
	if err := p.proc.Signal(syscall.SIGTERM); err != nil && !errors.Is(err, os.ErrProcessDone) {
		return p.kill()
	}
	t := time.NewTimer(grace)
	defer t.Stop()
	select {
	case <-p.done:
		return nil
	case <-t.C:
		return p.kill()
	}
}
