// Package bare is the floor the process events reader is measured
// against: a connector socket subscribed to process events with nothing on
// top but recvmsg. Its wire values are kept apart from procevents' so that
// the floor owes nothing to the code it is the floor of.
package bare

import (
	"encoding/binary"
	"errors"
	"fmt"

	"golang.org/x/sys/unix"
)

const (
	cnIdxProc         = 1 // CN_IDX_PROC
	cnValProc         = 1 // CN_VAL_PROC
	procCnMcastListen = 1 // PROC_CN_MCAST_LISTEN
	procEventExec     = 0x2
	// cnMsgLen is struct cn_msg: id (idx, val), seq, ack, len, flags.
	cnMsgLen = 20
	// ReadBuffer is the receive buffer Open asks for, procevents' default.
	ReadBuffer = 4 << 20
)

// Socket is a subscribed connector socket.
type Socket struct{ fd int }

// Open subscribes a socket to the process events. Its reads time out
// every 100 ms (see Recv): closing a netlink socket does not wake a thread
// blocked in recvmsg on it.
func Open() (*Socket, error) {
	fd, err := unix.Socket(unix.AF_NETLINK, unix.SOCK_DGRAM|unix.SOCK_CLOEXEC, unix.NETLINK_CONNECTOR)
	if err != nil {
		return nil, fmt.Errorf("a connector socket: %w", err)
	}
	s := &Socket{fd: fd}
	fail := func(what string, err error) (*Socket, error) {
		_ = unix.Close(fd)
		return nil, fmt.Errorf("bare reader: %s: %w", what, err)
	}
	if err := unix.Bind(fd, &unix.SockaddrNetlink{Family: unix.AF_NETLINK, Groups: cnIdxProc}); err != nil {
		return fail("bind", err)
	}
	// SO_RCVBUFFORCE needs CAP_NET_ADMIN; without it, what rmem_max allows.
	if err := unix.SetsockoptInt(fd, unix.SOL_SOCKET, unix.SO_RCVBUFFORCE, ReadBuffer); err != nil {
		if err := unix.SetsockoptInt(fd, unix.SOL_SOCKET, unix.SO_RCVBUF, ReadBuffer); err != nil {
			return fail("SO_RCVBUF", err)
		}
	}
	if err := unix.SetsockoptTimeval(fd, unix.SOL_SOCKET, unix.SO_RCVTIMEO, &unix.Timeval{Usec: 100_000}); err != nil {
		return fail("SO_RCVTIMEO", err)
	}
	if err := unix.Sendto(fd, listenRequest(), 0, &unix.SockaddrNetlink{Family: unix.AF_NETLINK}); err != nil {
		return fail("subscribe", err)
	}
	return s, nil
}

// listenRequest is a netlink message holding a cn_msg with
// PROC_CN_MCAST_LISTEN.
func listenRequest() []byte {
	ne := binary.NativeEndian
	b := make([]byte, unix.SizeofNlMsghdr+cnMsgLen+4)
	ne.PutUint32(b[0:], uint32(len(b)))
	ne.PutUint16(b[4:], unix.NLMSG_DONE)
	c := b[unix.SizeofNlMsghdr:]
	ne.PutUint32(c[0:], cnIdxProc)
	ne.PutUint32(c[4:], cnValProc)
	ne.PutUint32(c[8:], 1)  // seq
	ne.PutUint32(c[12:], 1) // ack
	ne.PutUint16(c[16:], 4) // len
	ne.PutUint32(c[cnMsgLen:], procCnMcastListen)
	return b
}

// ErrTimeout is Recv's answer when nothing came for 100 ms.
var ErrTimeout = errors.New("bare reader: no message for 100 ms")

// Recv reads one message into buf and returns its length.
func (s *Socket) Recv(buf []byte) (int, error) {
	n, _, err := unix.Recvfrom(s.fd, buf, 0)
	if errors.Is(err, unix.EAGAIN) || errors.Is(err, unix.EINTR) {
		return 0, ErrTimeout
	}
	return n, err
}

// IsExec tells whether msg, as Recv read it, is an exec event.
func IsExec(msg []byte) bool {
	const whatOff = unix.SizeofNlMsghdr + cnMsgLen // proc_event.what
	return len(msg) >= whatOff+4 && binary.NativeEndian.Uint32(msg[whatOff:]) == procEventExec
}

// Close closes the socket; a Recv in progress returns within 100 ms.
func (s *Socket) Close() error { return unix.Close(s.fd) }
