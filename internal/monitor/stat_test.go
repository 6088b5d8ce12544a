package monitor

import (
	"bytes"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

func TestParseStat(t *testing.T) {
	const tail = " S 1 42 42 0 -1 4194560 100 0 0 0 11 22 -3 0 20 0 7 0 123456 987654 321 18446744073709551615 1 1 0 0 0 0 0 0 0 0 0 0 17 0 0 0 0 0 0 0 0 0 0 0 0 0 0\n"
	type fields struct {
		Comm    string
		State   byte
		Flags   uint64
		UTime   uint64
		STime   uint64
		Threads uint64
		Start   uint64
		VSize   uint64
		RSS     uint64
	}
	want := func(comm string) fields {
		return fields{Comm: comm, State: 'S', Flags: 4194560, UTime: 11, STime: 22, Threads: 7, Start: 123456, VSize: 987654, RSS: 321}
	}
	tests := []struct {
		name string
		in   string
		want fields
		ok   bool
	}{
		{"plain", "42 (nginx)" + tail, want("nginx"), true},
		{"comm with spaces", "42 (tmux: server)" + tail, want("tmux: server"), true},
		{"comm with parentheses", "42 (a (b) c)" + tail, want("a (b) c"), true},
		{"comm with a closing parenthesis and space", "42 (x) 9 9 (y)" + tail, want("x) 9 9 (y"), true},
		{"comm that is only parentheses", "42 ())))" + tail, want(")))"), true},
		{"empty comm", "42 ()" + tail, want(""), true},
		{"15-byte comm", "42 (kube-controller)" + tail, want("kube-controller"), true},
		{"no trailing newline", "42 (x)" + tail[:len(tail)-1], want("x"), true},
		{"negative rss reads as zero", "42 (x) S 1 42 42 0 -1 4194560 100 0 0 0 11 22 -3 0 20 0 7 0 123456 987654 -1 0\n",
			fields{Comm: "x", State: 'S', Flags: 4194560, UTime: 11, STime: 22, Threads: 7, Start: 123456, VSize: 987654}, true},
		{"empty file (process exited)", "", fields{}, false},
		{"no comm", "42 x S 1", fields{}, false},
		{"truncated before start time", "42 (x) S 1 42 42 0 -1 4194560 100 0 0 0 11 22", fields{}, false},
		{"garbage number", "42 (x) S 1 42 42 0 -1 4194560 100 0 0 0 1x 22 -3 0 20 0 7 0 123456 987654 321 0\n", fields{}, false},
		{"overflowing number", "42 (x) S 1 42 42 0 -1 4194560 100 0 0 0 99999999999999999999 22 -3 0 20 0 7 0 123456 987654 321 0\n", fields{}, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var st procStat
			ok := parseStat([]byte(tt.in), &st, true)
			if ok != tt.ok {
				t.Fatalf("parseStat(%q) ok = %v, want %v", tt.in, ok, tt.ok)
			}
			if !ok {
				return
			}
			got := fields{Comm: string(st.comm), State: st.state, Flags: st.flags, UTime: st.utime, STime: st.stime,
				Threads: st.threads, Start: st.start, VSize: st.vsize, RSS: st.rss}
			if diff := cmp.Diff(tt.want, got); diff != "" {
				t.Errorf("parseStat(%q) mismatch (-want +got):\n%s", tt.in, diff)
			}
		})
	}
}

func TestParseStatDoesNotAllocate(t *testing.T) {
	line := []byte("4242 (kube-controller) S 1 42 42 0 -1 4194560 100 0 0 0 11 22 0 0 20 0 7 0 123456 987654 321 18446744073709551615 1 1 0 0 0 0 0 0 0 0 0 0 17 0 0 0 0 0 0 0 0 0 0 0 0 0 0\n")
	var st procStat
	if n := testing.AllocsPerRun(100, func() { parseStat(line, &st, false); parseStat(line, &st, true) }); n != 0 {
		t.Errorf("parseStat allocates %v times, want 0", n)
	}
}

func TestParsePID(t *testing.T) {
	for in, want := range map[string]int32{"1": 1, "42": 42, "4194304": 4194304, "2147483647": 2147483647} {
		if got, ok := parsePID([]byte(in)); !ok || got != want {
			t.Errorf("parsePID(%q) = %d, %v; want %d, true", in, got, ok, want)
		}
	}
	for _, in := range []string{"", "0", "01", "self", "thread-self", "sys", "1a", "-1", "2147483648", "99999999999", "."} {
		if got, ok := parsePID([]byte(in)); ok {
			t.Errorf("parsePID(%q) = %d, true; want false", in, got)
		}
	}
}

func TestProcessName(t *testing.T) {
	tests := []struct {
		name    string
		comm    string
		exe     string
		cmdline []string
		want    string
	}{
		{"short comm is complete", "nginx", "/usr/sbin/nginx", []string{"nginx: worker process"}, "nginx"},
		{"cut comm completed from exe", "kube-controller", "/usr/local/bin/kube-controller-manager", nil, "kube-controller-manager"},
		{"cut comm completed from a deleted exe", "kube-controller", cleanExe("/usr/local/bin/kube-controller-manager (deleted)"), nil, "kube-controller-manager"},
		{"cut comm completed from argv[0] when exe is unreadable", "kube-controller", "", []string{"/usr/local/bin/kube-controller-manager", "--v=2"}, "kube-controller-manager"},
		{"argv[0] without a path", "kube-controller", "", []string{"kube-controller-manager"}, "kube-controller-manager"},
		{"exe preferred over argv[0]", "kube-controller", "/opt/kube-controller-manager-1.29", []string{"kube-controller-manager"}, "kube-controller-manager-1.29"},
		{"exe that does not extend the comm is ignored", "kube-controller", "/usr/bin/python3.11", []string{"/usr/bin/python3", "kube-controller-manager.py"}, "kube-controller"},
		{"rewritten argv that does not extend the comm", "systemd-journal", "", []string{"sshd: root@pts/0"}, "systemd-journal"},
		{"busybox applet keeps its comm", "sleep", "/bin/busybox", []string{"sleep", "300"}, "sleep"},
		{"symlinked interpreter keeps its comm", "python3", "/usr/bin/python3.11", []string{"python3"}, "python3"},
		{"kernel thread", "kworker/u8:0-events_unbound", "", nil, "kworker/u8:0-events_unbound"},
		{"15-byte comm that is the whole name", "systemd-journal", "", nil, "systemd-journal"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := processName(tt.comm, tt.exe, tt.cmdline); got != tt.want {
				t.Errorf("processName(%q, %q, %q) = %q, want %q", tt.comm, tt.exe, tt.cmdline, got, tt.want)
			}
		})
	}
}

func TestCleanExe(t *testing.T) {
	for in, want := range map[string]string{
		"/usr/sbin/nginx":                      "/usr/sbin/nginx",
		"/usr/sbin/nginx (deleted)":            "/usr/sbin/nginx",
		"/memfd:sealed-91173221a7ea (deleted)": "/memfd:sealed-91173221a7ea",
		"":                                     "",
	} {
		if got := cleanExe(in); got != want {
			t.Errorf("cleanExe(%q) = %q, want %q", in, got, want)
		}
	}
}

func TestParseStatLazy(t *testing.T) {
	line := []byte("42 (nginx) S 1 42 42 0 -1 4194560 100 0 0 0 11 22 -3 0 20 0 7 0 123456 987654 321 0\n")
	var st procStat
	if !parseStat(line, &st, false) {
		t.Fatal("parseStat failed")
	}
	if string(st.comm) != "nginx" || st.flags != 4194560 || st.start != 123456 || st.utime != 0 || st.threads != 0 || st.rss != 0 {
		t.Errorf("hot-path parse = %+v, want comm, flags and start only", st)
	}
	// Stopping at field 22 also accepts a line cut right after it.
	if !parseStat([]byte("42 (x) S 1 42 42 0 -1 0 100 0 0 0 11 22 -3 0 20 0 7 0 123456"), &st, false) {
		t.Error("hot-path parse of a line ending at the start time failed")
	}
}

func TestParseStatLongComm(t *testing.T) {
	const tail = " S 1 42 42 0 -1 4194560 100 0 0 0 11 22 -3 0 20 0 7 0 123456 987654 321 0\n"
	for _, comm := range []string{
		"rcu_exp_par_gp_kthread_worker/0",       // a long kernel thread name
		"kworker/u8:0-events_unbound (x) y",     // with parentheses
		strings.Repeat("a)", 40) + " (the end)", // longer than any the kernel prints, full of ')'
	} {
		var st procStat
		if !parseStat([]byte("42 ("+comm+")"+tail), &st, true) || string(st.comm) != comm || st.start != 123456 || st.rss != 321 {
			t.Errorf("comm %q: parsed %q, start %d, rss %d", comm, st.comm, st.start, st.rss)
		}
	}
}

func TestParseIO(t *testing.T) {
	in := "rchar: 6976\nwchar: 10\nsyscr: 10\nsyscw: 0\nread_bytes: 4096\nwrite_bytes: 81920\ncancelled_write_bytes: 512\n"
	r, w, ok := parseIO([]byte(in))
	if !ok || r != 4096 || w != 81920 {
		t.Errorf("parseIO = %d, %d, %v; want 4096, 81920, true", r, w, ok)
	}
	if _, _, ok := parseIO([]byte("rchar: 1\nwchar: 2\n")); ok {
		t.Error("parseIO without read_bytes reported ok")
	}
	if _, _, ok := parseIO(nil); ok {
		t.Error("parseIO of nothing reported ok")
	}
	b := []byte(in)
	if n := testing.AllocsPerRun(100, func() { parseIO(b) }); n != 0 {
		t.Errorf("parseIO allocates %v times", n)
	}
}

// FuzzParseStat checks that no stat content panics the hand-written parser
// and that what it reports as the comm lies between the parentheses.
func FuzzParseStat(f *testing.F) {
	f.Add([]byte("42 (nginx) S 1 42 42 0 -1 4194560 100 0 0 0 11 22 -3 0 20 0 7 0 123456 987654 321 0\n"))
	f.Add([]byte("42 (a) (b) c) S 1 2 3"))
	f.Add([]byte("()"))
	f.Add([]byte(")("))
	f.Add([]byte(""))
	f.Fuzz(func(t *testing.T, b []byte) {
		for _, full := range []bool{false, true} {
			var st procStat
			if parseStat(b, &st, full) {
				l := bytes.IndexByte(b, '(')
				if l < 0 || !bytes.HasPrefix(b[l+1:], st.comm) || bytes.IndexByte(b[l+1+len(st.comm):], ')') != 0 {
					t.Fatalf("comm %q is not the text between the parentheses of %q", st.comm, b)
				}
			}
		}
		parseIO(b)
	})
}
