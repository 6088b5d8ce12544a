package monitor

import (
	"context"
	"errors"
	"fmt"
	"os/exec"
	"os/user"
	"strconv"
	"strings"
	"sync"
	"time"
)

// userRetry is how long a uid without a name stays known by its number
// before the passwd database is asked again, so that a user added later
// gets its name without a lookup for every process of a nameless uid.
const userRetry = 30 * time.Second

// userNames turns uids into user names through the passwd database of the
// host the agent runs on (/etc/passwd, then NSS through getent: see
// lookupUser), and remembers them. A uid with no name is known by
// its decimal number, and is looked up again at most every userRetry. A
// name once found is kept: a user renamed while the agent runs keeps the
// old name until it restarts, which is cheaper than asking the database
// again and again for every uid in use.
//
// The zero value is ready to use. It is safe for concurrent use.
type userNames struct {
	// lookup and now replace os/user and the clock in tests.
	lookup func(uid string) (string, error)
	now    func() time.Time

	mu    sync.Mutex
	names map[uint32]userName
}

type userName struct {
	name string
	// missed is when a lookup found no name; zero once a name is found.
	missed time.Time
}

// name returns the name of uid, or its decimal number when it has none.
func (u *userNames) name(uid uint32) string {
	u.mu.Lock()
	defer u.mu.Unlock()
	now := time.Now
	if u.now != nil {
		now = u.now
	}
	n, ok := u.names[uid]
	if ok && (n.missed.IsZero() || now().Sub(n.missed) < userRetry) {
		return n.name
	}
	id := strconv.FormatUint(uint64(uid), 10)
	lookup := lookupUser
	if u.lookup != nil {
		lookup = u.lookup
	}
	// Any failure, "no such user" or an unreadable database, leaves the
	// number: the process still counts, under a name no user has.
	name, err := lookup(id)
	if err != nil || name == "" {
		n = userName{name: id, missed: now()}
	} else {
		n = userName{name: name}
	}
	if u.names == nil {
		u.names = make(map[uint32]userName)
	}
	u.names[uid] = n
	return n.name
}

// lookupUser names uid from the passwd database: os/user first, then, for
// a uid it does not know, getent. The agent is built static (CGO_ENABLED=0),
// where os/user reads /etc/passwd only; getent asks the C library, hence
// NSS, so that users from LDAP or SSSD keep their names. It runs only for
// a uid /etc/passwd lacks, at most every userRetry.
func lookupUser(uid string) (string, error) {
	usr, err := user.LookupId(uid)
	if err == nil {
		return usr.Username, nil
	}
	var unknown user.UnknownUserIdError
	if !errors.As(err, &unknown) {
		return "", err
	}
	return getentUser(uid)
}

// getentTimeout bounds a getent run: a slow directory must not hold a scan.
const getentTimeout = 2 * time.Second

// getentUser is the name getent passwd gives uid; an error when getent is
// missing (a minimal image), finds nothing or answers something else.
func getentUser(uid string) (string, error) {
	ctx, cancel := context.WithTimeout(context.Background(), getentTimeout)
	defer cancel()
	out, err := exec.CommandContext(ctx, "getent", "passwd", uid).Output()
	if err != nil {
		return "", fmt.Errorf("getent passwd %s: %w", uid, err)
	}
	// name:password:uid:gid:gecos:home:shell
	line, _, _ := strings.Cut(string(out), "\n")
	f := strings.Split(line, ":")
	if len(f) < 3 || f[0] == "" || f[2] != uid {
		return "", fmt.Errorf("getent passwd %s: unexpected answer %q", uid, line)
	}
	return f[0], nil
}
