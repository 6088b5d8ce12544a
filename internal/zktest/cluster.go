package zktest

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"
)

const (
	// stopGrace is how long Stop lets a server shut down after SIGTERM.
	stopGrace = 5 * time.Second
	// leaderWait bounds Leader's polling: an election after a crash takes
	// well under a second here, so ten seconds means something is wrong.
	leaderWait = 10 * time.Second
	// probeTimeout bounds one srvr probe; loopback answers in microseconds.
	probeTimeout = time.Second
	// pollInterval is the pause between readiness probes.
	pollInterval = 25 * time.Millisecond
	// startAttempts is how often StartCluster tries fresh ports when a port
	// was taken between reservation and bind.
	startAttempts = 3
	// tailLines is how much of a server log a failure message carries.
	tailLines = 40
)

// errAddrInUse marks a start that failed only because a port was taken, which
// StartCluster retries with fresh ports.
var errAddrInUse = errors.New("address already in use")

// Cluster is a running standalone ZooKeeper server or ensemble. Its members
// are numbered from 0; member i has myid i+1. Its methods may be called from
// several goroutines.
type Cluster struct {
	cfg       config
	java      string   // resolved path of the java binary
	classpath string   // resolved once, reused by Restart
	root      string   // temporary directory holding every member's directory
	rootLock  *os.File // flocked while the cluster lives, see makeClusterDir
	ports     *portLocks
	members   []*member
	logMu     sync.Mutex // serializes WithLogWriter output of all members

	// startup is how long the members took from launch to serving, without
	// the wait for a start slot; tests report it.
	startup time.Duration

	mu       sync.Mutex // guards member processes and the fields below
	closed   bool
	closeErr error
}

// member is one server of a Cluster.
type member struct {
	name       string // "zk1" for myid 1
	dir        string
	cfgPath    string
	logPath    string
	clientPort int
	securePort int      // 0 without WithTLS
	proc       *process // nil while not running; guarded by Cluster.mu
}

func (m *member) addr() string       { return "127.0.0.1:" + strconv.Itoa(m.clientPort) }
func (m *member) secureAddr() string { return "127.0.0.1:" + strconv.Itoa(m.securePort) }

// Start starts a ZooKeeper cluster of n members, as StartCluster does, and
// closes it when the test ends. n = 1 gives a standalone server; n = 3 an
// ensemble. It fails the test, with the reason and the server log's tail, if
// the cluster cannot be started.
func Start(t testing.TB, n int, opts ...Option) *Cluster {
	t.Helper()
	c, err := StartCluster(n, opts...)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if err := c.Close(); err != nil {
			t.Error(err)
		}
	})
	return c
}

// StartCluster starts n ZooKeeper servers from Debian's package: a standalone
// server when n is 1, an ensemble otherwise (usually 3). It returns once every
// member serves clients (ensemble members as leader or follower), or fails
// with the tail of the log of the member that did not. The caller must Close
// the cluster; until then the servers run, and they die with this process in
// any case.
func StartCluster(n int, opts ...Option) (*Cluster, error) {
	if n < 1 {
		return nil, fmt.Errorf("zktest: a cluster needs at least one member, not %d", n)
	}
	cfg := defaultConfig()
	for _, o := range opts {
		o(&cfg)
	}
	if cfg.minSession > 0 && cfg.maxSession > 0 && cfg.minSession > cfg.maxSession {
		return nil, fmt.Errorf("zktest: minimum session timeout %v is above the maximum %v", cfg.minSession, cfg.maxSession)
	}
	java, classpath, err := cfg.resolve()
	if err != nil {
		return nil, err
	}
	for range startAttempts {
		var c *Cluster
		c, err = startOnce(n, cfg, java, classpath)
		if !errors.Is(err, errAddrInUse) {
			return c, err
		}
	}
	return nil, err
}

// resolve finds java and builds the classpath, or explains how to install them.
func (cfg *config) resolve() (java, classpath string, err error) {
	if _, err := os.Stat(cfg.zooKeeperJar); err != nil {
		return "", "", fmt.Errorf("zktest: %s not found: run `make deps` (apt-get install zookeeper)", cfg.zooKeeperJar)
	}
	java, err = exec.LookPath(cfg.java)
	if err != nil {
		return "", "", fmt.Errorf("zktest: %s not found in PATH: run `make deps` (apt-get install zookeeper, which brings a Java runtime)", cfg.java)
	}
	cp := []string{cfg.zooKeeperJar}
	if _, err := os.Stat(cfg.slf4jJar); err == nil {
		cp = append(cp, cfg.slf4jJar)
	}
	if cfg.tls != nil {
		cp = append(cp, nettyJars...)
	}
	cp = append(cp, cfg.extraClasspath...)
	return java, strings.Join(cp, ":"), nil
}

// startOnce makes one attempt at starting a cluster on freshly reserved ports.
// On failure it leaves nothing behind.
func startOnce(n int, cfg config, java, classpath string) (*Cluster, error) {
	perMember := 1 // client port
	if n > 1 {
		perMember = 3 // client, quorum, election
	}
	if cfg.tls != nil {
		perMember++ // secure client port, the last of the member's ports
	}
	ports, err := cfg.reservePorts(n * perMember)
	if err != nil {
		return nil, err
	}
	root, rootLock, err := makeClusterDir()
	if err != nil {
		ports.release()
		return nil, err
	}
	c := &Cluster{cfg: cfg, java: java, classpath: classpath, root: root, rootLock: rootLock, ports: ports}

	var servers []string // server.N lines, only for an ensemble
	for i := range n {
		m := &member{name: fmt.Sprintf("zk%d", i+1), clientPort: ports.ports[i*perMember]}
		if cfg.tls != nil {
			m.securePort = ports.ports[(i+1)*perMember-1]
		}
		m.dir = filepath.Join(root, m.name)
		m.cfgPath = filepath.Join(m.dir, "zoo.cfg")
		m.logPath = filepath.Join(m.dir, "server.log")
		c.members = append(c.members, m)
		if n > 1 {
			servers = append(servers, fmt.Sprintf("server.%d=127.0.0.1:%d:%d", i+1, ports.ports[i*perMember+1], ports.ports[i*perMember+2]))
		}
	}
	for i, m := range c.members {
		if err := c.writeMemberFiles(m, i, servers); err != nil {
			c.Close()
			return nil, err
		}
	}
	release, err := acquireStartSlot()
	if err != nil {
		c.Close()
		return nil, err
	}
	defer release()
	launched := time.Now()
	all := make([]int, n)
	for i, m := range c.members {
		all[i] = i
		if m.proc, err = c.launch(m); err != nil {
			c.Close()
			return nil, err
		}
	}
	if err := c.waitServing(all); err != nil {
		c.Close()
		return nil, err
	}
	c.startup = time.Since(launched)
	return c, nil
}

// writeMemberFiles writes member i's zoo.cfg, and myid for an ensemble.
func (c *Cluster) writeMemberFiles(m *member, i int, servers []string) error {
	dataDir := filepath.Join(m.dir, "data")
	if err := os.MkdirAll(dataDir, 0o755); err != nil {
		return fmt.Errorf("zktest: %w", err)
	}
	if len(servers) > 0 {
		if err := os.WriteFile(filepath.Join(dataDir, "myid"), []byte(strconv.Itoa(i+1)+"\n"), 0o644); err != nil {
			return fmt.Errorf("zktest: %w", err)
		}
	}
	lines := []string{
		"tickTime=500", // lets sessions be as short as 1 s
		"initLimit=20",
		"syncLimit=10",
		"dataDir=" + dataDir,
		"clientPort=" + strconv.Itoa(m.clientPort),
		"clientPortAddress=127.0.0.1",
		"maxClientCnxns=0",         // the default 60 per IP breaks tests with many sessions
		"forceSync=no",             // durability across power loss is not what tests check
		"admin.enableServer=false", // otherwise every member wants port 8080
		"4lw.commands.whitelist=*", // srvr is how readiness and Mode are read
	}
	if c.cfg.minSession > 0 {
		lines = append(lines, fmt.Sprintf("minSessionTimeout=%d", c.cfg.minSession.Milliseconds()))
	}
	if c.cfg.maxSession > 0 {
		lines = append(lines, fmt.Sprintf("maxSessionTimeout=%d", c.cfg.maxSession.Milliseconds()))
	}
	if len(servers) > 0 {
		// An election round that hears nothing waits twice as long as the
		// last, up to 60 s by default: a member that starts before its peers
		// can then sleep through their arrival. One second bounds that.
		lines = append(lines, "fastleader.maxNotificationInterval=1000")
		lines = append(lines, servers...)
	}
	if c.cfg.tls != nil {
		lines = append(lines, c.cfg.tls.tlsLines(m.securePort)...)
	}
	lines = append(lines, c.cfg.extraConfig...)
	cfg := strings.Join(lines, "\n") + "\n"
	if err := os.WriteFile(m.cfgPath, []byte(cfg), 0o644); err != nil {
		return fmt.Errorf("zktest: %w", err)
	}
	return nil
}

// launch starts member m's JVM, appending its output to the member's log.
func (c *Cluster) launch(m *member) (*process, error) {
	f, err := os.OpenFile(m.logPath, os.O_WRONLY|os.O_CREATE|os.O_APPEND, 0o644)
	if err != nil {
		return nil, fmt.Errorf("zktest: %w", err)
	}
	var out io.WriteCloser = f // an *os.File goes to the JVM as is, with no copying
	if c.cfg.logWriter != nil {
		out = &teeLog{file: f, copy: &prefixWriter{mu: &c.logMu, w: c.cfg.logWriter, prefix: m.name + " "}}
	}
	argv := []string{c.java, "-Xmx128m", "-XX:+UseSerialGC", "-cp", c.classpath,
		"org.apache.zookeeper.server.quorum.QuorumPeerMain", m.cfgPath}
	p, err := startProcess(argv, m.dir, out)
	if err != nil {
		return nil, fmt.Errorf("zktest: starting %s: %w", m.name, err)
	}
	return p, nil
}

// wantMode reports whether mode is a serving mode for this cluster.
func (c *Cluster) wantMode(mode string) bool {
	if len(c.members) == 1 {
		return mode == "standalone"
	}
	return mode == "leader" || mode == "follower"
}

// waitServing waits until the members at idx serve, or one of them exits, or
// the start timeout passes. The caller holds c.mu or has not published c.
func (c *Cluster) waitServing(idx []int) error {
	deadline := time.Now().Add(c.cfg.startTimeout)
	for {
		var waiting []string // each member still waiting, with its last srvr answer
		var waitingIdx []int
		for _, i := range idx {
			m := c.members[i]
			if m.proc.exited() {
				return c.startFailure(fmt.Sprintf("%s exited during start (%v)", m.name, m.proc.err), i)
			}
			info, err := Srvr(m.addr(), probeTimeout)
			if err == nil && c.wantMode(info.Mode) {
				if m.securePort == 0 {
					continue
				}
				// The server starts the secure port's factory after the
				// plain one, so srvr can answer before TLS is bound.
				if err = probeListening(m.secureAddr()); err == nil {
					continue
				}
				err = fmt.Errorf("secure client port: %w", err)
			} else if err == nil {
				err = fmt.Errorf("mode %s", info.Mode)
			}
			waiting = append(waiting, fmt.Sprintf("%s (last srvr: %v)", m.name, err))
			waitingIdx = append(waitingIdx, i)
		}
		if len(waiting) == 0 {
			return nil
		}
		if time.Now().After(deadline) {
			return c.startFailure(fmt.Sprintf("not serving after %v: %s", c.cfg.startTimeout, strings.Join(waiting, ", ")), waitingIdx...)
		}
		time.Sleep(pollInterval)
	}
}

// probeListening checks that something accepts TCP connections at addr.
func probeListening(addr string) error {
	c, err := net.DialTimeout("tcp", addr, probeTimeout)
	if err != nil {
		return err
	}
	return c.Close()
}

// startFailure builds the error for members that did not start, with the
// tail of each one's log; it wraps errAddrInUse when a log says a port was
// taken, so that StartCluster retries on other ports.
func (c *Cluster) startFailure(what string, idx ...int) error {
	var b strings.Builder
	inUse := false
	for _, i := range idx {
		m := c.members[i]
		tail := logTail(m.logPath, tailLines)
		inUse = inUse || strings.Contains(tail, "Address already in use")
		fmt.Fprintf(&b, "\n--- last %d lines of %s's log ---\n%s", tailLines, m.name, tail)
	}
	if inUse {
		return fmt.Errorf("zktest: %s: %w%s", what, errAddrInUse, b.String())
	}
	return fmt.Errorf("zktest: %s%s", what, b.String())
}

// logTail returns the last n lines of the file at path, or why it cannot.
func logTail(path string, n int) string {
	b, err := os.ReadFile(path)
	if err != nil {
		return err.Error()
	}
	lines := strings.Split(strings.TrimRight(string(b), "\n"), "\n")
	if len(lines) > n {
		lines = lines[len(lines)-n:]
	}
	return strings.Join(lines, "\n")
}

// ConnectString returns every member's client address, comma separated, as
// ZooKeeper clients take them.
func (c *Cluster) ConnectString() string { return strings.Join(c.Servers(), ",") }

// Servers returns every member's client address, in member order.
func (c *Cluster) Servers() []string {
	s := make([]string, len(c.members))
	for i, m := range c.members {
		s[i] = m.addr()
	}
	return s
}

// Addr returns member i's client address. It panics if i is out of range.
func (c *Cluster) Addr(i int) string { return c.members[i].addr() }

// Size returns the number of members, running or not.
func (c *Cluster) Size() int { return len(c.members) }

// Stop shuts member i down gracefully: SIGTERM, then SIGKILL if it is still
// running after a few seconds. It returns once the process is gone.
func (c *Cluster) Stop(i int) error {
	c.mu.Lock()
	defer c.mu.Unlock()
	m, err := c.running(i)
	if err != nil {
		return err
	}
	err = m.proc.stop(stopGrace)
	m.proc = nil
	return err
}

// Kill crashes member i with SIGKILL, as a power cut would, and returns once
// the process has been reaped, so its ports are closed when Kill returns.
func (c *Cluster) Kill(i int) error {
	c.mu.Lock()
	defer c.mu.Unlock()
	m, err := c.running(i)
	if err != nil {
		return err
	}
	err = m.proc.kill()
	m.proc = nil
	return err
}

// running returns member i if it is running. The caller holds c.mu.
func (c *Cluster) running(i int) (*member, error) {
	if c.closed {
		return nil, errors.New("zktest: cluster is closed")
	}
	if i < 0 || i >= len(c.members) {
		return nil, fmt.Errorf("zktest: no member %d in a cluster of %d", i, len(c.members))
	}
	m := c.members[i]
	if m.proc == nil {
		return nil, fmt.Errorf("zktest: %s is not running", m.name)
	}
	return m, nil
}

// Restart starts member i again after Stop, Kill or a crash, with the same directory,
// ports and myid, and waits until it serves (in an ensemble, as leader or
// follower, which needs a quorum of members running).
func (c *Cluster) Restart(i int) error {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.closed {
		return errors.New("zktest: cluster is closed")
	}
	if i < 0 || i >= len(c.members) {
		return fmt.Errorf("zktest: no member %d in a cluster of %d", i, len(c.members))
	}
	m := c.members[i]
	if m.proc != nil && !m.proc.exited() {
		return fmt.Errorf("zktest: %s is already running", m.name)
	}
	release, err := acquireStartSlot()
	if err != nil {
		return err
	}
	defer release()
	p, err := c.launch(m)
	if err != nil {
		return err
	}
	m.proc = p
	if err := c.waitServing([]int{i}); err != nil {
		if kerr := p.kill(); kerr != nil {
			err = errors.Join(err, kerr)
		}
		m.proc = nil
		return err
	}
	return nil
}

// Leader returns the index of the member that leads the ensemble, or 0 for a
// standalone server. During an election there is none, so it polls for up to
// ten seconds until exactly one member says it leads.
func (c *Cluster) Leader() (int, error) {
	deadline := time.Now().Add(leaderWait)
	for {
		var leaders []int
		var lastErr error
		for i, m := range c.members {
			info, err := Srvr(m.addr(), probeTimeout)
			if err != nil {
				lastErr = err
				continue
			}
			if info.Mode == "leader" || info.Mode == "standalone" {
				leaders = append(leaders, i)
			}
		}
		if len(leaders) == 1 {
			return leaders[0], nil
		}
		if time.Now().After(deadline) {
			return -1, fmt.Errorf("zktest: no single leader after %v (leaders %v, last error: %v)", leaderWait, leaders, lastErr)
		}
		time.Sleep(pollInterval)
	}
}

// Mode returns member i's mode as srvr reports it: "standalone", "leader" or
// "follower". A member that is down or not serving returns an error.
func (c *Cluster) Mode(i int) (string, error) {
	info, err := Srvr(c.Addr(i), probeTimeout)
	if err != nil {
		return "", err
	}
	return info.Mode, nil
}

// Close kills every member, waits for each to be reaped, releases the ports
// and removes the temporary directories. Later calls return the first call's
// result.
func (c *Cluster) Close() error {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.closed {
		return c.closeErr
	}
	c.closed = true
	var errs []error
	for _, m := range c.members {
		if m.proc != nil {
			// SIGKILL rather than Stop: the data is thrown away next, and
			// test suites start and close many clusters.
			errs = append(errs, m.proc.kill())
			m.proc = nil
		}
	}
	c.ports.release()
	errs = append(errs, os.RemoveAll(c.root))
	c.rootLock.Close() // after the removal, so no sweep races it
	c.closeErr = errors.Join(errs...)
	return c.closeErr
}

// teeLog writes a member's output to its log file and to a WithLogWriter.
type teeLog struct {
	file *os.File
	copy *prefixWriter
}

func (t *teeLog) Write(b []byte) (int, error) {
	t.copy.Write(b) // a failing copy must not stop the server's own log
	return t.file.Write(b)
}

func (t *teeLog) Close() error {
	t.copy.flush()
	return t.file.Close()
}

// prefixWriter writes whole lines with a member's name in front, so that the
// interleaved output of several members stays readable.
type prefixWriter struct {
	mu     *sync.Mutex // shared by the members of a cluster
	w      io.Writer
	prefix string
	buf    []byte // an unfinished line
}

func (p *prefixWriter) Write(b []byte) (int, error) {
	p.buf = append(p.buf, b...)
	for {
		i := bytes.IndexByte(p.buf, '\n')
		if i < 0 {
			return len(b), nil
		}
		p.emit(p.buf[:i+1])
		p.buf = p.buf[i+1:]
	}
}

func (p *prefixWriter) flush() {
	if len(p.buf) > 0 {
		p.emit(append(p.buf, '\n'))
		p.buf = nil
	}
}

func (p *prefixWriter) emit(line []byte) {
	p.mu.Lock()
	defer p.mu.Unlock()
	io.WriteString(p.w, p.prefix+string(line))
}
