package zkopts

import (
	"github.com/go-zookeeper/zk"

	"github.com/procwatch/procwatch/internal/zkstate"
)

// Names of the security flags and of the environment variables that stand
// in for them when the flag is not given (see ApplyEnv).
const (
	FlagAuthFile      = "zk-auth-file"
	FlagTLSCA         = "zk-tls-ca"
	FlagTLSCert       = "zk-tls-cert"
	FlagTLSKey        = "zk-tls-key"
	FlagTLSServerName = "zk-tls-server-name"

	EnvAuthFile      = "PROCWATCH_ZK_AUTH_FILE"
	EnvTLSCA         = "PROCWATCH_ZK_TLS_CA"
	EnvTLSCert       = "PROCWATCH_ZK_TLS_CERT"
	EnvTLSKey        = "PROCWATCH_ZK_TLS_KEY"
	EnvTLSServerName = "PROCWATCH_ZK_TLS_SERVER_NAME"
)

// Flags are the ZooKeeper security settings as given on the command line:
// file names, never secrets themselves.
type Flags struct {
	// AuthFile holds the credentials (see ParseCredentials).
	AuthFile string
	// TLS are the TLS settings; any of them turns TLS on.
	TLS TLSFiles
}

// FlagSet is what Register needs of a flag set; *pflag.FlagSet (cobra) and
// the standard library's *flag.FlagSet both have it.
type FlagSet interface {
	StringVar(p *string, name, value, usage string)
}

// Register adds the flags to fs.
func (f *Flags) Register(fs FlagSet) {
	fs.StringVar(&f.AuthFile, FlagAuthFile, "", "file holding ZooKeeper credentials, one line user:password or digest:user:password; must not be world-readable ["+EnvAuthFile+"]")
	fs.StringVar(&f.TLS.CA, FlagTLSCA, "", "PEM file of the CA certificates that sign the ZooKeeper servers' certificates; setting any --zk-tls-* flag connects with TLS, verified (default: the system's CAs) ["+EnvTLSCA+"]")
	fs.StringVar(&f.TLS.Cert, FlagTLSCert, "", "PEM client certificate for ZooKeeper's secureClientPort, with --zk-tls-key ["+EnvTLSCert+"]")
	fs.StringVar(&f.TLS.Key, FlagTLSKey, "", "PEM private key of --zk-tls-cert; must not be world-readable ["+EnvTLSKey+"]")
	fs.StringVar(&f.TLS.ServerName, FlagTLSServerName, "", "name the ZooKeeper servers' certificates must hold (default: the host of each --zk address) ["+EnvTLSServerName+"]")
}

// Load reads and checks the files the flags name. Its errors are about the
// local configuration (a missing or world-readable file, a malformed
// certificate): nothing has been sent anywhere.
func (f Flags) Load() (Security, error) {
	var s Security
	if f.AuthFile != "" {
		c, err := ReadAuthFile(f.AuthFile)
		if err != nil {
			return Security{}, err
		}
		s.Auth = &c
	}
	if f.TLS.Enabled() {
		t, err := LoadTLS(f.TLS)
		if err != nil {
			return Security{}, err
		}
		s.TLS = t
	}
	return s, nil
}

// Security is how a program authenticates to ZooKeeper and protects the
// connection. The zero value is an anonymous plain-TCP client.
type Security struct {
	// Auth are the credentials sent after connecting; nil for none.
	Auth *Credentials
	// TLS, when set, wraps every connection in verified TLS.
	TLS *TLS
}

// SessionOptions returns the zkstate options that apply s to a Session.
func (s Security) SessionOptions() []zkstate.SessionOption {
	var opts []zkstate.SessionOption
	if s.Auth != nil {
		opts = append(opts, s.Auth.SessionOption())
	}
	if s.TLS != nil {
		opts = append(opts, zkstate.WithDialer(s.TLS.Dialer()))
	}
	return opts
}

// OwnACL returns the ACL for nodes a program creates for itself: readable
// by everyone, every other right for the identities of its own session
// (ZooKeeper's "auth" scheme, which the server expands into them at
// creation; with TLS client certificates that includes the x509 identity).
// Without credentials it returns nil, the default of an open tree: the
// "auth" scheme is refused (InvalidACL) on a session with no identity.
func (s Security) OwnACL() []zk.ACL {
	if s.Auth == nil {
		return nil
	}
	return []zk.ACL{
		{Perms: zk.PermRead, Scheme: "world", ID: "anyone"},
		{Perms: zk.PermAll, Scheme: "auth", ID: ""},
	}
}

// Identity describes who the program is to ZooKeeper, for messages:
// `digest user "editor"` or "an anonymous client".
func (s Security) Identity() string {
	if s.Auth == nil {
		return "an anonymous client"
	}
	return s.Auth.Identity()
}

// String describes s for logs, without secrets.
func (s Security) String() string {
	out := "anonymous"
	if s.Auth != nil {
		out = s.Auth.String()
	}
	if s.TLS != nil {
		out += " over " + s.TLS.String()
	} else {
		out += " over plain TCP"
	}
	return out
}
