package exepages

import (
	_ "embed"
	"maps"
	"os"
	"strings"
	"testing"

	"go.uber.org/goleak"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

// source is read-only data of the test binary (an embedded string lives in
// its rodata); state is data written at run time. Both must read the same
// after the executable's pages were released.
var (
	//go:embed release_linux_test.go
	source string
	state  = map[string]int{}
)

// exeResident sums the resident bytes of the test binary's mappings.
func exeResident(t *testing.T) (readOnly, writable int64) {
	t.Helper()
	exe, err := os.Readlink("/proc/self/exe")
	if err != nil {
		t.Fatal(err)
	}
	b, err := os.ReadFile("/proc/self/smaps")
	if err != nil {
		t.Fatal(err)
	}
	maps, err := parseSmaps(b)
	if err != nil {
		t.Fatal(err)
	}
	for _, m := range maps {
		if m.path != exe {
			continue
		}
		if m.perms[1] == 'w' {
			writable += m.rss
		} else {
			readOnly += m.rss
		}
	}
	return readOnly, writable
}

func TestReleaseDropsExecutablePagesAndKeepsData(t *testing.T) {
	for i := range 1000 {
		state[strings.Repeat("k", i%50)] += i
	}
	stateBefore := maps.Clone(state)
	roBefore, _ := exeResident(t)

	r, err := Release()
	if err != nil {
		t.Fatal(err)
	}
	roAfter, _ := exeResident(t)
	t.Logf("released %d mappings, %d KiB; read-only resident %d → %d KiB", r.Mappings, r.Bytes>>10, roBefore>>10, roAfter>>10)
	if r.Mappings == 0 || r.Bytes == 0 {
		t.Fatalf("released nothing: %+v", r)
	}
	// What runs between the release and the reading (with -race, the
	// race detector's code on every access) comes back; most must not.
	if roBefore-roAfter < r.Bytes/4 {
		t.Errorf("read-only pages resident: %d KiB before, %d KiB after releasing %d KiB; want at least a quarter of it gone",
			roBefore>>10, roAfter>>10, r.Bytes>>10)
	}
	onDisk, err := os.ReadFile("release_linux_test.go")
	if err != nil {
		t.Fatal(err)
	}
	if source != string(onDisk) {
		t.Error("read-only data changed after its pages were released")
	}
	if !maps.Equal(state, stateBefore) {
		t.Error("data written at run time changed after the release")
	}
	// Released twice is harmless: pages come back when used and go again.
	if _, err := Release(); err != nil {
		t.Fatal(err)
	}
}
