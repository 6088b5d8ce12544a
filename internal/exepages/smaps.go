package exepages

import (
	"bytes"
	"fmt"
	"strconv"
)

// mapping is one entry of /proc/PID/smaps, reduced to what Release needs.
type mapping struct {
	start, end uintptr
	perms      string // "r-xp": read, write, execute, private or shared
	path       string
	rss        int64 // bytes
	anonymous  int64 // bytes
}

// releasable picks the mappings of exe whose pages Release may drop: read,
// not written and never writable, private, and without anonymous pages.
func releasable(maps []mapping, exe string) []mapping {
	var out []mapping
	for _, m := range maps {
		if m.path != exe || len(m.perms) != 4 || m.perms[0] != 'r' || m.perms[1] != '-' || m.perms[3] != 'p' {
			continue
		}
		if m.anonymous != 0 || m.rss == 0 {
			continue
		}
		out = append(out, m)
	}
	return out
}

// parseSmaps reads the mappings of an smaps file (proc_pid_smaps(5)): a
// header line "start-end perms offset dev inode [path]" followed by
// "Field:  N kB" lines.
func parseSmaps(b []byte) ([]mapping, error) {
	var maps []mapping
	for n, line := range bytes.Split(b, []byte("\n")) {
		if len(line) == 0 {
			continue
		}
		name, value, isField := field(line)
		if isField {
			if len(maps) == 0 {
				return nil, fmt.Errorf("exepages: smaps line %d: field before any mapping", n+1)
			}
			m := &maps[len(maps)-1]
			var dst *int64
			switch name {
			case "Rss":
				dst = &m.rss
			case "Anonymous":
				dst = &m.anonymous
			default:
				continue
			}
			kb, err := strconv.ParseInt(value, 10, 64)
			if err != nil {
				return nil, fmt.Errorf("exepages: smaps line %d: %s: %w", n+1, name, err)
			}
			*dst = kb << 10
			continue
		}
		m, err := parseHeader(line)
		if err != nil {
			return nil, fmt.Errorf("exepages: smaps line %d: %w", n+1, err)
		}
		maps = append(maps, m)
	}
	return maps, nil
}

// field splits "Name:   123 kB" into its name and number; a header line
// (whose first word holds a '-') is not a field.
func field(line []byte) (name, value string, ok bool) {
	colon := bytes.IndexByte(line, ':')
	if colon <= 0 || bytes.IndexByte(line[:colon], '-') >= 0 || bytes.IndexByte(line[:colon], ' ') >= 0 {
		return "", "", false
	}
	words := bytes.Fields(line[colon+1:])
	if len(words) == 0 {
		return string(line[:colon]), "", true
	}
	return string(line[:colon]), string(words[0]), true
}

// parseHeader reads a mapping's header line.
func parseHeader(line []byte) (mapping, error) {
	f := bytes.Fields(line)
	if len(f) < 5 {
		return mapping{}, fmt.Errorf("malformed mapping %q", line)
	}
	lo, hi, ok := bytes.Cut(f[0], []byte("-"))
	if !ok {
		return mapping{}, fmt.Errorf("malformed address range %q", f[0])
	}
	start, err := strconv.ParseUint(string(lo), 16, 64)
	if err != nil {
		return mapping{}, fmt.Errorf("address range %q: %w", f[0], err)
	}
	end, err := strconv.ParseUint(string(hi), 16, 64)
	if err != nil || end < start {
		return mapping{}, fmt.Errorf("malformed address range %q", f[0])
	}
	m := mapping{start: uintptr(start), end: uintptr(end), perms: string(f[1])}
	if len(f) > 5 {
		m.path = string(rest(line, 5))
	}
	return m, nil
}

// rest is what follows the first n space-separated fields of line, which
// for a header is the path: it may hold spaces of its own.
func rest(line []byte, n int) []byte {
	for range n {
		line = bytes.TrimLeft(line, " ")
		if i := bytes.IndexByte(line, ' '); i >= 0 {
			line = line[i:]
		} else {
			return nil
		}
	}
	return bytes.TrimRight(bytes.TrimLeft(line, " "), " ")
}
