package bench

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"sync"
	"syscall"
	"time"
)

// sleeperCount and sleeperGroups shape the live host of sections 5 and 6:
// 2,000 real sleep processes in 50 groups, each group started through a
// symlink of its own name (pwb-g00 ... pwb-g49), which the kernel takes as
// the comm, so that 50 globs each match 40 processes.
const (
	sleeperCount  = 2000
	sleeperGroups = 50
)

// sleepers are real processes started for the live measurements. They
// sleep ten minutes at most, die with this process (PR_SET_PDEATHSIG) and
// are killed and reaped by stop.
type sleepers struct {
	dir   string
	cmds  []*exec.Cmd
	globs []string
	once  sync.Once
}

// getSleepers starts the sleepers on first use.
func (e *env) getSleepers() (*sleepers, error) {
	if e.sleepers != nil {
		return e.sleepers, nil
	}
	n := sleeperCount
	if e.cfg.Quick {
		n = 100
	}
	start := time.Now()
	s, err := startSleepers(n)
	if err != nil {
		return nil, err
	}
	e.logf("started %d sleep processes in %s", n, time.Since(start).Round(time.Millisecond))
	e.sleepers = s
	return s, nil
}

func startSleepers(n int) (*sleepers, error) {
	bin, err := exec.LookPath("sleep")
	if err != nil {
		return nil, err
	}
	dir, err := os.MkdirTemp("", "procwatch-bench-sleep-")
	if err != nil {
		return nil, err
	}
	s := &sleepers{dir: dir}
	for g := range sleeperGroups {
		name := fmt.Sprintf("pwb-g%02d", g)
		if err := os.Symlink(bin, filepath.Join(dir, name)); err != nil {
			s.stop()
			return nil, err
		}
		// The three kinds of glob: names, a wildcard name, command lines.
		switch {
		case g >= 45 && g < 49:
			s.globs = append(s.globs, fmt.Sprintf("cmdline:*/%s 600", name))
		case g == 49:
			s.globs = append(s.globs, "pwb-g49*")
		default:
			s.globs = append(s.globs, name)
		}
	}
	cmds, err := s.spawn(n)
	s.cmds = cmds
	if err != nil {
		s.stop()
		return nil, err
	}
	return s, nil
}

// spawn starts n more sleepers in the groups, the i-th in group i mod
// sleeperGroups, and returns those it started. Several at a time: on a
// busy machine, with exporters scanning a growing table, one at a time
// takes a minute for 8,000.
func (s *sleepers) spawn(n int) ([]*exec.Cmd, error) {
	cmds := make([]*exec.Cmd, n)
	err := parallel(n, 8, func(i int) error {
		cmd := exec.Command(filepath.Join(s.dir, fmt.Sprintf("pwb-g%02d", i%sleeperGroups)), "600")
		cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL}
		if err := cmd.Start(); err != nil {
			return fmt.Errorf("starting sleep process %d of %d: %w", i+1, n, err)
		}
		cmds[i] = cmd
		return nil
	})
	started := cmds[:0]
	for _, c := range cmds {
		if c != nil {
			started = append(started, c)
		}
	}
	return started, err
}

// grow starts n more sleepers in the same groups, so the same globs match
// them, and returns what kills and reaps them.
func (s *sleepers) grow(n int) (stop func(), err error) {
	cmds, err := s.spawn(n)
	stop = func() { killAll(cmds) }
	if err != nil {
		stop()
		return nil, err
	}
	return stop, nil
}

func killAll(cmds []*exec.Cmd) {
	for _, c := range cmds {
		_ = c.Process.Kill()
	}
	_ = parallel(len(cmds), 64, func(i int) error { _ = cmds[i].Wait(); return nil })
}

// stop kills and reaps every sleeper and removes the symlinks.
func (s *sleepers) stop() {
	s.once.Do(func() {
		killAll(s.cmds)
		_ = os.RemoveAll(s.dir)
	})
}
