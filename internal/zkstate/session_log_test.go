package zkstate

import (
	"log/slog"
	"strings"
	"testing"
	"time"

	"github.com/procwatch/procwatch/internal/testutil"
	"github.com/procwatch/procwatch/internal/zktest"
)

// TestDisconnectIsLogged: losing the connection is said at INFO when it
// happens, not only a session timeout later when the session is declared
// lost, and so is the reconnect that keeps the session.
func TestDisconnectIsLogged(t *testing.T) {
	zkc := startZK(t)
	proxy := zktest.NewProxy(t, zkc.Servers()...)
	var logs testutil.Buffer
	logger := slog.New(slog.NewTextHandler(&logs, &slog.HandlerOptions{Level: slog.LevelInfo}))
	sess := newSession(t, proxy.Addr(), WithSessionTimeout(10*time.Second), WithSessionLogger(logger))

	proxy.Cut()
	line := logs.Expect(t, "disconnected from ZooKeeper; reconnecting", 5*time.Second)
	if !strings.Contains(line, "level=INFO") || !strings.Contains(line, "session=0x") {
		t.Errorf("disconnect logged as %q, want INFO with the session", line)
	}
	proxy.Restore()
	logs.Expect(t, "reconnected to ZooKeeper; the session survived", 10*time.Second)
	if got := sess.Expirations(); got != 0 {
		t.Errorf("%d expirations, want 0: the cut was shorter than the session timeout", got)
	}
}
