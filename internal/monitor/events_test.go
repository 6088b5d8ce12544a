package monitor

import (
	"context"
	"testing"

	"github.com/procwatch/procwatch/internal/pattern"
	"github.com/procwatch/procwatch/internal/procevents"
)

// eventSource is a fakeSource that can also read one process, from
// alive: the processes /proc would show at an exec.
type eventSource struct {
	fakeSource
	alive map[int]Proc
}

func (s *eventSource) ReadIdentity(ctx context.Context, pid int, need pattern.Kinds) (Proc, bool, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	p, ok := s.alive[pid]
	return p, ok, nil
}

func startsExitsOf(t *testing.T, m *Monitor) [2]uint64 {
	t.Helper()
	res, ok := m.Latest()
	if !ok || len(res.Globs) == 0 {
		t.Fatal("no result")
	}
	return [2]uint64{res.Globs[0].Starts, res.Globs[0].Exits}
}

// TestHandleEventCountsBetweenScans: an exec into a match and its exit
// show in Latest at once, with no scan, and the scans that follow count
// neither again; an exec whose process is gone is counted as unidentified.
func TestHandleEventCountsBetweenScans(t *testing.T) {
	ctx := context.Background()
	src := &eventSource{alive: map[int]Proc{10: proc(10, "nginx", 0), 11: proc(11, "sshd", 0)}}
	m := New(src)
	if _, err := m.SetGlobs(ctx, []string{"nginx"}); err != nil {
		t.Fatal(err)
	}
	scans := src.scans
	for _, ev := range []procevents.Event{
		{Kind: procevents.Exec, PID: 10, TGID: 10},
		{Kind: procevents.Exec, PID: 11, TGID: 11}, // matches nothing
		{Kind: procevents.Exec, PID: 12, TGID: 12}, // gone before it was read
		{Kind: procevents.Exec, PID: 13, TGID: 10}, // another thread: not a process
	} {
		if err := m.HandleEvent(ctx, ev); err != nil {
			t.Fatal(err)
		}
	}
	if got := startsExitsOf(t, m); got != [2]uint64{1, 0} {
		t.Errorf("after the execs [starts exits] = %v, want [1 0]", got)
	}
	src.set(proc(10, "nginx", 2)) // the next scan sees it running
	if _, err := m.Scan(ctx); err != nil {
		t.Fatal(err)
	}
	if err := m.HandleEvent(ctx, procevents.Event{Kind: procevents.Exit, PID: 10, TGID: 10}); err != nil {
		t.Fatal(err)
	}
	if got := startsExitsOf(t, m); got != [2]uint64{1, 1} {
		t.Errorf("after the exit [starts exits] = %v, want [1 1]", got)
	}
	src.set()
	if _, err := m.Scan(ctx); err != nil {
		t.Fatal(err)
	}
	if got := startsExitsOf(t, m); got != [2]uint64{1, 1} {
		t.Errorf("after a scan without it [starts exits] = %v, want [1 1]", got)
	}
	if src.scans != scans+2 {
		t.Errorf("%d scans, want only the 2 of the test: the events scanned", src.scans-scans)
	}
	if st := m.Stats(); st.EventsUnidentified != 1 || st.EventRescans != 0 {
		t.Errorf("EventsUnidentified %d EventRescans %d, want 1 and 0", st.EventsUnidentified, st.EventRescans)
	}
}

// TestHandleEventLostRescans: a Lost event scans at once, so that what
// the lost events would have told is rebuilt from /proc, and is counted.
func TestHandleEventLostRescans(t *testing.T) {
	ctx := context.Background()
	src := &eventSource{}
	m := New(src)
	if _, err := m.SetGlobs(ctx, []string{"nginx"}); err != nil {
		t.Fatal(err)
	}
	src.set(proc(20, "nginx", 1)) // started while events were lost
	scans := src.scans
	if err := m.HandleEvent(ctx, procevents.Event{Kind: procevents.Lost, Lost: 7}); err != nil {
		t.Fatal(err)
	}
	if src.scans != scans+1 {
		t.Errorf("a Lost event made %d scans, want 1", src.scans-scans)
	}
	if got := startsExitsOf(t, m); got != [2]uint64{1, 0} {
		t.Errorf("[starts exits] = %v, want [1 0] from the rescan", got)
	}
	if st := m.Stats(); st.EventRescans != 1 {
		t.Errorf("EventRescans %d, want 1", st.EventRescans)
	}
}
