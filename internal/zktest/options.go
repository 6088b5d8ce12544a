package zktest

import (
	"io"
	"time"
)

// Paths of Debian's zookeeper package. They are fields of config rather than
// constants so the tests can point them elsewhere to check the failure message.
const (
	debianZooKeeperJar = "/usr/share/java/zookeeper.jar"
	// Without an SLF4J binding the server logs nothing at all, which leaves a
	// failed start unexplained; the jar is optional because the server runs
	// fine without it.
	debianSLF4JSimpleJar = "/usr/share/java/slf4j-simple.jar"
)

// config is what the Options fill in; defaultConfig holds the defaults.
type config struct {
	minSession, maxSession time.Duration // 0: ZooKeeper's default (2 and 20 ticks)
	extraConfig            []string
	extraClasspath         []string
	logWriter              io.Writer
	tls                    *TLS // nil: no secure client port

	java         string        // looked up in PATH
	zooKeeperJar string        // must exist
	slf4jJar     string        // used when it exists
	startTimeout time.Duration // per member start, and for the whole ensemble

	reservePorts func(n int) (*portLocks, error) // a seam for testing the retry
}

func defaultConfig() config {
	return config{
		java:         "java",
		zooKeeperJar: debianZooKeeperJar,
		slf4jJar:     debianSLF4JSimpleJar,
		// Launch to serving is 0.25-0.6 s on an idle machine, but a loaded
		// one running several test binaries with -race is far slower.
		startTimeout: 60 * time.Second,
		reservePorts: reservePorts,
	}
}

// Option changes how Start and StartCluster configure the servers.
type Option func(*config)

// WithSessionTimeouts sets the bounds the servers negotiate client session
// timeouts into (minSessionTimeout and maxSessionTimeout). The servers tick
// every 500 ms, so by default sessions range from 1 s to 10 s; use this when a
// test needs a session timeout outside that range, for example a longer one
// to ride out a leader election, or a short one to expire sessions quickly.
func WithSessionTimeouts(min, max time.Duration) Option {
	return func(c *config) { c.minSession, c.maxSession = min, max }
}

// WithConfig appends lines to every member's zoo.cfg, for settings zktest does
// not know about (WithTLS covers the secure client port). They come after
// zktest's own keys, so a repeated key overrides zktest's value.
func WithConfig(lines ...string) Option {
	return func(c *config) { c.extraConfig = append(c.extraConfig, lines...) }
}

// WithClasspath appends jars to the servers' classpath, for server plugins
// such as an authentication provider. (The jars the Netty connection factory
// misses from the zookeeper.jar manifest, which TLS needs, WithTLS adds.)
func WithClasspath(jars ...string) Option {
	return func(c *config) { c.extraClasspath = append(c.extraClasspath, jars...) }
}

// WithLogWriter also copies every member's server log to w, each line
// prefixed with the member's name (zk1, zk2, ...). The log file in the
// member's directory is written either way; this is for watching a demo or
// debugging a test live. Writes to w are serialized.
func WithLogWriter(w io.Writer) Option {
	return func(c *config) { c.logWriter = w }
}
