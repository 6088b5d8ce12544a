package agent_test

import (
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"regexp"
	"strings"
	"testing"
	"time"

	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	"go.opentelemetry.io/otel/sdk/trace/tracetest"

	"github.com/procwatch/procwatch/internal/agent"
	"github.com/procwatch/procwatch/internal/telemetry/otlptest"
	"github.com/procwatch/procwatch/internal/testutil"
)

// otelEnv empties the OTEL_* variables the agent or its exporters read,
// so that the host's environment cannot steer a test, then sets env. The
// agent's tests do not run in parallel: the exporters read the process
// environment.
func otelEnv(t *testing.T, env map[string]string) {
	for _, k := range []string{
		"OTEL_SDK_DISABLED", "OTEL_SERVICE_NAME", "OTEL_RESOURCE_ATTRIBUTES",
		"OTEL_TRACES_EXPORTER", "OTEL_METRICS_EXPORTER",
		"OTEL_EXPORTER_OTLP_ENDPOINT", "OTEL_EXPORTER_OTLP_PROTOCOL", "OTEL_EXPORTER_OTLP_TIMEOUT",
		"OTEL_EXPORTER_OTLP_TRACES_ENDPOINT", "OTEL_EXPORTER_OTLP_TRACES_PROTOCOL",
		"OTEL_EXPORTER_OTLP_METRICS_ENDPOINT", "OTEL_EXPORTER_OTLP_METRICS_PROTOCOL", "OTEL_EXPORTER_OTLP_METRICS_TIMEOUT",
		"OTEL_METRIC_EXPORT_INTERVAL", "OTEL_METRIC_EXPORT_TIMEOUT",
	} {
		t.Setenv(k, "")
	}
	for k, v := range env {
		t.Setenv(k, v)
	}
}

// TestMetricsOverOTLP: with OTEL_METRICS_EXPORTER=otlp the agent pushes
// what /metrics serves to a collector, over each protocol: a glob added
// live shows its processes there, and 0 once they end, on a resource
// naming the agent's host and labels; /metrics keeps working beside it.
func TestMetricsOverOTLP(t *testing.T) {
	cluster := sharedCluster(t)
	for _, newReceiver := range []func(testing.TB) *otlptest.Receiver{otlptest.NewHTTP, otlptest.NewGRPC} {
		recv := newReceiver(t)
		t.Run(recv.Protocol, func(t *testing.T) {
			root := testRoot(t)
			op := operator(t, cluster.ConnectString(), root)
			name, _ := names("ot")
			kill := sleepers(t, name, 2)
			env := recv.Env()
			env["OTEL_METRICS_EXPORTER"] = "otlp"
			env["OTEL_METRIC_EXPORT_INTERVAL"] = "200"
			otelEnv(t, env)

			cfg := agentConfig(t, root)
			cfg.Hostname = fmt.Sprintf("otlp-host-%d", os.Getpid())
			cfg.Labels = map[string]string{"role": "db", "zone": "eu-1"}
			cfg.Version = "9.8.7"
			a := startReady(t, cfg)
			setGlobs(t, op, name)

			glob := "glob=" + name
			req := recv.Wait(t, 20*time.Second, "procwatch_glob_processes{"+glob+"} 2", func(r *otlptest.Request) bool {
				v, ok := otlptest.Value(r, "procwatch_glob_processes", glob)
				return ok && v == 2
			})
			attrs := otlptest.ResourceAttrs(req)
			for k, want := range map[string]string{
				"host.name": cfg.Hostname, "procwatch.label.role": "db", "procwatch.label.zone": "eu-1",
				"service.name": "procwatch", "service.version": "9.8.7",
			} {
				if attrs[k] != want {
					t.Errorf("resource attribute %s = %q, want %q (all: %v)", k, attrs[k], want, attrs)
				}
			}
			if v, ok := otlptest.Value(req, "procwatch_globs"); !ok || v != 1 {
				t.Errorf("procwatch_globs pushed = %g (present %v), want 1", v, ok)
			}

			kill()
			recv.Wait(t, 20*time.Second, "procwatch_glob_processes{"+glob+"} 0", func(r *otlptest.Request) bool {
				v, ok := otlptest.Value(r, "procwatch_glob_processes", glob)
				return ok && v == 0
			})
			a.WaitMetrics(t, 5*time.Second,
				want{Name: "procwatch_glob_processes", Labels: []string{glob}, Value: 0})
			mfs, _ := a.Scrape(t)
			if v, _ := mfs.Value("procwatch_otlp_metric_exports_total", "result=ok"); v < 1 {
				t.Errorf("procwatch_otlp_metric_exports_total{result=ok} = %g on /metrics, want at least 1", v)
			}
		})
	}
}

// TestOTLPCollectorAwayBlocksNothing: a collector that accepts the
// connection and never answers delays nothing but the pushes: a glob
// change still reaches /metrics within the second, the failure is logged
// once, and the agent stops within its shutdown bound.
func TestOTLPCollectorAwayBlocksNothing(t *testing.T) {
	cluster := sharedCluster(t)
	root := testRoot(t)
	op := operator(t, cluster.ConnectString(), root)
	name, _ := names("oh")
	sleepers(t, name, 1)

	release := make(chan struct{})
	hung := make(chan struct{}, 1)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		select {
		case hung <- struct{}{}:
		default:
		}
		select {
		case <-r.Context().Done():
		case <-release:
		}
	}))
	t.Cleanup(srv.Close)
	t.Cleanup(func() { close(release) })
	otelEnv(t, map[string]string{
		"OTEL_METRICS_EXPORTER":               "otlp",
		"OTEL_EXPORTER_OTLP_METRICS_ENDPOINT": srv.URL + "/v1/metrics",
		"OTEL_EXPORTER_OTLP_METRICS_TIMEOUT":  "300",
		"OTEL_METRIC_EXPORT_INTERVAL":         "100",
		// The exporter retries a request that timed out until the push's
		// own timeout: keep both short.
		"OTEL_METRIC_EXPORT_TIMEOUT": "600",
	})

	a := startReady(t, agentConfig(t, root))
	select {
	case <-hung:
	case <-time.After(20 * time.Second):
		t.Fatal("the agent made no push to the collector within 20 s")
	}
	setGlobs(t, op, name)
	a.WaitMetrics(t, time.Second, want{Name: "procwatch_glob_processes", Labels: []string{"glob=" + name}, Value: 1})
	a.Log.Expect(t, "pushing metrics over OTLP failed", 20*time.Second)
	testutil.EventuallySaying(t, 20*time.Second, "three failed pushes on /metrics", func() (bool, string) {
		mfs, _ := a.Scrape(t)
		v, _ := mfs.Value("procwatch_otlp_metric_exports_total", "result=error")
		return v >= 3, fmt.Sprint(v)
	})
	if n := strings.Count(a.Log.String(), "pushing metrics over OTLP failed"); n != 1 {
		t.Errorf("the failing collector was logged %d times, want once per streak", n)
	}
	start := time.Now()
	a.Stop()
	if d := time.Since(start); d > 10*time.Second {
		t.Errorf("stopping took %s with the collector hung, want it within the shutdown bound", d)
	}
}

var spanIDs = regexp.MustCompile(`trace_id=([0-9a-f]{32}) span_id=([0-9a-f]{16})`)

// TestRematchLogsCarrySpanIDs: the lines the agent writes while putting a
// changed list in force carry the trace and span ids of that rematch
// span, so a trace leads to its log lines.
func TestRematchLogsCarrySpanIDs(t *testing.T) {
	cluster := sharedCluster(t)
	root := testRoot(t)
	op := operator(t, cluster.ConnectString(), root)
	otelEnv(t, nil)
	exp := tracetest.NewInMemoryExporter()
	tp := sdktrace.NewTracerProvider(sdktrace.WithSyncer(exp))
	defer func() { _ = tp.Shutdown(context.Background()) }()

	cfg := agentConfig(t, root)
	cfg.TracerProvider = tp
	a := startReady(t, cfg)
	version := setGlobs(t, op, "sshd", "[")

	changed := a.Log.Expect(t, fmt.Sprintf("to_version=%d", version), 20*time.Second)
	invalid := a.Log.Expect(t, "skipping invalid glob", 20*time.Second)
	var rematch *tracetest.SpanStub
	testutil.EventuallySaying(t, 10*time.Second, "the rematch span of version "+fmt.Sprint(version), func() (bool, string) {
		spans := exp.GetSpans()
		for i, s := range spans {
			if s.Name == agent.RematchSpan && attr(s, "procwatch.source") == agent.SourceChange &&
				attr(s, "procwatch.version") == fmt.Sprint(version) {
				rematch = &spans[i]
				return true, ""
			}
		}
		return false, fmt.Sprint(spanNames(spans))
	})
	want := fmt.Sprintf("trace_id=%s span_id=%s", rematch.SpanContext.TraceID(), rematch.SpanContext.SpanID())
	for _, line := range []string{changed, invalid} {
		m := spanIDs.FindString(line)
		if m != want {
			t.Errorf("log line %q carries %q, want the rematch span's %q", line, m, want)
		}
	}
}
