package zktest

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"fmt"
	"math/big"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"
	"time"
)

// The Netty server connection factory, the only one that serves TLS, needs
// two jars the zookeeper.jar manifest does not list; without them every
// connection fails with NoClassDefFoundError.
var nettyJars = []string{"/usr/share/java/netty-codec.jar", "/usr/share/java/netty-resolver.jar"}

// TLS configures the secure client port that WithTLS adds to every member.
// ZooKeeper reads both files as PEM (ssl.keyStore.type=PEM), so tests need
// no keytool and no PKCS#12.
type TLS struct {
	// KeyStore is a PEM file holding the server's private key (PKCS#8,
	// "BEGIN PRIVATE KEY") and its certificate chain, as Cert.KeyStoreFile.
	KeyStore string
	// TrustStore is a PEM file of the CA certificates client certificates
	// must chain to.
	TrustStore string
	// ClientAuth is "need" (the default: a client without a trusted
	// certificate is refused during the handshake), "want" or "none".
	ClientAuth string
}

// WithTLS makes every member also serve TLS on a secure client port of its
// own (secureClientPort, on loopback), through the Netty connection factory,
// alongside the plain client port, which stays for srvr probes and for
// tests that compare the two. SecureAddr and SecureConnectString give the
// secure addresses; CA makes the files.
func WithTLS(t TLS) Option {
	return func(c *config) { c.tls = &t }
}

// tlsLines returns the zoo.cfg lines of the secure client port.
func (t *TLS) tlsLines(securePort int) []string {
	auth := t.ClientAuth
	if auth == "" {
		auth = "need"
	}
	return []string{
		"serverCnxnFactory=org.apache.zookeeper.server.NettyServerCnxnFactory",
		fmt.Sprintf("secureClientPort=%d", securePort),
		// Without it the secure port binds every interface.
		"secureClientPortAddress=127.0.0.1",
		"ssl.keyStore.location=" + t.KeyStore,
		"ssl.keyStore.type=PEM",
		"ssl.trustStore.location=" + t.TrustStore,
		"ssl.trustStore.type=PEM",
		"ssl.clientAuth=" + auth,
	}
}

// SecureAddr returns member i's secure (TLS) client address. It panics if
// the cluster was started without WithTLS or i is out of range: asking for
// a port that does not exist is a bug in the test.
func (c *Cluster) SecureAddr(i int) string {
	if c.cfg.tls == nil {
		panic("zktest: SecureAddr on a cluster started without WithTLS")
	}
	return c.members[i].secureAddr()
}

// SecureServers returns every member's secure client address, in member
// order. It panics if the cluster was started without WithTLS.
func (c *Cluster) SecureServers() []string {
	s := make([]string, len(c.members))
	for i := range c.members {
		s[i] = c.SecureAddr(i)
	}
	return s
}

// SecureConnectString returns every member's secure client address, comma
// separated. It panics if the cluster was started without WithTLS.
func (c *Cluster) SecureConnectString() string {
	return strings.Join(c.SecureServers(), ",")
}

// CA is a certificate authority made for one test: an ECDSA P-256 key and a
// self-signed certificate valid for a day, in files under a temporary
// directory of the test.
type CA struct {
	// CertFile is the CA certificate (PEM): what a client trusts
	// (--zk-tls-ca) and what ZooKeeper's trust store holds.
	CertFile string

	dir    string
	cert   *x509.Certificate
	key    *ecdsa.PrivateKey
	serial atomic.Int64
}

// Cert is a certificate issued by a CA, in the files Go programs and
// ZooKeeper read.
type Cert struct {
	// CertFile is the certificate (PEM).
	CertFile string
	// KeyFile is its private key (PKCS#8 PEM), mode 0600.
	KeyFile string
	// KeyStoreFile holds the key, the certificate and the CA's certificate
	// in one PEM file, mode 0600: a ZooKeeper keystore of type PEM.
	KeyStoreFile string
}

// NewCA makes a certificate authority named name, in t.TempDir().
func NewCA(t testing.TB, name string) *CA {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatalf("zktest: CA key: %v", err)
	}
	now := time.Now()
	tmpl := &x509.Certificate{
		SerialNumber:          big.NewInt(1),
		Subject:               pkix.Name{CommonName: name},
		NotBefore:             now.Add(-time.Hour), // clock skew between the JVM and us is nil, but be generous
		NotAfter:              now.Add(24 * time.Hour),
		IsCA:                  true,
		BasicConstraintsValid: true,
		KeyUsage:              x509.KeyUsageCertSign | x509.KeyUsageCRLSign,
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatalf("zktest: CA certificate: %v", err)
	}
	cert, err := x509.ParseCertificate(der)
	if err != nil {
		t.Fatalf("zktest: CA certificate: %v", err)
	}
	ca := &CA{dir: t.TempDir(), cert: cert, key: key}
	ca.serial.Store(1)
	ca.CertFile = filepath.Join(ca.dir, name+"-ca.pem")
	writeFile(t, ca.CertFile, pemBlock("CERTIFICATE", der), 0o644)
	return ca
}

// HTTPSClient returns a client that trusts only certificates ca issued (a
// web server given one of them, as --web.config.file configures it), with
// a 10 s bound on each request; its idle connections close when the test
// ends.
func (ca *CA) HTTPSClient(t testing.TB) *http.Client {
	pool := x509.NewCertPool()
	pool.AddCert(ca.cert)
	tr := &http.Transport{TLSClientConfig: &tls.Config{RootCAs: pool}}
	t.Cleanup(tr.CloseIdleConnections)
	return &http.Client{Transport: tr, Timeout: 10 * time.Second}
}

// Issue makes a certificate for name (its common name), usable both by a
// server and by a client. hosts are the DNS names and IP addresses a server
// certificate is valid for; a client certificate needs none.
func (ca *CA) Issue(t testing.TB, name string, hosts ...string) Cert {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatalf("zktest: key for %s: %v", name, err)
	}
	now := time.Now()
	tmpl := &x509.Certificate{
		SerialNumber: big.NewInt(ca.serial.Add(1)),
		Subject:      pkix.Name{CommonName: name},
		NotBefore:    now.Add(-time.Hour),
		NotAfter:     now.Add(24 * time.Hour),
		KeyUsage:     x509.KeyUsageDigitalSignature,
		ExtKeyUsage:  []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth, x509.ExtKeyUsageClientAuth},
	}
	for _, h := range hosts {
		if ip := net.ParseIP(h); ip != nil {
			tmpl.IPAddresses = append(tmpl.IPAddresses, ip)
		} else {
			tmpl.DNSNames = append(tmpl.DNSNames, h)
		}
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, ca.cert, &key.PublicKey, ca.key)
	if err != nil {
		t.Fatalf("zktest: certificate for %s: %v", name, err)
	}
	// ZooKeeper's PEM reader takes PKCS#8 only, not SEC 1 "EC PRIVATE KEY".
	pkcs8, err := x509.MarshalPKCS8PrivateKey(key)
	if err != nil {
		t.Fatalf("zktest: key for %s: %v", name, err)
	}
	keyPEM := pemBlock("PRIVATE KEY", pkcs8)
	certPEM := pemBlock("CERTIFICATE", der)
	c := Cert{
		CertFile:     filepath.Join(ca.dir, name+".crt"),
		KeyFile:      filepath.Join(ca.dir, name+".key"),
		KeyStoreFile: filepath.Join(ca.dir, name+"-keystore.pem"),
	}
	writeFile(t, c.CertFile, certPEM, 0o644)
	writeFile(t, c.KeyFile, keyPEM, 0o600)
	store := append(append(append([]byte{}, keyPEM...), certPEM...), pemBlock("CERTIFICATE", ca.cert.Raw)...)
	writeFile(t, c.KeyStoreFile, store, 0o600)
	return c
}

// ServerTLS issues a server certificate for 127.0.0.1 and localhost and
// returns the WithTLS settings that serve it and require client
// certificates issued by this CA.
func (ca *CA) ServerTLS(t testing.TB) TLS {
	t.Helper()
	c := ca.Issue(t, "zookeeper", "127.0.0.1", "localhost")
	return TLS{KeyStore: c.KeyStoreFile, TrustStore: ca.CertFile, ClientAuth: "need"}
}

func pemBlock(typ string, der []byte) []byte {
	return pem.EncodeToMemory(&pem.Block{Type: typ, Bytes: der})
}

func writeFile(t testing.TB, path string, data []byte, mode os.FileMode) {
	t.Helper()
	if err := os.WriteFile(path, data, mode); err != nil {
		t.Fatalf("zktest: %v", err)
	}
}
