package taskstats

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"testing"

	"github.com/procwatch/procwatch/internal/nlsock"
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
// are dropped, counted and announced after the records queued before them;
// each ENOBUFS is counted as an overrun, and the consumer learns of a run
// of them from one Lost event before any later record.
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
	o.QueueLimit = 2
	r := newReader(src, o, "0", 1, 0)
	r.start()
	defer r.Close()

	src.send([][]byte{rec, thread, rec, rec, []byte("junk")}) // 2 queued, 1 dropped, the thread's not queued
	if s := r.Stats(); s.Received != 5 || s.Delivered != 2 || s.Dropped != 1 || s.Malformed != 1 {
		t.Fatalf("stats %+v", s)
	}
	var kinds []string
	batch, _ := r.Drain(nil)
	for _, ev := range batch {
		kinds = append(kinds, ev.String())
	}
	if len(batch) != 3 || batch[0].Kind != Task || batch[0].Comm != "sh" || batch[1].Kind != Task || batch[2].Kind != Lost || batch[2].Lost != 1 || batch[2].Overrun {
		t.Fatalf("drained %q; want the shell's two records, then Lost of 1", kinds)
	}
	src.send(fmt.Errorf("recvmsg: %w", nlsock.ErrOverrun))
	src.send(fmt.Errorf("recvmsg: %w", nlsock.ErrOverrun))
	src.send([][]byte{rec})
	batch, _ = r.Drain(batch[:0])
	if len(batch) != 2 || batch[0].Kind != Lost || batch[0].Lost != 0 || !batch[0].Overrun || batch[1].Kind != Task {
		t.Fatalf("drained %v; want one Lost for both overruns, then the record", batch)
	}
	if s := r.Stats(); s.Overruns != 2 {
		t.Fatalf("stats %+v; want two overruns", s)
	}
}
