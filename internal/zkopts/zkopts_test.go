package zkopts

import (
	"crypto/tls"
	"crypto/x509"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"net"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/go-zookeeper/zk"
	"github.com/google/go-cmp/cmp"
	"go.uber.org/goleak"

	"github.com/procwatch/procwatch/internal/zkstate"
	"github.com/procwatch/procwatch/internal/zktest"
)

func TestMain(m *testing.M) {
	goleak.VerifyTestMain(m)
}

func TestParseCredentials(t *testing.T) {
	for _, tc := range []struct {
		in       string
		user     string
		password string
		err      string
	}{
		{in: "editor:s3cret", user: "editor", password: "s3cret"},
		{in: "editor:s3cret\n", user: "editor", password: "s3cret"},
		{in: "editor:s3cret\r\n", user: "editor", password: "s3cret"},
		{in: "digest:editor:s3cret\n", user: "editor", password: "s3cret"},
		{in: "editor:pa:ss", user: "editor", password: "pa:ss"},
		{in: "digest:editor:pa:ss", user: "editor", password: "pa:ss"},
		{in: "digest:pw", user: "digest", password: "pw"},
		{in: "digest:ip:a:b", user: "ip", password: "a:b"},
		{in: "super:x", user: "super", password: "x"},
		{in: "", err: "empty"},
		{in: "\n", err: "empty"},
		{in: "editor", err: "no colon"},
		{in: ":pw", err: "user name is empty"},
		{in: "editor:", err: `password of user "editor" is empty`},
		{in: "digest::pw", err: "user name is empty"},
		{in: "editor:pw \n", err: "white space"},
		{in: " editor:pw", err: "white space"},
		{in: "editor:pw\nother:pw\n", err: "more than one line"},
		{in: "x509:CN=a:b", err: `scheme "x509" is not supported`},
		{in: "sasl:u:p", err: `scheme "sasl" is not supported`},
	} {
		t.Run(tc.in, func(t *testing.T) {
			c, err := ParseCredentials([]byte(tc.in))
			if tc.err != "" {
				if err == nil || !strings.Contains(err.Error(), tc.err) {
					t.Fatalf("ParseCredentials(%q) = %#v, %v; want an error containing %q", tc.in, c, err, tc.err)
				}
				return
			}
			if err != nil {
				t.Fatalf("ParseCredentials(%q): %v", tc.in, err)
			}
			if c.Scheme != "digest" || c.User != tc.user || c.password != tc.password {
				t.Errorf("ParseCredentials(%q) = %q %q %q, want digest %q %q", tc.in, c.Scheme, c.User, c.password, tc.user, tc.password)
			}
			if c.DigestID() != zkstate.DigestID(tc.user, tc.password) {
				t.Errorf("DigestID = %s", c.DigestID())
			}
		})
	}
}

// FuzzParseCredentials: whatever the file holds, parsing does not panic,
// and no way of printing the result shows the password.
func FuzzParseCredentials(f *testing.F) {
	for _, s := range []string{"editor:s3cret\n", "digest:a:b:c", "x509:a:b", ":", "a:b\nc", " a:b", "digest:pw"} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		c, err := ParseCredentials(data)
		if err != nil {
			return
		}
		if c.User == "" || c.password == "" || strings.ContainsAny(c.User, ":\n") {
			t.Fatalf("accepted %q as user %q", data, c.User)
		}
		// What is printed must not depend on the password at all.
		other := c
		other.password = c.password + "x"
		if diff := cmp.Diff(formats(&c), formats(&other)); diff != "" {
			t.Fatalf("the output depends on the password (-%q +%q):\n%s", c.password, other.password, diff)
		}
	})
}

// formats prints c every way a program might.
func formats(c *Credentials) []string {
	var logged strings.Builder
	noTime := func(_ []string, a slog.Attr) slog.Attr {
		if a.Key == slog.TimeKey {
			return slog.Attr{}
		}
		return a
	}
	slog.New(slog.NewJSONHandler(&logged, &slog.HandlerOptions{ReplaceAttr: noTime})).Info("x", "auth", *c, "ptr", c)
	return []string{
		fmt.Sprint(*c), fmt.Sprintf("%v %+v %#v %s %q", *c, *c, *c, *c, *c), fmt.Sprintf("%v %+v", c, c),
		fmt.Sprintf("%+v", Security{Auth: c}), c.Identity(), Security{Auth: c}.String(), logged.String(),
	}
}

// assertNoSecret fails if secret shows in any way of printing c.
func assertNoSecret(t *testing.T, c Credentials, secret string) {
	t.Helper()
	for _, s := range formats(&c) {
		if strings.Contains(s, secret) {
			t.Fatalf("the password shows in %q", s)
		}
	}
}

func TestCredentialsNeverPrintThePassword(t *testing.T) {
	c, err := ParseCredentials([]byte("editor:Tr0ub4dor&3"))
	if err != nil {
		t.Fatal(err)
	}
	assertNoSecret(t, c, "Tr0ub4dor")
	if got := c.String(); got != "digest:editor" {
		t.Errorf("String() = %q", got)
	}
	if got := c.Identity(); got != `digest user "editor"` {
		t.Errorf("Identity() = %q", got)
	}
}

// TestReadAuthFileRefusesWorldReadable: a credentials file every user can
// read is refused with a message saying how to fix it; 0600 and 0640 work.
func TestReadAuthFileRefusesWorldReadable(t *testing.T) {
	dir := t.TempDir()
	for _, tc := range []struct {
		mode os.FileMode
		ok   bool
	}{{0o600, true}, {0o640, true}, {0o400, true}, {0o644, false}, {0o604, false}, {0o666, false}} {
		t.Run(fmt.Sprintf("%04o", tc.mode), func(t *testing.T) {
			path := filepath.Join(dir, fmt.Sprintf("auth-%o", tc.mode))
			if err := os.WriteFile(path, []byte("editor:s3cret\n"), 0o600); err != nil {
				t.Fatal(err)
			}
			if err := os.Chmod(path, tc.mode); err != nil { // not subject to the umask
				t.Fatal(err)
			}
			c, err := ReadAuthFile(path)
			if tc.ok {
				if err != nil || c.User != "editor" {
					t.Fatalf("ReadAuthFile = %v, %v", c, err)
				}
				return
			}
			if !errors.Is(err, ErrWorldReadable) {
				t.Fatalf("ReadAuthFile = %v, want ErrWorldReadable", err)
			}
			want := fmt.Sprintf("refusing %s: it is readable by every user on this host (mode %04o); restrict it with `chmod 600 %s`", path, tc.mode, path)
			if !strings.Contains(err.Error(), want) {
				t.Errorf("message %q\nwant it to contain %q", err, want)
			}
			if strings.Contains(err.Error(), "s3cret") {
				t.Error("the message shows the password")
			}
		})
	}
	t.Run("missing", func(t *testing.T) {
		if _, err := ReadAuthFile(filepath.Join(dir, "nope")); !errors.Is(err, os.ErrNotExist) {
			t.Errorf("err = %v", err)
		}
	})
	t.Run("directory", func(t *testing.T) {
		if err := os.Chmod(dir, 0o700); err != nil {
			t.Fatal(err)
		}
		if _, err := ReadAuthFile(dir); err == nil || !strings.Contains(err.Error(), "not a regular file") {
			t.Errorf("err = %v", err)
		}
	})
	t.Run("malformed names the file, not the content", func(t *testing.T) {
		path := filepath.Join(dir, "bad")
		if err := os.WriteFile(path, []byte("justapassword"), 0o600); err != nil {
			t.Fatal(err)
		}
		_, err := ReadAuthFile(path)
		if err == nil || !strings.Contains(err.Error(), "credentials file "+path+": no colon") || strings.Contains(err.Error(), "justapassword") {
			t.Errorf("err = %v", err)
		}
	})
}

func TestParseDigestID(t *testing.T) {
	good := zkstate.DigestID("agent", "pw")
	if u, err := ParseDigestID(good); err != nil || u != "agent" {
		t.Errorf("ParseDigestID(%q) = %q, %v", good, u, err)
	}
	for _, bad := range []string{"", "agent", "agent:", ":" + good[6:], "agent:pw", "agent:" + good[6:len(good)-2]} {
		if _, err := ParseDigestID(bad); err == nil {
			t.Errorf("ParseDigestID(%q) accepted", bad)
		}
	}
}

// TestFlagsAndEnvironment: the flags register on a standard flag set as on
// cobra's, the environment fills what the command line left out, and
// Load reads the files.
func TestFlagsAndEnvironment(t *testing.T) {
	dir := t.TempDir()
	auth := filepath.Join(dir, "auth")
	if err := os.WriteFile(auth, []byte("editor:s3cret\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	var f Flags
	fs := flag.NewFlagSet("t", flag.ContinueOnError)
	f.Register(fs)
	if err := fs.Parse([]string{"--zk-tls-server-name", "flag.example"}); err != nil {
		t.Fatal(err)
	}
	set := map[string]bool{}
	fs.Visit(func(fl *flag.Flag) { set[fl.Name] = true })
	env := map[string]string{EnvAuthFile: auth, EnvTLSServerName: "env.example", EnvTLSCA: ""}
	if err := ApplyEnv(fs, func(name string) bool { return set[name] }, func(k string) (string, bool) { v, ok := env[k]; return v, ok }, SecurityEnvVars); err != nil {
		t.Fatal(err)
	}
	want := Flags{AuthFile: auth, TLS: TLSFiles{ServerName: "flag.example"}}
	if diff := cmp.Diff(want, f); diff != "" {
		t.Fatalf("flags (-want +got):\n%s", diff)
	}

	// Only a server name, and no CA: TLS with the system's roots.
	s, err := f.Load()
	if err != nil {
		t.Fatal(err)
	}
	if s.Auth == nil || s.Auth.User != "editor" || s.TLS == nil || s.TLS.config.RootCAs != nil || s.TLS.config.ServerName != "flag.example" {
		t.Errorf("Load = %+v", s)
	}
	if got := s.String(); got != "digest:editor over TLS, system CAs, server name flag.example" {
		t.Errorf("String() = %q", got)
	}
	if len(s.SessionOptions()) != 2 {
		t.Errorf("%d session options, want auth and dialer", len(s.SessionOptions()))
	}
	wantACL := []zk.ACL{{Perms: zk.PermRead, Scheme: "world", ID: "anyone"}, {Perms: zk.PermAll, Scheme: "auth"}}
	if diff := cmp.Diff(wantACL, s.OwnACL()); diff != "" {
		t.Errorf("OwnACL (-want +got):\n%s", diff)
	}

	var anon Security
	if anon.OwnACL() != nil || anon.SessionOptions() != nil || anon.Identity() != "an anonymous client" || anon.String() != "anonymous over plain TCP" {
		t.Errorf("zero Security: %v %v %q %q", anon.OwnACL(), anon.SessionOptions(), anon.Identity(), anon.String())
	}
}

func TestLoadTLSErrors(t *testing.T) {
	ca := zktest.NewCA(t, "test")
	client := ca.Issue(t, "client")
	other := ca.Issue(t, "other")
	dir := t.TempDir()
	notPEM := filepath.Join(dir, "not.pem")
	if err := os.WriteFile(notPEM, []byte("hello"), 0o644); err != nil {
		t.Fatal(err)
	}
	openKey := filepath.Join(dir, "open.key")
	data, err := os.ReadFile(client.KeyFile)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(openKey, data, 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.Chmod(openKey, 0o644); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name  string
		files TLSFiles
		err   string
	}{
		{"good", TLSFiles{CA: ca.CertFile, Cert: client.CertFile, Key: client.KeyFile}, ""},
		{"missing CA", TLSFiles{CA: filepath.Join(dir, "nope")}, "--zk-tls-ca: open"},
		{"CA not PEM", TLSFiles{CA: notPEM}, "--zk-tls-ca: no PEM certificate in " + notPEM},
		{"cert without key", TLSFiles{Cert: client.CertFile}, "--zk-tls-cert needs --zk-tls-key"},
		{"key without cert", TLSFiles{Key: client.KeyFile}, "--zk-tls-key needs --zk-tls-cert"},
		{"mismatched pair", TLSFiles{Cert: client.CertFile, Key: other.KeyFile}, "private key does not match public key"},
		{"world-readable key", TLSFiles{Cert: client.CertFile, Key: openKey}, "--zk-tls-key: refusing " + openKey + ": it is readable by every user"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := LoadTLS(tc.files)
			if tc.err == "" {
				if err != nil {
					t.Fatal(err)
				}
				return
			}
			if err == nil || !strings.Contains(err.Error(), tc.err) {
				t.Errorf("LoadTLS = %v, want an error containing %q", err, tc.err)
			}
		})
	}
}

// tlsServer is a TLS server in the test process standing for ZooKeeper's
// secure port: it completes handshakes and closes the connection.
func tlsServer(t *testing.T, cfg *tls.Config) string {
	t.Helper()
	var ln net.Listener
	var err error
	if cfg == nil {
		ln, err = net.Listen("tcp", "127.0.0.1:0")
	} else {
		ln, err = tls.Listen("tcp", "127.0.0.1:0", cfg)
	}
	if err != nil {
		t.Fatal(err)
	}
	var wg sync.WaitGroup
	t.Cleanup(func() { ln.Close(); wg.Wait() })
	wg.Go(func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			wg.Go(func() {
				defer c.Close()
				_ = c.SetDeadline(time.Now().Add(5 * time.Second))
				if tc, ok := c.(*tls.Conn); ok {
					_ = tc.Handshake()
					return
				}
				// A plain server answers with something that is not TLS.
				_, _ = io.WriteString(c, "HTTP/1.0 400 Bad Request\r\n\r\n")
			})
		}
	})
	return ln.Addr().String()
}

func serverConfig(t *testing.T, ca *zktest.CA, requireClient bool, hosts ...string) *tls.Config {
	t.Helper()
	c := ca.Issue(t, "server", hosts...)
	kp, err := tls.LoadX509KeyPair(c.CertFile, c.KeyFile)
	if err != nil {
		t.Fatal(err)
	}
	cfg := &tls.Config{Certificates: []tls.Certificate{kp}}
	if requireClient {
		pool := x509.NewCertPool()
		pem, _ := os.ReadFile(ca.CertFile)
		pool.AppendCertsFromPEM(pem)
		cfg.ClientAuth, cfg.ClientCAs = tls.RequireAndVerifyClientCert, pool
	}
	return cfg
}

// TestDialerVerifiesAndExplains: the dialer verifies the server against the
// CA and the name, presents the client certificate, and every way a
// handshake fails is explained with the flag to check.
func TestDialerVerifiesAndExplains(t *testing.T) {
	ca := zktest.NewCA(t, "test-ca")
	otherCA := zktest.NewCA(t, "other-ca")
	client := ca.Issue(t, "client")
	good := tlsServer(t, serverConfig(t, ca, true, "127.0.0.1", "zk.example"))
	plain := tlsServer(t, nil)

	for _, tc := range []struct {
		name  string
		files TLSFiles
		addr  string
		want  string // in Explain; "" means the handshake succeeds
	}{
		{"verified", TLSFiles{CA: ca.CertFile, Cert: client.CertFile, Key: client.KeyFile}, good, ""},
		{"verified by name", TLSFiles{CA: ca.CertFile, Cert: client.CertFile, Key: client.KeyFile, ServerName: "zk.example"}, good, ""},
		{"wrong CA", TLSFiles{CA: otherCA.CertFile, Cert: client.CertFile, Key: client.KeyFile}, good,
			`the server's TLS certificate is not trusted (signed by an unknown authority, issued by "test-ca"): check that --zk-tls-ca is the CA that signed ZooKeeper's certificate`},
		{"system roots", TLSFiles{Cert: client.CertFile, Key: client.KeyFile}, good, "not trusted"},
		{"wrong name", TLSFiles{CA: ca.CertFile, Cert: client.CertFile, Key: client.KeyFile, ServerName: "other.example"}, good,
			"the server's TLS certificate is not valid for the name checked (x509: certificate is valid for zk.example, not other.example): give a name it holds with --zk-tls-server-name"},
		{"no client certificate", TLSFiles{CA: ca.CertFile}, good, "the server refused the TLS handshake (remote error: tls: "},
		{"plain server", TLSFiles{CA: ca.CertFile}, plain, "the server does not speak TLS on this port"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			tl, err := LoadTLS(tc.files)
			if err != nil {
				t.Fatal(err)
			}
			conn, err := tl.Dialer()("tcp", tc.addr, time.Second)
			if tc.want == "" {
				if err != nil {
					t.Fatalf("dial: %v", err)
				}
				conn.Close()
				return
			}
			if err == nil {
				// TLS 1.3 clients learn of a refused certificate at the
				// first read, after the handshake.
				_ = conn.SetDeadline(time.Now().Add(5 * time.Second))
				_, err = conn.Read(make([]byte, 1))
				conn.Close()
			}
			if got := Explain(fmt.Errorf("zkstate: unreachable (last attempt: %s: %w)", tc.addr, err)); !strings.Contains(got, tc.want) {
				t.Errorf("Explain(%v) =\n%q\nwant it to contain\n%q", err, got, tc.want)
			}
		})
	}
	if got := Explain(errors.New("connection refused")); got != "" {
		t.Errorf("Explain of a non-TLS error = %q, want empty", got)
	}
}
