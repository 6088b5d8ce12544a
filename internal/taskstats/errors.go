package taskstats

import "errors"

// The errors Open and Reader.Err return, to be checked with errors.Is.
// Each comes wrapped with the detail a log line needs (which step failed,
// what the kernel answered), so that an agent going without exit records
// can log err.Error() as its reason.
var (
	// ErrNotPermitted: the kernel refused the registration. Registering
	// for exit records needs CAP_NET_ADMIN (the family's command is
	// GENL_ADMIN_PERM), on every kernel.
	ErrNotPermitted = errors.New("taskstats: not permitted (needs CAP_NET_ADMIN)")
	// ErrNamespace: the caller is not in the host's network namespace,
	// the only one where the kernel offers the TASKSTATS family.
	ErrNamespace = errors.New("taskstats: not in the host's network namespace")
	// ErrUnsupported: no TASKSTATS family here (another OS, or a kernel
	// built without CONFIG_TASKSTATS).
	ErrUnsupported = errors.New("taskstats: exit records not supported")
	// ErrNoAnswer: the kernel did not answer the registration before the
	// context ended.
	ErrNoAnswer = errors.New("taskstats: no answer to the registration")
	// ErrMalformed: a message that is not a well-formed exit record.
	ErrMalformed = errors.New("taskstats: malformed message")
)
