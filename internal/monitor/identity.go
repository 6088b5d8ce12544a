package monitor

import (
	"bytes"
	"strconv"
	"strings"

	"github.com/procwatch/procwatch/internal/pattern"
)

// parseRealUID returns the real uid of a process from (the beginning of) its
// /proc/PID/status: the first of the four ids of the Uid line, the others
// being the effective, saved and filesystem uids. The real uid is the user
// a process runs for, the one ps -U and pgrep -U select by: a setuid
// program such as passwd, run by alice, is alice's process.
func parseRealUID(status []byte) (uint32, bool) {
	line := status
	for {
		if rest, ok := bytes.CutPrefix(line, []byte("Uid:")); ok {
			rest = bytes.TrimLeft(rest, " \t")
			end := bytes.IndexAny(rest, " \t\n")
			if end < 0 {
				return 0, false // cut before the end of the field
			}
			uid, err := strconv.ParseUint(string(rest[:end]), 10, 32)
			if err != nil {
				return 0, false
			}
			return uint32(uid), true
		}
		i := bytes.IndexByte(line, '\n')
		if i < 0 {
			return 0, false
		}
		line = line[i+1:]
	}
}

// parseCgroups returns, from a /proc/PID/cgroup file, the cgroup v2 path
// (the "0::" line) and the path in the named systemd hierarchy of a cgroup
// v1 host ("1:name=systemd:"), each empty when absent. A path may itself
// contain ':' (kubelet names some cgroups "slice:runtime:id"), so only the
// first two of a line separate fields.
func parseCgroups(file []byte) (v2, systemdV1 string) {
	for _, line := range strings.Split(string(file), "\n") {
		hier, rest, ok := strings.Cut(line, ":")
		if !ok {
			continue
		}
		controllers, path, ok := strings.Cut(rest, ":")
		if !ok {
			continue
		}
		switch {
		case hier == "0" && controllers == "":
			v2 = path
		case controllers == "name=systemd":
			systemdV1 = path
		}
	}
	return v2, systemdV1
}

// unitSuffixes are the systemd unit types whose cgroups hold processes:
// services and scopes, and the helpers that socket, mount and swap units
// run. A slice only groups other units' cgroups.
var unitSuffixes = []string{".service", ".scope", ".socket", ".mount", ".swap"}

// unitOf returns the systemd unit a process in the cgroup at path runs in,
// or "" when none: the first component after the leading slices, when it
// names a unit. That is systemd's own rule (sd_pid_get_unit), so "unit:"
// agrees with systemctl status PID, ps -o unit and journald's
// _SYSTEMD_UNIT:
//
//	/system.slice/nginx.service                         nginx.service
//	/user.slice/user-1000.slice/session-3.scope         session-3.scope
//	/system.slice/docker.service/abc                    docker.service
//	/user.slice/user-1000.slice/user@1000.service/app.slice/x.scope
//	                                                    user@1000.service
//	/kubepods/burstable/pod1/abc (no systemd)           ""
//
// A cgroup below a unit's own (a delegated subtree: docker's, a user's
// systemd, a container runtime's) belongs to that unit, which is what
// stopping or restarting it acts on; the units of a user's systemd
// instance are selected by cgroup: instead. A path seen through another
// cgroup namespace ("/../../system.slice/x.service") names no unit.
func unitOf(path string) string {
	rest := strings.TrimPrefix(path, "/")
	for rest != "" {
		comp, next, _ := strings.Cut(rest, "/")
		if !strings.HasSuffix(comp, ".slice") {
			for _, suf := range unitSuffixes {
				if len(comp) > len(suf) && strings.HasSuffix(comp, suf) {
					return comp
				}
			}
			return ""
		}
		rest = next
	}
	return ""
}

// selectorKinds are the kinds of glob whose property a Source reads from
// files of its own, and only while such a glob is in force.
var selectorKinds = pattern.KindsOf(pattern.User, pattern.Unit, pattern.Cgroup)

// cgroupAndUnit reads a /proc/PID/cgroup file: the cgroup v2 path, and the
// systemd unit, from that path or, on a host on cgroup v1, from systemd's
// named hierarchy. A scan and a read at an exec both use it.
func cgroupAndUnit(file []byte) (cgroup, unit string) {
	v2, v1 := parseCgroups(file)
	if unit = unitOf(v2); unit == "" {
		unit = unitOf(v1)
	}
	return v2, unit
}
