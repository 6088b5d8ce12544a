package e2e

import (
	"debug/elf"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// TestMakeBuildStampsVersion: the binaries `make run` builds are static and say which
// commit they are, even where the toolchain stamps no VCS information
// (GOFLAGS=-buildvcs=false, as on the machines here), so
// procwatch_build_info, the member info and the start-up log do not say
// "unknown". The demo's build also says what it builds before it starts,
// since a cold cache keeps it busy for a minute or more.
func TestMakeBuildStampsVersion(t *testing.T) {
	root := repoRoot(t)
	describe, err := exec.Command("git", "-C", root, "describe", "--tags", "--always", "--dirty").Output()
	if err != nil {
		t.Fatalf("git describe: %v (the test runs in a git checkout)", err)
	}
	want := strings.TrimSpace(string(describe))
	cmd := exec.Command("make", "-s", "demo-build", "GO="+goTool())
	cmd.Dir = root
	// The Makefile builds into bin/ of the tree; a make variable cannot
	// move it, so build there and read the result.
	cmd.Env = append(os.Environ(), "GOFLAGS=-buildvcs=false")
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("make demo-build: %v\n%s", err, out)
	}
	if !strings.HasPrefix(string(out), "build: bin/procwatch, bin/procctl, bin/zkdev (version "+want+")") {
		t.Errorf("make demo-build printed %q, want it to start by naming what it builds and the version %s", out, want)
	}
	for _, name := range []string{"procwatch"} {
		info, err := exec.Command(goTool(), "version", "-m", filepath.Join(root, "bin", name)).Output()
		if err != nil {
			t.Fatalf("go version -m bin/%s: %v", name, err)
		}
		if !strings.Contains(string(info), "main.version="+want) || strings.Contains(string(info), "main.version=unknown") {
			t.Errorf("bin/%s is not stamped with version %s:\n%s", name, want, info)
		}
		// Static, as the image's: libc mapped in would add 1.4 MiB to the
		// agent's RSS on every host.
		if !strings.Contains(string(info), "CGO_ENABLED=0") {
			t.Errorf("bin/%s is not built with CGO_ENABLED=0:\n%s", name, info)
		}
		f, err := elf.Open(filepath.Join(root, "bin", name))
		if err != nil {
			t.Fatal(err)
		}
		for _, p := range f.Progs {
			if p.Type == elf.PT_INTERP {
				t.Errorf("bin/%s is dynamically linked (it has an ELF interpreter)", name)
			}
		}
		_ = f.Close()
	}
}
