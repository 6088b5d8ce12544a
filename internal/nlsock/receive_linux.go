package nlsock

import (
	"errors"
	"fmt"

	"github.com/mdlayher/netlink"
	"golang.org/x/sys/unix"
)

// Receive reads one datagram from c and calls fn with each netlink message
// in it; fn must not keep the message's data. The kernel's ENOBUFS comes
// back as ErrOverrun.
func Receive(c *netlink.Conn, fn func(netlink.Message)) error {
	for m, err := range c.ReceiveIter() {
		if err != nil {
			if errors.Is(err, unix.ENOBUFS) {
				return fmt.Errorf("%w: %w", ErrOverrun, err)
			}
			return err
		}
		fn(m)
	}
	return nil
}
