package telemetry

import (
	"context"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"go.opentelemetry.io/otel/trace/noop"
)

// clearOTelEnv empties every variable SetupTracing or the exporters read,
// so that the host's environment cannot change the outcome.
func clearOTelEnv(t *testing.T) {
	for _, k := range []string{
		"OTEL_SDK_DISABLED", "OTEL_TRACES_EXPORTER", "OTEL_EXPORTER_OTLP_ENDPOINT",
		"OTEL_EXPORTER_OTLP_TRACES_ENDPOINT", "OTEL_EXPORTER_OTLP_PROTOCOL",
		"OTEL_EXPORTER_OTLP_TRACES_PROTOCOL", "OTEL_SERVICE_NAME", "OTEL_RESOURCE_ATTRIBUTES",
		"OTEL_TRACES_SAMPLER", "OTEL_TRACES_SAMPLER_ARG",
		"OTEL_METRICS_EXPORTER", "OTEL_EXPORTER_OTLP_METRICS_ENDPOINT", "OTEL_EXPORTER_OTLP_METRICS_PROTOCOL",
		"OTEL_METRIC_EXPORT_INTERVAL", "OTEL_METRIC_EXPORT_TIMEOUT",
	} {
		t.Setenv(k, "")
	}
}

func TestSetupTracingNoop(t *testing.T) {
	for _, tc := range []struct {
		name string
		env  map[string]string
	}{
		{"no endpoint", nil},
		{"sdk disabled", map[string]string{"OTEL_EXPORTER_OTLP_ENDPOINT": "http://127.0.0.1:1", "OTEL_SDK_DISABLED": "true"}},
		{"exporter none", map[string]string{"OTEL_EXPORTER_OTLP_ENDPOINT": "http://127.0.0.1:1", "OTEL_TRACES_EXPORTER": "none"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			clearOTelEnv(t)
			for k, v := range tc.env {
				t.Setenv(k, v)
			}
			tp, shutdown, err := SetupTracing(context.Background(), TracingConfig{Identity: Identity{ServiceName: "procwatch"}})
			if err != nil {
				t.Fatal(err)
			}
			if _, ok := tp.(noop.TracerProvider); !ok {
				t.Errorf("provider is %T, want a no-op provider", tp)
			}
			if err := shutdown(context.Background()); err != nil {
				t.Error(err)
			}
		})
	}
}

func TestSetupTracingRejectsUnknown(t *testing.T) {
	for _, tc := range []struct{ key, value, want string }{
		{"OTEL_EXPORTER_OTLP_PROTOCOL", "http/json", "http/json"},
		{"OTEL_TRACES_EXPORTER", "zipkin", "zipkin"},
	} {
		clearOTelEnv(t)
		t.Setenv("OTEL_EXPORTER_OTLP_ENDPOINT", "http://127.0.0.1:1")
		t.Setenv(tc.key, tc.value)
		if _, _, err := SetupTracing(context.Background(), TracingConfig{Identity: Identity{ServiceName: "procwatch"}}); err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%s=%s: err = %v, want one naming %q", tc.key, tc.value, err, tc.want)
		}
	}
}

// TestSetupTracingHTTP exports a span over OTLP/HTTP to a receiver in the
// test, the way it would reach a collector.
func TestSetupTracingHTTP(t *testing.T) {
	clearOTelEnv(t)
	var (
		mu    sync.Mutex
		paths []string
		got   = make(chan struct{}, 1)
	)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		mu.Lock()
		paths = append(paths, r.URL.Path)
		mu.Unlock()
		if len(body) > 0 && strings.Contains(string(body), "procwatch-test-span") {
			select {
			case got <- struct{}{}:
			default:
			}
		}
		w.Header().Set("Content-Type", "application/x-protobuf")
		w.WriteHeader(http.StatusOK)
	}))
	defer srv.Close()
	t.Setenv("OTEL_EXPORTER_OTLP_ENDPOINT", srv.URL)
	t.Setenv("OTEL_EXPORTER_OTLP_PROTOCOL", "http/protobuf")

	tp, shutdown, err := SetupTracing(context.Background(), TracingConfig{Identity: Identity{ServiceName: "procwatch", ServiceVersion: "test"}})
	if err != nil {
		t.Fatal(err)
	}
	_, span := tp.Tracer("test").Start(context.Background(), "procwatch-test-span")
	span.End()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	// Shutdown flushes the batch: the span must have arrived when it returns.
	if err := shutdown(ctx); err != nil {
		t.Fatal(err)
	}
	select {
	case <-got:
	default:
		mu.Lock()
		defer mu.Unlock()
		t.Fatalf("the receiver got no span named procwatch-test-span (requests: %v)", paths)
	}
	mu.Lock()
	defer mu.Unlock()
	if len(paths) == 0 || paths[0] != "/v1/traces" {
		t.Errorf("requests went to %v, want /v1/traces", paths)
	}
}

// TestSetupTracingGRPC builds the gRPC exporter; it connects lazily, so
// no collector is needed to start, and shutdown with nothing buffered
// returns promptly.
func TestSetupTracingGRPC(t *testing.T) {
	clearOTelEnv(t)
	t.Setenv("OTEL_EXPORTER_OTLP_TRACES_ENDPOINT", "http://127.0.0.1:1")
	t.Setenv("OTEL_EXPORTER_OTLP_TRACES_PROTOCOL", "grpc")
	tp, shutdown, err := SetupTracing(context.Background(), TracingConfig{Identity: Identity{ServiceName: "procwatch"}})
	if err != nil {
		t.Fatal(err)
	}
	if _, ok := tp.(noop.TracerProvider); ok {
		t.Fatal("got a no-op provider with an endpoint set")
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := shutdown(ctx); err != nil {
		t.Fatal(err)
	}
}
