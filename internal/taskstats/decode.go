package taskstats

import (
	"bytes"
	"encoding/binary"
	"fmt"
	"time"
)

// The generic netlink family's wire format (include/uapi/linux/taskstats.h),
// in the host's byte order.
const (
	familyName = "TASKSTATS" // TASKSTATS_GENL_NAME

	cmdGet = 1 // TASKSTATS_CMD_GET
	cmdNew = 2 // TASKSTATS_CMD_NEW

	typePID      = 1 // TASKSTATS_TYPE_PID
	typeTGID     = 2 // TASKSTATS_TYPE_TGID
	typeStats    = 3 // TASKSTATS_TYPE_STATS
	typeAggrPID  = 4 // TASKSTATS_TYPE_AGGR_PID
	typeAggrTGID = 5 // TASKSTATS_TYPE_AGGR_TGID

	attrRegisterCPUMask   = 3 // TASKSTATS_CMD_ATTR_REGISTER_CPUMASK
	attrDeregisterCPUMask = 4 // TASKSTATS_CMD_ATTR_DEREGISTER_CPUMASK

	genlHeader  = 4      // struct genlmsghdr: cmd, version, reserved
	nlaHeader   = 4      // struct nlattr: len, type
	nlaTypeMask = 0x3fff // without NLA_F_NESTED and NLA_F_NET_BYTEORDER
)

// The offsets in struct taskstats of the fields Record holds, as the
// kernel lays it out (64-bit fields aligned to 8 on every architecture,
// by the header's aligned(8) attributes). The struct only grows: a field
// is read when the version that added it is in force and the payload
// holds it, and never otherwise.
const (
	offVersion  = 0   // __u16 version
	offExitCode = 4   // __u32 ac_exitcode
	offFlag     = 8   // __u8 ac_flag
	offRunVirt  = 72  // __u64 cpu_run_virtual_total, ns (version 1)
	offComm     = 80  // char ac_comm[32] (version 2 on, as all below to offMajflt)
	commField   = 32  // TS_COMM_LEN
	offUID      = 120 // __u32 ac_uid
	offGID      = 124 // __u32 ac_gid
	offPID      = 128 // __u32 ac_pid
	offPPID     = 132 // __u32 ac_ppid
	offBtime    = 136 // __u32 ac_btime
	offEtime    = 144 // __u64 ac_etime, µs
	offUtime    = 152 // __u64 ac_utime, µs
	offStime    = 160 // __u64 ac_stime, µs
	offMinflt   = 168 // __u64 ac_minflt
	offMajflt   = 176 // __u64 ac_majflt
	offReadB    = 248 // __u64 read_bytes (version 3 on)
	offWriteB   = 256 // __u64 write_bytes
	offNvcsw    = 272 // __u64 nvcsw (version 3 on)
	offNivcsw   = 280 // __u64 nivcsw
	offBtime64  = 344 // __u64 ac_btime64 (version 10 on)
	offTGID     = 368 // __u32 ac_tgid (version 13 on)
	offExeDev   = 384 // __u64 ac_exe_dev (version 13 on)
	offExeInode = 392 // __u64 ac_exe_inode

	// minStats is the least a record must hold: through ac_majflt, the
	// basic accounting fields of version 2.
	minStats = offMajflt + 8
	// CommCut is the length of a comm the kernel may have cut: it keeps
	// at most TASK_COMM_LEN-1 = 15 bytes of the executable's basename, so
	// a shorter comm is the whole name.
	CommCut = 15
)

var ne = binary.NativeEndian

// Message is one TASKSTATS_CMD_NEW message the kernel sends at a task's
// exit: the task's record and, when it was the last thread of a
// multi-threaded process, the thread group's.
type Message struct {
	Task     Record
	Group    Record
	HasGroup bool
}

// Decode decodes one exit message: the payload of a netlink message of
// the TASKSTATS family, a struct genlmsghdr followed by the attributes
// TASKSTATS_TYPE_AGGR_PID {PID, STATS} and, optionally,
// TASKSTATS_TYPE_AGGR_TGID {TGID, STATS}. Input that is short, truncated,
// of another command, without a task record, or whose records disagree
// with their ids gives an error wrapping ErrMalformed.
func Decode(b []byte) (Message, error) {
	var m Message
	if len(b) < genlHeader {
		return Message{}, fmt.Errorf("%w: %d bytes, shorter than a generic netlink header", ErrMalformed, len(b))
	}
	if b[0] != cmdNew {
		return Message{}, fmt.Errorf("%w: command %d, not TASKSTATS_CMD_NEW", ErrMalformed, b[0])
	}
	hasTask := false
	err := walk(b[genlHeader:], func(typ uint16, v []byte) error {
		var id uint32
		var stats []byte
		if err := walk(v, func(t uint16, w []byte) error {
			switch t {
			case typePID, typeTGID:
				if len(w) != 4 {
					return fmt.Errorf("%w: id attribute of %d bytes", ErrMalformed, len(w))
				}
				id = ne.Uint32(w)
			case typeStats:
				stats = w
			}
			return nil
		}); err != nil {
			return err
		}
		var dst *Record
		switch typ {
		case typeAggrPID:
			dst, hasTask = &m.Task, true
		case typeAggrTGID:
			dst, m.HasGroup = &m.Group, true
		default:
			return nil
		}
		if stats == nil {
			return fmt.Errorf("%w: %s without its stats", ErrMalformed, aggrName(typ))
		}
		r, err := DecodeStats(stats)
		if err != nil {
			return err
		}
		if typ == typeAggrPID && r.PID != id {
			return fmt.Errorf("%w: the record of task %d says pid %d", ErrMalformed, id, r.PID)
		}
		if typ == typeAggrTGID {
			// The group's record is the sum the kernel keeps in the
			// process's signal struct; its ids are those of the
			// exiting thread, or zero: the attribute names the group.
			r.TGID = id
		}
		*dst = r
		return nil
	})
	if err != nil {
		return Message{}, err
	}
	if !hasTask {
		return Message{}, fmt.Errorf("%w: no task record", ErrMalformed)
	}
	return m, nil
}

func aggrName(typ uint16) string {
	if typ == typeAggrTGID {
		return "TASKSTATS_TYPE_AGGR_TGID"
	}
	return "TASKSTATS_TYPE_AGGR_PID"
}

// walk calls fn with the type and value of each netlink attribute in b.
func walk(b []byte, fn func(typ uint16, v []byte) error) error {
	for len(b) > 0 {
		if len(b) < nlaHeader {
			return fmt.Errorf("%w: %d trailing bytes, shorter than an attribute header", ErrMalformed, len(b))
		}
		n := int(ne.Uint16(b))
		if n < nlaHeader || n > len(b) {
			return fmt.Errorf("%w: attribute of length %d in %d bytes", ErrMalformed, n, len(b))
		}
		if err := fn(ne.Uint16(b[2:])&nlaTypeMask, b[nlaHeader:n]); err != nil {
			return err
		}
		// Attributes are padded to 4 bytes; the last one may not be.
		b = b[min(len(b), (n+3)&^3):]
	}
	return nil
}

// DecodeStats decodes a struct taskstats, the value of a
// TASKSTATS_TYPE_STATS attribute. It reads a field only when the struct's
// version has it and b holds it; a payload shorter than the version-2
// basic accounting fields, or of version 0, gives an error wrapping
// ErrMalformed.
func DecodeStats(b []byte) (Record, error) {
	if len(b) < minStats {
		return Record{}, fmt.Errorf("%w: struct taskstats of %d bytes, want at least %d", ErrMalformed, len(b), minStats)
	}
	v := ne.Uint16(b[offVersion:])
	if v < 2 {
		return Record{}, fmt.Errorf("%w: struct taskstats version %d, want 2 or later", ErrMalformed, v)
	}
	u32 := func(off int) uint32 { return ne.Uint32(b[off:]) }
	u64 := func(off int) uint64 { return ne.Uint64(b[off:]) }
	has := func(since uint16, off, size int) bool { return v >= since && len(b) >= off+size }
	comm := b[offComm : offComm+commField]
	if i := bytes.IndexByte(comm, 0); i >= 0 {
		comm = comm[:i]
	} else {
		return Record{}, fmt.Errorf("%w: ac_comm without its NUL in %d bytes", ErrMalformed, commField)
	}
	r := Record{
		Version:     v,
		ExitCode:    u32(offExitCode),
		Flags:       b[offFlag],
		Comm:        string(comm),
		UID:         u32(offUID),
		GID:         u32(offGID),
		PID:         u32(offPID),
		PPID:        u32(offPPID),
		BeginTime:   int64(u32(offBtime)),
		Elapsed:     micros(u64(offEtime)),
		UserCPU:     micros(u64(offUtime)),
		SystemCPU:   micros(u64(offStime)),
		MinorFaults: u64(offMinflt),
		MajorFaults: u64(offMajflt),
		RunTime:     time.Duration(min(u64(offRunVirt), 1<<63-1)),
	}
	if has(3, offWriteB, 8) {
		r.ReadBytes, r.WriteBytes = u64(offReadB), u64(offWriteB)
	}
	if has(3, offNivcsw, 8) {
		r.VoluntarySwitches, r.InvoluntarySwitches = u64(offNvcsw), u64(offNivcsw)
	}
	if has(10, offBtime64, 8) {
		if bt := u64(offBtime64); bt != 0 && bt < 1<<62 {
			r.BeginTime = int64(bt)
		}
	}
	if has(13, offTGID, 4) {
		r.TGID = u32(offTGID)
	}
	if has(13, offExeInode, 8) {
		r.ExeDev, r.ExeInode = u64(offExeDev), u64(offExeInode)
	}
	return r, nil
}

// micros turns a count of microseconds into a Duration, saturating
// rather than wrapping on a value no task can have used.
func micros(us uint64) time.Duration {
	const most = uint64(1<<63-1) / uint64(time.Microsecond)
	if us > most {
		return time.Duration(1<<63 - 1)
	}
	return time.Duration(us) * time.Microsecond
}
