package bench

import (
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"testing"
	"time"
)

// TestShortLived: the load's program runs, lives its 2 ms and exits 0
// under the name it was written as, which is what the agents match.
func TestShortLived(t *testing.T) {
	path := filepath.Join(t.TempDir(), eventsGlob)
	what, err := writeShortLived(path)
	if err != nil {
		t.Fatal(err)
	}
	if st, err := os.Stat(path); err != nil || st.Mode()&0o111 == 0 {
		t.Fatalf("%s: %v, %v", path, st, err)
	}
	start := time.Now()
	cmd := exec.Command(path)
	if err := cmd.Run(); err != nil {
		t.Fatalf("%s (%s): %v", path, what, err)
	}
	if lived := time.Since(start); runtime.GOARCH == "amd64" && lived < 2*time.Millisecond {
		t.Errorf("%s lived %v, want at least its 2 ms sleep", what, lived)
	}
	t.Logf("%s: %s, %d bytes", path, what, len(shortLivedELF()))
}
