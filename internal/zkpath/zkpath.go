// Package zkpath holds the one rule for what a procwatch root znode may be,
// so that procwatch, procctl and zkstate refuse the same paths with the same
// words. It is pure: it knows ZooKeeper's path syntax, not a server.
package zkpath

import (
	"errors"
	"fmt"
	"strings"
	"unicode"
)

// ErrInvalidRoot is wrapped by every error ValidateRoot returns.
var ErrInvalidRoot = errors.New("invalid root path")

// ValidateRoot reports whether p can be the root of a shared state: an
// absolute znode path below "/", with no empty, "." or ".." segment (which
// ZooKeeper refuses at every request, so a bad root would otherwise only
// show as retries for ever), no trailing slash, no control character, and
// outside the server's own /zookeeper subtree. The error names the path and
// the rule it breaks, and wraps ErrInvalidRoot.
func ValidateRoot(p string) error {
	bad := func(rule string) error {
		return fmt.Errorf("%w %q: %s; want an absolute znode path below / such as /procwatch", ErrInvalidRoot, p, rule)
	}
	switch {
	case p == "":
		return bad("it is empty")
	case !strings.HasPrefix(p, "/"):
		return bad("it does not start with /")
	case p == "/":
		return bad("the server's top node cannot be a root")
	case strings.HasSuffix(p, "/"):
		return bad("it ends with /")
	}
	for _, r := range p {
		if r == 0 || unicode.IsControl(r) || (r >= 0xd800 && r <= 0xf8ff) || (r >= 0xfff0 && r <= 0xffff) {
			return bad(fmt.Sprintf("it holds the character %U, which ZooKeeper refuses", r))
		}
	}
	for seg := range strings.SplitSeq(p[1:], "/") {
		switch seg {
		case "":
			return bad("it holds an empty segment (//)")
		case ".", "..":
			return bad(fmt.Sprintf("it holds a %q segment", seg))
		}
	}
	if p == "/zookeeper" || strings.HasPrefix(p, "/zookeeper/") {
		return bad("/zookeeper is the server's own subtree")
	}
	return nil
}
