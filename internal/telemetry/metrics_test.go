package telemetry

import (
	"context"
	"log/slog"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	promtest "github.com/prometheus/client_golang/prometheus/testutil"

	"github.com/procwatch/procwatch/internal/telemetry/otlptest"
	"github.com/procwatch/procwatch/internal/testutil"
)

var testIdentity = Identity{
	ServiceName: "procwatch", ServiceVersion: "1.2.3",
	Hostname: "db-7", Labels: map[string]string{"role": "db", "zone": "b"},
}

// testRegistry is a registry with one gauge, as the agent's holds its
// collector.
func testRegistry(t *testing.T) (*prometheus.Registry, *prometheus.GaugeVec) {
	reg := prometheus.NewRegistry()
	g := prometheus.NewGaugeVec(prometheus.GaugeOpts{Name: "procwatch_glob_processes", Help: "test"}, []string{"glob"})
	reg.MustRegister(g)
	return reg, g
}

func setenv(t *testing.T, env map[string]string) {
	for k, v := range env {
		t.Setenv(k, v)
	}
}

func shutdownNow(t *testing.T, shutdown func(context.Context) error) error {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	return shutdown(ctx)
}

// TestSetupMetricsOffBuildsNothing: without OTEL_METRICS_EXPORTER=otlp no
// exporter exists and (goleak in TestMain) no goroutine runs.
func TestSetupMetricsOffBuildsNothing(t *testing.T) {
	for _, tc := range []struct {
		name string
		env  map[string]string
	}{
		{"unset", nil},
		{"none", map[string]string{"OTEL_METRICS_EXPORTER": "none"}},
		{"prometheus", map[string]string{"OTEL_METRICS_EXPORTER": "prometheus"}},
		{"sdk disabled", map[string]string{"OTEL_METRICS_EXPORTER": "otlp", "OTEL_SDK_DISABLED": "true"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			clearOTelEnv(t)
			setenv(t, tc.env)
			reg, _ := testRegistry(t)
			shutdown, err := SetupMetrics(context.Background(), MetricsConfig{Identity: testIdentity, Gatherer: reg, Registerer: reg})
			if err != nil {
				t.Fatal(err)
			}
			// The counter is there, at zero, as on an agent that pushes.
			if n, err := promtest.GatherAndCount(reg, "procwatch_otlp_metric_exports_total"); err != nil || n != 2 {
				t.Errorf("procwatch_otlp_metric_exports_total has %d series (err %v), want ok and error", n, err)
			}
			for _, result := range []string{"ok", "error"} {
				if v := exports(t, reg, result); v != 0 {
					t.Errorf("procwatch_otlp_metric_exports_total{result=%q} = %g with nothing pushed", result, v)
				}
			}
			if err := shutdownNow(t, shutdown); err != nil {
				t.Error(err)
			}
		})
	}
}

func TestSetupMetricsRejectsBadSettings(t *testing.T) {
	for _, tc := range []struct{ key, value, want string }{
		{"OTEL_METRICS_EXPORTER", "otlp,zipkin", "zipkin"},
		{"OTEL_EXPORTER_OTLP_METRICS_PROTOCOL", "http/json", "http/json"},
		{"OTEL_EXPORTER_OTLP_PROTOCOL", "thrift", "thrift"},
		{"OTEL_METRIC_EXPORT_INTERVAL", "10s", "OTEL_METRIC_EXPORT_INTERVAL"},
		{"OTEL_METRIC_EXPORT_INTERVAL", "0", "OTEL_METRIC_EXPORT_INTERVAL"},
	} {
		clearOTelEnv(t)
		t.Setenv("OTEL_METRICS_EXPORTER", "otlp")
		t.Setenv(tc.key, tc.value)
		reg, _ := testRegistry(t)
		shutdown, err := SetupMetrics(context.Background(), MetricsConfig{Identity: testIdentity, Gatherer: reg})
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%s=%s: err = %v, want one naming %q", tc.key, tc.value, err, tc.want)
		}
		if err == nil {
			_ = shutdownNow(t, shutdown)
		}
	}
}

// TestSetupMetricsPushes pushes a registry's gauge to a receiver over each
// protocol, at OTEL_METRIC_EXPORT_INTERVAL, with the host and its labels
// on the resource.
func TestSetupMetricsPushes(t *testing.T) {
	for _, newReceiver := range []func(testing.TB) *otlptest.Receiver{otlptest.NewHTTP, otlptest.NewGRPC} {
		recv := newReceiver(t)
		t.Run(recv.Protocol, func(t *testing.T) {
			clearOTelEnv(t)
			setenv(t, recv.Env())
			t.Setenv("OTEL_METRICS_EXPORTER", "otlp")
			t.Setenv("OTEL_METRIC_EXPORT_INTERVAL", "100")
			reg, g := testRegistry(t)
			g.WithLabelValues("sshd").Set(3)
			shutdown, err := SetupMetrics(context.Background(), MetricsConfig{Identity: testIdentity, Gatherer: reg, Registerer: reg})
			if err != nil {
				t.Fatal(err)
			}
			defer func() {
				if err := shutdownNow(t, shutdown); err != nil {
					t.Error(err)
				}
			}()
			req := recv.Wait(t, 20*time.Second, "procwatch_glob_processes{glob=sshd} 3", func(r *otlptest.Request) bool {
				v, ok := otlptest.Value(r, "procwatch_glob_processes", "glob=sshd")
				return ok && v == 3
			})
			attrs := otlptest.ResourceAttrs(req)
			for k, want := range map[string]string{
				"service.name": "procwatch", "service.version": "1.2.3", "host.name": "db-7",
				"procwatch.label.role": "db", "procwatch.label.zone": "b",
			} {
				if attrs[k] != want {
					t.Errorf("resource attribute %s = %q, want %q (all: %v)", k, attrs[k], want, attrs)
				}
			}
			// A change reaches the receiver at a following push.
			g.WithLabelValues("sshd").Set(0)
			recv.Wait(t, 20*time.Second, "procwatch_glob_processes{glob=sshd} 0", func(r *otlptest.Request) bool {
				v, ok := otlptest.Value(r, "procwatch_glob_processes", "glob=sshd")
				return ok && v == 0
			})
		})
	}
}

// TestSetupMetricsShutdownFlushes: with pushes an hour apart, shutdown
// still pushes what the registry holds then.
func TestSetupMetricsShutdownFlushes(t *testing.T) {
	clearOTelEnv(t)
	recv := otlptest.NewHTTP(t)
	setenv(t, recv.Env())
	t.Setenv("OTEL_METRICS_EXPORTER", "otlp")
	t.Setenv("OTEL_METRIC_EXPORT_INTERVAL", "3600000")
	reg, g := testRegistry(t)
	shutdown, err := SetupMetrics(context.Background(), MetricsConfig{Identity: testIdentity, Gatherer: reg})
	if err != nil {
		t.Fatal(err)
	}
	g.WithLabelValues("nginx*").Set(5)
	if err := shutdownNow(t, shutdown); err != nil {
		t.Fatal(err)
	}
	recv.Wait(t, time.Second, "procwatch_glob_processes{glob=nginx*} 5 pushed at shutdown", func(r *otlptest.Request) bool {
		v, ok := otlptest.Value(r, "procwatch_glob_processes", "glob=nginx*")
		return ok && v == 5
	})
}

// TestSetupMetricsFailuresLoggedOncePerStreak: a collector refusing every
// push is logged once, not at every interval, every refusal is counted,
// and the recovery is logged.
func TestSetupMetricsFailuresLoggedOncePerStreak(t *testing.T) {
	for _, newReceiver := range []func(testing.TB) *otlptest.Receiver{otlptest.NewHTTP, otlptest.NewGRPC} {
		recv := newReceiver(t)
		t.Run(recv.Protocol, func(t *testing.T) {
			clearOTelEnv(t)
			setenv(t, recv.Env())
			t.Setenv("OTEL_METRICS_EXPORTER", "otlp")
			recv.SetFailing(true)
			reg, _ := testRegistry(t)
			var logBuf testutil.Buffer
			log := slog.New(slog.NewTextHandler(&logBuf, nil))
			shutdown, err := SetupMetrics(context.Background(), MetricsConfig{
				Identity: testIdentity, Gatherer: reg, Registerer: reg, Logger: log, Interval: 50 * time.Millisecond,
			})
			if err != nil {
				t.Fatal(err)
			}
			defer func() { _ = shutdownNow(t, shutdown) }()
			logBuf.Expect(t, "pushing metrics over OTLP failed", 20*time.Second)
			testutil.Eventually(t, 20*time.Second, "five refused pushes counted", func() bool {
				return exports(t, reg, "error") >= 5
			})
			if n := strings.Count(logBuf.String(), "pushing metrics over OTLP failed"); n != 1 {
				t.Errorf("the failure was logged %d times over %d refused pushes, want once:\n%s", n, recv.Count(), logBuf.String())
			}
			recv.SetFailing(false)
			logBuf.Expect(t, "pushing metrics over OTLP works again", 20*time.Second)
			if ok := exports(t, reg, "ok"); ok < 1 {
				t.Errorf("procwatch_otlp_metric_exports_total{result=ok} = %g after a push got through", ok)
			}
		})
	}
}

// exports is procwatch_otlp_metric_exports_total{result} in reg.
func exports(t *testing.T, reg *prometheus.Registry, result string) float64 {
	t.Helper()
	mfs, err := reg.Gather()
	if err != nil {
		t.Fatal(err)
	}
	for _, mf := range mfs {
		if mf.GetName() != "procwatch_otlp_metric_exports_total" {
			continue
		}
		for _, m := range mf.GetMetric() {
			for _, l := range m.GetLabel() {
				if l.GetName() == "result" && l.GetValue() == result {
					return m.GetCounter().GetValue()
				}
			}
		}
	}
	return 0
}
