package monitor

// SourceOption configures a Source made by [NewLinuxSource],
// [NewGopsutilSource] or [NewDefaultSource].
type SourceOption func(*sourceOptions)

type sourceOptions struct {
	pss bool
}

// WithPSS makes the source read the proportional set size (Proc.PSS) of
// matched processes from /proc/PID/smaps_rollup, for
// procwatch_glob_proportional_memory_bytes (the agent's --collect.pss).
// It is off by default because the kernel renders that file by walking
// the process's whole address space under its memory map lock: for a
// large process (a database, a JVM) it costs a millisecond or more per
// read, and it contends with the process's own page faults.
func WithPSS(collect bool) SourceOption {
	return func(o *sourceOptions) { o.pss = collect }
}

func applySourceOptions(opts []SourceOption) sourceOptions {
	var o sourceOptions
	for _, f := range opts {
		if f != nil {
			f(&o)
		}
	}
	return o
}
