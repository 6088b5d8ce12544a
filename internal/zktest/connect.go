package zktest

import (
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/go-zookeeper/zk"
)

// connectWait bounds how long Connect waits for a session.
const connectWait = 10 * time.Second

// Connect opens a go-zookeeper client to servers (comma separated) and waits
// until it has a session, failing the test after ten seconds. The client
// logs through t.Logf, so its chatter shows only for failed tests or -v, and
// is closed when the test ends.
//
// opts are passed on to zk.Connect, e.g. zk.WithEventCallback to watch the
// connection state; zk.Connect's own event channel holds six events and drops
// the rest, so a test that wants every state change needs a callback.
func Connect(t testing.TB, servers string, sessionTimeout time.Duration, opts ...func(*zk.Conn)) *zk.Conn {
	t.Helper()
	logger := &testLogger{t: t}
	// Registered first so that it runs last, after Close: the client's
	// goroutines may log up to then, and t.Logf after the test panics.
	t.Cleanup(logger.stop)
	conn, events, err := zk.Connect(strings.Split(servers, ","), sessionTimeout,
		zk.WithLogger(logger),
		func(c *zk.Conn) {
			for _, o := range opts {
				o(c)
			}
		})
	if err != nil {
		t.Fatalf("zktest: connecting to %s: %v", servers, err)
	}
	t.Cleanup(conn.Close)
	timeout := time.NewTimer(connectWait)
	defer timeout.Stop()
	for {
		select {
		case ev, ok := <-events:
			if !ok {
				t.Fatalf("zktest: connection to %s closed before it had a session", servers)
			}
			if ev.State == zk.StateHasSession {
				return conn
			}
		case <-timeout.C:
			t.Fatalf("zktest: no session with %s after %v (state %v)", servers, connectWait, conn.State())
		}
	}
}

// testLogger sends the client's log to t.Logf until the test is over.
type testLogger struct {
	t    testing.TB
	mu   sync.Mutex
	done bool
}

func (l *testLogger) Printf(format string, args ...any) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if !l.done {
		l.t.Logf("zk client: "+format, args...)
	}
}

func (l *testLogger) stop() {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.done = true
}
