package procevents

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// fakeProc lays out <root>/<pid>/ns/<kind> links as /proc has them; an
// inode of 0 leaves the link out, as when pid 1's are hidden.
func fakeProc(t *testing.T, links map[string]uint64) string {
	t.Helper()
	root := t.TempDir()
	for name, ino := range links {
		if ino == 0 {
			continue
		}
		pid, kind, _ := strings.Cut(name, "/")
		dir := filepath.Join(root, pid, "ns")
		if err := os.MkdirAll(dir, 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.Symlink(fmt.Sprintf("%s:[%d]", kind, ino), filepath.Join(dir, kind)); err != nil {
			t.Fatal(err)
		}
	}
	return root
}

func TestCheckNamespaces(t *testing.T) {
	const oldKernelNet = 4026531992 // an initial network namespace numbered like any other
	host := map[string]uint64{"self/user": initUserNS, "self/pid": initPIDNS}
	with := func(extra map[string]uint64) map[string]uint64 {
		m := map[string]uint64{}
		for k, v := range host {
			m[k] = v
		}
		for k, v := range extra {
			m[k] = v
		}
		return m
	}
	for _, tc := range []struct {
		name  string
		links map[string]uint64
		why   string // in the error; "" for no error
	}{
		{"the host, a recent kernel", with(map[string]uint64{"self/net": initNetNS}), ""},
		{"the host, an older kernel", with(map[string]uint64{"self/net": oldKernelNet, "1/net": oldKernelNet}), ""},
		{"the host, pid 1 hidden", with(map[string]uint64{"self/net": oldKernelNet}), ""},
		{"no /proc", nil, ""},
		{"a container's network", with(map[string]uint64{"self/net": 4026532300, "1/net": initNetNS}),
			"in network namespace net:[4026532300], the host's (pid 1's) is net:[4026531833]"},
		{"a container's PIDs", with(map[string]uint64{"self/pid": 4026532301, "self/net": initNetNS}),
			"in pid namespace pid:[4026532301], not the initial one"},
		{"a user namespace", with(map[string]uint64{"self/user": 4026532302, "self/net": initNetNS}),
			"in user namespace user:[4026532302], not the initial one"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			err := checkNamespaces(fakeProc(t, tc.links))
			switch {
			case tc.why == "" && err != nil:
				t.Fatalf("checkNamespaces: %v; want no objection", err)
			case tc.why != "" && (!errors.Is(err, ErrNamespace) || !strings.Contains(err.Error(), tc.why)):
				t.Fatalf("checkNamespaces: %v; want ErrNamespace saying %q", err, tc.why)
			}
		})
	}
}
