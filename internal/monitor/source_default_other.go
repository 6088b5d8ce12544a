//go:build !linux

package monitor

// NewDefaultSource returns the Source the agent should use on this
// operating system: off Linux, a [GopsutilSource] (procfsRoot is ignored).
func NewDefaultSource(procfsRoot string, opts ...SourceOption) (Source, error) {
	return NewGopsutilSource(procfsRoot, opts...), nil
}
