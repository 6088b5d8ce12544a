//go:build linux

package taskstats

import (
	"context"
	"crypto/rand"
	"encoding/binary"
	"errors"
	"fmt"
	"os"
	"time"

	"github.com/mdlayher/genetlink"
	"github.com/mdlayher/netlink"
	"golang.org/x/sys/unix"

	"github.com/procwatch/procwatch/internal/nlsock"
)

// messageBuffer is the receive buffer for one datagram: an exit message
// with a thread group's record is under 1 KiB, and a fixed buffer spares
// the peek a read of unknown size costs.
const messageBuffer = 8192

// Open registers for the exit records of every task on every possible
// CPU and returns once the kernel has confirmed the registration: from
// then on every exit's record is either delivered or announced lost.
// When the registration cannot be had, the error wraps ErrNotPermitted,
// ErrNamespace, ErrUnsupported or ErrNoAnswer and says why in one line.
// Cancelling ctx stops the wait for the answer and closes the socket.
func Open(ctx context.Context, opts ...Option) (*Reader, error) {
	o := defaultOptions()
	for _, opt := range opts {
		opt(&o)
	}
	if err := o.validate(); err != nil {
		return nil, err
	}
	mask, err := possibleCPUs(o.cpuPossible)
	if err != nil {
		return nil, err
	}
	c, err := netlink.Dial(unix.NETLINK_GENERIC, &netlink.Config{MessageBufferSize: messageBuffer})
	if err != nil {
		return nil, explain("opening a generic netlink socket", err)
	}
	gc := genetlink.NewConn(c)
	fam, err := gc.GetFamily(familyName)
	if err != nil {
		_ = c.Close()
		if errors.Is(err, unix.ENOENT) && otherNetns() {
			return nil, fmt.Errorf("%w: no %s generic netlink family in this network namespace: %w", ErrNamespace, familyName, err)
		}
		if errors.Is(err, unix.ENOENT) {
			// The family is registered in the initial network namespace
			// only (it is not netns-aware), and not at all without
			// CONFIG_TASKSTATS.
			return nil, fmt.Errorf("%w: no %s generic netlink family (not the host's network namespace, or a kernel without CONFIG_TASKSTATS): %w", ErrUnsupported, familyName, err)
		}
		return nil, explain("looking up the "+familyName+" family", err)
	}
	src := &genlSource{c: c, gc: gc, fam: fam}
	if o.ReadBuffer > 0 {
		if err := src.setReadBuffer(o.ReadBuffer); err != nil {
			_ = c.Close()
			return nil, fmt.Errorf("taskstats: setting the receive buffer to %d bytes: %w", o.ReadBuffer, err)
		}
	}
	var mono unix.Timespec
	if err := unix.ClockGettime(unix.CLOCK_MONOTONIC, &mono); err != nil {
		_ = c.Close()
		return nil, fmt.Errorf("taskstats: reading CLOCK_MONOTONIC: %w", err)
	}
	r := newReader(src, o, mask, nonce(), time.Duration(mono.Nano()))
	if err := src.register(mask, false, r.seq); err != nil {
		_ = r.Close()
		return nil, explain("registering for exit records", err)
	}
	ctx, cancel := context.WithTimeout(ctx, o.AnswerTimeout)
	defer cancel()
	deadline, _ := ctx.Deadline()
	if err := c.SetReadDeadline(deadline); err != nil {
		_ = r.Close()
		return nil, fmt.Errorf("taskstats: %w", err)
	}
	stop := context.AfterFunc(ctx, func() { _ = c.SetReadDeadline(time.Now()) })
	err = r.awaitAnswer()
	stop()
	if err == nil {
		err = c.SetReadDeadline(time.Time{})
	}
	if err != nil {
		_ = r.Close()
		if ctx.Err() != nil {
			return nil, fmt.Errorf("%w within %v: %w", ErrNoAnswer, o.AnswerTimeout, ctx.Err())
		}
		return nil, explain("the kernel answered the registration", err)
	}
	r.start()
	return r, nil
}

// explain turns the kernel's refusals into the package's errors.
func explain(what string, err error) error {
	switch {
	case errors.Is(err, unix.EPERM), errors.Is(err, unix.EACCES):
		return fmt.Errorf("%w: %s: %w", ErrNotPermitted, what, err)
	case errors.Is(err, unix.EINVAL):
		// A mask naming no CPU the kernel has; never one read from sysfs.
		return fmt.Errorf("taskstats: %s: %w (the CPU mask)", what, err)
	case errors.Is(err, unix.EPROTONOSUPPORT), errors.Is(err, unix.EAFNOSUPPORT):
		return fmt.Errorf("%w: %s: %w", ErrUnsupported, what, err)
	}
	return fmt.Errorf("taskstats: %s: %w", what, err)
}

// otherNetns reports whether this process is, as far as /proc shows,
// in another network namespace than pid 1's: the family is registered in
// the initial one only.
func otherNetns() bool {
	self, err1 := os.Readlink("/proc/self/ns/net")
	init, err2 := os.Readlink("/proc/1/ns/net")
	return err1 == nil && err2 == nil && self != init
}

// nonce makes the registration's sequence number unlike another
// request's on this socket.
func nonce() uint32 {
	var b [4]byte
	_, _ = rand.Read(b[:])
	return binary.NativeEndian.Uint32(b[:])>>1 | 1
}

// genlSource is the TASKSTATS family's socket.
type genlSource struct {
	c   *netlink.Conn
	gc  *genetlink.Conn
	fam genetlink.Family
}

func (s *genlSource) receive(fn func(uint16, uint32, []byte)) error {
	return nlsock.Receive(s.c, func(m netlink.Message) { fn(uint16(m.Header.Type), m.Header.Sequence, m.Data) })
}

func (s *genlSource) register(mask string, deregister bool, seq uint32) error {
	attr := uint16(attrRegisterCPUMask)
	if deregister {
		attr = attrDeregisterCPUMask
	}
	ae := netlink.NewAttributeEncoder()
	ae.String(attr, mask)
	data, err := ae.Encode()
	if err != nil {
		return err
	}
	b, err := (genetlink.Message{Header: genetlink.Header{Command: cmdGet, Version: s.fam.Version}, Data: data}).MarshalBinary()
	if err != nil {
		return err
	}
	_, err = s.c.Send(netlink.Message{
		Header: netlink.Header{Type: netlink.HeaderType(s.fam.ID), Flags: netlink.Request | netlink.Acknowledge, Sequence: seq},
		Data:   b,
	})
	return err
}

func (s *genlSource) family() uint16 { return s.fam.ID }

func (s *genlSource) setReadBuffer(bytes int) error { return nlsock.SetReadBuffer(s.c, bytes) }

func (s *genlSource) readBuffer() int { return nlsock.ReadBuffer(s.c) }

func (s *genlSource) close() error { return s.c.Close() }
