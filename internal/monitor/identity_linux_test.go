//go:build linux

package monitor

import (
	"fmt"
	"os"
	"os/user"
	"path/filepath"
	"strconv"
	"testing"

	"github.com/google/go-cmp/cmp"
)

// statusOf renders the head of /proc/PID/status for a real uid, with the
// effective, saved and filesystem uids different, as a setuid program has.
func statusOf(comm string, uid int) string {
	return fmt.Sprintf("Name:\t%s\nUmask:\t0022\nState:\tS (sleeping)\nTgid:\t1\nNgid:\t0\nPid:\t1\nPPid:\t0\nTracerPid:\t0\n"+
		"Uid:\t%d\t%d\t%d\t%d\nGid:\t0\t0\t0\t0\nFDSize:\t64\n", comm, uid, uid+1, uid+1, uid+1)
}

// writeProcFile writes one file of a process of a fixture copy.
func writeProcFile(t *testing.T, root, pid, file, content string) {
	t.Helper()
	if err := os.WriteFile(filepath.Join(root, pid, file), []byte(content), 0o644); err != nil {
		t.Fatal(err)
	}
}

// selectorTree is a copy of testdata/proc whose processes have users and
// cgroups: two cgroup v2 services, a session, a cgroup v1 host's process,
// the root cgroup, processes without the files (unknown) and one with a
// status file that has no Uid line.
func selectorTree(t *testing.T) string {
	t.Helper()
	root := copyProcTree(t)
	for pid, f := range map[string]struct {
		uid    int
		cgroup string
	}{
		"1":   {0, "0::/init.scope\n"},
		"2":   {0, "0::/\n"},
		"200": {0, "0::/system.slice/nginx.service\n"},
		"201": {33, "0::/system.slice/nginx.service\n"},
		"400": {4242, "0::/user.slice/user-1000.slice/session-3.scope\n"},
		"500": {33, "4:memory:/system.slice/cron.service\n1:name=systemd:/system.slice/cron.service\n"},
	} {
		writeProcFile(t, root, pid, "status", statusOf("x", f.uid))
		writeProcFile(t, root, pid, "cgroup", f.cgroup)
	}
	writeProcFile(t, root, "600", "status", "Name:\tbackup.py\nState:\tS (sleeping)\n")
	return root
}

// fakePasswd names uids 0 and 33 and nothing else.
func fakePasswd(uid string) (string, error) {
	switch uid {
	case "0":
		return "root", nil
	case "33":
		return "www-data", nil
	}
	n, _ := strconv.Atoi(uid)
	return "", user.UnknownUserIdError(n)
}

func TestLinuxSourceSelectorsFixture(t *testing.T) {
	s := newFixtureSource(t, selectorTree(t))
	s.sel.users.lookup = fakePasswd
	m, errs := Compile([]string{
		"user:root", "user:www-data", "user:4242", "user:*",
		"unit:nginx.service", "unit:session-*.scope", "unit:cron.service", "unit:*",
		"cgroup:/system.slice/*", "cgroup:/user.slice/**", "cgroup:/",
	})
	if errs != nil {
		t.Fatal(errs)
	}
	snap := scanOrFail(t, s, m)
	// 600's status has no Uid line: counted, and its user unknown.
	if snap.Scanned != len(fixtureProcs) || snap.Errors != 1 {
		t.Errorf("Scanned, Errors = %d, %d; want %d, 1", snap.Scanned, snap.Errors, len(fixtureProcs))
	}
	want := []matchSummary{
		{1, "systemd", []string{"user:root", "user:*", "unit:*"}},
		{2, "kthreadd", []string{"user:root", "user:*", "cgroup:/"}},
		// The fixture's own status files (uid 0), no cgroup file.
		{100, "kube-controller-manager", []string{"user:root", "user:*"}},
		{200, "nginx", []string{"user:root", "user:*", "unit:nginx.service", "unit:*", "cgroup:/system.slice/*"}},
		{201, "nginx", []string{"user:www-data", "user:*", "unit:nginx.service", "unit:*", "cgroup:/system.slice/*"}},
		{300, "x (y) z)", []string{"user:root", "user:*"}},
		{400, "sleep", []string{"user:4242", "user:*", "unit:session-*.scope", "unit:*", "cgroup:/user.slice/**"}},
		// cgroup v1 only: the unit from systemd's hierarchy, no v2 path.
		{500, "sleep", []string{"user:www-data", "user:*", "unit:cron.service", "unit:*"}},
	}
	if diff := cmp.Diff(want, summarize(m, snap)); diff != "" {
		t.Errorf("matches mismatch (-want +got):\n%s", diff)
	}
	got := map[int][3]string{}
	for _, p := range snap.Procs {
		got[p.PID] = [3]string{p.User, p.Unit, p.Cgroup}
	}
	wantProcs := map[int][3]string{
		1:   {"root", "init.scope", "/init.scope"},
		2:   {"root", "", "/"},
		100: {"root", "", ""},
		200: {"root", "nginx.service", "/system.slice/nginx.service"},
		201: {"www-data", "nginx.service", "/system.slice/nginx.service"},
		300: {"root", "", ""},
		400: {"4242", "session-3.scope", "/user.slice/user-1000.slice/session-3.scope"},
		500: {"www-data", "cron.service", ""},
	}
	if diff := cmp.Diff(wantProcs, got); diff != "" {
		t.Errorf("user, unit, cgroup per pid (-want +got):\n%s", diff)
	}
}

// TestLinuxSourceReadsSelectorsOnlyWhenNeeded: status and cgroup are not
// read while no glob of their kind is in force, and once read are not read
// again for the same process, whatever Matcher comes next.
func TestLinuxSourceReadsSelectorsOnlyWhenNeeded(t *testing.T) {
	root := selectorTree(t)
	s := newFixtureSource(t, root)
	s.sel.users.lookup = fakePasswd
	// A directory in place of a file is an error if read.
	unreadable := func(files ...string) {
		t.Helper()
		for _, p := range fixtureProcs {
			for _, f := range files {
				path := filepath.Join(root, strconv.Itoa(p.PID), f)
				if err := os.RemoveAll(path); err != nil {
					t.Fatal(err)
				}
				if err := os.Mkdir(path, 0o755); err != nil {
					t.Fatal(err)
				}
			}
		}
	}
	names, _ := Compile([]string{"nginx", "/usr/**", "cmdline:*"})
	users, _ := Compile([]string{"user:www-data"})
	cgroups, _ := Compile([]string{"cgroup:/system.slice/*", "unit:nginx.service"})

	// Read once (first and second sighting) while needed...
	for range 2 {
		if snap := scanOrFail(t, s, users); len(snap.Procs) != 2 || snap.Errors != 1 {
			t.Fatalf("user:www-data matched %d processes with %d errors, want 2 and 1 (600)", len(snap.Procs), snap.Errors)
		}
	}
	unreadable("status")
	// ...then neither for another list nor for the same kind again.
	if snap := scanOrFail(t, s, names); snap.Errors != 0 {
		t.Errorf("a list without user: globs read status: %d errors", snap.Errors)
	}
	again, _ := Compile([]string{"user:www-data", "user:root"})
	if snap := scanOrFail(t, s, again); snap.Errors != 0 || len(snap.Procs) != 7 {
		t.Errorf("users known already were read again: %d errors, %d matched", snap.Errors, len(snap.Procs))
	}
	// The cgroup file was never needed so far: it is read now, not before.
	if snap := scanOrFail(t, s, cgroups); snap.Errors != 0 || len(snap.Procs) != 2 {
		t.Errorf("cgroup:/system.slice/* matched %d with %d errors, want 2 and 0", len(snap.Procs), snap.Errors)
	}
	unreadable("cgroup")
	if snap := scanOrFail(t, s, cgroups); snap.Errors != 0 || len(snap.Procs) != 2 {
		t.Errorf("cached cgroups were read again: %d errors, %d matched", snap.Errors, len(snap.Procs))
	}
}

// TestLinuxSourceSelectorsFollowExec: the user and cgroup are kept per
// process, and read afresh when the process is a new one (exec, which
// changes its comm, or a reused pid).
func TestLinuxSourceSelectorsFollowExec(t *testing.T) {
	root := selectorTree(t)
	s := newFixtureSource(t, root)
	s.sel.users.lookup = fakePasswd
	m, _ := Compile([]string{"user:4242", "user:www-data", "cgroup:/system.slice/*"})
	scanOrFail(t, s, m)
	scanOrFail(t, s, m)
	// A change alone is not seen: the values are kept for the process.
	writeProcFile(t, root, "400", "status", statusOf("sleep", 33))
	writeProcFile(t, root, "400", "cgroup", "0::/system.slice/moved.service\n")
	users := func() []matchSummary { return summarize(m, scanOrFail(t, s, m)) }
	if got := users(); len(got) != 4 || got[2].PID != 400 || got[2].Globs[0] != "user:4242" {
		t.Errorf("after a change of user alone: %+v, want 400 still user:4242", got)
	}
	// exec: a new comm, so the identity, user and cgroup are read again.
	p := fixtureProcs[6]
	p.Comm = "setuid-helper"
	writeProcFile(t, root, "400", "stat", p.StatLine())
	var p400 []string
	for _, g := range users() {
		if g.PID == 400 {
			p400 = g.Globs
		}
	}
	if diff := cmp.Diff([]string{"user:www-data", "cgroup:/system.slice/*"}, p400); diff != "" {
		t.Errorf("after exec, pid 400 matches (-want +got):\n%s", diff)
	}
}
