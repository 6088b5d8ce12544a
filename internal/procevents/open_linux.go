//go:build linux

package procevents

import (
	"context"
	"crypto/rand"
	"encoding/binary"
	"errors"
	"fmt"

	"github.com/mdlayher/netlink"
	"golang.org/x/sys/unix"

	"github.com/procwatch/procwatch/internal/nlsock"
)

// messageBuffer is the receive buffer for one datagram: a process event is
// 76 bytes with its headers, and a fixed buffer spares the peek a read of
// unknown size costs, one system call per event.
const messageBuffer = 4096

// Open subscribes to the kernel's process events and returns once the
// kernel has confirmed the subscription, so that every event from then on
// is either delivered or announced lost: a consumer that scans /proc after
// Open returns misses nothing. When the subscription cannot be had, the
// error wraps ErrNotPermitted, ErrNamespace, ErrUnsupported or ErrNoAnswer
// and says why in one line. Cancelling ctx stops the wait for the answer
// and closes the socket.
func Open(ctx context.Context, opts ...Option) (*Reader, error) {
	o := defaultOptions()
	for _, opt := range opts {
		opt(&o)
	}
	if err := o.validate(); err != nil {
		return nil, err
	}
	if err := checkNamespaces(o.procRoot); err != nil {
		return nil, err
	}
	c, err := netlink.Dial(unix.NETLINK_CONNECTOR, &netlink.Config{
		Groups:            cnIdxProc,
		MessageBufferSize: messageBuffer,
	})
	if err != nil {
		return nil, explain("subscribing", err)
	}
	src := &connSource{c: c}
	if o.ReadBuffer > 0 {
		if err := src.setReadBuffer(o.ReadBuffer); err != nil {
			_ = c.Close()
			return nil, fmt.Errorf("procevents: setting the receive buffer to %d bytes: %w", o.ReadBuffer, err)
		}
	}
	seq, ack := nonce(), nonce()
	r := newReader(src, o, seq, ack)
	if err := src.control(procCnMcastListen, seq, ack); err != nil {
		_ = r.Close()
		return nil, explain("subscribing", err)
	}
	ctx, cancel := context.WithTimeout(ctx, o.AnswerTimeout)
	defer cancel()
	select {
	case errno := <-r.answer:
		if errno == 0 {
			return r, nil
		}
		_ = r.Close()
		return nil, explain("the kernel answered the subscription", unix.Errno(errno))
	case <-ctx.Done():
		_ = r.Close()
		return nil, fmt.Errorf("%w within %v (a subscription from outside the host's PID or user namespace is ignored): %w", ErrNoAnswer, o.AnswerTimeout, ctx.Err())
	}
}

// explain turns the kernel's refusals into the package's errors.
func explain(what string, err error) error {
	switch {
	case errors.Is(err, unix.EPERM), errors.Is(err, unix.EACCES):
		return fmt.Errorf("%w: %s: %w", ErrNotPermitted, what, err)
	case errors.Is(err, unix.ECONNREFUSED):
		// The connector's kernel socket exists only in the initial
		// network namespace; elsewhere nobody takes the request.
		return fmt.Errorf("%w: %s: %w (not the host's network namespace)", ErrNamespace, what, err)
	case errors.Is(err, unix.EPROTONOSUPPORT), errors.Is(err, unix.EAFNOSUPPORT):
		return fmt.Errorf("%w: %s: %w (a kernel without CONFIG_PROC_EVENTS?)", ErrUnsupported, what, err)
	}
	return fmt.Errorf("procevents: %s: %w", what, err)
}

// nonce makes the request's sequence numbers unlike another listener's, so
// that its answer, which the kernel sends to every listener, is known.
func nonce() uint32 {
	var b [4]byte
	_, _ = rand.Read(b[:])
	return binary.NativeEndian.Uint32(b[:]) | 1
}

// connSource is the connector socket.
type connSource struct {
	c *netlink.Conn
}

func (s *connSource) receive(fn func([]byte)) error {
	return nlsock.Receive(s.c, func(m netlink.Message) { fn(m.Data) })
}

func (s *connSource) control(op, seq, ack uint32) error {
	_, err := s.c.Send(netlink.Message{
		Header: netlink.Header{Type: netlink.Done, Sequence: seq},
		Data:   encodeControl(op, seq, ack),
	})
	return err
}

func (s *connSource) setReadBuffer(bytes int) error { return nlsock.SetReadBuffer(s.c, bytes) }

func (s *connSource) readBuffer() int { return nlsock.ReadBuffer(s.c) }

func (s *connSource) close() error { return s.c.Close() }
