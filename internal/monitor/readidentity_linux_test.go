package monitor

import (
	"context"
	"strings"
	"testing"

	"github.com/procwatch/procwatch/internal/monitor/proctest"
	"github.com/procwatch/procwatch/internal/pattern"
)

// TestReadIdentity reads live processes as an exec event does: a name
// longer than the kernel's 15-byte comm comes out whole, the executable
// and command line are there when a glob kind asks for them, a process
// that is gone is not found, and a read never waits for a scan's lock.
func TestReadIdentity(t *testing.T) {
	ctx := context.Background()
	src, err := NewLinuxSource("")
	if err != nil {
		t.Fatal(err)
	}
	long := "pwident-long-sleeper-name"
	short := "pwidshort"
	dir := t.TempDir()
	longCmds, _ := proctest.Start(t, proctest.SleeperIn(t, dir, long), 1)
	shortCmds, _ := proctest.Start(t, proctest.SleeperIn(t, dir, short), 1)

	src.mu.Lock() // as a scan in progress holds it
	defer src.mu.Unlock()
	p, found, err := src.ReadIdentity(ctx, longCmds[0].Process.Pid, pattern.KindsOf(pattern.Name))
	if err != nil || !found {
		t.Fatalf("ReadIdentity of a live process: found %v, %v", found, err)
	}
	if p.Name != long || len(p.Comm) != 15 || p.StartTicks == 0 {
		t.Errorf("long name: Name %q Comm %q StartTicks %d, want %q, its 15-byte comm and a start", p.Name, p.Comm, p.StartTicks, long)
	}
	p, _, _ = src.ReadIdentity(ctx, shortCmds[0].Process.Pid, pattern.KindsOf(pattern.Name))
	if p.Name != short || p.Exe != "" || p.Cmdline != nil {
		t.Errorf("short name, name globs only: Name %q Exe %q Cmdline %q, want %q and nothing read", p.Name, p.Exe, p.Cmdline, short)
	}
	p, _, _ = src.ReadIdentity(ctx, shortCmds[0].Process.Pid, pattern.KindsOf(pattern.Exe, pattern.Cmdline))
	if !strings.HasSuffix(p.Exe, "/"+short) || len(p.Cmdline) != 2 || p.Cmdline[1] != "300" {
		t.Errorf("with path and cmdline globs: Exe %q Cmdline %q", p.Exe, p.Cmdline)
	}
	if _, found, err := src.ReadIdentity(ctx, 1<<22+12345, pattern.KindsOf(pattern.Name)); found || err != nil {
		t.Errorf("a pid above pid_max: found %v, %v; want not found, no error", found, err)
	}
}
