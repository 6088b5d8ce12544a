package pattern

// Kind says which property of a process a pattern is matched against.
type Kind uint8

const (
	// Name patterns match the process name.
	Name Kind = iota
	// Exe patterns match the executable path.
	Exe
	// Cmdline patterns match the command line.
	Cmdline
	// User patterns match the name of the process's real user, or its
	// numeric uid when the passwd database has no name for it.
	User
	// Unit patterns match the systemd unit the process runs in.
	Unit
	// Cgroup patterns match the process's cgroup v2 path.
	Cgroup
)

// The prefixes that select what a glob is matched against. A glob with none
// of them is a name or, when it contains '/', an executable path pattern.
const (
	// CmdlinePrefix marks a glob that matches the command line.
	CmdlinePrefix = "cmdline:"
	// UserPrefix marks a glob that matches the process's real user.
	UserPrefix = "user:"
	// UnitPrefix marks a glob that matches the process's systemd unit.
	UnitPrefix = "unit:"
	// CgroupPrefix marks a glob that matches the process's cgroup v2 path.
	CgroupPrefix = "cgroup:"
)

// prefixes maps each prefix to the kind of pattern it introduces.
var prefixes = [...]struct {
	prefix string
	kind   Kind
}{
	{CmdlinePrefix, Cmdline},
	{UserPrefix, User},
	{UnitPrefix, Unit},
	{CgroupPrefix, Cgroup},
}

// Kinds is a set of [Kind]s. A matcher uses it to say which properties its
// patterns need, so that a reader of processes fetches a property (a user
// name, a cgroup) only while some pattern looks at it.
type Kinds uint8

// KindsOf returns the set holding the given kinds.
func KindsOf(kinds ...Kind) Kinds {
	var ks Kinds
	for _, k := range kinds {
		ks |= 1 << k
	}
	return ks
}

// Has reports whether k is in the set.
func (ks Kinds) Has(k Kind) bool { return ks&(1<<k) != 0 }

// With returns the set with k added.
func (ks Kinds) With(k Kind) Kinds { return ks | 1<<k }
