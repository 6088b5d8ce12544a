//go:build linux

package proceventstest

import (
	"sync"
	"sync/atomic"
	"testing"

	"github.com/procwatch/procwatch/internal/procevents/bare"
)

// Bare is the floor: a blocking recvmsg loop on a raw connector socket
// (package bare) that only counts what it receives.
type Bare struct {
	sock     *bare.Socket
	messages atomic.Uint64
	bytes    atomic.Uint64
	stop     atomic.Bool
	done     sync.WaitGroup
}

// OpenBare subscribes a bare reader; the test fails when it cannot (root,
// or Linux 6.6 and later, in the host's namespaces).
func OpenBare(tb testing.TB) *Bare {
	tb.Helper()
	sock, err := bare.Open()
	if err != nil {
		tb.Fatal(err)
	}
	r := &Bare{sock: sock}
	r.done.Go(func() {
		buf := make([]byte, 4096)
		for !r.stop.Load() {
			if n, err := sock.Recv(buf); err == nil {
				r.messages.Add(1)
				r.bytes.Add(uint64(n))
			}
		}
	})
	return r
}

// Messages is how many datagrams the reader has received.
func (r *Bare) Messages() uint64 { return r.messages.Load() }

// Close stops the loop and closes the socket.
func (r *Bare) Close() {
	r.stop.Store(true)
	r.done.Wait()
	_ = r.sock.Close()
}
