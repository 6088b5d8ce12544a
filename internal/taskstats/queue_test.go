package taskstats

import (
	"errors"
	"os"
	"path/filepath"
	"testing"
)

// scripted is a source that hands the reader what a test sends it.
type scripted struct {
	reads    chan any // [][]byte or error
	consumed chan struct{}
	closed   chan struct{}
}

func (s *scripted) receive(fn func(uint16, uint32, []byte)) error {
	select {
	case r := <-s.reads:
		defer func() { s.consumed <- struct{}{} }()
		if err, ok := r.(error); ok {
			return err
		}
		for _, b := range r.([][]byte) {
			fn(0x20, 0, b)
		}
		return nil
	case <-s.closed:
		return errors.New("closed")
	}
}

func (s *scripted) register(string, bool, uint32) error { return nil }
func (s *scripted) family() uint16                      { return 0x20 }
func (s *scripted) readBuffer() int                     { return 0 }
func (s *scripted) close() error                        { close(s.closed); return nil }

func (s *scripted) send(r any) {
	s.reads <- r
	<-s.consumed
}

// TestQueueFullAndOverrunBecomeLost: records the queue has no room for
// are dropped and counted, an ENOBUFS is counted as an overrun, and the
// consumer learns of both from one Lost event before any later record.
func TestQueueFullAndOverrunBecomeLost(t *testing.T) {
	rec, err := os.ReadFile(filepath.Join("testdata", "single-thread.bin"))
	if err != nil {
		t.Fatal(err)
	}
	thread, err := os.ReadFile(filepath.Join("testdata", "thread.bin"))
	if err != nil {
		t.Fatal(err)
	}
	src := &scripted{reads: make(chan any), consumed: make(chan struct{}), closed: make(chan struct{})}
	o := defaultOptions()
	o.queueSize = 2
	r := newReader(src, o, "0", 1, 0)
	r.start()
	defer r.Close()

	src.send([][]byte{rec, thread, rec, rec, []byte("junk")}) // 2 queued, 1 dropped, the thread's not queued
	if s := r.Stats(); s.Received != 5 || s.Delivered != 2 || s.Dropped != 1 || s.Malformed != 1 {
		t.Fatalf("stats %+v", s)
	}
	for range 2 {
		if ev := <-r.Events(); ev.Kind != Task || ev.Comm != "sh" {
			t.Fatalf("event %v; want the shell's record", ev)
		}
	}
	src.send(errOverrun)
	src.send([][]byte{rec})
	if ev := <-r.Events(); ev.Kind != Lost || ev.Lost != 1 || !ev.Overrun {
		t.Fatalf("event %v; want Lost of 1 with the overrun", ev)
	}
	if ev := <-r.Events(); ev.Kind != Task {
		t.Fatalf("event %v after Lost; want the record", ev)
	}
	if s := r.Stats(); s.Overruns != 1 {
		t.Fatalf("stats %+v; want one overrun", s)
	}
}
