package main

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/go-zookeeper/zk"
	"golang.org/x/crypto/bcrypt"

	"github.com/procwatch/procwatch/internal/testutil"
	"github.com/procwatch/procwatch/internal/watchlist"
	"github.com/procwatch/procwatch/internal/zkopts"
	"github.com/procwatch/procwatch/internal/zkstate"
	"github.com/procwatch/procwatch/internal/zktest"
)

// TestSecureBinary runs the built agent the way a hardened host does:
// ZooKeeper over TLS with a client certificate and digest credentials from
// a file (named by the environment), in a tree only the editor may change,
// and /metrics over HTTPS with basic auth. It checks that /metrics answers
// 401 without credentials and 200 with, that the agent follows the editor's
// changes, and that its password shows nowhere: not in its command line or
// environment, its log, or the member info it publishes.
func TestSecureBinary(t *testing.T) {
	// A name of its own, so that its glob matches this process only, not
	// another procwatch running on the machine.
	name := fmt.Sprintf("procwatch-sec-%d", os.Getpid())
	bin := filepath.Join(t.TempDir(), name)
	if out, err := exec.Command("go", "build", "-o", bin, ".").CombinedOutput(); err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}
	dir := t.TempDir()
	const (
		root           = "/procwatch"
		editorPassword = "editor-Pw-9f2c"
		agentPassword  = "agent-Pw-41d7"
		scrapePassword = "scrape-Pw-77aa"
	)
	ca := zktest.NewCA(t, "fleet-ca")
	cluster := zktest.Start(t, 1, zktest.WithTLS(ca.ServerTLS(t)))

	// The editor makes the secured tree, as procctl init --secure does.
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	sess, err := zkstate.Connect(ctx, cluster.Servers(), zkstate.WithAuth("digest", []byte("editor:"+editorPassword)))
	if err != nil {
		t.Fatal(err)
	}
	defer sess.Close()
	editor, err := zkstate.OpenOrCreate[watchlist.Document](ctx, sess, root,
		watchlist.Document{Globs: []string{name}}, zkstate.WithoutMembership(),
		zkstate.WithACLs(zkstate.SecureACLs(zkstate.DigestID("editor", editorPassword), zkstate.DigestID("agent", agentPassword))))
	if err != nil {
		t.Fatal(err)
	}
	defer editor.Close()

	authFile := filepath.Join(dir, "zk-auth")
	if err := os.WriteFile(authFile, []byte("agent:"+agentPassword+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	client := ca.Issue(t, "agent-host-1")
	web := ca.Issue(t, "procwatch-web", "127.0.0.1")
	hash, err := bcrypt.GenerateFromPassword([]byte(scrapePassword), bcrypt.MinCost)
	if err != nil {
		t.Fatal(err)
	}
	webConfig := filepath.Join(dir, "web.yml")
	if err := os.WriteFile(webConfig, fmt.Appendf(nil, "tls_server_config:\n  cert_file: %s\n  key_file: %s\nbasic_auth_users:\n  prometheus: %s\n",
		web.CertFile, web.KeyFile, hash), 0o600); err != nil {
		t.Fatal(err)
	}

	addr := freeAddr(t)
	cmd := exec.Command(bin, "--web.listen-address", addr, "--web.config.file", webConfig, "--log.format", "json",
		"--zk", cluster.SecureConnectString(), "--path", root, "--session-timeout", "10s",
		"--zk-tls-ca", ca.CertFile, "--zk-tls-cert", client.CertFile, "--zk-tls-key", client.KeyFile)
	cmd.Env = append(os.Environ(), zkopts.EnvAuthFile+"="+authFile)
	var stderr testutil.Buffer
	cmd.Stderr = &stderr
	start := time.Now()
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	var waitErr error
	exited := make(chan struct{})
	go func() { waitErr = cmd.Wait(); close(exited) }()
	defer func() {
		_ = cmd.Process.Kill()
		<-exited
		if t.Failed() {
			t.Logf("procwatch stderr:\n%s", stderr.String())
		}
	}()

	https := ca.HTTPSClient(t)
	get := func(path, password string) (int, string, error) {
		req, err := http.NewRequest(http.MethodGet, "https://"+addr+path, nil)
		if err != nil {
			return 0, "", err
		}
		if password != "" {
			req.SetBasicAuth("prometheus", password)
		}
		resp, err := https.Do(req)
		if err != nil {
			return 0, "", err
		}
		defer resp.Body.Close()
		b, err := io.ReadAll(resp.Body)
		return resp.StatusCode, string(b), err
	}
	// waitFor polls path (with credentials) until its body holds want.
	waitFor := func(path, want string, timeout time.Duration) {
		t.Helper()
		testutil.EventuallySaying(t, timeout, fmt.Sprintf("%s to hold %q", path, want), func() (bool, string) {
			code, body, err := get(path, scrapePassword)
			return err == nil && code == http.StatusOK && strings.Contains(body, want), fmt.Sprintf("%d %v %.300s", code, err, body)
		}, func() (bool, string) {
			select {
			case <-exited:
				return true, fmt.Sprintf("procwatch exited: %v", waitErr)
			default:
				return false, ""
			}
		})
	}
	waitFor("/readyz", "ready", 30*time.Second)
	t.Logf("ready over TLS to ZooKeeper %s after start", time.Since(start))

	if code, _, err := get("/metrics", ""); err != nil || code != http.StatusUnauthorized {
		t.Errorf("/metrics without credentials = %d, %v; want 401", code, err)
	}
	if code, _, err := get("/metrics", "wrong"); err != nil || code != http.StatusUnauthorized {
		t.Errorf("/metrics with a wrong password = %d, %v; want 401", code, err)
	}
	if code, body, err := get("/metrics", scrapePassword); err != nil || code != http.StatusOK || !strings.Contains(body, `procwatch_glob_processes{glob="`+name+`"} 1`) {
		t.Errorf("/metrics with credentials = %d, %v; want 200 and the agent matching itself:\n%.500s", code, err, body)
	}

	// It follows the editor.
	if _, err := editor.Update(ctx, func(w *watchlist.Document) error { w.Globs = append(w.Globs, "sshd-secure"); return nil }); err != nil {
		t.Fatal(err)
	}
	waitFor("/metrics", `procwatch_glob_processes{glob="sshd-secure"} 0`, 5*time.Second)

	// Its node: member info only, under the agent's ACL.
	var ms []zkstate.Member
	for ms = range editor.WatchMembers(ctx) {
		if len(ms) == 1 {
			break
		}
	}
	if len(ms) != 1 || ms[0].PID != cmd.Process.Pid {
		t.Fatalf("members %+v, want the agent (pid %d)", ms, cmd.Process.Pid)
	}
	raw := zktest.Connect(t, cluster.ConnectString(), 10*time.Second)
	if err := raw.AddAuth("digest", []byte("agent:"+agentPassword)); err != nil {
		t.Fatal(err)
	}
	node := root + "/listeners/" + ms[0].ID
	data, _, err := raw.Get(node)
	if err != nil {
		t.Fatal(err)
	}
	acl, _, err := raw.GetACL(node)
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("listener node %s: %s, ACL %v", node, data, acl)
	var fields map[string]any
	if err := json.Unmarshal(data, &fields); err != nil {
		t.Fatal(err)
	}
	keys := make([]string, 0, len(fields))
	for k := range fields {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	// The engine's fields, and the agent's own once published: nothing
	// else, and nothing secret among them (DESIGN's member info).
	documented := []string{"applied_version", "globs", "groups", "hostname", "id", "labels", "missing", "missing_truncated",
		"pid", "program", "started_at", "updated_at", "version"}
	for _, k := range keys {
		if !slices.Contains(documented, k) {
			t.Errorf("member info holds the undocumented field %q (fields %v)", k, keys)
		}
	}
	for _, a := range acl {
		if a.Scheme == "world" && a.Perms != zk.PermRead {
			t.Errorf("the agent's node grants the world %v", a)
		}
	}
	if !slices.ContainsFunc(acl, func(a zk.ACL) bool { return a.Scheme == "x509" && a.ID == "CN=agent-host-1" && a.Perms == zk.PermAll }) ||
		!slices.ContainsFunc(acl, func(a zk.ACL) bool { return a.ID == zkstate.DigestID("agent", agentPassword) && a.Perms == zk.PermAll }) {
		t.Errorf("ACL of the agent's node %v: want all rights for its digest and x509 identities", acl)
	}

	// Where a password could leak from a running process.
	pid := strconv.Itoa(cmd.Process.Pid)
	cmdline, _ := os.ReadFile("/proc/" + pid + "/cmdline")
	environ, _ := os.ReadFile("/proc/" + pid + "/environ")
	if !strings.Contains(string(environ), zkopts.EnvAuthFile+"="+authFile) {
		t.Errorf("environment of the agent lacks %s", zkopts.EnvAuthFile)
	}
	if !strings.Contains(stderr.String(), `"zk_security":"digest:agent over TLS, CA `+ca.CertFile) {
		t.Errorf("the start log does not say how the agent connects:\n%s", stderr.String())
	}

	if err := cmd.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	select {
	case <-exited:
		if waitErr != nil {
			t.Errorf("exit after SIGTERM: %v", waitErr)
		}
	case <-time.After(15 * time.Second):
		t.Fatal("procwatch still running 15 s after SIGTERM")
	}
	if ok, _, err := raw.Exists(node); err != nil || ok {
		t.Errorf("listener node still there after exit (%v)", err)
	}
	for where, text := range map[string]string{"command line": string(cmdline), "environment": string(environ),
		"log": stderr.String(), "member info": string(data)} {
		for _, secret := range []string{agentPassword, editorPassword, zkstate.DigestID("agent", agentPassword)[6:]} {
			if strings.Contains(text, secret) {
				t.Errorf("the agent's %s contains a secret (%q)", where, secret)
			}
		}
	}
}
