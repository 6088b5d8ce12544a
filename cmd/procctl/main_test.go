package main

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/go-zookeeper/zk"
	"go.uber.org/goleak"

	"github.com/procwatch/procwatch/internal/testutil"
	"github.com/procwatch/procwatch/internal/zktest"
)

func TestMain(m *testing.M) {
	code := m.Run()
	if binDir != "" {
		os.RemoveAll(binDir)
	}
	// goleak after the run: every in-process command must have closed its
	// session and stopped its goroutines.
	if code == 0 {
		if err := goleak.Find(); err != nil {
			fmt.Fprintf(os.Stderr, "goleak: %v\n", err)
			code = 1
		}
	}
	os.Exit(code)
}

// result is what one procctl invocation did.
type result struct {
	code           int
	stdout, stderr string
}

func (r result) String() string {
	return fmt.Sprintf("exit %d\nstdout:\n%s\nstderr:\n%s", r.code, r.stdout, r.stderr)
}

// envMap is a hermetic environment: commands see only what the test sets.
type envMap map[string]string

func (e envMap) lookup(k string) (string, bool) {
	v, ok := e[k]
	return v, ok
}

// execute runs procctl in-process through the cobra root, exactly as main
// does, and returns the exit code report maps.
func execute(ctx context.Context, env envMap, stdin string, stdout, stderr *syncBuffer, args ...string) int {
	root := newRootCmd(strings.NewReader(stdin), stdout, stderr, env.lookup)
	root.SetArgs(args)
	err := root.ExecuteContext(ctx)
	return report(err, stderr)
}

// run is execute with a 60 s safety bound, for commands that end by
// themselves.
func run(t *testing.T, env envMap, args ...string) result {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	var stdout, stderr syncBuffer
	code := execute(ctx, env, "", &stdout, &stderr, args...)
	return result{code: code, stdout: stdout.String(), stderr: stderr.String()}
}

// mustRun runs a command that must succeed.
func mustRun(t *testing.T, env envMap, args ...string) result {
	t.Helper()
	r := run(t, env, args...)
	if r.code != 0 {
		t.Fatalf("procctl %s: %s", strings.Join(args, " "), r)
	}
	return r
}

// fixture is a real ZooKeeper server and a raw client standing for "some
// other ZooKeeper client" (zkCli.sh, kazoo).
type fixture struct {
	t       *testing.T
	servers string
	cluster *zktest.Cluster
	raw     *zk.Conn
}

func newFixture(t *testing.T) *fixture {
	t.Helper()
	c := zktest.Start(t, 1)
	return &fixture{t: t, servers: c.ConnectString(), cluster: c, raw: zktest.Connect(t, c.ConnectString(), 10*time.Second)}
}

// env points procctl at this server and root through the environment.
func (f *fixture) env(root string) envMap {
	return envMap{envZK: f.servers, envPath: root}
}

// payload reads the payload node with the raw client.
func (f *fixture) payload(root string) ([]byte, int32) {
	f.t.Helper()
	data, st, err := f.raw.Get(root + "/payload")
	if err != nil {
		f.t.Fatalf("raw get %s/payload: %v", root, err)
	}
	return data, st.Version
}

// setPayload writes the payload with the raw client, bypassing zkstate's
// lock, as any other ZooKeeper client may.
func (f *fixture) setPayload(root, doc string) int32 {
	f.t.Helper()
	st, err := f.raw.Set(root+"/payload", []byte(doc), -1)
	if err != nil {
		f.t.Fatalf("raw set %s/payload: %v", root, err)
	}
	return st.Version
}

// syncBuffer is testutil's buffer under the name and lower-case expect the
// procctl tests use.
type syncBuffer struct{ testutil.Buffer }

func (b *syncBuffer) expect(t *testing.T, want string, timeout time.Duration) string {
	t.Helper()
	return b.Expect(t, want, timeout)
}

var (
	buildOnce sync.Once
	binDir    string
	binPath   string
	buildErr  error
)

// procctlBinary builds the command once per test run, into a temporary
// directory TestMain removes.
func procctlBinary(t *testing.T) string {
	t.Helper()
	buildOnce.Do(func() {
		binDir, buildErr = os.MkdirTemp("", "procctl-test-")
		if buildErr != nil {
			return
		}
		binPath = filepath.Join(binDir, "procctl")
		out, err := exec.Command("go", "build", "-o", binPath, ".").CombinedOutput()
		if err != nil {
			buildErr = fmt.Errorf("go build: %v\n%s", err, out)
		}
	})
	if buildErr != nil {
		t.Fatal(buildErr)
	}
	return binPath
}

// binaryEnv is the test process's environment without PROCWATCH_*, plus env.
func binaryEnv(env envMap) []string {
	var out []string
	for _, kv := range os.Environ() {
		if !strings.HasPrefix(kv, "PROCWATCH_") && !strings.HasPrefix(kv, "EDITOR=") {
			out = append(out, kv)
		}
	}
	for k, v := range env {
		out = append(out, k+"="+v)
	}
	return out
}

// runBinary runs the built procctl as a separate process.
func runBinary(t *testing.T, env envMap, args ...string) result {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	cmd := exec.CommandContext(ctx, procctlBinary(t), args...)
	cmd.Env = binaryEnv(env)
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	err := cmd.Run()
	code := 0
	if err != nil {
		var ee *exec.ExitError
		if !errors.As(err, &ee) {
			t.Fatalf("running procctl %v: %v", args, err)
		}
		code = ee.ExitCode()
	}
	return result{code: code, stdout: stdout.String(), stderr: stderr.String()}
}
