package main

import (
	"context"
	"net"
	"strings"
	"testing"
	"time"
)

// silentServer returns the address of a socket that accepts connections
// (the kernel completes the handshake) but never says a word, like a hung
// server: a client cannot tell it from a slow one.
func silentServer(t *testing.T) string {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { l.Close() })
	return l.Addr().String()
}

// TestEveryServerRefusedFailsFast: when every server refuses the
// connection, procctl says so at once, naming each address, instead of
// retrying until --timeout.
func TestEveryServerRefusedFailsFast(t *testing.T) {
	t.Parallel()
	a, b := closedPort(t), closedPort(t)
	for _, tc := range []struct {
		name, zk string
		want     []string
	}{
		{"one server", a, []string{"procctl: ZooKeeper at " + a + " is unreachable (connection refused)\n"}},
		{"two servers", a + "," + b, []string{"ZooKeeper at " + a + "," + b + " is unreachable",
			a + ": connection refused", b + ": connection refused"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			// The context ends before --timeout: a procctl that waited for
			// --timeout would report the context's end, not the refusal.
			ctx, cancel := context.WithTimeout(context.Background(), 15*time.Second)
			defer cancel()
			var stdout, stderr syncBuffer
			code := execute(ctx, envMap{}, "", &stdout, &stderr, "--zk", tc.zk, "--timeout", "20s", "get")
			if ctx.Err() != nil {
				t.Fatalf("procctl returned only when the context ended (%v): it waited for --timeout\n%s", ctx.Err(), stderr.String())
			}
			if code != exitFailure {
				t.Fatalf("exit %d, want 1\n%s", code, stderr.String())
			}
			for _, w := range tc.want {
				if !strings.Contains(stderr.String(), w) {
					t.Errorf("stderr %q lacks %q", stderr.String(), w)
				}
			}
		})
	}
}

// TestSilentServerWaitsForTimeout: a server that accepts and does not
// answer may be slow rather than down, so procctl waits for --timeout, also
// when the other servers refuse.
func TestSilentServerWaitsForTimeout(t *testing.T) {
	t.Parallel()
	silent := silentServer(t)
	for _, zk := range []string{silent, closedPort(t) + "," + silent} {
		t.Run(zk, func(t *testing.T) {
			t.Parallel()
			r := run(t, envMap{envZK: zk}, "--timeout", "1s", "get")
			want := "procctl: ZooKeeper at " + zk + " is unreachable ("
			if r.code != exitFailure || !strings.HasPrefix(r.stderr, want) || !strings.Contains(r.stderr, "no session within 1s") {
				t.Errorf("%s\nwant exit 1 and %q ... no session within 1s", r, want)
			}
		})
	}
}

// TestRefusedServerBesideALiveOne: the probe does not stand in the way of
// a reachable ZooKeeper, alone or listed after a server that refuses.
func TestRefusedServerBesideALiveOne(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	mustRun(t, f.env("/refused"), "init", "sshd")
	for _, zk := range []string{f.servers, closedPort(t) + "," + f.servers} {
		r := mustRun(t, envMap{envZK: zk, envPath: "/refused"}, "--timeout", "20s", "globs", "list")
		if r.stdout != "sshd\n" {
			t.Errorf("--zk %s: globs list = %q, want \"sshd\\n\"", zk, r.stdout)
		}
	}
}
