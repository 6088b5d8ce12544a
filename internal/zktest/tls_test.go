package zktest

import (
	"crypto/tls"
	"crypto/x509"
	"errors"
	"net"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/go-zookeeper/zk"
)

// tlsDialer returns a go-zookeeper dialer that speaks TLS with cfg and
// reports every failed dial on errs.
func tlsDialer(cfg *tls.Config, errs chan<- error) zk.Dialer {
	return func(network, addr string, timeout time.Duration) (net.Conn, error) {
		// The first handshake with a fresh JVM can take over a second.
		c, err := tls.DialWithDialer(&net.Dialer{Timeout: 10 * time.Second}, network, addr, cfg)
		if err != nil {
			select {
			case errs <- err:
			default:
			}
		}
		return c, err
	}
}

func clientTLS(t *testing.T, ca string, cert *Cert) *tls.Config {
	t.Helper()
	pem, err := os.ReadFile(ca)
	if err != nil {
		t.Fatal(err)
	}
	pool := x509.NewCertPool()
	if !pool.AppendCertsFromPEM(pem) {
		t.Fatalf("no certificate in %s", ca)
	}
	cfg := &tls.Config{RootCAs: pool, MinVersion: tls.VersionTLS12}
	if cert != nil {
		kp, err := tls.LoadX509KeyPair(cert.CertFile, cert.KeyFile)
		if err != nil {
			t.Fatal(err)
		}
		cfg.Certificates = []tls.Certificate{kp}
	}
	return cfg
}

// TestTLSSecureClientPort: WithTLS serves TLS on a port of its own, with
// the certificates NewCA makes; a client with a certificate of the CA gets
// a session (and ZooKeeper's x509 identity), one without a certificate or
// trusting another CA is refused in the handshake, and the plain port still
// serves.
func TestTLSSecureClientPort(t *testing.T) {
	ca := NewCA(t, "zktest")
	c := Start(t, 1, WithTLS(ca.ServerTLS(t)))
	if c.SecureAddr(0) == c.Addr(0) || c.SecureConnectString() != c.SecureAddr(0) {
		t.Fatalf("secure address %s, plain %s, connect string %s", c.SecureAddr(0), c.Addr(0), c.SecureConnectString())
	}
	client := ca.Issue(t, "agent-1")

	start := time.Now()
	errs := make(chan error, 16)
	conn := Connect(t, c.SecureConnectString(), steadySession, zk.WithDialer(tlsDialer(clientTLS(t, ca.CertFile, &client), errs)))
	t.Logf("first TLS session after %s", time.Since(start))
	if _, err := conn.Create("/tls", []byte("x"), zk.FlagEphemeral, zk.AuthACL(zk.PermAll)); err != nil {
		t.Fatalf("create over TLS: %v", err)
	}
	acl, _, err := conn.GetACL("/tls")
	if err != nil {
		t.Fatal(err)
	}
	if len(acl) != 1 || acl[0].Scheme != "x509" || acl[0].ID != "CN=agent-1" {
		t.Errorf("ACL of a node created with the auth scheme over TLS = %v, want x509 CN=agent-1", acl)
	}
	if _, err := Srvr(c.Addr(0), probeTimeout); err != nil {
		t.Errorf("plain port: %v", err)
	}

	for _, tc := range []struct {
		name string
		cfg  *tls.Config
		want string
	}{
		{"no client certificate", clientTLS(t, ca.CertFile, nil), "remote error: tls:"},
		{"another CA", clientTLS(t, NewCA(t, "other").CertFile, &client), "certificate signed by unknown authority"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			errs := make(chan error, 1)
			conn, _, err := zk.Connect([]string{c.SecureAddr(0)}, steadySession, zk.WithDialer(tlsDialer(tc.cfg, errs)), zk.WithLogger(&testLogger{t: t}))
			if err != nil {
				t.Fatal(err)
			}
			defer conn.Close()
			select {
			case err := <-errs:
				if !strings.Contains(err.Error(), tc.want) {
					t.Errorf("dial error %q, want %q", err, tc.want)
				}
				var verr *tls.CertificateVerificationError
				if tc.name == "another CA" && !errors.As(err, &verr) {
					t.Errorf("dial error %T is not a *tls.CertificateVerificationError", err)
				}
			case <-time.After(15 * time.Second):
				t.Fatalf("no failed handshake within 15 s (state %v)", conn.State())
			}
		})
	}
}

// TestSecureAddrWithoutTLSPanics: asking for a port that does not exist is a
// bug in the test, and says so.
func TestSecureAddrWithoutTLSPanics(t *testing.T) {
	c := &Cluster{members: []*member{{clientPort: 1}}}
	defer func() {
		if r := recover(); r == nil || !strings.Contains(r.(string), "WithTLS") {
			t.Errorf("recover() = %v, want a panic naming WithTLS", r)
		}
	}()
	c.SecureAddr(0)
}
