package zkopts

import (
	"crypto/sha1"
	"encoding/base64"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"strings"

	"github.com/procwatch/procwatch/internal/zkstate"
)

// ErrWorldReadable marks a secret file (credentials, TLS key) that every
// user of the host can read. Such a file is refused rather than used: the
// secret in it is already not one, and a program that accepts it teaches
// its operators that this is fine.
var ErrWorldReadable = errors.New("readable by every user")

// maxSecretFile bounds what is read from a credentials file: one line.
const maxSecretFile = 64 << 10

// Credentials are a ZooKeeper digest identity: a user and a password. The
// password is unexported and never formatted, so logging or printing
// Credentials (fmt's %v, %+v, %#v, slog) shows the scheme and user only.
type Credentials struct {
	// Scheme is the ZooKeeper authentication scheme; always "digest", the
	// only scheme whose credentials are a user and a password.
	Scheme string
	// User is the digest user name.
	User     string
	password string
}

// unsupportedSchemes are ZooKeeper schemes an auth file might name by
// mistake: none of them takes a password through addauth.
var unsupportedSchemes = map[string]string{
	"x509":  "x509 identities come from the TLS client certificate (--zk-tls-cert)",
	"ip":    "ip identities come from the client's address",
	"sasl":  "SASL (Kerberos) is not supported by procwatch",
	"world": "world is everyone, not an identity to log in as",
	"auth":  "auth is an ACL shorthand, not a login scheme",
}

// ParseCredentials parses the content of a credentials file: one line,
// "digest:USER:PASSWORD" or "USER:PASSWORD" (digest is implied). The user
// ends at the first colon after the scheme; the password is everything
// after it, colons included, taken verbatim. One trailing newline is
// ignored. A user actually named like a scheme ("digest", "ip") must be
// written with the scheme: "digest:ip:secret".
func ParseCredentials(data []byte) (Credentials, error) {
	line := string(data)
	line = strings.TrimSuffix(line, "\n")
	line = strings.TrimSuffix(line, "\r")
	switch {
	case line == "":
		return Credentials{}, errors.New("it is empty; want one line user:password or digest:user:password")
	case strings.ContainsAny(line, "\r\n"):
		return Credentials{}, errors.New("it holds more than one line; want one line user:password or digest:user:password")
	case strings.TrimSpace(line) != line:
		// A stray space or tab would silently become part of the
		// password, and ZooKeeper's answer is only "permission denied".
		return Credentials{}, errors.New("the line starts or ends with white space; remove it (passwords are taken verbatim)")
	}
	first, rest, ok := strings.Cut(line, ":")
	if !ok {
		return Credentials{}, errors.New("no colon in it; want user:password or digest:user:password")
	}
	user, password := first, rest
	if strings.Contains(rest, ":") {
		if first == "digest" {
			user, password, _ = strings.Cut(rest, ":")
		} else if why, bad := unsupportedSchemes[first]; bad {
			return Credentials{}, fmt.Errorf("scheme %q is not supported in a credentials file: %s; write digest:user:password (or digest:%s:... for a digest user of that name)", first, why, first)
		}
	}
	if user == "" {
		return Credentials{}, errors.New("the user name is empty")
	}
	if password == "" {
		return Credentials{}, fmt.Errorf("the password of user %q is empty", user)
	}
	return Credentials{Scheme: "digest", User: user, password: password}, nil
}

// ReadAuthFile reads credentials from path (see ParseCredentials). It
// refuses, with an error wrapping ErrWorldReadable, a file that every user
// of the host can read.
func ReadAuthFile(path string) (Credentials, error) {
	data, err := readSecretFile(path, maxSecretFile)
	if err != nil {
		return Credentials{}, err
	}
	c, err := ParseCredentials(data)
	if err != nil {
		return Credentials{}, fmt.Errorf("credentials file %s: %w", path, err)
	}
	return c, nil
}

// readSecretFile reads a file holding a secret after checking its mode on
// the open file, so that the file checked is the file read.
func readSecretFile(path string, limit int64) ([]byte, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	st, err := f.Stat()
	if err != nil {
		return nil, err
	}
	if !st.Mode().IsRegular() {
		return nil, fmt.Errorf("%s is not a regular file", path)
	}
	if st.Mode().Perm()&0o004 != 0 {
		return nil, fmt.Errorf("refusing %s: it is %w on this host (mode %04o); restrict it with `chmod 600 %s`, or 640 with the program's group",
			path, ErrWorldReadable, st.Mode().Perm(), path)
	}
	data, err := io.ReadAll(io.LimitReader(f, limit+1))
	if err != nil {
		return nil, err
	}
	if int64(len(data)) > limit {
		return nil, fmt.Errorf("%s is larger than %d bytes", path, limit)
	}
	return data, nil
}

// DigestID returns the identity ZooKeeper stores in ACLs for these
// credentials, "user:base64(sha1(user:password))", as zkstate.SecureACLs
// takes it. It is not the password, but an unsalted SHA-1 of it allows
// guessing a weak one offline, which is why ZooKeeper shows it ("getAcl")
// only to clients with the ADMIN right on the node, and "user:x" to others.
func (c Credentials) DigestID() string { return zkstate.DigestID(c.User, c.password) }

// SessionOption returns the option that sends these credentials at connect
// and after every reconnect and session expiry.
func (c Credentials) SessionOption() zkstate.SessionOption {
	return zkstate.WithAuth(c.Scheme, []byte(c.User+":"+c.password))
}

// String returns "digest:USER", never the password.
func (c Credentials) String() string { return c.Scheme + ":" + c.User }

// GoString keeps %#v from printing the password.
func (c Credentials) GoString() string {
	return fmt.Sprintf("zkopts.Credentials{Scheme:%q, User:%q, password:<redacted>}", c.Scheme, c.User)
}

// LogValue keeps slog from printing the password.
func (c Credentials) LogValue() slog.Value { return slog.StringValue(c.String()) }

// Identity describes who a program is to ZooKeeper, for messages:
// `digest user "editor"`.
func (c Credentials) Identity() string { return fmt.Sprintf("%s user %q", c.Scheme, c.User) }

// ParseDigestID checks an identity given as "user:base64(sha1(user:password))",
// as ZooKeeper's DigestAuthenticationProvider prints it, and returns its
// user.
func ParseDigestID(id string) (user string, err error) {
	// The value is not echoed: given by mistake, it may be a password.
	user, hash, ok := strings.Cut(id, ":")
	if !ok || user == "" || hash == "" {
		return "", errors.New("a digest identity is user:base64(sha1(user:password))")
	}
	if sum, err := base64.StdEncoding.DecodeString(hash); err != nil || len(sum) != sha1.Size {
		return "", fmt.Errorf("digest identity of user %q: the part after the colon must be a base64 SHA-1 digest (28 characters), not a password", user)
	}
	return user, nil
}
