package e2e

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"slices"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	dto "github.com/prometheus/client_model/go"
	"github.com/prometheus/common/expfmt"
	"github.com/prometheus/common/model"
	"go.uber.org/goleak"

	"github.com/procwatch/procwatch/internal/monitor/proctest"
	"github.com/procwatch/procwatch/internal/testutil"
)

// Tools from Debian packages that `make deps` installs.
const (
	prometheusBin = "/usr/bin/prometheus"
	promtoolBin   = "/usr/bin/promtool"
	// kazoo is installed for the system Python only; a python3 earlier on
	// PATH (a virtualenv, a newer build) cannot import it.
	systemPython = "/usr/bin/python3"
)

// built holds the binaries, built once for the whole package by binaries.
var built struct {
	once     sync.Once
	dir      string
	err      error
	duration time.Duration
}

func TestMain(m *testing.M) {
	code := m.Run()
	if built.dir != "" {
		os.RemoveAll(built.dir)
	}
	if code == 0 {
		if err := goleak.Find(); err != nil {
			fmt.Fprintf(os.Stderr, "goleak: %v\n", err)
			code = 1
		}
	}
	os.Exit(code)
}

// bins are the paths of the built programs.
type bins struct{ procwatch, procctl string }

// binaries builds procwatch and procctl with the Dockerfile's own build
// command (see dockerfileBuild), once per test binary, so that every test
// here runs the programs exactly as the image ships them.
func binaries(t *testing.T) bins {
	t.Helper()
	built.once.Do(func() {
		start := time.Now()
		built.dir, built.err = os.MkdirTemp("", "procwatch-e2e-bin-")
		if built.err == nil {
			built.err = dockerfileBuild(repoRoot(t), built.dir)
		}
		built.duration = time.Since(start)
	})
	if built.err != nil {
		t.Fatalf("building the binaries as the Dockerfile does: %v", built.err)
	}
	return bins{filepath.Join(built.dir, "procwatch"), filepath.Join(built.dir, "procctl")}
}

// repoRoot is the repository's root directory: go test runs in the
// package's directory, one below.
func repoRoot(t testing.TB) string {
	t.Helper()
	root, err := filepath.Abs("..")
	if err != nil {
		t.Fatal(err)
	}
	return root
}

// repoFile is the absolute path of a file of the repository.
func repoFile(t testing.TB, rel string) string {
	t.Helper()
	return filepath.Join(repoRoot(t), filepath.FromSlash(rel))
}

// goTool returns the go command: the one on PATH, as the Makefile uses, or
// the toolchain's own.
func goTool() string {
	if p, err := exec.LookPath("go"); err == nil {
		return p
	}
	return filepath.Join(runtime.GOROOT(), "bin", "go")
}

// needTool fails the test when a program a test needs is not installed.
func needTool(t testing.TB, path, pkg string) {
	t.Helper()
	if _, err := os.Stat(path); err != nil {
		t.Fatalf("%s is missing: run `make deps` (apt-get install %s)", path, pkg)
	}
}

// proc is a program a test started. It is stopped when the test ends, and
// its output is shown if the test failed.
type proc struct {
	name string
	cmd  *exec.Cmd
	out  *testutil.Buffer
	done chan struct{} // closed once the process has exited and been reaped
	err  error         // Wait's result; read only after done is closed
}

// startProc starts argv and registers its stop with t.Cleanup.
//
// The child must not outlive the test binary, however that ends (a panic, a
// -timeout, a SIGKILL from CI): Pdeathsig asks the kernel to kill it when
// its parent dies. The kernel means the parent thread, so the child is forked
// from a goroutine locked to its thread for as long as the child runs, as
// internal/zktest does, and no thread exit can kill it early. Setpgid keeps
// a Ctrl-C at the terminal from reaching it directly: the test's cleanups
// stop it in order instead.
func startProc(t *testing.T, name string, argv []string, env ...string) *proc {
	t.Helper()
	p := &proc{name: name, out: &testutil.Buffer{}, done: make(chan struct{})}
	started := make(chan error, 1)
	go func() {
		runtime.LockOSThread() // never unlocked: the thread retires with the child
		cmd := exec.Command(argv[0], argv[1:]...)
		cmd.Env = append(os.Environ(), env...)
		cmd.Stdout = p.out
		cmd.Stderr = p.out
		cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true, Pdeathsig: syscall.SIGKILL}
		if err := cmd.Start(); err != nil {
			started <- err
			return
		}
		p.cmd = cmd
		started <- nil
		p.err = cmd.Wait()
		close(p.done)
	}()
	if err := <-started; err != nil {
		t.Fatalf("starting %s: %v", name, err)
	}
	t.Cleanup(func() {
		p.stop(10 * time.Second)
		if t.Failed() {
			t.Logf("output of %s (pid %d):\n%s", name, p.pid(), p.tail(40))
		}
	})
	return p
}

func (p *proc) pid() int { return p.cmd.Process.Pid }

// exited reports whether the process has ended.
func (p *proc) exited() bool {
	select {
	case <-p.done:
		return true
	default:
		return false
	}
}

// stop sends SIGTERM, and SIGKILL if the process still runs after timeout,
// and returns once it has been reaped.
func (p *proc) stop(timeout time.Duration) {
	if p.exited() {
		return
	}
	_ = p.cmd.Process.Signal(syscall.SIGTERM)
	select {
	case <-p.done:
	case <-time.After(timeout):
		_ = p.cmd.Process.Kill()
		<-p.done
	}
}

// tail returns the last n lines of the process's output.
func (p *proc) tail(n int) string {
	lines := strings.Split(strings.TrimRight(p.out.String(), "\n"), "\n")
	if len(lines) > n {
		lines = lines[len(lines)-n:]
	}
	return strings.Join(lines, "\n")
}

// freeAddr returns a loopback address no one listens on. Another process
// could take the port before the caller binds it; the programs started on it
// then exit at once, which the waits below report with their output.
func freeAddr(t testing.TB) string {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	return l.Addr().String()
}

// eventually is testutil.EventuallySaying that also fails as soon as one
// of the processes in watch has exited: the condition can then never be
// met, and its output says why.
func eventually(t testing.TB, timeout time.Duration, what string, cond func() (bool, string), watch ...*proc) {
	t.Helper()
	stops := make([]func() (bool, string), len(watch))
	for i, p := range watch {
		stops[i] = func() (bool, string) {
			if !p.exited() {
				return false, ""
			}
			return true, fmt.Sprintf("%s exited (%v); its output ends:\n%s\n", p.name, p.err, p.tail(20))
		}
	}
	testutil.EventuallySaying(t, timeout, what, cond, stops...)
}

// httpClient bounds every request of the tests.
var httpClient = &http.Client{Timeout: 5 * time.Second}

// httpGet returns the status and body of a GET.
func httpGet(rawURL string) (int, []byte, error) {
	resp, err := httpClient.Get(rawURL)
	if err != nil {
		return 0, nil, err
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	return resp.StatusCode, body, err
}

// sleeper starts a copy of sleep named name, so that the agents can match it
// by a name no other process on the machine has, and waits until it has
// settled (see proctest.Settle).
func sleeper(t *testing.T, name string) *proc {
	t.Helper()
	p := startProc(t, name, []string{proctest.Sleeper(t, name), "infinity"})
	proctest.Settle(t, p.cmd)
	return p
}

// agent is a procwatch process serving on its own loopback port.
type agent struct {
	addr string
	proc *proc
}

// startAgent starts procwatch against zk, with the flags given after the
// common ones, and waits until it is ready (a watch list loaded).
func startAgent(t *testing.T, b bins, name, zk, root string, flags ...string) *agent {
	t.Helper()
	addr := freeAddr(t)
	p := startProc(t, name, append([]string{b.procwatch, "--zk", zk, "--path", root,
		"--web.listen-address", addr, "--log.level", "debug"}, flags...))
	a := &agent{addr: addr, proc: p}
	eventually(t, 20*time.Second, name+" to be ready", func() (bool, string) {
		code, body, err := httpGet("http://" + addr + "/readyz")
		if err != nil {
			return false, err.Error()
		}
		return code == http.StatusOK, fmt.Sprintf("/readyz %d %s", code, bytes.TrimSpace(body))
	}, p)
	return a
}

// scrape returns the agent's metric families.
func (a *agent) scrape() (map[string]*dto.MetricFamily, error) {
	code, body, err := httpGet("http://" + a.addr + "/metrics")
	if err != nil {
		return nil, err
	}
	if code != http.StatusOK {
		return nil, fmt.Errorf("/metrics: status %d", code)
	}
	parser := expfmt.NewTextParser(model.UTF8Validation)
	return parser.TextToMetricFamilies(bytes.NewReader(body))
}

// runProcctl runs procctl against zk and returns its standard output,
// failing the test if it does not exit 0.
func runProcctl(t *testing.T, b bins, zk string, args ...string) string {
	t.Helper()
	r := procctl(t, b, zk, args...)
	if r.code != 0 {
		t.Fatalf("procctl %s: exit %d\nstdout: %s\nstderr: %s", strings.Join(args, " "), r.code, r.stdout, r.stderr)
	}
	return r.stdout
}

// procctlResult is how one procctl run ended.
type procctlResult struct {
	code           int
	stdout, stderr string
}

// procctl runs procctl against zk, whatever its exit code, within 60 s.
func procctl(t *testing.T, b bins, zk string, args ...string) procctlResult {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	cmd := exec.CommandContext(ctx, b.procctl, append([]string{"--zk", zk}, args...)...)
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	err := cmd.Run()
	var exit *exec.ExitError
	if err != nil && !errors.As(err, &exit) {
		t.Fatalf("procctl %s: %v", strings.Join(args, " "), err)
	}
	return procctlResult{code: cmd.ProcessState.ExitCode(), stdout: stdout.String(), stderr: stderr.String()}
}

// kazooSet writes data to the znode path with kazoo, a ZooKeeper client
// that shares no code with procwatch, and returns the node's new version.
func kazooSet(t *testing.T, zk, path string, data []byte) int32 {
	t.Helper()
	needTool(t, systemPython, "python3")
	const script = `
import sys
try:
    from kazoo.client import KazooClient
except ImportError:
    sys.exit("python3-kazoo is missing: run ` + "`make deps`" + `")
zk = KazooClient(hosts=sys.argv[1])
zk.start(timeout=15)
try:
    stat = zk.set(sys.argv[2], sys.stdin.buffer.read())
    print(stat.version)
finally:
    zk.stop()
    zk.close()
`
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	cmd := exec.CommandContext(ctx, systemPython, "-c", script, zk, path)
	cmd.Stdin = bytes.NewReader(data)
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	if err := cmd.Run(); err != nil {
		t.Fatalf("kazoo set %s: %v\n%s", path, err, stderr.String())
	}
	var version int32
	if _, err := fmt.Sscan(stdout.String(), &version); err != nil {
		t.Fatalf("kazoo set %s printed %q, not a version", path, stdout.String())
	}
	return version
}

// prometheus is a Prometheus server started by startPrometheus.
type prometheus struct {
	url  string
	proc *proc
}

// startPrometheus starts Debian's Prometheus scraping targets every second
// (job "procwatch"), evaluating ruleFiles every second, with its storage in
// a temporary directory, and waits until it is ready.
func startPrometheus(t *testing.T, targets []string, ruleFiles []string) *prometheus {
	t.Helper()
	needTool(t, prometheusBin, "prometheus")
	dir := t.TempDir()
	cfg := map[string]any{
		"global":     map[string]any{"scrape_interval": "1s", "scrape_timeout": "1s", "evaluation_interval": "1s"},
		"rule_files": ruleFiles,
		"scrape_configs": []any{map[string]any{
			"job_name":       "procwatch",
			"static_configs": []any{map[string]any{"targets": targets}},
		}},
	}
	// JSON is YAML, and needs no YAML encoder.
	data, err := json.MarshalIndent(cfg, "", "  ")
	if err != nil {
		t.Fatal(err)
	}
	cfgFile := filepath.Join(dir, "prometheus.yml")
	if err := os.WriteFile(cfgFile, data, 0o644); err != nil {
		t.Fatal(err)
	}
	addr := freeAddr(t)
	p := startProc(t, "prometheus", []string{prometheusBin,
		"--config.file=" + cfgFile,
		"--storage.tsdb.path=" + filepath.Join(dir, "data"),
		"--web.listen-address=" + addr,
		"--log.level=warn",
	})
	prom := &prometheus{url: "http://" + addr, proc: p}
	eventually(t, 60*time.Second, "Prometheus to be ready", func() (bool, string) {
		code, body, err := httpGet(prom.url + "/-/ready")
		if err != nil {
			return false, err.Error()
		}
		return code == http.StatusOK, fmt.Sprintf("/-/ready %d %s", code, bytes.TrimSpace(body))
	}, p)
	return prom
}

// sample is one series of an instant query's result.
type sample struct {
	Metric map[string]string `json:"metric"`
	Value  [2]any            `json:"value"`
}

// value is the sample's value as Prometheus formats it ("1", "0.5", "NaN").
func (s sample) value() string {
	v, _ := s.Value[1].(string)
	return v
}

// query runs an instant query and returns its vector.
func (p *prometheus) query(expr string) ([]sample, error) {
	code, body, err := httpGet(p.url + "/api/v1/query?query=" + url.QueryEscape(expr))
	if err != nil {
		return nil, err
	}
	var resp struct {
		Status string `json:"status"`
		Error  string `json:"error"`
		Data   struct {
			ResultType string   `json:"resultType"`
			Result     []sample `json:"result"`
		} `json:"data"`
	}
	if err := json.Unmarshal(body, &resp); err != nil {
		return nil, fmt.Errorf("query %s: status %d: %w", expr, code, err)
	}
	if resp.Status != "success" {
		return nil, fmt.Errorf("query %s: %s", expr, resp.Error)
	}
	if resp.Data.ResultType != "vector" {
		return nil, fmt.Errorf("query %s: a %s, not a vector", expr, resp.Data.ResultType)
	}
	return resp.Data.Result, nil
}

// alert is one alert of /api/v1/alerts.
type alert struct {
	Labels map[string]string `json:"labels"`
	State  string            `json:"state"`
}

// alerts returns the pending and firing alerts.
func (p *prometheus) alerts() ([]alert, error) {
	_, body, err := httpGet(p.url + "/api/v1/alerts")
	if err != nil {
		return nil, err
	}
	var resp struct {
		Status string `json:"status"`
		Data   struct {
			Alerts []alert `json:"alerts"`
		} `json:"data"`
	}
	if err := json.Unmarshal(body, &resp); err != nil {
		return nil, err
	}
	if resp.Status != "success" {
		return nil, errors.New("alerts: status " + resp.Status)
	}
	return resp.Data.Alerts, nil
}

// byInstance maps each sample's instance label to its value, for comparing
// what every agent reports.
func byInstance(samples []sample) map[string]string {
	m := make(map[string]string, len(samples))
	for _, s := range samples {
		m[s.Metric["instance"]] = s.value()
	}
	return m
}

// sameForAll returns the map "every address in addrs has value v", for
// comparing with byInstance.
func sameForAll(addrs []string, v string) map[string]string {
	m := make(map[string]string, len(addrs))
	for _, a := range addrs {
		m[a] = v
	}
	return m
}

// sortedKeys returns m's keys in order, for stable messages.
func sortedKeys[V any](m map[string]V) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	return keys
}
