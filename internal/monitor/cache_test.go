package monitor

import "testing"

func TestProcCacheEviction(t *testing.T) {
	var c procCache
	scan := func(pids ...int32) {
		c.begin()
		for _, pid := range pids {
			e, stale := c.lookup(pid, 1, []byte("x"))
			if stale {
				e.setIdentity("x", "", nil)
			}
		}
		c.end()
	}
	all := make([]int32, 100)
	for i := range all {
		all[i] = int32(i + 1)
	}
	scan(all...)
	scan(all...)
	if len(c.entries) != 100 {
		t.Fatalf("%d entries, want 100", len(c.entries))
	}
	// One exit in 100 is not worth a walk over the map...
	scan(all[1:]...)
	if len(c.entries) != 100 {
		t.Errorf("after one exit: %d entries, want the dead one kept for now", len(c.entries))
	}
	// ...but many are,
	scan(all[10:]...)
	if len(c.entries) != 90 {
		t.Errorf("after ten exits: %d entries, want 90", len(c.entries))
	}
	// and a few are evicted after 16 scans at most.
	for range 16 {
		scan(all[11:]...)
	}
	if len(c.entries) != 89 {
		t.Errorf("after 16 scans: %d entries, want 89", len(c.entries))
	}
	// A dead entry left in place does not stand for a new process with its
	// pid.
	scan(all[12:]...)
	c.begin()
	if e, stale := c.lookup(12, 2, []byte("x")); !stale || e.reads != 0 {
		t.Errorf("reused pid: stale %v, entry %+v; want a fresh entry", stale, e)
	}
}

func TestProcCacheIdentityRereads(t *testing.T) {
	var c procCache
	sight := func(comm string) bool {
		c.begin()
		e, stale := c.lookup(7, 1, []byte(comm))
		if stale {
			e.setIdentity(comm, "", nil)
		}
		c.end()
		return stale
	}
	got := []bool{sight("bash"), sight("bash"), sight("bash"), sight("sleep"), sight("sleep")}
	want := []bool{true, true, false, true, false}
	for i := range want {
		if got[i] != want[i] {
			t.Errorf("sighting %d: identity read %v, want %v (all: %v)", i+1, got[i], want[i], got)
		}
	}
}
