package zkopts

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"sync"
	"time"

	"github.com/go-zookeeper/zk"
)

// minHandshakeTimeout is the least time a TLS handshake gets. go-zookeeper
// dials with a one-second timeout, meant for a TCP connect; a JVM's first
// handshakes after start take longer than that (measured: 0.4 s idle, over
// a second under load), and a handshake that times out is retried from
// scratch, so too short a bound can keep a client out of a healthy server.
const minHandshakeTimeout = 5 * time.Second

// maxPEMFile bounds what is read from a certificate or key file.
const maxPEMFile = 1 << 20

// TLSFiles are the settings of a TLS connection to ZooKeeper, as the flags
// give them. Any of them set turns TLS on.
type TLSFiles struct {
	// CA is a PEM file of the certificates that may sign the servers'
	// certificates; empty means the host's trusted roots.
	CA string
	// Cert and Key are the client certificate and its private key (PEM),
	// for servers that require one (ZooKeeper's default, ssl.clientAuth=need).
	// Both or neither.
	Cert, Key string
	// ServerName is the name the servers' certificates must hold; empty
	// means the host part of each address dialled.
	ServerName string
}

// Enabled reports whether any TLS setting is given.
func (f TLSFiles) Enabled() bool { return f != TLSFiles{} }

// TLS is a checked TLS client configuration for ZooKeeper.
type TLS struct {
	// Files are the settings it was loaded from.
	Files  TLSFiles
	config *tls.Config

	mu   sync.Mutex
	cert *tls.Certificate // last good client certificate, nil without one
}

// LoadTLS reads and checks the files. The key file must not be readable by
// every user (ErrWorldReadable).
func LoadTLS(f TLSFiles) (*TLS, error) {
	t := &TLS{Files: f}
	cfg := &tls.Config{
		MinVersion: tls.VersionTLS12,
		ServerName: f.ServerName,
	}
	if f.CA != "" {
		pem, err := readFile(f.CA)
		if err != nil {
			return nil, fmt.Errorf("--zk-tls-ca: %w", err)
		}
		pool := x509.NewCertPool()
		if !pool.AppendCertsFromPEM(pem) {
			return nil, fmt.Errorf("--zk-tls-ca: no PEM certificate in %s", f.CA)
		}
		cfg.RootCAs = pool
	}
	switch {
	case f.Cert != "" && f.Key == "":
		return nil, errors.New("--zk-tls-cert needs --zk-tls-key, the certificate's private key")
	case f.Cert == "" && f.Key != "":
		return nil, errors.New("--zk-tls-key needs --zk-tls-cert, the certificate it belongs to")
	case f.Cert != "":
		c, err := f.loadKeyPair()
		if err != nil {
			return nil, err
		}
		t.cert = c
		// Read again at every handshake, so that a renewed certificate is
		// used at the next reconnect without a restart.
		cfg.GetClientCertificate = t.clientCertificate
	}
	t.config = cfg
	return t, nil
}

// loadKeyPair reads the client certificate and key.
func (f TLSFiles) loadKeyPair() (*tls.Certificate, error) {
	certPEM, err := readFile(f.Cert)
	if err != nil {
		return nil, fmt.Errorf("--zk-tls-cert: %w", err)
	}
	keyPEM, err := readSecretFile(f.Key, maxPEMFile)
	if err != nil {
		return nil, fmt.Errorf("--zk-tls-key: %w", err)
	}
	c, err := tls.X509KeyPair(certPEM, keyPEM)
	if err != nil {
		return nil, fmt.Errorf("--zk-tls-cert %s and --zk-tls-key %s: %w", f.Cert, f.Key, err)
	}
	return &c, nil
}

// clientCertificate rereads the client certificate; while the files are
// unreadable or mismatched (half-way through a renewal, say) it keeps
// presenting the last good one, which the server judges.
func (t *TLS) clientCertificate(*tls.CertificateRequestInfo) (*tls.Certificate, error) {
	t.mu.Lock()
	defer t.mu.Unlock()
	if c, err := t.Files.loadKeyPair(); err == nil {
		t.cert = c
	}
	return t.cert, nil
}

// Dialer returns a go-zookeeper dialer that connects over TCP and completes
// a verified TLS handshake before handing the connection to the client.
func (t *TLS) Dialer() zk.Dialer {
	return func(network, addr string, timeout time.Duration) (net.Conn, error) {
		raw, err := (&net.Dialer{Timeout: timeout}).Dial(network, addr)
		if err != nil {
			return nil, err
		}
		cfg := t.config
		if cfg.ServerName == "" {
			host, _, err := net.SplitHostPort(addr)
			if err != nil {
				raw.Close()
				return nil, err
			}
			cfg = cfg.Clone()
			cfg.ServerName = host
		}
		conn := tls.Client(raw, cfg)
		ctx, cancel := context.WithTimeout(context.Background(), max(timeout, minHandshakeTimeout))
		defer cancel()
		if err := conn.HandshakeContext(ctx); err != nil {
			raw.Close()
			return nil, fmt.Errorf("TLS handshake: %w", err)
		}
		return conn, nil
	}
}

// String describes the configuration for logs.
func (t *TLS) String() string {
	s := "TLS"
	if t.Files.CA != "" {
		s += ", CA " + t.Files.CA
	} else {
		s += ", system CAs"
	}
	if t.Files.Cert != "" {
		s += ", client certificate " + t.Files.Cert
	}
	if t.Files.ServerName != "" {
		s += ", server name " + t.Files.ServerName
	}
	return s
}

// readFile reads a file that holds nothing secret.
func readFile(path string) ([]byte, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	b, err := io.ReadAll(io.LimitReader(f, maxPEMFile+1))
	if err != nil {
		return nil, err
	}
	if len(b) > maxPEMFile {
		return nil, fmt.Errorf("%s is larger than %d bytes", path, maxPEMFile)
	}
	return b, nil
}
