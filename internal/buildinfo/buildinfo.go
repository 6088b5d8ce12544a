// Package buildinfo says which build of procwatch is running. Every report
// of it (procwatch_build_info, an agent's member info and start-up log,
// --version of both programs) takes the version and revision from here, so
// they never disagree.
//
// A release build stamps them with -ldflags "-X main.version=... -X
// main.revision=..." (make build, the Dockerfile); without that, the
// version is the module version the Go toolchain recorded (`go install
// ...@v1.2.3`) and the revision the VCS revision it embedded, and
// "unknown" when the build recorded neither.
package buildinfo

import (
	"fmt"
	"runtime"
	"runtime/debug"

	"github.com/prometheus/common/version"
)

// Version returns stamped when the build set it, else what the build set
// in prometheus/common's version package, else the module version the Go
// toolchain recorded, else "unknown".
func Version(stamped string) string {
	if stamped != "" {
		return stamped
	}
	if version.Version != "" {
		return version.Version
	}
	if bi, ok := debug.ReadBuildInfo(); ok {
		if v := bi.Main.Version; v != "" && v != "(devel)" {
			return v
		}
	}
	return "unknown"
}

// Revision returns stamped when the build set it, else prometheus/common's
// revision: the one set in its version package, or the VCS revision the
// Go toolchain embedded ("-modified" when the tree was dirty), or
// "unknown".
func Revision(stamped string) string {
	if stamped != "" {
		return stamped
	}
	return version.GetRevision()
}

// GoVersion is the Go release the binary was built with, as
// procwatch_build_info's goversion label carries it.
func GoVersion() string { return runtime.Version() }

// Line is what --version prints after the program's name:
// "1.2.3 (revision 0abc..., go1.26.0)".
func Line(version, revision string) string {
	return fmt.Sprintf("%s (revision %s, %s)", version, revision, GoVersion())
}
