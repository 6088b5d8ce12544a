package procevents

import (
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
)

// The inode numbers the kernel gives its initial namespaces
// (include/linux/proc_ns.h): fixed for user and PID since Linux 3.8, for
// the network namespace only in recent kernels, where older ones number it
// like any other.
const (
	initUserNS = 0xEFFFFFFD
	initPIDNS  = 0xEFFFFFFC
	initNetNS  = 0xEFFFFFF9
)

// checkNamespaces says why this process cannot have process events when
// its namespaces show it: a user or PID namespace other than the initial
// one, or a network namespace other than pid 1's. A link it cannot read
// (no /proc, pid 1's links hidden from an unprivileged caller) proves
// nothing and is passed over: the kernel's answer to the subscription
// decides then.
func checkNamespaces(procRoot string) error {
	for _, c := range []struct {
		kind string
		init uint64
	}{{"user", initUserNS}, {"pid", initPIDNS}} {
		id, err := nsInode(procRoot, "self", c.kind)
		if err == nil && id != c.init {
			return fmt.Errorf("%w: in %s namespace %s:[%d], not the initial one", ErrNamespace, c.kind, c.kind, id)
		}
	}
	self, err := nsInode(procRoot, "self", "net")
	if err != nil || self == initNetNS {
		return nil
	}
	host, err := nsInode(procRoot, "1", "net")
	if err == nil && host != self {
		return fmt.Errorf("%w: in network namespace net:[%d], the host's (pid 1's) is net:[%d]", ErrNamespace, self, host)
	}
	return nil
}

// nsInode reads the inode number of a namespace link, "net:[4026531833]".
func nsInode(procRoot, pid, kind string) (uint64, error) {
	link, err := os.Readlink(filepath.Join(procRoot, pid, "ns", kind))
	if err != nil {
		return 0, err
	}
	s, ok := strings.CutPrefix(link, kind+":[")
	if !ok || !strings.HasSuffix(s, "]") {
		return 0, fmt.Errorf("procevents: namespace link %q: not %s:[inode]", link, kind)
	}
	return strconv.ParseUint(strings.TrimSuffix(s, "]"), 10, 64)
}
