package taskstats

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func readTestdata(t testing.TB, name string) []byte {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("testdata", name))
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// TestDecodeTestdata: the messages captured from Linux 6.18 (struct
// version 16) decode to the tasks that exited: a shell of one thread, a
// thread of a Go program, and the last thread of that program with its
// thread group's totals.
func TestDecodeTestdata(t *testing.T) {
	m, err := Decode(readTestdata(t, "single-thread.bin"))
	if err != nil {
		t.Fatal(err)
	}
	if r := m.Task; r.Version != 16 || r.Comm != "sh" || r.PID != r.TGID || r.PID == 0 || m.HasGroup ||
		r.UserCPU+r.SystemCPU == 0 || r.Elapsed < r.UserCPU+r.SystemCPU || r.MinorFaults == 0 || r.Flags&0x20 == 0 {
		t.Errorf("the shell's record: %+v", m)
	}
	m, err = Decode(readTestdata(t, "thread.bin"))
	if err != nil {
		t.Fatal(err)
	}
	if r := m.Task; r.Comm != "taskstats.test" || r.PID == r.TGID || m.HasGroup || r.IsProcess() {
		t.Errorf("a thread's record: %+v", m)
	}
	m, err = Decode(readTestdata(t, "thread-group.bin"))
	if err != nil {
		t.Fatal(err)
	}
	if !m.HasGroup || m.Group.TGID != m.Task.TGID || m.Group.UserCPU+m.Group.SystemCPU == 0 {
		t.Errorf("the thread group's record: %+v", m)
	}
}

// TestDecodeRejects: what is short, truncated, of an older or unknown
// shape gives a clear error wrapping ErrMalformed, never a record read
// past the payload.
func TestDecodeRejects(t *testing.T) {
	good := readTestdata(t, "single-thread.bin")
	// The stats attribute starts after genlmsghdr, the AGGR_PID nest
	// header, the PID attribute (8 bytes) and, on 64-bit, a NULL pad.
	statsAt := len(good) - 416 - 4*0
	for statsAt > 0 && ne.Uint16(good[statsAt-2:])&nlaTypeMask != typeStats {
		statsAt--
	}
	if statsAt <= 0 {
		t.Fatal("no stats attribute in the captured message")
	}
	stats := good[statsAt:]
	oldVersion := append([]byte(nil), stats...)
	ne.PutUint16(oldVersion, 1)
	noNUL := append([]byte(nil), stats...)
	for i := offComm; i < offComm+commField; i++ {
		noNUL[i] = 'x'
	}
	otherCmd := append([]byte(nil), good...)
	otherCmd[0] = cmdGet
	for _, tc := range []struct {
		name string
		b    []byte
		want string
	}{
		{"empty", nil, "shorter than a generic netlink header"},
		{"other command", otherCmd, "not TASKSTATS_CMD_NEW"},
		{"truncated", good[:len(good)-100], "attribute of length"},
		{"no task record", good[:genlHeader], "no task record"},
		{"header only", good[:genlHeader+2], "shorter than an attribute header"},
	} {
		_, err := Decode(tc.b)
		if !errors.Is(err, ErrMalformed) || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%s: %v; want ErrMalformed saying %q", tc.name, err, tc.want)
		}
	}
	for _, tc := range []struct {
		name string
		b    []byte
		want string
	}{
		{"short struct", stats[:minStats-1], "want at least"},
		{"version 1", oldVersion, "version 1"},
		{"comm without NUL", noNUL, "without its NUL"},
	} {
		_, err := DecodeStats(tc.b)
		if !errors.Is(err, ErrMalformed) || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%s: %v; want ErrMalformed saying %q", tc.name, err, tc.want)
		}
	}
	// A version-2 struct, as old kernels send, decodes without the fields
	// it does not have, even where the buffer holds more.
	v2 := append([]byte(nil), stats...)
	ne.PutUint16(v2, 2)
	r, err := DecodeStats(v2)
	if err != nil || r.TGID != 0 || r.ExeInode != 0 || r.VoluntarySwitches != 0 || r.Comm != "sh" {
		t.Errorf("version 2: %+v, %v", r, err)
	}
	// The fields of a later version are read only if the payload holds
	// them.
	r, err = DecodeStats(stats[:offTGID])
	if err != nil || r.TGID != 0 || r.Comm != "sh" || r.UserCPU == 0 {
		t.Errorf("a version-16 struct cut before ac_tgid: %+v, %v", r, err)
	}
}
