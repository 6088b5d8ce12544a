package nlsock

import (
	"syscall"

	"golang.org/x/sys/unix"
)

// Conn is the part of a netlink connection (mdlayher/netlink's Conn,
// genetlink's Conn) that sizes its receive buffer.
type Conn interface {
	SyscallConn() (syscall.RawConn, error)
	SetReadBuffer(bytes int) error
	ReadBuffer() (int, error)
}

// SetReadBuffer sets the receive buffer of c to bytes with SO_RCVBUFFORCE,
// which may pass net.core.rmem_max (a burst of events must fit while the
// reader is not scheduled), and falls back to SO_RCVBUF, capped by
// rmem_max, without CAP_NET_ADMIN.
func SetReadBuffer(c Conn, bytes int) error {
	rc, err := c.SyscallConn()
	if err != nil {
		return err
	}
	var serr error
	if err := rc.Control(func(fd uintptr) {
		serr = unix.SetsockoptInt(int(fd), unix.SOL_SOCKET, unix.SO_RCVBUFFORCE, bytes)
	}); err != nil {
		return err
	}
	if serr == nil {
		return nil
	}
	return c.SetReadBuffer(bytes)
}

// ReadBuffer returns the receive buffer of c as the kernel sized it
// (twice what was asked, for its bookkeeping), 0 when it cannot say.
func ReadBuffer(c Conn) int {
	n, err := c.ReadBuffer()
	if err != nil {
		return 0
	}
	return n
}
