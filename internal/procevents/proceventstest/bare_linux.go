//go:build linux

package proceventstest

import (
	"encoding/binary"
	"sync"
	"sync/atomic"
	"testing"

	"golang.org/x/sys/unix"
)

// The process connector's wire values, kept apart from procevents' so
// that the floor owes nothing to the code it is the floor of.
const (
	cnIdxProc         = 1 // CN_IDX_PROC
	cnValProc         = 1 // CN_VAL_PROC
	procCnMcastListen = 1 // PROC_CN_MCAST_LISTEN
	readBuffer        = 4 << 20
	messageBuffer     = 4096
)

// Bare is the floor: a blocking recvmsg loop on a raw connector socket
// that only counts what it receives, with the receive buffer procevents
// uses by default.
type Bare struct {
	fd       int
	messages atomic.Uint64
	bytes    atomic.Uint64
	stop     atomic.Bool
	done     sync.WaitGroup
}

// OpenBare subscribes a bare reader; the test fails when it cannot (root,
// or Linux 6.6 and later, in the host's namespaces).
func OpenBare(tb testing.TB) *Bare {
	tb.Helper()
	fd, err := unix.Socket(unix.AF_NETLINK, unix.SOCK_DGRAM|unix.SOCK_CLOEXEC, unix.NETLINK_CONNECTOR)
	if err != nil {
		tb.Fatalf("a raw connector socket: %v", err)
	}
	must := func(what string, err error) {
		if err != nil {
			unix.Close(fd)
			tb.Fatalf("bare reader: %s: %v", what, err)
		}
	}
	must("bind", unix.Bind(fd, &unix.SockaddrNetlink{Family: unix.AF_NETLINK, Groups: cnIdxProc}))
	if err := unix.SetsockoptInt(fd, unix.SOL_SOCKET, unix.SO_RCVBUFFORCE, readBuffer); err != nil {
		must("SO_RCVBUF", unix.SetsockoptInt(fd, unix.SOL_SOCKET, unix.SO_RCVBUF, readBuffer))
	}
	// A receive timeout lets the loop see stop: closing a netlink socket
	// does not wake a thread blocked in recvmsg on it.
	must("SO_RCVTIMEO", unix.SetsockoptTimeval(fd, unix.SOL_SOCKET, unix.SO_RCVTIMEO, &unix.Timeval{Usec: 100_000}))
	must("subscribe", unix.Sendto(fd, listenRequest(), 0, &unix.SockaddrNetlink{Family: unix.AF_NETLINK}))
	r := &Bare{fd: fd}
	r.done.Go(func() {
		buf := make([]byte, messageBuffer)
		for !r.stop.Load() {
			n, _, err := unix.Recvfrom(fd, buf, 0)
			if err == nil {
				r.messages.Add(1)
				r.bytes.Add(uint64(n))
			}
		}
	})
	return r
}

// listenRequest is a netlink message holding a cn_msg with
// PROC_CN_MCAST_LISTEN.
func listenRequest() []byte {
	ne := binary.NativeEndian
	const cnMsg = 20
	b := make([]byte, unix.SizeofNlMsghdr+cnMsg+4)
	ne.PutUint32(b[0:], uint32(len(b)))
	ne.PutUint16(b[4:], unix.NLMSG_DONE)
	c := b[unix.SizeofNlMsghdr:]
	ne.PutUint32(c[0:], cnIdxProc)
	ne.PutUint32(c[4:], cnValProc)
	ne.PutUint32(c[8:], 1)  // seq
	ne.PutUint32(c[12:], 1) // ack
	ne.PutUint16(c[16:], 4) // len
	ne.PutUint32(c[cnMsg:], procCnMcastListen)
	return b
}

// Messages is how many datagrams the reader has received.
func (r *Bare) Messages() uint64 { return r.messages.Load() }

// Close stops the loop and closes the socket.
func (r *Bare) Close() {
	r.stop.Store(true)
	r.done.Wait()
	unix.Close(r.fd)
}
