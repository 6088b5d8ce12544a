package zkopts

import (
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"net"
	"strings"
)

// Explain says in words why a connection to ZooKeeper failed when err (the
// last dial error, as zkstate wraps it) has a TLS cause, naming the flag to
// check; otherwise it returns "". Its point is that a certificate the client
// does not trust must read as exactly that, not as "unreachable".
func Explain(err error) string {
	if err == nil {
		return ""
	}
	var unknown x509.UnknownAuthorityError
	var host x509.HostnameError
	var invalid x509.CertificateInvalidError
	var verify *tls.CertificateVerificationError
	var header tls.RecordHeaderError
	var op *net.OpError
	switch {
	case errors.As(err, &unknown):
		return fmt.Sprintf("the server's TLS certificate is not trusted (%s, issued by %q): check that --%s is the CA that signed ZooKeeper's certificate",
			"signed by an unknown authority", issuer(unknown.Cert), FlagTLSCA)
	case errors.As(err, &host):
		return fmt.Sprintf("the server's TLS certificate is not valid for the name checked (%v): give a name it holds with --%s", host, FlagTLSServerName)
	case errors.As(err, &invalid):
		return fmt.Sprintf("the server's TLS certificate is not trusted (%v)", invalid)
	case errors.As(err, &verify):
		return fmt.Sprintf("the server's TLS certificate is not trusted (%v)", verify.Err)
	case errors.As(err, &header):
		return "the server does not speak TLS on this port (a plain clientPort rather than its secureClientPort?)"
	case errors.As(err, &op) && op.Op == "remote error" && strings.Contains(op.Err.Error(), "tls:"):
		// ZooKeeper (ssl.clientAuth=need by default) refuses a handshake
		// without a client certificate it trusts.
		return fmt.Sprintf("the server refused the TLS handshake (%v): it wants a client certificate it trusts; check --%s and --%s", op, FlagTLSCert, FlagTLSKey)
	}
	return ""
}

// issuer names a certificate's issuer for a message.
func issuer(c *x509.Certificate) string {
	if c == nil {
		return "?"
	}
	if c.Issuer.CommonName != "" {
		return c.Issuer.CommonName
	}
	return c.Issuer.String()
}
