package zkstate

import (
	"io"
	"net"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/procwatch/procwatch/internal/zktest"
)

// faultProxy forwards TCP to one server and can, for the connections open at
// that moment, swallow what flows in one direction: the request reaches the
// server but its reply never comes back (dropReplies), or the request never
// reaches the server (dropRequests). New connections are forwarded normally,
// so the client's reconnect succeeds.
type faultProxy struct {
	ln     net.Listener
	target string
	refuse atomic.Bool // close new connections at once
	mu     sync.Mutex
	links  []*faultLink
	wg     sync.WaitGroup
}

type faultLink struct {
	client, server net.Conn
	dropUp, dropDn atomic.Bool
}

func newFaultProxy(t testing.TB, target string) *faultProxy {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	p := &faultProxy{ln: ln, target: target}
	p.wg.Add(1)
	go p.accept()
	t.Cleanup(p.close)
	return p
}

func (p *faultProxy) addr() string { return p.ln.Addr().String() }

func (p *faultProxy) accept() {
	defer p.wg.Done()
	for {
		c, err := p.ln.Accept()
		if err != nil {
			return
		}
		if p.refuse.Load() {
			c.Close()
			continue
		}
		s, err := net.Dial("tcp", p.target)
		if err != nil {
			c.Close()
			continue
		}
		l := &faultLink{client: c, server: s}
		p.mu.Lock()
		p.links = append(p.links, l)
		p.mu.Unlock()
		p.wg.Add(2)
		go p.pump(l, s, c, &l.dropUp)
		go p.pump(l, c, s, &l.dropDn)
	}
}

func (p *faultProxy) pump(l *faultLink, dst, src net.Conn, drop *atomic.Bool) {
	defer p.wg.Done()
	buf := make([]byte, 32<<10)
	for {
		n, err := src.Read(buf)
		if n > 0 && !drop.Load() {
			if _, werr := dst.Write(buf[:n]); werr != nil {
				break
			}
		}
		if err != nil {
			if err != io.EOF {
				_ = err
			}
			break
		}
	}
	l.client.Close()
	l.server.Close()
}

func (p *faultProxy) fault(up, down bool) {
	p.mu.Lock()
	defer p.mu.Unlock()
	for _, l := range p.links {
		l.dropUp.Store(up)
		l.dropDn.Store(down)
	}
}

// sever closes every open connection, as a dying network would.
func (p *faultProxy) sever() {
	p.mu.Lock()
	defer p.mu.Unlock()
	for _, l := range p.links {
		l.client.Close()
		l.server.Close()
	}
	p.links = nil
}

func (p *faultProxy) close() {
	p.ln.Close()
	p.sever()
	p.wg.Wait()
}

// TestAmbiguousWriteResolved cuts the connection at the moment the write's
// multi is sent, either after the server received it (applied, reply lost)
// or before (never applied), and checks that Update reports success exactly
// once in both cases: the increment is in the counter once, never twice.
func TestAmbiguousWriteResolved(t *testing.T) {
	zks := zktest.Start(t, 1, zktest.WithSessionTimeouts(time.Second, 20*time.Second))
	cases := []struct {
		name     string
		up, down bool
	}{
		{"applied, reply lost", false, true},
		{"request lost", true, false},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			proxy := newFaultProxy(t, zks.Addr(0))
			// The client gives up on a silent connection after 2/3 of the
			// session timeout and reconnects within it, keeping the session.
			sess := newSession(t, proxy.addr(), WithSessionTimeout(6*time.Second))
			root := "/ambiguous"
			st := createStore[counter](t, sess, root, counter{})
			ctx := testCtx(t, time.Minute)
			before, err := st.ConsistentRead(ctx)
			if err != nil {
				t.Fatal(err)
			}
			var once sync.Once
			st.beforeCommit = func() { once.Do(func() { proxy.fault(tc.up, tc.down) }) }
			v, err := st.Update(ctx, func(c *counter) error { c.N++; return nil })
			st.beforeCommit = nil
			if err != nil {
				t.Fatalf("Update across a lost reply: %v", err)
			}
			after, err := st.ConsistentRead(ctx)
			if err != nil {
				t.Fatal(err)
			}
			if after.Value.N != before.Value.N+1 || after.Version != v {
				t.Fatalf("counter went %d -> %d (version %d, Update said %d); want exactly one increment",
					before.Value.N, after.Value.N, after.Version, v)
			}
			s := st.Stats()
			if s.AmbiguousWrites != 1 || s.AmbiguousResolved != 1 {
				t.Errorf("ambiguous writes %d, resolved %d; want 1 and 1", s.AmbiguousWrites, s.AmbiguousResolved)
			}
		})
	}

	// The reply is lost and the session expires before the client is back:
	// the lock node is gone, and the payload itself must tell.
	t.Run("applied, session expired", func(t *testing.T) {
		proxy := newFaultProxy(t, zks.Addr(0))
		const timeout = 2 * time.Second
		sess := newSession(t, proxy.addr(), WithSessionTimeout(timeout))
		st := createStore[counter](t, sess, "/ambiguous2", counter{})
		ctx := testCtx(t, time.Minute)
		lost := make(chan struct{})
		var lostOnce sync.Once
		defer sess.Subscribe(func(ev SessionEvent) {
			if ev.Kind == SessionLost {
				lostOnce.Do(func() { close(lost) })
			}
		})()
		raw := zktest.Connect(t, zks.ConnectString(), 5*time.Second)
		member := "/ambiguous2/listeners/" + st.MemberID()
		var healer sync.WaitGroup
		defer healer.Wait()
		var once sync.Once
		st.beforeCommit = func() {
			once.Do(func() {
				// The request reaches the server, the reply is lost, and the
				// client cannot come back until its session is gone.
				proxy.refuse.Store(true)
				proxy.fault(false, true)
				healer.Add(1)
				go func() {
					defer healer.Done()
					select {
					case <-lost:
					case <-time.After(30 * time.Second):
					}
					// The server expires the session on its own clock:
					// its listener node goes with it.
					deadline := time.After(15 * time.Second)
					for waiting := true; waiting; {
						ok, _, gone, err := raw.ExistsW(member)
						if err == nil && !ok {
							break
						}
						var again <-chan time.Time
						if err != nil {
							again = time.After(20 * time.Millisecond)
						}
						select {
						case <-gone:
						case <-again:
						case <-deadline:
							t.Errorf("the server did not expire the cut session (%s still there)", member)
							waiting = false
						}
					}
					proxy.refuse.Store(false)
				}()
			})
		}
		v, err := st.Update(ctx, func(c *counter) error { c.N++; return nil })
		st.beforeCommit = nil
		if err != nil {
			t.Fatalf("Update across an expired session: %v", err)
		}
		after, err := st.ConsistentRead(ctx)
		if err != nil {
			t.Fatal(err)
		}
		if after.Value.N != 1 || after.Version != v {
			t.Fatalf("counter %d at version %d (Update said %d); want 1", after.Value.N, after.Version, v)
		}
		if s := st.Stats(); s.AmbiguousWrites != 1 || s.AmbiguousResolved != 1 || s.SessionExpirations != 1 {
			t.Errorf("ambiguous writes %d, resolved %d, expirations %d; want 1, 1, 1", s.AmbiguousWrites, s.AmbiguousResolved, s.SessionExpirations)
		}
	})
}
