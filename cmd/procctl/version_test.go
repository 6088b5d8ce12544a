package main

import (
	"os/exec"
	"path/filepath"
	"runtime"
	"testing"

	"github.com/procwatch/procwatch/internal/buildinfo"
)

// TestVersionFlag: --version prints the program, version, revision and Go
// release on stdout and exits 0 without connecting anywhere.
func TestVersionFlag(t *testing.T) {
	t.Parallel()
	r := run(t, envMap{envZK: closedPort(t)}, "--version")
	want := "procctl " + buildinfo.Version(version) + " (revision " + buildinfo.Revision(revision) + ", " + runtime.Version() + ")\n"
	if r.code != 0 || r.stdout != want || r.stderr != "" {
		t.Errorf("%s\nwant exit 0 and stdout %q", r, want)
	}
}

// TestVersionFromBuild builds the binary as make build and the Dockerfile
// do, with the version and revision stamped by -ldflags.
func TestVersionFromBuild(t *testing.T) {
	t.Parallel()
	bin := filepath.Join(t.TempDir(), "procctl")
	build := exec.Command("go", "build", "-ldflags", "-X main.version=1.2.3-test -X main.revision=0abc123", "-o", bin, ".")
	if out, err := build.CombinedOutput(); err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}
	out, err := exec.Command(bin, "--version").Output()
	if err != nil {
		t.Fatalf("procctl --version: %v", err)
	}
	if want := "procctl 1.2.3-test (revision 0abc123, " + runtime.Version() + ")\n"; string(out) != want {
		t.Errorf("procctl --version = %q, want %q", out, want)
	}
}
