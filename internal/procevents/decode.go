package procevents

import (
	"bytes"
	"encoding/binary"
	"fmt"
	"time"
)

// The connector's wire format (include/uapi/linux/connector.h and
// cn_proc.h), in the host's byte order.
const (
	cnIdxProc = 1 // CN_IDX_PROC
	cnValProc = 1 // CN_VAL_PROC

	cnMsgSize     = 20 // struct cn_msg without data: id{idx,val}, seq, ack, len u16, flags u16
	procEventHead = 16 // struct proc_event up to its union: what, cpu, timestamp_ns

	procCnMcastListen = 1 // PROC_CN_MCAST_LISTEN
	procCnMcastIgnore = 2 // PROC_CN_MCAST_IGNORE
)

// The values of proc_event.what.
const (
	procEventNone   = 0x00000000
	procEventFork   = 0x00000001
	procEventExec   = 0x00000002
	procEventComm   = 0x00000200
	procEventExit   = 0x80000000
	commLen         = 16 // TASK_COMM_LEN
	exitDataMinimum = 16 // before Linux 4.18 the exit event had no parent
)

var ne = binary.NativeEndian

// message is one decoded connector message: the event, and the header
// fields that match an acknowledgement to the request it answers.
type message struct {
	Event
	seq, ack uint32
	ackErr   uint32 // the errno of an acknowledgement, 0 for success
}

// Decode decodes one process connector message: the payload of one
// netlink message from the CN_IDX_PROC group, a struct cn_msg followed by
// a struct proc_event. Input that is short, truncated, from another
// connector or inconsistent gives an error wrapping ErrMalformed; event
// kinds it does not deliver (uid, gid, sid, ptrace, coredump changes) give
// Kind Other with the task's ids.
func Decode(b []byte) (Event, error) {
	m, err := decode(b)
	if m.Kind == ack {
		m.Kind = Other
	}
	return m.Event, err
}

func decode(b []byte) (message, error) {
	if len(b) < cnMsgSize {
		return message{}, fmt.Errorf("%w: %d bytes, shorter than a connector header", ErrMalformed, len(b))
	}
	idx, val := ne.Uint32(b[0:]), ne.Uint32(b[4:])
	if idx != cnIdxProc || val != cnValProc {
		return message{}, fmt.Errorf("%w: connector id %d/%d is not the process connector's", ErrMalformed, idx, val)
	}
	m := message{seq: ne.Uint32(b[8:]), ack: ne.Uint32(b[12:])}
	n := int(ne.Uint16(b[16:]))
	if n > len(b)-cnMsgSize {
		return message{}, fmt.Errorf("%w: connector payload of %d bytes in %d", ErrMalformed, n, len(b)-cnMsgSize)
	}
	p := b[cnMsgSize : cnMsgSize+n]
	if len(p) < procEventHead {
		return message{}, fmt.Errorf("%w: %d bytes, shorter than a process event header", ErrMalformed, len(p))
	}
	what := ne.Uint32(p[0:])
	m.CPU = ne.Uint32(p[4:])
	m.Time = time.Duration(ne.Uint64(p[8:]))
	d := p[procEventHead:]
	need := func(size int) error {
		if len(d) < size {
			return fmt.Errorf("%w: event %#x with %d bytes of data, needs %d", ErrMalformed, what, len(d), size)
		}
		return nil
	}
	i32 := func(off int) int32 { return int32(ne.Uint32(d[off:])) }
	switch what {
	case procEventNone:
		if err := need(4); err != nil {
			return message{}, err
		}
		m.Kind, m.ackErr = ack, ne.Uint32(d)
	case procEventFork:
		if err := need(16); err != nil {
			return message{}, err
		}
		m.Kind = Fork
		m.ParentPID, m.ParentTGID, m.PID, m.TGID = i32(0), i32(4), i32(8), i32(12)
	case procEventExec:
		if err := need(8); err != nil {
			return message{}, err
		}
		m.Kind, m.PID, m.TGID = Exec, i32(0), i32(4)
	case procEventComm:
		if err := need(8 + commLen); err != nil {
			return message{}, err
		}
		m.Kind, m.PID, m.TGID = Comm, i32(0), i32(4)
		c := d[8 : 8+commLen]
		i := bytes.IndexByte(c, 0)
		if i < 0 {
			return message{}, fmt.Errorf("%w: comm of %d bytes without its terminating NUL", ErrMalformed, commLen)
		}
		m.Comm = string(c[:i])
	case procEventExit:
		if err := need(exitDataMinimum); err != nil {
			return message{}, err
		}
		m.Kind, m.PID, m.TGID = Exit, i32(0), i32(4)
		m.ExitCode, m.ExitSignal = ne.Uint32(d[8:]), ne.Uint32(d[12:])
		if len(d) >= 24 {
			m.ParentPID, m.ParentTGID = i32(16), i32(20)
		}
	default:
		// Every other event starts with the task's pid and tgid.
		if err := need(8); err != nil {
			return message{}, err
		}
		m.Kind, m.PID, m.TGID = Other, i32(0), i32(4)
	}
	if m.Kind != ack && m.Kind != Other && (m.PID <= 0 || m.TGID <= 0) {
		return message{}, fmt.Errorf("%w: %s event for pid %d tgid %d", ErrMalformed, m.Kind, m.PID, m.TGID)
	}
	return m, nil
}

// encodeControl builds the cn_msg that asks the kernel to start
// (procCnMcastListen) or stop sending process events to this socket. The
// 4-byte form is the one every kernel since 2.6.15 accepts; it asks for
// every kind of event.
func encodeControl(op, seq, ack uint32) []byte {
	b := make([]byte, cnMsgSize+4)
	ne.PutUint32(b[0:], cnIdxProc)
	ne.PutUint32(b[4:], cnValProc)
	ne.PutUint32(b[8:], seq)
	ne.PutUint32(b[12:], ack)
	ne.PutUint16(b[16:], 4)
	ne.PutUint32(b[cnMsgSize:], op)
	return b
}
