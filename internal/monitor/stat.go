package monitor

import "bytes"

// procStat holds the fields of /proc/PID/stat the monitor uses. Most of
// what the metrics need is in that one file (threads, rss, vsize and the
// page faults as well); the files read beside it for matched processes
// hold only what stat lacks (see details.go).
type procStat struct {
	comm    []byte // aliases the parsed buffer
	state   byte
	flags   uint64 // field 9
	minflt  uint64 // field 10
	majflt  uint64 // field 12
	utime   uint64 // field 14, clock ticks
	stime   uint64 // field 15, clock ticks
	threads uint64 // field 20
	start   uint64 // field 22, clock ticks since boot
	vsize   uint64 // field 23, bytes
	rss     uint64 // field 24, pages
}

// pfKthread is the PF_KTHREAD bit of the stat flags field: a kernel thread,
// which has no executable or command line to read.
const pfKthread = 0x00200000

// userHZ is the unit of the clock-tick fields of /proc/PID/stat. The kernel
// reports them in USER_HZ, which is 100 on every architecture Linux supports
// today; procfs and process-exporter assume the same.
const userHZ = 100

// maxComm bounds the comm the kernel prints: 15 bytes for a user process,
// up to 63 for a kernel thread with a long (workqueue) name.
const maxComm = 64

// parseStat parses the content of /proc/PID/stat into st without allocating.
// With full false it stops at the start time (field 22), which is all the
// hot path needs; with full true it goes on to vsize and rss, and parses
// the page faults, CPU times and thread count as well.
//
// The comm is whatever lies between the first '(' and the last ')': a
// process may put spaces, parentheses and even newlines in its comm, but the
// fields after it are numbers and a state letter, so the last ')' is always
// the comm's own. Since Go's LastIndexByte is a plain backward loop that
// would walk the ~150 bytes of numbers first, the ')' is looked for in the
// longest possible comm and, only if another ')' follows (which would mean
// a longer comm than the kernel prints), in the whole line.
func parseStat(b []byte, st *procStat, full bool) bool {
	l := bytes.IndexByte(b, '(')
	if l < 0 {
		return false
	}
	end := min(len(b), l+maxComm+2)
	r := bytes.LastIndexByte(b[:end], ')')
	if bytes.IndexByte(b[end:], ')') >= 0 {
		r = bytes.LastIndexByte(b, ')')
	}
	if r < l {
		return false
	}
	st.comm = b[l+1 : r]
	last := 22
	if full {
		last = 24
	}
	i := r + 1
	for field := 3; field <= last; field++ {
		for i < len(b) && b[i] == ' ' {
			i++
		}
		j := i
		for j < len(b) && b[j] != ' ' && b[j] != '\n' {
			j++
		}
		if j == i {
			return false // the file ended before the last field wanted
		}
		tok := b[i:j]
		i = j
		var dst *uint64
		switch field {
		case 3:
			st.state = tok[0]
			continue
		case 9:
			dst = &st.flags
		case 10:
			dst = &st.minflt
		case 12:
			dst = &st.majflt
		case 22:
			dst = &st.start
		case 14:
			dst = &st.utime
		case 15:
			dst = &st.stime
		case 20:
			dst = &st.threads
		case 23:
			dst = &st.vsize
		case 24:
			dst = &st.rss
		default:
			continue
		}
		if !full && field != 9 && field != 22 {
			continue
		}
		v, ok := parseUint(tok)
		if !ok {
			return false
		}
		*dst = v
	}
	return true
}

// parseUint parses a decimal number. A negative number, which the kernel
// prints for signed fields that are never negative in practice (rss), reads
// as 0 rather than failing the whole process.
func parseUint(b []byte) (uint64, bool) {
	if len(b) > 1 && b[0] == '-' {
		for _, c := range b[1:] {
			if c < '0' || c > '9' {
				return 0, false
			}
		}
		return 0, true
	}
	var v uint64
	for _, c := range b {
		if c < '0' || c > '9' {
			return 0, false
		}
		d := uint64(c - '0')
		if v > (1<<64-1-d)/10 {
			return 0, false
		}
		v = v*10 + d
	}
	return v, len(b) > 0
}

// parsePID parses a directory entry name as a pid; anything that is not a
// positive decimal number that fits a pid (the non-process entries of /proc,
// such as "self" or "sys") gives false.
func parsePID(name []byte) (int32, bool) {
	if len(name) == 0 || len(name) > 10 || name[0] == '0' {
		return 0, false
	}
	var v int64
	for _, c := range name {
		if c < '0' || c > '9' {
			return 0, false
		}
		v = v*10 + int64(c-'0')
	}
	if v > 1<<31-1 {
		return 0, false
	}
	return int32(v), true
}

// parseIO takes read_bytes and write_bytes from the content of
// /proc/PID/io, without allocating. ok is false if either is missing.
func parseIO(b []byte) (read, write uint64, ok bool) {
	var gotRead, gotWrite bool
	for len(b) > 0 {
		line := b
		if i := bytes.IndexByte(b, '\n'); i >= 0 {
			line, b = b[:i], b[i+1:]
		} else {
			b = nil
		}
		colon := bytes.IndexByte(line, ':')
		if colon < 0 {
			continue
		}
		key, val := line[:colon], bytes.TrimLeft(line[colon+1:], " ")
		switch string(key) {
		case "read_bytes":
			read, gotRead = parseUint(val)
		case "write_bytes":
			write, gotWrite = parseUint(val)
		}
	}
	return read, write, gotRead && gotWrite
}
