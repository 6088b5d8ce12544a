package main

import (
	"bytes"
	"context"
	"errors"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"
	"go.uber.org/goleak"

	"github.com/procwatch/procwatch/internal/agent"
	"github.com/procwatch/procwatch/internal/buildinfo"
	"github.com/procwatch/procwatch/internal/testutil"
	"github.com/procwatch/procwatch/internal/watchlist"
	"github.com/procwatch/procwatch/internal/zkopts"
	"github.com/procwatch/procwatch/internal/zkstate"
	"github.com/procwatch/procwatch/internal/zktest"
)

func TestMain(m *testing.M) {
	goleak.VerifyTestMain(m)
}

// TestFlags checks defaults, environment variables and their precedence,
// and the exit codes, without starting an agent.
func TestFlags(t *testing.T) {
	defaults := agent.Config{
		Servers:         []string{"127.0.0.1:2181"},
		Path:            "/procwatch",
		ListenAddresses: []string{":9256"},
		SessionTimeout:  10 * time.Second,
		ProcfsRoot:      "/proc",
		ScanInterval:    5 * time.Second,
		MemberInterval:  10 * time.Second,
		Labels:          map[string]string{},
		ProcessEvents:   true,
	}
	with := func(f func(*agent.Config)) agent.Config {
		c := defaults
		f(&c)
		return c
	}
	dir := t.TempDir()
	webYML, badYML := filepath.Join(dir, "web.yml"), filepath.Join(dir, "bad.yml")
	if err := os.WriteFile(badYML, []byte("tls_server_config: {cert_file: /nonexistent}\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(webYML, []byte("basic_auth_users: {}\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	auth, openAuth := filepath.Join(dir, "auth"), filepath.Join(dir, "open-auth")
	for _, p := range []string{auth, openAuth} {
		if err := os.WriteFile(p, []byte("agent:s3cret\n"), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	if err := os.Chmod(openAuth, 0o644); err != nil {
		t.Fatal(err)
	}
	ca := zktest.NewCA(t, "flags")
	cert := ca.Issue(t, "agent")
	agentAuth := &zkopts.Credentials{Scheme: "digest", User: "agent"}
	for _, tc := range []struct {
		name     string
		args     []string
		env      map[string]string
		want     agent.Config
		wantCode int
		wantErr  string // in stderr
	}{
		{name: "defaults", want: defaults},
		{
			name: "every flag",
			args: []string{"--zk", "a:1, b:2", "--path", "/pw", "--web.listen-address", "127.0.0.1:1,[::1]:2",
				"--web.config.file", webYML, "--cache-file", "/var/cache/pw", "--session-timeout", "3s",
				"--path.procfs", "/host/proc", "--scan-interval", "0", "--collect.process-events=false", "--log.level", "debug", "--log.format", "json"},
			want: agent.Config{
				Servers: []string{"a:1", "b:2"}, Path: "/pw", ListenAddresses: []string{"127.0.0.1:1", "[::1]:2"},
				WebConfigFile: webYML, CacheFile: "/var/cache/pw", SessionTimeout: 3 * time.Second,
				ProcfsRoot: "/host/proc", MemberInterval: 10 * time.Second, Labels: map[string]string{},
			},
		},
		{
			name: "identity for targeting",
			args: []string{"--hostname", "web-1", "--label", "role=web", "--label", "region=eu,rack=3", "--member-update-interval", "30s"},
			want: with(func(c *agent.Config) {
				c.Hostname, c.MemberInterval = "web-1", 30*time.Second
				c.Labels = map[string]string{"role": "web", "region": "eu", "rack": "3"}
			}),
		},
		{
			name: "identity from the environment",
			env:  map[string]string{"PROCWATCH_HOSTNAME": "db-7", "PROCWATCH_LABELS": "role=db, region=us"},
			want: with(func(c *agent.Config) {
				c.Hostname, c.Labels = "db-7", map[string]string{"role": "db", "region": "us"}
			}),
		},
		{
			name: "identity flags win over the environment",
			args: []string{"--hostname", "flag", "--label", "role=flag"},
			env:  map[string]string{"PROCWATCH_HOSTNAME": "env", "PROCWATCH_LABELS": "role=env,x=y"},
			want: with(func(c *agent.Config) { c.Hostname, c.Labels = "flag", map[string]string{"role": "flag"} }),
		},
		{
			name: "process events off",
			args: []string{"--collect.process-events=false"},
			want: with(func(c *agent.Config) { c.ProcessEvents = false }),
		},
		{
			name: "PSS collection",
			args: []string{"--collect.pss"},
			want: with(func(c *agent.Config) { c.CollectPSS = true }),
		},
		{name: "bad label", args: []string{"--label", "role"}, wantCode: 2, wantErr: `--label: label "role": want KEY=VALUE`},
		{name: "label twice", args: []string{"--label", "role=a", "--label", "role=b"}, wantCode: 2, wantErr: "label role given twice"},
		{name: "bad label from the environment", env: map[string]string{"PROCWATCH_LABELS": "ro le=db"}, wantCode: 2, wantErr: `label key "ro le"`},
		{name: "hostname with a space", args: []string{"--hostname", "web 1"}, wantCode: 2, wantErr: "must not hold spaces"},
		{name: "member update interval zero", args: []string{"--member-update-interval", "0s"}, wantCode: 2, wantErr: "--member-update-interval 0s: must be positive"},
		{
			name: "environment",
			env:  map[string]string{"PROCWATCH_ZK": "zk1:2181,zk2:2181", "PROCWATCH_PATH": "/fleet"},
			want: with(func(c *agent.Config) { c.Servers, c.Path = []string{"zk1:2181", "zk2:2181"}, "/fleet" }),
		},
		{
			name: "flags win over the environment",
			args: []string{"--zk", "flag:1", "--path", "/flag"},
			env:  map[string]string{"PROCWATCH_ZK": "env:1", "PROCWATCH_PATH": "/env"},
			want: with(func(c *agent.Config) { c.Servers, c.Path = []string{"flag:1"}, "/flag" }),
		},
		{
			name: "empty environment keeps the defaults",
			env: map[string]string{"PROCWATCH_ZK": "", "PROCWATCH_PATH": "", zkopts.EnvAuthFile: "", zkopts.EnvTLSCA: "",
				zkopts.EnvTLSCert: "", zkopts.EnvTLSKey: "", zkopts.EnvTLSServerName: ""},
			want: defaults,
		},
		{
			name: "flags win over empty variables too",
			args: []string{"--zk", "flag:1"},
			env:  map[string]string{"PROCWATCH_ZK": "", "PROCWATCH_PATH": "/env"},
			want: with(func(c *agent.Config) { c.Servers, c.Path = []string{"flag:1"}, "/env" }),
		},
		{
			name: "credentials and TLS",
			args: []string{"--zk-auth-file", auth, "--zk-tls-ca", ca.CertFile, "--zk-tls-cert", cert.CertFile,
				"--zk-tls-key", cert.KeyFile, "--zk-tls-server-name", "zk.example"},
			want: with(func(c *agent.Config) {
				c.ZKSecurity = zkopts.Security{Auth: agentAuth, TLS: &zkopts.TLS{Files: zkopts.TLSFiles{
					CA: ca.CertFile, Cert: cert.CertFile, Key: cert.KeyFile, ServerName: "zk.example"}}}
			}),
		},
		{
			name: "credentials and TLS from the environment",
			env:  map[string]string{"PROCWATCH_ZK_AUTH_FILE": auth, "PROCWATCH_ZK_TLS_CA": ca.CertFile},
			want: with(func(c *agent.Config) {
				c.ZKSecurity = zkopts.Security{Auth: agentAuth, TLS: &zkopts.TLS{Files: zkopts.TLSFiles{CA: ca.CertFile}}}
			}),
		},
		{name: "world-readable credentials", args: []string{"--zk-auth-file", openAuth}, wantCode: 2,
			wantErr: "refusing " + openAuth + ": it is readable by every user on this host (mode 0644)"},
		{name: "world-readable credentials from the environment", env: map[string]string{"PROCWATCH_ZK_AUTH_FILE": openAuth}, wantCode: 2,
			wantErr: "refusing " + openAuth},
		{name: "missing credentials", args: []string{"--zk-auth-file", filepath.Join(dir, "nope")}, wantCode: 2, wantErr: "no such file"},
		{name: "certificate without key", args: []string{"--zk-tls-cert", cert.CertFile}, wantCode: 2, wantErr: "--zk-tls-cert needs --zk-tls-key"},
		{name: "unknown flag", args: []string{"--nope"}, wantCode: 2},
		{name: "argument", args: []string{"extra"}, wantCode: 2},
		{name: "bad level", args: []string{"--log.level", "loud"}, wantCode: 2},
		{name: "bad format", args: []string{"--log.format", "xml"}, wantCode: 2},
		{name: "relative path", args: []string{"--path", "procwatch"}, wantCode: 2, wantErr: "does not start with /"},
		{name: "empty path segment", args: []string{"--path", "/a//b"}, wantCode: 2, wantErr: `invalid root path "/a//b": it holds an empty segment`},
		{name: "missing web config", args: []string{"--web.config.file", filepath.Join(dir, "nope.yml")}, wantCode: 2, wantErr: "--web.config.file"},
		{name: "invalid web config", args: []string{"--web.config.file", badYML}, wantCode: 2, wantErr: "--web.config.file " + strconv.Quote(badYML)},
		{name: "bogus listen address", args: []string{"--web.listen-address", "bogus"}, wantCode: 2, wantErr: `--web.listen-address "bogus": want host:port`},
		{name: "bogus listen port", args: []string{"--web.listen-address", ":nine"}, wantCode: 2, wantErr: `port "nine"`},
		{name: "systemd socket", args: []string{"--web.systemd-socket"},
			want: with(func(c *agent.Config) { c.WebSystemdSocket = true })},
		{name: "vsock listen address", args: []string{"--web.listen-address", "vsock://:9256"},
			want: with(func(c *agent.Config) { c.ListenAddresses = []string{"vsock://:9256"} })},
		{name: "bogus vsock port", args: []string{"--web.listen-address", "vsock://:nine"}, wantCode: 2, wantErr: `--web.listen-address "vsock://:nine": parse`},
		{name: "no listen address", args: []string{"--web.listen-address", ""}, wantCode: 2, wantErr: "--web.listen-address: no web listen address"},
		{name: "empty zk", env: map[string]string{"PROCWATCH_ZK": " , "}, wantCode: 2},
		{name: "bad duration", args: []string{"--session-timeout", "soon"}, wantCode: 2},
	} {
		t.Run(tc.name, func(t *testing.T) {
			for _, k := range []string{"PROCWATCH_ZK", "PROCWATCH_PATH", zkopts.EnvAuthFile, zkopts.EnvTLSCA,
				zkopts.EnvTLSCert, zkopts.EnvTLSKey, zkopts.EnvTLSServerName} {
				t.Setenv(k, "") // restored after the test
				os.Unsetenv(k)
			}
			for k, v := range tc.env {
				t.Setenv(k, v)
			}
			var got *agent.Config
			var stdout, stderr bytes.Buffer
			code := execute(tc.args, &stdout, &stderr, func(_ context.Context, c agent.Config) error {
				got = &c
				return nil
			})
			if code != tc.wantCode {
				t.Fatalf("exit code %d, want %d; stderr:\n%s", code, tc.wantCode, stderr.String())
			}
			if !strings.Contains(stderr.String(), tc.wantErr) {
				t.Errorf("stderr %q, want it to contain %q", stderr.String(), tc.wantErr)
			}
			if tc.wantCode != 0 {
				if got != nil {
					t.Error("the agent ran despite bad usage")
				}
				return
			}
			if got == nil {
				t.Fatal("the agent did not run")
			}
			if got.Logger == nil {
				t.Error("no logger")
			}
			if got.OnReady == nil {
				t.Error("no OnReady: the pages start-up touched would never be released")
			}
			// procwatch_build_info and the member info say what --version
			// says.
			want := tc.want
			want.Version, want.Revision = buildinfo.Version(version), buildinfo.Revision(revision)
			if diff := cmp.Diff(want, *got, cmpopts.IgnoreFields(agent.Config{}, "Logger", "OnReady"),
				cmpopts.IgnoreUnexported(agent.Config{}, zkopts.Credentials{}, zkopts.TLS{})); diff != "" {
				t.Errorf("config mismatch (-want +got):\n%s", diff)
			}
		})
	}
}

// TestRunErrorExitsOne: a failure of the agent itself is exit code 1.
func TestRunErrorExitsOne(t *testing.T) {
	var stderr bytes.Buffer
	code := execute(nil, io.Discard, &stderr, func(context.Context, agent.Config) error { return errors.New("boom") })
	if code != 1 || !strings.Contains(stderr.String(), "boom") {
		t.Errorf("exit %d, stderr %q; want 1 and the error", code, stderr.String())
	}
}

// TestSIGTERMRemovesListenerNode builds the real binary, runs it against a
// real ZooKeeper, and checks that SIGTERM ends it cleanly with its listener
// node removed at once (the session timeout is 10 s; the node is checked
// right after the exit).
func TestSIGTERMRemovesListenerNode(t *testing.T) {
	bin := buildProcwatch(t)

	cluster := zktest.Start(t, 1)
	const root = "/procwatch-sigterm"
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	sess, err := zkstate.Connect(ctx, cluster.Servers())
	if err != nil {
		t.Fatal(err)
	}
	defer sess.Close()
	op, err := zkstate.OpenOrCreate[watchlist.Document](ctx, sess, root,
		watchlist.Document{Globs: []string{"procwatch"}}, zkstate.WithoutMembership())
	if err != nil {
		t.Fatal(err)
	}
	defer op.Close()

	addr := freeAddr(t)
	cache := filepath.Join(t.TempDir(), "cache.json")
	cmd := exec.Command(bin, "--web.listen-address", addr, "--session-timeout", "10s",
		"--cache-file", cache, "--log.format", "json")
	cmd.Env = append(os.Environ(), "PROCWATCH_ZK="+cluster.ConnectString(), "PROCWATCH_PATH="+root)
	var stderr testutil.Buffer
	cmd.Stderr = &stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	var waitErr error
	exited := make(chan struct{}) // closed once waitErr is set
	go func() { waitErr = cmd.Wait(); close(exited) }()
	defer func() {
		_ = cmd.Process.Kill()
		<-exited
		if t.Failed() {
			t.Logf("procwatch stderr:\n%s", stderr.String())
		}
	}()

	// Ready: the list is loaded; its own process matches "procwatch".
	deadline := time.Now().Add(30 * time.Second)
	for {
		if resp, err := http.Get("http://" + addr + "/readyz"); err == nil {
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				break
			}
		}
		select {
		case <-exited:
			t.Fatalf("procwatch exited before it was ready: %v", waitErr)
		default:
		}
		if time.Now().After(deadline) {
			t.Fatal("procwatch not ready within 30 s")
		}
		time.Sleep(20 * time.Millisecond)
	}
	var ms []zkstate.Member
	for ms = range op.WatchMembers(ctx) {
		if len(ms) == 1 {
			break
		}
	}
	if len(ms) != 1 || ms[0].Program != "procwatch" || ms[0].PID != cmd.Process.Pid {
		t.Fatalf("listeners = %+v, want the agent (pid %d)", ms, cmd.Process.Pid)
	}

	if err := cmd.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	sent := time.Now()
	select {
	case <-exited:
		if waitErr != nil {
			t.Fatalf("procwatch exited with %v after SIGTERM", waitErr)
		}
	case <-time.After(15 * time.Second):
		t.Fatal("procwatch still running 15 s after SIGTERM")
	}
	left, err := op.Members(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if len(left) != 0 {
		t.Errorf("listener nodes %+v still there after a clean exit", left)
	}
	t.Logf("SIGTERM to exit: %s", time.Since(sent))
	if _, err := os.Stat(cache); err != nil {
		t.Errorf("cache file not written: %v", err)
	}
	if !strings.Contains(stderr.String(), `"msg":"shutting down"`) {
		t.Errorf("no shutdown line in the log:\n%s", stderr.String())
	}
}

// freeAddr returns a loopback address no one listens on right now. The
// binary binds it a moment later; another process taking the port in
// between would fail the test loudly, not silently.
func freeAddr(t *testing.T) string {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := l.Addr().String()
	if err := l.Close(); err != nil {
		t.Fatal(err)
	}
	return addr
}

// scrapeWhenUp waits until the binary at addr serves /metrics and returns
// the body: the listener comes up beside, not before, the first list in
// force. The binary's stderr is in the message while it does not answer.
func scrapeWhenUp(t *testing.T, addr string, stderr *testutil.Buffer) string {
	t.Helper()
	var body string
	testutil.EventuallySaying(t, 30*time.Second, "/metrics to answer", func() (bool, string) {
		resp, err := http.Get("http://" + addr + "/metrics")
		if err != nil {
			return false, err.Error() + "\n" + stderr.String()
		}
		defer resp.Body.Close()
		b, err := io.ReadAll(resp.Body)
		body = string(b)
		return err == nil && resp.StatusCode == http.StatusOK, resp.Status
	})
	return body
}
