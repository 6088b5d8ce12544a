package zktest

import (
	"bytes"
	"errors"
	"fmt"
	"net"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/go-zookeeper/zk"
	"github.com/google/go-cmp/cmp"
	"go.uber.org/goleak"

	"github.com/procwatch/procwatch/internal/testutil"
)

// TestMain checks, after all tests, that no goroutine leaked and that no
// child process (a JVM) outlived the cluster that started it.
func TestMain(m *testing.M) {
	goleak.VerifyTestMain(m, goleak.Cleanup(func(code int) {
		if kids := childProcesses(); len(kids) > 0 {
			fmt.Fprintf(os.Stderr, "zktest: child processes left behind: %v\n", kids)
			code = 1
		}
		os.Exit(code)
	}))
}

// childProcesses lists the PIDs whose parent is this process.
func childProcesses() []int {
	dirs, _ := filepath.Glob("/proc/[0-9]*/stat")
	var kids []int
	for _, path := range dirs {
		b, err := os.ReadFile(path)
		if err != nil {
			continue // exited meanwhile
		}
		// "pid (comm) state ppid ...": comm may hold spaces and parentheses.
		i := bytes.LastIndexByte(b, ')')
		if i < 0 {
			continue
		}
		f := strings.Fields(string(b[i+1:]))
		if len(f) > 1 && f[1] == strconv.Itoa(os.Getpid()) {
			pid, _ := strconv.Atoi(filepath.Base(filepath.Dir(path)))
			kids = append(kids, pid)
		}
	}
	return kids
}

// steadySession is the session timeout of clients whose session a test does
// not mean to lose: the servers' maximum, so that a loaded machine does not
// expire it behind the test's back.
const steadySession = 10 * time.Second

// states records a client's session states through zk.WithEventCallback. The
// callback never blocks, as go-zookeeper requires.
type states struct {
	ch       chan zk.State
	overflow chan struct{}
	once     sync.Once
}

func newStates() *states {
	return &states{ch: make(chan zk.State, 1024), overflow: make(chan struct{})}
}

func (s *states) callback(ev zk.Event) {
	if ev.Type != zk.EventSession {
		return
	}
	select {
	case s.ch <- ev.State:
	default:
		s.once.Do(func() { close(s.overflow) })
	}
}

// option returns the zk.Connect option that feeds s.
func (s *states) option() func(*zk.Conn) { return zk.WithEventCallback(s.callback) }

// waitFor consumes states until want arrives, failing the test after timeout.
func (s *states) waitFor(t *testing.T, want zk.State, timeout time.Duration) {
	t.Helper()
	deadline := time.NewTimer(timeout)
	defer deadline.Stop()
	var seen []zk.State
	for {
		select {
		case st := <-s.ch:
			if st == want {
				return
			}
			seen = append(seen, st)
		case <-s.overflow:
			t.Fatal("state buffer overflowed: states were lost")
		case <-deadline.C:
			t.Fatalf("no %v within %v; saw %v", want, timeout, seen)
		}
	}
}

// drain forgets the states recorded so far, so the next waitFor sees only
// what happens after this point.
func (s *states) drain() {
	for {
		select {
		case <-s.ch:
		default:
			return
		}
	}
}

func TestParseSrvr(t *testing.T) {
	tests := []struct {
		name  string
		reply string
		want  SrvrInfo
		err   error // checked with errors.Is; nil means success
	}{
		{
			name: "debian standalone",
			reply: "Zookeeper version: 3.8.0-${mvngit.commit.id}, built on 2024-12-29 17:54 UTC\n" +
				"Latency min/avg/max: 0/0.0/0\nReceived: 1\nSent: 0\nConnections: 1\nOutstanding: 0\n" +
				"Zxid: 0x0\nMode: standalone\nNode count: 5\n",
			want: SrvrInfo{Version: "3.8.0-${mvngit.commit.id}", Mode: "standalone", Received: 1, Connections: 1, NodeCount: 5},
		},
		{
			name: "leader with proposal sizes",
			reply: "Zookeeper version: 3.8.0-${mvngit.commit.id}, built on 2024-12-29 17:54 UTC\n" +
				"Latency min/avg/max: 0/0.4/3\nReceived: 12\nSent: 11\nConnections: 2\nOutstanding: 0\n" +
				"Zxid: 0x100000003\nMode: leader\nNode count: 6\nProposal sizes last/min/max: 48/48/92\n",
			want: SrvrInfo{Version: "3.8.0-${mvngit.commit.id}", Mode: "leader", Zxid: 0x100000003, Received: 12, Sent: 11, Connections: 2, NodeCount: 6},
		},
		{
			name:  "election in progress",
			reply: "This ZooKeeper instance is not currently serving requests\n",
			err:   ErrNotServing,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := parseSrvr(tt.reply)
			if !errors.Is(err, tt.err) {
				t.Fatalf("error %v, want %v", err, tt.err)
			}
			if diff := cmp.Diff(tt.want, got); diff != "" {
				t.Errorf("parseSrvr (-want +got):\n%s", diff)
			}
		})
	}
	if _, err := parseSrvr("srvr is not executed because it is not in the whitelist.\n"); err == nil {
		t.Error("a reply without a Mode line parsed without error")
	}
}

func TestStandaloneServes(t *testing.T) {
	var logs testutil.Buffer
	begin := time.Now()
	c := Start(t, 1, WithLogWriter(&logs))
	t.Logf("standalone start: %v from launch to serving, %v in Start", c.startup.Round(time.Millisecond), time.Since(begin).Round(time.Millisecond))

	if mode, err := c.Mode(0); err != nil || mode != "standalone" {
		t.Fatalf("Mode(0) = %q, %v; want standalone", mode, err)
	}
	if l, err := c.Leader(); err != nil || l != 0 {
		t.Fatalf("Leader() = %d, %v; want 0", l, err)
	}
	info, err := Srvr(c.Addr(0), time.Second)
	if err != nil || !strings.HasPrefix(info.Version, "3.") {
		t.Fatalf("Srvr = %+v, %v; want a 3.x version", info, err)
	}

	conn := Connect(t, c.ConnectString(), steadySession)
	if _, err := conn.Create("/x", []byte("hello"), 0, zk.WorldACL(zk.PermAll)); err != nil {
		t.Fatalf("create: %v", err)
	}
	got, _, err := conn.Get("/x")
	if err != nil || string(got) != "hello" {
		t.Fatalf("get = %q, %v; want hello", got, err)
	}

	// A graceful stop and a restart keep the data: same dataDir and port.
	if err := c.Stop(0); err != nil {
		t.Fatalf("Stop: %v", err)
	}
	if _, err := Srvr(c.Addr(0), time.Second); err == nil {
		t.Fatal("srvr answered after Stop")
	}
	if err := c.Restart(0); err != nil {
		t.Fatalf("Restart: %v", err)
	}
	conn2 := Connect(t, c.ConnectString(), steadySession)
	if got, _, err := conn2.Get("/x"); err != nil || string(got) != "hello" {
		t.Fatalf("get after restart = %q, %v; want hello", got, err)
	}

	if !strings.Contains(logs.String(), "zk1 ") {
		t.Errorf("WithLogWriter got no zk1 lines:\n%s", logs.String())
	}
}

func TestEnsembleSurvivesLeaderCrash(t *testing.T) {
	begin := time.Now()
	c := Start(t, 3)
	t.Logf("ensemble start: %v from launch to serving, %v in Start", c.startup.Round(time.Millisecond), time.Since(begin).Round(time.Millisecond))

	leader, err := c.Leader()
	if err != nil {
		t.Fatal(err)
	}
	st := newStates()
	conn := Connect(t, c.ConnectString(), steadySession, st.option())
	session := conn.SessionID()
	if _, err := conn.Create("/eph", []byte("mine"), zk.FlagEphemeral, zk.WorldACL(zk.PermAll)); err != nil {
		t.Fatalf("create ephemeral: %v", err)
	}

	st.drain()
	killed := time.Now()
	if err := c.Kill(leader); err != nil {
		t.Fatalf("Kill(%d): %v", leader, err)
	}
	if _, err := c.Mode(leader); err == nil {
		t.Fatal("the killed leader still answers srvr")
	}
	newLeader, err := c.Leader()
	if err != nil {
		t.Fatal(err)
	}
	if newLeader == leader {
		t.Fatalf("Leader() = %d, the member just killed", leader)
	}
	t.Logf("new leader %d after %v", newLeader, time.Since(killed).Round(time.Millisecond))

	// Every member drops its clients when the leader goes, so the client
	// reconnects; it must get its old session back.
	st.waitFor(t, zk.StateDisconnected, 10*time.Second)
	st.waitFor(t, zk.StateHasSession, 10*time.Second)
	if got := conn.SessionID(); got != session {
		t.Fatalf("session %#x after the election, want %#x", got, session)
	}
	_, stat, err := conn.Get("/eph")
	if err != nil || stat.EphemeralOwner != session {
		t.Fatalf("ephemeral after the election: %+v, %v", stat, err)
	}
	if _, err := conn.Create("/after", nil, 0, zk.WorldACL(zk.PermAll)); err != nil {
		t.Fatalf("write after the election: %v", err)
	}
	t.Logf("write ok %v after the kill", time.Since(killed).Round(time.Millisecond))

	restarted := time.Now()
	if err := c.Restart(leader); err != nil {
		t.Fatalf("Restart(%d): %v", leader, err)
	}
	mode, err := c.Mode(leader)
	if err != nil || (mode != "follower" && mode != "leader") {
		t.Fatalf("Mode(%d) after Restart = %q, %v", leader, mode, err)
	}
	t.Logf("member %d rejoined as %s in %v", leader, mode, time.Since(restarted).Round(time.Millisecond))

	// It caught up: a client of that member alone sees the write.
	direct := Connect(t, c.Addr(leader), steadySession)
	if ok, _, err := direct.Exists("/after"); err != nil || !ok {
		t.Fatalf("restarted member: exists(/after) = %v, %v", ok, err)
	}
}

func TestProxyCutAndRestore(t *testing.T) {
	c := Start(t, 1)
	p := NewProxy(t, c.Addr(0))
	st := newStates()
	conn := Connect(t, p.Addr(), steadySession, st.option())
	session := conn.SessionID()

	st.drain()
	p.Cut()
	st.waitFor(t, zk.StateDisconnected, 5*time.Second)
	if _, _, err := conn.Get("/"); err == nil {
		t.Fatal("a read succeeded through a cut proxy")
	}

	p.Restore()
	st.waitFor(t, zk.StateHasSession, 10*time.Second)
	if got := conn.SessionID(); got != session {
		t.Fatalf("session %#x after Restore, want %#x", got, session)
	}
	if _, _, err := conn.Get("/"); err != nil {
		t.Fatalf("read after Restore: %v", err)
	}
}

func TestProxyBlackholeExpiresSession(t *testing.T) {
	// The client asks for 30 s; the server's maximum brings it down to
	// 1.5 s, which the expiry deadline below relies on (ZooKeeper's default
	// maximum at this tickTime would be 10 s).
	c := Start(t, 1, WithSessionTimeouts(time.Second, 1500*time.Millisecond))
	p := NewProxy(t, c.Addr(0))
	st := newStates()
	conn := Connect(t, p.Addr(), 30*time.Second, st.option())
	if _, err := conn.Create("/eph", nil, zk.FlagEphemeral, zk.WorldACL(zk.PermAll)); err != nil {
		t.Fatalf("create ephemeral: %v", err)
	}
	// A second client, not behind the proxy, sees the server expire the
	// session: its ephemeral node goes. That is the event to wait for, not
	// a sleep of "long enough".
	observer := Connect(t, c.Addr(0), 4*time.Second)
	ok, _, watch, err := observer.ExistsW("/eph")
	if err != nil || !ok {
		t.Fatalf("exists(/eph) = %v, %v", ok, err)
	}

	st.drain()
	p.Blackhole()
	expiryDeadline := time.After(8 * time.Second)
	st.waitFor(t, zk.StateDisconnected, 8*time.Second)
	select {
	case ev := <-watch:
		if ev.Type != zk.EventNodeDeleted {
			t.Fatalf("watch event %+v, want the ephemeral node deleted", ev)
		}
	case <-expiryDeadline:
		t.Fatal("the server did not expire the blackholed 1.5 s session within 8 s")
	}

	p.Restore()
	st.waitFor(t, zk.StateExpired, 10*time.Second)
}

func TestParallelClustersDoNotCollide(t *testing.T) {
	var mu sync.Mutex
	ports := map[int]string{}
	t.Run("group", func(t *testing.T) {
		for _, n := range []int{3, 1} {
			t.Run(fmt.Sprintf("size%d", n), func(t *testing.T) {
				t.Parallel()
				c := Start(t, n)
				mu.Lock()
				for _, p := range c.ports.ports {
					if other, taken := ports[p]; taken {
						t.Errorf("port %d used by %s too", p, other)
					}
					ports[p] = t.Name()
				}
				mu.Unlock()
				conn := Connect(t, c.ConnectString(), steadySession)
				if _, err := conn.Create("/x", []byte(t.Name()), 0, zk.WorldACL(zk.PermAll)); err != nil {
					t.Fatalf("create: %v", err)
				}
				if got, _, err := conn.Get("/x"); err != nil || string(got) != t.Name() {
					t.Fatalf("get = %q, %v", got, err)
				}
			})
		}
	})
	if len(ports) != 3*3+1 {
		t.Errorf("%d distinct ports, want 10", len(ports))
	}
}

func TestStartRetriesWhenAPortIsTaken(t *testing.T) {
	// Another program takes the client port between reservation and bind.
	busy, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer busy.Close()
	busyPort := busy.Addr().(*net.TCPAddr).Port
	calls := 0
	taken := func(c *config) {
		c.reservePorts = func(n int) (*portLocks, error) {
			calls++
			if calls == 1 {
				return &portLocks{ports: []int{busyPort}}, nil
			}
			return reservePorts(n)
		}
	}
	c, err := StartCluster(1, taken)
	if err != nil {
		t.Fatalf("no retry on fresh ports: %v", err)
	}
	defer c.Close()
	if calls != 2 || c.Addr(0) == busy.Addr().String() {
		t.Errorf("%d reservations, serving on %s (busy %d); want a second reservation", calls, c.Addr(0), busyPort)
	}
}

func TestSweepRemovesOnlyDeadClusterDirs(t *testing.T) {
	locks, err := lockDir()
	if err != nil {
		t.Fatal(err)
	}
	old := time.Now().Add(-2 * staleAge)
	// A directory left by a killed test binary: nobody holds its lock.
	dead, err := os.MkdirTemp(locks, "cluster-")
	if err != nil {
		t.Fatal(err)
	}
	// A live cluster's directory, just as old.
	live, liveLock, err := makeClusterDir()
	if err != nil {
		t.Fatal(err)
	}
	defer func() {
		os.RemoveAll(live)
		liveLock.Close()
	}()
	for _, dir := range []string{dead, live} {
		if err := os.Chtimes(dir, old, old); err != nil {
			t.Fatal(err)
		}
	}

	sweepStale(locks)
	if _, err := os.Stat(dead); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("dead cluster directory still there (%v)", err)
	}
	if _, err := os.Stat(live); err != nil {
		t.Errorf("live cluster directory swept: %v", err)
	}
}

func TestMissingInstallNamesMakeDeps(t *testing.T) {
	tests := []struct {
		name string
		opt  Option
		want string
	}{
		{"jar", func(c *config) { c.zooKeeperJar = "/nonexistent/zookeeper.jar" }, "/nonexistent/zookeeper.jar not found: run `make deps`"},
		{"java", func(c *config) { c.java = "zktest-no-such-java" }, "zktest-no-such-java not found in PATH: run `make deps`"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c, err := StartCluster(1, tt.opt)
			if err == nil {
				c.Close()
				t.Fatal("started without it")
			}
			if !strings.Contains(err.Error(), tt.want) {
				t.Errorf("error %q does not contain %q", err, tt.want)
			}
		})
	}
}

func TestStartFailureCarriesLogTail(t *testing.T) {
	// An invalid key makes the server exit at once; the error must say why.
	_, err := StartCluster(1, WithConfig("tickTime=notanumber"))
	if err == nil {
		t.Fatal("started with a broken zoo.cfg")
	}
	if !strings.Contains(err.Error(), "exited during start") || !strings.Contains(err.Error(), `For input string: "notanumber"`) {
		t.Errorf("error lacks the reason or the log tail:\n%v", err)
	}
}
