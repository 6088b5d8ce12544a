package zkstate

import (
	"io"
	"log/slog"
	"time"

	"github.com/go-zookeeper/zk"
	"go.opentelemetry.io/otel/trace"
)

// Defaults, named so that documentation and callers can refer to them.
const (
	DefaultSessionTimeout = 10 * time.Second
	DefaultMaxStaleness   = 30 * time.Second
	DefaultVerifyInterval = 5 * time.Second
	DefaultLockTimeout    = 30 * time.Second
	DefaultMaxRetries     = 5
	DefaultQueueSize      = 256
	// DefaultMaxPayloadSize keeps a write inside ZooKeeper's default
	// jute.maxbuffer (1 MiB - 1 byte) with room for the request framing:
	// the server closes the connection on a larger packet instead of
	// answering, which would leave the write's outcome unknown.
	DefaultMaxPayloadSize = 1<<20 - 4096
)

type sessionOptions struct {
	timeout   time.Duration
	logger    *slog.Logger
	dialer    zk.Dialer
	auth      []authCred
	maxBuffer int
}

type authCred struct {
	scheme string
	auth   []byte
}

func defaultSessionOptions() sessionOptions {
	return sessionOptions{timeout: DefaultSessionTimeout, logger: discardLogger()}
}

// SessionOption configures a Session.
type SessionOption func(*sessionOptions)

// WithSessionTimeout sets the session timeout asked of the server (default
// 10 s). Shorter means a dead instance's listener node and locks disappear
// sooner; longer means a brief network blip does not cost the session.
func WithSessionTimeout(d time.Duration) SessionOption {
	return func(o *sessionOptions) {
		if d > 0 {
			o.timeout = d
		}
	}
}

// WithSessionLogger sets where session changes and the go-zookeeper client's
// own lines (at debug level) are logged. The default discards them.
func WithSessionLogger(l *slog.Logger) SessionOption {
	return func(o *sessionOptions) {
		if l != nil {
			o.logger = l
		}
	}
}

// WithDialer replaces the TCP dialer, for TLS to ZooKeeper or for tests that
// route the connection through a proxy.
func WithDialer(d zk.Dialer) SessionOption {
	return func(o *sessionOptions) { o.dialer = d }
}

// WithAuth adds credentials (for example scheme "digest", auth
// "user:password") sent at connect and replayed after every reconnect and
// session expiry.
func WithAuth(scheme string, auth []byte) SessionOption {
	return func(o *sessionOptions) {
		o.auth = append(o.auth, authCred{scheme: scheme, auth: append([]byte(nil), auth...)})
	}
}

// Option configures a Store. None depends on the Store's type: what does
// (the initial value, the document's rules) is a parameter of OpenOrCreate
// or a method of T (Checker), so a mismatch is a compile error.
type Option func(*options)

type options struct {
	strict         bool
	noWait         bool
	maxStaleness   time.Duration
	verifyInterval time.Duration
	lockTimeout    time.Duration
	maxRetries     int
	maxPayload     int
	queueSize      int
	logger         *slog.Logger
	tracerProvider trace.TracerProvider
	register       bool
	program        string
	version        string
	memberID       string
	acls           ACLs
}

func defaultOptions() options {
	return options{
		maxStaleness:   DefaultMaxStaleness,
		verifyInterval: DefaultVerifyInterval,
		lockTimeout:    DefaultLockTimeout,
		maxRetries:     DefaultMaxRetries,
		maxPayload:     DefaultMaxPayloadSize,
		queueSize:      DefaultQueueSize,
		logger:         discardLogger(),
		register:       true,
	}
}

// WithStrictDecoding holds documents read from ZooKeeper (and those given to
// CompareAndSwapJSON or Decode) to JSON's letter rather than encoding/json's
// leniency: an object key given twice, or one that names a field of T only
// when case is ignored ("GLOBS" for a field tagged "globs"), makes the
// document invalid, at any depth of T's structs, maps and slices, so it is
// treated like malformed JSON. Without it encoding/json keeps the last of
// two keys and fills Globs from "GLOBS". Keys T does not know are still
// accepted and preserved on write. A type with its own UnmarshalJSON is
// checked for duplicate keys only. Use it for a document that people and
// other tools write by hand, where a typo must not silently change what it
// means.
func WithStrictDecoding() Option {
	return func(o *options) { o.strict = true }
}

// WithoutWait makes Open fail with ErrNoState instead of waiting when the
// payload does not exist: right for a command-line tool that should tell its
// user to create the state first.
func WithoutWait() Option {
	return func(o *options) { o.noWait = true }
}

// WithMaxStaleness sets how long after its last successful check against the
// server Read keeps answering (default 30 s). Past it Read fails with
// ErrStale; DirtyRead answers regardless.
func WithMaxStaleness(d time.Duration) Option {
	return func(o *options) {
		if d > 0 {
			o.maxStaleness = d
		}
	}
}

// WithVerifyInterval sets how often the version is checked against the
// server in addition to the watch (default 5 s), so a lost watch can delay a
// change but never hide it. Keep it well under the staleness bound.
func WithVerifyInterval(d time.Duration) Option {
	return func(o *options) {
		if d > 0 {
			o.verifyInterval = d
		}
	}
}

// WithLockTimeout bounds the wait for the write lock (default 30 s); past
// it Update and CompareAndSwap fail with ErrLockTimeout. The call's context
// still applies when it is shorter.
func WithLockTimeout(d time.Duration) Option {
	return func(o *options) {
		if d > 0 {
			o.lockTimeout = d
		}
	}
}

// WithMaxRetries bounds how often Update retries after a version conflict
// caused by a writer that bypassed the lock (default 5) before it reports
// ErrConflict.
func WithMaxRetries(n int) Option {
	return func(o *options) {
		if n >= 0 {
			o.maxRetries = n
		}
	}
}

// WithQueueSize sets how many events each subscriber may have waiting
// (default 256). A subscriber that falls further behind gets one resync event
// with the merged difference instead.
func WithQueueSize(n int) Option {
	return func(o *options) {
		if n > 0 {
			o.queueSize = n
		}
	}
}

// WithLogger sets where the Store reports invalid payloads, lost sessions and
// failed background work. The default discards.
func WithLogger(l *slog.Logger) Option {
	return func(o *options) {
		if l != nil {
			o.logger = l
		}
	}
}

// WithTracerProvider sets where spans for Update, CompareAndSwap,
// ConsistentRead and resync go (default: the global provider).
func WithTracerProvider(tp trace.TracerProvider) Option {
	return func(o *options) { o.tracerProvider = tp }
}

// WithMember names this instance in its listener node: the program and its
// version, shown by member listings.
func WithMember(program, version string) Option {
	return func(o *options) {
		o.program, o.version = program, version
	}
}

// WithMemberID sets the listener node's name (default: a random id). Ids must
// be unique among live instances.
func WithMemberID(id string) Option {
	return func(o *options) { o.memberID = id }
}

// WithoutMembership keeps this instance out of the listeners registry: right
// for short-lived tools, which would otherwise show up as agents.
func WithoutMembership() Option {
	return func(o *options) { o.register = false }
}

func discardLogger() *slog.Logger { return slog.New(slog.NewTextHandler(io.Discard, nil)) }
