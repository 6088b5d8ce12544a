package main

import (
	"bytes"
	"context"
	"os/exec"
	"path/filepath"
	"runtime"
	"testing"

	"github.com/procwatch/procwatch/internal/agent"
	"github.com/procwatch/procwatch/internal/buildinfo"
)

// TestVersionFlag: --version prints the program, version, revision and Go
// release on stdout and exits 0 without starting the agent.
func TestVersionFlag(t *testing.T) {
	var stdout, stderr bytes.Buffer
	ran := false
	code := execute([]string{"--version"}, &stdout, &stderr, func(context.Context, agent.Config) error {
		ran = true
		return nil
	})
	want := "procwatch " + buildinfo.Version(version) + " (revision " + buildinfo.Revision(revision) + ", " + runtime.Version() + ")\n"
	if code != 0 || stdout.String() != want || stderr.Len() != 0 || ran {
		t.Errorf("exit %d, ran %t, stdout %q, stderr %q; want exit 0, %q and no run", code, ran, stdout.String(), stderr.String(), want)
	}
}

// TestVersionFromBuild builds the binary as make build and the Dockerfile
// do, with the version and revision stamped by -ldflags.
func TestVersionFromBuild(t *testing.T) {
	bin := buildProcwatch(t, "-ldflags", "-X main.version=1.2.3-test -X main.revision=0abc123")
	out, err := exec.Command(bin, "--version").Output()
	if err != nil {
		t.Fatalf("procwatch --version: %v", err)
	}
	if want := "procwatch 1.2.3-test (revision 0abc123, " + runtime.Version() + ")\n"; string(out) != want {
		t.Errorf("procwatch --version = %q, want %q", out, want)
	}
}

// buildProcwatch builds the command with the given build flags into a
// directory of the test's and returns the binary's path.
func buildProcwatch(t *testing.T, flags ...string) string {
	t.Helper()
	bin := filepath.Join(t.TempDir(), "procwatch")
	build := exec.Command("go", append(append([]string{"build"}, flags...), "-o", bin, ".")...)
	if out, err := build.CombinedOutput(); err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}
	return bin
}
