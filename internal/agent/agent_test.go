package agent_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	"go.opentelemetry.io/otel/sdk/trace/tracetest"
	"go.uber.org/goleak"
	"golang.org/x/crypto/bcrypt"

	"github.com/procwatch/procwatch/internal/agent"
	"github.com/procwatch/procwatch/internal/agent/agenttest"
	"github.com/procwatch/procwatch/internal/watchlist"
	"github.com/procwatch/procwatch/internal/zkstate"
	"github.com/procwatch/procwatch/internal/zktest"
)

// The tests share one ZooKeeper server, each under a root of its own:
// starting a JVM costs seconds on a loaded machine.
var (
	clusterOnce sync.Once
	cluster     *zktest.Cluster
	clusterErr  error
)

func sharedCluster(t *testing.T) *zktest.Cluster {
	t.Helper()
	clusterOnce.Do(func() { cluster, clusterErr = zktest.StartCluster(1) })
	if clusterErr != nil {
		t.Fatalf("starting ZooKeeper: %v", clusterErr)
	}
	return cluster
}

func TestMain(m *testing.M) {
	code := m.Run()
	if cluster != nil {
		if err := cluster.Close(); err != nil {
			fmt.Fprintln(os.Stderr, "closing ZooKeeper:", err)
			code = 1
		}
	}
	if code == 0 {
		if err := goleak.Find(); err != nil {
			fmt.Fprintln(os.Stderr, "goleak:", err)
			code = 1
		}
	}
	os.Exit(code)
}

// names returns process names unique to this test run: a short one and one
// longer than the kernel's 15-byte comm, which only the full-name matching
// of DESIGN can match by a glob on its end.
func names(tag string) (short, long string) {
	pid := os.Getpid() % 100000
	return fmt.Sprintf("pw%s%d", tag, pid), fmt.Sprintf("pw%s-long-sleeper-%d-end", tag, pid)
}

// TestLiveGlobProcesses is the agent against a real ZooKeeper and the
// host's real processes: globs added through zkstate show their processes
// within a second, and drop to 0 when the processes end.
func TestLiveGlobProcesses(t *testing.T) {
	cluster := sharedCluster(t)
	root := testRoot(t)
	op := operator(t, cluster.ConnectString(), root)

	short, long := names("lv")
	if len(long) <= 15 {
		t.Fatalf("test name %q is not longer than the 15-byte comm", long)
	}
	killShort := sleepers(t, short, 1)
	killLong := sleepers(t, long, 2)
	// "*-end" only matches the full name: the kernel's comm is cut
	// to 15 bytes and loses the suffix.
	longGlob := "pw*-long-sleeper-*-end"
	cache := filepath.Join(t.TempDir(), "procwatch.cache")

	cfg := agentConfig(t, root)
	cfg.CacheFile = cache
	// No periodic scan: what makes the change visible must be the
	// re-match on the change event itself.
	cfg.ScanInterval = 0
	a := startReady(t, cfg)
	a.WaitMetrics(t, 5*time.Second,
		want{Name: "procwatch_globs", Value: 0},
		want{Name: "procwatch_zookeeper_connected", Value: 1},
		want{Name: "procwatch_state_stale", Value: 0},
		want{Name: "procwatch_glob_processes", Labels: []string{"glob=" + short}, Absent: true},
	)
	waitMembers(t, op, 1, 10*time.Second)

	// The write, then /metrics until it shows: the latency DESIGN bounds.
	start := time.Now()
	version := setGlobs(t, op, short, longGlob)
	committed := time.Since(start)
	latency := committed + a.WaitMetrics(t, time.Second,
		want{Name: "procwatch_glob_processes", Labels: []string{"glob=" + short}, Value: 1},
		want{Name: "procwatch_glob_processes", Labels: []string{"glob=" + longGlob}, Value: 2},
		want{Name: "procwatch_state_version", Value: float64(version)},
		want{Name: "procwatch_globs", Value: 2},
	)
	t.Logf("change to /metrics: %s from the start of the write (the write itself took %s)", latency, committed)
	if latency > time.Second {
		t.Errorf("the change took %s to show in /metrics, want at most 1 s", latency)
	}

	mfs, body := a.Scrape(t)
	if v, ok := mfs.Value("procwatch_glob_oldest_start_time_seconds", "glob="+longGlob); !ok || v < float64(start.Add(-time.Minute).Unix()) {
		t.Errorf("oldest start of %s = %v (present %v), want about now", longGlob, v, ok)
	}
	promtoolCheck(t, body)

	// The cache file follows every good change.
	c, err := agent.ReadCache(cache)
	if err != nil {
		t.Fatal(err)
	}
	if c.Version != version || !slices.Equal(c.Payload.Globs, []string{short, longGlob}) || c.Root != root {
		t.Errorf("cache file = %+v, want version %d globs [%s %s] root %s", c, version, short, longGlob, root)
	}

	killShort()
	killLong()
	// Back to 0; the series stay, the processes count as exits, and the
	// scrape rescans on its own (the latest scan is older than a second).
	a.WaitMetrics(t, 10*time.Second,
		want{Name: "procwatch_glob_processes", Labels: []string{"glob=" + short}, Value: 0},
		want{Name: "procwatch_glob_processes", Labels: []string{"glob=" + longGlob}, Value: 0},
		want{Name: "procwatch_glob_process_exits_total", Labels: []string{"glob=" + longGlob}, Value: 2},
		want{Name: "procwatch_glob_process_exits_total", Labels: []string{"glob=" + short}, Value: 1},
		want{Name: "procwatch_glob_oldest_start_time_seconds", Labels: []string{"glob=" + longGlob}, Absent: true},
	)
}

// promtoolCheck runs `promtool check metrics` on a scrape: it must pass
// with nothing to say.
func promtoolCheck(t *testing.T, body string) {
	t.Helper()
	promtool, err := exec.LookPath("promtool")
	if err != nil {
		t.Fatalf("promtool not found (%v): run `make deps`", err)
	}
	cmd := exec.Command(promtool, "check", "metrics")
	cmd.Stdin = strings.NewReader(body)
	out, err := cmd.CombinedOutput()
	if err != nil || len(bytes.TrimSpace(out)) > 0 {
		t.Errorf("promtool check metrics: %v\n%s", err, out)
	}
}

// TestStartFromCacheWhileZooKeeperDown starts the agent with its only
// ZooKeeper cut off and a cache file: it is ready at once with the cached
// list, says it is stale, and when ZooKeeper comes back it joins, registers
// and follows changes.
func TestStartFromCacheWhileZooKeeperDown(t *testing.T) {
	cluster := sharedCluster(t)
	root := testRoot(t)
	cachedName, zkName := names("ca")
	newName, _ := names("cn")
	op := operator(t, cluster.ConnectString(), root, zkName)
	sleepers(t, cachedName, 2)
	sleepers(t, zkName, 1)
	sleepers(t, newName, 3)

	proxy := zktest.NewProxy(t, cluster.ConnectString())
	proxy.Cut()

	cache := filepath.Join(t.TempDir(), "procwatch.cache")
	savedAt := time.Now().Add(-time.Hour).UTC()
	data, err := json.Marshal(map[string]any{
		"root": root, "version": 3, "saved_at": savedAt, "payload": map[string]any{"globs": []string{cachedName}},
	})
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(cache, data, 0o644); err != nil {
		t.Fatal(err)
	}

	cfg := agentConfig(t, root)
	cfg.Servers = []string{proxy.Addr()}
	cfg.CacheFile = cache
	cfg.ScanInterval = time.Hour
	a := agenttest.Start(t, cfg)
	a.WaitStatus(t, "/readyz", http.StatusOK, 5*time.Second)
	mfs, _ := a.Scrape(t)
	if age, ok := mfs.Value("procwatch_state_age_seconds"); !ok || age < 3600 {
		t.Errorf("procwatch_state_age_seconds = %v (present %v), want the cache's age, over 3600", age, ok)
	}
	a.WaitMetrics(t, time.Second,
		want{Name: "procwatch_glob_processes", Labels: []string{"glob=" + cachedName}, Value: 2},
		want{Name: "procwatch_state_stale", Value: 1},
		want{Name: "procwatch_state_version", Value: 3},
		want{Name: "procwatch_zookeeper_connected", Value: 0},
	)
	if ids := members(t, op); len(ids) != 0 {
		t.Fatalf("an agent cut off from ZooKeeper is registered: %v", ids)
	}

	proxy.Restore()
	_, info := op.DirtyRead()
	a.WaitMetrics(t, 20*time.Second,
		want{Name: "procwatch_zookeeper_connected", Value: 1},
		want{Name: "procwatch_state_stale", Value: 0},
		want{Name: "procwatch_state_version", Value: float64(info.Version)},
		want{Name: "procwatch_glob_processes", Labels: []string{"glob=" + zkName}, Value: 1},
		want{Name: "procwatch_glob_processes", Labels: []string{"glob=" + cachedName}, Absent: true},
		// [cached] became [zk]: one modification, counted at join.
		want{Name: "procwatch_state_changes_total", Labels: []string{"kind=modified"}, Value: 1},
	)
	waitMembers(t, op, 1, 10*time.Second)

	version := setGlobs(t, op, zkName, newName)
	a.WaitMetrics(t, time.Second,
		want{Name: "procwatch_glob_processes", Labels: []string{"glob=" + newName}, Value: 3},
		want{Name: "procwatch_glob_processes", Labels: []string{"glob=" + zkName}, Value: 1},
		want{Name: "procwatch_state_version", Value: float64(version)},
		want{Name: "procwatch_state_changes_total", Labels: []string{"kind=added"}, Value: 1},
	)
	c, err := agent.ReadCache(cache)
	if err != nil {
		t.Fatal(err)
	}
	if c.Version != version || !slices.Equal(c.Payload.Globs, []string{zkName, newName}) {
		t.Errorf("cache file = %+v, want version %d with [%s %s]", c, version, zkName, newName)
	}
}

// TestReadiness: without a cache file and before the payload exists, the
// agent is alive but not ready; it becomes ready when the list appears,
// and Config.OnReady runs then, once, however many lists follow.
func TestReadiness(t *testing.T) {
	cluster := sharedCluster(t)
	root := testRoot(t)
	name, _ := names("rd")
	sleepers(t, name, 1)
	// A corrupt cache file is no list: it is ignored, then replaced.
	cache := filepath.Join(t.TempDir(), "cache.json")
	if err := os.WriteFile(cache, []byte(`{"payload": {"glo`), 0o644); err != nil {
		t.Fatal(err)
	}
	cfg := agentConfig(t, root)
	cfg.CacheFile = cache
	var readyCalls atomic.Int32
	cfg.OnReady = func() { readyCalls.Add(1) }
	a := agenttest.Start(t, cfg)
	a.WaitStatus(t, "/healthz", http.StatusOK, 5*time.Second)
	a.WaitMetrics(t, 10*time.Second, want{Name: "procwatch_zookeeper_connected", Value: 1})
	if code, body := a.Get("/readyz"); code != http.StatusServiceUnavailable {
		t.Errorf("/readyz before any list = %d %q, want 503", code, body)
	}
	if n := readyCalls.Load(); n != 0 {
		t.Errorf("OnReady ran %d times before any list", n)
	}
	a.WaitMetrics(t, time.Second,
		want{Name: "procwatch_state_version", Value: -1},
		want{Name: "procwatch_state_stale", Value: 1},
		want{Name: "procwatch_state_age_seconds", Absent: true},
	)
	op := operator(t, cluster.ConnectString(), root, name)
	a.WaitStatus(t, "/readyz", http.StatusOK, 10*time.Second)
	a.WaitMetrics(t, time.Second, want{Name: "procwatch_glob_processes", Labels: []string{"glob=" + name}, Value: 1})
	if c, err := agent.ReadCache(cache); err != nil || c.Version != 0 {
		t.Errorf("cache file after the first list: %+v, %v; want version 0", c, err)
	}
	setGlobs(t, op, name, name+"-more")
	a.WaitMetrics(t, 10*time.Second, want{Name: "procwatch_glob_processes", Labels: []string{"glob=" + name + "-more"}, Value: 0})
	if n := readyCalls.Load(); n != 1 {
		t.Errorf("OnReady ran %d times after two lists, want once", n)
	}
	if code, _ := a.Get("/no-such-page"); code != http.StatusNotFound {
		t.Errorf("unknown path answered %d, want 404", code)
	}
}

// TestBadDataFromOtherWriters: globs and payloads written around procctl
// (here with a raw ZooKeeper client) never stop the agent: an invalid glob
// is skipped and counted while the others work, and an invalid payload
// keeps the last good list.
func TestBadDataFromOtherWriters(t *testing.T) {
	cluster := sharedCluster(t)
	root := testRoot(t)
	op := operator(t, cluster.ConnectString(), root)
	name, _ := names("bd")
	sleepers(t, name, 1)
	a := startReady(t, agentConfig(t, root))
	waitMembers(t, op, 1, 10*time.Second)

	conn := zktest.Connect(t, cluster.ConnectString(), 4*time.Second)
	set := func(doc string) {
		t.Helper()
		if _, err := conn.Set(root+"/payload", []byte(doc), -1); err != nil {
			t.Fatal(err)
		}
	}
	set(fmt.Sprintf(`{"globs": ["[", %q, "{a,b"]}`, name))
	a.WaitMetrics(t, time.Second,
		want{Name: "procwatch_glob_processes", Labels: []string{"glob=" + name}, Value: 1},
		want{Name: "procwatch_globs", Value: 1},
		want{Name: "procwatch_invalid_globs", Value: 2},
		want{Name: "procwatch_glob_errors_total", Value: 2},
		want{Name: "procwatch_glob_processes", Labels: []string{"glob=["}, Absent: true},
	)

	set(`{"globs": [`)
	a.WaitMetrics(t, 10*time.Second,
		want{Name: "procwatch_state_invalid_payloads_total", Value: 1},
		want{Name: "procwatch_glob_processes", Labels: []string{"glob=" + name}, Value: 1},
	)
	set(`{"globs": "not a list"}`)
	a.WaitMetrics(t, 10*time.Second,
		want{Name: "procwatch_state_invalid_payloads_total", Value: 2},
		want{Name: "procwatch_glob_processes", Labels: []string{"glob=" + name}, Value: 1},
	)
	set(fmt.Sprintf(`{"globs": [%q]}`, name))
	a.WaitMetrics(t, time.Second,
		want{Name: "procwatch_invalid_globs", Value: 0},
		want{Name: "procwatch_glob_errors_total", Value: 2},
		want{Name: "procwatch_globs", Value: 1},
	)
	// Still alive and serving.
	if code, _ := a.Get("/healthz"); code != http.StatusOK {
		t.Errorf("/healthz = %d after bad data", code)
	}
}

// TestRematchSpans records the agent's spans with the SDK's in-memory
// exporter: a change makes a procwatch.rematch span whose children are the
// monitor's SetGlobs and Scan.
func TestRematchSpans(t *testing.T) {
	cluster := sharedCluster(t)
	root := testRoot(t)
	op := operator(t, cluster.ConnectString(), root)
	name, _ := names("sp")
	sleepers(t, name, 1)
	exp := tracetest.NewInMemoryExporter()
	tp := sdktrace.NewTracerProvider(sdktrace.WithSyncer(exp))
	defer func() { _ = tp.Shutdown(context.Background()) }()

	cfg := agentConfig(t, root)
	cfg.TracerProvider = tp
	a := startReady(t, cfg)
	version := setGlobs(t, op, name, "[")
	a.WaitMetrics(t, time.Second, want{Name: "procwatch_glob_processes", Labels: []string{"glob=" + name}, Value: 1})

	spans := exp.GetSpans()
	var rematch *tracetest.SpanStub
	for i, s := range spans {
		if s.Name == agent.RematchSpan && attr(s, "procwatch.source") == agent.SourceChange {
			rematch = &spans[i]
		}
	}
	if rematch == nil {
		t.Fatalf("no %s span with source %s among %v", agent.RematchSpan, agent.SourceChange, spanNames(spans))
	}
	for k, v := range map[string]string{
		"procwatch.version":       fmt.Sprint(version),
		"procwatch.changes":       "2",
		"procwatch.globs":         "1",
		"procwatch.invalid_globs": "1",
	} {
		if got := attr(*rematch, k); got != v {
			t.Errorf("%s attribute %s = %q, want %q", agent.RematchSpan, k, got, v)
		}
	}
	setGlobsSpan := child(spans, *rematch, "monitor.SetGlobs")
	if setGlobsSpan == nil {
		t.Fatalf("no monitor.SetGlobs span under %s; spans: %v", agent.RematchSpan, spanNames(spans))
	}
	if child(spans, *setGlobsSpan, "monitor.Scan") == nil {
		t.Errorf("no monitor.Scan span under monitor.SetGlobs; spans: %v", spanNames(spans))
	}
}

func attr(s tracetest.SpanStub, key string) string {
	for _, kv := range s.Attributes {
		if string(kv.Key) == key {
			return kv.Value.Emit()
		}
	}
	return ""
}

func child(spans tracetest.SpanStubs, parent tracetest.SpanStub, name string) *tracetest.SpanStub {
	for i, s := range spans {
		if s.Name == name && s.Parent.SpanID() == parent.SpanContext.SpanID() {
			return &spans[i]
		}
	}
	return nil
}

func spanNames(spans tracetest.SpanStubs) []string {
	var out []string
	for _, s := range spans {
		out = append(out, s.Name)
	}
	return out
}

// TestLeaveRemovesListenerNode: stopping the agent removes its listener node
// at once, not after the session timeout.
func TestLeaveRemovesListenerNode(t *testing.T) {
	cluster := sharedCluster(t)
	root := testRoot(t)
	op := operator(t, cluster.ConnectString(), root)
	cfg := agentConfig(t, root)
	cfg.SessionTimeout = 10 * time.Second
	a := startReady(t, cfg)
	waitMembers(t, op, 1, 10*time.Second)
	a.Stop()
	if ids := members(t, op); len(ids) != 0 {
		t.Errorf("listener nodes left after the agent stopped: %v", ids)
	}
}

// TestStaleWhileCutOff: an agent that joined and then lost ZooKeeper keeps
// monitoring with its list and says it is stale once the staleness bound
// has passed; it is fresh again when ZooKeeper is back.
func TestStaleWhileCutOff(t *testing.T) {
	cluster := sharedCluster(t)
	root := testRoot(t)
	name, _ := names("st")
	op := operator(t, cluster.ConnectString(), root, name)
	sleepers(t, name, 1)
	proxy := zktest.NewProxy(t, cluster.ConnectString())
	cfg := agentConfig(t, root)
	cfg.Servers = []string{proxy.Addr()}
	cfg.SessionTimeout = 10 * time.Second
	a := startReady(t, agent.WithStoreOptions(cfg, zkstate.WithMaxStaleness(time.Second), zkstate.WithVerifyInterval(100*time.Millisecond)))
	waitMembers(t, op, 1, 10*time.Second)
	a.WaitMetrics(t, 5*time.Second,
		want{Name: "procwatch_state_stale", Value: 0},
		want{Name: "procwatch_glob_processes", Labels: []string{"glob=" + name}, Value: 1},
	)

	proxy.Cut()
	a.WaitMetrics(t, 10*time.Second,
		want{Name: "procwatch_zookeeper_connected", Value: 0},
		want{Name: "procwatch_state_stale", Value: 1},
		want{Name: "procwatch_glob_processes", Labels: []string{"glob=" + name}, Value: 1},
	)
	if code, _ := a.Get("/readyz"); code != http.StatusOK {
		t.Errorf("/readyz = %d while cut off with a list in force, want 200", code)
	}

	proxy.Restore()
	a.WaitMetrics(t, 20*time.Second,
		want{Name: "procwatch_zookeeper_connected", Value: 1},
		want{Name: "procwatch_state_stale", Value: 0},
	)
}

// TestWebConfigBasicAuth: --web.config.file reaches exporter-toolkit, so
// basic auth (and TLS, configured the same way) guards /metrics.
func TestWebConfigBasicAuth(t *testing.T) {
	cluster := sharedCluster(t)
	root := testRoot(t)
	operator(t, cluster.ConnectString(), root)
	hash, err := bcrypt.GenerateFromPassword([]byte("s3cret"), bcrypt.MinCost)
	if err != nil {
		t.Fatal(err)
	}
	webConfig := filepath.Join(t.TempDir(), "web.yml")
	if err := os.WriteFile(webConfig, []byte("basic_auth_users:\n  prom: "+string(hash)+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	cfg := agentConfig(t, root)
	cfg.WebConfigFile = webConfig
	a := agenttest.Start(t, cfg)
	if code, _ := a.Get("/metrics"); code != http.StatusUnauthorized {
		t.Errorf("/metrics without credentials = %d, want 401", code)
	}
	req, err := http.NewRequest(http.MethodGet, a.URL+"/metrics", nil)
	if err != nil {
		t.Fatal(err)
	}
	req.SetBasicAuth("prom", "s3cret")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		t.Errorf("/metrics with credentials = %d, want 200", resp.StatusCode)
	}
}

// TestListenFailure: a listen address that cannot be bound ends Run with an
// error (exit 1 from the command) instead of an agent nobody can scrape.
func TestListenFailure(t *testing.T) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	err = agent.Run(ctx, agent.Config{
		Servers:         []string{"127.0.0.1:1"}, // nothing listens: the agent must not wait for it
		ListenAddresses: []string{l.Addr().String()},
		ProcfsRoot:      "/proc",
	})
	if err == nil || !strings.Contains(err.Error(), "web server") || ctx.Err() != nil {
		t.Errorf("Run on a taken port: %v (ctx %v), want a web server error at once", err, ctx.Err())
	}
}

// TestWebConfigHTTPSAndBasicAuth: with a web config holding a TLS server
// certificate and basic auth users, /metrics is served over HTTPS only and
// answers 401 without credentials or with a wrong password, 200 with the
// right ones; plain HTTP on the port gets no metrics.
func TestWebConfigHTTPSAndBasicAuth(t *testing.T) {
	cluster := sharedCluster(t)
	root := testRoot(t)
	operator(t, cluster.ConnectString(), root, "sshd")
	ca := zktest.NewCA(t, "metrics-ca")
	cert := ca.Issue(t, "procwatch", "127.0.0.1", "localhost")
	hash, err := bcrypt.GenerateFromPassword([]byte("scrape-s3cret"), bcrypt.MinCost)
	if err != nil {
		t.Fatal(err)
	}
	webConfig := filepath.Join(t.TempDir(), "web.yml")
	web := fmt.Sprintf("tls_server_config:\n  cert_file: %s\n  key_file: %s\nbasic_auth_users:\n  prometheus: %s\n", cert.CertFile, cert.KeyFile, hash)
	if err := os.WriteFile(webConfig, []byte(web), 0o600); err != nil {
		t.Fatal(err)
	}
	cfg := agentConfig(t, root)
	cfg.WebConfigFile = webConfig
	a := agenttest.Start(t, cfg)
	url := "https" + strings.TrimPrefix(a.URL, "http") + "/metrics"
	client := ca.HTTPSClient(t)

	scrape := func(user, password string) (int, string) {
		t.Helper()
		req, err := http.NewRequest(http.MethodGet, url, nil)
		if err != nil {
			t.Fatal(err)
		}
		if user != "" {
			req.SetBasicAuth(user, password)
		}
		resp, err := client.Do(req)
		if err != nil {
			t.Fatalf("GET %s: %v", url, err)
		}
		defer resp.Body.Close()
		body, _ := io.ReadAll(resp.Body)
		if resp.TLS == nil {
			t.Errorf("%s answered without TLS", url)
		}
		return resp.StatusCode, string(body)
	}
	if code, _ := scrape("", ""); code != http.StatusUnauthorized {
		t.Errorf("/metrics over HTTPS without credentials = %d, want 401", code)
	}
	if code, _ := scrape("prometheus", "wrong"); code != http.StatusUnauthorized {
		t.Errorf("/metrics over HTTPS with a wrong password = %d, want 401", code)
	}
	code, body := scrape("prometheus", "scrape-s3cret")
	if code != http.StatusOK || !strings.Contains(body, "procwatch_build_info") {
		t.Errorf("/metrics over HTTPS with credentials = %d, want 200 with metrics; body:\n%.300s", code, body)
	}
	// Plain HTTP on the TLS port: Go's server answers 400, never metrics.
	if code, body := a.Get("/metrics"); code != http.StatusBadRequest || strings.Contains(body, "procwatch_") {
		t.Errorf("plain HTTP to the HTTPS port = %d %.100q, want 400 without metrics", code, body)
	}
	// A client that does not trust the certificate gets no answer at all.
	if _, err := http.Get(url); err == nil || !strings.Contains(err.Error(), "certificate") {
		t.Errorf("GET with the system's CAs = %v, want a certificate error", err)
	}
}

// TestRefusedWithoutAgentCredentials: an agent without credentials cannot
// register in a tree whose listeners/ only agents may write; it says so,
// naming the flag, and keeps trying rather than exiting.
func TestRefusedWithoutAgentCredentials(t *testing.T) {
	cluster := sharedCluster(t)
	root := testRoot(t)
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	sess, err := zkstate.Connect(ctx, []string{cluster.ConnectString()}, zkstate.WithAuth("digest", []byte("editor:pw")))
	if err != nil {
		t.Fatal(err)
	}
	defer sess.Close()
	st, err := zkstate.OpenOrCreate[watchlist.Document](ctx, sess, root,
		watchlist.Document{Globs: []string{"sshd"}}, zkstate.WithoutMembership(),
		zkstate.WithACLs(zkstate.SecureACLs(zkstate.DigestID("editor", "pw"), zkstate.DigestID("agent", "pw2"))))
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()

	a := agenttest.Start(t, agentConfig(t, root))
	want := "ZooKeeper refused this agent (an anonymous client) under " + root + ": it must be allowed to create its node under listeners/ — give the agents' credentials with --zk-auth-file; retrying"
	if line := a.Log.Expect(t, want, 15*time.Second); !strings.Contains(line, "level=ERROR") {
		t.Errorf("the refusal is not logged as an error: %s", line)
	}
}
