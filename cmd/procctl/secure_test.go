package main

import (
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"sort"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/go-zookeeper/zk"
	"github.com/google/go-cmp/cmp"
	"github.com/spf13/cobra"

	"github.com/procwatch/procwatch/internal/agent"
	"github.com/procwatch/procwatch/internal/agent/agenttest"
	"github.com/procwatch/procwatch/internal/testutil"
	"github.com/procwatch/procwatch/internal/zkopts"
	"github.com/procwatch/procwatch/internal/zkstate"
	"github.com/procwatch/procwatch/internal/zktest"
)

// Tests of issue 9: a tree secured by `procctl init --secure`, credentials
// from files, TLS to ZooKeeper, with the real agent (agent.Run, as
// cmd/procwatch runs it) and procctl against a real ZooKeeper.

const (
	editorPassword = "ed-Pa55:word"
	agentPassword  = "ag-Pa55:word"
)

// secrets are the credential files of one test, mode 0600.
type secrets struct {
	editor, agent, wrong string // files
}

func writeSecrets(t *testing.T) secrets {
	t.Helper()
	dir := t.TempDir()
	s := secrets{
		editor: filepath.Join(dir, "editor.auth"),
		agent:  filepath.Join(dir, "agent.auth"),
		wrong:  filepath.Join(dir, "wrong.auth"),
	}
	for path, content := range map[string]string{
		s.editor: "digest:editor:" + editorPassword + "\n",
		s.agent:  "agent:" + agentPassword + "\n",
		s.wrong:  "editor:not-the-password\n",
	} {
		if err := os.WriteFile(path, []byte(content), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	return s
}

// with returns a copy of env with more variables.
func (e envMap) with(kv ...string) envMap {
	out := envMap{}
	for k, v := range e {
		out[k] = v
	}
	for i := 0; i+1 < len(kv); i += 2 {
		out[kv[i]] = kv[i+1]
	}
	return out
}

// liveAgent is the real agent running in the test process, started by
// agenttest, with its log under the lower-case expect the tests use.
type liveAgent struct {
	*agenttest.Agent
	url string
	log agentLog
}

// agentLog is the agent's log (shown when the test fails).
type agentLog struct{ *testutil.Buffer }

func (l agentLog) expect(t *testing.T, want string, timeout time.Duration) string {
	t.Helper()
	return l.Expect(t, want, timeout)
}

// runAgent runs agent.Run on /procwatch until the test ends.
func runAgent(t *testing.T, cfg agent.Config) *liveAgent {
	t.Helper()
	cfg.Path = "/procwatch"
	cfg.ProcfsRoot = "/proc"
	a := agenttest.Start(t, cfg)
	return &liveAgent{Agent: a, url: a.URL, log: agentLog{a.Log}}
}

// waitMetric scrapes until /metrics holds a line starting with want.
func (a *liveAgent) waitMetric(t *testing.T, want string, timeout time.Duration) {
	t.Helper()
	testutil.EventuallySaying(t, timeout, "a metric line "+strconv.Quote(want), func() (bool, string) {
		code, body := a.Get("/metrics")
		for line := range strings.SplitSeq(body, "\n") {
			if strings.HasPrefix(line, want) {
				return true, ""
			}
		}
		return false, fmt.Sprintf("/metrics %d:\n%s", code, body)
	})
}

// listener waits until the agents' registry holds exactly n nodes and
// returns their names.
func (f *fixture) listeners(n int, timeout time.Duration) []string {
	f.t.Helper()
	deadline := time.Now().Add(timeout)
	for {
		kids, _, ch, err := f.raw.ChildrenW("/procwatch/listeners")
		if err != nil {
			f.t.Fatalf("listeners: %v", err)
		}
		if len(kids) == n {
			sort.Strings(kids)
			return kids
		}
		select {
		case <-ch:
		case <-time.After(time.Until(deadline)):
			f.t.Fatalf("want %d listener nodes within %s, have %v", n, timeout, kids)
		}
	}
}

// acl reads the ACL of a node as an anonymous client sees it.
func (f *fixture) acl(path string) []zk.ACL { return aclOf(f.t, f.raw, path) }

// aclOf reads the ACL of a node through conn.
func aclOf(t *testing.T, conn *zk.Conn, path string) []zk.ACL {
	t.Helper()
	acl, _, err := conn.GetACL(path)
	if err != nil {
		t.Fatalf("getAcl %s: %v", path, err)
	}
	return acl
}

// authConn is a raw client logged in as user: ZooKeeper shows the digests
// in an ACL only to clients with the ADMIN right on the node.
func authConn(t *testing.T, servers, user, password string) *zk.Conn {
	t.Helper()
	c := zktest.Connect(t, servers, 10*time.Second)
	if err := c.AddAuth("digest", []byte(user+":"+password)); err != nil {
		t.Fatal(err)
	}
	return c
}

var (
	worldRead = zk.ACL{Perms: zk.PermRead, Scheme: "world", ID: "anyone"}
	editorAll = zk.ACL{Perms: zk.PermAll, Scheme: "digest", ID: zkstate.DigestID("editor", editorPassword)}
	agentAll  = zk.ACL{Perms: zk.PermAll, Scheme: "digest", ID: zkstate.DigestID("agent", agentPassword)}
)

// sortACL orders an ACL for comparison: ZooKeeper keeps the order given,
// and the "auth" scheme expands in an order of its own.
func sortACL(acl []zk.ACL) []zk.ACL {
	acl = slices.Clone(acl)
	sort.Slice(acl, func(i, j int) bool { return acl[i].Scheme+acl[i].ID < acl[j].Scheme+acl[j].ID })
	return acl
}

// checkNothingWorldWritable fails for a node under root that grants the
// world more than reading.
func (f *fixture) checkNothingWorldWritable(root string) {
	f.t.Helper()
	var walk func(p string)
	walk = func(p string) {
		for _, a := range f.acl(p) {
			if a.Scheme == "world" && a.Perms&^zk.PermRead != 0 {
				f.t.Errorf("%s grants the world %d (%v)", p, a.Perms, a)
			}
		}
		kids, _, err := f.raw.Children(p)
		if err != nil {
			f.t.Fatalf("children of %s: %v", p, err)
		}
		for _, k := range kids {
			walk(p + "/" + k)
		}
	}
	walk(root)
}

// TestSecureTree is issue 9's first demonstration: init --secure makes a
// tree only the editor can change; an anonymous procctl and one with the
// agents' credentials are refused (exit 1, "permission denied", payload
// unchanged); the editor succeeds; an agent without the editor's
// credentials follows the changes and registers itself, under an ACL, with
// nothing secret in its node.
func TestSecureTree(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	s := writeSecrets(t)
	anon := f.env("/procwatch")
	editor := anon.with(zkopts.EnvAuthFile, s.editor)

	r := mustRun(t, editor, "init", "--secure", "--agent-auth-file", s.agent, "sshd")
	if want := "created /procwatch; writable only by digest:editor; agents register as digest:agent; 1 glob at version 0\n"; r.stdout != want {
		t.Errorf("init --secure printed %q, want %q", r.stdout, want)
	}
	editorRaw := authConn(t, f.servers, "editor", editorPassword)
	for path, want := range map[string][]zk.ACL{
		"/procwatch":           {worldRead, editorAll},
		"/procwatch/payload":   {worldRead, editorAll},
		"/procwatch/lock":      {worldRead, editorAll},
		"/procwatch/listeners": {worldRead, editorAll, {Perms: zk.PermRead | zk.PermCreate | zk.PermDelete, Scheme: "digest", ID: agentAll.ID}},
	} {
		if diff := cmp.Diff(sortACL(want), sortACL(aclOf(t, editorRaw, path))); diff != "" {
			t.Errorf("ACL of %s (-want +got):\n%s", path, diff)
		}
		// Others see who, not the digest (which allows guessing passwords).
		for _, a := range f.acl(path) {
			if a.Scheme == "digest" && !strings.HasSuffix(a.ID, ":x") {
				t.Errorf("an anonymous client sees the digest %s on %s", a.ID, path)
			}
		}
	}

	a := runAgent(t, agent.Config{
		Servers:        []string{f.servers},
		SessionTimeout: 10 * time.Second,
		ZKSecurity:     mustLoad(t, zkopts.Flags{AuthFile: s.agent}),
	})
	a.waitMetric(t, `procwatch_glob_processes{glob="sshd"}`, 20*time.Second)
	member := f.listeners(1, 10*time.Second)[0]

	// Refused: no credentials, wrong password, the agents' identity.
	doc, version := f.payload("/procwatch")
	for _, tc := range []struct {
		name string
		env  envMap
		want string
	}{
		{"anonymous", anon, `refused an anonymous client under /procwatch`},
		{"wrong password", anon.with(zkopts.EnvAuthFile, s.wrong), `refused digest user "editor" under /procwatch`},
		{"agent", anon.with(zkopts.EnvAuthFile, s.agent), `refused digest user "agent" under /procwatch`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			for _, args := range [][]string{{"globs", "add", "evil"}, {"globs", "set", "evil"}, {"globs", "rm", "sshd"}} {
				r := run(t, tc.env, args...)
				if r.code != exitFailure || r.stdout != "" || !strings.HasPrefix(r.stderr, "procctl: permission denied: ") ||
					!strings.Contains(r.stderr, tc.want) || !strings.Contains(r.stderr, "nothing was written") {
					t.Errorf("procctl %s: %s", strings.Join(args, " "), r)
				}
			}
		})
	}
	if doc2, v2 := f.payload("/procwatch"); v2 != version || string(doc2) != string(doc) {
		t.Fatalf("payload changed by refused writers: v%d %s -> v%d %s", version, doc, v2, doc2)
	}
	t.Logf("anonymous write refused with: %s", strings.TrimSpace(run(t, anon, "globs", "add", "evil").stderr))

	// The editor writes; the agent follows within the second.
	start := time.Now()
	mustRun(t, editor, "globs", "add", "cron")
	a.waitMetric(t, `procwatch_glob_processes{glob="cron"}`, 5*time.Second)
	t.Logf("editor's add seen in the agent's /metrics after %s", time.Since(start))

	// Reading needs no credentials.
	if r := mustRun(t, anon, "globs", "list"); r.stdout != "sshd\ncron\n" {
		t.Errorf("anonymous list: %s", r)
	}
	if r := mustRun(t, anon, "members", "-o", "json"); !strings.Contains(r.stdout, `"program": "procwatch"`) {
		t.Errorf("anonymous members: %s", r)
	}

	// The agent's node: readable by all, writable by the agent only, and
	// its data is the member info and nothing else.
	node := "/procwatch/listeners/" + member
	agentRaw := authConn(t, f.servers, "agent", agentPassword)
	if diff := cmp.Diff(sortACL([]zk.ACL{worldRead, agentAll}), sortACL(aclOf(t, agentRaw, node))); diff != "" {
		t.Errorf("ACL of the agent's node (-want +got):\n%s", diff)
	}
	data, _, err := f.raw.Get(node)
	if err != nil {
		t.Fatal(err)
	}
	checkMemberInfo(t, data)

	// writes/ appeared at the editor's first write, as closed as the root;
	// nothing anywhere is world-writable.
	if diff := cmp.Diff(sortACL([]zk.ACL{worldRead, editorAll}), sortACL(aclOf(t, editorRaw, "/procwatch/writes"))); diff != "" {
		t.Errorf("ACL of writes/ (-want +got):\n%s", diff)
	}
	f.checkNothingWorldWritable("/procwatch")
}

// checkMemberInfo: a listener node holds the documented member fields and
// no credential material: no password, no digest hash, no key.
func checkMemberInfo(t *testing.T, data []byte) {
	t.Helper()
	var m map[string]any
	if err := json.Unmarshal(data, &m); err != nil {
		t.Fatalf("listener node data is not JSON: %v\n%s", err, data)
	}
	// The engine's fields always; the agent's own once it has published
	// them (DESIGN's member info); nothing else.
	engine := []string{"hostname", "id", "pid", "program", "started_at", "version"}
	documented := append(slices.Clone(engine), "labels", "applied_version", "groups", "globs", "missing", "missing_truncated", "updated_at")
	for _, k := range engine {
		if _, ok := m[k]; !ok {
			t.Errorf("member info lacks %q: %s", k, data)
		}
	}
	for k := range m {
		if !slices.Contains(documented, k) {
			t.Errorf("member info holds the undocumented field %q: %s", k, data)
		}
	}
	for _, secret := range []string{editorPassword, agentPassword, "Pa55", zkstate.DigestID("agent", agentPassword)[6:],
		"PRIVATE KEY", "digest", "auth"} {
		if strings.Contains(string(data), secret) {
			t.Errorf("listener node data contains %q: %s", secret, data)
		}
	}
	t.Logf("member info: %s", data)
}

func mustLoad(t *testing.T, f zkopts.Flags) zkopts.Security {
	t.Helper()
	s, err := f.Load()
	if err != nil {
		t.Fatal(err)
	}
	return s
}

// TestSecureAuthSurvivesSessionExpiry: an agent cut off for longer than its
// session timeout loses its session and its node; once back it gets a new
// session, its credentials are replayed, and it recreates its node under
// the ACL (which the "auth" scheme grants only on an authenticated
// session); the editor still writes and the agent follows.
func TestSecureAuthSurvivesSessionExpiry(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	s := writeSecrets(t)
	editor := f.env("/procwatch").with(zkopts.EnvAuthFile, s.editor)
	mustRun(t, editor, "init", "--secure", "--agent-digest", zkstate.DigestID("agent", agentPassword), "sshd")

	proxy := zktest.NewProxy(t, f.servers)
	const sessionTimeout = 2 * time.Second
	a := runAgent(t, agent.Config{
		Servers:        []string{proxy.Addr()},
		SessionTimeout: sessionTimeout,
		ZKSecurity:     mustLoad(t, zkopts.Flags{AuthFile: s.agent}),
	})
	a.waitMetric(t, `procwatch_glob_processes{glob="sshd"}`, 20*time.Second)
	node := "/procwatch/listeners/" + f.listeners(1, 10*time.Second)[0]
	_, before, err := f.raw.Exists(node)
	if err != nil {
		t.Fatal(err)
	}

	cut := time.Now()
	proxy.Cut()
	f.listeners(0, 10*sessionTimeout) // the server expired the session
	t.Logf("node gone %s after the cut", time.Since(cut))
	a.waitMetric(t, "procwatch_zookeeper_session_expirations_total 1", 10*sessionTimeout)
	proxy.Restore()

	again := "/procwatch/listeners/" + f.listeners(1, 10*sessionTimeout)[0]
	t.Logf("node back %s after the cut", time.Since(cut))
	ok, after, err := f.raw.Exists(again)
	if err != nil || !ok {
		t.Fatalf("node %s: %v", again, err)
	}
	if again != node || after.EphemeralOwner == before.EphemeralOwner {
		t.Errorf("node %s (session 0x%x) after expiry, want %s from a new session (was 0x%x)", again, after.EphemeralOwner, node, before.EphemeralOwner)
	}
	if diff := cmp.Diff(sortACL([]zk.ACL{worldRead, agentAll}), sortACL(aclOf(t, authConn(t, f.servers, "agent", agentPassword), again))); diff != "" {
		t.Errorf("ACL of the recreated node (-want +got):\n%s", diff)
	}

	mustRun(t, editor, "globs", "add", "after-expiry")
	a.waitMetric(t, `procwatch_glob_processes{glob="after-expiry"}`, 5*time.Second)
	if r := run(t, f.env("/procwatch"), "globs", "add", "evil"); r.code != exitFailure || !strings.Contains(r.stderr, "permission denied") {
		t.Errorf("anonymous add after the expiry: %s", r)
	}
	f.checkNothingWorldWritable("/procwatch")
}

// TestSecureOverTLS: ZooKeeper serving TLS on its secureClientPort (Netty),
// with a CA and certificates made by the test: procctl and the agent
// connect with verified TLS and client certificates, on top of digest
// credentials; a wrong CA, or no client certificate, fails with a message
// that says so, from procctl and from the agent.
func TestSecureOverTLS(t *testing.T) {
	t.Parallel()
	ca := zktest.NewCA(t, "procwatch-test-ca")
	cluster := zktest.Start(t, 1, zktest.WithTLS(ca.ServerTLS(t)))
	f := &fixture{t: t, servers: cluster.ConnectString(), cluster: cluster, raw: zktest.Connect(t, cluster.ConnectString(), 10*time.Second)}
	s := writeSecrets(t)
	editorCert, agentCert := ca.Issue(t, "editor"), ca.Issue(t, "agent")

	tlsEnv := func(cert zktest.Cert, caFile string) envMap {
		return envMap{envZK: cluster.SecureConnectString(), envPath: "/procwatch",
			zkopts.EnvTLSCA: caFile, zkopts.EnvTLSCert: cert.CertFile, zkopts.EnvTLSKey: cert.KeyFile}
	}
	editor := tlsEnv(editorCert, ca.CertFile).with(zkopts.EnvAuthFile, s.editor)
	start := time.Now()
	mustRun(t, editor, "init", "--secure", "--agent-auth-file", s.agent, "sshd")
	t.Logf("procctl init over TLS: %s", time.Since(start))

	a := runAgent(t, agent.Config{
		Servers:        []string{cluster.SecureConnectString()},
		SessionTimeout: 10 * time.Second,
		ZKSecurity: mustLoad(t, zkopts.Flags{AuthFile: s.agent, TLS: zkopts.TLSFiles{
			CA: ca.CertFile, Cert: agentCert.CertFile, Key: agentCert.KeyFile}}),
	})
	a.waitMetric(t, `procwatch_glob_processes{glob="sshd"}`, 20*time.Second)
	member := f.listeners(1, 10*time.Second)[0]
	start = time.Now()
	mustRun(t, editor, "globs", "add", "over-tls")
	a.waitMetric(t, `procwatch_glob_processes{glob="over-tls"}`, 5*time.Second)
	t.Logf("add over TLS seen by the agent over TLS after %s", time.Since(start))
	if r := mustRun(t, tlsEnv(editorCert, ca.CertFile), "members"); !strings.Contains(r.stdout, member) {
		t.Errorf("members over TLS: %s", r)
	}

	// With TLS client certificates, the agent's node also belongs to its
	// x509 identity: the "auth" scheme expands to every identity of the
	// session.
	x509Agent := zk.ACL{Perms: zk.PermAll, Scheme: "x509", ID: "CN=agent"}
	agentRaw := authConn(t, f.servers, "agent", agentPassword)
	if diff := cmp.Diff(sortACL([]zk.ACL{worldRead, agentAll, x509Agent}), sortACL(aclOf(t, agentRaw, "/procwatch/listeners/"+member))); diff != "" {
		t.Errorf("ACL of the agent's node (-want +got):\n%s", diff)
	}
	data, _, err := f.raw.Get("/procwatch/listeners/" + member)
	if err != nil {
		t.Fatal(err)
	}
	checkMemberInfo(t, data)

	// A CA that did not sign the server's certificate: procctl says the
	// certificate is not trusted, names the flag, and exits 1.
	otherCA := zktest.NewCA(t, "some-other-ca")
	doc, version := f.payload("/procwatch")
	r := run(t, tlsEnv(editorCert, otherCA.CertFile).with(zkopts.EnvAuthFile, s.editor), "--timeout", "2s", "globs", "add", "x")
	wantTrust := fmt.Sprintf(`procctl: cannot connect to ZooKeeper at %s: the server's TLS certificate is not trusted (signed by an unknown authority, issued by "procwatch-test-ca"): check that --zk-tls-ca is the CA that signed ZooKeeper's certificate (no session within 2s)`+"\n",
		cluster.SecureConnectString())
	if r.code != exitFailure || r.stderr != wantTrust {
		t.Errorf("wrong CA:\n%s\nwant stderr %q", r, wantTrust)
	}
	// No client certificate: the server refuses the handshake.
	r = run(t, envMap{envZK: cluster.SecureConnectString(), envPath: "/procwatch", zkopts.EnvTLSCA: ca.CertFile}, "--timeout", "2s", "globs", "list")
	if r.code != exitFailure || !strings.Contains(r.stderr, "the server refused the TLS handshake (remote error: tls: ") ||
		!strings.Contains(r.stderr, "check --zk-tls-cert and --zk-tls-key") {
		t.Errorf("no client certificate:\n%s", r)
	}
	if doc2, v2 := f.payload("/procwatch"); v2 != version || string(doc2) != string(doc) {
		t.Errorf("payload changed: v%d %s -> v%d %s", version, doc, v2, doc2)
	}

	// The agent with the wrong CA: not ready, and its log says why.
	bad := runAgent(t, agent.Config{
		Servers:        []string{cluster.SecureConnectString()},
		SessionTimeout: time.Second,
		ZKSecurity: mustLoad(t, zkopts.Flags{AuthFile: s.agent, TLS: zkopts.TLSFiles{
			CA: otherCA.CertFile, Cert: agentCert.CertFile, Key: agentCert.KeyFile}}),
	})
	line := bad.log.expect(t, "cannot connect to ZooKeeper: the server's TLS certificate is not trusted", 20*time.Second)
	t.Logf("agent with the wrong CA logs: %s", line)
	if !strings.Contains(line, "level=ERROR") || !strings.Contains(line, "--zk-tls-ca") {
		t.Errorf("log line %q: want an error naming --zk-tls-ca", line)
	}
	resp, err := http.Get(bad.url + "/readyz")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusServiceUnavailable {
		t.Errorf("/readyz of the agent with the wrong CA = %d, want 503", resp.StatusCode)
	}
	if members := f.listeners(1, 5*time.Second); members[0] != member {
		t.Errorf("listeners %v: the agent with the wrong CA must not be among them", members)
	}
}

// TestSecurityFlagErrors: bad security settings are the operator's to fix:
// exit 2, before anything is sent, with a message naming the file or flag.
func TestSecurityFlagErrors(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	open := filepath.Join(dir, "open.auth")
	if err := os.WriteFile(open, []byte("editor:"+editorPassword+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.Chmod(open, 0o644); err != nil {
		t.Fatal(err)
	}
	s := writeSecrets(t)
	env := envMap{envZK: closedPort(t)}
	for _, tc := range []struct {
		name string
		env  envMap
		args []string
		want string
	}{
		{"world-readable auth file", env, []string{"--zk-auth-file", open, "globs", "list"},
			fmt.Sprintf("procctl: refusing %s: it is readable by every user on this host (mode 0644); restrict it with `chmod 600 %s`, or 640 with the program's group\n", open, open)},
		{"world-readable auth file from the environment", env.with(zkopts.EnvAuthFile, open), []string{"globs", "list"}, "procctl: refusing " + open},
		{"missing auth file", env, []string{"--zk-auth-file", filepath.Join(dir, "nope"), "get"}, "no such file or directory"},
		{"cert without key", env, []string{"--zk-tls-cert", open, "get"}, "--zk-tls-cert needs --zk-tls-key"},
		{"secure without credentials", env, []string{"init", "--secure", "--agent-digest", zkstate.DigestID("a", "b")},
			"--secure makes the tree writable only by the identity that creates it: give the editor's credentials with --zk-auth-file or PROCWATCH_ZK_AUTH_FILE"},
		{"secure without agents", env.with(zkopts.EnvAuthFile, s.editor), []string{"init", "--secure"}, "--secure needs the agents' identity"},
		{"agents without secure", env.with(zkopts.EnvAuthFile, s.editor), []string{"init", "--agent-auth-file", s.agent}, "only apply with --secure"},
		{"both agent flags", env.with(zkopts.EnvAuthFile, s.editor), []string{"init", "--secure", "--agent-auth-file", s.agent, "--agent-digest", "a:b"}, "not both"},
		{"bad digest", env.with(zkopts.EnvAuthFile, s.editor), []string{"init", "--secure", "--agent-digest", "agent:" + agentPassword}, "must be a base64 SHA-1 digest"},
		{"agents are the editor", env.with(zkopts.EnvAuthFile, s.editor), []string{"init", "--secure", "--agent-auth-file", s.editor}, "the agents' identity is the editor's"},
		{"world-readable agent file", env.with(zkopts.EnvAuthFile, s.editor), []string{"init", "--secure", "--agent-auth-file", open}, "--agent-auth-file: refusing " + open},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := run(t, tc.env, tc.args...)
			if r.code != exitUsage || !strings.Contains(r.stderr, tc.want) {
				t.Errorf("%s\nwant exit 2 and stderr containing %q", r, tc.want)
			}
			if strings.Contains(r.stderr, editorPassword) || strings.Contains(r.stderr, agentPassword) {
				t.Errorf("a password shows in the message: %s", r.stderr)
			}
		})
	}
}

// TestNoPasswordFlag: no flag of any procctl command takes a secret; a
// password can only come from a file.
func TestNoPasswordFlag(t *testing.T) {
	root := newRootCmd(strings.NewReader(""), io.Discard, io.Discard, envMap{}.lookup)
	flagName := regexp.MustCompile(`--[a-z][a-z.-]*`)
	var names []string
	var walk func(c *cobra.Command)
	walk = func(c *cobra.Command) {
		names = append(names, flagName.FindAllString(c.Flags().FlagUsages(), -1)...)
		names = append(names, flagName.FindAllString(c.PersistentFlags().FlagUsages(), -1)...)
		for _, sub := range c.Commands() {
			walk(sub)
		}
	}
	walk(root)
	if !slices.Contains(names, "--zk-auth-file") || !slices.Contains(names, "--agent-auth-file") {
		t.Fatalf("flags found: %v", names)
	}
	for _, n := range names {
		if strings.Contains(n, "password") || strings.Contains(n, "secret") || strings.HasSuffix(n, "-auth") {
			t.Errorf("flag %s looks like it takes a secret", n)
		}
	}
}
