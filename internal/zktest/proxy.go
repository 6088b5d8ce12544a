package zktest

import (
	"context"
	"fmt"
	"net"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

// proxyMode is what a Proxy does with traffic.
type proxyMode int32

const (
	forwarding proxyMode = iota
	cut                  // connections closed, new ones refused
	blackholed           // connections open, nothing forwarded
)

// Proxy is a TCP proxy on loopback between ZooKeeper clients and servers. It
// reproduces the network failures the engine must survive: a partition the
// client notices at once (Cut), and one it notices only by silence, which is
// how sessions expire (Blackhole).
type Proxy struct {
	ln      net.Listener
	targets []string
	ctx     context.Context // cancelled by Close, to abandon dials
	cancel  context.CancelFunc
	mode    atomic.Int32 // a proxyMode; read on every chunk forwarded
	wg      sync.WaitGroup

	mu     sync.Mutex
	links  map[*link]struct{}
	next   int // where the next connection starts its round of targets
	closed bool
}

// link is one client connection and, once dialled, its server connection.
type link struct {
	client net.Conn
	server net.Conn // nil until dialled; guarded by Proxy.mu
	closed bool     // guarded by Proxy.mu
}

// NewProxy starts a Proxy to targets, as StartProxy does, and closes it when
// the test ends.
func NewProxy(t testing.TB, targets ...string) *Proxy {
	t.Helper()
	p, err := StartProxy(targets...)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { p.Close() })
	return p
}

// StartProxy listens on a free loopback port and forwards each connection it
// accepts to one of targets: it tries them in turn, starting one further for
// each new connection, and uses the first that answers, much as a client
// cycles through an ensemble. The caller must Close it.
func StartProxy(targets ...string) (*Proxy, error) {
	if len(targets) == 0 {
		return nil, fmt.Errorf("zktest: a proxy needs at least one target")
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, fmt.Errorf("zktest: proxy: %w", err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	p := &Proxy{ln: ln, targets: targets, ctx: ctx, cancel: cancel, links: make(map[*link]struct{})}
	p.wg.Add(1)
	go p.accept()
	return p, nil
}

// Addr returns the address clients should connect to.
func (p *Proxy) Addr() string { return p.ln.Addr().String() }

// Cut closes every connection and refuses new ones (accepts and closes them
// at once) until Restore: a partition the client notices immediately.
func (p *Proxy) Cut() {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.mode.Store(int32(cut))
	p.closeLinksLocked()
}

// Blackhole stops forwarding bytes in both directions while keeping every
// connection open, and accepts new connections without forwarding them
// either, until Restore: a silent partition, which the client only detects
// by its own timeouts and which expires the session once it outlasts the
// session timeout.
func (p *Proxy) Blackhole() {
	p.mode.Store(int32(blackholed))
}

// Restore forwards traffic again. Connections that lived through a Blackhole
// are closed, because bytes were dropped from their streams; the client
// reconnects through the proxy and learns whether its session survived.
func (p *Proxy) Restore() {
	p.mu.Lock()
	defer p.mu.Unlock()
	if proxyMode(p.mode.Swap(int32(forwarding))) == blackholed {
		p.closeLinksLocked()
	}
}

// Close stops the listener, closes every connection and waits for all the
// proxy's goroutines to end. It is safe to call more than once.
func (p *Proxy) Close() error {
	p.mu.Lock()
	if p.closed {
		p.mu.Unlock()
		return nil
	}
	p.closed = true
	p.closeLinksLocked()
	p.mu.Unlock()
	p.cancel()
	err := p.ln.Close()
	p.wg.Wait()
	return err
}

func (p *Proxy) accept() {
	defer p.wg.Done()
	for {
		c, err := p.ln.Accept()
		if err != nil {
			return // Close closed the listener
		}
		p.mu.Lock()
		if p.closed || proxyMode(p.mode.Load()) == cut {
			p.mu.Unlock()
			c.Close()
			continue
		}
		l := &link{client: c}
		p.links[l] = struct{}{}
		first := p.next
		p.next++
		hold := proxyMode(p.mode.Load()) == blackholed
		p.wg.Add(1)
		p.mu.Unlock()
		go p.serve(l, first, hold)
	}
}

// serve dials a target for l and forwards between the two until either side
// closes or the proxy closes l. A connection accepted during a Blackhole is
// held without a server until Restore closes it.
func (p *Proxy) serve(l *link, first int, hold bool) {
	defer p.wg.Done()
	defer p.closeLink(l)
	if hold {
		drain(l.client)
		return
	}
	server := p.dial(first)
	if server == nil {
		return
	}
	p.mu.Lock()
	if l.closed { // cut or closed while dialling
		p.mu.Unlock()
		server.Close()
		return
	}
	l.server = server
	p.mu.Unlock()
	p.wg.Add(1)
	go func() {
		defer p.wg.Done()
		p.pump(l, l.client, server)
	}()
	p.pump(l, server, l.client)
}

// dial returns a connection to the first target that answers, trying them
// all once from targets[first], or nil.
func (p *Proxy) dial(first int) net.Conn {
	d := net.Dialer{Timeout: time.Second}
	for i := range p.targets {
		c, err := d.DialContext(p.ctx, "tcp", p.targets[(first+i)%len(p.targets)])
		if err == nil {
			return c
		}
	}
	return nil
}

// pump copies src to dst, dropping what it reads while the proxy is
// blackholed, until either side fails; then it closes the link so that the
// other direction ends too.
func (p *Proxy) pump(l *link, dst, src net.Conn) {
	defer p.closeLink(l)
	buf := make([]byte, 32<<10)
	for {
		n, err := src.Read(buf)
		if n > 0 && proxyMode(p.mode.Load()) == forwarding {
			if _, werr := dst.Write(buf[:n]); werr != nil {
				return
			}
		}
		if err != nil {
			return
		}
	}
}

// drain reads and drops everything from c until it closes.
func drain(c net.Conn) {
	buf := make([]byte, 4<<10)
	for {
		if _, err := c.Read(buf); err != nil {
			return
		}
	}
}

func (p *Proxy) closeLink(l *link) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.closeLinkLocked(l)
}

func (p *Proxy) closeLinkLocked(l *link) {
	if l.closed {
		return
	}
	l.closed = true
	l.client.Close()
	if l.server != nil {
		l.server.Close()
	}
	delete(p.links, l)
}

func (p *Proxy) closeLinksLocked() {
	for l := range p.links {
		p.closeLinkLocked(l)
	}
}
