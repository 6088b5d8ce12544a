// Package agenttest runs the real agent in a test's process, as
// cmd/procwatch wires it, and reads its /metrics: the one launcher the
// agent's own tests, procctl's and the chaos suite share.
package agenttest

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"strings"
	"testing"
	"time"

	dto "github.com/prometheus/client_model/go"
	"github.com/prometheus/common/expfmt"
	"github.com/prometheus/common/model"

	"github.com/procwatch/procwatch/internal/agent"
	"github.com/procwatch/procwatch/internal/testutil"
)

// Agent is an agent running in the test's process until the test ends or
// Stop is called.
type Agent struct {
	// URL is the agent's HTTP address, "http://127.0.0.1:PORT".
	URL string
	// Log holds the agent's log (debug level), to wait on lines; it is
	// shown when the test fails.
	Log *testutil.Buffer

	t       testing.TB
	cancel  context.CancelFunc
	done    chan error
	stopped bool
}

// Start runs agent.Run with cfg on a loopback port of its own. cfg's
// Listener and, when nil, Logger are set here.
func Start(t testing.TB, cfg agent.Config) *Agent {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	a := &Agent{URL: "http://" + l.Addr().String(), Log: &testutil.Buffer{}, t: t, done: make(chan error, 1)}
	cfg.Listener = l
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.NewTextHandler(a.Log, &slog.HandlerOptions{Level: slog.LevelDebug}))
	}
	ctx, cancel := context.WithCancel(context.Background())
	a.cancel = cancel
	go func() { a.done <- agent.Run(ctx, cfg) }()
	t.Cleanup(a.Stop)
	return a
}

// Stop cancels the agent and waits for Run to return; the test fails if Run
// failed or did not return within 30 s. Calling it again does nothing.
func (a *Agent) Stop() {
	if a.stopped {
		return
	}
	a.stopped = true
	a.cancel()
	select {
	case err := <-a.done:
		if err != nil {
			a.t.Errorf("agent.Run: %v", err)
		}
	case <-time.After(30 * time.Second):
		a.t.Error("agent.Run did not return within 30 s of cancel")
	}
	if a.t.Failed() {
		a.t.Logf("agent log:\n%s", a.Log.String())
	}
}

// client bounds every request of the tests.
var client = &http.Client{Timeout: 5 * time.Second}

// Get returns the status and body of a GET of path; status 0 and the error
// as body when the agent does not answer.
func (a *Agent) Get(path string) (int, string) {
	resp, err := client.Get(a.URL + path)
	if err != nil {
		return 0, err.Error()
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		return 0, err.Error()
	}
	return resp.StatusCode, string(body)
}

// Scrape reads and parses /metrics, failing the test when it cannot.
func (a *Agent) Scrape(t testing.TB) (Metrics, string) {
	t.Helper()
	code, body := a.Get("/metrics")
	if code != http.StatusOK {
		t.Fatalf("/metrics: %d %s", code, body)
	}
	mfs, err := Parse(body)
	if err != nil {
		t.Fatalf("parse /metrics: %v\n%s", err, body)
	}
	return mfs, body
}

// WaitStatus polls path until it answers code.
func (a *Agent) WaitStatus(t testing.TB, path string, code int, within time.Duration) {
	t.Helper()
	testutil.EventuallySaying(t, within, fmt.Sprintf("%s to answer %d", path, code), func() (bool, string) {
		got, body := a.Get(path)
		return got == code, fmt.Sprintf("%d %q", got, body)
	})
}

// Metrics are the families of one scrape, by name.
type Metrics map[string]*dto.MetricFamily

// Parse parses the text exposition format.
func Parse(body string) (Metrics, error) {
	p := expfmt.NewTextParser(model.UTF8Validation)
	return p.TextToMetricFamilies(strings.NewReader(body))
}

// Value finds the sample of name whose labels include labels ("k=v"
// pairs); ok is false when there is none.
func (m Metrics) Value(name string, labels ...string) (float64, bool) {
	mf := m[name]
	if mf == nil {
		return 0, false
	}
next:
	for _, s := range mf.GetMetric() {
		have := map[string]string{}
		for _, lp := range s.GetLabel() {
			have[lp.GetName()] = lp.GetValue()
		}
		for _, l := range labels {
			k, v, _ := strings.Cut(l, "=")
			if have[k] != v {
				continue next
			}
		}
		switch {
		case s.Gauge != nil:
			return s.GetGauge().GetValue(), true
		case s.Counter != nil:
			return s.GetCounter().GetValue(), true
		case s.Untyped != nil:
			return s.GetUntyped().GetValue(), true
		}
	}
	return 0, false
}

// Want is one expected sample; Absent means the series must not exist, and
// AtLeast takes Value as a minimum, for a counter that may go on rising
// (a failure retried while the test waits).
type Want struct {
	Name    string
	Labels  []string
	Value   float64
	AtLeast bool
	Absent  bool
}

// String says what is wanted, for failure messages.
func (w Want) String() string {
	switch {
	case w.Absent:
		return fmt.Sprintf("%s%v absent", w.Name, w.Labels)
	case w.AtLeast:
		return fmt.Sprintf("%s%v >= %g", w.Name, w.Labels, w.Value)
	}
	return fmt.Sprintf("%s%v = %g", w.Name, w.Labels, w.Value)
}

// holds reports whether a sample of value v, present or not, is what w
// wants.
func (w Want) holds(v float64, present bool) bool {
	switch {
	case w.Absent || !present:
		return w.Absent && !present
	case w.AtLeast:
		return v >= w.Value
	}
	return v == w.Value
}

// WaitMetrics scrapes until every expectation holds and returns how long
// that took; it fails the test after within, saying what was last seen.
func (a *Agent) WaitMetrics(t testing.TB, within time.Duration, wants ...Want) time.Duration {
	t.Helper()
	start := time.Now()
	testutil.EventuallySaying(t, within, "the metrics", func() (bool, string) {
		mfs, _ := a.Scrape(t)
		var off []string
		for _, w := range wants {
			v, ok := mfs.Value(w.Name, w.Labels...)
			if !w.holds(v, ok) {
				off = append(off, fmt.Sprintf("want %v, have %g (present %v)", w, v, ok))
			}
		}
		return len(off) == 0, "\n" + strings.Join(off, "\n")
	})
	return time.Since(start)
}
