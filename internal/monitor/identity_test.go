package monitor

import (
	"testing"

	"github.com/google/go-cmp/cmp"
)

func TestParseRealUID(t *testing.T) {
	head := "Name:\tsleep\nUmask:\t0022\nState:\tS (sleeping)\nTgid:\t42\nNgid:\t0\nPid:\t42\nPPid:\t1\nTracerPid:\t0\n"
	for _, tt := range []struct {
		name, status string
		uid          uint32
		ok           bool
	}{
		{"real uid is the first of four", head + "Uid:\t1000\t0\t0\t0\nGid:\t1000\t1000\t1000\t1000\n", 1000, true},
		{"root", head + "Uid:\t0\t0\t0\t0\n", 0, true},
		{"nobody", head + "Uid:\t65534\t65534\t65534\t65534\n", 65534, true},
		{"the largest uid", head + "Uid:\t4294967294\t0\t0\t0\n", 4294967294, true},
		{"first line", "Uid:\t7\t7\t7\t7\n", 7, true},
		{"no Uid line", head, 0, false},
		{"cut inside the field (a short read)", head + "Uid:\t100", 0, false},
		{"not a number", head + "Uid:\tx\t0\t0\t0\n", 0, false},
		{"out of range", head + "Uid:\t4294967296\t0\t0\t0\n", 0, false},
		{"a name containing Uid: is not the line", "Name:\tUid:\t5\nUid:\t6\t6\t6\t6\n", 6, true},
		{"empty", "", 0, false},
	} {
		uid, ok := parseRealUID([]byte(tt.status))
		if uid != tt.uid || ok != tt.ok {
			t.Errorf("%s: parseRealUID = %d, %v; want %d, %v", tt.name, uid, ok, tt.uid, tt.ok)
		}
	}
}

func TestParseCgroups(t *testing.T) {
	for _, tt := range []struct {
		name, file, v2, v1 string
	}{
		{"cgroup v2 only", "0::/system.slice/nginx.service\n", "/system.slice/nginx.service", ""},
		{"hybrid", "12:pids:/system.slice/nginx.service\n1:name=systemd:/system.slice/nginx.service\n0::/system.slice/nginx.service\n",
			"/system.slice/nginx.service", "/system.slice/nginx.service"},
		{"v1 only", "4:memory:/system.slice/cron.service\n1:name=systemd:/system.slice/cron.service\n", "", "/system.slice/cron.service"},
		{"a path with colons", "0::/kubepods-burstable-pod1.slice:cri-containerd:abc\n", "/kubepods-burstable-pod1.slice:cri-containerd:abc", ""},
		{"root", "0::/\n", "/", ""},
		{"no newline at the end", "0::/a", "/a", ""},
		{"garbage", "nonsense\n\n:\n", "", ""},
		{"a v1 controller named nothing is not v2", "3::/x\n", "", ""},
	} {
		v2, v1 := parseCgroups([]byte(tt.file))
		if v2 != tt.v2 || v1 != tt.v1 {
			t.Errorf("%s: parseCgroups = %q, %q; want %q, %q", tt.name, v2, v1, tt.v2, tt.v1)
		}
	}
}

func TestUnitOf(t *testing.T) {
	tests := map[string]string{
		"/system.slice/nginx.service":                                                                    "nginx.service",
		"/user.slice/user-1000.slice/session-3.scope":                                                    "session-3.scope",
		"/system.slice/system-getty.slice/getty@tty1.service":                                            "getty@tty1.service",
		"/system.slice/docker.service/abc":                                                               "docker.service",
		"/system.slice/docker-0123abcd.scope":                                                            "docker-0123abcd.scope",
		"/user.slice/user-1000.slice/user@1000.service/app.slice/firefox.scope":                          "user@1000.service",
		"/kubepods.slice/kubepods-burstable.slice/kubepods-burstable-pod1.slice/cri-containerd-ab.scope": "cri-containerd-ab.scope",
		"/system.slice/ssh.socket":                                                                       "ssh.socket",
		"/system.slice/home.mount":                                                                       "home.mount",
		"/system.slice/dev-sda2.swap":                                                                    "dev-sda2.swap",
		"/init.scope":                                                                                    "init.scope",
		"/":                                                                                              "",
		"":                                                                                               "",
		"/system.slice":                                                                                  "",
		"/user.slice/user-1000.slice":                                                                    "",
		"/kubepods/burstable/pod1/abc":                                                                   "",
		"/docker/0123abcd":                                                                               "",
		"/../../system.slice/nginx.service":                                                              "",
		"/system.slice/.service":                                                                         "",
		"/system.slice/multi-user.target":                                                                "",
		"/system.slice/not-a-unit/nginx.service":                                                         "",
	}
	got := map[string]string{}
	for path := range tests {
		got[path] = unitOf(path)
	}
	if diff := cmp.Diff(tests, got); diff != "" {
		t.Errorf("unitOf mismatch (-want +got):\n%s", diff)
	}
}
