package taskstats

import (
	"errors"
	"testing"
)

// FuzzDecode: no input makes Decode panic, every failure wraps
// ErrMalformed, and what it accepts has a task record with a comm the
// kernel could have kept. Seeds are captured from the kernel in
// testdata/fuzz/FuzzDecode (see TestDecodeCapturedMessages).
func FuzzDecode(f *testing.F) {
	f.Add([]byte{})
	f.Add([]byte{cmdNew, 1, 0, 0})
	f.Fuzz(func(t *testing.T, b []byte) {
		m, err := Decode(b)
		if err != nil {
			if !errors.Is(err, ErrMalformed) {
				t.Fatalf("Decode error %v does not wrap ErrMalformed", err)
			}
			if m != (Message{}) {
				t.Fatalf("Decode returned %+v beside error %v", m, err)
			}
			return
		}
		if m.Task.Version < 2 || len(m.Task.Comm) >= commField {
			t.Fatalf("Decode accepted %+v", m)
		}
	})
}
