package agent

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	dto "github.com/prometheus/client_model/go"
	"github.com/prometheus/common/expfmt"
	"github.com/prometheus/common/model"

	"github.com/procwatch/procwatch/internal/watchlist"
	"github.com/procwatch/procwatch/internal/zkstate"
)

// runningAgent is an agent started by startAgent, wired as cmd/procwatch
// wires it.
type runningAgent struct {
	url  string
	stop func() // cancels Run and waits for it; the test fails if Run failed
}

// startAgent runs the agent on a loopback port of its own until the test
// ends (or stop is called).
func startAgent(t *testing.T, cfg Config) *runningAgent {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	cfg.Listener = l
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.NewTextHandler(testWriter{t}, &slog.HandlerOptions{Level: slog.LevelDebug}))
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- Run(ctx, cfg) }()
	stopped := false
	stop := func() {
		if stopped {
			return
		}
		stopped = true
		cancel()
		select {
		case err := <-done:
			if err != nil {
				t.Errorf("Run: %v", err)
			}
		case <-time.After(30 * time.Second):
			t.Error("Run did not return within 30 s of cancel")
		}
	}
	t.Cleanup(stop)
	return &runningAgent{url: "http://" + l.Addr().String(), stop: stop}
}

// testWriter sends log lines to t.Log, so they show only for failures and
// -v. Lines written after the test ended are dropped rather than
// panicking the logger's writer.
type testWriter struct{ t *testing.T }

func (w testWriter) Write(p []byte) (int, error) {
	defer func() { _ = recover() }()
	w.t.Log(strings.TrimRight(string(p), "\n"))
	return len(p), nil
}

// get returns the status and body of a GET.
func get(t *testing.T, url string) (int, string) {
	t.Helper()
	resp, err := http.Get(url)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	return resp.StatusCode, string(body)
}

// scrape parses /metrics.
func (a *runningAgent) scrape(t *testing.T) (map[string]*dto.MetricFamily, string) {
	t.Helper()
	code, body := get(t, a.url+"/metrics")
	if code != http.StatusOK {
		t.Fatalf("/metrics: %d %s", code, body)
	}
	p := expfmt.NewTextParser(model.UTF8Validation)
	mfs, err := p.TextToMetricFamilies(strings.NewReader(body))
	if err != nil {
		t.Fatalf("parse /metrics: %v\n%s", err, body)
	}
	return mfs, body
}

// value finds the sample of name whose labels include labels ("k=v"
// pairs); ok is false when there is none.
func value(mfs map[string]*dto.MetricFamily, name string, labels ...string) (float64, bool) {
	mf := mfs[name]
	if mf == nil {
		return 0, false
	}
next:
	for _, m := range mf.GetMetric() {
		have := map[string]string{}
		for _, lp := range m.GetLabel() {
			have[lp.GetName()] = lp.GetValue()
		}
		for _, l := range labels {
			k, v, _ := strings.Cut(l, "=")
			if have[k] != v {
				continue next
			}
		}
		switch {
		case m.Gauge != nil:
			return m.GetGauge().GetValue(), true
		case m.Counter != nil:
			return m.GetCounter().GetValue(), true
		case m.Untyped != nil:
			return m.GetUntyped().GetValue(), true
		}
	}
	return 0, false
}

// want is one expected sample; absent means the series must not exist.
type want struct {
	name   string
	labels []string
	value  float64
	absent bool
}

func (w want) String() string {
	if w.absent {
		return fmt.Sprintf("%s%v absent", w.name, w.labels)
	}
	return fmt.Sprintf("%s%v = %g", w.name, w.labels, w.value)
}

// waitMetrics scrapes until every expectation holds, and returns how long
// that took. It fails the test after timeout, saying what was last seen.
func (a *runningAgent) waitMetrics(t *testing.T, timeout time.Duration, wants ...want) time.Duration {
	t.Helper()
	start := time.Now()
	var last []string
	for {
		mfs, _ := a.scrape(t)
		last = last[:0]
		for _, w := range wants {
			v, ok := value(mfs, w.name, w.labels...)
			if w.absent != !ok || (ok && v != w.value) {
				last = append(last, fmt.Sprintf("want %v, have %g (present %v)", w, v, ok))
			}
		}
		if len(last) == 0 {
			return time.Since(start)
		}
		if time.Since(start) > timeout {
			t.Fatalf("after %s:\n%s", timeout, strings.Join(last, "\n"))
		}
		time.Sleep(5 * time.Millisecond) // scrape poll interval, not a wait for a condition
	}
}

// waitStatus polls path until it answers code.
func (a *runningAgent) waitStatus(t *testing.T, path string, code int, timeout time.Duration) {
	t.Helper()
	deadline := time.Now().Add(timeout)
	for {
		got, body := get(t, a.url+path)
		if got == code {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("%s answered %d %q for %s, want %d", path, got, body, timeout, code)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

var roots atomic.Int64

// testRoot returns a root no other test (or earlier run of this test, with
// -count, against the shared server) has used.
func testRoot(t *testing.T) string {
	name := strings.Map(func(r rune) rune {
		if r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' {
			return r
		}
		return '-'
	}, t.Name())
	return fmt.Sprintf("/%s-%d", name, roots.Add(1))
}

// operator opens the watch list as procctl does, creating it with globs.
func operator(t *testing.T, servers, root string, globs ...string) *zkstate.Store[watchlist.Document] {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 15*time.Second)
	defer cancel()
	sess, err := zkstate.Connect(ctx, strings.Split(servers, ","))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(sess.Close)
	if globs == nil {
		globs = []string{}
	}
	st, err := zkstate.Open[watchlist.Document](ctx, sess, root,
		zkstate.WithCreate(watchlist.Document{Globs: globs}), zkstate.WithoutMembership())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = st.Close() })
	return st
}

// setGlobs replaces the list through zkstate and returns the new version.
func setGlobs(t *testing.T, st *zkstate.Store[watchlist.Document], globs ...string) int32 {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 15*time.Second)
	defer cancel()
	v, err := st.Update(ctx, func(w *watchlist.Document) error {
		w.Globs = append([]string{}, globs...)
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return v
}

// members lists the ids of the live procwatch instances.
func members(t *testing.T, st *zkstate.Store[watchlist.Document]) []string {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	ms, err := st.Members(ctx)
	if err != nil {
		t.Fatal(err)
	}
	var ids []string
	for _, m := range ms {
		if m.Program == "procwatch" {
			ids = append(ids, m.ID)
		}
	}
	sort.Strings(ids)
	return ids
}

// waitMembers waits until the listeners registry holds n procwatch agents.
func waitMembers(t *testing.T, st *zkstate.Store[watchlist.Document], n int, timeout time.Duration) []string {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), timeout)
	defer cancel()
	var last []zkstate.Member
	for ms := range st.WatchMembers(ctx) {
		last = ms
		var ids []string
		for _, m := range ms {
			if m.Program == "procwatch" {
				ids = append(ids, m.ID)
			}
		}
		if len(ids) == n {
			return ids
		}
	}
	t.Fatalf("listeners: want %d procwatch members within %s, last saw %+v", n, timeout, last)
	return nil
}

// sleeper is a copy of sleep under a distinctive name, so that the test's
// globs match its processes and nothing else on the host.
type sleeper struct {
	path string
}

func newSleeper(t *testing.T, name string) sleeper {
	t.Helper()
	src := "/bin/sleep"
	if _, err := os.Stat(src); err != nil {
		src = "/usr/bin/sleep"
	}
	data, err := os.ReadFile(src)
	if err != nil {
		t.Fatalf("reading sleep to copy: %v", err)
	}
	path := filepath.Join(t.TempDir(), name)
	if err := os.WriteFile(path, data, 0o755); err != nil {
		t.Fatal(err)
	}
	return sleeper{path: path}
}

// start starts n processes of the sleeper; the returned func kills them
// and reaps them (a zombie still shows in /proc), as does the test's end.
func (s sleeper) start(t *testing.T, n int) (kill func()) {
	t.Helper()
	var cmds []*exec.Cmd
	for range n {
		cmd := exec.Command(s.path, "300")
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		cmds = append(cmds, cmd)
	}
	killed := false
	kill = func() {
		if killed {
			return
		}
		killed = true
		for _, c := range cmds {
			_ = c.Process.Kill()
		}
		for _, c := range cmds {
			_ = c.Wait()
		}
	}
	t.Cleanup(kill)
	return kill
}
