//go:build linux

package monitor

// NewDefaultSource returns the Source the agent should use on this
// operating system: on Linux, a [LinuxSource] reading the procfs tree at
// procfsRoot ("" means /proc).
func NewDefaultSource(procfsRoot string, opts ...SourceOption) (Source, error) {
	return NewLinuxSource(procfsRoot, opts...)
}
