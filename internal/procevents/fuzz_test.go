package procevents

import (
	"errors"
	"testing"
)

// FuzzDecode: no input makes Decode panic, every failure wraps
// ErrMalformed, and what it accepts is a delivered kind with real ids.
// Seeds are hand-built below and captured from the kernel in
// testdata/fuzz/FuzzDecode (see TestDecodeCapturedMessages).
func FuzzDecode(f *testing.F) {
	f.Add(procMsg(procEventFork, 10, 10, 11, 11))
	f.Add(procMsg(procEventExec, 11, 11))
	f.Add(procMsg(procEventExit, 11, 11, 9, 17, 10, 10))
	f.Add(commMsg(11, 11, "sshd"))
	f.Add(procMsg(procEventNone, 0))
	f.Add(procMsg(0x40000000, 11, 11, 10, 10))
	f.Add([]byte{})
	f.Fuzz(func(t *testing.T, b []byte) {
		e, err := Decode(b)
		if err != nil {
			if !errors.Is(err, ErrMalformed) {
				t.Fatalf("Decode error %v does not wrap ErrMalformed", err)
			}
			if e != (Event{}) {
				t.Fatalf("Decode returned %v beside error %v", e, err)
			}
			return
		}
		switch e.Kind {
		case Fork, Exec, Exit, Comm:
			if e.PID <= 0 || e.TGID <= 0 {
				t.Fatalf("Decode accepted %v", e)
			}
			if len(e.Comm) >= commLen {
				t.Fatalf("comm %q longer than the kernel keeps", e.Comm)
			}
		case Other:
		default:
			t.Fatalf("Decode gave kind %v", e.Kind)
		}
	})
}
