package procevents

import "errors"

// The errors Open and Reader.Err return, to be checked with errors.Is. Each
// comes wrapped with the detail a log line needs (which check failed, what
// the kernel answered), so an agent falling back to sampling can log
// err.Error() as its one line of reason.
var (
	// ErrNotPermitted: the kernel refused the subscription. Before Linux
	// 6.6 it needs CAP_NET_ADMIN in the initial user namespace (root, or
	// the capability granted to the service); later kernels let anyone in
	// the host's namespaces listen.
	ErrNotPermitted = errors.New("procevents: not permitted (needs CAP_NET_ADMIN in the initial user namespace)")
	// ErrNamespace: the caller is not in the host's network, PID or user
	// namespace. The kernel offers the process connector only in the
	// initial network namespace and takes subscriptions only from the
	// initial PID and user namespaces (a container needs hostNetwork and
	// hostPID).
	ErrNamespace = errors.New("procevents: not in the host's namespaces")
	// ErrUnsupported: no process connector here (another OS, or a kernel
	// built without CONFIG_PROC_EVENTS).
	ErrUnsupported = errors.New("procevents: process events not supported")
	// ErrNoAnswer: the kernel did not answer the subscription before the
	// context ended.
	ErrNoAnswer = errors.New("procevents: no answer to the subscription")
	// ErrMalformed: a message that is not a well-formed process event.
	ErrMalformed = errors.New("procevents: malformed message")
)
