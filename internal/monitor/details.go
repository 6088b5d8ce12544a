package monitor

import "bytes"

// The parsers of the files read beside stat for matched processes only:
// status (context switches, swap), limits (the fd soft limit) and, with
// WithPSS, smaps_rollup. Like parseStat and parseIO they allocate nothing,
// and a field they do not find leaves its value 0: a zombie has no VmSwap
// line, an old kernel no smaps_rollup.

// procStatus holds the fields of /proc/PID/status the monitor uses.
type procStatus struct {
	voluntary, involuntary uint64
	swap                   uint64 // bytes
}

// parseStatus takes the context switch counts and VmSwap from the content
// of /proc/PID/status.
func parseStatus(b []byte, st *procStatus) {
	for len(b) > 0 {
		var key, val []byte
		key, val, b = nextField(b)
		switch string(key) {
		case "VmSwap":
			st.swap, _ = parseKB(val)
		case "voluntary_ctxt_switches":
			st.voluntary, _ = parseUint(val)
		case "nonvoluntary_ctxt_switches":
			st.involuntary, _ = parseUint(val)
		}
	}
}

// parsePSS takes Pss from the content of /proc/PID/smaps_rollup, in bytes.
func parsePSS(b []byte) (uint64, bool) {
	for len(b) > 0 {
		var key, val []byte
		key, val, b = nextField(b)
		if string(key) == "Pss" {
			return parseKB(val)
		}
	}
	return 0, false
}

// unlimited is the value of a limit the kernel prints as "unlimited".
const unlimited = 1<<64 - 1

// parseFDLimit takes the soft limit of "Max open files" from the content
// of /proc/PID/limits, whose lines are a name padded to 25 columns and the
// soft and hard limits, then the unit.
func parseFDLimit(b []byte) (uint64, bool) {
	const name = "Max open files"
	i := bytes.Index(b, []byte(name))
	if i < 0 {
		return 0, false
	}
	b = bytes.TrimLeft(b[i+len(name):], " \t")
	end := bytes.IndexAny(b, " \t\n")
	if end < 0 {
		end = len(b)
	}
	tok := b[:end]
	if string(tok) == "unlimited" {
		return unlimited, true
	}
	return parseUint(tok)
}

// nextField splits the first "key: value" line off b. The value has its
// leading blanks removed and may end in a unit ("kB").
func nextField(b []byte) (key, val, rest []byte) {
	line := b
	if i := bytes.IndexByte(b, '\n'); i >= 0 {
		line, rest = b[:i], b[i+1:]
	}
	colon := bytes.IndexByte(line, ':')
	if colon < 0 {
		return nil, nil, rest
	}
	return line[:colon], bytes.TrimLeft(line[colon+1:], " \t"), rest
}

// parseKB parses a "<n> kB" value into bytes.
func parseKB(val []byte) (uint64, bool) {
	if i := bytes.IndexByte(val, ' '); i >= 0 {
		val = val[:i]
	}
	v, ok := parseUint(val)
	return v << 10, ok
}
